/// Changes to BullMQ queues, made the way BullMQ itself makes them (Redis: jobctl's scripts written from BullMQ's
/// layout; PostgreSQL: the schema's own functions).
///
/// Every call handles one bounded batch, atomically: a batch is done entirely or not at all, so stopping between
/// batches leaves every job in a consistent state.
public protocol QueueController: QueueInspector {
    /// The most jobs one call is given: on Redis one script run (kept well under 10 ms), on PostgreSQL one
    /// transaction.
    var batchSize: Int { get }

    /// Ids of the jobs in a state, in listing order (finished jobs newest first, delayed ones soonest first), read
    /// without the jobs themselves; with `times`, only jobs whose finish time (or due time) is in that range.
    func jobIds(in queue: String, state: TimedState, times: Range<Int64>?) async throws -> [String]

    /// How many jobs of a state have their finish time (or due time) in `times`, and the latest such time.
    func jobSpan(in queue: String, state: TimedState, times: Range<Int64>) async throws -> JobSpan

    /// The most jobs one `retryNewest` call is given.
    var windowBatchSize: Int { get }

    /// The most jobs one `drain` or `clean` call deletes.
    var deleteBatchSize: Int { get }

    /// Retries up to `limit` jobs of a finished state whose finish time is in `times`, the most recently finished
    /// first, past the first `skipping` of them (jobs earlier calls left in place): the server picks the jobs,
    /// so that retrying a whole state sends no ids. Otherwise as `retry`.
    func retryNewest(
        _ limit: Int, of state: FinishedState, finishedIn times: Range<Int64>, skipping: Int, in queue: String,
        resetAttempts: Bool, note: OperatorNote?
    ) async throws -> WindowOutcome

    /// Moves failed (or completed) jobs back to waiting, as BullMQ's `Job.retry` does: priority and the queue's
    /// pause are respected, the `waiting` event is published and idle workers are woken. Attempt counters are
    /// kept unless `resetAttempts`.
    /// With a `note`, each job moved gets its line in its log, in the same batch.
    func retry(
        _ ids: [String], in queue: String, from state: FinishedState, resetAttempts: Bool, note: OperatorNote?
    ) async throws -> BatchOutcome

    /// Moves delayed jobs to waiting (or prioritized) now, as BullMQ's `Job.promote` does; with a `note`, each job
    /// moved gets its line in its log, in the same batch.
    func promote(_ ids: [String], in queue: String, note: OperatorNote?) async throws -> BatchOutcome

    /// Removes jobs with their logs and children, as BullMQ's `Queue.remove` does. A job whose lock is held (or
    /// with a locked child) is skipped unless `force`.
    func remove(_ ids: [String], in queue: String, force: Bool) async throws -> BatchOutcome

    /// Deletes up to `limit` jobs of one ready state, never active ones
    /// and never the next job of a job scheduler, the oldest first; returns how many went. `skipping` is the
    /// number of jobs earlier batches of the same run left in place.
    func drain(_ state: ReadyState, in queue: String, limit: Int, skipping: Int) async throws -> DrainOutcome

    /// Deletes up to `limit` completed or failed jobs that finished at or before `finishedBefore` (ms since the
    /// epoch), as BullMQ's `Queue.clean` does; returns how many went.
    func clean(_ state: FinishedState, in queue: String, finishedBefore: Int64, limit: Int) async throws -> Int

    /// Pauses or resumes a queue, as BullMQ's `Queue.pause` / `Queue.resume` do.
    func setPaused(_ paused: Bool, queue: String) async throws

    /// Stores the queue's global concurrency (meta `concurrency`), as BullMQ's Queue.setGlobalConcurrency.
    func setGlobalConcurrency(_ concurrency: Int64, queue: String) async throws

    /// Stores the queue's global rate limit (meta `max` and `duration`), as BullMQ's Queue.setGlobalRateLimit.
    func setGlobalRateLimit(_ limit: RateLimit, queue: String) async throws

    /// Adds jobs, as BullMQ's `Queue.add` does for each, in order; with a `note`, each new job's log starts with its
    /// line, in the same batch.
    func add(_ jobs: [NewJob], to queue: String, note: OperatorNote?) async throws -> [AddedJob]

    /// Creates or changes a job scheduler and replaces its pending job, as BullMQ's `Queue.upsertJobScheduler`
    /// does; returns the pending job and its delay. Throws `SchedulerSlotError` when the job's id is taken.
    func upsertScheduler(
        _ spec: SchedulerSpec, in queue: String, now: Int64
    ) async throws -> (jobId: String, delayMs: Int64)

