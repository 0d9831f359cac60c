public import JobCore

/// Job schedulers on Redis: the `repeat` sorted set (id → due time of the pending job) and a `repeat:<id>` hash
/// each, read as the Python client's `getJobSchedulers` reads them and written by jobctl's `schedule` and
/// `unschedule` scripts (BullMQ's addJobScheduler and removeJobScheduler).
extension RedisQueueStore {
    /// The newest finished jobs looked through for each scheduler's last run.
    static let lastRunSearchDepth = 1_000

    public func schedulers(of queues: [String], lastRuns: Bool) async throws -> [JobScheduler] {
        guard !queues.isEmpty else { return [] }
        // One round trip for every queue's set (and its newest finished jobs), one for the details of those found.
        var first: [RedisCommand] = []
        for queue in queues {
            let k = keys(queue)
            first.append(RedisCommand("ZRANGE", k.key("repeat"), "0", String(JobScheduler.listLimit - 1), "WITHSCORES"))
            if lastRuns {
                let depth = String(Self.lastRunSearchDepth - 1)
                first.append(RedisCommand("ZREVRANGE", k.completed, "0", depth, "WITHSCORES"))
                first.append(RedisCommand("ZREVRANGE", k.failed, "0", depth, "WITHSCORES"))
            }
        }
        let listed = try await client.pipeline(first)
        let perQueue = lastRuns ? 3 : 1
        var found: [Listed] = []
        for (index, queue) in queues.enumerated() {
            let finished =
                lastRuns
                ? Self.pairs(listed[index * perQueue + 1]).map { ($0, FinishedState.completed, $1) }
                    + Self.pairs(listed[index * perQueue + 2]).map { ($0, FinishedState.failed, $1) } : []
            for (id, score) in Self.pairs(listed[index * perQueue]) {
                found.append(Listed(queue: queue, id: id, next: Int64(score), finished: finished))
            }
        }
        return try await details(of: found)
    }

    public func scheduler(_ id: String, in queue: String) async throws -> JobScheduler? {
        let score = try await client.pipeline([RedisCommand("ZSCORE", keys(queue).key("repeat"), id)])[0]
        guard let next = score.text.flatMap(Double.init) else { return nil }
        return try await details(of: [Listed(queue: queue, id: id, next: Int64(next), finished: [])]).first
    }

    /// A scheduler found in its queue's set, with the queue's newest finished jobs to find its last run among.
    struct Listed {
        var queue: String
        var id: String
        var next: Int64
        var finished: [(String, FinishedState, Double)]
    }

    /// Each scheduler's hash and where its pending job is, in one round trip.
    ///
    /// Only O(log n) probes: the sorted sets by score, then a held lock for active; a job in none is waiting.
    private func details(of found: [Listed]) async throws -> [JobScheduler] {
        guard !found.isEmpty else { return [] }
        let places: [JobState] = [.completed, .failed, .delayed, .prioritized]
        var commands: [RedisCommand] = []
        for entry in found {
            let k = keys(entry.queue)
            let jobId = "repeat:\(entry.id):\(entry.next)"
            commands.append(RedisCommand("HGETALL", k.key("repeat") + ":" + entry.id))
            commands.append(RedisCommand("EXISTS", k.job(jobId)))
            for state in places { commands.append(RedisCommand("ZSCORE", k.stateKey(state).key, jobId)) }
            commands.append(RedisCommand("EXISTS", k.lock(jobId)))
        }
        let replies = try await client.pipeline(commands)
        let perScheduler = 3 + places.count
        return found.enumerated().map { index, entry in
            let reply = Array(replies[index * perScheduler..<(index + 1) * perScheduler])
            var fields: [String: String] = [:]
            if let pairs = reply[0].array {
                for pair in stride(from: 0, to: pairs.count - 1, by: 2) {
                    if let name = pairs[pair].text { fields[name] = pairs[pair + 1].text }
                }
            }
            var scheduler = Self.scheduler(queue: entry.queue, id: entry.id, next: entry.next, fields: fields)
            if reply[1].integer == 1 {
                let inSet = zip(places, reply[2...]).first { !$0.1.isNull && $0.1.serverError == nil }?.0
                scheduler.nextJobState = inSet ?? (reply[2 + places.count].integer == 1 ? .active : .waiting)
            }
            let prefix = "repeat:\(entry.id):"
            scheduler.last =
                entry.finished
                .filter { $0.0.hasPrefix(prefix) }
                .max { $0.2 < $1.2 }
                .map { JobScheduler.LastRun(jobId: $0.0, state: $0.1, finishedOn: Int64($0.2)) }
            return scheduler
        }
    }

