public import JobCore

/// BullMQ queues in a PostgreSQL schema, read with plain SELECTs over the schema's tables and their per-state
/// indexes. Never writes.
public struct PostgresQueueStore: QueueInspector {
    let client: PostgresClient
    public let schema: SchemaName
    public var location: String { "\(client.endpoint.redactedURL) (schema '\(schema)')" }

    /// Prepares a store; nothing connects until `connect()` or the first query.
    public init(endpoint: PostgresEndpoint, schema: SchemaName, connectTimeoutMs: Int = 5000, commandTimeoutMs: Int = 30000) {
        self.client = PostgresClient(
            endpoint: endpoint, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs)
        self.schema = schema
    }

    /// Connects, logs in and checks the schema's migration ledger; returns the ledger's version.
    @discardableResult
    public func connect() async throws -> Int {
        _ = try await client.connect()
        return try await client.checkSchema(schema, location: location)
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
        let rows = try await client.query(
            """
            SELECT EXISTS (SELECT 1 FROM \(table("job")) WHERE queue = $1)
                OR EXISTS (SELECT 1 FROM \(table("meta")) WHERE queue = $1)
                OR EXISTS (SELECT 1 FROM \(table("scheduler")) WHERE queue = $1)
            """, [queue])
        return rows.scalar == "t"
    }

    // MARK: Counts

    /// Counts per state, each from the state's partial index (never a scan of the queue's finished history),
    /// the paused flag, and the creation time of the job at the head of each priority band, for many queues at
    /// once. Ready jobs with priority ≤ 0 are `waiting` (BullMQ takes them first), > 0 `prioritized`.
    private var overviewSQL: String {
        let job = table("job")
        func count(_ condition: String) -> String {
            "(SELECT count(*) FROM \(job) j WHERE j.queue = q.name AND \(condition))"
        }
        return """
            SELECT q.name,
                   \(count("j.state = 'waiting' AND j.priority <= 0")),
                   \(count("j.state = 'waiting' AND j.priority > 0")),
                   \(count("j.state = 'delayed'")),
                   \(count("j.state = 'active'")),
                   \(count("j.state = 'completed'")),
                   \(count("j.state = 'failed'")),
                   \(count("j.state = 'waiting-children'")),
                   (SELECT m.value FROM \(table("meta")) m WHERE m.queue = q.name AND m.field = 'paused'),
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
              FROM unnest($1::text[]) WITH ORDINALITY AS q(name, position)
             ORDER BY q.position
            """
    }

    public func overview(of queues: [String]) async throws -> [QueueOverview] {
        var overviews: [QueueOverview] = []
        // Bounded statements: at most 200 queues each.
        for start in stride(from: 0, to: queues.count, by: 200) {
            let chunk = Array(queues[start..<min(start + 200, queues.count)])
            let rows = try await client.query(overviewSQL, [PostgresArray.literal(chunk)])
            guard rows.rows.count == chunk.count else {
                throw PostgresError(code: .unexpectedReply, server: server, message: "counts for \(chunk.count) queues came back as \(rows.rows.count) rows")
            }
            for row in rows.rows { overviews.append(try overview(from: row)) }
        }
        return overviews
    }

    private static let countedStates: [JobState] = [
        .waiting, .prioritized, .delayed, .active, .completed, .failed, .waitingChildren,
    ]

    private func overview(from row: [String?]) throws -> QueueOverview {
        guard row.count == 10, let queue = row[0] else {
            throw PostgresError(code: .unexpectedReply, server: server, message: "count row has \(row.count) columns")
        }
        var counts = JobCounts()
        for (offset, state) in Self.countedStates.enumerated() {
            counts[state] = row[1 + offset].flatMap { Int($0) }
        }
        counts[.paused] = 0  // no legacy paused list on this backend; see isPaused
        let settings = QueueSettings(meta: row[8].map { ["paused": $0] } ?? [:], subject: "", pausedWhen: { $0 == "1" })
        return QueueOverview(
            queue: queue, counts: counts, isPaused: settings.isPaused,
            oldestWaitingTimestamp: row[9].flatMap { Int64($0) }, problems: [])
    }

    // MARK: Stats

    public func stats(of queue: String) async throws -> QueueStats {
        guard var overview = try await overview(of: [queue]).first else {
            throw PostgresError(code: .unexpectedReply, server: server, message: "no counts for queue \(queue)")
        }
        let metaRows = try await client.query("SELECT field, value FROM \(table("meta")) WHERE queue = $1", [queue])
        var meta: [String: String] = [:]
        for row in metaRows.rows where row.count == 2 {
            if let field = row[0], let value = row[1] { meta[field] = value }
        }
        let settings = QueueSettings(meta: meta, subject: "\(schema).meta", pausedWhen: { $0 == "1" })
        overview.problems += settings.problems

        // Active jobs whose lock has expired (or was never set): the next stalled check of any worker moves them
        // back to waiting. BullMQ's functions never check the expiry themselves; jobctl compares with its clock.
        let now = String(currentTimeMs())
        let stalled = try await client.query(
            """
            SELECT (SELECT count(*) FROM \(table("job")) WHERE queue = $1 AND state = 'active'
                       AND (locked_until_ms IS NULL OR locked_until_ms < $2::bigint)),
                   ARRAY(SELECT id FROM \(table("job")) WHERE queue = $1 AND state = 'active'
                           AND (locked_until_ms IS NULL OR locked_until_ms < $2::bigint)
                         ORDER BY locked_until_ms NULLS FIRST, id LIMIT 5)
            """, [queue, now])
        let row = stalled.rows.first ?? []
        return QueueStats(
            overview: overview, globalConcurrency: settings.globalConcurrency, rateLimit: settings.rateLimit,
            stalledCandidates: row.first.flatMap { $0.flatMap { Int($0) } },
            stalledCandidateSample: row.count > 1 ? PostgresArray.parse(row[1] ?? "{}") : [],
            recordedVersion: nil)
    }
}
