/// A job a worker has taken: what the handler gets, and what finishing it needs.
public struct ClaimedJob: Sendable, Equatable {
    public var queue: String
    public var id: String
    public var name: String
    /// The job's data as stored (JSON text).
    public var data: String
    public var opts: JSONValue
    /// Attempts made before this one.
    public var attemptsMade: Int64
    public var timestamp: Int64
    /// The lock token this worker holds the job with.
    public var token: String
    /// Set when a stalled check gave up on the job: it must fail at once without running (BullMQ's `defa`).
    public var deferredFailure: String?
    /// Stack traces of earlier failed attempts; a failure appends its own.
    public var stacktrace: [String]
    /// The job scheduler that made this job (BullMQ's repeatJobKey), if one did.
    public var schedulerId: String?

    public init(
        queue: String, id: String, name: String, data: String, opts: JSONValue, attemptsMade: Int64, timestamp: Int64,
        token: String, deferredFailure: String? = nil, stacktrace: [String] = [], schedulerId: String? = nil
    ) {
        self.stacktrace = stacktrace
        self.schedulerId = schedulerId
        self.queue = queue
        self.id = id
        self.name = name
        self.data = data
        self.opts = opts
        self.attemptsMade = attemptsMade
        self.timestamp = timestamp
        self.token = token
        self.deferredFailure = deferredFailure
    }

    /// The job as a handler sees it: one JSON object.
    public var handlerJSON: JSONValue {
        let parsedData = (try? JSONValue.parse(data)) ?? .string(data)
        return .object([
            ("id", .string(id)), ("name", .string(name)), ("data", parsedData), ("opts", opts),
            ("attemptsMade", .int(attemptsMade)), ("timestamp", .int(timestamp)), ("queue", .string(queue)),
        ])
    }

    /// The stack traces stored with a job (a JSON array of strings); anything else counts as none.
    public static func storedStacktrace(_ text: String?) -> [String] {
        guard let text, case .array(let items)? = try? JSONValue.parse(text) else { return [] }
        return items.compactMap { if case .string(let trace) = $0 { return trace } else { return nil } }
    }

    /// BullMQ's `attempts` option: how many times the job may run in all (0 or missing: once).
    public var attempts: Int64 { opts["attempts"].flatMap(\.integerValue) ?? 0 }
    public var isLifo: Bool { opts["lifo"] == .bool(true) }
    public var stackTraceLimit: Int? { opts["stackTraceLimit"].flatMap(\.integerValue).map { Int($0) } }
}

/// What a handler made of a job.
public enum JobOutcome: Sendable, Equatable {
    /// Done; the return value as JSON text.
    case completed(returnValue: String)
    /// Failed; `unrecoverable` skips the remaining attempts.
    case failed(reason: String, stacktrace: String?, unrecoverable: Bool)
}

/// How a worker finishes a job, decided from its options the way BullMQ's worker decides.
public enum Finish: Sendable, Equatable {
    case complete(returnValue: String, keep: Retention)
    /// Back to waiting now (no backoff).
    case retryNow(reason: String, stacktrace: [String])
    /// Back to delayed, due after `delayMs`.
    case retryLater(delayMs: Int64, reason: String, stacktrace: [String])
    case fail(reason: String, stacktrace: [String], keep: Retention)
}

/// `removeOnComplete` / `removeOnFail`: how many finished jobs to keep.
public struct Retention: Sendable, Equatable {
    /// Remove the job at once.
    public var removeAll: Bool
    /// Keep at most this many (newest) finished jobs.
    public var keepCount: Int64?
    /// Keep jobs for at most this many seconds.
    public var keepAgeSeconds: Int64?

    public static let keepAll = Retention(removeAll: false, keepCount: nil, keepAgeSeconds: nil)

    public init(removeAll: Bool, keepCount: Int64?, keepAgeSeconds: Int64?) {
        self.removeAll = removeAll
        self.keepCount = keepCount
        self.keepAgeSeconds = keepAgeSeconds
    }

