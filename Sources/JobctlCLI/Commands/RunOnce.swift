import ArgumentParser
import Glibc
import JobCore
import JobHandlers

/// Options of the commands that run jobs.
struct WorkerOptions: ParsableArguments {
    @Option(
        parsing: .remaining,
        help: ArgumentHelp(
            "Run this command per job, no shell; it takes the rest of the line, so put it last.", valueName: "command"))
    var exec: [String] = []

    @Option(
        parsing: .remaining,
        help: ArgumentHelp(
            "Feed jobs to long-lived handler processes of this command, one JSON line each (see the protocol below); "
                + "it takes the rest of the line, so put it last.",
            valueName: "command"))
    var serve: [String] = []

    @Flag(help: "Complete every job at once without running anything (for benchmarks and smoke tests).")
    var noop = false

    @Option(help: "Jobs run at the same time.")
    var concurrency = 1

    @Option(
        help: ArgumentHelp(
            "Kill a job's process group and fail the job after this long, e.g. 5m.", valueName: "duration"))
    var jobTimeout: String?

    @Option(
        help: ArgumentHelp("How long a job's lock lasts unless renewed (BullMQ's lockDuration).", valueName: "duration")
    )
    var lockDuration = "30s"

    @Option(
        help: ArgumentHelp(
            "Renew the locks of running jobs this often (default: half the lock duration).", valueName: "duration"))
    var lockRenew: String?

    @Option(
        help: ArgumentHelp("This worker starts at most MAX jobs per DURATION, e.g. 100/1s.", valueName: "max/duration"))
    var limiter: String?

    @Option(
        help: ArgumentHelp(
            "Record BullMQ's per-minute metrics of completed and failed jobs, keeping this many points (BullMQ's "
                + "metrics.maxDataPoints).",
            valueName: "points"))
    var metrics: Int?

    @Option(
        help: ArgumentHelp(
            "The worker's name, under which BullMQ's tools and 'jobctl workers' list it. (env: JOBCTL_WORKER_NAME; "
                + "default: jobctl-HOST-PID)",
            valueName: "name"))
    var name: String?

    @Option(
        help: ArgumentHelp(
            "Circuit breaker: after N handler failures in a row take no job (they stay waiting) for COOLDOWN "
                + "(default 30s, doubling to 10m while the trial job fails), then let one through; a success closes "
                + "it. Example: 5/30s.",
            valueName: "n[/cooldown]"))
    var breaker: String?

    func validate() throws {
        if let given = name ?? GlobalOptions.environment["JOBCTL_WORKER_NAME"].nonEmpty,
            let problem = WorkerIdentity.problem(withName: given)
        {
            throw ValidationError("the worker name '\(given.prefix(100))' cannot be used: \(problem)")
        }
        if concurrency < 1 || concurrency > 10_000 {
            throw ValidationError("--concurrency must be between 1 and 10000")
        }
        for (flag, value) in [
            ("--job-timeout", jobTimeout), ("--lock-duration", lockDuration), ("--lock-renew", lockRenew),
        ] {
            if let value, (DurationText.milliseconds(value) ?? 0) <= 0 {
                throw ValidationError("\(flag) '\(value)' is not a duration (examples: 500ms, 30s, 5m)")
            }
        }
        if let metrics, metrics < 1 { throw ValidationError("--metrics must be at least 1 (data points to keep)") }
        if let breaker, CircuitBreaker.Settings(breaker) == nil {
            throw ValidationError(
                "--breaker '\(breaker)' is not N or N/COOLDOWN (examples: 5, 5/30s; N from 1, COOLDOWN up to 24h)")
        }
        if let limiter, parsedLimiter(limiter) == nil {
            throw ValidationError("--limiter '\(limiter)' is not MAX/DURATION (example: 100/1s)")
        }
    }

    func parsedLimiter(_ text: String) -> RateLimit? {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2, let max = Int64(parts[0]), max > 0, let duration = DurationText.milliseconds(parts[1]),
            duration > 0
        else {
            return nil
        }
        return RateLimit(max: max, durationMs: duration)
    }

    func settings() -> WorkerSettings {
        var settings = WorkerSettings()
        settings.concurrency = concurrency
        settings.lockDurationMs = DurationText.milliseconds(lockDuration) ?? 30_000
        settings.lockRenewMs = lockRenew.flatMap(DurationText.milliseconds)
        settings.limiter = limiter.flatMap(parsedLimiter)
        settings.claimBatch = min(concurrency, 100)
        settings.metricsDataPoints = metrics
        settings.breaker = breaker.flatMap(CircuitBreaker.Settings.init)
        return settings
    }

