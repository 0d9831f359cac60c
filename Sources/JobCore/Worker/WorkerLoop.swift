/// The decisions of a worker run, as a value: events in, actions out.
///
/// `Worker` carries out the actions (claims, handler tasks, finishes, timers, hand-backs) and reports what came of
/// them as events; every rule — when to claim and how many, how long to wait and why, the grace of a stop, locks
/// that were lost, finishes kept while the server is away — lives here, where tests drive it with their own clock.
public struct WorkerLoop: Sendable {
    /// How a run ends.
    public enum Mode: Sendable {
        /// `run-once`: stop when nothing is ready, the queue is paused or a limit of the run is reached.
        case untilIdle
        /// `run`: wait for work until a stop is asked for; a server that goes away is waited for.
        case untilStopped
    }

    /// Something for the worker to do.
    public enum Action: Sendable, Equatable {
        /// Claim up to this many jobs in one round trip; answer with `claimed` or `claimFailed`.
        case claim(Int)
        /// Run the handler on a claimed job; answer with `jobDone`.
        case startHandler(ClaimedJob)
        /// Send these finishes in one round trip, beside the next claim; answer with `flushed` or `flushFailed`.
        case flush([JobFinish])
        /// Answer with `woke` after this many ms (a rate limit, a global concurrency, a back-off).
        case wake(afterMs: Int64)
        /// Wait for the queue's signal of new work, at most this many ms; answer with `woke`.
        case waitForWork(timeoutMs: Int64)
        /// Look for work after this many ms (one statement; polling only); answer with `polled`.
        case poll(afterMs: Int64)
        /// Answer with `graceOver` after this many ms: running jobs may finish until then.
        case startGrace(ms: Int64)
        /// Put these jobs back at the front of waiting (their handlers are abandoned).
        case handBack([JobLock])
        case log(String)
        /// The run is over; a worker that caught an error ends with it.
        case end

        public var isClaim: Bool {
            if case .claim = self { return true }
            return false
        }
    }

    /// A job and the finish its outcome earned.
    public struct JobFinish: Sendable, Equatable {
        public var job: ClaimedJob
        public var finish: Finish

        public init(job: ClaimedJob, finish: Finish) {
            self.job = job
            self.finish = finish
        }
    }

    /// A job's id and the token it is locked with.
    public struct JobLock: Sendable, Equatable, Hashable {
        public var id: String
        public var token: String

        public init(id: String, token: String) {
            self.id = id
            self.token = token
        }
    }

    /// The waits the README states: an idle worker looks again after 5 s, doubling to 60 s; at the global
    /// concurrency after 100 ms, doubling to 5 s; a server that is away after 500 ms, doubling to 30 s; a rate
    /// limit when it allows the next job, at most 30 s later.
    public static let firstIdleWaitMs: Int64 = 5000
    public static let longestIdleWaitMs: Int64 = 60_000
    static let firstMaxedWaitMs: Int64 = 100
    static let longestMaxedWaitMs: Int64 = 5000
    static let firstRetryDelayMs: Int64 = 500
    static let longestRetryDelayMs: Int64 = 30_000
    static let longestRateLimitWaitMs: Int64 = 30_000
    /// Polling (where nothing can signal work): after 100 ms, doubling to 2 s while idle.
    public static let firstPollMs: Int64 = 100
    public static let longestPollMs: Int64 = 2000

    /// Whether work is signalled or must be looked for; set before the run starts.
    public var polling = false

    public let mode: Mode
    let settings: WorkerSettings
    let graceMs: Int64
    let started: Int64

