import Dispatch
import Glibc

/// Long-lived handler processes, as many as the jobs running at once need, each fed one job at a time as one line
/// of JSON on stdin and answering one line on stdout:
///
///     → {"id":"17","name":"resize","data":{…},"opts":{…},"attemptsMade":0,"timestamp":…,"queue":"images"}
///     ← {"id":"17","ok":true,"value":{…}}
///     ← {"id":"17","ok":false,"error":"why","unrecoverable":false}
///
/// A process that exits, answers something else, or outlives the timeout fails only the job it was running and
/// is replaced by a new one, after a back-off that grows while processes keep dying. Its stderr is logged with
/// the job id. `JOBCTL_QUEUE` is in its environment.
public actor ServeHandler {
    private let command: [String]
    private let queue: String
    private let timeoutMs: Int64?
    private let log: @Sendable (String) -> Void
    private var idle: [ServeProcess] = []
    private var all: [ObjectIdentifier: ServeProcess] = [:]
    private var restartDelayMs: Int64 = 0

    public init(command: [String], queue: String, timeoutMs: Int64?, log: @escaping @Sendable (String) -> Void) {
        self.command = command
        self.queue = queue
        self.timeoutMs = timeoutMs
        self.log = log
        ignoreBrokenPipes()
    }

    public func run(_ job: ClaimedJob) async -> JobOutcome {
        let process: ServeProcess
        if let ready = idle.popLast() {
            process = ready
        } else {
            if restartDelayMs > 0 { try? await Task.sleep(nanoseconds: UInt64(restartDelayMs) * 1_000_000) }
            switch spawnChild(command, extraEnvironment: ["JOBCTL_QUEUE=\(queue)"]) {
            case .failure(let error):
                restartDelayMs = min(max(restartDelayMs * 2, 100), 10_000)
                return .failed(reason: "could not start \(command.first ?? ""): \(String(cString: strerror(error.code)))", stacktrace: nil, unrecoverable: false)
            case .success(let child):
                process = ServeProcess(child: child)
                all[ObjectIdentifier(process)] = process
            }
        }
        let timeoutMs = timeoutMs
        let log = log
        let answer = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ServeProcess.Answer, Never>) in
                process.queue.async { continuation.resume(returning: process.handle(job, timeoutMs: timeoutMs, log: log)) }
            }
        } onCancel: {
            process.kill()
        }
        switch answer {
        case .result(let outcome):
            restartDelayMs = 0
            idle.append(process)
            return outcome
        case .gone(let reason):
            all[ObjectIdentifier(process)] = nil
            restartDelayMs = min(max(restartDelayMs * 2, 100), 10_000)
            log("job \(job.id): \(reason); a new handler process takes the next job")
            return .failed(reason: reason, stacktrace: nil, unrecoverable: false)
        }
    }

    /// Ends every handler process: stdin is closed (the sign to exit), and what still runs a second later is killed.
    public func shutdown() async {
        let processes = Array(all.values)
        all.removeAll()
        idle.removeAll()
        for process in processes { process.closeInput() }
        if processes.isEmpty { return }
        try? await Task.sleep(nanoseconds: 1_000_000_000)
        for process in processes { process.kill() }
    }
}

/// One handler process. Used by one job at a time (the handler takes it out of the idle list first), on its own
/// dispatch queue.
final class ServeProcess: @unchecked Sendable {
    enum Answer {
        case result(JobOutcome)
        /// The process is no more use: it exited, answered something else or timed out (and was killed).
        case gone(String)
    }

    let queue = DispatchQueue(label: "jobctl.serve")
    private let child: ChildProcess
    private var pending: [UInt8] = []
    private var stderrPending: [UInt8] = []
    private var ended = false

    init(child: ChildProcess) {
        self.child = child
        _ = fcntl(child.stdin, F_SETFL, O_NONBLOCK)
    }

