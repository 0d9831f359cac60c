import Dispatch
import Glibc
public import JobCore
import Synchronization

/// Runs one process per job, without a shell: the job as JSON on stdin; `JOBCTL_QUEUE`, `JOBCTL_JOB_ID`,
/// `JOBCTL_JOB_NAME` and `JOBCTL_ATTEMPT` in its environment.
///
/// Exit 0 completes the job with stdout as the return value (JSON if it parses, else a string); another status fails it
/// with the tail of stderr as the reason; `unrecoverableExitStatus` fails it for good. Past the timeout the whole
/// process group is killed.
public struct ExecHandler: Sendable {
    /// The exit status that fails a job without further attempts (EX_DATAERR: retrying bad input cannot help).
    public static let unrecoverableExitStatus: Int32 = 65
    /// Return values longer than this are cut (and then stored as a string).
    public static let returnValueLimit = 1 << 20
    static let stderrTail = 2000

    public var command: [String]
    public var timeoutMs: Int64?
    public var log: @Sendable (String) -> Void

    public init(command: [String], timeoutMs: Int64?, log: @escaping @Sendable (String) -> Void) {
        self.command = command
        self.timeoutMs = timeoutMs
        self.log = log
        ignoreBrokenPipes()
    }

    public func run(_ job: ClaimedJob) async -> JobOutcome {
        let input = Array((job.handlerJSON.compactText + "\n").utf8)
        let environment = [
            "JOBCTL_QUEUE=\(job.queue)", "JOBCTL_JOB_ID=\(job.id)", "JOBCTL_JOB_NAME=\(job.name)",
            "JOBCTL_ATTEMPT=\(job.attemptsMade + 1)",
        ]
        let command = command
        let timeoutMs = timeoutMs
        // The process is waited for on a thread of its own: never on Swift's cooperative pool.
        let process = SpawnedProcess()
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ProcessResult, Never>) in
                DispatchQueue(label: "jobctl.exec").async {
                    continuation.resume(
                        returning: runProcess(
                            command, input: input, extraEnvironment: environment, timeoutMs: timeoutMs, started: process
                        ))
                }
            }
        } onCancel: {
            // The worker gave the job up (a stop past its grace): the handler goes with it.
            process.kill()
        }
        let stderrText = String(decoding: result.stderr, as: UTF8.self)
        for line in stderrText.split(whereSeparator: \.isNewline).suffix(20) { log("job \(job.id): \(line)") }
        switch result.end {
        case .spawnFailed(let error):
            return .failed(
                reason: "could not start \(command.first ?? ""): \(String(cString: strerror(error)))", stacktrace: nil,
                unrecoverable: false)
        case .timedOut:
            return .failed(
                reason:
                    "timed out after \(DurationText.describe(milliseconds: timeoutMs ?? 0)): the handler's process "
                    + "group was killed",
                stacktrace: tail(stderrText), unrecoverable: false)
        case .signaled(let signal):
            return .failed(
                reason: "the handler was killed by signal \(signal)", stacktrace: tail(stderrText), unrecoverable: false
            )
        case .exited(0):
            var output = String(decoding: result.stdout.prefix(Self.returnValueLimit), as: UTF8.self)
            while output.last?.isNewline == true { output.removeLast() }
            if output.isEmpty { return .completed(returnValue: "null") }
            if result.stdout.count <= Self.returnValueLimit, let value = try? JSONValue.parse(output) {
                return .completed(returnValue: value.compactText)
            }
            return .completed(returnValue: JSONValue.string(output).compactText)
        case .exited(let status):
            let reason =
                tail(stderrText).map { $0.trimmingCharactersInWhitespace() }.flatMap { $0.isEmpty ? nil : $0 }
                ?? "the handler exited with status \(status)"
            return .failed(reason: reason, stacktrace: nil, unrecoverable: status == Self.unrecoverableExitStatus)
        }
    }

    private func tail(_ text: String) -> String? {
        guard !text.isEmpty else { return nil }
        return text.count > Self.stderrTail ? "…" + String(text.suffix(Self.stderrTail)) : text
    }
}

struct ProcessResult {
    enum End {
        case exited(Int32)
        case signaled(Int32)
        case timedOut
        case spawnFailed(Int32)
    }