    /// BullMQ's option value: `true`, `false`, a count, or `{age, count}`.
    public init(option: JSONValue?) {
        switch option {
        case .bool(true): self.init(removeAll: true, keepCount: nil, keepAgeSeconds: nil)
        case .number(let text): self.init(removeAll: false, keepCount: Int64(text), keepAgeSeconds: nil)
        case .object:
            self.init(
                removeAll: false, keepCount: option?["count"]?.integerValue,
                keepAgeSeconds: option?["age"]?.integerValue)
        default: self = .keepAll
        }
    }
}

/// The finish a job gets for an outcome, as BullMQ's worker computes it: attempts and backoff from the job's
/// options (fixed or exponential, with Node's jitter), unrecoverable failures and stalled jobs fail at once.
public func finish(
    for job: ClaimedJob, outcome: JobOutcome, random: () -> Double = { Double.random(in: 0..<1) }
) -> Finish {
    switch outcome {
    case .completed(let value):
        return .complete(returnValue: value, keep: Retention(option: job.opts["removeOnComplete"]))
    case .failed(let reason, let trace, let unrecoverable):
        let stack = stacktrace(of: job, adding: trace)
        let keep = Retention(option: job.opts["removeOnFail"])
        guard !unrecoverable, job.attemptsMade + 1 < job.attempts else {
            return .fail(reason: reason, stacktrace: stack, keep: keep)
        }
        guard let delay = backoffDelay(job.opts["backoff"], attemptsMade: job.attemptsMade + 1, random: random) else {
            return .retryNow(reason: reason, stacktrace: stack)
        }
        if delay < 0 { return .fail(reason: reason, stacktrace: stack, keep: keep) }
        return delay == 0
            ? .retryNow(reason: reason, stacktrace: stack)
            : .retryLater(delayMs: delay, reason: reason, stacktrace: stack)
    }
}

/// BullMQ's backoff: `{type: fixed|exponential, delay, jitter?}` or a number (fixed).
///
/// Nil without one.
public func backoffDelay(_ option: JSONValue?, attemptsMade: Int64, random: () -> Double) -> Int64? {
    guard let option, option != .null else { return nil }
    let type: String
    let delay: Double
    var jitter = 0.0
    switch option {
    case .number(let text):
        type = "fixed"
        delay = Double(text) ?? 0
    case .object:
        guard case .string(let kind) = option["type"] else { return nil }
        type = kind
        delay = option["delay"].flatMap(\.doubleValue) ?? 0
        jitter = min(max(option["jitter"].flatMap(\.doubleValue) ?? 0, 0), 1)
    default: return nil
    }
    let base: Double
    switch type {
    case "fixed": base = delay
    case "exponential": base = (pow2(Double(attemptsMade - 1)) * delay).rounded()
    default: return nil
    }
    guard jitter > 0 else { return Int64(base) }
    return Int64((random() * base * jitter + base * (1 - jitter)).rounded(.down))
}

private func pow2(_ exponent: Double) -> Double {
    var result = 1.0
    var left = max(0, Int(exponent))
    while left > 0 && result < 1e15 {
        result *= 2
        left -= 1
    }
    return result
}

/// The job's stack traces with this failure's appended, trimmed to its `stackTraceLimit`.
private func stacktrace(of job: ClaimedJob, adding trace: String?) -> [String] {
    var traces = job.stacktrace
    if let trace { traces.append(trace) }
    if let limit = job.stackTraceLimit { traces = limit == 0 ? [] : Array(traces.suffix(limit)) }
    return traces
}

extension JSONValue {
    /// A whole number, when the value is one.
    public var integerValue: Int64? {
        guard case .number(let text) = self else { return nil }
        return Int64(text) ?? Double(text).flatMap { $0.rounded() == $0 && abs($0) < 9e18 ? Int64($0) : nil }
    }

    public var doubleValue: Double? {
        guard case .number(let text) = self else { return nil }
        return Double(text)
    }
}
