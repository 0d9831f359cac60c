public import JobCore

/// The writing side of the Redis store: every change is one run of one of jobctl's scripts (`RedisScripts`), on
/// at most `batchSize` jobs, so that Redis is never blocked for long.
extension RedisQueueStore: QueueController {
    static let notAHash = "its key is not a hash (not written by BullMQ; look with redis-cli TYPE)"

    /// 300 jobs keep a script run well under 10 ms of Redis time (a retry batch of 500 measured 7–9 ms, with
    /// outliers past 10 on this VM).
    public var batchSize: Int { 300 }

    public func jobIds(in queue: String, state: JobState, times: Range<Int64>?) async throws -> [String] {
        let (key, isList) = keys(queue).stateKey(state)
        precondition(!isList, "jobIds of \(state)")
        let descending = state == .completed || state == .failed
        var ids: [String] = []
        var cursor: PageCursor?
        // Pages of 5000 along (score, member), so that no single command runs long on a big set.
        while true {
            let page = try await sortedSetPage(key: key, descending: descending, after: cursor, limit: 5000)
            for (id, position) in page {
                guard let times, let score = Double(position) else {
                    ids.append(id)
                    continue
                }
                if times.contains(Int64(score)) { ids.append(id) }
                if descending ? Int64(score) < times.lowerBound : Int64(score) >= times.upperBound { return ids }
            }
            guard page.count == 5000, let last = page.last else { return ids }
            cursor = PageCursor(state: state, position: last.position, lastId: last.id)
        }
    }

    /// Runs one of jobctl's scripts (`RedisScripts`); the control commands and the worker both go through here.
    func run(_ script: String, keys: [String], arguments: [String]) async throws -> RedisValue {
        try await client.command(RedisCommand(arguments: ["EVAL", script, String(keys.count)] + keys + arguments))
    }

    /// Per-id reply codes of the batch scripts, turned into changed and skipped jobs.
    private func outcome(_ ids: [String], _ reply: RedisValue, skipReasons: [Int64: String]) throws -> BatchOutcome {
        guard let codes = reply.array?.map(\.integer), codes.count == ids.count else {
            throw RedisError(code: .unexpectedReply, server: server, message: "a batch of \(ids.count) jobs was answered with \(reply)")
        }
        var result = BatchOutcome()
        for (id, code) in zip(ids, codes) {
            if code == 1 {
                result.changed.append(id)
            } else {
                result.skipped.append(SkippedJob(id: id, reason: code.flatMap { skipReasons[$0] } ?? "unexpected reply \(String(describing: code))"))
            }
        }
        return result
    }

    public func retry(_ ids: [String], in queue: String, from state: JobState, resetAttempts: Bool) async throws -> BatchOutcome {
        guard state == .failed || state == .completed else { preconditionFailure("retry from \(state)") }
        let k = keys(queue)
        let reply = try await run(
            RedisScripts.retry,
            keys: [k.key("events"), k.stateKey(state).key, k.wait, k.meta, k.active, k.key("marker"), k.prioritized, k.key("pc")],
            arguments: [k.base, state.rawValue, resetAttempts ? "1" : "0"] + ids)
        return try outcome(ids, reply, skipReasons: [-1: "not found", -3: "no longer \(state.rawValue)", -4: Self.notAHash])
    }

    public func promote(_ ids: [String], in queue: String) async throws -> BatchOutcome {
        let k = keys(queue)
        let reply = try await run(
            RedisScripts.promote,
            keys: [k.delayed, k.wait, k.meta, k.prioritized, k.active, k.key("pc"), k.key("events"), k.key("marker")],
            arguments: [k.base] + ids)
        return try outcome(ids, reply, skipReasons: [-1: "not found", -3: "not delayed", -4: Self.notAHash])
    }

    public func remove(_ ids: [String], in queue: String, force: Bool) async throws -> BatchOutcome {
        let k = keys(queue)
        let reply = try await run(
            RedisScripts.remove, keys: [k.key("repeat"), k.key("events"), k.meta], arguments: [k.base, force ? "1" : "0"] + ids)
        return try outcome(
            ids, reply,
            skipReasons: [
                -1: "not found", 0: "locked by a worker (it or one of its children is running; --force removes it anyway)",
                -8: "the next job of a job scheduler (remove the scheduler instead)", -4: Self.notAHash,
            ])
    }

    public func drain(_ state: JobState, in queue: String, limit: Int, skipping: Int) async throws -> DrainOutcome {
        let k = keys(queue)
        let (key, isList) = k.stateKey(state)
        let reply = try await run(
            RedisScripts.drain, keys: [key, k.key("repeat")],
            arguments: [k.base, isList ? "list" : "zset", String(limit), String(skipping)])
        guard let counts = reply.array?.compactMap(\.integer), counts.count == 2 else {
            throw RedisError(code: .unexpectedReply, server: server, message: "drain answered \(reply)")
        }
        return DrainOutcome(removed: Int(counts[0]), kept: Int(counts[1]))
    }

    public func clean(_ state: JobState, in queue: String, finishedBefore: Int64, limit: Int) async throws -> [String] {
        let k = keys(queue)
        let reply = try await run(
            RedisScripts.clean, keys: [k.stateKey(state).key, k.key("events")],
            arguments: [k.base, String(finishedBefore), String(limit)])
        guard let ids = reply.array?.compactMap(\.text) else {
            throw RedisError(code: .unexpectedReply, server: server, message: "clean answered \(reply)")
        }
        return ids
    }

    public func setPaused(_ paused: Bool, queue: String) async throws {
        let k = keys(queue)
        let keys = [k.wait, k.paused, k.meta, k.prioritized, k.key("events"), k.delayed, k.key("marker")]
        // Resuming a queue paused by BullMQ 5 moves its legacy paused list back, 7000 jobs per run.
        while try await run(RedisScripts.pause, keys: keys, arguments: [paused ? "paused" : "resumed"]).integer ?? 0 > 0 {}
    }

    public func setGlobalConcurrency(_ concurrency: Int64, queue: String) async throws {
        _ = try await client.command(RedisCommand("HSET", keys(queue).meta, "concurrency", String(concurrency)))
    }

    public func setGlobalRateLimit(_ limit: RateLimit, queue: String) async throws {
        _ = try await client.command(RedisCommand("HSET", keys(queue).meta, "max", String(limit.max), "duration", String(limit.durationMs)))
    }

    public func add(_ jobs: [NewJob], to queue: String) async throws -> [AddedJob] {
        let k = keys(queue)
        var arguments = [k.base]
        for job in jobs {
            arguments += [
                job.id ?? "", job.name, job.data.compactText, job.storedOptions(backoffNull: false).compactText,
                String(job.timestamp), String(job.delayMs), String(job.priority), job.lifo ? "1" : "0",
            ]
        }
        let reply = try await run(
            RedisScripts.add,
            keys: [k.wait, k.meta, k.key("id"), k.delayed, k.prioritized, k.active, k.key("events"), k.key("marker"), k.key("pc")],
            arguments: arguments)
        guard let pairs = reply.array, pairs.count == jobs.count else {
            throw RedisError(code: .unexpectedReply, server: server, message: "adding \(jobs.count) jobs was answered with \(reply)")
        }
        return try pairs.map { pair in
            guard let fields = pair.array, fields.count == 2, let id = fields[0].text else {
                throw RedisError(code: .unexpectedReply, server: server, message: "an added job was answered with \(pair)")
            }
            return AddedJob(id: id, duplicate: fields[1].integer == 1)
        }
    }
}
