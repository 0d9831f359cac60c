public import JobCore

/// BullMQ queues in a PostgreSQL schema: read with plain SELECTs over the schema's tables and their per-state
/// indexes (the inspection never writes); changed and worked through the schema's functions (see
/// PostgresQueueController and PostgresWorkerBackend).
public struct PostgresQueueStore: QueueInspector {
    /// The connections: the first does everything; the others join it only to count big queues in parallel,
    /// connecting the first time they are needed.
    let clients: [PostgresClient]
    var client: PostgresClient { clients[0] }
    /// A worker's LISTEN connection, connected on first use.
    let listener: PostgresClient
    static let connectionCount = 3
    /// See `defaultSplitThreshold`; tests lower it.
    var splitThreshold = Self.defaultSplitThreshold
    /// See `defaultRowsPerPiece`; tests lower it.
    var rowsPerPiece = Self.defaultRowsPerPiece
    public let schema: SchemaName
    public var location: String { "\(client.endpoint.redactedURL) (schema '\(schema)')" }

    /// Prepares a store; nothing connects until `connect()` or the first query.
    ///
    /// A worker's store names its sessions (`application_name`) as the Python client names a worker's, so that
    /// `getWorkers()` lists it; not behind a pooler, where sessions are shared (and a name would stay for others).
    public init(
        endpoint: PostgresEndpoint, schema: SchemaName, connectTimeoutMs: Int = 5000, commandTimeoutMs: Int = 30000,
        worker: WorkerIdentity? = nil, listenEndpoint: PostgresEndpoint? = nil
    ) {
        let applicationName = worker?.pythonStyleName(namespace: schema.name)
        self.clients = (0..<Self.connectionCount).map { _ in
            PostgresClient(
                endpoint: endpoint, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs,
                applicationName: applicationName)
        }
        self.listener = PostgresClient(
            endpoint: listenEndpoint ?? endpoint, connectTimeoutMs: connectTimeoutMs,
            commandTimeoutMs: commandTimeoutMs,
            applicationName: applicationName)
        self.listensElsewhere = listenEndpoint != nil
        self.schema = schema
        self.worker = worker
    }

    /// The worker whose connections these are, if they are a worker's.
    let worker: WorkerIdentity?
    /// The LISTEN connection goes to a URL of its own (`--listen-url`).
    let listensElsewhere: Bool

    /// PostgreSQL keeps 63 bytes of `application_name`, and only ASCII: a longer worker name is cut, and BullMQ's
    /// tools then do not list the worker.
    public static let applicationNameLimit = 63

    public func connectedWorkers(knownQueues: Set<String>) async throws -> [ConnectedWorker] {
        // application_name is shown for every session; the rest only for the sessions this role may see.
        let rows = try await client.query(
            """
            SELECT application_name, host(client_addr) || ':' || client_port,
                   (extract(epoch FROM now() - backend_start) * 1000)::bigint,
                   CASE WHEN state = 'active' THEN 0
                        ELSE (extract(epoch FROM now() - state_change) * 1000)::bigint END
              FROM pg_stat_activity
             WHERE datname = current_database() AND starts_with(application_name, $1)
            """, [schema.name + ":"])
        let connections = rows.rows.map { row in
            ClientConnection(
                name: row[0] ?? "", address: row[1], connectedForMs: row[2].flatMap { Int64($0) },
                idleForMs: row[3].flatMap { Int64($0) })
        }
        return WorkerDirectory.workers(
            from: connections, namespace: schema.name, knownQueues: knownQueues, nodeNaming: false)
    }

    /// Connects, logs in and checks the schema's migration ledger; returns the ledger's version.
    ///
    /// With `preparingToCount`, a schema big enough to be counted in pieces gets the helper connections started now, so
    /// that they are there when the counting starts (a connection takes the server a few milliseconds).
    @discardableResult
    public func connect(preparingToCount: Bool = false) async throws -> Int {
        try await client.connect()
        let (version, estimatedJobs) = try await client.checkSchema(schema, location: location)
        if preparingToCount && estimatedJobs >= splitThreshold {
            for helper in clients.dropFirst() {
                Task { try? await helper.connect() }  // a helper that cannot connect is left out later
            }
        }
        return version
    }