    /// Jobs claimed and not yet settled, by id.
    private var running: [String: RunningJob] = [:]
    private var claimedCount = 0
    /// Finishes waiting to be sent.
    private var pending: [JobFinish] = []
    /// Flushes sent and not yet answered.
    private var finishing = 0
    /// No more claims: nothing was ready (run-once), the queue is paused (run-once), a limit of the run was
    /// reached, or a stop was asked for.
    private var exhausted = false
    /// The last claim found nothing to take, or the server is away: wait for an event first.
    private var blocked = false
    /// A wait for the queue's signal is in flight (one at a time).
    private var waiting = false
    private var stopping = false
    /// The server went away: neither claims nor finishes go out until the back-off's `woke`.
    private var retryPending = false
    private var graceStarted = false
    /// The grace of a stop ran out: what is still running was handed back.
    private var graceExpired = false
    private var idleWaitMs = firstIdleWaitMs
    private var pollMs = firstPollMs
    /// When the next delayed job is due, as the last claim that found nothing said; polls come no later.
    private var nextDelayedAt: Int64?
    private var maxedWaitMs = firstMaxedWaitMs
    private var retryDelayMs = firstRetryDelayMs
    private var unreachableSince: Int64?
    private var breaker: CircuitBreaker?
    /// A wake for the end of the breaker's cool-down is on its way.
    private var breakerWakePending = false
    public private(set) var summary = WorkerSummary()

    /// The run's summary, with the time the circuit breaker has been open until `now`.
    public func summary(now: Int64) -> WorkerSummary {
        var summary = summary
        summary.breakerOpenedTimes = breaker?.timesOpened ?? 0
        summary.breakerOpenMs = breaker?.totalOpenMs(now: now) ?? 0
        return summary
    }

    private struct RunningJob: Sendable {
        var job: ClaimedJob
        /// When this worker's lock runs out unless renewed (by its own clock).
        var lockedUntil: Int64
        var lost = false
    }

    public init(mode: Mode, settings: WorkerSettings, graceMs: Int64 = 30_000, now: Int64) {
        self.mode = mode
        self.settings = settings
        self.graceMs = graceMs
        self.started = now
        self.breaker = settings.breaker.map(CircuitBreaker.init)
    }

    public var runningCount: Int { running.count }
    public var isStopping: Bool { stopping }

    /// What to do next: flush what is pending, then claim while slots are free; `end` once nothing is left to do;
    /// nothing when the worker must wait for an event.
    public mutating func next(now: Int64) -> [Action] {
        var actions: [Action] = []
        if !pending.isEmpty && !retryPending {
            // Finishing runs beside the next claim, so that the server works on both at once.
            actions.append(.flush(pending))
            pending = []
            finishing += 1
        }
        if let maxJobs = settings.maxJobs, claimedCount >= maxJobs { exhausted = true }
        if let maxRuntimeMs = settings.maxRuntimeMs, now - started >= maxRuntimeMs { exhausted = true }
        let free = settings.concurrency - running.count
        let admitted = breaker?.admits(now: now) ?? Int.max
        if !exhausted && !blocked && !retryPending && free > 0 && admitted > 0 {
            var want = min(free, settings.claimBatch, admitted)
            if let maxJobs = settings.maxJobs { want = min(want, maxJobs - claimedCount) }
            actions.append(.claim(want))
        } else if running.isEmpty && pending.isEmpty && finishing == 0 && exhausted {
            actions.append(.end)
        } else if !exhausted, !breakerWakePending, let reopens = breaker?.reopensAt {
            // The breaker is open: look again when its cool-down is over.
            breakerWakePending = true
            actions.append(.wake(afterMs: max(reopens - now, 1)))
        }
        return actions
    }

