import FoundationEssentials

/// What a claim round trip found when it took fewer jobs than asked for.
public enum ClaimWait: Sendable, Equatable {
    /// Nothing ready; the next delayed job is due then (ms since the epoch), if any.
    case empty(nextDelayedAt: Int64?)
    /// The queue is paused.
    case paused
    /// The queue's global concurrency is reached.
    case maxed
    /// The rate limit allows the next job in this many ms.
    case rateLimited(ms: Int64)
}

public struct ClaimResult: Sendable {
    public var jobs: [ClaimedJob]
    /// Why fewer jobs than asked came back; nil when all did.
    public var wait: ClaimWait?

    public init(jobs: [ClaimedJob], wait: ClaimWait?) {
        self.jobs = jobs
        self.wait = wait
    }
}

/// A job whose finish the server refused because the worker no longer holds it (its lock expired and the
/// stalled check gave it to another worker, or an operator removed it).
public struct LostJob: Sendable, Equatable {
    public var id: String
    public var reason: String

    public init(id: String, reason: String) {
        self.id = id
        self.reason = reason
    }
}

/// The server side of a worker: claim, finish, renew locks, rescue stalled jobs, the way BullMQ's workers do
/// them on one backend.
///
/// Each call handles a batch in one round trip where the backend allows.
public protocol WorkerBackend: Sendable {
    /// Takes up to `tokens.count` ready jobs, one per token, locked for `lockDurationMs`.
    func claim(queue: String, tokens: [String], lockDurationMs: Int64, limiter: RateLimit?) async throws -> ClaimResult

    /// Finishes jobs (complete, retry or fail); returns the jobs the server refused because their lock is gone.
    /// With `metricsDataPoints`, completions and final failures are counted in BullMQ's per-minute metrics, which
    /// keep that many points.
    func finish(
        queue: String, _ jobs: [(job: ClaimedJob, finish: Finish)], metricsDataPoints: Int?
    ) async throws -> [LostJob]

    /// Renews the locks of running jobs; returns the ids whose lock could not be renewed.
    func extendLocks(queue: String, _ jobs: [(id: String, token: String)], durationMs: Int64) async throws -> [String]

    /// Moves active jobs whose lock expired back to waiting (BullMQ's stalled check); returns their ids.
    func rescueStalled(queue: String, maxStalledCount: Int, intervalMs: Int64) async throws -> [String]

    /// Waits (on a connection of its own) until the queue signals work — BullMQ's marker on Redis, a NOTIFY on
    /// `bullmq_jobs` with the queue's name on PostgreSQL — or `timeoutMs` passes; true when signalled.
    func waitForWork(queue: String, timeoutMs: Int64) async throws -> Bool

    /// Puts jobs this worker holds but will not finish back at the front of waiting, releasing their locks.
    func handBack(queue: String, _ jobs: [(id: String, token: String)]) async throws
}

/// How a worker runs.
public struct WorkerSettings: Sendable {
    public var concurrency = 1
    public var lockDurationMs: Int64 = 30_000
    /// How often the locks of running jobs are renewed (default: half the lock duration).
    public var lockRenewMs: Int64?
    public var stalledIntervalMs: Int64 = 30_000
    public var maxStalledCount = 1
    /// A worker-side rate limit: at most `max` job starts per `durationMs`.
    public var limiter: RateLimit?
    /// Stop after this many jobs (run-once).
    public var maxJobs: Int?
    /// Take no new job after this long (ms).
    public var maxRuntimeMs: Int64?
    /// Jobs claimed per round trip at most.
    public var claimBatch = 50
    /// Record BullMQ's per-minute metrics of completed and failed jobs, keeping this many points (the worker
    /// option `metrics.maxDataPoints`); nil records none, as BullMQ's default.
    public var metricsDataPoints: Int?

    public init() {}
}

