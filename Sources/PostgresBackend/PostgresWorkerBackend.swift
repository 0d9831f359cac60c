import FoundationEssentials
public import JobCore

/// The worker side of the PostgreSQL store: BullMQ's worker functions (`move_to_active`, `move_to_completed`,
/// `move_to_failed`, `retry_job`, `move_to_delayed`, `move_stalled_jobs_to_wait`), several calls per statement so
/// that a batch of jobs costs one round trip and one transaction.
extension PostgresQueueStore: WorkerBackend {
    public func claim(
        queue: String, tokens: [String], lockDurationMs: Int64, limiter: RateLimit?
    ) async throws -> ClaimResult {
        let now = currentTimeMs()
        let limiterMax = limiter.map { String($0.max) }
        let limiterDuration = limiter.map { String($0.durationMs) }
        // One move_to_active call per token, in order, in one transaction: each call sees the claims before it, so
        // pause, the global concurrency and the rate limit hold for the batch as a whole.
        let rows = try await client.query(
            """
            SELECT j.id, j.name, j.data::text, j.opts::text, j.attempts_made, j.added_at_ms, j.lock_token,
                   j.deferred_failure, j.stacktrace::text, j.scheduler_id
              FROM unnest($2::text[]) WITH ORDINALITY AS t(token, n)
             CROSS JOIN LATERAL
                   \(table("move_to_active"))($1, t.token, $3::bigint, $4::bigint, $7, $5::integer, $6::bigint) AS j
             ORDER BY t.n
            """,
            [
                queue, PostgresArray.literal(tokens), String(lockDurationMs), String(now), limiterMax, limiterDuration,
                worker?.name,
            ])
        let jobs = rows.rows.compactMap { row -> ClaimedJob? in
            guard row.count == 10, let id = row[0], let token = row[6] else { return nil }
            let opts = row[3].flatMap { try? JSONValue.parse($0) } ?? .object([])
            return ClaimedJob(
                queue: queue, id: id, name: row[1] ?? "", data: row[2] ?? "null", opts: opts,
                attemptsMade: row[4].flatMap { Int64($0) } ?? 0, timestamp: row[5].flatMap { Int64($0) } ?? 0,
                token: token,
                deferredFailure: row[7], stacktrace: ClaimedJob.storedStacktrace(row[8]), schedulerId: row[9])
        }
        guard jobs.count < tokens.count else { return ClaimResult(jobs: jobs, wait: nil) }
        return ClaimResult(jobs: jobs, wait: try await whyNothingMore(queue: queue, limiterMax: limiterMax, now: now))
    }

    public func advanceSchedulers(
        queue: String, _ advances: [SchedulerAdvance], now: Int64
    ) async throws -> [SchedulerAdvanceResult] {
        guard !advances.isEmpty else { return [] }
        // The schema's own function per advance, in order, in one statement: it works out `every` with its own
        // formula, guards by the producer, and answers NULL when the job is not the current iteration (or the next
        // one exists: it then publishes `duplicated` itself).
        let rows = try await client.query(
            """
            SELECT u.job_id
              FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[])
                   WITH ORDINALITY AS a(scheduler_id, producer_id, next_ms, data, opts, n)
             CROSS JOIN LATERAL \(table("update_job_scheduler_next_millis"))(
                   $1, a.scheduler_id, a.next_ms, a.data::jsonb, a.opts::jsonb, $7::bigint, a.producer_id) AS u(job_id)
             ORDER BY a.n
            """,
            [
                queue, PostgresArray.literal(advances.map(\.schedulerId)),
                PostgresArray.literal(advances.map(\.producerId)),
                PostgresArray.literal(advances.map { String($0.nextMillis) }),
                PostgresArray.literal(advances.map(\.data)), PostgresArray.literal(advances.map(\.opts.compactText)),
                String(now),
            ])
        guard rows.rows.count == advances.count else {
            throw PostgresError(
                code: .unexpectedReply, server: server,
                message: "\(advances.count) scheduler advances were answered with \(rows.rows.count) rows")
        }
        return rows.rows.map { row in row.first.flatMap { $0 }.map { .created(jobId: $0) } ?? .notCurrent }
    }

