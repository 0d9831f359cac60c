public import JobCore

/// The writing side of the Redis store: every change is one run of one of jobctl's scripts (`RedisScripts`), on
/// at most `batchSize` jobs, so that Redis is never blocked for long.
extension RedisQueueStore: QueueController {
    static let notAHash = "its key is not a hash (not written by BullMQ; look with redis-cli TYPE)"

    /// 300 jobs keep a script run well under 10 ms of Redis time (a retry batch of 500 measured 7–9 ms, with
    /// outliers past 10 on this VM).
    public var batchSize: Int { 300 }

    public func jobIds(in queue: String, state timed: TimedState, times: Range<Int64>?) async throws -> [String] {
        let state = timed.jobState
        let key = keys(queue).stateKey(state).key  // a sorted set: by due or finish time
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

    public func jobSpan(in queue: String, state: TimedState, times: Range<Int64>) async throws -> JobSpan {
        let key = keys(queue).stateKey(state.jobState).key
        let (newest, oldest) = Self.scoreBounds(times)
        let replies = try await client.pipeline([
            RedisCommand("ZCOUNT", key, oldest, newest),
            RedisCommand("ZREVRANGEBYSCORE", key, newest, oldest, "WITHSCORES", "LIMIT", "0", "1"),
        ])
        guard let count = replies[0].integer, let top = replies[1].array else {
            throw RedisError(code: .unexpectedReply, server: server, message: "counting \(key) answered \(replies)")
        }
        // A score past what a time can be (say +inf, set by hand) leaves the window open.
        let score = top.count == 2 ? top[1].text.flatMap { Double($0) } : nil
        let latest = score.flatMap { $0.isFinite && abs($0) < 9e18 ? Int64($0) : nil }
        return JobSpan(count: Int(count), latest: latest)
    }

    /// ZREVRANGEBYSCORE's bounds for a range of times: the newest (exclusive), then the oldest.
    static func scoreBounds(_ times: Range<Int64>) -> (newest: String, oldest: String) {
        (
            times.upperBound == .max ? "+inf" : "(\(times.upperBound)",
            times.lowerBound == .min ? "-inf" : String(times.lowerBound)
        )
    }

    /// 500 jobs a call: about 3 ms of Redis time (`scripts/bench-bulk.sh`), as many ids as BullMQ's retryJobs
    /// takes in 5 ms.
    public var windowBatchSize: Int { 500 }

    public var deleteBatchSize: Int { batchSize }

    public func retryNewest(
        _ limit: Int, of state: FinishedState, finishedIn times: Range<Int64>, skipping: Int, in queue: String,
        resetAttempts: Bool, note: OperatorNote?
    ) async throws -> WindowOutcome {
        let k = try await writableKeys(queue)
        // A note adds a log line to each job, about doubling a job's work: fewer jobs keep the call as short.
        let limit = note == nil ? limit : min(limit, batchSize)
        let reply = try await run(
            RedisScripts.RetryWindow.self,
            keys: .init(
                events: k.key("events"), state: k.stateKey(state.jobState).key, wait: k.wait, meta: k.meta,
                active: k.active, marker: k.key("marker"), prioritized: k.prioritized, pc: k.key("pc")),
            arguments: .init(
                queueBase: k.base, state: state.rawValue, reset: resetAttempts ? "1" : "0",
                logLine: note?.jobLogLine ?? "",
                upper: times.upperBound == .max ? "+inf" : String(times.upperBound),
                lower: times.lowerBound == .min ? "-inf" : String(times.lowerBound), skip: String(skipping),
                limit: String(limit)))
        // Every job the script skips stays in the sorted set, where the next call would meet it again.
        let skipped = reply.skipped.map { id, code in
            switch code {
            case .notAHash: SkippedJob(id: id, reason: Self.notAHash)
            case .flowInAnotherSlot: SkippedJob(id: id, reason: JobReplyCode.flowInAnotherSlotReason)
            default: SkippedJob(id: id, reason: "its key is gone, but it is still listed as \(state.rawValue)")
            }
        }
        return WindowOutcome(moved: reply.moved, skipped: skipped, leftInPlace: skipped.count)
    }

    /// Runs one of jobctl's scripts (`RedisScripts`) and decodes its reply; the control commands and the worker
    /// both go through here.
    func run<Script: RedisScript>(
        _ script: Script.Type, keys: Script.Keys, arguments: Script.Arguments
    ) async throws
        -> Script.Reply
    {
        let reply: RedisValue
        do {
            reply = try await client.evaluate(
                sha1: Script.sha1, source: Script.source, keys: keys.list, arguments: arguments.list)
        } catch {
            // A batch that would delete a flow child whose parent the script cannot reach: nothing was deleted.
            guard error.serverCode == "CROSSSLOTFLOW" else { throw error }
            throw RedisClusterLayoutError(message: "\(Script.name) refused: \(error.message)")
        }
        guard let decoded = Script.decode(reply) else {
            throw RedisError(code: .unexpectedReply, server: server, message: "\(Script.name) answered \(reply)")
        }
        return decoded
    }

    /// Per-id reply codes of the batch scripts (1 changed), turned into changed and skipped jobs.
    private func outcome(_ ids: [String], _ codes: [Int64?], reason: (JobReplyCode) -> String) throws -> BatchOutcome {
        guard codes.count == ids.count else {
            throw RedisError(
                code: .unexpectedReply, server: server,
                message: "a batch of \(ids.count) jobs was answered with \(codes.count) codes")
        }
        return BatchOutcome(ids: ids, codes: codes, changedCode: 1, reason: reason)
    }

    public func retry(
        _ ids: [String], in queue: String, from state: FinishedState, resetAttempts: Bool, note: OperatorNote?
    ) async throws
        -> BatchOutcome
    {
        let k = try await writableKeys(queue)
        let codes = try await run(
            RedisScripts.Retry.self,
            keys: .init(
                events: k.key("events"), state: k.stateKey(state.jobState).key, wait: k.wait, meta: k.meta,
                active: k.active,
                marker: k.key("marker"), prioritized: k.prioritized, pc: k.key("pc")),
            arguments: .init(
                queueBase: k.base, state: state.rawValue, reset: resetAttempts ? "1" : "0",
                logLine: note?.jobLogLine ?? "", ids: ids))
        return try outcome(ids, codes) { code in
            switch code {
            case .notFound: return "not found"
            case .notAHash: return Self.notAHash
            case .flowInAnotherSlot: return JobReplyCode.flowInAnotherSlotReason
            default: return "no longer \(state.rawValue)"
            }
        }
    }

    public func promote(_ ids: [String], in queue: String, note: OperatorNote?) async throws -> BatchOutcome {
        let k = try await writableKeys(queue)
        let codes = try await run(
            RedisScripts.Promote.self,
            keys: .init(
                delayed: k.delayed, wait: k.wait, meta: k.meta, prioritized: k.prioritized, active: k.active,
                pc: k.key("pc"),
                events: k.key("events"), marker: k.key("marker")),
            arguments: .init(queueBase: k.base, logLine: note?.jobLogLine ?? "", ids: ids))
        return try outcome(ids, codes) { code in
            switch code {
            case .notFound: return "not found"
            case .notAHash: return Self.notAHash
            default: return "not delayed"
            }
        }
    }

    public func remove(_ ids: [String], in queue: String, force: Bool) async throws -> BatchOutcome {
        let k = try await writableKeys(queue)
        let codes = try await run(
            RedisScripts.Remove.self, keys: .init(schedulers: k.key("repeat")),
            arguments: .init(queueBase: k.base, force: force ? "1" : "0", ids: ids))
        return try outcome(ids, codes) { code in
            switch code {
            case .notFound: return "not found"
            case .notAHash: return Self.notAHash
            case .schedulerJob: return JobReplyCode.schedulerJobReason
            case .flowInAnotherSlot: return JobReplyCode.flowInAnotherSlotReason
            default: return JobReplyCode.lockedReason
            }
        }
    }

    public func drain(_ state: ReadyState, in queue: String, limit: Int, skipping: Int) async throws -> DrainOutcome {
        let k = try await writableKeys(queue)
        let (key, isList) = k.stateKey(state.jobState)
        let counts = try await run(
            RedisScripts.Drain.self, keys: .init(state: key, schedulers: k.key("repeat")),
            arguments: .init(
                queueBase: k.base, kind: isList ? "list" : "zset", limit: String(limit), skip: String(skipping)))
        return DrainOutcome(removed: counts.removed, kept: counts.kept)
    }

    public func clean(
        _ state: FinishedState, in queue: String, finishedBefore: Int64, limit: Int
    ) async throws -> Int {
        let k = try await writableKeys(queue)
        return try await run(
            RedisScripts.Clean.self, keys: .init(state: k.stateKey(state.jobState).key, events: k.key("events")),
            arguments: .init(queueBase: k.base, finishedBefore: String(finishedBefore), limit: String(limit))
        ).count
    }

    public func setPaused(_ paused: Bool, queue: String) async throws {
        let k = try await writableKeys(queue)
        let keys = RedisScripts.Pause.Keys(
            wait: k.wait, paused: k.paused, meta: k.meta, prioritized: k.prioritized, events: k.key("events"),
            delayed: k.delayed, marker: k.key("marker"))
        let change = RedisScripts.Pause.Arguments(change: paused ? "paused" : "resumed")
        // Resuming a queue paused by BullMQ 5 moves its legacy paused list back, 7000 jobs per run.
        while try await run(RedisScripts.Pause.self, keys: keys, arguments: change) > 0 {}
    }

    public func setGlobalConcurrency(_ concurrency: Int64, queue: String) async throws {
        _ = try await client.command(
            RedisCommand("HSET", try await writableKeys(queue).meta, "concurrency", String(concurrency)))
    }

    public func setGlobalRateLimit(_ limit: RateLimit, queue: String) async throws {
        _ = try await client.command(
            RedisCommand(
                "HSET", try await writableKeys(queue).meta, "max", String(limit.max), "duration",
                String(limit.durationMs)))
    }

    public func add(_ jobs: [NewJob], to queue: String, note: OperatorNote?) async throws -> [AddedJob] {
        let k = try await writableKeys(queue)
        var arguments = RedisScripts.Add.Arguments(queueBase: k.base, logLine: note?.jobLogLine ?? "", jobs: [])
        for job in jobs {
            arguments.jobs += [
                job.id ?? "", job.name, job.data.compactText,
                BullMQOptionNames.encodedForRedis(job.storedOptions(backoffNull: false)).compactText,
                String(job.timestamp), String(job.delayMs), String(job.priority), job.lifo ? "1" : "0",
            ]
        }
        let added = try await run(
            RedisScripts.Add.self,
            keys: .init(
                wait: k.wait, meta: k.meta, id: k.key("id"), delayed: k.delayed, prioritized: k.prioritized,
                active: k.active,
                events: k.key("events"), marker: k.key("marker"), pc: k.key("pc")),
            arguments: arguments)
        guard added.count == jobs.count else {
            throw RedisError(
                code: .unexpectedReply, server: server,
                message: "adding \(jobs.count) jobs was answered for \(added.count)")
        }
        return added.map { AddedJob(id: $0.id, duplicate: $0.duplicate) }
    }
}
