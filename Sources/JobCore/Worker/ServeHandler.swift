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
    /// At most this many processes: jobs beyond wait in line at the least busy one (each process works through
    /// its jobs in order), so that a high concurrency does not mean a crowd of processes.
    private let maxProcesses: Int
    private var processes: [ServeProcess] = []
    private var load: [ObjectIdentifier: Int] = [:]
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
            let process: ServeProcess
            if let idle = processes.first(where: { load[ObjectIdentifier($0)] == 0 }) {
                process = idle
            } else if processes.count < maxProcesses {
                if restartDelayMs > 0 { try? await Task.sleep(nanoseconds: UInt64(restartDelayMs) * 1_000_000) }
                switch spawnChild(command, extraEnvironment: ["JOBCTL_QUEUE=\(queue)"]) {
                case .failure(let error):
                    restartDelayMs = min(max(restartDelayMs * 2, 100), 10_000)
                    return .failed(reason: "could not start \(command.first ?? ""): \(String(cString: strerror(error.code)))", stacktrace: nil, unrecoverable: false)
                case .success(let child):
                    process = ServeProcess(child: child)
                    processes.append(process)
                }
            } else {
                process = processes.min { load[ObjectIdentifier($0), default: 0] < load[ObjectIdentifier($1), default: 0] }!
            }
            let key = ObjectIdentifier(process)
            load[key, default: 0] += 1
            let timeoutMs = timeoutMs
            let log = log
            let answer = await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<ServeProcess.Answer, Never>) in
                    process.queue.async { continuation.resume(returning: process.handle(job, timeoutMs: timeoutMs, log: log)) }
                }
            } onCancel: {
                process.kill()
            }
            load[key, default: 1] -= 1
            switch answer {
            case .result(let outcome):
                restartDelayMs = 0
                return outcome
            case .notSent:
                continue  // its process had ended before this job's turn: another one takes it
            case .gone(let reason):
                if let index = processes.firstIndex(where: { $0 === process }) {
                    processes.remove(at: index)
                    load[key] = nil
                    restartDelayMs = min(max(restartDelayMs * 2, 100), 10_000)
                    log("job \(job.id): \(reason); a new handler process takes the next job")
                }
                return .failed(reason: reason, stacktrace: nil, unrecoverable: false)
            }
        }
    }

    /// Ends every handler process: stdin is closed (the sign to exit), and what still runs a second later is killed.
    public func shutdown() async {
        let all = processes
        processes.removeAll()
        load.removeAll()
        for process in all { process.closeInput() }
        if all.isEmpty { return }
        try? await Task.sleep(nanoseconds: 1_000_000_000)
        for process in all { process.kill() }
    }
}

/// One handler process, working through its jobs one at a time on its own serial dispatch queue.
final class ServeProcess: @unchecked Sendable {
    enum Answer {
        case result(JobOutcome)
        /// The process is no more use: it exited, answered something else or timed out (and was killed).
        case gone(String)
        /// The process had ended before this job's turn; the job was not sent.
        case notSent
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

    func closeInput() {
        queue.sync {
            if !ended { _ = close(child.stdin) }
            ended = true
        }
    }

    func handle(_ job: ClaimedJob, timeoutMs: Int64?, log: @Sendable (String) -> Void) -> Answer {
        guard !ended else { return .notSent }
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