    /// Who the worker is: `--name`, `JOBCTL_WORKER_NAME`, or `jobctl-<host>-<pid>`.
    func identity(queue: String) -> WorkerIdentity {
        var host = [UInt8](repeating: 0, count: 256)
        let hostName =
            gethostname(&host, host.count - 1) == 0
            ? String(decoding: host.prefix { $0 != 0 }, as: UTF8.self) : "host"
        return WorkerIdentity(
            queue: queue,
            name: name ?? GlobalOptions.environment["JOBCTL_WORKER_NAME"].nonEmpty
                ?? WorkerIdentity.defaultName(host: hostName, pid: getpid()))
    }

    /// `--exec COMMAND…`, or the command after `--`.
    func handlerCommand(afterTerminator command: [String]) throws -> [String] {
        if !serve.isEmpty {
            if !exec.isEmpty || !command.isEmpty || noop {
                throw ValidationError("--serve takes the one command; drop --exec, -- and --noop")
            }
            return serve
        }
        let chosen = exec.isEmpty ? command : exec
        if !exec.isEmpty && !command.isEmpty {
            throw ValidationError("give the command once: --exec COMMAND… or -- COMMAND…")
        }
        if noop && !chosen.isEmpty { throw ValidationError("--noop runs no command; drop the command") }
        if !noop && chosen.isEmpty {
            throw ValidationError(
                "say what runs each job: --exec COMMAND [ARGS…] (or -- COMMAND [ARGS…]), or --noop")
        }
        return chosen
    }

    /// The handler, and what ends it when the run is over (the `--serve` processes).
    func handler(
        command handlerCommand: [String], queue: String
    ) -> (run: Worker.Handler, shutdown: @Sendable () async -> Void) {
        if noop { return ({ _ in .completed(returnValue: "null") }, {}) }
        let log: @Sendable (String) -> Void = { line in Terminal.writeError(line + "\n") }
        let timeout = jobTimeout.flatMap(DurationText.milliseconds)
        if !serve.isEmpty {
            let pool = ServeHandler(command: handlerCommand, queue: queue, timeoutMs: timeout, log: log)
            return ({ job in await pool.run(job) }, { await pool.shutdown() })
        }
        let exec = ExecHandler(command: handlerCommand, timeoutMs: timeout, log: log)
        return ({ job in await exec.run(job) }, {})
    }

    static let protocolHelp = """

        HANDLERS
        --exec COMMAND [ARGS…] (or -- COMMAND [ARGS…]) runs one process per job, without a shell, in a \
        process group of its own. The job is on its stdin as one JSON object: id, name, data, opts, \
        attemptsMade, timestamp, queue; JOBCTL_QUEUE, JOBCTL_JOB_ID, JOBCTL_JOB_NAME and JOBCTL_ATTEMPT are in \
        its environment. Exit 0 completes the job, with stdout as the return value (JSON if it parses, else a \
        string; at most 1 MiB); another status fails it with the tail of stderr as the reason, and the job is \
        retried by its attempts and backoff options; status 65 fails it without further attempts. Past \
        --job-timeout the process group is killed and the job fails saying so.

        --serve COMMAND [ARGS…] starts long-lived handler processes (up to twice the processors, and no more \
        than --concurrency), each fed jobs as lines of JSON on stdin (the same object as above) and answering \
        one line per job on stdout: {"id": ID, "ok": true, "value": VALUE} completes the job with VALUE; \
        {"id": ID, "ok": false, "error": TEXT, "unrecoverable": BOOL} fails it (unrecoverable: no further \
        attempts). A process may be sent several jobs before it answers the first: answers are matched by id, \
        in any order. A process that exits, answers anything else or keeps its oldest unanswered job past \
        --job-timeout (counted from when that job became the oldest) fails only that job, and the jobs sent \
        after it run on another process; a new process replaces it, after a back-off while processes keep \
        dying. stdin closing is the sign to exit. See examples/serve-handler.py.

        Handler stderr is logged on jobctl's stderr with the job id (for --serve, the ids of the jobs the \
        process had not answered yet).
        """

    /// `JOBCTL_DISABLE_WORKERS=true` or `DISABLE_BACKGROUND_WORKERS=true`: the variable that disables workers, if set.
    static var disablingVariable: String? {
        for name in ["JOBCTL_DISABLE_WORKERS", "DISABLE_BACKGROUND_WORKERS"] {
            if let value = getenv(name).map({ String(cString: $0).lowercased() }), ["true", "1", "yes"].contains(value)
            {
                return name
            }
        }
        return nil
    }
}

