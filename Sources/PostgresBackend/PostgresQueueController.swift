public import JobCore

/// The writing side of the PostgreSQL store: every change goes through the schema's own functions (which write the
/// events and send the NOTIFY that BullMQ workers wait on), one batch per transaction.
extension PostgresQueueStore: QueueController {
    public var batchSize: Int { 1000 }

    private func function(_ name: String) -> String { "\(schema.quoted).\(name)" }

    public func jobIds(in queue: String, state: TimedState, times: Range<Int64>?) async throws -> [String] {
        let column: String
        let order: String
        switch state {
        case .completed, .failed: (column, order) = ("finished_at_ms", "finished_at_ms DESC NULLS LAST, id")
        case .delayed: (column, order) = ("process_at_ms", "process_at_ms NULLS LAST, id")
        }
        let range = times.map { "AND \(column) >= \($0.lowerBound) AND \(column) < \($0.upperBound)" } ?? ""
        let rows = try await client.query(
            "SELECT id FROM \(table("job")) WHERE queue = $1 AND state = $2::\(schema.quoted).job_state \(range) ORDER "
                + "BY \(order)",
            [queue, state.rawValue])
        return rows.rows.compactMap { $0.first ?? nil }
    }

    public func jobSpan(in queue: String, state: TimedState, times: Range<Int64>) async throws -> JobSpan {
        let column = state == .delayed ? "process_at_ms" : "finished_at_ms"
        let rows = try await client.query(
            "SELECT count(*), max(\(column)) FROM \(table("job")) "
                + "WHERE queue = $1 AND state = $2::\(schema.quoted).job_state "
                + "AND \(column) >= $3::bigint AND \(column) < $4::bigint",
            [queue, state.rawValue, String(times.lowerBound), String(times.upperBound)])
        guard let row = rows.rows.first, let count = row.first.flatMap({ $0.flatMap { Int($0) } }) else {
            throw PostgresError(code: .unexpectedReply, server: server, message: "counting jobs answered no row")
        }
        return JobSpan(count: count, latest: row.count > 1 ? row[1].flatMap { Int64($0) } : nil)
    }

    public var windowBatchSize: Int { batchSize }

    /// Deleting is cheap per row: 5,000 a statement keep each well under a second.
    public var deleteBatchSize: Int { 5000 }

    public func retryNewest(
        _ limit: Int, of state: FinishedState, finishedIn times: Range<Int64>, skipping: Int, in queue: String,
        resetAttempts: Bool, note: OperatorNote?
    ) async throws -> WindowOutcome {
        // The jobs a batch takes, then the batch by id: a job that leaves the state in between is skipped ("no
        // longer failed") and no longer in the window, so nothing stays in place for the next call.
        let rows = try await client.query(
            "SELECT id FROM \(table("job")) WHERE queue = $1 AND state = $2::\(schema.quoted).job_state "
                + "AND finished_at_ms >= $3::bigint AND finished_at_ms < $4::bigint "
                + "ORDER BY finished_at_ms DESC, id LIMIT $5::bigint OFFSET $6::bigint",
            [
                queue, state.rawValue, String(times.lowerBound), String(times.upperBound), String(limit),
                String(skipping),
            ])
        let ids = rows.rows.compactMap { $0.first ?? nil }
        guard !ids.isEmpty else { return WindowOutcome(moved: 0) }
        let outcome = try await retry(ids, in: queue, from: state, resetAttempts: resetAttempts, note: note)
        return WindowOutcome(moved: outcome.changed.count, skipped: outcome.skipped)
    }

    /// Calls a per-job function for every id of the batch, in order, in one statement (one transaction).
    ///
    /// Its reply codes become changed and skipped jobs. With a `logLine`, each job changed gets it in its log in the
    /// same statement, kept to the job's `keepLogs` newest lines as BullMQ's Job.log keeps them.
    private func perJob(
        _ call: String, queue: String, ids: [String], extra: [String?] = [], changedCode: Int64,
        logLine: String? = nil, reason: (JobReplyCode) -> String
    ) async throws -> BatchOutcome {
        let done = "SELECT u.id, u.n, \(call) AS code FROM unnest($2::text[]) WITH ORDINALITY AS u(id, n)"
        let rows = try await client.query(
            withJobLog(("", done), changedCode: changedCode, lineParameter: 3 + extra.count, logged: logLine != nil),
            [queue, PostgresArray.literal(ids)] + extra + (logLine.map { [$0] } ?? []))
        return try outcome(ids, rows, changedCode: changedCode, reason: reason)
    }

