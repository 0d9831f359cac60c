/// Read-only access to the BullMQ queues of one backend.
///
/// Implementations never write.
public protocol QueueInspector: Sendable {
    /// Where the queues live, safe to print (no password).
    var location: String { get }

    /// Names of every queue found, sorted.
    func discoverQueues() async throws -> [String]

    /// Whether anything of the queue exists.
    func queueExists(_ queue: String) async throws -> Bool

    /// Counts, paused flag and oldest waiting job of each queue, in the order given.
    func overview(of queues: [String]) async throws -> [QueueOverview]

    /// Everything `jobctl stats` shows about a queue.
    func stats(of queue: String) async throws -> QueueStats

    /// Bounded samples of the queue's recent jobs and BullMQ's metrics, for `QueueAnalysis`.
    func history(of queue: String, sampleSize: Int) async throws -> QueueHistory

    /// Both of the above, read at once.
    func statsWithHistory(of queue: String, sampleSize: Int) async throws -> (QueueStats, QueueHistory)

    /// One page of the jobs in a state, in the order the queue handles them (finished jobs newest first).
    func jobs(in queue: String, state: JobState, limit: Int, cursor: String?) async throws -> JobPage

    /// One job with all its fields, logs and lock; nil when there is no such job.
    func job(in queue: String, id: String) async throws -> JobRecord?

    /// The job schedulers of the queues, queue by queue in the order given, soonest next first, each with the state
    /// of its pending job and, with `lastRuns`, its newest finished iteration.
    func schedulers(of queues: [String], lastRuns: Bool) async throws -> [JobScheduler]

    /// The records jobctl's change commands left among the queues' events (`recordTrail`), newest first, at most
    /// `limit`, those that ended at or after `since` (ms).
    func trail(of queues: [String], since: Int64?, limit: Int) async throws -> [TrailRecord]

    /// One job scheduler, read by its id (however many the queue has); nil when there is none.
    func scheduler(_ id: String, in queue: String) async throws -> JobScheduler?

    /// The workers connected to the server, found by the names BullMQ's workers give their connections; throws
    /// `WorkerListingRefusedError` when the server will not list its connections.
    ///
    /// `knownQueues` settles names that read two ways (see `WorkerDirectory`).
    func connectedWorkers(knownQueues: Set<String>) async throws -> [ConnectedWorker]
}

extension QueueInspector {
    public func statsWithHistory(of queue: String, sampleSize: Int) async throws -> (QueueStats, QueueHistory) {
        async let history = history(of: queue, sampleSize: sampleSize)
        let stats = try await stats(of: queue)
        return (stats, try await history)
    }

    /// What `stats` and `tune` read of a queue: its stats and its recent history (at once), and the analysis of both.
    public func analyzed(
        _ queue: String, sampleSize: Int, lockMarginMs: Int64 = QueueAnalysis.defaultLockMarginMs
    )
        async throws -> (stats: QueueStats, history: QueueHistory, analysis: QueueAnalysis)
    {
        let (stats, sampled) = try await statsWithHistory(of: queue, sampleSize: sampleSize)
        let analysis = QueueAnalysis(
            history: sampled, backlog: stats.overview.counts.ready,
            oldestWaitingAt: stats.overview.oldestWaitingTimestamp,
            now: currentTimeMs(), lockMarginMs: lockMarginMs)
        return (stats, sampled, analysis)
    }

    /// How many workers each of `queues` has (0 for none), or why the server will not say.
    public func workerCounts(of queues: [String]) async throws -> Result<[String: Int], WorkerListingRefusedError> {
        do {
            let counts = WorkerDirectory.counts(try await connectedWorkers(knownQueues: Set(queues)))
            return .success(Dictionary(queues.map { ($0, counts[$0] ?? 0) }, uniquingKeysWith: { first, _ in first }))
        } catch let refusal as WorkerListingRefusedError {
            return .failure(refusal)
        }
    }

    /// The queues named, each checked to exist, or every queue when none is named.
    public func queues(named names: [String]) async throws -> [String] {
        if names.isEmpty { return try await discoverQueues() }
        for name in names { try await requireQueue(name) }
        return names
    }

    /// One queue's job schedulers with their last runs.
    public func schedulers(of queue: String) async throws -> [JobScheduler] {
        try await schedulers(of: [queue], lastRuns: true)
    }

    /// Fails with `QueueNotFoundError`, naming close matches, unless the queue exists.
    public func requireQueue(_ queue: String) async throws {
        if try await queueExists(queue) { return }
        let known = try await discoverQueues()
        throw QueueNotFoundError(queue: queue, location: location, suggestions: closeMatches(for: queue, among: known))
    }
}
