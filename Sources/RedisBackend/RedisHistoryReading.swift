public import JobCore

/// The history behind `jobctl stats` analytics and `jobctl tune`, read with a fixed number of round trips: the
/// newest ids of each list, then one pipeline of HMGETs (and lock PTTLs), whatever the queue's size.
extension RedisQueueStore {
    public func history(of queue: String, sampleSize: Int) async throws -> QueueHistory {
        let k = keys(queue)
        let last = String(sampleSize)  // one more than the sample: tells whether a list was cut
        let lists = try await client.pipeline([
            RedisCommand("ZREVRANGE", k.completed, "0", last),
            RedisCommand("ZREVRANGE", k.failed, "0", last),
            RedisCommand("LRANGE", k.wait, "0", last),
            RedisCommand("LRANGE", k.active, "0", last),
            RedisCommand("HMGET", k.key("metrics:completed"), "count", "prevTS", "prevCount"),
            RedisCommand("LRANGE", k.key("metrics:completed:data"), "0", "59"),
            RedisCommand("HMGET", k.key("metrics:failed"), "count", "prevTS", "prevCount"),
            RedisCommand("LRANGE", k.key("metrics:failed:data"), "0", "59"),
        ])
        // A key of another type answers with an error value: it reads as an empty list here (stats reports it).
        func ids(_ index: Int) -> (ids: [String], cut: Bool) {
            let all = (lists[index].array ?? []).compactMap(\.text).filter { !$0.hasPrefix("0:") }
            return (Array(all.prefix(sampleSize)), all.count > sampleSize)
        }
        let completed = ids(0), failed = ids(1), waiting = ids(2), active = ids(3)

        let finishedIds = completed.ids.map { ($0, false) } + failed.ids.map { ($0, true) }
        var commands = finishedIds.map {
            RedisCommand(
                "HMGET", k.job($0.0), "name", "timestamp", "delay", "processedOn", "finishedOn", "failedReason")
        }
        commands += waiting.ids.map { RedisCommand("HGET", k.job($0), "timestamp") }
        commands += active.ids.map { RedisCommand("HMGET", k.job($0), "timestamp", "processedOn") }
        commands += active.ids.map { RedisCommand("PTTL", k.lock($0)) }
        let replies = commands.isEmpty ? [] : try await client.pipeline(commands)
        let now = currentTimeMs()

        var finished: [FinishedJob] = []
        for (index, (id, isFailed)) in finishedIds.enumerated() {
            let fields = (replies[index].array ?? []).map(\.text)
            guard fields.count == 6, let finishedOn = fields[4].flatMap({ Int64($0) }) else { continue }
            finished.append(
                FinishedJob(
                    id: id, name: fields[0] ?? "", failed: isFailed,
                    addedAt: fields[1].flatMap { Int64($0) } ?? finishedOn,
                    delayMs: fields[2].flatMap { Int64($0) } ?? 0, processedOn: fields[3].flatMap { Int64($0) },
                    finishedOn: finishedOn,
                    failedReason: fields[5]))
        }
        var offset = finishedIds.count
        var unfinished = waiting.ids.indices.compactMap { replies[offset + $0].text.flatMap { Int64($0) } }
        offset += waiting.ids.count
        var running: [ActiveJob] = []
        for (index, id) in active.ids.enumerated() {
            let fields = (replies[offset + index].array ?? []).map(\.text)
            if let added = fields.first.flatMap({ $0.flatMap { Int64($0) } }) { unfinished.append(added) }
            let ttl = replies[offset + active.ids.count + index].integer ?? -2
            running.append(
                ActiveJob(
                    id: id, processedOn: fields.count > 1 ? fields[1].flatMap { Int64($0) } : nil,
                    lockedUntil: ttl >= 0 ? now + ttl : nil))
        }

        func metrics(_ index: Int) -> MetricsSeries? {
            let fields = (lists[index].array ?? []).map(\.text)
            guard fields.count == 3, let count = fields[0].flatMap({ Int64($0) }) else { return nil }
            return MetricsSeries(
                count: count, previousTimestamp: fields[1].flatMap { Int64($0) },
                previousCount: fields[2].flatMap { Int64($0) } ?? 0,
                data: (lists[index + 1].array ?? []).map { $0.text.flatMap { Int64($0) } ?? 0 })
        }
        return QueueHistory(
            finished: finished, completedTruncated: completed.cut, failedTruncated: failed.cut,
            unfinishedAddedAt: unfinished,
            unfinishedTruncated: waiting.cut || active.cut, active: running, completedMetrics: metrics(4),
            failedMetrics: metrics(6),
            sampleSize: sampleSize)
    }
}