    /// A scheduler from its hash, or from its member alone for the oldest repeatable jobs (`name:id:end:tz:pattern`).
    static func scheduler(queue: String, id: String, next: Int64, fields: [String: String]) -> JobScheduler {
        var scheduler = JobScheduler(queue: queue, id: id, name: fields["name"] ?? "")
        scheduler.next = next
        guard !fields.isEmpty else {
            let parts = id.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            scheduler.legacy = true
            scheduler.name = parts.first ?? ""
            if parts.count > 2 { scheduler.endDate = Int64(parts[2]) }
            if parts.count > 3, !parts[3].isEmpty { scheduler.timeZone = parts[3] }
            if parts.count > 4 { scheduler.pattern = parts[4...].joined(separator: ":") }
            return scheduler
        }
        func number(_ name: String) -> Int64? { fields[name].flatMap { Int64($0) ?? Double($0).map { Int64($0) } } }
        scheduler.iterationCount = number("ic")
        scheduler.legacy = scheduler.iterationCount == nil
        scheduler.limit = number("limit")
        scheduler.startDate = number("startDate")
        scheduler.endDate = number("endDate")
        scheduler.timeZone = fields["tz"].flatMap { $0.isEmpty ? nil : $0 }
        scheduler.pattern = fields["pattern"].flatMap { $0.isEmpty ? nil : $0 }
        scheduler.every = number("every")
        scheduler.offset = number("offset")
        if let data = fields["data"], !data.isEmpty {
            scheduler.templateData = (try? JSONValue.parse(data)) ?? .string(data)
        }
        if let opts = fields["opts"], !opts.isEmpty {
            scheduler.templateOpts = (try? JSONValue.parse(opts)).map(BullMQOptionNames.decoded) ?? .string(opts)
        }
        return scheduler
    }

    private static func pairs(_ reply: RedisValue) -> [(String, Double)] {
        guard let flat = reply.array else { return [] }
        return stride(from: 0, to: flat.count - 1, by: 2).compactMap { index in
            guard let member = flat[index].text, let score = flat[index + 1].text.flatMap(Double.init) else {
                return nil
            }
            return (member, score)
        }
    }

    public func upsertScheduler(
        _ spec: SchedulerSpec, in queue: String, now: Int64
    ) async throws -> (jobId: String, delayMs: Int64) {
        let k = try await writableKeys(queue)
        let (nextMillis, opts) = spec.firstIteration(now: now)
        let reply = try await run(
            RedisScripts.Schedule.self,
            keys: .init(
                schedulers: k.key("repeat"), delayed: k.delayed, wait: k.wait, meta: k.meta,
                prioritized: k.prioritized, marker: k.key("marker"), id: k.key("id"), events: k.key("events"),
                pc: k.key("pc"), active: k.active),
            arguments: .init(
                queueBase: k.base, now: String(now), schedulerId: spec.id, nextMillis: String(nextMillis),
                scheduler: spec.schedulerOptions.compactText, templateData: spec.data.compactText,
                templateOpts: BullMQOptionNames.encodedForRedis(spec.opts).compactText,
                jobOpts: BullMQOptionNames.encodedForRedis(opts).compactText))
        switch reply {
        case .scheduled(let jobId, let delay): return (jobId, delay)
        case .slotTaken(let code):
            guard let error = SchedulerSlotError(schedulerId: spec.id, code: code) else {
                throw RedisError(code: .unexpectedReply, server: server, message: "schedule answered \(code)")
            }
            throw error
        }
    }

    public func removeSchedulers(_ ids: [String], in queue: String) async throws -> [SchedulerRemoval] {
        guard !ids.isEmpty else { return [] }
        let k = try await writableKeys(queue)
        let codes = try await run(
            RedisScripts.Unschedule.self,
            keys: .init(
                schedulers: k.key("repeat"), delayed: k.delayed, events: k.key("events"), wait: k.wait,
                prioritized: k.prioritized, active: k.active),
            arguments: .init(queueBase: k.base, ids: ids))
        return codes.map { code in
            switch code ?? 1 {
            case 0: return .removed
            case 2: return .removedNextJobLeft
            default: return .notFound
            }
        }
    }
}