    var end: End
    var stdout: [UInt8]
    var stderr: [UInt8]
}

/// Spawns `command` (looked up in PATH) in a process group of its own, feeds it `input`, collects its output and
/// waits for it; blocking, for a dedicated thread.
func runProcess(
    _ command: [String], input: [UInt8], extraEnvironment: [String], timeoutMs: Int64?,
    started: SpawnedProcess = SpawnedProcess()
) -> ProcessResult {
    let child: ChildProcess
    switch spawnChild(command, extraEnvironment: extraEnvironment) {
    case .success(let spawned): child = spawned
    case .failure(let error): return ProcessResult(end: .spawnFailed(error.code), stdout: [], stderr: [])
    }
    started.record(child.pid)
    let pid = child.pid
    let stdinPipe: [Int32] = [-1, child.stdin]
    var stdoutPipe: [Int32] = [child.stdout, -1]
    var stderrPipe: [Int32] = [child.stderr, -1]

    let deadline = timeoutMs.map { currentTimeMs() + $0 }
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []
    var written = 0
    var inputOpen = true
    var openOutputs = 2
    var timedOut = false
    var buffer = [UInt8](repeating: 0, count: 65_536)
    _ = fcntl(stdinPipe[1], F_SETFL, O_NONBLOCK)
    if input.isEmpty {
        close(stdinPipe[1])
        inputOpen = false
    }
    while openOutputs > 0 || inputOpen {
        var descriptors: [pollfd] = []
        if inputOpen { descriptors.append(pollfd(fd: stdinPipe[1], events: Int16(POLLOUT), revents: 0)) }
        if stdoutPipe[0] >= 0 { descriptors.append(pollfd(fd: stdoutPipe[0], events: Int16(POLLIN), revents: 0)) }
        if stderrPipe[0] >= 0 { descriptors.append(pollfd(fd: stderrPipe[0], events: Int16(POLLIN), revents: 0)) }
        let wait = deadline.map { Int32(clamping: max(0, $0 - currentTimeMs())) } ?? 1000
        let ready = poll(&descriptors, nfds_t(descriptors.count), wait)
        if ready < 0 && errno != EINTR { break }
        if let deadline, currentTimeMs() >= deadline {
            timedOut = true
            kill(-pid, SIGKILL)
            break
        }
        for descriptor in descriptors where descriptor.revents != 0 {
            if inputOpen && descriptor.fd == stdinPipe[1] {
                let count = input[written...].withUnsafeBytes { Glibc.write(stdinPipe[1], $0.baseAddress, $0.count) }
                if count > 0 { written += count }
                // A handler that does not read its input (or exits) closes the pipe: that is its business.
                if written >= input.count || (count < 0 && errno != EAGAIN && errno != EINTR) {
                    close(stdinPipe[1])
                    inputOpen = false
                }
            } else if descriptor.fd == stdoutPipe[0] || descriptor.fd == stderrPipe[0] {
                let count = read(descriptor.fd, &buffer, buffer.count)
                if count > 0 {
                    if descriptor.fd == stdoutPipe[0] {
                        if stdout.count <= ExecHandler.returnValueLimit { stdout += buffer[0..<count] }
                    } else {
                        stderr += buffer[0..<count]
                        if stderr.count > 64 * 1024 { stderr.removeFirst(stderr.count - 32 * 1024) }
                    }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(descriptor.fd)
                    if descriptor.fd == stdoutPipe[0] { stdoutPipe[0] = -1 } else { stderrPipe[0] = -1 }
                    openOutputs -= 1
                }
            }
        }
    }
    if inputOpen { close(stdinPipe[1]) }
    if stdoutPipe[0] >= 0 { close(stdoutPipe[0]) }
    if stderrPipe[0] >= 0 { close(stderrPipe[0]) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    // Whatever the handler left running in its group goes with it.
    kill(-pid, SIGKILL)
    if timedOut { return ProcessResult(end: .timedOut, stdout: stdout, stderr: stderr) }
    let end: ProcessResult.End = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f)
    return ProcessResult(end: end, stdout: stdout, stderr: stderr)
}

/// A handler process and jobctl's ends of its pipes.
struct ChildProcess {
    var pid: pid_t
    var stdin: Int32
    var stdout: Int32
    var stderr: Int32
}

struct SpawnError: Error {
    var code: Int32
}

