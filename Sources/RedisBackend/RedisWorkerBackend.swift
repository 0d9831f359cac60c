public import JobCore

/// The worker side of the Redis store: jobctl's claim, finish, lock and stalled scripts (`RedisScripts`), which
/// write what BullMQ's moveToActive, moveToFinished, retryJob, moveToDelayed, extendLocks and
/// moveStalledJobsToWait write, for a batch of jobs per run.
extension RedisQueueStore: WorkerBackend {
    public func wakeUps(queue: String) async throws -> WakeUps {
        // A queue a worker cannot work on a cluster is refused before the worker starts.
        .signalled(how: "the queue's marker (BZPOPMIN on \(try await writableKeys(queue).key("marker")))")
    }

    public func claim(
        queue: String, tokens: [String], lockDurationMs: Int64, limiter: RateLimit?
    ) async throws -> ClaimResult {
        let k = try await writableKeys(queue)
        let (rows, wait) = try await run(
            RedisScripts.Claim.self,
            keys: .init(
                wait: k.wait, active: k.active, prioritized: k.prioritized, events: k.key("events"),
                limiter: k.key("limiter"),
                delayed: k.delayed, meta: k.meta, pc: k.key("pc"), marker: k.key("marker")),
            arguments: .init(
                queueBase: k.base, now: String(currentTimeMs()), lockMs: String(lockDurationMs),
                limiterMax: limiter.map { String($0.max) } ?? "",
                limiterDuration: limiter.map { String($0.durationMs) } ?? "", workerName: worker?.name ?? "",
                tokens: tokens))
        let jobs = rows.map { row in
            ClaimedJob(
                queue: queue, id: row.id, name: row.name, data: row.data.isEmpty ? "null" : row.data,
                opts: (try? JSONValue.parse(row.opts)) ?? .object([]),
                attemptsMade: Int64(row.atm) ?? Int64(row.attemptsMade) ?? 0, timestamp: Int64(row.timestamp) ?? 0,
                token: row.token, deferredFailure: row.deferredFailure.isEmpty ? nil : row.deferredFailure,
                stacktrace: ClaimedJob.storedStacktrace(row.stacktrace),
                schedulerId: row.schedulerId.isEmpty ? nil : row.schedulerId)
        }
        switch wait {
        case nil: return ClaimResult(jobs: jobs, wait: jobs.count < tokens.count ? .empty(nextDelayedAt: nil) : nil)
        case .limited(let ms): return ClaimResult(jobs: jobs, wait: .rateLimited(ms: ms ?? 1000))
        case .paused: return ClaimResult(jobs: jobs, wait: .paused)
        case .maxed: return ClaimResult(jobs: jobs, wait: .maxed)
        case .empty(let next): return ClaimResult(jobs: jobs, wait: .empty(nextDelayedAt: next))
        }
    }

    public func advanceSchedulers(
        queue: String, _ advances: [SchedulerAdvance], now: Int64
    ) async throws -> [SchedulerAdvanceResult] {
        guard !advances.isEmpty else { return [] }
        let k = try await writableKeys(queue)
        return try await run(
            RedisScripts.AdvanceSchedulers.self,
            keys: .init(
                schedulers: k.key("repeat"), delayed: k.delayed, wait: k.wait, meta: k.meta,
                prioritized: k.prioritized, marker: k.key("marker"), id: k.key("id"), events: k.key("events"),
                pc: k.key("pc"), active: k.active),
            arguments: .init(
                queueBase: k.base, now: String(now),
                advances: advances.flatMap { advance in
                    [
                        advance.schedulerId, advance.producerId, String(advance.nextMillis),
                        BullMQOptionNames.encodedForRedis(advance.opts).compactText,
                    ]
                }))
    }

