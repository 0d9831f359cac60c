import ArgumentParser
import Foundation
import JobCore
import RedisBackend

/// How results are printed.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, jsonl
}

/// Options every command takes: where the queues are and how to print.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Server URL: redis://[user:password@]host[:port][/db] or unix:///path. (env: JOBCTL_URL, REDIS_URL)",
            valueName: "url"))
    var url: String?

    @Option(name: .long, help: ArgumentHelp("BullMQ key prefix. (env: JOBCTL_PREFIX; default: bull)", valueName: "prefix"))
    var prefix: String?

    @Option(name: [.customShort("o"), .long], help: "Output format: text, json or jsonl. (env: JOBCTL_OUTPUT)")
    var output: OutputFormat?

    @Flag(name: .long, help: "Same as --output json.")
    var json = false

    @Option(
        name: .long,
        help: ArgumentHelp("How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)", valueName: "duration"))
    var connectTimeout: String?

    @Option(
        name: .long,
        help: ArgumentHelp("How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)", valueName: "duration"))
    var timeout: String?

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    var format: OutputFormat {
        if json { return .json }
        if let output { return output }
        return Self.environment["JOBCTL_OUTPUT"].flatMap(OutputFormat.init(rawValue:)) ?? .text
    }

    func validate() throws {
        if json, let output, output != .json { throw ValidationError("--json conflicts with --output \(output.rawValue)") }
        for (name, value) in [("--connect-timeout", connectTimeout), ("--timeout", timeout)] {
            if let value, DurationText.milliseconds(value) == nil {
                throw ValidationError("\(name) '\(value)' is not a duration (examples: 500ms, 5s, 2m)")
            }
        }
        if let value = Self.environment["JOBCTL_OUTPUT"], !value.isEmpty, OutputFormat(rawValue: value) == nil {
            throw ValidationError("JOBCTL_OUTPUT='\(value)' is not one of text, json, jsonl")
        }
    }

    /// Connects to the queues named by the options and environment. Warns once when a password sits on the
    /// command line.
    func connect() async throws -> any QueueInspector {
        let env = Self.environment
        let chosenURL = url ?? env["JOBCTL_URL"].nonEmpty ?? env["REDIS_URL"].nonEmpty ?? "redis://127.0.0.1:6379/0"
        let endpoint = try RedisEndpoint(url: chosenURL)
        if url != nil, endpoint.password != nil {
            Terminal.warn(
                "the password given with --url is visible to other users in the process list; "
                    + "put the URL in JOBCTL_URL instead")
        }
        let prefix = self.prefix ?? env["JOBCTL_PREFIX"].nonEmpty ?? "bull"
        let store = RedisQueueStore(
            endpoint: endpoint, prefix: prefix,
            connectTimeoutMs: Int(try milliseconds(connectTimeout, env: "JOBCTL_CONNECT_TIMEOUT", default: 5000)),
            commandTimeoutMs: Int(try milliseconds(timeout, env: "JOBCTL_TIMEOUT", default: 30000)))
        try await store.connect()
        return store
    }

    private func milliseconds(_ flag: String?, env name: String, default value: Int64) throws -> Int64 {
        guard let text = flag ?? Self.environment[name].nonEmpty else { return value }
        guard let ms = DurationText.milliseconds(text), ms > 0 else {
            throw ValidationError("\(name)='\(text)' is not a duration (examples: 500ms, 5s, 2m)")
        }
        return ms
    }
}

extension Optional where Wrapped == String {
    /// nil for an unset or empty variable.
    var nonEmpty: String? {
        guard let self, !self.isEmpty else { return nil }
        return self
    }
}