    /// A statement around `move.done` (a query of `id, n, code` for each id of a batch, over the common table
    /// expressions `move.ctes`) that answers `id, code` in order; when `logged`, each job whose code is `changedCode`
    /// also gets parameter `lineParameter` in its log, kept to the job's `keepLogs` newest lines as BullMQ's Job.log
    /// keeps them.
    private func withJobLog(
        _ move: (ctes: String, done: String), changedCode: Int64, lineParameter: Int, logged: Bool
    ) -> String {
        let head = "WITH \(move.ctes.isEmpty ? "" : move.ctes + ",\n") done AS MATERIALIZED (\(move.done))"
        guard logged else { return "\(head) SELECT id, code FROM done ORDER BY n" }
        let log = table("job_log")
        return """
            \(head),
                 logged AS (
                   INSERT INTO \(log) (queue, job_id, idx, "row")
                   SELECT $1, d.id,
                          COALESCE((SELECT max(l.idx) + 1 FROM \(log) l WHERE l.queue = $1 AND l.job_id = d.id), 0),
                          $\(lineParameter)
                     FROM done d WHERE d.code = \(changedCode)
                   RETURNING job_id, idx),
                 logTrimmed AS (
                   DELETE FROM \(log) o USING logged g, \(table("job")) j
                    WHERE o.queue = $1 AND o.job_id = g.job_id AND j.queue = $1 AND j.id = g.job_id
                      AND j.opts->>'keepLogs' ~ '^[0-9]{1,9}$' AND (j.opts->>'keepLogs')::bigint > 0
                      AND o.idx <= g.idx - (j.opts->>'keepLogs')::bigint)
            SELECT id, code FROM done ORDER BY n
            """
    }

