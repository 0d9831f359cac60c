public import JobCore

/// The worker side of the Redis store: jobctl's claim, finish, lock and stalled scripts (`RedisScripts`), which
/// write what BullMQ's moveToActive, moveToFinished, retryJob, moveToDelayed, extendLocks and
/// moveStalledJobsToWait write, for a batch of jobs per run.
extension RedisQueueStore: WorkerBackend {
    public func claim(queue: String, tokens: [String], lockDurationMs: Int64, limiter: RateLimit?) async throws -> ClaimResult {
        let k = keys(queue)
        let reply = try await run(
            RedisScripts.claim,
            keys: [k.wait, k.active, k.prioritized, k.key("events"), k.key("limiter"), k.delayed, k.meta, k.key("pc"), k.key("marker")],
            arguments: [
                k.base, String(currentTimeMs()), String(lockDurationMs), limiter.map { String($0.max) } ?? "",
                limiter.map { String($0.durationMs) } ?? "",
            ] + tokens)
        guard let parts = reply.array, parts.count == 2, let rows = parts[0].array else {
            throw RedisError(code: .unexpectedReply, server: server, message: "claim answered \(reply)")
        }
        let jobs = rows.compactMap { row -> ClaimedJob? in
            guard let fields = row.array?.map({ $0.text ?? "" }), fields.count == 11 else { return nil }
            let opts = (try? JSONValue.parse(fields[4])) ?? .object([])
            return ClaimedJob(
                queue: queue, id: fields[0], name: fields[2], data: fields[3].isEmpty ? "null" : fields[3], opts: opts,
                attemptsMade: Int64(fields[5]) ?? Int64(fields[6]) ?? 0, timestamp: Int64(fields[7]) ?? 0, token: fields[1],
                deferredFailure: fields[8].isEmpty ? nil : fields[8], stacktrace: ClaimedJob.storedStacktrace(fields[9]),
                schedulerId: fields[10].isEmpty ? nil : fields[10])
        }
        let wait = parts[1].array ?? []
        guard let kind = wait.first?.text else { return ClaimResult(jobs: jobs, wait: jobs.count < tokens.count ? .empty(nextDelayedAt: nil) : nil) }
        switch kind {
        case "limited": return ClaimResult(jobs: jobs, wait: .rateLimited(ms: wait.count > 1 ? wait[1].integer ?? 1000 : 1000))
        case "paused": return ClaimResult(jobs: jobs, wait: .paused)
        case "maxed": return ClaimResult(jobs: jobs, wait: .maxed)
        default:
            let next = wait.count > 1 ? wait[1].integer : nil
            return ClaimResult(jobs: jobs, wait: .empty(nextDelayedAt: next.flatMap { $0 > 0 ? $0 : nil }))
        }
    }

    public func finish(queue: String, _ jobs: [(job: ClaimedJob, finish: Finish)], metricsDataPoints: Int?) async throws -> [LostJob] {
        guard !jobs.isEmpty else { return [] }
        let k = keys(queue)
        var arguments = [k.base, String(currentTimeMs()), metricsDataPoints.map(String.init) ?? ""]
        func traces(_ list: [String]) -> String { JSONValue.array(list.map { .string($0) }).compactText }
        func keep(_ retention: Retention) -> [String] {
            [retention.removeAll ? "0" : String(retention.keepCount ?? -1), retention.keepAgeSeconds.map(String.init) ?? ""]
        }
        for (job, finish) in jobs {
            let attempts = String(job.attempts)
            switch finish {
            case .complete(let value, let retention):
                arguments += [job.id, job.token, "complete", value, "", attempts] + keep(retention) + [""]
            case .fail(let reason, let stack, let retention):
                arguments += [job.id, job.token, "fail", reason, traces(stack), attempts] + keep(retention) + [""]
            case .retryNow(let reason, let stack):
                arguments += [job.id, job.token, "retry", reason, traces(stack), attempts, "-1", "", job.isLifo ? "1" : "0"]
            case .retryLater(let delay, let reason, let stack):
                arguments += [job.id, job.token, "delay", reason, traces(stack), attempts, "-1", "", String(delay)]
            }
        }
        let reply = try await run(
            RedisScripts.finish,
            keys: [
                k.wait, k.active, k.prioritized, k.key("events"), k.key("stalled"), k.meta, k.key("pc"), k.key("marker"), k.delayed,
                k.completed, k.failed, k.key("metrics:completed"), k.key("metrics:completed:data"), k.key("metrics:failed"),
                k.key("metrics:failed:data"),
            ],
            arguments: arguments)
        guard let codes = reply.array?.map(\.integer), codes.count == jobs.count else {
            throw RedisError(code: .unexpectedReply, server: server, message: "finish answered \(reply)")
        }
        return zip(jobs, codes).compactMap { entry, code in
            switch code {
            case 0: return nil
            case -1: return LostJob(id: entry.job.id, reason: "the job no longer exists")
            case -2: return LostJob(id: entry.job.id, reason: "its lock had expired")
            case -6: return LostJob(id: entry.job.id, reason: "another worker holds its lock now (the stalled check gave it away)")
            case -3: return LostJob(id: entry.job.id, reason: "it is no longer active")
            default: return LostJob(id: entry.job.id, reason: "unexpected reply \(String(describing: code))")
            }
        }
    }

    public func extendLocks(queue: String, _ jobs: [(id: String, token: String)], durationMs: Int64) async throws -> [String] {
        guard !jobs.isEmpty else { return [] }
        let k = keys(queue)
        let reply = try await run(
            RedisScripts.extendLocks, keys: [k.key("stalled")],
            arguments: [k.base, String(durationMs)] + jobs.flatMap { [$0.id, $0.token] })
        return reply.array?.compactMap(\.text) ?? []
    }

    public func rescueStalled(queue: String, maxStalledCount: Int, intervalMs: Int64) async throws -> [String] {
        let k = keys(queue)
        let reply = try await run(
            RedisScripts.rescueStalled,
            keys: [k.key("stalled"), k.wait, k.active, k.key("stalled-check"), k.meta, k.key("marker"), k.key("events")],
            arguments: [String(maxStalledCount), k.base, String(currentTimeMs()), String(intervalMs)])
        return reply.array?.compactMap(\.text) ?? []
    }

    public func waitForWork(queue: String, timeoutMs: Int64) async throws -> Bool {
        let seconds = Double(min(max(timeoutMs, 10), Self.longestBlockMs)) / 1000
        let reply = try await waitClient.command(RedisCommand("BZPOPMIN", keys(queue).key("marker"), String(seconds)))
        return !reply.isNull && reply.array?.isEmpty == false
    }

    public func handBack(queue: String, _ jobs: [(id: String, token: String)]) async throws {
        guard !jobs.isEmpty else { return }
        let k = keys(queue)
        _ = try await run(
            RedisScripts.handBack,
            keys: [k.wait, k.active, k.prioritized, k.key("events"), k.key("stalled"), k.meta, k.key("marker")],
            arguments: [k.base] + jobs.flatMap { [$0.id, $0.token] })
    }
}
