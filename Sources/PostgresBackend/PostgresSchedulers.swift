public import JobCore

/// Job schedulers on PostgreSQL: the schema's `scheduler` table, read as the Python client's getJobSchedulers reads
/// it, and written through the schema's own `add_job_scheduler` and `remove_job_scheduler`.
extension PostgresQueueStore {
    public func schedulers(of queues: [String], lastRuns: Bool) async throws -> [JobScheduler] {
        try await read(queues, id: nil, lastRuns: lastRuns)
    }

    public func scheduler(_ id: String, in queue: String) async throws -> JobScheduler? {
        try await read([queue], id: id, lastRuns: false).first
    }

    private func read(_ queues: [String], id: String?, lastRuns: Bool) async throws -> [JobScheduler] {
        guard !queues.isEmpty else { return [] }
        // The pending job by its id, and the newest finished iteration through the scheduler_id index.
        let rows = try await client.query(
            """
            SELECT s.scheduler_id, s.name, s.next_run_ms, s.iteration_count, s.limit_count, s.start_date_ms,
                   s.end_date_ms, s.tz, s.pattern, s.every_ms, s.offset_ms, s.template_data::text,
                   s.template_opts::text,
                   (SELECT CASE WHEN j.state = 'waiting' AND j.priority > 0 THEN 'prioritized' ELSE j.state::text END
                      FROM \(table("job")) j
                     WHERE j.queue = s.queue AND j.id = 'repeat:' || s.scheduler_id || ':' || s.next_run_ms),
                   l.id, l.state::text, l.finished_at_ms, s.queue
              FROM unnest($1::text[]) WITH ORDINALITY AS q(name, n)
             CROSS JOIN LATERAL (
                   SELECT * FROM \(table("scheduler"))
                    WHERE queue = q.name AND ($3::text IS NULL OR scheduler_id = $3)
                    ORDER BY next_run_ms, scheduler_id LIMIT \(JobScheduler.listLimit)) s
              LEFT JOIN LATERAL (
                   SELECT f.id, f.state, f.finished_at_ms FROM \(table("job")) f
                    WHERE $2 AND f.queue = s.queue AND f.scheduler_id = s.scheduler_id
                      AND f.state IN ('completed', 'failed')
                    ORDER BY f.finished_at_ms DESC LIMIT 1) l ON true
             ORDER BY q.n, s.next_run_ms, s.scheduler_id
            """, [PostgresArray.literal(queues), lastRuns ? "true" : "false", id])
        return rows.rows.compactMap { row -> JobScheduler? in
            guard row.count == 18, let id = row[0], let queue = row[17] else { return nil }
            func number(_ index: Int) -> Int64? { row[index].flatMap { Int64($0) } }
            var scheduler = JobScheduler(queue: queue, id: id, name: row[1] ?? "")
            scheduler.next = number(2)
            scheduler.iterationCount = number(3)
            scheduler.limit = number(4)
            scheduler.startDate = number(5)
            scheduler.endDate = number(6)
            scheduler.timeZone = row[7].flatMap { $0.isEmpty ? nil : $0 }
            scheduler.pattern = row[8].flatMap { $0.isEmpty ? nil : $0 }
            scheduler.every = number(9)
            scheduler.offset = number(10)
            func template(_ index: Int) -> JSONValue? {
                row[index].flatMap { try? JSONValue.parse($0) }.flatMap { $0 == .object([]) ? nil : $0 }
            }
            scheduler.templateData = template(11)
            scheduler.templateOpts = template(12)
            scheduler.nextJobState = row[13].flatMap { JobState(argument: $0) }
            if let lastId = row[14], let state = row[15].flatMap({ FinishedState(rawValue: $0) }), let at = number(16) {
                scheduler.last = JobScheduler.LastRun(jobId: lastId, state: state, finishedOn: at)
            }
            return scheduler
        }
    }

    public func upsertScheduler(
        _ spec: SchedulerSpec, in queue: String, now: Int64
    ) async throws -> (jobId: String, delayMs: Int64) {
        let (nextMillis, opts) = spec.firstIteration(now: now)
        let rows: PostgresRows
        do {
            rows = try await client.query(
                """
                SELECT job_id, delay
                  FROM \(table("add_job_scheduler"))($1, $2, $3::bigint, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb,
                       $8::bigint, NULL)
                """,
                [
                    queue, spec.id, String(nextMillis), spec.data.compactText, spec.opts.compactText,
                    spec.schedulerOptions.compactText, opts.compactText, String(now),
                ])
        } catch {
            guard error.sqlState == "BM001",
                let slotError = error.detail.flatMap({ Int($0) }).flatMap({
                    SchedulerSlotError(schedulerId: spec.id, code: $0)
                })
            else { throw error }
            throw slotError
        }
        guard let row = rows.rows.first, row.count == 2, let jobId = row[0] else {
            throw PostgresError(code: .unexpectedReply, server: server, message: "add_job_scheduler returned no job")
        }
        return (jobId, row[1].flatMap { Int64($0) } ?? 0)
    }

    public func removeSchedulers(_ ids: [String], in queue: String) async throws -> [SchedulerRemoval] {
        guard !ids.isEmpty else { return [] }
        // Whether the pending job had left delayed for waiting or running is read before the function, which removes
        // only a delayed one.
        let rows = try await client.query(
            """
            SELECT EXISTS (SELECT 1 FROM \(table("scheduler")) s JOIN \(table("job")) j
                             ON j.queue = s.queue AND j.id = 'repeat:' || s.scheduler_id || ':' || s.next_run_ms
                          WHERE s.queue = $1 AND s.scheduler_id = t.id AND j.state IN ('waiting', 'active')),
                   \(table("remove_job_scheduler"))($1, t.id)
              FROM unnest($2::text[]) WITH ORDINALITY AS t(id, n)
             ORDER BY t.n
            """, [queue, PostgresArray.literal(ids)])
        guard rows.rows.count == ids.count else {
            throw PostgresError(
                code: .unexpectedReply, server: server,
                message: "removing \(ids.count) schedulers was answered with \(rows.rows.count) rows")
        }
        return rows.rows.map { row in
            guard row.count == 2, row[1] == "0" else { return .notFound }
            return row[0] == "t" ? .removedNextJobLeft : .removed
        }
    }
}