    /// One statement that moves a batch of jobs from `state` to waiting, as the schema's per-job function does.
    ///
    /// What `reprocess_job` or `promote` does for each job in turn, for the whole batch at once: the rows locked, a new
    /// `seq` each in the batch's order, `set` applied, a `waiting` event each (`eventData`, in the same order, through
    /// the event table as `publish_event` writes it: its trimming every 256th id, its coalesced NOTIFY), and one NOTIFY
    /// for workers. Answers `id, n, code`: `changedCode`, -1 not found, -3 in another state (a repeated id too). A
    /// batch larger than the queue's event cap, or with `deferFlows` one holding a flow child, changes nothing and
    /// answers code NULL for every job: the caller then takes the function (which also re-links a child to its parent).
    private func setBasedMove(
        from state: String, set: String, eventData: String, changedCode: Int64, deferFlows: Bool
    ) -> (ctes: String, done: String) {
        let job = table("job")
        let event = table("event")
        let now = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
        // Rows the trimming would delete are older than the batch's own events only while the batch is no larger
        // than the queue's cap: a smaller cap, rare, takes the per-job function (a statement cannot delete rows it
        // inserts itself).
        let flows = deferFlows ? " OR EXISTS (SELECT 1 FROM locked WHERE parent_id IS NOT NULL)" : ""
        let ctes = """
            input AS (SELECT u.id, u.n FROM unnest($2::text[]) WITH ORDINALITY AS u(id, n)),
                 locked AS MATERIALIZED (
                   SELECT j.id, j.state, j.parent_id FROM \(job) j
                    WHERE j.queue = $1 AND j.id = ANY($2::text[]) ORDER BY j.id FOR UPDATE),
                 cap AS MATERIALIZED (
                   SELECT COALESCE(
                            (SELECT value::integer FROM \(table("meta"))
                              WHERE queue = $1 AND field = 'opts.maxLenEvents'),
                            10000) AS events),
                 batch AS MATERIALIZED (
                   SELECT ((SELECT events FROM cap) > 0
                           AND (SELECT events FROM cap) < (SELECT count(*) FROM input))\(flows) AS deferred),
                 first AS (
                   SELECT DISTINCT ON (i.id) i.id, i.n FROM input i JOIN locked l ON l.id = i.id
                    WHERE l.state = '\(state)' AND NOT (SELECT deferred FROM batch) ORDER BY i.id, i.n),
                 moving AS MATERIALIZED (
                   SELECT o.id, o.n, nextval('\(schema.quoted).job_seq') AS seq
                     FROM (SELECT id, n FROM first ORDER BY n) o),
                 moved AS (
                   UPDATE \(job) j SET \(set), seq = m.seq
                     FROM moving m WHERE j.queue = $1 AND j.id = m.id RETURNING j.id),
                 published AS (
                   INSERT INTO \(event) (queue, event, data, created_at_ms)
                   SELECT $1, 'waiting', \(eventData), \(now) FROM moving m ORDER BY m.n
                   RETURNING id),
                 eventsTrimmed AS (
                   DELETE FROM \(event) e
                    WHERE e.queue = $1
                      AND e.id <= (SELECT max(p.id) FROM published p, cap WHERE p.id % 256 = 0 AND p.id > cap.events)
                                  - (SELECT events FROM cap)
                      AND (SELECT events FROM cap) > 0
                      AND (SELECT pg_try_advisory_xact_lock(hashtext('bullmq:evtrim:' || $1)))),
                 woken AS (
                   SELECT pg_notify('bullmq_jobs', $1),
                          CASE WHEN pg_try_advisory_xact_lock(hashtext('bullmq:evnotify:' || $1))
                               THEN pg_notify('bullmq_events', $1) END
                    WHERE EXISTS (SELECT 1 FROM moving))
            """
        let done = """
            SELECT i.id, i.n,
                   CASE WHEN (SELECT deferred FROM batch) THEN NULL
                        WHEN m.id IS NOT NULL THEN \(changedCode)
                        WHEN NOT EXISTS (SELECT 1 FROM locked l WHERE l.id = i.id) THEN -1
                        ELSE -3 END AS code
              FROM input i LEFT JOIN moving m ON m.n = i.n
             WHERE (SELECT count(*) FROM woken) >= 0 AND (SELECT count(*) FROM moved) >= 0
            """
        return (ctes, done)
    }

    /// The per-job codes of a batch (the second column, one row per id in order) as changed and skipped jobs.
    private func outcome(
        _ ids: [String], _ rows: PostgresRows, changedCode: Int64, reason: (JobReplyCode) -> String
    ) throws
        -> BatchOutcome
    {
        guard rows.rows.count == ids.count else {
            throw PostgresError(
                code: .unexpectedReply, server: server,
                message: "a batch of \(ids.count) jobs was answered with \(rows.rows.count) rows")
        }
        let codes = rows.rows.map { row in row.count > 1 ? row[1].flatMap { Int64($0) } : nil }
        return BatchOutcome(ids: ids, codes: codes, changedCode: changedCode, reason: reason)
    }

    public func retry(
        _ ids: [String], in queue: String, from state: FinishedState, resetAttempts: Bool, note: OperatorNote?
    ) async throws
        -> BatchOutcome
    {
        // What reprocess_job (BullMQ's Job.retry) does to each job, for the batch at once. Python passes the
        // retry's own lifo option (false unless asked), not the job's: seq stays positive.
        let reset = "$3::boolean"
        let statement = setBasedMove(
            from: state.rawValue,
            set: """
                state = 'waiting', process_at_ms = NULL, processed_at_ms = NULL, finished_at_ms = NULL,
                return_value = NULL, failed_reason = NULL, stacktrace = NULL,
                attempts_made = CASE WHEN \(reset) THEN 0 ELSE j.attempts_made END,
                attempts_started = CASE WHEN \(reset) THEN 0 ELSE j.attempts_started END
                """,
            eventData: "jsonb_build_object('jobId', m.id, 'prev', '\(state.rawValue)')", changedCode: 1,
            deferFlows: true)
        return try await runMove(
            ids, in: queue, setBased: statement, parameters: [resetAttempts ? "true" : "false"], changedCode: 1,
            note: note,
            function: "\(function("reprocess_job"))($1, u.id, $3, false, $4::boolean, $4::boolean)",
            functionParameters: [state.rawValue, resetAttempts ? "true" : "false"]
        ) { $0 == .notFound ? "not found" : "no longer \(state.rawValue)" }
    }

