/// One row of `jobctl status`: a queue's counts at a glance.
public struct QueueOverview: Sendable {
    public var queue: String
    public var counts: JobCounts
    public var isPaused: Bool
    /// Creation time (ms since the epoch) of the oldest job ready to run, if any.
    public var oldestWaitingTimestamp: Int64?
    public var problems: [DataProblem]
    /// Workers connected to the queue (see `WorkerDirectory`); nil when not looked at or the server will not say.
    public var workers: Int?
    /// The queue's job schedulers; nil when not looked at.
    public var schedulers: SchedulerCounts?

    public init(
        queue: String,
        counts: JobCounts,
        isPaused: Bool,
        oldestWaitingTimestamp: Int64?,
        problems: [DataProblem]
    ) {
        self.queue = queue
        self.counts = counts
        self.isPaused = isPaused
        self.oldestWaitingTimestamp = oldestWaitingTimestamp
        self.problems = problems
    }
}

/// How many job schedulers a queue has, and how many of them are overdue: their next run is in the past and nothing
/// takes it (`SchedulerHealth.overdue`), or will (`.stuck`).
public struct SchedulerCounts: Sendable, Equatable {
    /// How late a pending job may be before `status` and `stats` count its scheduler as overdue.
    public static let defaultGraceMs: Int64 = 60_000

    public var total = 0
    /// Overdue or stuck.
    public var overdue = 0

    public init() {}

    /// Counts per queue; `graceMs` as `JobScheduler.health` takes it.
    public static func tally(_ schedulers: [JobScheduler], now: Int64, graceMs: Int64) -> [String: SchedulerCounts] {
        var counts: [String: SchedulerCounts] = [:]
        for scheduler in schedulers {
            counts[scheduler.queue, default: SchedulerCounts()].total += 1
            if scheduler.health(now: now, graceMs: graceMs).isProblem { counts[scheduler.queue]?.overdue += 1 }
        }
        return counts
    }
}

/// A queue-wide rate limit: at most `max` job starts per `durationMs` milliseconds.
public struct RateLimit: Sendable, Equatable {
    public var max: Int64
    public var durationMs: Int64

    public init(max: Int64, durationMs: Int64) {
        self.max = max
        self.durationMs = durationMs
    }
}

/// What `jobctl stats` shows for one queue.
public struct QueueStats: Sendable {
    public var overview: QueueOverview
    /// Global concurrency stored in the queue's meta, if set.
    public var globalConcurrency: Int64?
    /// Global rate limit stored in the queue's meta, if set.
    public var rateLimit: RateLimit?
    /// Active jobs whose lock is gone: the next stalled check of any worker will move them back to waiting.
    public var stalledCandidates: Int?
    /// Ids of some of those jobs (at most a few), to look at with `jobctl show`.
    public var stalledCandidateSample: [String]
    /// The BullMQ version recorded by the client that created the queue, when it records one.
    public var recordedVersion: String?

    public init(
        overview: QueueOverview,
        globalConcurrency: Int64?,
        rateLimit: RateLimit?,
        stalledCandidates: Int?,
        stalledCandidateSample: [String],
        recordedVersion: String?
    ) {
        self.overview = overview
        self.globalConcurrency = globalConcurrency
        self.rateLimit = rateLimit
        self.stalledCandidates = stalledCandidates
        self.stalledCandidateSample = stalledCandidateSample
        self.recordedVersion = recordedVersion
    }
}

/// A stored JSON payload: parsed when it is valid JSON, kept as text (and reported) when it is not.
public enum StoredJSON: Sendable, Equatable {
    case valid(JSONValue)
    case invalid(raw: String, reason: String)

    /// Parses `raw`; text that is not JSON is kept as it is.
    public init(raw: String) {
        do {
            self = .valid(try JSONValue.parse(raw))
        } catch {
            self = .invalid(raw: raw, reason: error.description)
        }
    }

    /// The value to print: the parsed JSON, or the raw text as a JSON string.
    public var displayValue: JSONValue {
        switch self {
        case .valid(let value): return value
        case .invalid(let raw, _): return .string(raw)
        }
    }
}

/// The lock of an active job.
public struct JobLock: Sendable, Equatable {
    /// The token of the worker holding it.
    public var token: String
    /// Milliseconds until it expires; nil when it has no expiry.
    ///
    /// Negative when it has expired but is still there (on Postgres a lock stays until a stalled check reclaims the
    /// job; Redis drops the key itself).
    public var ttlMs: Int64?

    public init(token: String, ttlMs: Int64?) {
        self.token = token
        self.ttlMs = ttlMs
    }
}

/// Everything jobctl knows about one job.
///
/// Fields a job does not carry are nil.
public struct JobRecord: Sendable {
    public var queue: String
    public var id: String
    public var state: JobState?
    public var name: String?
    public var data: StoredJSON?
    public var opts: StoredJSON?
    public var progress: StoredJSON?
    public var returnValue: StoredJSON?
    public var timestamp: Int64?
    public var delay: Int64?
    public var priority: Int64?
    public var processedOn: Int64?
    public var finishedOn: Int64?
    public var attemptsMade: Int64
    public var attemptsStarted: Int64
    public var stalledCounter: Int64
    public var failedReason: String?
    public var stacktrace: [String]
    public var deferredFailure: String?
    public var processedBy: String?
    public var repeatJobKey: String?
    public var deduplicationId: String?
    public var parentKey: String?
    public var parent: StoredJSON?
    /// The lock, when the job has one (active jobs of a live worker).
    public var lock: JobLock?
    /// The job's log lines (the newest ones when there are many) and how many there are in all.
    public var logs: [String]
    public var logCount: Int
    /// Fields jobctl does not know, as stored.
    public var otherFields: [(String, String)]
    public var problems: [DataProblem]

    public init(queue: String, id: String) {
        self.queue = queue
        self.id = id
        attemptsMade = 0
        attemptsStarted = 0
        stalledCounter = 0
        stacktrace = []
        logs = []
        logCount = 0
        otherFields = []
        problems = []
    }
}

/// One page of `jobctl jobs`.
public struct JobPage: Sendable {
    public var jobs: [JobRecord]
    /// Pass this to the next call to get the following page; nil on the last page.
    public var nextCursor: String?
    /// Ids that were listed in the state but whose job was gone when read (finished or removed meanwhile).
    public var vanishedIds: [String]
    public var problems: [DataProblem]

    /// Page sizes every backend accepts: 1 to 10,000 jobs.
    public static func clampedLimit(_ limit: Int) -> Int { max(1, min(limit, 10_000)) }

    public init(jobs: [JobRecord], nextCursor: String?, vanishedIds: [String], problems: [DataProblem]) {
        self.jobs = jobs
        self.nextCursor = nextCursor
        self.vanishedIds = vanishedIds
        self.problems = problems
    }
}
