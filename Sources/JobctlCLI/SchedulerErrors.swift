import JobCore

/// `jobctl schedule` would write nothing: the limit allows no run or the end date passed (BullMQ writes nothing).
struct NothingScheduledError: OperatorFacingError {
    var reason: String
    var kind: FailureKind { .failure }
    var description: String { "nothing scheduled: \(reason)" }
}

/// A scheduler named does not exist.
struct NoSuchSchedulerError: OperatorFacingError {
    var queue: String
    var ids: [String]
    var kind: FailureKind { .failure }
    var description: String {
        let list = ids.prefix(10).map { "'\(Cell.oneLine($0))'" }.joined(separator: ", ")
        return "no job scheduler \(list) in queue '\(Cell.oneLine(queue))'"
    }
    var hints: [String] { ["list them with: jobctl schedulers \(Cell.oneLine(queue))"] }
}
