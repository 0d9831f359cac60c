public import JobCore

extension PostgresQueueStore {
    /// How many log lines `job(in:id:)` reads at most (the newest ones).
    static let logLineLimit = 1000

    /// The columns read for a job, in this order; jsonb and enum columns as their text.
    static let jobColumnNames = [
        "id", "name", "state", "data", "opts", "priority", "delay_ms", "attempts_made", "attempts_started",
        "progress", "return_value", "failed_reason", "stacktrace", "deferred_failure", "processed_by",
        "added_at_ms", "processed_at_ms", "finished_at_ms", "lock_token", "locked_until_ms", "stalled_count",
        "dedup_id", "scheduler_id", "parent_queue", "parent_id", "parent_key", "seq", "process_at_ms",
        "max_attempts", "pending_deps", "stalled_marked",
    ]
    static let jobColumns = jobColumnNames.map {
        ["state", "data", "opts", "progress", "return_value", "stacktrace"].contains($0) ? "\($0)::text" : $0
    }
    .joined(separator: ", ")

    /// How one state is listed: which rows, in which order (the order BullMQ handles them; finished jobs newest
    /// first), and the sort key the cursor keeps.
    ///
    /// Every order ends with the id, so it is total.
    struct Listing {
        var condition: String
        /// Sort columns before the id, with their SQL types.
        var keys: [(column: String, type: String)]
        var descending: Bool
        /// Whether the (single) key column may be NULL: such rows, which BullMQ never writes, come last.
        var nullable: Bool

        static func of(_ state: JobState) -> Listing? {
            switch state {
            case .waiting:
                return Listing(
                    condition: "state = 'waiting' AND priority <= 0", keys: [("priority", "int"), ("seq", "bigint")],
                    descending: false, nullable: false)
            case .prioritized:
                return Listing(
                    condition: "state = 'waiting' AND priority > 0", keys: [("priority", "int"), ("seq", "bigint")],
                    descending: false, nullable: false)
            case .delayed:
                return Listing(
                    condition: "state = 'delayed'", keys: [("process_at_ms", "bigint")], descending: false,
                    nullable: true)
            case .active:
                return Listing(
                    condition: "state = 'active'", keys: [("processed_at_ms", "bigint")], descending: false,
                    nullable: true)
            case .completed:
                return Listing(
                    condition: "state = 'completed'", keys: [("finished_at_ms", "bigint")], descending: true,
                    nullable: true)
            case .failed:
                return Listing(
                    condition: "state = 'failed'", keys: [("finished_at_ms", "bigint")], descending: true,
                    nullable: true)
            case .waitingChildren:
                return Listing(
                    condition: "state = 'waiting-children'", keys: [("seq", "bigint")], descending: false,
                    nullable: false)
            case .paused:
                return nil  // BullMQ on Postgres has no paused list: a paused queue's jobs stay waiting
            }
        }
    }

    public func jobs(in queue: String, state: JobState, limit: Int, cursor: String?) async throws -> JobPage {
        let after = try cursor.map { text throws(InvalidCursorError) in try PageCursor(decoding: text, for: state) }
        let limit = JobPage.clampedLimit(limit)
        guard let listing = Listing.of(state) else {
            return JobPage(jobs: [], nextCursor: nil, vanishedIds: [], problems: [])
        }
        let keyList = listing.keys.map(\.column)
        let direction = listing.descending ? " DESC" : ""
        var rows: [[String?]] = []
        var reachedNullKeys = after?.position == Self.nullPosition

        if !reachedNullKeys {
            // Keyset paging: rows strictly after the last one shown, in the listing's order.
            var parameters: [String?] = [queue, String(limit + 1)]
            var sql = "SELECT \(Self.jobColumns) FROM \(table("job")) WHERE queue = $1 AND \(listing.condition)"
            if listing.nullable { sql += " AND \(keyList[0]) IS NOT NULL" }
            if let after {
                let values = after.position.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard values.count == listing.keys.count, values.allSatisfy({ Int64($0) != nil }) else {
                    throw InvalidCursorError(reason: "its position does not fit this backend")
                }
                let placeholders = listing.keys.enumerated().map { "$\($0.offset + 3)::\($0.element.type)" }
                sql +=
                    " AND (\((keyList + ["id"]).joined(separator: ", "))) \(listing.descending ? "<" : ">") "
                    + "(\((placeholders + ["$\(listing.keys.count + 3)"]).joined(separator: ", ")))"
                parameters += values.map { Optional($0) } + [after.lastId]
            }
            sql += " ORDER BY " + (keyList + ["id"]).map { $0 + direction }.joined(separator: ", ") + " LIMIT $2"
            rows = try await client.query(sql, parameters).rows
            if rows.count <= limit && listing.nullable { reachedNullKeys = true }
        }
        if reachedNullKeys && rows.count <= limit {
            // Rows without a sort key (never written by BullMQ), by id, after all the others.
            var parameters: [String?] = [queue, String(limit + 1 - rows.count)]
            var sql =
                "SELECT \(Self.jobColumns) FROM \(table("job")) WHERE queue = $1 AND \(listing.condition)"
                + " AND \(keyList[0]) IS NULL"
            if let after, after.position == Self.nullPosition {
                sql += " AND id > $3"
                parameters.append(after.lastId)
            }
            rows += try await client.query(sql + " ORDER BY id LIMIT $2", parameters).rows
        }

        let hasMore = rows.count > limit
        let shown = Array(rows.prefix(limit))
        var jobs = shown.map { decodeJobRow(queue: queue, row: $0, now: currentTimeMs()) }
        for index in jobs.indices { jobs[index].state = state }
        var next: String?
        if hasMore, let last = shown.last {
            let keyValues = listing.keys.indices.map { last[Self.columnIndex(of: keyList[$0])] }
            let position =
                keyValues.contains(where: { $0 == nil })
                ? Self.nullPosition : keyValues.map { $0 ?? "" }.joined(separator: ",")
            next = PageCursor(state: state, position: position, lastId: last[0] ?? "").encoded
        }
        return JobPage(jobs: jobs, nextCursor: next, vanishedIds: [], problems: [])
    }