    public func promote(_ ids: [String], in queue: String, note: OperatorNote?) async throws -> BatchOutcome {
        // What promote() (BullMQ's Job.promote) does to each job, for the batch at once.
        let statement = setBasedMove(
            from: "delayed", set: "state = 'waiting', process_at_ms = NULL, delay_ms = 0",
            eventData: "jsonb_build_object('jobId', m.id, 'prev', 'delayed')", changedCode: 0, deferFlows: false)
        return try await runMove(
            ids, in: queue, setBased: statement, parameters: [], changedCode: 0, note: note,
            function: "\(function("promote"))($1, u.id)", functionParameters: []
        ) { $0 == .notFound ? "not found" : "not delayed" }
    }

    /// Runs a `setBasedMove` statement on a batch (its own `parameters` after the queue and ids, then the log line
    /// when there is a `note`); when it deferred the batch, calls the per-job `function` instead.
    private func runMove(
        _ ids: [String], in queue: String, setBased move: (ctes: String, done: String), parameters: [String],
        changedCode: Int64, note: OperatorNote?, function call: String, functionParameters: [String],
        reason: (JobReplyCode) -> String
    ) async throws -> BatchOutcome {
        let rows = try await client.query(
            withJobLog(move, changedCode: changedCode, lineParameter: 3 + parameters.count, logged: note != nil),
            [queue, PostgresArray.literal(ids)] + parameters + (note.map { [$0.jobLogLine] } ?? []))
        guard rows.rows.contains(where: { $0.count > 1 && $0[1] == nil }) else {
            return try outcome(ids, rows, changedCode: changedCode, reason: reason)
        }
        // A flow child is in the batch (the function re-links each child to its parent), or the event cap is small.
        return try await perJob(
            call, queue: queue, ids: ids, extra: functionParameters, changedCode: changedCode,
            logLine: note?.jobLogLine, reason: reason)
    }

    public func remove(_ ids: [String], in queue: String, force: Bool) async throws -> BatchOutcome {
        let job = table("job")
        let now = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
        // remove() answers 0 both for a missing job and for a locked one; look first, in the same transaction.
        let check = """
            SELECT u.id, CASE
                WHEN j.id IS NULL THEN -1
                WHEN j.scheduler_id IS NOT NULL THEN -8
                WHEN NOT $3::boolean AND j.lock_token IS NOT NULL AND j.locked_until_ms > \(now) THEN 0
                ELSE \(function("remove"))($1, u.id, true) END
              FROM unnest($2::text[]) WITH ORDINALITY AS u(id, n)
              LEFT JOIN \(job) j ON j.queue = $1 AND j.id = u.id
             ORDER BY u.n
            """
        var statements: [(String, [String?])] = []
        if force {
            // The lock is the only thing remove() refuses to take away; the worker holding it finds the job gone.
            statements.append(
                (
                    "UPDATE \(job) SET lock_token = NULL, locked_until_ms = NULL WHERE queue = $1 AND id = "
                        + "ANY($2::text[]) AND lock_token IS NOT NULL",
                    [queue, PostgresArray.literal(ids)]
                ))
        }
        statements.append((check, [queue, PostgresArray.literal(ids), force ? "true" : "false"]))
        guard let rows = try await client.transaction(statements).last else {
            throw PostgresError(code: .unexpectedReply, server: server, message: "remove answered no rows")
        }
        // remove() returns the number of rows deleted (the job and its children): any positive count is success,
        // 0 a child held by a worker.
        let normalized = PostgresRows(
            columns: rows.columns,
            rows: rows.rows.map { row in
                [row[0], row.count > 1 && (row[1].flatMap { Int($0) } ?? 0) > 0 ? "1" : row[1]]
            })
        return try outcome(ids, normalized, changedCode: 1) { code in
            switch code {
            case .notFound: return "not found"
            case .schedulerJob: return JobReplyCode.schedulerJobReason
            default: return JobReplyCode.lockedReason
            }
        }
    }

