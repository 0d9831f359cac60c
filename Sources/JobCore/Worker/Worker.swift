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

    /// Creates job schedulers' next iterations, as BullMQ's worker does when it takes a scheduler's job: one answer
    /// per advance, in order. `now` is the time the advances were worked out at.
    func advanceSchedulers(
        queue: String, _ advances: [SchedulerAdvance], now: Int64
    ) async throws -> [SchedulerAdvanceResult]

    /// Renews the locks of running jobs; returns the ids whose lock could not be renewed.
    func extendLocks(queue: String, _ jobs: [(id: String, token: String)], durationMs: Int64) async throws -> [String]

    /// Moves active jobs whose lock expired back to waiting (BullMQ's stalled check); returns their ids.
    func rescueStalled(queue: String, maxStalledCount: Int, intervalMs: Int64) async throws -> [String]

    /// Waits (on a connection of its own) until the queue signals work — BullMQ's marker on Redis, a NOTIFY on
    /// `bullmq_jobs` with the queue's name on PostgreSQL — or `timeoutMs` passes; true when signalled. Cancelling the
    /// calling task ends the wait at once (with `CancellationError`).
    func waitForWork(queue: String, timeoutMs: Int64) async throws -> Bool

    /// Puts jobs this worker holds but will not finish back at the front of waiting, releasing their locks.
    func handBack(queue: String, _ jobs: [(id: String, token: String)]) async throws

    /// How an idle worker of `queue` learns of new work here; a long-running worker asks once, when it starts.
    func wakeUps(queue: String) async throws -> WakeUps

    /// One look for work while polling: whether a claim may find a job now (one cheap statement), with the stalled
    /// check in the same statement when `stalledCheck` is given.
    func poll(queue: String, stalledCheck: StalledCheck?) async throws -> PollResult
}

extension WorkerBackend {
    /// The server signals new work (`waitForWork`).
    public func wakeUps(queue: String) async throws -> WakeUps { .signalled(how: "the queue's signal") }

    /// Says "look": for backends that are never polled.
    public func poll(queue: String, stalledCheck: StalledCheck?) async throws -> PollResult {
        guard let stalledCheck else { return PollResult(mayHaveWork: true, rescued: []) }
        let rescued = try await rescueStalled(
            queue: queue, maxStalledCount: stalledCheck.maxStalledCount, intervalMs: stalledCheck.intervalMs)
        return PollResult(mayHaveWork: true, rescued: rescued)
    }
}

/// What a store did with a request for a scheduler's next iteration.
public enum SchedulerAdvanceResult: Sendable, Equatable {
    /// The next iteration is this job.
    case created(jobId: String)
    /// The taken job is not the scheduler's current iteration (a retry, a stalled re-claim, another worker was
    /// first), or the scheduler is gone: nothing to do.
    case notCurrent
    /// The next iteration's job exists already (BullMQ's `duplicated` event).
    case duplicated(jobId: String)
    /// A repeatable job of BullMQ 5 or older (no `ic` in its record): left alone, as BullMQ 6 does.
    case legacy
}

/// How an idle worker learns that there is work.
public enum WakeUps: Sendable, Equatable {
    /// The server signals it (the marker on Redis, a NOTIFY on PostgreSQL): the worker waits for the signal.
    case signalled(how: String)
    /// Nothing can signal (LISTEN through a transaction pooler): the worker looks, one statement at a time, every
    /// 100 ms at first, backing off to 2 s.
    case polled(why: String)
}

/// BullMQ's stalled check, as a poll may run it.
public struct StalledCheck: Sendable, Equatable {
    public var maxStalledCount: Int
    public var intervalMs: Int64

    public init(maxStalledCount: Int, intervalMs: Int64) {
        self.maxStalledCount = maxStalledCount
        self.intervalMs = intervalMs
    }
}

/// What a poll found.
public struct PollResult: Sendable, Equatable {
    /// A job is ready (or a delayed one due) and the queue is not paused.
    public var mayHaveWork: Bool
    /// The jobs the stalled check moved back to waiting, if it ran.
    public var rescued: [String]