    /// A claim came back: its jobs start; when it took fewer than asked, the reason decides the wait.
    public mutating func claimed(_ result: ClaimResult, now: Int64) -> [Action] {
        var actions: [Action] = []
        if let since = unreachableSince {
            actions.append(
                .log("connection to the server is back after \(DurationText.describe(milliseconds: now - since))"))
            unreachableSince = nil
            retryDelayMs = Self.firstRetryDelayMs
        }
        for job in result.jobs {
            running[job.id] = RunningJob(job: job, lockedUntil: now + settings.lockDurationMs)
            breaker?.jobTaken()
            claimedCount += 1
            actions.append(.startHandler(job))
        }
        if !result.jobs.isEmpty {
            idleWaitMs = Self.firstIdleWaitMs
            pollMs = Self.firstPollMs
            maxedWaitMs = Self.firstMaxedWaitMs
            // Jobs of a claim that was under way when the stop came run within the same grace.
            if stopping { actions += startGrace() }
        }
        switch (result.wait, mode) {
        case (nil, _):
            break
        case (.rateLimited(let ms), _):
            blocked = true
            actions.append(.wake(afterMs: min(max(ms, 1), Self.longestRateLimitWaitMs)))
        case (.paused, .untilIdle):
            summary.sawPause = true
            exhausted = true
        case (.paused, .untilStopped) where polling:
            blocked = true
            actions += poll(afterMs: Self.longestPollMs)
        case (.paused, .untilStopped):
            blocked = true
            actions += waitForWork(timeoutMs: Self.longestIdleWaitMs)
        case (.maxed, .untilStopped):
            // Finishing jobs sends no signal: look again after a growing pause.
            blocked = true
            actions.append(.wake(afterMs: maxedWaitMs))
            maxedWaitMs = min(maxedWaitMs * 2, Self.longestMaxedWaitMs)
        case (.empty(let nextDelayedAt), .untilStopped) where polling:
            blocked = true
            self.nextDelayedAt = nextDelayedAt
            actions += nextPoll(now: now)
        case (.empty(let nextDelayedAt), .untilStopped):
            blocked = true
            var timeout = idleWaitMs
            if let nextDelayedAt { timeout = min(timeout, max(nextDelayedAt - now, 1)) }
            idleWaitMs = min(idleWaitMs * 2, Self.longestIdleWaitMs)
            actions += waitForWork(timeoutMs: timeout)
        case (.empty, .untilIdle), (.maxed, .untilIdle):
            // Jobs still running or being finished may put retries back (no backoff): look again when one is done.
            if running.isEmpty && finishing == 0 { exhausted = true } else { blocked = true }
        }
        return actions
    }

    /// A claim failed.
    ///
    /// A server that is away is waited for by a long-running worker; anything else ends the run.
    public mutating func claimFailed(serverAway: Bool, description: String, now: Int64) -> [Action] {
        guard mode == .untilStopped, serverAway else { return [.end] }
        var actions: [Action] = []
        if unreachableSince == nil {
            unreachableSince = now
            actions.append(.log("lost the server (\(description)); retrying with back-off"))
        }
        blocked = true
        retryPending = true
        actions.append(backOff())
        return actions
    }

    /// A handler is done: the job's finish is queued, unless this worker no longer holds the job (its lock was
    /// lost or ran out), which is then left to the stalled check and counted as lost.
    public mutating func jobDone(_ job: ClaimedJob, outcome: JobOutcome, now: Int64) -> [Action] {
        blocked = false
        guard let entry = running.removeValue(forKey: job.id) else { return [] }
        summary.processed += 1
        var actions: [Action] = []
        if case .completed = outcome {
            if let change = breaker?.handlerFinished(succeeded: true, now: now) { actions.append(.log(change)) }
        } else if let change = breaker?.handlerFinished(succeeded: false, now: now) {
            actions.append(.log(change))
        }
        if entry.lost || now > entry.lockedUntil {
            // The schema on PostgreSQL checks only the token; an expired lock may already belong to another worker.
            summary.lost += 1
            return actions + [
                .log(
                    "job \(job.id): its lock expired before the handler finished; left to the stalled check, not "
                        + "finished here"
                )
            ]
        }
        pending.append(JobFinish(job: job, finish: finish(for: job, outcome: outcome)))
        return actions
    }

    /// A flush was answered: the jobs the server refused (their lock was gone) are lost, the rest counted.
    public mutating func flushed(_ batch: [JobFinish], lost: [LostJob]) -> [Action] {
        finishing -= 1
        blocked = false
        let lostIds = Set(lost.map(\.id))
        for entry in batch where !lostIds.contains(entry.job.id) {
            switch entry.finish {
            case .complete: summary.completed += 1
            case .fail: summary.failed += 1
            case .retryNow, .retryLater: summary.retried += 1
            }
        }
        summary.lost += lost.count
        return lost.map { .log("job \($0.id): not finished: \($0.reason)") }
    }