    public func drain(_ state: ReadyState, in queue: String, limit: Int, skipping: Int) async throws -> DrainOutcome {
        // BullMQ's drain() deletes everything in one transaction; its clean() does the same per ready state, with a
        // limit and the same handling of scheduler jobs and flow parents: what `deleteOldest` does per batch.
        let type: String
        let chosen: String
        switch state {
        case .waiting, .paused: (type, chosen) = ("wait", "state = 'waiting' AND priority = 0")
        case .prioritized: (type, chosen) = ("prioritized", "state = 'waiting' AND priority > 0")
        case .delayed: (type, chosen) = ("delayed", "state = 'delayed'")
        }
        let now = String(currentTimeMs())
        let removed = try await deleteOldest(
            where: "\(chosen) AND added_at_ms <= $2::bigint AND scheduler_id IS NULL", orderBy: "seq",
            queue: queue, parameters: [now, String(limit)], function: [type, now, String(limit)])
        return DrainOutcome(removed: removed, kept: 0)
    }

    public func clean(
        _ state: FinishedState, in queue: String, finishedBefore: Int64, limit: Int
    ) async throws -> Int {
        // Along the schema's index of finished jobs, the oldest by finish time (clean() sorts every matching job by
        // seq on each call: quadratic over many batches).
        let limit = String(max(limit, 1))
        return try await deleteOldest(
            where: "state = '\(state.rawValue)' AND finished_at_ms <= $2::bigint", orderBy: "finished_at_ms, id",
            queue: queue, parameters: [String(finishedBefore), limit],
            function: [state.rawValue, String(finishedBefore), limit])
    }

    /// What the schema's clean() does to a batch, as one statement.
    ///
    /// Up to `$3` jobs matching `where` (over `$1` the queue and `$2`) in `orderBy` order lose their dependency links
    /// and are deleted, and one `cleaned` event gives their count as text. A batch with a flow child calls clean()
    /// itself (with `function`: its type, time and limit), which releases the child's parent. Answers how many went.
    private func deleteOldest(
        where condition: String, orderBy: String, queue: String, parameters: [String], function arguments: [String]
    ) async throws -> Int {
        let job = table("job")
        let rows = try await client.query(
            """
            -- The delete finds the chosen rows by their tuple ids (no index lookups) and checks the condition
            -- again: a row a worker changed meanwhile is a new version, which it leaves (no FOR UPDATE, which
            -- would write every row twice).
            WITH chosen AS MATERIALIZED (
                   SELECT ctid AS tid, id, parent_id FROM \(job) WHERE queue = $1 AND \(condition)
                    ORDER BY \(orderBy) LIMIT $3::integer),
                 batch AS MATERIALIZED (
                   SELECT EXISTS (SELECT 1 FROM chosen WHERE parent_id IS NOT NULL) AS deferred),
                 gone AS (
                   DELETE FROM \(job) WHERE ctid = ANY (ARRAY(SELECT tid FROM chosen)) AND queue = $1 AND \(condition)
                      AND NOT (SELECT deferred FROM batch)
                   RETURNING id),
                 -- As clean() does, the batch's ids lose their links as children; only a flow child (none in a
                 -- batch that gets here) should have one, so one probe a batch first, not one a job.
                 unlinked AS (
                   DELETE FROM \(table("job_dependency"))
                    WHERE child_queue = $1 AND child_id = ANY (ARRAY(SELECT id FROM gone))
                      AND EXISTS (SELECT 1 FROM \(table("job_dependency")) WHERE child_queue = $1)),
                 announced AS (
                   SELECT \(function("publish_event"))($1, 'cleaned',
                            jsonb_build_object('count', (SELECT count(*) FROM gone)::text))
                    WHERE EXISTS (SELECT 1 FROM gone))
            SELECT (SELECT deferred FROM batch), (SELECT count(*) FROM gone)
             WHERE (SELECT count(*) FROM announced) >= 0
            """, [queue] + parameters)
        // The count, not the ids: the commands report counts, and 5,000 ids a batch are bytes for nothing.
        guard let row = rows.rows.first, row.count == 2, let deferred = row[0], let count = row[1].flatMap({ Int($0) })
        else {
            throw PostgresError(code: .unexpectedReply, server: server, message: "a delete batch answered \(rows.rows)")
        }
        guard deferred == "t" else { return count }
        let cleaned = try await client.query(
            "SELECT count(*) FROM \(function("clean"))($1, $2, $3::bigint, $4::integer)", [queue] + arguments)
        return cleaned.rows.first?.first?.flatMap { Int($0) } ?? 0
    }