    public init(mayHaveWork: Bool, rescued: [String]) {
        self.mayHaveWork = mayHaveWork
        self.rescued = rescued
    }
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
    /// Stop taking jobs after this many handler failures in a row, for a cool-down (`--breaker`).
    public var breaker: CircuitBreaker.Settings?

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
    /// How often the circuit breaker opened, and how long it was open in all.
    public var breakerOpenedTimes = 0
    public var breakerOpenMs: Int64 = 0
    /// Next iterations of job schedulers this run created.
    public var schedulerIterations = 0

    public init() {}
}

/// Runs a handler over the jobs of a queue: one engine for `run-once` and `run`, usable from Swift programs.
///
/// `runUntilIdle` processes every job that is ready (and every job that becomes ready while the others run),
/// then returns; `runUntilStopped` works until `stop()` or until the task running it is cancelled. The decisions
/// are `WorkerLoop`'s; the worker carries out its actions: claims, handler tasks, finishes beside the next claim,
/// waits, one timer renewing the locks of running jobs, and the stalled check.
public actor Worker {
    public typealias Handler = @Sendable (ClaimedJob) async -> JobOutcome

    private let backend: any WorkerBackend
    private let queue: String
    private let settings: WorkerSettings
    private let handler: Handler
    private let log: @Sendable (String) -> Void
    private let workerId = UUID().uuidString.lowercased().filter { $0 != "-" }
    private var tokenCounter = 0

    /// The decisions of the run under way.
    private var loop = WorkerLoop(mode: .untilIdle, settings: WorkerSettings(), now: 0)
    private var serverCalls = 0
    private var schedulerIterations = SchedulerIterations()
    private var iterationsCreated = 0
    /// Schedulers already reported as legacy this run.
    private var legacySchedulers: Set<String> = []
    private var mailbox: Mailbox?
    private var stopRequested = false
    /// A poll is waiting to run: a stalled check due meanwhile goes with it (one statement, not two).
    private var pollPending = false
    private var stalledCheckDue = false

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
        try await runStoppingOnCancel(.untilIdle, graceMs: 0, progressEveryMs: nil)
    }

    /// Processes jobs until `stop()` (or the cancellation of the calling task).
    ///
    /// Then it takes no new job, lets the running ones finish within `graceMs`, and hands the rest back to waiting.
    /// Waits for work without polling; a lost connection is retried with back-off.
    public func runUntilStopped(graceMs: Int64, progressEveryMs: Int64? = nil) async throws -> WorkerSummary {
        try await runStoppingOnCancel(.untilStopped, graceMs: graceMs, progressEveryMs: progressEveryMs)
    }

    /// Runs in a task of its own, awaited here, so that cancelling the caller does not cancel the handlers at
    /// once: it stops the run as SIGTERM does (grace, then hand-back), and the run still ends before this returns.
    private func runStoppingOnCancel(
        _ mode: WorkerLoop.Mode, graceMs: Int64, progressEveryMs: Int64?
    ) async throws
        -> WorkerSummary
    {
        let run = Task { try await self.process(mode, graceMs: graceMs, progressEveryMs: progressEveryMs) }
        return try await withTaskCancellationHandler {
            try await run.value
        } onCancel: {
            stop()
        }
    }

    /// Asks a run to stop; callable from anywhere (a signal handler's queue, say).
    public nonisolated func stop() {
        Task { await self.requestStop() }
    }

    private func requestStop() async {
        stopRequested = true
        await mailbox?.post(.stop)
    }

    private func process(_ mode: WorkerLoop.Mode, graceMs: Int64, progressEveryMs: Int64?) async throws -> WorkerSummary
    {
        let started = currentTimeMs()
        let mailbox = Mailbox()
        self.mailbox = mailbox
        serverCalls = 0
        iterationsCreated = 0
        loop = WorkerLoop(mode: mode, settings: settings, graceMs: graceMs, now: started)
        defer {
            self.mailbox = nil
            stopRequested = false  // a stop ends this run, not the next
        }
        if mode == .untilStopped {
            // Workers started together (a deploy) do not all hit the server in the same millisecond.
            try? await Task.sleep(nanoseconds: UInt64.random(in: 0...200_000_000))
        }
        // First hand back what dead workers left behind (throttled across workers by the backend).
        await checkStalled()
        if mode == .untilStopped {
            switch await wakeUps() {
            case .signalled(let how): log("wake-ups: \(how)")
            case .polled(let why):
                loop.polling = true
                log(
                    "wake-ups: polling, every \(WorkerLoop.firstPollMs) ms backing off to "
                        + "\(DurationText.describe(milliseconds: WorkerLoop.longestPollMs)) while idle: \(why)")
            }
        }

        var failure: (any Error)?
        var lastProgress = (time: started, completed: 0)
        await withDiscardingTaskGroup { group in
            startTimers(in: &group, mode: mode)
            run: while true {
                // A stop asked for while claims keep coming back full is seen before the next claim.
                if stopRequested && !loop.isStopping {
                    if await perform(loop.stopRequested(), in: &group, mailbox: mailbox, failure: &failure) {
                        break run
                    }
                }
                let actions = loop.next(now: currentTimeMs())
                if await perform(actions, in: &group, mailbox: mailbox, failure: &failure) { break run }
                if actions.contains(where: \.isClaim) { continue }
                // Nothing to do before an event: a job done, a flush answered, a wait over, a stop.
                for event in await mailbox.takeAll() {
                    let actions = feed(event, failure: &failure)
                    if await perform(actions, in: &group, mailbox: mailbox, failure: &failure) { break run }
                }
                if let every = progressEveryMs, currentTimeMs() - lastProgress.time >= every {
                    let summary = loop.summary
                    let elapsed = max(currentTimeMs() - lastProgress.time, 1)
                    let rate = Double(summary.completed - lastProgress.completed) * 1000 / Double(elapsed)
                    log(
                        "\(queue): \(summary.completed) completed, \(summary.failed) failed, \(summary.retried) to "
                            + "retry, \(loop.runningCount) running (\(Int(rate)) jobs/s)")
                    lastProgress = (currentTimeMs(), summary.completed)
                }
            }
            group.cancelAll()
        }
        var summary = loop.summary(now: currentTimeMs())
        summary.serverCalls = serverCalls
        summary.schedulerIterations = iterationsCreated
        summary.durationMs = currentTimeMs() - started
        if let failure { throw failure }
        return summary
    }

    /// The lock renewal timer, and the stalled check of a long-running worker.
    private func startTimers(in group: inout DiscardingTaskGroup, mode: WorkerLoop.Mode) {
        let renewEvery = settings.lockRenewMs ?? settings.lockDurationMs / 2
        group.addTask {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(max(renewEvery, 10)) * 1_000_000)
                if Task.isCancelled { break }
                await self.renewLocks()
            }
        }
        guard mode == .untilStopped else { return }
        let interval = settings.stalledIntervalMs
        group.addTask {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(max(interval, 100)) * 1_000_000)
                if Task.isCancelled { break }
                await self.stalledCheckTimeCame()
            }
        }
    }

    /// An event, told to the loop; what it answers.
    private func feed(_ event: Mailbox.Event, failure: inout (any Error)?) -> [WorkerLoop.Action] {
        let now = currentTimeMs()
        switch event {
        case .done(let job, let outcome): return loop.jobDone(job, outcome: outcome, now: now)
        case .woke: return loop.woke()
        case .polled(let mayHaveWork): return loop.polled(mayHaveWork: mayHaveWork, now: now)
        case .stop: return loop.stopRequested()
        case .graceOver: return loop.graceOver()
        case .flushed(let batch, let lost): return loop.flushed(batch, lost: lost)
        case .flushFailed(let batch, let error):
            let actions = loop.flushFailed(batch, serverAway: (error as? any OperatorFacingError)?.kind == .unavailable)
            if actions.contains(.end) { failure = error }
            return actions
        }
    }

    /// Carries out the loop's actions.
    ///
    /// A claim is awaited here and its answer carried out next; the other calls answer later, as events. True when the
    /// run is over.
    private func perform(
        _ actions: [WorkerLoop.Action], in group: inout DiscardingTaskGroup, mailbox: Mailbox,
        failure: inout (any Error)?
    ) async -> Bool {
        var work = actions[...]
        while let action = work.popFirst() {
            switch action {
            case .claim(let count):
                let tokens = (0..<count).map { _ in nextToken() }
                serverCalls += 1
                do {
                    let result = try await backend.claim(
                        queue: queue, tokens: tokens, lockDurationMs: settings.lockDurationMs, limiter: settings.limiter
                    )
                    // Locks run from the claim, whatever the advance below takes.
                    let claimedAt = currentTimeMs()
                    await advanceSchedulers(of: result.jobs, claimedAt: claimedAt)
                    work += loop.claimed(result, now: claimedAt)
                } catch {
                    let serverAway = (error as? any OperatorFacingError)?.kind == .unavailable
                    let answer = loop.claimFailed(serverAway: serverAway, description: "\(error)", now: currentTimeMs())
                    if answer.contains(.end) { failure = error }
                    work += answer
                }
            case .startHandler(let job):
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
            case .flush(let batch):
                serverCalls += 1
                let (backend, queue, points) = (backend, queue, settings.metricsDataPoints)
                group.addTask {
                    do {
                        let lost = try await backend.finish(
                            queue: queue, batch.map { ($0.job, $0.finish) }, metricsDataPoints: points)
                        await mailbox.post(.flushed(batch, lost))
                    } catch {
                        await mailbox.post(.flushFailed(batch, error))
                    }
                }
            case .wake(let ms):
                post(.woke, afterMs: ms, in: &group, mailbox: mailbox)
            case .startGrace(let ms):
                post(.graceOver, afterMs: ms, in: &group, mailbox: mailbox)
            case .waitForWork(let timeoutMs):
                serverCalls += 1
                let (backend, queue) = (backend, queue)
                // A child task: the end of the run cancels it, which interrupts the backend's blocking wait.
                group.addTask {
                    do {
                        _ = try await backend.waitForWork(queue: queue, timeoutMs: timeoutMs)
                    } catch {
                        if Task.isCancelled { return }
                        try? await Task.sleep(nanoseconds: UInt64(min(timeoutMs, 5000)) * 1_000_000)
                    }
                    if Task.isCancelled { return }
                    await mailbox.post(.woke)
                }
            case .poll(let ms):
                pollPending = true
                group.addTask {
                    try? await Task.sleep(nanoseconds: UInt64(max(ms, 0)) * 1_000_000)
                    if Task.isCancelled { return }
                    let mayHaveWork = await self.pollForWork()
                    if Task.isCancelled { return }
                    await mailbox.post(.polled(mayHaveWork))
                }
            case .handBack(let locks):
                await handBack(locks)
            case .log(let message):
                log(message)
            case .end:
                return true
            }
        }
        return false
    }

    /// Posts `event` after a pause (a rate limit, a back-off, the grace of a stop).
    private func post(_ event: Mailbox.Event, afterMs ms: Int64, in group: inout DiscardingTaskGroup, mailbox: Mailbox)
    {
        group.addTask {
            try? await Task.sleep(nanoseconds: UInt64(max(ms, 0)) * 1_000_000)
            if Task.isCancelled { return }
            await mailbox.post(event)
        }
    }

    private func handBack(_ locks: [WorkerLoop.JobLock]) async {
        do {
            serverCalls += 1
            try await backend.handBack(queue: queue, locks.map { (id: $0.id, token: $0.token) })
            log(
                "handed \(locks.count) unfinished job(s) back to waiting: "
                    + "\(locks.prefix(10).map(\.id).joined(separator: ", "))"
            )
        } catch {
            log("could not hand back \(locks.count) job(s) (\(error)); the stalled check will")
        }
    }

    /// How this worker hears of work; a backend that cannot say is polled (that works everywhere).
    private func wakeUps() async -> WakeUps {
        do {
            serverCalls += 1
            return try await backend.wakeUps(queue: queue)
        } catch {
            return .polled(why: "checking how the server signals work failed (\(error))")
        }
    }

    /// Creates the next iteration of every scheduler whose job was just taken, before its handler starts.
    ///
    /// As BullMQ's worker does. A failure is logged and the jobs run anyway; a lost server is tried again (the
    /// store's producer guard makes that safe) while a quarter of the lock duration has not passed, since nothing
    /// renews the new jobs' locks until their handlers start.
    private func advanceSchedulers(of jobs: [ClaimedJob], claimedAt: Int64) async {
        let now = claimedAt
        var advances: [SchedulerAdvance] = []
        for job in jobs {
            switch schedulerIterations.step(for: job, now: now) {
            case nil: continue
            case .advance(let advance): advances.append(advance)
            case .finished(let reason):
                log("job scheduler \(job.schedulerId ?? ""): job \(job.id) is its last iteration: \(reason)")
            case .invalid(let reason):
                log("job scheduler \(job.schedulerId ?? ""): no next iteration after job \(job.id): \(reason)")
            }
        }
        guard !advances.isEmpty else { return }
        for attempt in 1...3 {
            serverCalls += 1
            do {
                let results = try await backend.advanceSchedulers(queue: queue, advances, now: now)
                for (advance, result) in zip(advances, results) {
                    switch result {
                    case .created: iterationsCreated += 1
                    case .notCurrent: break
                    case .duplicated(let id):
                        log("job scheduler \(advance.schedulerId): its next job \(id) exists already (duplicated)")
                    case .legacy:
                        if legacySchedulers.insert(advance.schedulerId).inserted {
                            log(
                                "job \(advance.producerId) comes from a repeatable job of BullMQ 5 or older "
                                    + "(\(advance.schedulerId)): jobctl runs it but does not repeat it, as BullMQ 6 "
                                    + "does not; re-create it as a job scheduler (jobctl schedule)")
                        }
                    }
                }
                return
            } catch {
                let serverAway = (error as? any OperatorFacingError)?.kind == .unavailable
                let timeLeft = currentTimeMs() - claimedAt < settings.lockDurationMs / 4
                guard serverAway, attempt < 3, timeLeft else {
                    let ids = advances.map(\.schedulerId).joined(separator: ", ")
                    log("could not create the next iteration of job scheduler(s) \(ids): \(error); the jobs run anyway")
                    return
                }
                try? await Task.sleep(nanoseconds: UInt64(attempt) * 200_000_000)
            }
        }
    }

    /// One poll; an error says "look" (the claim then meets it, and its handling applies).
    private func pollForWork() async -> Bool {
        pollPending = false
        let check =
            stalledCheckDue
            ? StalledCheck(maxStalledCount: settings.maxStalledCount, intervalMs: settings.stalledIntervalMs) : nil
        stalledCheckDue = false
        do {
            serverCalls += 1
            let result = try await backend.poll(queue: queue, stalledCheck: check)
            reportRescued(result.rescued)
            return result.mayHaveWork || !result.rescued.isEmpty
        } catch {
            return true
        }
    }

    /// While a poll waits to run, the stalled check goes with it; otherwise it runs now.
    private func stalledCheckTimeCame() async {
        if pollPending {
            stalledCheckDue = true
        } else {
            await checkStalled()
        }
    }

    private func reportRescued(_ rescued: [String]) {
        guard !rescued.isEmpty else { return }
        log("moved \(rescued.count) stalled job(s) back to waiting: \(rescued.prefix(10).joined(separator: ", "))")
    }

    private func checkStalled() async {
        do {
            serverCalls += 1
            reportRescued(
                try await backend.rescueStalled(
                    queue: queue, maxStalledCount: settings.maxStalledCount, intervalMs: settings.stalledIntervalMs))
        } catch {
            log("stalled check failed: \(error)")
        }
    }

    private func renewLocks() async {
        let locks = loop.locksToRenew()
        guard !locks.isEmpty else { return }
        let now = currentTimeMs()
        do {
            serverCalls += 1
            let failed = try await backend.extendLocks(
                queue: queue, locks.map { (id: $0.id, token: $0.token) }, durationMs: settings.lockDurationMs)
            for action in loop.locksRenewed(locks, failed: Set(failed), now: now) {
                if case .log(let message) = action { log(message) }
            }
        } catch {
            log("renewing locks failed: \(error)")
        }
    }
}

/// Events from the handler tasks and timers to the worker, taken all at once so that finishes batch up.
private actor Mailbox {
    enum Event: Sendable {
        case done(ClaimedJob, JobOutcome)
        /// A wait ended: a signal, a timeout, a rate limit or a back-off passed.
        case woke
        /// A poll came back.
        case polled(Bool)
        case stop
        case graceOver
        /// A batch of finishes went to the server (the jobs it refused: lost), or failed to.
        case flushed([WorkerLoop.JobFinish], [LostJob])
        case flushFailed([WorkerLoop.JobFinish], any Error)
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