    /// The cursor position of a row whose sort key is NULL.
    static let nullPosition = "null"

    static func columnIndex(of column: String) -> Int {
        jobColumnNames.firstIndex(of: column) ?? 0
    }

    public func job(in queue: String, id: String) async throws -> JobRecord? {
        let rows = try await client.query(
            "SELECT \(Self.jobColumns) FROM \(table("job")) WHERE queue = $1 AND id = $2", [queue, id])
        guard let row = rows.rows.first else { return nil }
        var job = decodeJobRow(queue: queue, row: row, now: currentTimeMs())
        let logs = try await client.query(
            """
            SELECT (SELECT count(*) FROM \(table("job_log")) WHERE queue = $1 AND job_id = $2),
                   ARRAY(SELECT row FROM \(table("job_log")) WHERE queue = $1 AND job_id = $2
                          ORDER BY idx DESC LIMIT \(Self.logLineLimit))
            """, [queue, id])
        if let logRow = logs.rows.first, logRow.count == 2 {
            job.logCount = logRow[0].flatMap { Int($0) } ?? 0
            job.logs = PostgresArray.parse(logRow[1] ?? "{}").reversed()
        }
        if job.logCount > job.logs.count {
            job.problems.append(
                DataProblem(
                    subject: "\(schema).job_log",
                    message: "showing the last \(job.logs.count) of \(job.logCount) log lines"))
        }
        return job
    }

    /// A `job` row as BullMQ's clients present it (the Python backend's `_row_to_job_map`): a waiting job with
    /// priority > 0 is prioritized, the flow parent is `{id, queueKey}`, columns that have no BullMQ field are
    /// listed as other fields.
    func decodeJobRow(queue: String, row: [String?], now: Int64) -> JobRecord {
        var values: [String: String?] = [:]
        for (name, value) in zip(Self.jobColumnNames, row) { values[name] = value }
        func text(_ column: String) -> String? { values[column] ?? nil }
        var job = JobRecord(queue: queue, id: text("id") ?? "")
        func integer(_ column: String) -> Int64? {
            guard let raw = text(column) else { return nil }
            guard let value = Int64(raw) else {
                job.problems.append(
                    DataProblem(subject: "column \(column)", message: "'\(raw.prefix(40))' is not an integer"))
                return nil
            }
            return value
        }
        func json(_ column: String) -> StoredJSON? { text(column).map(StoredJSON.init(raw:)) }

        job.name = text("name")
        job.priority = integer("priority")
        if let state = text("state") {
            job.state = state == "waiting" && (job.priority ?? 0) > 0 ? .prioritized : JobState(rawValue: state)
        }
        job.data = json("data")
        job.opts = json("opts")
        if case .valid(let opts) = job.opts, case .object = opts {
        } else if job.opts != nil {
            job.problems.append(
                DataProblem(
                    subject: "column opts", message: "is not a JSON object; BullMQ clients cannot read this job"))
        }
        job.progress = json("progress")
        job.returnValue = json("return_value")
        job.delay = integer("delay_ms")
        job.attemptsMade = integer("attempts_made") ?? 0
        job.attemptsStarted = integer("attempts_started") ?? 0
        job.stalledCounter = integer("stalled_count") ?? 0
        job.failedReason = text("failed_reason")
        if let stacktrace = text("stacktrace") {
            if case .valid(.array(let lines)) = StoredJSON(raw: stacktrace) {
                job.stacktrace = lines.map { if case .string(let line) = $0 { line } else { $0.compactText } }
            } else {
                job.problems.append(DataProblem(subject: "column stacktrace", message: "is not a JSON array"))
            }
        }
        job.deferredFailure = text("deferred_failure")
        job.processedBy = text("processed_by")
        job.timestamp = integer("added_at_ms")
        job.processedOn = integer("processed_at_ms")
        job.finishedOn = integer("finished_at_ms")
        job.repeatJobKey = text("scheduler_id")
        job.deduplicationId = text("dedup_id")
        job.parentKey = text("parent_key")
        if let parentId = text("parent_id") {
            job.parent = .valid(
                .object([("id", .string(parentId)), ("queueKey", .string(text("parent_queue") ?? ""))]))
        }
        if let token = text("lock_token") {
            // The schema's functions never check the expiry; show how long is left (negative: expired).
            job.lock = JobLock(token: token, ttlMs: integer("locked_until_ms").map { $0 - now })
        }
        if let priority = job.priority, priority < 0, text("state") == "waiting" {
            job.problems.append(
                DataProblem(
                    subject: "column priority",
                    message:
                        "\(priority) is negative: workers take it first, BullMQ's counts miss it (jobctl counts it as "
                        + "waiting)"
                ))
        }
        for column in ["seq", "process_at_ms", "max_attempts", "pending_deps", "stalled_marked"] {
            if let value = text(column) { job.otherFields.append((column, value)) }
        }
        return job
    }
}