    /// After a short claim: paused, at the global concurrency, rate limited, or simply empty.
    private func whyNothingMore(queue: String, limiterMax: String?, now: Int64) async throws -> ClaimWait {
        let rows = try await client.query(
            """
            SELECT EXISTS (SELECT 1 FROM \(table("meta")) WHERE queue = $1 AND field = 'paused' AND value = '1'),
                   COALESCE((SELECT count(*) FROM \(table("job")) WHERE queue = $1 AND state = 'active')
                            >= (SELECT CASE WHEN value ~ '^[0-9]+$' THEN value::bigint END FROM \(table("meta"))
                                 WHERE queue = $1 AND field = 'concurrency'), false),
                   s.rate_limit_ttl, s.next_delay
              FROM \(table("next_signal"))($1, $2::integer, $3::bigint) AS s
            """, [queue, limiterMax, String(now)])
        let row = rows.rows.first ?? []
        func column(_ index: Int) -> String? { row.count > index ? row[index] : nil }
        if column(0) == "t" { return .paused }
        if let ttl = column(2).flatMap({ Int64($0) }), ttl > 0 { return .rateLimited(ms: ttl) }
        if column(1) == "t" { return .maxed }
        return .empty(nextDelayedAt: column(3).flatMap { Int64($0) })
    }

    public func finish(
        queue: String, _ jobs: [(job: ClaimedJob, finish: Finish)], metricsDataPoints: Int?
    ) async throws -> [LostJob] {
        guard !jobs.isEmpty else { return [] }
        // In id order, so that two workers finishing overlapping sets lock rows in the same order.
        let ordered = jobs.sorted { $0.job.id < $1.job.id }
        var lost: [LostJob] = []
        do {
            try await runFinishes(queue: queue, ordered)
        } catch let error as PostgresError where error.sqlState == "BM001" {
            // One refused finish undoes the statement: finish one by one to tell the refused ones apart.
            for entry in ordered {
                do {
                    try await runFinishes(queue: queue, [entry])
                } catch let error as PostgresError where error.sqlState == "BM001" {
                    lost.append(LostJob(id: entry.job.id, reason: Self.refusal(error)))
                }
            }
        }
        if let metricsDataPoints {
            // As the Python worker: collect_metrics once per completion or final failure.
            let lostIds = Set(lost.map(\.id))
            let kinds = ordered.filter { !lostIds.contains($0.job.id) }.compactMap { entry -> String? in
                switch entry.finish {
                case .complete: return "completed"
                case .fail: return "failed"
                case .retryNow, .retryLater: return nil
                }
            }
            if !kinds.isEmpty {
                _ = try await finisher.query(
                    "SELECT \(table("collect_metrics"))($1, k.kind, $2::integer, $3::bigint) FROM unnest($4::text[]) "
                        + "WITH ORDINALITY AS k(kind, n) ORDER BY k.n",
                    [queue, String(metricsDataPoints), String(currentTimeMs()), PostgresArray.literal(kinds)])
            }
        }
        return lost
    }

    private static func refusal(_ error: PostgresError) -> String {
        switch error.detail {
        case "-1": return "the job no longer exists"
        case "-2", "-6": return "another worker holds its lock now (the stalled check gave it away)"
        case "-3": return "it is no longer active (the stalled check or an operator moved it)"
        default: return error.message
        }
    }

    /// Finishes go on a connection of their own, so that they run beside the next claim.
    private var finisher: PostgresClient { clients[1] }