    public func finish(
        queue: String, _ jobs: [(job: ClaimedJob, finish: Finish)], metricsDataPoints: Int?
    ) async throws -> [LostJob] {
        guard !jobs.isEmpty else { return [] }
        let k = try await writableKeys(queue)
        var arguments = RedisScripts.Finish.Arguments(
            queueBase: k.base, now: String(currentTimeMs()),
            metricsDataPoints: metricsDataPoints.map(String.init) ?? "",
            jobs: [])
        func traces(_ list: [String]) -> String { JSONValue.array(list.map { .string($0) }).compactText }
        func keep(_ retention: Retention) -> [String] {
            [
                retention.removeAll ? "0" : String(retention.keepCount ?? -1),
                retention.keepAgeSeconds.map(String.init) ?? "",
            ]
        }
        for (job, finish) in jobs {
            let attempts = String(job.attempts)
            switch finish {
            case .complete(let value, let retention):
                arguments.jobs += [job.id, job.token, "complete", value, "", attempts] + keep(retention) + [""]
            case .fail(let reason, let stack, let retention):
                arguments.jobs += [job.id, job.token, "fail", reason, traces(stack), attempts] + keep(retention) + [""]
            case .retryNow(let reason, let stack):
                arguments.jobs += [
                    job.id, job.token, "retry", reason, traces(stack), attempts, "-1", "", job.isLifo ? "1" : "0",
                ]
            case .retryLater(let delay, let reason, let stack):
                arguments.jobs += [
                    job.id, job.token, "delay", reason, traces(stack), attempts, "-1", "", String(delay),
                ]
            }
        }
        let codes = try await run(
            RedisScripts.Finish.self,
            keys: .init(
                wait: k.wait, active: k.active, prioritized: k.prioritized, events: k.key("events"),
                stalled: k.key("stalled"),
                meta: k.meta, pc: k.key("pc"), marker: k.key("marker"), delayed: k.delayed, completed: k.completed,
                failed: k.failed, metricsCompleted: k.key("metrics:completed"),
                metricsCompletedData: k.key("metrics:completed:data"), metricsFailed: k.key("metrics:failed"),
                metricsFailedData: k.key("metrics:failed:data")),
            arguments: arguments)
        guard codes.count == jobs.count else {
            throw RedisError(
                code: .unexpectedReply, server: server,
                message: "finish answered \(codes.count) codes for \(jobs.count) jobs")
        }
        return zip(jobs, codes).compactMap { entry, code in
            switch code {
            case 0: return nil
            case -1: return LostJob(id: entry.job.id, reason: "the job no longer exists")
            case -2: return LostJob(id: entry.job.id, reason: "its lock had expired")
            case -6:
                return LostJob(
                    id: entry.job.id, reason: "another worker holds its lock now (the stalled check gave it away)")
            case -3: return LostJob(id: entry.job.id, reason: "it is no longer active")
            case -9: return LostJob(id: entry.job.id, reason: JobReplyCode.flowInAnotherSlotReason)
            default: return LostJob(id: entry.job.id, reason: "unexpected reply \(String(describing: code))")
            }
        }
    }

    public func extendLocks(
        queue: String, _ jobs: [(id: String, token: String)], durationMs: Int64
    ) async throws -> [String] {
        guard !jobs.isEmpty else { return [] }
        let k = try await writableKeys(queue)
        return try await run(
            RedisScripts.ExtendLocks.self, keys: .init(stalled: k.key("stalled")),
            arguments: .init(queueBase: k.base, lockMs: String(durationMs), locks: jobs.flatMap { [$0.id, $0.token] }))
    }

    public func rescueStalled(queue: String, maxStalledCount: Int, intervalMs: Int64) async throws -> [String] {
        let k = try await writableKeys(queue)
        return try await run(
            RedisScripts.RescueStalled.self,
            keys: .init(
                stalled: k.key("stalled"), wait: k.wait, active: k.active, stalledCheck: k.key("stalled-check"),
                meta: k.meta,
                marker: k.key("marker"), events: k.key("events"), schedulers: k.key("repeat")),
            arguments: .init(
                maxStalledCount: String(maxStalledCount), queueBase: k.base, now: String(currentTimeMs()),
                intervalMs: String(intervalMs)))
    }

    public func waitForWork(queue: String, timeoutMs: Int64) async throws -> Bool {
        let seconds = Double(min(max(timeoutMs, 10), Self.longestBlockMs)) / 1000
        let reply = try await waitClient.interruptibleCommand(
            RedisCommand("BZPOPMIN", keys(queue).key("marker"), String(seconds)))
        return !reply.isNull && reply.array?.isEmpty == false
    }

    public func handBack(queue: String, _ jobs: [(id: String, token: String)]) async throws {
        guard !jobs.isEmpty else { return }
        let k = try await writableKeys(queue)
        _ = try await run(
            RedisScripts.HandBack.self,
            keys: .init(
                wait: k.wait, active: k.active, prioritized: k.prioritized, events: k.key("events"),
                stalled: k.key("stalled"),
                meta: k.meta, marker: k.key("marker")),
            arguments: .init(queueBase: k.base, locks: jobs.flatMap { [$0.id, $0.token] }))
    }
}