/// What a worker run did.
public struct WorkerSummary: Sendable, Equatable {
    public var processed = 0
    public var completed = 0
    /// Failed for good.
    public var failed = 0
    /// Failed an attempt and will run again (now or after their backoff).
    public var retried = 0
    /// Finished by the handler but no longer held by this worker: not finished by it.
    public var lost = 0
    public var durationMs: Int64 = 0
    /// The queue was paused when the run found nothing to do.
    public var sawPause = false
    /// Running when the grace period of a stop ran out, and handed back to waiting.
    public var handedBack = 0
    /// Round trips to the server: claims, finishes, lock renewals, stalled checks, waits for work, hand-backs (a
    /// short claim on PostgreSQL is two statements).
    public var serverCalls = 0

    public init() {}
}

/// Runs a handler over the jobs of a queue: one engine for `run-once` and `run`, usable from Swift programs.
///
/// `runUntilIdle` processes every job that is ready (and every job that becomes ready while the others run),
/// then returns; `runUntilStopped` works until `stop()`. Locks of running jobs are renewed from one timer; jobs
/// are claimed and finished in batches, finishes beside the next claim.
public actor Worker {
    public typealias Handler = @Sendable (ClaimedJob) async -> JobOutcome

    private let backend: any WorkerBackend
    private let queue: String
    private let settings: WorkerSettings
    private let handler: Handler
    private let log: @Sendable (String) -> Void
    private let workerId = UUID().uuidString.lowercased().filter { $0 != "-" }
    private var tokenCounter = 0

    private var running: [String: RunningJob] = [:]
    private var summary = WorkerSummary()

    private struct RunningJob {
        var job: ClaimedJob
        /// When this worker's lock runs out unless renewed (its own clock).
        var lockedUntil: Int64
        var lost = false
    }

    public init(
        backend: any WorkerBackend, queue: String, settings: WorkerSettings, handler: @escaping Handler,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.backend = backend
        self.queue = queue
        self.settings = settings
        self.handler = handler
        self.log = log
    }

    private func nextToken() -> String {
        tokenCounter += 1
        return "\(workerId):\(tokenCounter)"
    }

    /// Processes every job that is ready now, and those that become ready meanwhile; returns when none is.
    ///
    /// Server errors end the run (and are thrown).
    public func runUntilIdle() async throws -> WorkerSummary {
        try await process(untilStopped: false)
    }

    /// Processes jobs until `stop()`: then takes no new job, lets the running ones finish within `graceMs`, and
    /// hands the rest back to waiting.
    ///
    /// Waits for work without polling; a lost connection is retried with back-off.
    public func runUntilStopped(graceMs: Int64, progressEveryMs: Int64? = nil) async throws -> WorkerSummary {
        self.graceMs = graceMs
        self.progressEveryMs = progressEveryMs
        return try await process(untilStopped: true)
    }

    /// Asks a `runUntilStopped` to stop; callable from anywhere (a signal handler's queue, say).
    public nonisolated func stop() {
        Task { await self.requestStop() }
    }

    private var graceMs: Int64 = 30_000
    private var progressEveryMs: Int64?
    private var mailbox: Mailbox?
    private var stopRequested = false

    private func requestStop() async {
        stopRequested = true
        await mailbox?.post(.stop)
    }

    /// How long an idle worker waits for a signal before it looks anyway; doubles while nothing comes.
    static let firstIdleWaitMs: Int64 = 5000
    static let longestIdleWaitMs: Int64 = 60_000

    private func process(untilStopped: Bool) async throws -> WorkerSummary {
        let started = currentTimeMs()
        let mailbox = Mailbox()
        self.mailbox = mailbox
        if stopRequested { await mailbox.post(.stop) }
        if untilStopped {
            // Workers started together (a deploy) do not all hit the server in the same millisecond.
            try? await Task.sleep(nanoseconds: UInt64.random(in: 0...200_000_000))
        }
        // First hand back what dead workers left behind (throttled across workers by the backend).
        await checkStalled()

        let renewEvery = settings.lockRenewMs ?? settings.lockDurationMs / 2
        var claimedCount = 0
        var warnedSchedulers = Set<String>()
        // No more claims: nothing was ready (run-once), the queue is paused (run-once), a limit of the run was
        // reached, or a stop was asked for.
        var exhausted = false
        // The last claim found nothing to take: wait for an event (a job done, a signal, a timer) first.
        var blocked = false
        var waiting = false
        var idleWaitMs = Self.firstIdleWaitMs
        // At the global concurrency nothing signals a free slot: look again after 100 ms, doubling up to 5 s.
        var maxedWaitMs: Int64 = 100
        var unreachableSince: Int64?
        var retryDelayMs: Int64 = 500
        var pending: [(job: ClaimedJob, finish: Finish)] = []
        var finishing = 0
        var failure: (any Error)?
        var lastProgress = (time: started, completed: 0)

        func startWaiter(timeoutMs: Int64) {
            guard !waiting else { return }
            waiting = true
            summary.serverCalls += 1
            let backend = backend
            let queue = queue
            // Not a child task: a blocking wait must not hold up the end of the run.
            Task {
                do {
                    _ = try await backend.waitForWork(queue: queue, timeoutMs: timeoutMs)
                } catch {
                    try? await Task.sleep(nanoseconds: UInt64(min(timeoutMs, 5000)) * 1_000_000)
                }
                await mailbox.post(.woke)
            }
        }

        await withDiscardingTaskGroup { group in
            /// Posts `event` after a pause (a rate limit, a back-off, the grace of a stop).
            func post(_ event: Mailbox.Event, afterMs ms: Int64) {
                group.addTask {
                    try? await Task.sleep(nanoseconds: UInt64(max(ms, 0)) * 1_000_000)
                    await mailbox.post(event)
                }
            }
            /// The server is away: look again after a pause that doubles up to 30 s.
            func backOff() {
                post(.woke, afterMs: retryDelayMs)
                retryDelayMs = min(retryDelayMs * 2, 30_000)
            }
            group.addTask { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: UInt64(max(renewEvery, 10)) * 1_000_000)
                    if Task.isCancelled { break }
                    await self?.renewLocks()
                }
            }
            if untilStopped {
                let interval = settings.stalledIntervalMs
                group.addTask { [weak self] in
                    while !Task.isCancelled {
                        try? await Task.sleep(nanoseconds: UInt64(max(interval, 100)) * 1_000_000)
                        if Task.isCancelled { break }
                        await self?.checkStalled()
                    }
                }
            }
            loop: while true {
                do {
                    if !pending.isEmpty {
                        // Finishing runs beside the next claim (on a connection of its own where the backend has
                        // one), so that the server works on both at once.
                        let batch = pending
                        pending = []
                        finishing += 1
                        group.addTask { [weak self] in
                            do {
                                try await self?.flush(batch)
                                await mailbox.post(.flushed(batch, nil))
                            } catch {
                                await mailbox.post(.flushed(batch, error))
                            }
                        }
                    }
                    if settings.maxJobs.map({ claimedCount >= $0 }) ?? false { exhausted = true }
                    if settings.maxRuntimeMs.map({ currentTimeMs() - started >= $0 }) ?? false { exhausted = true }
                    let free = settings.concurrency - running.count
                    if !exhausted && !blocked && free > 0 {
                        var want = min(free, settings.claimBatch)
                        if let maxJobs = settings.maxJobs { want = min(want, maxJobs - claimedCount) }
                        let tokens = (0..<want).map { _ in nextToken() }
                        summary.serverCalls += 1
                        let result = try await backend.claim(
                            queue: queue, tokens: tokens, lockDurationMs: settings.lockDurationMs,
                            limiter: settings.limiter)
                        if let since = unreachableSince {
                            log(
                                "connection to the server is back after \(DurationText.describe(milliseconds: currentTimeMs() - since))"
                            )
                            unreachableSince = nil
                            retryDelayMs = 500
                        }
                        let now = currentTimeMs()
                        for job in result.jobs {
                            if let scheduler = job.schedulerId, warnedSchedulers.insert(scheduler).inserted {
                                log(
                                    "job \(job.id) comes from job scheduler \(scheduler): jobctl runs it, but does not create the scheduler's next iteration as a BullMQ worker does; keep a BullMQ worker on \(queue) for its schedulers to go on firing"
                                )
                            }
                            running[job.id] = RunningJob(job: job, lockedUntil: now + settings.lockDurationMs)
                            claimedCount += 1
                            group.addTask { [handler] in
                                let outcome: JobOutcome
                                if let deferred = job.deferredFailure {
                                    // A stalled check gave up on it: it fails without running, as in BullMQ.
                                    outcome = .failed(reason: deferred, stacktrace: nil, unrecoverable: true)
                                } else {
                                    outcome = await handler(job)
                                }
                                await mailbox.post(.done(job, outcome))
                            }
                        }
                        if !result.jobs.isEmpty {
                            idleWaitMs = Self.firstIdleWaitMs
                            maxedWaitMs = 100
                        }
                        switch result.wait {
                        case nil:
                            continue loop
                        case .rateLimited(let ms):
                            blocked = true
                            post(.woke, afterMs: min(max(ms, 1), 30_000))
                        case .paused where !untilStopped:
                            summary.sawPause = true
                            exhausted = true
                        case .maxed where untilStopped:
                            // Finishing jobs sends no signal: look again after a growing pause.
                            blocked = true
                            post(.woke, afterMs: maxedWaitMs)
                            maxedWaitMs = min(maxedWaitMs * 2, 5000)
                        case .empty(let nextDelayedAt) where untilStopped:
                            blocked = true
                            var timeout = idleWaitMs
                            if let nextDelayedAt { timeout = min(timeout, max(nextDelayedAt - currentTimeMs(), 1)) }
                            idleWaitMs = min(idleWaitMs * 2, Self.longestIdleWaitMs)
                            startWaiter(timeoutMs: timeout)
                        case .paused:
                            blocked = true
                            startWaiter(timeoutMs: Self.longestIdleWaitMs)
                        case .empty, .maxed:
                            // Jobs still running or being finished may put retries back (no backoff): look again
                            // when one is done.
                            if running.isEmpty && finishing == 0 { exhausted = true } else { blocked = true }
                        }
                    }
                } catch {
                    guard untilStopped, (error as? any OperatorFacingError)?.kind == .unavailable else {
                        failure = error
                        break loop
                    }
                    if unreachableSince == nil {
                        unreachableSince = currentTimeMs()
                        log("lost the server (\(error)); retrying with back-off")
                    }
                    blocked = true
                    backOff()
                }
                if running.isEmpty && pending.isEmpty && finishing == 0 && exhausted { break }
                if running.isEmpty && finishing == 0 && !blocked && !exhausted { continue }
                for event in await mailbox.takeAll() {
                    switch event {
                    case .done(let job, let outcome):
                        blocked = false
                        if let finish = settle(job, outcome) { pending.append((job, finish)) }
                    case .woke:
                        blocked = false
                        waiting = false
                    case .stop:
                        if !exhausted {
                            exhausted = true
                            if !running.isEmpty {
                                log(
                                    "stopping: waiting up to \(DurationText.describe(milliseconds: graceMs)) for \(running.count) running job(s)"
                                )
                                post(.graceOver, afterMs: graceMs)
                            }
                        }
                    case .flushed(let batch, let error):
                        finishing -= 1
                        guard let error else {
                            blocked = false
                            break
                        }
                        guard untilStopped, (error as? any OperatorFacingError)?.kind == .unavailable else {
                            failure = error
                            break loop
                        }
                        // The server is away: keep the finishes and try again (a lock that expires meanwhile makes
                        // the server refuse the job, which is then counted as lost).
                        pending += batch
                        blocked = true
                        backOff()
                    case .graceOver:
                        let left = running.values.map { (id: $0.job.id, token: $0.job.token) }
                        guard !left.isEmpty else { break }
                        do {
                            summary.serverCalls += 1
                            try await backend.handBack(queue: queue, left)
                            log(
                                "handed \(left.count) unfinished job(s) back to waiting: \(left.prefix(10).map(\.id).joined(separator: ", "))"
                            )
                        } catch {
                            log("could not hand back \(left.count) job(s) (\(error)); the stalled check will")
                        }
                        summary.handedBack += left.count
                        running.removeAll()
                        pending.removeAll()
                        break loop
                    }
                }
                if let every = progressEveryMs, currentTimeMs() - lastProgress.time >= every {
                    let rate =
                        Double(summary.completed - lastProgress.completed) * 1000
                        / Double(max(currentTimeMs() - lastProgress.time, 1))
                    log(
                        "\(queue): \(summary.completed) completed, \(summary.failed) failed, \(summary.retried) to retry, \(running.count) running (\(Int(rate)) jobs/s)"
                    )
                    lastProgress = (currentTimeMs(), summary.completed)
                }
            }
            group.cancelAll()
        }
        self.mailbox = nil
        summary.durationMs = currentTimeMs() - started
        if let failure { throw failure }
        return summary
    }

    private func checkStalled() async {
        do {
            summary.serverCalls += 1
            let rescued = try await backend.rescueStalled(
                queue: queue, maxStalledCount: settings.maxStalledCount, intervalMs: settings.stalledIntervalMs)
            if !rescued.isEmpty {
                log(
                    "moved \(rescued.count) stalled job(s) back to waiting: \(rescued.prefix(10).joined(separator: ", "))"
                )
            }
        } catch {
            log("stalled check failed: \(error)")
        }
    }

    /// Turns a handler's outcome into a finish, or nil for a job this worker no longer holds.
    private func settle(_ job: ClaimedJob, _ outcome: JobOutcome) -> Finish? {
        guard let entry = running.removeValue(forKey: job.id) else { return nil }
        summary.processed += 1
        if entry.lost || currentTimeMs() > entry.lockedUntil {
            // The schema on PostgreSQL checks only the token; an expired lock may already belong to another worker.
            summary.lost += 1
            log(
                "job \(job.id): its lock expired before the handler finished; left to the stalled check, not finished here"
            )
            return nil
        }
        return finish(for: job, outcome: outcome)
    }

    private func flush(_ finishes: [(job: ClaimedJob, finish: Finish)]) async throws {
        summary.serverCalls += 1
        let lost = try await backend.finish(queue: queue, finishes, metricsDataPoints: settings.metricsDataPoints)
        let lostIds = Set(lost.map(\.id))
        for (job, finish) in finishes where !lostIds.contains(job.id) {
            switch finish {
            case .complete: summary.completed += 1
            case .fail: summary.failed += 1
            case .retryNow, .retryLater: summary.retried += 1
            }
        }
        for job in lost {
            summary.lost += 1
            log("job \(job.id): not finished: \(job.reason)")
        }
    }

    private func renewLocks() async {
        let locks = running.values.filter { !$0.lost }.map { (id: $0.job.id, token: $0.job.token) }
        guard !locks.isEmpty else { return }
        let now = currentTimeMs()
        do {
            summary.serverCalls += 1
            let failed = Set(try await backend.extendLocks(queue: queue, locks, durationMs: settings.lockDurationMs))
            for (id, _) in locks {
                guard var entry = running[id] else { continue }
                if failed.contains(id) {
                    entry.lost = true
                    log("job \(id): its lock could not be renewed; it will not be finished by this worker")
                } else {
                    entry.lockedUntil = now + settings.lockDurationMs
                }
                running[id] = entry
            }
        } catch {
            log("renewing locks failed: \(error)")
        }
    }
}

/// Events from the handler tasks to the worker loop, taken all at once so that finishes batch up.
private actor Mailbox {
    enum Event: Sendable {
        case done(ClaimedJob, JobOutcome)
        /// A wait ended: a signal, a timeout, a rate limit or a back-off passed.
        case woke
        case stop
        case graceOver
        /// A batch of finishes went to the server (or failed to).
        case flushed([(job: ClaimedJob, finish: Finish)], (any Error)?)
    }

    private var buffered: [Event] = []
    private var waiter: CheckedContinuation<[Event], Never>?

    func post(_ event: Event) {
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: [event])
        } else {
            buffered.append(event)
        }
    }

    func takeAll() async -> [Event] {
        if !buffered.isEmpty {
            defer { buffered = [] }
            return buffered
        }
        return await withCheckedContinuation { waiter = $0 }
    }
}