    private func runFinishes(queue: String, _ jobs: [(job: ClaimedJob, finish: Finish)]) async throws {
        let entries = JSONValue.array(
            jobs.map { job, finish in
                var pairs: [(String, JSONValue)] = [("id", .string(job.id)), ("token", .string(job.token))]
                func keep(_ retention: Retention) {
                    pairs += [
                        ("removeAll", .bool(retention.removeAll)), ("keepAge", .optionalInt(retention.keepAgeSeconds)),
                        ("keepCount", .optionalInt(retention.keepCount)),
                    ]
                }
                func trace(_ traces: [String]) -> JSONValue { .array(traces.map { .string($0) }) }
                switch finish {
                case .complete(let value, let retention):
                    pairs += [
                        ("kind", .string("complete")), ("value", (try? JSONValue.parse(value)) ?? .string(value)),
                    ]
                    keep(retention)
                case .fail(let reason, let traces, let retention):
                    pairs += [("kind", .string("fail")), ("reason", .string(reason)), ("stack", trace(traces))]
                    keep(retention)
                case .retryNow(let reason, let traces):
                    pairs += [
                        ("kind", .string("retry")), ("reason", .string(reason)), ("stack", trace(traces)),
                        ("lifo", .bool(job.isLifo)),
                    ]
                case .retryLater(let delay, let reason, let traces):
                    pairs += [
                        ("kind", .string("delay")), ("reason", .string(reason)), ("stack", trace(traces)),
                        ("delay", .int(delay)),
                    ]
                }
                return .object(pairs)
            })
        _ = try await finisher.query(
            """
            SELECT e.n, CASE e.v->>'kind'
                WHEN 'complete' THEN \(table("move_to_completed"))(
                    $1, e.v->>'id', e.v->>'token', e.v->'value', $2::bigint,
                    (e.v->>'removeAll')::boolean, (e.v->>'keepAge')::bigint, (e.v->>'keepCount')::integer)
                WHEN 'fail' THEN \(table("move_to_failed"))(
                    $1, e.v->>'id', e.v->>'token', e.v->>'reason', e.v->'stack', $2::bigint,
                    (e.v->>'removeAll')::boolean, (e.v->>'keepAge')::bigint, (e.v->>'keepCount')::integer)
                WHEN 'retry' THEN \(table("retry_job"))(
                    $1, e.v->>'id', e.v->>'token', (e.v->>'lifo')::boolean, e.v->>'reason', e.v->'stack')::bigint
                WHEN 'delay' THEN \(table("move_to_delayed"))(
                    $1, e.v->>'id', e.v->>'token', $2::bigint + (e.v->>'delay')::bigint, (e.v->>'delay')::bigint,
                    false, e.v->>'reason', e.v->'stack')::bigint
                END
              FROM jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(v, n)
             ORDER BY e.n
            """, [queue, String(currentTimeMs()), entries.compactText])
    }

    public func extendLocks(
        queue: String, _ jobs: [(id: String, token: String)], durationMs: Int64
    ) async throws -> [String] {
        guard !jobs.isEmpty else { return [] }
        // BullMQ's extend_locks statement: renews the locks still held with the token given.
        let rows = try await client.query(
            """
            WITH input AS (
                SELECT ids.job_id, toks.token, ids.ord
                  FROM unnest($2::text[]) WITH ORDINALITY AS ids(job_id, ord)
                  JOIN unnest($3::text[]) WITH ORDINALITY AS toks(token, ord) USING (ord)
            ), updated AS (
                UPDATE \(table("job")) j SET locked_until_ms = $5::bigint + $4::bigint
                  FROM input
                 WHERE j.queue = $1 AND j.id = input.job_id AND j.state = 'active' AND j.lock_token = input.token
                RETURNING j.id
            )
            SELECT input.job_id FROM input LEFT JOIN updated ON updated.id = input.job_id
             WHERE updated.id IS NULL ORDER BY input.ord
            """,
            [
                queue, PostgresArray.literal(jobs.map(\.id)), PostgresArray.literal(jobs.map(\.token)),
                String(durationMs), String(currentTimeMs()),
            ])
        return rows.rows.compactMap { $0.first ?? nil }
    }

    public func rescueStalled(queue: String, maxStalledCount: Int, intervalMs: Int64) async throws -> [String] {
        let rows = try await client.query(
            "SELECT id FROM \(table("move_stalled_jobs_to_wait"))($1, $2::integer, $3::bigint, $4::bigint) AS t(id)",
            [queue, String(maxStalledCount), String(currentTimeMs()), String(intervalMs)])
        return rows.rows.compactMap { $0.first ?? nil }
    }

    public func waitForWork(queue: String, timeoutMs: Int64) async throws -> Bool {
        // The payload is the bare queue name, shared by every schema of the database: a wake-up for a namesake
        // queue elsewhere only costs one claim that finds nothing.
        try await listener.interruptiblyAwaitNotification(
            channel: "bullmq_jobs", payload: queue, timeoutMs: Int(max(timeoutMs, 10)))
    }

