import JobCore

/// A `WorkerBackend` that keeps one queue in memory, for tests of `Worker` without a server: jobs wait in order,
/// claims lock them with the worker's token, finishes and hand-backs are recorded, and renewals can be made to fail.
public actor InMemoryWorkerBackend: WorkerBackend {
    public private(set) var waiting: [ClaimedJob] = []
    /// Locked jobs by id, with the token that holds them.
    public private(set) var active: [String: ClaimedJob] = [:]
    public private(set) var finished: [String: Finish] = [:]
    public private(set) var handedBack: [String] = []
    public private(set) var claims = 0
    /// Ids whose lock renewals fail (the stalled check gave them away, say).
    public var failingRenewals: Set<String> = []

    public init(jobs: Int) {
        waiting = (0..<jobs).map { index in
            ClaimedJob(
                queue: "q", id: String(index + 1), name: "n", data: "{}", opts: .object([]), attemptsMade: 0,
                timestamp: 0,
                token: "")
        }
    }

    /// Scheduler advances asked for, in order, and when (in claims made so far).
    public private(set) var advances: [(advance: SchedulerAdvance, afterClaim: Int)] = []

    public func failRenewals(of ids: Set<String>) { failingRenewals = ids }

    /// Queues a job at the end of waiting.
    public func add(_ job: ClaimedJob) { waiting.append(job) }

    /// Records the advances; each creates the job `repeat:<id>:<nextMillis>`.
    public func advanceSchedulers(
        queue: String, _ advances: [SchedulerAdvance], now: Int64
    ) async throws -> [SchedulerAdvanceResult] {
        self.advances += advances.map { ($0, claims) }
        return advances.map { .created(jobId: "repeat:\($0.schedulerId):\($0.nextMillis)") }
    }

    public func claim(
        queue: String, tokens: [String], lockDurationMs: Int64, limiter: RateLimit?
    ) async throws
        -> ClaimResult
    {
        claims += 1
        var jobs: [ClaimedJob] = []
        for token in tokens {
            guard !waiting.isEmpty else { break }
            var job = waiting.removeFirst()
            job.token = token
            active[job.id] = job
            jobs.append(job)
        }
        return ClaimResult(jobs: jobs, wait: jobs.count < tokens.count ? .empty(nextDelayedAt: nil) : nil)
    }

    public func finish(
        queue: String, _ jobs: [(job: ClaimedJob, finish: Finish)], metricsDataPoints: Int?
    ) async throws
        -> [LostJob]
    {
        var lost: [LostJob] = []
        for (job, finish) in jobs {
            guard active[job.id]?.token == job.token else {
                lost.append(LostJob(id: job.id, reason: "its lock had expired"))
                continue
            }
            active[job.id] = nil
            finished[job.id] = finish
        }
        return lost
    }

    public func extendLocks(
        queue: String, _ jobs: [(id: String, token: String)], durationMs: Int64
    ) async throws
        -> [String]
    {
        jobs.map(\.id).filter { failingRenewals.contains($0) || active[$0]?.token == nil }
    }

    public func rescueStalled(queue: String, maxStalledCount: Int, intervalMs: Int64) async throws -> [String] { [] }

    /// Answers at once when a job waits, else after a short pause (a test's idle worker need not wait long).
    public func waitForWork(queue: String, timeoutMs: Int64) async throws -> Bool {
        if !waiting.isEmpty { return true }
        try await Task.sleep(nanoseconds: UInt64(min(timeoutMs, 20)) * 1_000_000)
        return !waiting.isEmpty
    }

    public func handBack(queue: String, _ jobs: [(id: String, token: String)]) async throws {
        for (id, token) in jobs where active[id]?.token == token {
            if let job = active.removeValue(forKey: id) { waiting.insert(job, at: 0) }
            handedBack.append(id)
        }
    }
}