/// Starts `command` (looked up in PATH) without a shell, in a process group of its own, with default signal
/// handling, jobctl's environment plus `extraEnvironment`, pipes for stdin, stdout and stderr, and no other
/// descriptor of jobctl.
func spawnChild(_ command: [String], extraEnvironment: [String]) -> Result<ChildProcess, SpawnError> {
    var stdinPipe: [Int32] = [-1, -1]
    var stdoutPipe: [Int32] = [-1, -1]
    var stderrPipe: [Int32] = [-1, -1]
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // Its own process group (so that a timeout kills everything it started), default signal handling and an
    // empty signal mask whatever jobctl itself ignores or blocks.
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGINT, SIGTERM, SIGPIPE, SIGQUIT, SIGHUP] { sigaddset(&defaults, signal) }
    var emptyMask = sigset_t()
    sigemptyset(&emptyMask)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setsigmask(&attributes, &emptyMask)
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

    var environment: [String] = []
    var index = 0
    while let entry = environ[index] {
        let text = String(cString: entry)
        if !text.hasPrefix("JOBCTL_JOB_") && !text.hasPrefix("JOBCTL_QUEUE=") && !text.hasPrefix("JOBCTL_ATTEMPT=") {
            environment.append(text)
        }
        index += 1
    }
    environment += extraEnvironment

    var pid: pid_t = 0
    // Pipes are made close-on-exec and the process spawned under one lock: a process spawned by another thread in
    // between would otherwise inherit these pipes and hold them open.
    let spawned: Int32 = spawnLock.withLock { _ in
        for index in 0..<3 {
            var ends: [Int32] = [-1, -1]
            guard pipe(&ends) == 0 else { return errno }
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            switch index {
            case 0: stdinPipe = ends
            case 1: stdoutPipe = ends
            default: stderrPipe = ends
            }
        }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        // Nothing else of jobctl's reaches the handler: not its server connections, nor descriptors jobctl itself
        // inherited (a parent that watches one for jobctl's exit would otherwise wait for the handler too).
        _ = closeFrom?(&actions, 3)
        return withCStringArray(command) { argv in
            withCStringArray(environment) { envp in
                guard let program = argv.first ?? nil else { return ENOMEM }  // strdup failed
                return posix_spawnp(&pid, program, &actions, &attributes, argv, envp)
            }
        }
    }
    for end in [stdinPipe[0], stdoutPipe[1], stderrPipe[1]] where end >= 0 { close(end) }
    guard stdinPipe[1] >= 0, stdoutPipe[0] >= 0, stderrPipe[0] >= 0 else {
        for end in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] where end >= 0 { close(end) }
        return .failure(SpawnError(code: spawned))
    }
    guard spawned == 0 else {
        for end in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] { close(end) }
        return .failure(SpawnError(code: spawned))
    }
    return .success(ChildProcess(pid: pid, stdin: stdinPipe[1], stdout: stdoutPipe[0], stderr: stderrPipe[0]))
}

private let spawnLock = Mutex(())

/// A handler that exits without reading its input makes the next write to it fail with EPIPE; without this, the
/// SIGPIPE that comes with it would end the whole process.
///
/// Handlers get the default disposition back at spawn.
func ignoreBrokenPipes() {
    signal(SIGPIPE, SIG_IGN)
}

/// glibc's posix_spawn_file_actions_addclosefrom_np (2.34+), which Swift's Glibc module does not declare.
private let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
        return nil
    }
    return unsafeBitCast(
        symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
}()

/// The process group of a running handler, so that giving up a job can kill it from another thread.
final class SpawnedProcess: Sendable {
    private let state = Mutex<(pid: pid_t, killed: Bool)>((0, false))

    func record(_ pid: pid_t) {
        let killNow = state.withLock { state -> Bool in
            state.pid = pid
            return state.killed
        }
        if killNow { Glibc.kill(-pid, SIGKILL) }
    }

    func kill() {
        let pid = state.withLock { state -> pid_t in
            state.killed = true
            return state.pid
        }
        if pid > 0 { Glibc.kill(-pid, SIGKILL) }
    }
}

private func withCStringArray<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let copies = strings.map { strdup($0) } + [nil]
    defer { copies.forEach { free($0) } }
    return body(copies)
}