    public func setPaused(_ paused: Bool, queue: String) async throws {
        _ = try await client.query("SELECT \(function("pause"))($1, $2::boolean)", [queue, paused ? "true" : "false"])
    }

    public func setGlobalConcurrency(_ concurrency: Int64, queue: String) async throws {
        try await setMeta(["concurrency": String(concurrency)], queue: queue)
    }

    public func setGlobalRateLimit(_ limit: RateLimit, queue: String) async throws {
        try await setMeta(["max": String(limit.max), "duration": String(limit.durationMs)], queue: queue)
    }

    /// The meta rows BullMQ's functions read (the Python client has no call that writes them).
    private func setMeta(_ fields: [String: String], queue: String) async throws {
        let pairs = fields.sorted { $0.key < $1.key }
        _ = try await client.query(
            """
            INSERT INTO \(table("meta")) (queue, field, value)
            SELECT $1, f, v FROM unnest($2::text[], $3::text[]) AS t(f, v)
            ON CONFLICT (queue, field) DO UPDATE SET value = EXCLUDED.value
            """, [queue, PostgresArray.literal(pairs.map(\.key)), PostgresArray.literal(pairs.map(\.value))])
    }

    public func add(_ jobs: [NewJob], to queue: String, note: OperatorNote?) async throws -> [AddedJob] {
        // The entries the Python client's addBulk gives add_jobs_bulk (jobctl adds no flow children and no
        // deduplicated jobs, the two it sends to add_flow instead): opts as it stores them, max_attempts =
        // attempts or 1. The data goes as its JSON text, which the function parses back: a bare string survives.
        let entries = JSONValue.array(
            jobs.map { job in
                .object([
                    ("id", .string(job.id ?? "")), ("name", .string(job.name)), ("data", .string(job.data.compactText)),
                    ("opts", job.storedOptions(backoffNull: true)), ("priority", .int(job.priority)),
                    ("delay", .int(job.delayMs)), ("timestamp", .int(job.timestamp)),
                    ("attempts", .int(job.attempts ?? 1)), ("lifo", .bool(job.lifo)),
                ])
            })
        // One set-based call per batch. A custom id that exists already, or came earlier in the batch, adds
        // nothing (the statement's snapshot is from before the call). With a note, each new job's log starts
        // with its line, in the same statement.
        let rows = try await client.query(
            """
            WITH entries AS MATERIALIZED (
                   SELECT e.n, NULLIF(e.value->>'id', '') IS NOT NULL
                               AND (EXISTS (SELECT 1 FROM \(table("job")) j
                                             WHERE j.queue = $1 AND j.id = e.value->>'id')
                                    OR count(*) OVER (PARTITION BY e.value->>'id' ORDER BY e.n) > 1) AS existed
                     FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e(value, n)),
                 added AS MATERIALIZED (
                   SELECT a.id, a.n FROM \(function("add_jobs_bulk"))($1, $2::jsonb) WITH ORDINALITY AS a(id, n)),
                 logged AS (
                   INSERT INTO \(table("job_log")) (queue, job_id, idx, "row")
                   SELECT $1, a.id, 0, $3::text FROM added a JOIN entries e USING (n)
                    WHERE $3::text IS NOT NULL AND NOT e.existed
                   ON CONFLICT DO NOTHING)
            SELECT e.existed, a.id FROM entries e JOIN added a USING (n) ORDER BY n
            """, [queue, entries.compactText, note?.jobLogLine])
        guard rows.rows.count == jobs.count else {
            throw PostgresError(
                code: .unexpectedReply, server: server,
                message: "adding \(jobs.count) jobs was answered with \(rows.rows.count) rows")
        }
        return try rows.rows.map { row in
            guard row.count == 2, let id = row[1] else {
                throw PostgresError(code: .unexpectedReply, server: server, message: "add_jobs_bulk returned no id")
            }
            return AddedJob(id: id, duplicate: row[0] == "t")
        }
    }
}
