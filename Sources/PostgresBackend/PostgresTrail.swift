public import JobCore

/// The operator trail on PostgreSQL: one event per command in the schema's event table, published through the
/// schema's own `publish_event` (which notifies and trims as for BullMQ's events).
extension PostgresQueueStore {
    public func recordTrail(_ record: TrailRecord) async throws {
        _ = try await client.query(
            "SELECT \(table("publish_event"))($1, $2, $3::jsonb)",
            [record.queue, TrailRecord.eventName, record.json.compactText])
    }

    public func trail(of queues: [String], since: Int64?, limit: Int) async throws -> [TrailRecord] {
        guard !queues.isEmpty else { return [] }
        let rows = try await client.query(
            """
            SELECT e.queue, e.id, e.data::text FROM \(table("event")) e
             WHERE e.queue = ANY($1::text[]) AND e.event = $2 AND ($3::bigint IS NULL OR e.created_at_ms >= $3)
             ORDER BY e.id DESC LIMIT $4
            """,
            [PostgresArray.literal(queues), TrailRecord.eventName, since.map(String.init), String(limit)])
        return rows.rows.compactMap { row in
            guard row.count == 3, let queue = row[0], let id = row[1],
                case .object(let members)? = row[2].flatMap({ try? JSONValue.parse($0) })
            else { return nil }
            return TrailRecord(
                queue: queue, id: id, fields: Dictionary(members, uniquingKeysWith: { first, _ in first }))
        }
    }
}