    /// Runs independent statements, each connection taking the next statement when it is done with one (long
    /// ones first, so that no connection starts one after the others are done).
    ///
    /// Only `inParallel` uses the helper connections: for a few quick statements, connecting them would take longer
    /// than the statements. A helper that cannot connect (the server is out of connection slots, say) leaves its share
    /// to the others; any other failure fails the whole call. The rows come back in the order of `statements`.
    func queryConcurrently(_ statements: [Statement], inParallel: Bool = true) async throws -> [PostgresRows] {
        let longFirst =
            statements.indices.filter { statements[$0].isLong } + statements.indices.filter { !statements[$0].isLong }
        let pending = PendingStatements(order: longFirst)
        let results = try await withThrowingTaskGroup(of: [(Int, PostgresRows)].self) { group in
            for (index, client) in clients.prefix(inParallel ? statements.count : 1).enumerated() {
                group.addTask {
                    if index > 0 {
                        do { try await client.connect() } catch { return [] }
                    }
                    var done: [(Int, PostgresRows)] = []
                    while let next = await pending.take() {
                        done.append((next, try await client.query(statements[next].sql, statements[next].parameters)))
                    }
                    return done
                }
            }
            var all: [(Int, PostgresRows)] = []
            for try await done in group { all += done }
            return all
        }
        guard results.count == statements.count else {
            throw PostgresError(
                code: .unexpectedReply, server: server,
                message: "\(statements.count - results.count) statements did not run")
        }
        return results.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Runs a batch's statements at once and makes its result of their rows.
    func run<Result>(_ batch: StatementBatch<Result>) async throws -> Result {
        try batch.assemble(try await queryConcurrently(batch.statements, inParallel: batch.inParallel))
    }

    /// A table of the schema, quoted.
    func table(_ name: String) -> String { "\(schema.quoted).\(name)" }

    var server: String { client.endpoint.hostDescription }

    // MARK: Discovery

    public func discoverQueues() async throws -> [String] {
        // There is no queue table. Walk the distinct queue names of `job` along its primary key (one index probe
        // per queue instead of a scan of every job), and add queues that exist only as meta or scheduler rows.
        let rows = try await client.query(
            """
            WITH RECURSIVE names(queue) AS (
                (SELECT queue FROM \(table("job")) ORDER BY queue LIMIT 1)
                UNION ALL
                SELECT (SELECT j.queue FROM \(table("job")) j WHERE j.queue > n.queue ORDER BY j.queue LIMIT 1)
                  FROM names n WHERE n.queue IS NOT NULL
            )
            SELECT queue FROM names WHERE queue IS NOT NULL
            UNION SELECT queue FROM \(table("meta"))
            UNION SELECT queue FROM \(table("scheduler"))
            """)
        return rows.rows.compactMap { $0.first ?? nil }.sorted()
    }

    public func queueExists(_ queue: String) async throws -> Bool {
        // Ordered along the primary key so that the planner probes the index: a plain EXISTS over a queue that
        // holds most rows is planned as a sequential scan, which crawls over pages emptied by deletes.
        let rows = try await client.query(
            """
            SELECT (SELECT j.queue FROM \(table("job")) j WHERE j.queue = $1 ORDER BY j.queue, j.id LIMIT 1) IS NOT NULL
                OR EXISTS (SELECT 1 FROM \(table("meta")) WHERE queue = $1)
                OR EXISTS (SELECT 1 FROM \(table("scheduler")) WHERE queue = $1)
            """, [queue])
        return rows.scalar == "t"
    }

    // MARK: Counts

    /// The figures of a queue's overview, in this order: the counts of `countedStates`, the paused flag, and the
    /// creation time of the job at the head of each priority band.
    private enum Figure {
        static let paused = 7
        static let oldestWaiting = 8
        static let count = 9
    }

    /// One scalar subquery over `q.name` that gives a figure, or (for counts) a part of it to be summed.
    private struct Part {
        var figure: Int
        var sql: String
        /// Big parts get a statement of their own; small ones share one.
        var isBig: Bool
    }

    /// A count that can be cut into pieces along the last column of its partial index, so that the pieces are
    /// counted at once on different server cores.
    private struct SplittableCount {
        var figure: Int
        var condition: String
        var rangeColumn: String
        /// The partial index the count reads; its size estimate says how many pieces are worth it.
        var index: String
    }

    private static let splittableCounts = [
        SplittableCount(
            figure: 0, condition: "j.state = 'waiting' AND j.priority = 0", rangeColumn: "seq", index: "job_ready_idx"),
        SplittableCount(
            figure: 2, condition: "j.state = 'delayed'", rangeColumn: "process_at_ms", index: "job_delayed_idx"),
        SplittableCount(
            figure: 4, condition: "j.state = 'completed'", rangeColumn: "finished_at_ms", index: "job_finished_idx"),
        SplittableCount(
            figure: 5, condition: "j.state = 'failed'", rangeColumn: "finished_at_ms", index: "job_finished_idx"),
    ]

    private func count(_ condition: String) -> String {
        "(SELECT count(*) FROM \(table("job")) j WHERE j.queue = q.name AND \(condition))"
    }

    /// Every count from its state's partial index (never a scan of the queue's finished history).
    ///
    /// Ready jobs with priority ≤ 0 are `waiting` (BullMQ takes them first), > 0 `prioritized`. With `cuts`, a big
    /// count is counted as the ranges between its cut points of the range column (plus the rows where it is NULL).
    private func overviewParts(cuts: [Int: [Int64]] = [:]) -> [Part] {
        let job = table("job")
        // The one big count that is never cut goes first, so that no connection starts it after the others are done.
        var parts = [Part(figure: 1, sql: count("j.state = 'waiting' AND j.priority > 0"), isBig: true)]
        for split in Self.splittableCounts {
            let column = "j.\(split.rangeColumn)"
            guard let points = cuts[split.figure], !points.isEmpty else {
                parts.append(Part(figure: split.figure, sql: count(split.condition), isBig: true))
                continue
            }
            parts.append(
                Part(figure: split.figure, sql: count("\(split.condition) AND \(column) < \(points[0])"), isBig: true))
            for (low, high) in zip(points, points.dropFirst()) {
                parts.append(
                    Part(
                        figure: split.figure,
                        sql: count("\(split.condition) AND \(column) >= \(low) AND \(column) < \(high)"), isBig: true))
            }
            parts.append(
                Part(
                    figure: split.figure, sql: count("\(split.condition) AND \(column) >= \(points[points.count - 1])"),
                    isBig: true))
            parts.append(
                Part(figure: split.figure, sql: count("\(split.condition) AND \(column) IS NULL"), isBig: false))
        }
        parts += [
            Part(figure: 0, sql: count("j.state = 'waiting' AND j.priority < 0"), isBig: false),
            Part(figure: 3, sql: count("j.state = 'active'"), isBig: false),
            Part(figure: 6, sql: count("j.state = 'waiting-children'"), isBig: false),
            Part(
                figure: Figure.paused,
                sql: "(SELECT m.value FROM \(table("meta")) m WHERE m.queue = q.name AND m.field = 'paused')",
                isBig: false),
            Part(
                figure: Figure.oldestWaiting,
                sql: """
                    (WITH RECURSIVE bands(priority, depth) AS (
                        (SELECT j.priority, 1 FROM \(job) j WHERE j.queue = q.name AND j.state = 'waiting'
                          ORDER BY j.priority LIMIT 1)
                        UNION ALL
                        SELECT (SELECT j.priority FROM \(job) j WHERE j.queue = q.name AND j.state = 'waiting'
                                   AND j.priority > b.priority ORDER BY j.priority LIMIT 1), b.depth + 1
                          FROM bands b WHERE b.priority IS NOT NULL AND b.depth < 1000
                    )
                    SELECT min(least(
                        (SELECT j.added_at_ms FROM \(job) j WHERE j.queue = q.name AND j.state = 'waiting'
                            AND j.priority = b.priority AND j.seq > 0 ORDER BY j.seq LIMIT 1),
                        (SELECT j.added_at_ms FROM \(job) j WHERE j.queue = q.name AND j.state = 'waiting'
                            AND j.priority = b.priority AND j.seq < 0 ORDER BY j.seq DESC LIMIT 1)))
                      FROM bands b WHERE b.priority IS NOT NULL)
                    """, isBig: false),
        ]
        return parts
    }

    /// For one queue in a big schema: where to cut its splittable counts, from index probes (min and max of the
    /// range column) and the planner's size estimate of each partial index, so that every piece holds about
    /// `rowsPerPiece` rows if the values are spread evenly.
    ///
    /// Nil when the schema's job table is small enough to count in one statement.
    private func cutPoints(of queue: String) async throws -> [Int: [Int64]]? {
        func estimate(_ relation: String) -> String {
            "(SELECT c.reltuples FROM pg_catalog.pg_class c WHERE c.oid = to_regclass('\(schema.quoted).\(relation)'))"
        }
        let columns =
            [estimate("job")]
            + Self.splittableCounts.map { split in
                estimate(split.index) + ", "
                    + "(SELECT min(j.\(split.rangeColumn)) FROM \(table("job")) j WHERE j.queue = $1 AND "
                    + "\(split.condition)), "
                    + "(SELECT max(j.\(split.rangeColumn)) FROM \(table("job")) j WHERE j.queue = $1 AND "
                    + "\(split.condition))"
            }
        let row = try await client.query("SELECT " + columns.joined(separator: ", "), [queue]).rows.first ?? []
        guard let rows = row.first.flatMap({ $0.flatMap(Double.init) }), rows >= splitThreshold else { return nil }
        var cuts: [Int: [Int64]] = [:]
        for (index, split) in Self.splittableCounts.enumerated() where row.count > 3 * index + 3 {
            let indexRows = row[3 * index + 1].flatMap { Double($0) } ?? 0
            guard let low = row[3 * index + 2].flatMap({ Int64($0) }),
                let high = row[3 * index + 3].flatMap({ Int64($0) }),
                high > low
            else { continue }
            let wanted = rowsPerPiece > 0 ? Int((indexRows / rowsPerPiece).rounded(.up)) : Self.maximumPieces
            let pieces = Int(min(Int64(max(1, min(wanted, Self.maximumPieces))), high - low))
            guard pieces > 1 else { continue }
            // Evenly spaced in the value range; computed in Double so that the span cannot overflow.
            let span = Double(high) - Double(low)
            cuts[split.figure] = (1..<pieces).map { low + Int64(span * Double($0) / Double(pieces)) }
        }
        return cuts
    }

    /// Job rows (the planner's estimate for the whole schema) from which counting in pieces pays for the extra
    /// connections.
    static let defaultSplitThreshold = 200_000.0
    /// Rows per piece (about 15 ms of counting on one core); tests set 0 for the most pieces.
    static let defaultRowsPerPiece = 100_000.0
    static let maximumPieces = 8

    public func overview(of queues: [String]) async throws -> [QueueOverview] {
        var overviews: [QueueOverview] = []
        // Bounded statements: at most 200 queues each.
        for start in stride(from: 0, to: queues.count, by: 200) {
            overviews += try await run(overviewBatch(of: Array(queues[start..<min(start + 200, queues.count)])))
        }
        return overviews
    }

    /// The statements that count a few queues, and how their rows make the overviews.
    ///
    /// A big queue alone is counted in pieces on several connections (see `cutPoints`); anything else in one statement.
    func overviewBatch(of chunk: [String]) async throws -> StatementBatch<[QueueOverview]> {
        let cuts = chunk.count == 1 ? try await cutPoints(of: chunk[0]) : nil
        let parts = overviewParts(cuts: cuts ?? [:])
        let groups = cuts == nil ? [parts] : parts.filter(\.isBig).map { [$0] } + [parts.filter { !$0.isBig }]
        let names = PostgresArray.literal(chunk)
        let statements = groups.map { group in
            Statement(
                sql: "SELECT " + group.map(\.sql).joined(separator: ", ")
                    + " FROM unnest($1::text[]) WITH ORDINALITY AS q(name, position) ORDER BY q.position",
                parameters: [names], isLong: group.count == 1 && group[0].isBig)
        }
        let server = server
        return StatementBatch(statements: statements, inParallel: cuts != nil) { results in
            var figures = [[String?]](repeating: [String?](repeating: nil, count: Figure.count), count: chunk.count)
            var counts = [[Int?]](repeating: [Int?](repeating: 0, count: Figure.count), count: chunk.count)
            for (group, rows) in zip(groups, results) {
                guard rows.rows.count == chunk.count, rows.rows.allSatisfy({ $0.count == group.count }) else {
                    throw PostgresError(
                        code: .unexpectedReply, server: server,
                        message: "counts for \(chunk.count) queues came back as \(rows.rows.count) rows")
                }
                for (queueIndex, row) in rows.rows.enumerated() {
                    for (part, value) in zip(group, row) {
                        figures[queueIndex][part.figure] = value
                        let sum = counts[queueIndex][part.figure]
                        counts[queueIndex][part.figure] = value.flatMap { Int($0) }.flatMap { part in
                            sum.map { $0 + part }
                        }
                    }
                }
            }
            return chunk.indices.map { Self.overview(queue: chunk[$0], counts: counts[$0], figures: figures[$0]) }
        }
    }

    private static let countedStates: [JobState] = [
        .waiting, .prioritized, .delayed, .active, .completed, .failed, .waitingChildren,
    ]

    private static func overview(queue: String, counts summed: [Int?], figures: [String?]) -> QueueOverview {
        var counts = JobCounts()
        for (figure, state) in Self.countedStates.enumerated() { counts[state] = summed[figure] }
        counts[.paused] = 0  // no legacy paused list on this backend; see isPaused
        let paused = figures[Figure.paused].map { ["paused": $0] } ?? [:]
        return QueueOverview(
            queue: queue, counts: counts,
            isPaused: QueueSettings(meta: paused, subject: "", pausedWhen: { $0 == "1" }).isPaused,
            oldestWaitingTimestamp: figures[Figure.oldestWaiting].flatMap { Int64($0) }, problems: [])
    }

    // MARK: Stats

    public func stats(of queue: String) async throws -> QueueStats {
        try await run(statsBatch(of: queue))
    }

    /// The queue's stats and history from one batch: the history's statements run beside the counts.
    ///
    /// The history goes first: its sample of finished jobs is as long as a count's piece but cannot be cut, and the
    /// last long statements handed out should be the short pieces of the finished states.
    public func statsWithHistory(of queue: String, sampleSize: Int) async throws -> (QueueStats, QueueHistory) {
        let (history, stats) = try await run(
            historyBatch(of: queue, sampleSize: sampleSize).with(statsBatch(of: queue)))
        return (stats, history)
    }

    func statsBatch(of queue: String) async throws -> StatementBatch<QueueStats> {
        // Active jobs whose lock has expired (or was never set): the next stalled check of any worker moves them
        // back to waiting. BullMQ's functions never check the expiry themselves; jobctl compares with its clock.
        let now = String(currentTimeMs())
        let extras = StatementBatch(
            statements: [
                Statement(sql: "SELECT field, value FROM \(table("meta")) WHERE queue = $1", parameters: [queue]),
                Statement(
                    sql: """
                        SELECT (SELECT count(*) FROM \(table("job")) WHERE queue = $1 AND state = 'active'
                                   AND (locked_until_ms IS NULL OR locked_until_ms < $2::bigint)),
                               ARRAY(SELECT id FROM \(table("job")) WHERE queue = $1 AND state = 'active'
                                       AND (locked_until_ms IS NULL OR locked_until_ms < $2::bigint)
                                     ORDER BY locked_until_ms NULLS FIRST, id LIMIT 5)
                        """, parameters: [queue, now]),
            ], inParallel: false
        ) { $0 }
        let server = server
        let subject = "\(schema).meta"
        return try await overviewBatch(of: [queue]).with(extras).map { overviews, rows in
            guard var overview = overviews.first else {
                throw PostgresError(code: .unexpectedReply, server: server, message: "no counts for queue \(queue)")
            }
            var meta: [String: String] = [:]
            for row in rows[0].rows where row.count == 2 {
                if let field = row[0], let value = row[1] { meta[field] = value }
            }
            let settings = QueueSettings(meta: meta, subject: subject, pausedWhen: { $0 == "1" })
            overview.problems += settings.problems
            let stalled = rows[1].rows.first ?? []
            return QueueStats(
                overview: overview, globalConcurrency: settings.globalConcurrency, rateLimit: settings.rateLimit,
                stalledCandidates: stalled.first.flatMap { $0.flatMap { Int($0) } },
                stalledCandidateSample: stalled.count > 1 ? PostgresArray.parse(stalled[1] ?? "{}") : [],
                recordedVersion: nil)
        }
    }
}

/// The indices of statements not yet taken by a connection, in the order they are handed out.
private actor PendingStatements {
    private var order: [Int]
    private var next = 0

    init(order: [Int]) { self.order = order }

    func take() -> Int? {
        guard next < order.count else { return nil }
        defer { next += 1 }
        return order[next]
    }
}

/// One statement for `queryConcurrently`.
struct Statement {
    var sql: String
    var parameters: [String?]
    /// Counts many rows: handed out before the others.
    var isLong = false
}

/// Statements that run together on the store's connections, and how their rows (in the statements' order) make
/// a result.
///
/// Batches joined with `with` share the connections, so that no part waits for another's connection.
struct StatementBatch<Result> {
    var statements: [Statement]
    /// Worth the helper connections: a big count in pieces.
    var inParallel: Bool
    var assemble: ([PostgresRows]) throws -> Result

    init(statements: [Statement], inParallel: Bool, assemble: @escaping ([PostgresRows]) throws -> Result) {
        self.statements = statements
        self.inParallel = inParallel
        self.assemble = assemble
    }

    func with<Other>(_ other: StatementBatch<Other>) -> StatementBatch<(Result, Other)> {
        let count = statements.count
        return StatementBatch<(Result, Other)>(
            statements: statements + other.statements, inParallel: inParallel || other.inParallel
        ) { rows in
            (try assemble(Array(rows[..<count])), try other.assemble(Array(rows[count...])))
        }
    }

    func map<Other>(_ transform: @escaping (Result) throws -> Other) -> StatementBatch<Other> {
        StatementBatch<Other>(statements: statements, inParallel: inParallel) { rows in
            try transform(try assemble(rows))
        }
    }
}