struct RunOnce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-once",
        abstract: "Process every job of a queue that is ready now, then exit (for cron).",
        discussion: """
            Each job is taken with a lock that is renewed while its handler runs, and finished as a BullMQ \
            worker finishes it (attempts, backoff, removeOnComplete/removeOnFail, events).

            Jobs that become ready while others run (retries without backoff) are processed too; delayed jobs and \
            retries with a backoff are left for a later run. Runs started from cron may overlap: every job is \
            taken by one worker only.

            EXIT STATUS: 0 every job completed (or there was none), 2 some job failed or will be retried, 75 the \
            queue is paused, 69 the server is unreachable.
            Setting JOBCTL_DISABLE_WORKERS=true (or DISABLE_BACKGROUND_WORKERS=true) makes it exit 0 at once.

            """ + WorkerOptions.protocolHelp
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var worker: WorkerOptions

    @Argument(help: "The queue.")
    var queue: String

    @Option(help: "Stop after this many jobs.")
    var maxJobs: Int?

    @Option(help: ArgumentHelp("Take no new job after this long, e.g. 50s.", valueName: "duration"))
    var maxRuntime: String?

    @Argument(parsing: .postTerminator, help: "The command to run per job, after --.")
    var command: [String] = []

    func validate() throws {
        _ = try worker.handlerCommand(afterTerminator: command)
        if let maxJobs, maxJobs < 1 { throw ValidationError("--max-jobs must be at least 1") }
        if let maxRuntime, (DurationText.milliseconds(maxRuntime) ?? 0) <= 0 {
            throw ValidationError("--max-runtime '\(maxRuntime)' is not a duration (examples: 50s, 5m)")
        }
    }

    func run() async throws {
        if let variable = WorkerOptions.disablingVariable {
            Terminal.writeError("jobctl run-once: workers are disabled by \(variable); nothing run\n")
            return
        }
        try await Terminal.reportingErrors {
            let identity = worker.identity(queue: queue)
            let backend = try await global.connect(worker: identity)
            var settings = worker.settings()
            settings.maxJobs = maxJobs
            settings.maxRuntimeMs = maxRuntime.flatMap(DurationText.milliseconds)
            let handler = worker.handler(command: try worker.handlerCommand(afterTerminator: command), queue: queue)
            let engine = Worker(backend: backend, queue: queue, settings: settings, handler: handler.run) { message in
                Terminal.writeError(message + "\n")
            }
            let summary: WorkerSummary
            do {
                summary = try await engine.runUntilIdle()
            } catch {
                await handler.shutdown()
                throw error
            }
            await handler.shutdown()
            printSummary(summary)
            if summary.failed + summary.retried + summary.lost > 0 { throw ExitStatus.checkFailed.exitCode }
            if summary.sawPause && summary.processed == 0 {
                Terminal.writeError(
                    "queue '\(queue)' is paused: no job taken ('jobctl resume \(queue)' lets workers take them)\n")
                throw ExitStatus.temporary.exitCode
            }
        }
    }

    private func printSummary(_ summary: WorkerSummary) {
        switch global.format {
        case .json, .jsonl:
            let value = Self.summaryJSON(summary, queue: queue)
            Terminal.write((global.format == .json ? value.prettyText : value.compactText) + "\n")
        case .text:
            var text =
                "processed \(summary.processed) job\(summary.processed == 1 ? "" : "s") of queue "
                + "'\(Cell.oneLine(queue, limit: 200))': "
            text += "\(summary.completed) completed, \(summary.failed) failed, \(summary.retried) to retry"
            if summary.lost > 0 { text += ", \(summary.lost) lost (lock expired)" }
            text += Self.breakerText(summary)
            Terminal.write(text + " in \(DurationText.describe(milliseconds: summary.durationMs))\n")
        }
    }

    /// A worker run's summary as `-o json` prints it (`run-once`, and `run` when it stops).
    static func summaryJSON(_ summary: WorkerSummary, queue: String) -> JSONValue {
        .object([
            ("queue", .string(queue)), ("processed", .int(summary.processed)),
            ("completed", .int(summary.completed)),
            ("failed", .int(summary.failed)), ("retried", .int(summary.retried)), ("lost", .int(summary.lost)),
            ("handedBack", .int(summary.handedBack)), ("durationMs", .int(summary.durationMs)),
            ("paused", .bool(summary.sawPause)), ("serverCalls", .int(summary.serverCalls)),
            ("breakerOpened", .int(summary.breakerOpenedTimes)), ("breakerOpenMs", .int(summary.breakerOpenMs)),
            ("schedulerIterations", .int(summary.schedulerIterations)),
        ])
    }

    /// `, circuit breaker open 2 times for 1m05s` (nothing when it never opened).
    static func breakerText(_ summary: WorkerSummary) -> String {
        guard summary.breakerOpenedTimes > 0 else { return "" }
        let times = summary.breakerOpenedTimes == 1 ? "once" : "\(summary.breakerOpenedTimes) times"
        return ", circuit breaker open \(times) for \(DurationText.describe(milliseconds: summary.breakerOpenMs))"
    }
}
