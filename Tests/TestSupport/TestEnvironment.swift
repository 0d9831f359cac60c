import Foundation

/// Where the test services, the Python client and the built binary are, from the environment that
/// `scripts/test.sh` (and `.ci/run`) export.
public enum TestEnvironment {
    public static let variables = ProcessInfo.processInfo.environment

    /// `JOBCTL_TEST_REDIS_URL`, e.g. `redis://127.0.0.1:56379/0`.
    public static var redisURL: String? { variables["JOBCTL_TEST_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    /// True under CI, where a live suite that cannot reach its server must fail rather than skip.
    public static var isCI: Bool { variables["CI"] == "true" }

    /// The repository root, found from this file's path.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The venv's Python with the pinned `bullmq` (`JOBCTL_TEST_PYTHON`, else `.venv/bin/python`).
    public static var python: String {
        variables["JOBCTL_TEST_PYTHON"] ?? repositoryRoot.appendingPathComponent(".venv/bin/python").path
    }

    /// The BullMQ fixture builder shared with the demo.
    public static var fixtureScript: String { repositoryRoot.appendingPathComponent("scripts/bullmq-fixture.py").path }

    /// A fresh name for one test's queues, so tests never share state.
    public static func uniqueName(_ base: String) -> String {
        "\(base)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}

/// The result of running a process to completion.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a program with arguments (no shell), waits for it, and returns its exit status and output.
public func runProcess(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String]? = nil,
    stdin: String? = nil
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let outPipe = Pipe()
    let errPipe = Pipe()
    let inPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    process.standardInput = inPipe
    try process.run()
    if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
    try inPipe.fileHandleForWriting.close()
    // Read stderr on another thread so a full stderr pipe cannot block the child while stdout is read.
    let errBox = DataBox()
    let errDone = DispatchSemaphore(value: 0)
    let reader = Thread {
        errBox.data = errPipe.fileHandleForReading.readDataToEndOfFile()
        errDone.signal()
    }
    reader.start()
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    errDone.wait()
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
        stderr: String(decoding: errBox.data, as: UTF8.self))
}

private final class DataBox: @unchecked Sendable {
    var data = Data()
}