    /// Removes job schedulers with their pending delayed jobs, as BullMQ's `Queue.removeJobScheduler` does.
    func removeSchedulers(_ ids: [String], in queue: String) async throws -> [SchedulerRemoval]

    /// Writes one command's record among the queue's events, under a name BullMQ does not use
    /// (`TrailRecord.eventName`), so that BullMQ's event readers see it and pass it by.
    func recordTrail(_ record: TrailRecord) async throws
}

/// What removing one job scheduler did.
public enum SchedulerRemoval: Sendable, Equatable {
    case removed
    /// Removed, but its next job had already left delayed (waiting, running): that job stays and runs once more.
    case removedNextJobLeft
    case notFound
}

/// BullMQ's scheduler errors -10 and -11: the pending job's id is taken by another job.
///
/// Nothing was changed.
public struct SchedulerSlotError: OperatorFacingError, Equatable {
    public enum Reason: Sendable, Equatable {
        /// -10: the job for a cron pattern's next time exists already.
        case nextJobExists
        /// -11: the jobs for 32 `every` slots in a row exist already.
        case slotsTaken
    }

    public var schedulerId: String
    public var reason: Reason

    public init(schedulerId: String, reason: Reason) {
        self.schedulerId = schedulerId
        self.reason = reason
    }

    /// From BullMQ's code, -10 or -11.
    public init?(schedulerId: String, code: Int) {
        switch code {
        case -10: self.init(schedulerId: schedulerId, reason: .nextJobExists)
        case -11: self.init(schedulerId: schedulerId, reason: .slotsTaken)
        default: return nil
        }
    }

    public var kind: FailureKind { .failure }
    public var description: String {
        switch reason {
        case .slotsTaken:
            "job scheduler '\(schedulerId)': its next 32 slots are taken by other jobs (BullMQ's -11); nothing changed"
        case .nextJobExists:
            "job scheduler '\(schedulerId)': the job for its next time exists already (BullMQ's -10); nothing changed"
        }
    }
    public var hints: [String] {
        ["look at the job with jobctl show, remove it (jobctl remove) or pick another scheduler id"]
    }
}

/// Everything a store does: inspect, change and run jobs.
///
/// Every backend is one.
public typealias QueueStore = QueueController & WorkerBackend

/// What one batch did: the jobs changed, and the ones left alone with the reason.
public struct BatchOutcome: Sendable, Equatable {
    public var changed: [String]
    public var skipped: [SkippedJob]

    public init(changed: [String] = [], skipped: [SkippedJob] = []) {
        self.changed = changed
        self.skipped = skipped
    }

    /// From a batch's per-job reply codes (both backends answer one per id, in order): `changedCode` for a job
    /// changed, a `JobReplyCode` for one left alone, whose reason `reason` gives.
    public init(ids: [String], codes: [Int64?], changedCode: Int64, reason: (JobReplyCode) -> String) {
        self.init()
        for (id, code) in zip(ids, codes) {
            if code == changedCode {
                changed.append(id)
            } else if let known = code.flatMap(JobReplyCode.init(rawValue:)) {
                skipped.append(SkippedJob(id: id, reason: reason(known)))
            } else {
                skipped.append(SkippedJob(id: id, reason: "unexpected reply \(code.map(String.init) ?? "nil")"))
            }
        }
    }
}

/// Why a batch call left a job alone: the codes of BullMQ's schema functions, which jobctl's Redis scripts answer
/// too.
public enum JobReplyCode: Int64, Sendable {
    /// Held by a worker (remove without force).
    case locked = 0
    case notFound = -1
    /// Its lock had expired (a worker's finish).
    case lockExpired = -2
    /// No longer in the state the call acts on.
    case wrongState = -3
    /// Redis: its key is not a hash (not written by BullMQ).
    case notAHash = -4
    /// Another worker holds its lock now.
    case lockedByAnother = -6
    /// The next job of a job scheduler (remove the scheduler instead).
    case schedulerJob = -8
    /// Redis Cluster: its flow parent (or a child) lies in another hash slot, which one script cannot reach.
    case flowInAnotherSlot = -9

    /// What `remove` says of a job it left because a worker holds it, on both backends.
    public static let lockedReason =
        "locked by a worker (it or one of its children is running; --force removes it anyway)"
    public static let schedulerJobReason = "the next job of a job scheduler (remove the scheduler instead)"
    public static let flowInAnotherSlotReason =
        "its flow parent or a child is in a queue of another hash slot of the Redis Cluster (BullMQ needs a flow's "
        + "queues under one hash tag there, such as the prefix '{bull}')"
}

/// The jobs of a state within a time range: how many, and the latest time among them.
public struct JobSpan: Sendable, Equatable {
    public var count: Int
    public var latest: Int64?

