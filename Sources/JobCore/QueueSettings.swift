/// The per-queue settings BullMQ keeps in a queue's meta (a Redis hash, or `meta` rows on Postgres), read the
/// same way on both backends.
public struct QueueSettings: Sendable, Equatable {
    public var isPaused: Bool
    public var globalConcurrency: Int64?
    public var rateLimit: RateLimit?
    /// Values that are not what BullMQ writes there; they are ignored.
    public var problems: [DataProblem]

    /// Reads the fields `paused`, `concurrency`, `max` and `duration`.
    ///
    /// `subject` names where they are stored, for problem reports (a key, or a table). `pausedWhen` says which `paused`
    /// values pause the queue: BullMQ's Redis scripts test only that the field exists, its Postgres functions test for
    /// the value '1'.
    public init(meta: [String: String], subject: String, pausedWhen: (String) -> Bool = { _ in true }) {
        var problems: [DataProblem] = []
        func number(_ field: String) -> Int64? {
            guard let text = meta[field] else { return nil }
            guard let value = Int64(text) else {
                problems.append(
                    DataProblem(
                        subject: "\(subject) field \(field)",
                        message: "'\(text.prefix(40))' is not an integer (ignored)"))
                return nil
            }
            return value
        }
        isPaused = meta["paused"].map(pausedWhen) ?? false
        globalConcurrency = number("concurrency")
        let max = number("max")
        let duration = number("duration")
        rateLimit = max.map { RateLimit(max: $0, durationMs: duration ?? 0) }
        self.problems = problems
    }
}
