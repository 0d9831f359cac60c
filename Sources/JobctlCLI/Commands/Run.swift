import ArgumentParser
import Glibc
import JobCore

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run jobs of a queue as a long-running BullMQ worker, until SIGTERM or SIGINT.",
        discussion: """
            Jobs are taken, locked and finished as with run-once. An idle worker waits for BullMQ's own wake-up \
            (the queue's marker on Redis, a NOTIFY on PostgreSQL) instead of polling, wakes for the next delayed \
            job on time, and checks for stalled jobs every --stalled-interval. On PostgreSQL it first checks that \
            a NOTIFY reaches it: behind a transaction pooler (PgBouncer, Supavisor, Neon's pooled endpoint) none \
            does, and it polls instead with one statement, every 100 ms backing off to 2 s while idle, unless \
            --listen-url names a direct or session-mode connection to LISTEN on. It says which on stderr. \
            A paused queue, the queue's global concurrency and rate limit, and --limiter are honoured; a lost \
            connection is retried with back-off.

            On SIGTERM or SIGINT it takes no new job, lets the running ones finish within --grace, hands the \
            rest back to waiting (their handlers are killed) and exits 0. A second signal exits at once; jobs \
            still running then go back to waiting through the stalled check of any worker.
            Setting JOBCTL_DISABLE_WORKERS=true (or DISABLE_BACKGROUND_WORKERS=true) makes it exit 0 at once.

            """ + WorkerOptions.protocolHelp
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var worker: WorkerOptions

    @Argument(help: "The queue.")
    var queue: String

    @Option(help: ArgumentHelp("After a stop signal, how long running jobs may take to finish.", valueName: "duration"))
    var grace = "30s"

    @Option(
        help: ArgumentHelp(
            "How often to look for jobs whose worker died (BullMQ's stalledInterval).", valueName: "duration"))
    var stalledInterval = "30s"

    @Option(help: "How often a job may stall before it fails (BullMQ's maxStalledCount).")
    var maxStalledCount = 1

    @Option(help: ArgumentHelp("How often to print a progress line on stderr (0 for never).", valueName: "duration"))
    var progress = "60s"

    @Option(
        name: .customLong("listen-url"),
        help: ArgumentHelp(
            "PostgreSQL: a direct or session-mode URL used only to LISTEN for new work, when --url goes through a "
                + "transaction pooler. (env: JOBCTL_LISTEN_URL)",
            valueName: "url"))
    var listenURL: String?

    @Argument(parsing: .postTerminator, help: "The command to run per job, after --.")
    var command: [String] = []

    func validate() throws {
        _ = try worker.handlerCommand(afterTerminator: command)
        for (flag, value) in [("--grace", grace), ("--stalled-interval", stalledInterval), ("--progress", progress)] {
            guard DurationText.milliseconds(value) != nil else {
                throw ValidationError("\(flag) '\(value)' is not a duration (examples: 30s, 2m)")
            }
        }
        if (DurationText.milliseconds(stalledInterval) ?? 0) < 100 {
            throw ValidationError("--stalled-interval must be at least 100ms")
        }
        if maxStalledCount < 0 { throw ValidationError("--max-stalled-count must not be negative") }
    }

    func run() async throws {
        if let variable = WorkerOptions.disablingVariable {
            Terminal.writeError("jobctl run: workers are disabled by \(variable); nothing run\n")
            return
        }
        try await Terminal.reportingErrors {
            let identity = worker.identity(queue: queue)
            let backend = try await connectWhenTheServerIsThere(worker: identity)
            var settings = worker.settings()
            settings.stalledIntervalMs = DurationText.milliseconds(stalledInterval) ?? 30_000
            settings.maxStalledCount = maxStalledCount
            let handler = worker.handler(command: try worker.handlerCommand(afterTerminator: command), queue: queue)
            let engine = Worker(backend: backend, queue: queue, settings: settings, handler: handler.run) { message in
                Terminal.writeError(message + "\n")
            }
            let stopper = StopSignals(
                [SIGTERM, SIGINT],
                onFirst: {
                    Terminal.writeError("stop signal: finishing running jobs (send it again to exit at once)\n")
                    engine.stop()
                },
                secondMessage:
                    "second stop signal: exiting now; running jobs go back to waiting through the stalled check")
            let progressMs = DurationText.milliseconds(progress) ?? 0
            Terminal.writeError(
                "jobctl run: working queue '\(queue)' at concurrency \(settings.concurrency) as worker "
                    + "'\(identity.name)'\n")
            let summary: WorkerSummary
            do {
                summary = try await engine.runUntilStopped(
                    graceMs: DurationText.milliseconds(grace) ?? 30_000,
                    progressEveryMs: progressMs > 0 ? progressMs : nil)
            } catch {
                await handler.shutdown()
                throw error
            }
            await handler.shutdown()
            withExtendedLifetime(stopper) {}
            let text =
                "stopped: \(summary.completed) completed, \(summary.failed) failed, \(summary.retried) to retry"
                + (summary.handedBack > 0 ? ", \(summary.handedBack) handed back" : "")
                + (summary.lost > 0 ? ", \(summary.lost) lost (lock expired)" : "") + RunOnce.breakerText(summary)
                + " in \(DurationText.describe(milliseconds: summary.durationMs)), \(summary.serverCalls) server calls"
            Terminal.writeError(text + "\n")
            if global.format != .text {
                let value = RunOnce.summaryJSON(summary, queue: queue)
                Terminal.write((global.format == .json ? value.prettyText : value.compactText) + "\n")
            }
        }
    }
}

extension Run {
    /// A long-running worker started while its server is away (restarting, loading its data) waits for it, with a
    /// back-off doubling up to 30 s, and says so once; anything else (a bad URL, a refused login) ends it at once.
    func connectWhenTheServerIsThere(worker identity: WorkerIdentity) async throws -> any WorkerBackend {
        let listen =
            listenURL.map { (url: $0, fromFlag: true) }
            ?? GlobalOptions.environment["JOBCTL_LISTEN_URL"].nonEmpty.map { (url: $0, fromFlag: false) }
        let (backend, open) = try global.prepare(worker: identity, listenURL: listen)
        var delayMs: UInt64 = 500
        var since: Int64?
        while true {
            do {
                try await open()
                if let since {
                    Terminal.writeError(
                        "jobctl run: the server is there after "
                            + "\(DurationText.describe(milliseconds: currentTimeMs() - since))\n"
                    )
                }
                return backend
            } catch let error as any OperatorFacingError where error.kind == .unavailable {
                if since == nil {
                    since = currentTimeMs()
                    Terminal.writeError("jobctl run: \(error.description); retrying with back-off\n")
                }
                try await Task.sleep(nanoseconds: delayMs * 1_000_000)
                delayMs = min(delayMs * 2, 30_000)
            }
        }
    }
}