    public init(count: Int, latest: Int64?) {
        self.count = count
        self.latest = latest
    }
}

/// What one `retryNewest` call did.
public struct WindowOutcome: Sendable, Equatable {
    public var moved: Int
    public var skipped: [SkippedJob]
    /// How many of the skipped jobs stay where the next call would take them again (it skips past them).
    public var leftInPlace: Int

    public init(moved: Int, skipped: [SkippedJob] = [], leftInPlace: Int = 0) {
        self.moved = moved
        self.skipped = skipped
        self.leftInPlace = leftInPlace
    }

    /// Jobs the call took: moved or skipped.
    public var taken: Int { moved + skipped.count }
}

/// A job a command left alone, and why (for example "no longer failed").
public struct SkippedJob: Sendable, Equatable {
    public var id: String
    public var reason: String

    public init(id: String, reason: String) {
        self.id = id
        self.reason = reason
    }
}

/// What one drain batch did.
public struct DrainOutcome: Sendable, Equatable {
    /// Jobs deleted.
    public var removed: Int
    /// Jobs looked at and left in place (scheduler jobs); later batches skip past them.
    public var kept: Int

    public init(removed: Int, kept: Int) {
        self.removed = removed
        self.kept = kept
    }
}

/// A job to add, with BullMQ's options.
public struct NewJob: Sendable, Equatable {
    public var name: String
    public var data: JSONValue
    public var id: String?
    public var delayMs: Int64
    public var priority: Int64
    public var attempts: Int64?
    public var backoff: Backoff?
    public var lifo: Bool
    /// Creation time, ms since the epoch.
    public var timestamp: Int64
    /// Options BullMQ's workers read that have no field here (`removeOnComplete`, `keepLogs`, …), long names.
    public var otherOptions: [String: JSONValue] = [:]

    public init(
        name: String, data: JSONValue, id: String? = nil, delayMs: Int64 = 0, priority: Int64 = 0,
        attempts: Int64? = nil,
        backoff: Backoff? = nil, lifo: Bool = false, timestamp: Int64
    ) {
        self.name = name
        self.data = data
        self.id = id
        self.delayMs = delayMs
        self.priority = priority
        self.attempts = attempts
        self.backoff = backoff
        self.lifo = lifo
        self.timestamp = timestamp
    }

    /// The job's `opts` as BullMQ's clients store them: `attempts` and `delay` always, the rest when set.
    ///
    /// `backoffNull` writes `"backoff": null` when there is none (the Python client does on PostgreSQL).
    public func storedOptions(backoffNull: Bool) -> JSONValue {
        var pairs: [(String, JSONValue)] = [("attempts", .int(attempts ?? 0)), ("delay", .int(delayMs))]
        if priority != 0 { pairs.append(("priority", .int(priority))) }
        if lifo { pairs.append(("lifo", .bool(true))) }
        if let id { pairs.append(("jobId", .string(id))) }
        if let backoff {
            pairs.append(("backoff", .object([("type", .string(backoff.type)), ("delay", .int(backoff.delayMs))])))
        } else if backoffNull && otherOptions["backoff"] == nil {
            pairs.append(("backoff", .null))
        }
        for (key, value) in otherOptions.sorted(by: { $0.key < $1.key }) where !pairs.contains(where: { $0.0 == key }) {
            pairs.append((key, value))
        }
        return .object(pairs)
    }
}

/// BullMQ's retry backoff: `fixed` or `exponential`, with a base delay.
public struct Backoff: Sendable, Equatable {
    public var type: String
    public var delayMs: Int64

    public init(type: String, delayMs: Int64) {
        self.type = type
        self.delayMs = delayMs
    }

    /// `1000` or `fixed:1s` or `exponential:500ms` (a bare number is milliseconds, as in BullMQ).
    public init?(argument: String) {
        let parts = argument.split(separator: ":", maxSplits: 1).map(String.init)
        let type = parts.count == 2 ? parts[0] : "fixed"
        let delayText = parts.count == 2 ? parts[1] : parts.first ?? ""
        guard type == "fixed" || type == "exponential" else { return nil }
        let delay =
            Int64(delayText)
            ?? DurationText.milliseconds(delayText).flatMap { delayText.contains(where: \.isLetter) ? $0 : nil }
        guard let delay, delay >= 0 else { return nil }
        self.init(type: type, delayMs: delay)
    }
}

/// A job as added: its id, and whether a job with that id already existed (then nothing was added).
public struct AddedJob: Sendable, Equatable {
    public var id: String
    public var duplicate: Bool

    public init(id: String, duplicate: Bool) {
        self.id = id
        self.duplicate = duplicate
    }
}