    func kill() { Glibc.kill(-child.pid, SIGKILL) }

    func closeInput() { queue.sync { _ = close(child.stdin) } }

    func handle(_ job: ClaimedJob, timeoutMs: Int64?, log: @Sendable (String) -> Void) -> Answer {
        guard !ended else { return .gone("the handler process has ended") }
        let deadline = timeoutMs.map { currentTimeMs() + $0 }
        var line = Array((job.handlerJSON.compactText + "\n").utf8)
        while !line.isEmpty {
            let written = line.withUnsafeBytes { Glibc.write(child.stdin, $0.baseAddress, $0.count) }
            if written > 0 {
                line.removeFirst(written)
                continue
            }
            if written < 0 && errno != EAGAIN && errno != EINTR { return end("the handler process stopped reading its input", job: job) }
            var descriptor = pollfd(fd: child.stdin, events: Int16(POLLOUT), revents: 0)
            if poll(&descriptor, 1, wait(until: deadline)) == 0, let deadline, currentTimeMs() >= deadline {
                return timedOut(job, timeoutMs: timeoutMs)
            }
        }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let text = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return parse(text, job: job)
            }
            var descriptors = [pollfd(fd: child.stdout, events: Int16(POLLIN), revents: 0), pollfd(fd: child.stderr, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&descriptors, 2, wait(until: deadline))
            if ready < 0 && errno != EINTR { return end("lost the handler process's output", job: job) }
            if let deadline, currentTimeMs() >= deadline { return timedOut(job, timeoutMs: timeoutMs) }
            if descriptors[1].revents != 0 {
                let count = read(child.stderr, &buffer, buffer.count)
                if count > 0 {
                    stderrPending += buffer[0..<count]
                    while let newline = stderrPending.firstIndex(of: UInt8(ascii: "\n")) {
                        log("job \(job.id): " + String(decoding: stderrPending[..<newline], as: UTF8.self))
                        stderrPending.removeSubrange(...newline)
                    }
                }
            }
            if descriptors[0].revents != 0 {
                let count = read(child.stdout, &buffer, buffer.count)
                if count > 0 {
                    pending += buffer[0..<count]
                    if pending.count > ExecHandler.returnValueLimit * 2 {
                        return end("the handler process sent a result line longer than \(ExecHandler.returnValueLimit * 2) bytes", job: job)
                    }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    return end("the handler process exited while running this job", job: job)
                }
            }
        }
    }

    private func wait(until deadline: Int64?) -> Int32 {
        deadline.map { Int32(clamping: max(0, $0 - currentTimeMs())) } ?? 1000
    }

    private func parse(_ text: String, job: ClaimedJob) -> Answer {
        guard let answer = try? JSONValue.parse(text), case .string(let id)? = answer["id"], id == job.id,
            case .bool(let ok)? = answer["ok"]
        else {
            return end("the handler process answered something other than a result for job \(job.id): \(text.prefix(200))", job: job)
        }
        if ok { return .result(.completed(returnValue: (answer["value"] ?? .null).compactText)) }
        let reason: String
        switch answer["error"] {
        case .string(let text)?: reason = text
        case let value?: reason = value.compactText
        case nil: reason = "the handler reported a failure without an error"
        }
        return .result(.failed(reason: reason, stacktrace: nil, unrecoverable: answer["unrecoverable"] == .bool(true)))
    }

    private func timedOut(_ job: ClaimedJob, timeoutMs: Int64?) -> Answer {
        end("timed out after \(DurationText.describe(milliseconds: timeoutMs ?? 0)): the handler process was killed", job: job)
    }

    /// The process is done for: killed if still there, reaped, its pipes closed.
    private func end(_ reason: String, job: ClaimedJob) -> Answer {
        ended = true
        kill()
        var status: Int32 = 0
        while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
        for descriptor in [child.stdin, child.stdout, child.stderr] { close(descriptor) }
        return .gone(reason)
    }
}
