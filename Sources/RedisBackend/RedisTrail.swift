public import JobCore

/// The operator trail on Redis: one entry per command in the queue's events stream, event `jobctl`, read back
/// newest first with XREVRANGE (stream ids are times, so `since` is a range bound).
extension RedisQueueStore {
    public func recordTrail(_ record: TrailRecord) async throws {
        let k = try await writableKeys(record.queue)
        _ = try await run(
            RedisScripts.RecordTrail.self, keys: .init(events: k.key("events"), meta: k.meta),
            arguments: .init(fields: record.fields.flatMap { [$0.0, $0.1] }))
    }

    public func trail(of queues: [String], since: Int64?, limit: Int) async throws -> [TrailRecord] {
        var records: [TrailRecord] = []
        for queue in queues {
            let key = keys(queue).key("events")
            // Pages of the stream, newest first, until enough records or the start (or `since`) is reached.
            var end = "+"
            let start = since.map { "\($0)-0" } ?? "-"
            var found = 0
            while found < limit {
                let reply = try await client.pipeline([RedisCommand("XREVRANGE", key, end, start, "COUNT", "1000")])[0]
                guard let entries = reply.array, !entries.isEmpty else { break }
                for entry in entries {
                    guard let parts = entry.array, parts.count == 2, let id = parts[0].text,
                        let flat = parts[1].array
                    else { continue }
                    var fields: [String: JSONValue] = [:]
                    for index in stride(from: 0, to: flat.count - 1, by: 2) {
                        if let name = flat[index].text, let value = flat[index + 1].text {
                            fields[name] = .string(value)
                        }
                    }
                    guard fields["event"] == .string(TrailRecord.eventName),
                        let record = TrailRecord(queue: queue, id: id, fields: fields)
                    else { continue }
                    records.append(record)
                    found += 1
                    if found >= limit { break }
                }
                guard entries.count == 1000, let last = entries.last?.array?.first?.text else { break }
                end = "(" + last
            }
        }
        return Array(records.sorted { $0.endedAt > $1.endedAt }.prefix(limit))
    }
}