    /// A flush failed.
    ///
    /// While the server is away a long-running worker keeps the finishes and sends them again (a lock that expires
    /// meanwhile makes the server refuse that job, which is then counted as lost).
    public mutating func flushFailed(_ batch: [JobFinish], serverAway: Bool) -> [Action] {
        finishing -= 1
        guard mode == .untilStopped, serverAway, !graceExpired else { return [.end] }
        pending += batch
        blocked = true
        retryPending = true
        return [backOff()]
    }

    /// A wait ended (a signal, a timeout, a rate limit or a back-off passed): look again.
    public mutating func woke() -> [Action] {
        blocked = false
        waiting = false
        retryPending = false
        breakerWakePending = false
        return []
    }

    /// A poll came back: claim when it found work, else look again after a longer pause.
    public mutating func polled(mayHaveWork: Bool, now: Int64) -> [Action] {
        waiting = false
        guard !mayHaveWork else {
            blocked = false
            return []
        }
        return nextPoll(now: now)
    }

    /// The next poll: after the back-off, or when the next delayed job is due if that comes first.
    private mutating func nextPoll(now: Int64) -> [Action] {
        var after = pollMs
        if let due = nextDelayedAt {
            if due > now { after = min(after, due - now) } else { nextDelayedAt = nil }
        }
        pollMs = min(pollMs * 2, Self.longestPollMs)
        return poll(afterMs: after)
    }

    private mutating func poll(afterMs: Int64) -> [Action] {
        guard !waiting else { return [] }
        waiting = true
        return [.poll(afterMs: afterMs)]
    }

    /// Take no new job; running jobs get the grace period to finish.
    public mutating func stopRequested() -> [Action] {
        guard !stopping else { return [] }
        stopping = true
        guard !exhausted else { return [] }
        exhausted = true
        return startGrace()
    }

    private mutating func startGrace() -> [Action] {
        guard !graceStarted, !running.isEmpty else { return [] }
        graceStarted = true
        let grace = DurationText.describe(milliseconds: graceMs)
        return [.log("stopping: waiting up to \(grace) for \(running.count) running job(s)"), .startGrace(ms: graceMs)]
    }

    /// The grace period ran out: the jobs still running go back to waiting (their handlers are abandoned).
    ///
    /// The finishes of the jobs done are still sent, once, before the run ends.
    public mutating func graceOver() -> [Action] {
        graceExpired = true
        let left = running.values.map { JobLock(id: $0.job.id, token: $0.job.token) }.sorted { $0.id < $1.id }
        guard !left.isEmpty else { return [] }
        summary.handedBack += left.count
        running.removeAll()
        return [.handBack(left)]
    }

    /// The locks to renew now: every running job's that is not lost.
    public func locksToRenew() -> [JobLock] {
        running.values.filter { !$0.lost }.map { JobLock(id: $0.job.id, token: $0.job.token) }.sorted { $0.id < $1.id }
    }

    /// Locks were renewed at `now`, except `failed`: those jobs are lost to this worker and will not be finished.
    public mutating func locksRenewed(_ locks: [JobLock], failed: Set<String>, now: Int64) -> [Action] {
        var actions: [Action] = []
        for lock in locks {
            guard var entry = running[lock.id] else { continue }
            if failed.contains(lock.id) {
                entry.lost = true
                actions.append(
                    .log("job \(lock.id): its lock could not be renewed; it will not be finished by this worker"))
            } else {
                entry.lockedUntil = now + settings.lockDurationMs
            }
            running[lock.id] = entry
        }
        return actions
    }

    private mutating func waitForWork(timeoutMs: Int64) -> [Action] {
        guard !waiting else { return [] }
        waiting = true
        return [.waitForWork(timeoutMs: timeoutMs)]
    }

    /// The server is away: look again after a pause that doubles up to 30 s.
    private mutating func backOff() -> Action {
        defer { retryDelayMs = min(retryDelayMs * 2, Self.longestRetryDelayMs) }
        return .wake(afterMs: retryDelayMs)
    }
}