    /// NOTIFY when a test NOTIFY arrives, else polling.
    ///
    /// LISTEN works where the connection is the client's own for its whole life; behind a transaction pooler
    /// (PgBouncer, Supavisor, Neon's pooled endpoint) it silently never delivers, and it would stay on a server
    /// connection that other clients get next. So: two connections that share one server session are a pooler
    /// (no LISTEN at all); otherwise a NOTIFY sent as a test must arrive within 2 s.
    public func wakeUps(queue: String) async throws -> WakeUps {
        let wakeUps = try await probeWakeUps()
        guard worker != nil, try await client.isBehindPooler() else { return wakeUps }
        let unlisted = "; BullMQ's tools cannot list this worker behind a pooler (its sessions are shared)"
        switch wakeUps {
        case .signalled(let how): return .signalled(how: how + unlisted)
        case .polled(let why): return .polled(why: why + unlisted)
        }
    }

    private func probeWakeUps() async throws -> WakeUps {
        let elsewhere = listensElsewhere ? " through --listen-url" : ""
        if !listensElsewhere {
            let listenerSession = try await listener.query("SELECT pg_backend_pid()").scalar
            let mainSession = try await client.query("SELECT pg_backend_pid()").scalar
            if listenerSession == mainSession {
                await listener.disconnect()
                return .polled(
                    why: "two connections got one server session: a transaction pooler (PgBouncer, Supavisor), "
                        + "where LISTEN cannot work; give --listen-url a direct or session-mode URL to wake at once")
            }
        }
        try await listener.listen("bullmq_jobs")
        // Workers that share the channel compare the payload with their queue's name: this one matches none.
        let probe = "jobctl-probe-\(UUID().uuidString.lowercased())"
        _ = try await client.query("SELECT pg_notify('bullmq_jobs', $1)", [probe])
        if try await listener.interruptiblyAwaitNotification(channel: "bullmq_jobs", payload: probe, timeoutMs: 2000) {
            return .signalled(how: "NOTIFY on bullmq_jobs\(elsewhere)")
        }
        _ = try? await listener.query("UNLISTEN *")
        await listener.disconnect()
        return .polled(
            why: "a NOTIFY sent as a test did not arrive\(elsewhere) within 2 s (a transaction pooler?)"
                + (listensElsewhere ? "" : "; give --listen-url a direct or session-mode URL to wake at once"))
    }

    public func poll(queue: String, stalledCheck: StalledCheck?) async throws -> PollResult {
        let now = String(currentTimeMs())
        // The stalled check, when due, rides in the same statement: an idle worker costs one statement per poll.
        let stalled =
            stalledCheck == nil
            ? "NULL::text[]"
            : "ARRAY(SELECT id FROM \(table("move_stalled_jobs_to_wait"))($1, $3::integer, $2::bigint, $4::bigint) "
                + "AS t(id))"
        let rows = try await client.query(
            """
            SELECT (EXISTS (SELECT 1 FROM \(table("job")) WHERE queue = $1 AND state = 'waiting')
                    OR EXISTS (SELECT 1 FROM \(table("job"))
                                WHERE queue = $1 AND state = 'delayed' AND process_at_ms <= $2::bigint))
                   AND NOT EXISTS (SELECT 1 FROM \(table("meta"))
                                    WHERE queue = $1 AND field = 'paused' AND value = '1'),
                   \(stalled)
            """,
            [queue, now] + (stalledCheck.map { [String($0.maxStalledCount), String($0.intervalMs)] } ?? []))
        let row = rows.rows.first ?? []
        let rescued = row.count > 1 ? (row[1].map(PostgresArray.parse) ?? []) : []
        return PollResult(mayHaveWork: row.first == "t", rescued: rescued)
    }

    public func handBack(queue: String, _ jobs: [(id: String, token: String)]) async throws {
        guard !jobs.isEmpty else { return }
        _ = try await client.query(
            """
            SELECT \(table("move_active_to_wait"))($1, ids.id, toks.token, $4::bigint)
              FROM unnest($2::text[]) WITH ORDINALITY AS ids(id, n)
              JOIN unnest($3::text[]) WITH ORDINALITY AS toks(token, n) USING (n)
             ORDER BY n
            """,
            [
                queue, PostgresArray.literal(jobs.map(\.id)), PostgresArray.literal(jobs.map(\.token)),
                String(currentTimeMs()),
            ])
    }
}
