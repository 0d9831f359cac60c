import Dispatch
import Glibc
public import JobCore
import Synchronization

/// Long-lived handler processes, as many as the jobs running at once need, each fed jobs as lines of JSON on
/// stdin and answering one line per job on stdout:
///
///     → {"id":"17","name":"resize","data":{…},"opts":{…},"attemptsMade":0,"timestamp":…,"queue":"images"}
///     ← {"id":"17","ok":true,"value":{…}}
///     ← {"id":"17","ok":false,"error":"why","unrecoverable":false}
///
/// A process may be sent several jobs before it answers the first (a handler that reads a line and answers it
/// works through them in order; one that answers out of order is matched by id), so that a busy process never
/// waits for jobctl between jobs. A process that exits, answers something else, or outlives the timeout fails
/// only the job it was on (the oldest unanswered one); the jobs sent after it are run by another process. A new
/// process takes its place after a back-off that grows while processes keep dying. A job's time runs from when it
/// becomes the oldest unanswered one of its process (for a new process's first job, that includes the start).
/// Its stderr is logged with the ids of the jobs it had not answered yet. `JOBCTL_QUEUE` is in its environment.
public actor ServeHandler {
    private let command: [String]
    private let queue: String
    private let timeoutMs: Int64?
    private let log: @Sendable (String) -> Void
    /// At most this many processes: jobs beyond go to the least busy one, so that a high concurrency does not
    /// mean a crowd of processes.
    private let maxProcesses: Int
    private var processes: [ServeProcess] = []
    /// Processes being started (after a back-off, during which other jobs come in).
    private var starting = 0
    private var restartDelayMs: Int64 = 0

    public init(
        command: [String], queue: String, timeoutMs: Int64?, maxProcesses: Int = ServeHandler.defaultMaxProcesses,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.command = command
        self.queue = queue
        self.timeoutMs = timeoutMs
        self.maxProcesses = max(1, maxProcesses)
        self.log = log
        ignoreBrokenPipes()
    }

    /// Two per processor.
    public static var defaultMaxProcesses: Int { max(2, 2 * Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    public func run(_ job: ClaimedJob) async -> JobOutcome {
        while true {
            processes.removeAll { $0.hasEnded }
            let process: ServeProcess
            if let idle = processes.first(where: { $0.load == 0 }) {
                process = idle
            } else if processes.count + starting < maxProcesses {
                starting += 1
                if restartDelayMs > 0 { try? await Task.sleep(nanoseconds: UInt64(restartDelayMs) * 1_000_000) }
                starting -= 1
                switch spawnChild(command, extraEnvironment: ["JOBCTL_QUEUE=\(queue)"]) {
                case .failure(let error):
                    lengthenRestartDelay()
                    return .failed(
                        reason: "could not start \(command.first ?? ""): \(String(cString: strerror(error.code)))",
                        stacktrace: nil, unrecoverable: false)
                case .success(let child):
                    process = ServeProcess(child: child, timeoutMs: timeoutMs, log: log)
                    processes.append(process)
                }
            } else if let leastBusy = processes.min(by: { $0.load < $1.load }) {
                process = leastBusy
            } else {
                try? await Task.sleep(nanoseconds: 10_000_000)  // every process is still starting
                continue
            }
            let answer = await withTaskCancellationHandler {
                await withCheckedContinuation { process.send(job, answer: $0) }
            } onCancel: {
                process.kill()
            }
            switch answer {
            case .result(let outcome):
                restartDelayMs = 0
                return outcome
            case .notRun:
                // Its process ended before it got to this job: another one takes it (unless the worker gave the
                // job up meanwhile).
                if Task.isCancelled {
                    return .failed(
                        reason: "the worker stopped before a handler ran this job", stacktrace: nil,
                        unrecoverable: false)
                }
                continue
            case .gone(let reason):
                lengthenRestartDelay()
                log("job \(job.id): \(reason); a new handler process takes the next job")
                return .failed(reason: reason, stacktrace: nil, unrecoverable: false)
            }
        }
    }

    /// While processes keep failing to start or dying, each new one waits longer: 100 ms, doubling up to 10 s.
    private func lengthenRestartDelay() {
        restartDelayMs = min(max(restartDelayMs * 2, 100), 10_000)
    }

    /// Ends every handler process: stdin is closed once everything sent is answered (the sign to exit), and
    /// what still runs a second later is killed.
    ///
    /// Every process is reaped.
    public func shutdown() async {
        let all = processes
        processes.removeAll()
        for process in all { process.closeInput() }
        let deadline = currentTimeMs() + 1000
        while all.contains(where: { !$0.hasEnded }) && currentTimeMs() < deadline {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        for process in all where !process.hasEnded { process.kill() }
        while all.contains(where: { !$0.hasEnded }) { try? await Task.sleep(nanoseconds: 10_000_000) }
    }
}

/// One handler process.
///
/// Jobs are written to its stdin as they come; one thread of its own (never Swift's cooperative pool) writes what the
/// pipe did not take at once, reads the answers and its stderr, and watches the oldest unanswered job's time.
final class ServeProcess: Sendable {
    enum Answer {
        case result(JobOutcome)
        /// The process is no more use: it exited, answered something else or timed out (and was killed) while
        /// on this job.
        case gone(String)
        /// The process ended before it got to this job (or before the job was sent).
        case notRun
    }

    private struct Sent {
        var job: ClaimedJob
        var answer: CheckedContinuation<Answer, Never>
    }

    private struct State {
        /// Jobs written (or being written) and not yet answered, oldest first.
        var sent: [Sent] = []
        /// When the oldest unanswered job became the oldest: its time runs from then.
        var headSince: Int64 = 0
        /// Bytes for stdin that the pipe has not taken yet.
        var output: [UInt8] = []
        /// No more jobs: stdin is closed as soon as everything sent is answered.
        var closing = false
        var inputClosed = false
        /// The process is reaped and every job it was sent is answered.
        var ended = false
    }

    private let child: ChildProcess
    private let timeoutMs: Int64?
    private let log: @Sendable (String) -> Void
    private let state = Mutex(State())
    /// A pipe that wakes the thread when there is output it must write or a deadline it must watch.
    private let wakeup: (read: Int32, write: Int32)

    init(child: ChildProcess, timeoutMs: Int64?, log: @escaping @Sendable (String) -> Void) {
        self.child = child
        self.timeoutMs = timeoutMs
        self.log = log
        var ends: [Int32] = [-1, -1]
        _ = pipe(&ends)
        for end in ends {
            _ = fcntl(end, F_SETFL, O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        wakeup = (ends[0], ends[1])
        _ = fcntl(child.stdin, F_SETFL, O_NONBLOCK)
        DispatchQueue(label: "jobctl.serve").async { self.serve() }
    }

    var load: Int { state.withLock { $0.sent.count } }
    var hasEnded: Bool { state.withLock { $0.ended } }

    deinit {
        close(wakeup.read)
        close(wakeup.write)
    }

    func kill() { Glibc.kill(-child.pid, SIGKILL) }

    func closeInput() {
        state.withLock { $0.closing = true }
        wake()
    }

    func send(_ job: ClaimedJob, answer: CheckedContinuation<Answer, Never>) {
        let line = Array((job.handlerJSON.compactText + "\n").utf8)
        let mustWake = state.withLock { state -> Bool? in
            if state.ended || state.closing || state.inputClosed { return nil }
            let wasIdle = state.sent.isEmpty
            if wasIdle { state.headSince = currentTimeMs() }
            state.sent.append(Sent(job: job, answer: answer))
            if state.output.isEmpty {
                // Most lines fit in the pipe at once: no need to involve the thread.
                let written = line.withUnsafeBytes { Glibc.write(child.stdin, $0.baseAddress, $0.count) }
                state.output = Array(line.dropFirst(max(0, written)))
            } else {
                state.output += line
            }
            return !state.output.isEmpty || (wasIdle && timeoutMs != nil)
        }
        switch mustWake {
        case nil: answer.resume(returning: .notRun)
        case true?: wake()
        case false?: break
        }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeup.write, &byte, 1)
    }

    private func serve() {
        var answers: [UInt8] = []
        var errors: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let (wantsWrite, closeNow, deadline) = state.withLock { state -> (Bool, Bool, Int64?) in
                let deadline = state.sent.isEmpty ? nil : timeoutMs.map { state.headSince + $0 }
                return (!state.output.isEmpty, state.closing && state.output.isEmpty && state.sent.isEmpty, deadline)
            }
            if closeNow {
                // Closed stdin tells the process to exit; its stdout then ends, which ends this loop.
                state.withLock { state in
                    if !state.inputClosed {
                        close(child.stdin)
                        state.inputClosed = true
                    }
                }
            }
            var descriptors = [
                pollfd(fd: child.stdout, events: Int16(POLLIN), revents: 0),
                pollfd(fd: child.stderr, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeup.read, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wantsWrite ? child.stdin : -1, events: Int16(POLLOUT), revents: 0),
            ]
            let waitMs = deadline.map { Int32(clamping: max(0, $0 - currentTimeMs())) } ?? -1
            let ready = poll(&descriptors, 4, waitMs)
            if ready < 0 && errno != EINTR { return end(headReason: "lost the handler process's output") }
            if let deadline, currentTimeMs() >= deadline,
                state.withLock({ !$0.sent.isEmpty && $0.headSince + (timeoutMs ?? 0) <= currentTimeMs() })
            {
                return end(
                    headReason:
                        "timed out after \(DurationText.describe(milliseconds: timeoutMs ?? 0)): the handler process "
                        + "was killed"
                )
            }
            if descriptors[2].revents != 0 {
                _ = read(wakeup.read, &buffer, buffer.count)
            }
            if descriptors[3].revents != 0 {
                let broken = state.withLock { state -> Bool in
                    let written = state.output.withUnsafeBytes { Glibc.write(child.stdin, $0.baseAddress, $0.count) }
                    if written > 0 { state.output.removeFirst(written) }
                    return written < 0 && errno != EAGAIN && errno != EINTR
                }
                if broken { return end(headReason: "the handler process stopped reading its input") }
            }
            if descriptors[1].revents != 0 {
                let count = read(child.stderr, &buffer, buffer.count)
                if count > 0 {
                    errors += buffer[0..<count]
                    while let newline = errors.firstIndex(of: UInt8(ascii: "\n")) {
                        logLine(String(decoding: errors[..<newline], as: UTF8.self))
                        errors.removeSubrange(...newline)
                    }
                    if errors.count > ExecHandler.stderrTail {
                        logLine(String(decoding: errors, as: UTF8.self))
                        errors = []
                    }
                }
            }
            if descriptors[0].revents != 0 {
                let count = read(child.stdout, &buffer, buffer.count)
                if count > 0 {
                    answers += buffer[0..<count]
                    var start = answers.startIndex
                    while let newline = answers[start...].firstIndex(of: UInt8(ascii: "\n")) {
                        let text = String(decoding: answers[start..<newline], as: UTF8.self)
                        start = newline + 1
                        if let failure = deliver(text) { return end(headReason: failure) }
                    }
                    answers.removeSubrange(..<start)
                    if answers.count > ExecHandler.returnValueLimit * 2 {
                        return end(
                            headReason:
                                "the handler process sent a result line longer than "
                                + "\(ExecHandler.returnValueLimit * 2) bytes"
                        )
                    }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    return end(headReason: "the handler process exited while running this job")
                }
            }
        }
    }

    /// Logs a line of the process's stderr with the jobs it may be about: the one unanswered job, or, while
    /// several are, all of them (oldest first; stderr and stdout are separate pipes, so which one a line belongs
    /// to cannot be known).
    private func logLine(_ text: String) {
        let ids = state.withLock { $0.sent.prefix(4).map(\.job.id) }
        switch ids.count {
        case 0: log("handler: " + text)
        case 1: log("job \(ids[0]): " + text)
        case 2, 3: log("jobs \(ids.joined(separator: ", ")): " + text)
        default: log("jobs \(ids.prefix(3).joined(separator: ", "))…: " + text)
        }
    }

    /// Hands an answer to the job it names; returns why the process is no more use if the line is not an answer.
    private func deliver(_ text: String) -> String? {
        guard let (id, outcome) = Self.answer(text),
            let sent = state.withLock({ state -> Sent? in
                guard let index = state.sent.firstIndex(where: { $0.job.id == id }) else { return nil }
                if index == 0 { state.headSince = currentTimeMs() }
                return state.sent.remove(at: index)
            })
        else {
            return
                "the handler process answered something other than a result for a job it was sent: \(text.prefix(200))"
        }
        sent.answer.resume(returning: .result(outcome))
        return nil
    }

    /// Reads one line of a handler's stdout: `{"id": …, "ok": true, "value": …}` or `{"id": …, "ok": false,
    /// "error": …, "unrecoverable": …}`; nil for anything else.
    ///
    /// Untrusted text: fuzzed (scripts/fuzz.sh).
    static func answer(_ text: String) -> (id: String, outcome: JobOutcome)? {
        guard let answer = try? JSONValue.parse(text), case .string(let id)? = answer["id"],
            case .bool(let ok)? = answer["ok"]
        else {
            return nil
        }
        if ok { return (id, .completed(returnValue: (answer["value"] ?? .null).compactText)) }
        let reason: String
        switch answer["error"] {
        case .string(let text)?: reason = text
        case let value?: reason = value.compactText
        case nil: reason = "the handler reported a failure without an error"
        }
        return (id, .failed(reason: reason, stacktrace: nil, unrecoverable: answer["unrecoverable"] == .bool(true)))
    }

    /// The process is done for: killed if still there, reaped, its pipes closed.
    ///
    /// The job it was on fails with `headReason`; the ones sent after it go to another process.
    private func end(headReason: String) {
        kill()
        var status: Int32 = 0
        while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
        let sent = state.withLock { state -> [Sent] in
            if !state.inputClosed { close(child.stdin) }
            for descriptor in [child.stdout, child.stderr] { close(descriptor) }
            state.inputClosed = true
            state.ended = true
            state.output = []
            defer { state.sent = [] }
            return state.sent
        }
        for (index, job) in sent.enumerated() { job.answer.resume(returning: index == 0 ? .gone(headReason) : .notRun) }
    }
}
