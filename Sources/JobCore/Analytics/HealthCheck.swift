/// `jobctl status --check 'backlog<1000,failed_rate<5%,oldest_wait<10m,paused=false'`: rules that say what a healthy
/// queue looks like. Grammar (spaces allowed around tokens):
///
///     rules   = rule *( "," rule )
///     rule    = metric op value
///     op      = "<" / "<=" / ">" / ">=" / "=" / "!="
///     value   = number / number "%" / duration (e.g. 90s, 10m, 2h, 1d, 250ms) / "true" / "false"
///
/// Metrics: counts `backlog` (waiting + prioritized), `waiting`, `prioritized`, `active`, `delayed`, `failed`,
/// `completed`, `waiting_children`; `paused` (true/false); `oldest_wait` (a duration); `failed_rate` (a percentage
/// of the jobs finished in the last hour that failed; 0% when none finished); `stalled` (active jobs whose lock is
/// gone); `workers` (workers connected, as `jobctl workers` lists them); `schedulers` (job schedulers) and
/// `overdue_schedulers` (job schedulers whose job is due over a minute ago with nothing taking it, or that will never
/// fire again: `jobctl schedulers` says which).
public struct HealthCheck: Sendable, Equatable {
    public enum Metric: String, Sendable, CaseIterable {
        case backlog, waiting, prioritized, active, delayed, failed, completed
        case waitingChildren = "waiting_children"
        case paused
        case oldestWait = "oldest_wait"
        case failedRate = "failed_rate"
        case stalled
        case workers
        case schedulers
        case overdueSchedulers = "overdue_schedulers"

        var kind: Kind {
            switch self {
            case .paused: .boolean
            case .oldestWait: .duration
            case .failedRate: .percentage
            default: .count
            }
        }

        enum Kind { case count, boolean, duration, percentage }
    }

    public enum Comparison: String, Sendable {
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", equal = "=", notEqual = "!="

        func holds(_ left: Double, _ right: Double) -> Bool {
            switch self {
            case .less: left < right
            case .lessOrEqual: left <= right
            case .greater: left > right
            case .greaterOrEqual: left >= right
            case .equal: left == right
            case .notEqual: left != right
            }
        }
    }

    public struct Rule: Sendable, Equatable {
        public var metric: Metric
        public var comparison: Comparison
        /// Counts as they are; durations in ms; percentages as fractions (5% = 0.05); booleans 0/1.
        public var value: Double
        /// The rule as written (spaces removed), for messages.
        public var text: String
    }

    public var rules: [Rule]

    /// Whether any rule needs the recent history (more than the counts).
    public var needsHistory: Bool { rules.contains { $0.metric == .failedRate } }
    public var needsStalled: Bool { rules.contains { $0.metric == .stalled } }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    public init(parsing text: String) throws(ParseError) {
        var rules: [Rule] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let rule = String(part.filter { !$0.isWhitespace })
            guard !rule.isEmpty else {
                throw ParseError(
                    description: "an empty rule in '\(text.prefix(200))' (rules are separated by single commas)")
            }
            guard let opStart = rule.firstIndex(where: { "<>=!".contains($0) }) else {
                throw ParseError(description: "'\(rule.prefix(100))' has no comparison (use <, <=, >, >=, = or !=)")
            }
            var opEnd = rule.index(after: opStart)
            if opEnd < rule.endIndex, rule[opEnd] == "=" { opEnd = rule.index(after: opEnd) }
            let name = String(rule[..<opStart])
            guard let comparison = Comparison(rawValue: String(rule[opStart..<opEnd])) else {
                throw ParseError(
                    description:
                        "'\(rule.prefix(100))': unknown comparison '\(rule[opStart..<opEnd])' (use <, <=, >, >=, = or "
                        + "!=)"
                )
            }
            guard let metric = Metric(rawValue: name) else {
                throw ParseError(
                    description:
                        "'\(name.prefix(60))' is not a metric; known: "
                        + "\(Metric.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            let valueText = String(rule[opEnd...])
            guard let value = Self.value(valueText, for: metric.kind) else {
                let expected: String
                switch metric.kind {
                case .count: expected = "a whole number"
                case .boolean: expected = "true or false"
                case .duration: expected = "a duration such as 90s, 10m or 2h"
                case .percentage: expected = "a percentage such as 5%"
                }
                throw ParseError(
                    description:
                        "'\(rule.prefix(100))': \(metric.rawValue) takes \(expected), not '\(valueText.prefix(40))'")
            }
            if metric.kind == .boolean && comparison != .equal && comparison != .notEqual {
                throw ParseError(
                    description: "'\(rule.prefix(100))': \(metric.rawValue) can only be compared with = or !=")
            }
            rules.append(Rule(metric: metric, comparison: comparison, value: value, text: rule))
        }
        self.rules = rules
    }

    private static func value(_ text: String, for kind: Metric.Kind) -> Double? {
        switch kind {
        case .count:
            return Int64(text).map(Double.init)
        case .boolean:
            return text == "true" ? 1 : text == "false" ? 0 : nil
        case .duration:
            return DurationText.milliseconds(text).map(Double.init)
        case .percentage:
            return Percent.fraction(text)
        }
    }

    /// The figures of one queue the rules look at.
    public struct Figures: Sendable {
        public var counts: JobCounts
        public var isPaused: Bool
        public var oldestWaitMs: Int64?
        public var failureRate: Double?
        public var stalled: Int?
        public var workers: Int?
        public var schedulers: SchedulerCounts?

        public init(
            counts: JobCounts, isPaused: Bool, oldestWaitMs: Int64?, failureRate: Double? = nil, stalled: Int? = nil,
            workers: Int? = nil, schedulers: SchedulerCounts? = nil
        ) {
            self.counts = counts
            self.isPaused = isPaused
            self.oldestWaitMs = oldestWaitMs
            self.failureRate = failureRate
            self.stalled = stalled
            self.workers = workers
            self.schedulers = schedulers
        }

        func value(of metric: Metric) -> Double? {
            switch metric {
            case .backlog: return Double(counts.ready)
            case .waiting: return counts[.waiting].map(Double.init)
            case .prioritized: return counts[.prioritized].map(Double.init)
            case .active: return counts[.active].map(Double.init)
            case .delayed: return counts[.delayed].map(Double.init)
            case .failed: return counts[.failed].map(Double.init)
            case .completed: return counts[.completed].map(Double.init)
            case .waitingChildren: return counts[.waitingChildren].map(Double.init)
            case .paused: return isPaused ? 1 : 0
            case .oldestWait: return Double(oldestWaitMs ?? 0)
            case .failedRate: return failureRate ?? 0
            case .stalled: return stalled.map(Double.init)
            case .workers: return workers.map(Double.init)
            case .schedulers: return schedulers.map { Double($0.total) }
            case .overdueSchedulers: return schedulers.map { Double($0.overdue) }
            }
        }
    }

    public struct Failure: Sendable, Equatable {
        public var rule: String
        /// The value found, as text in the rule's unit ("unknown" when it could not be read).
        public var found: String
    }

    /// The rules that do not hold for these figures.
    ///
    /// A count that could not be read fails its rule.
    public func failures(_ figures: Figures) -> [Failure] {
        rules.compactMap { rule in
            guard let found = figures.value(of: rule.metric) else { return Failure(rule: rule.text, found: "unknown") }
            if rule.comparison.holds(found, rule.value) { return nil }
            return Failure(rule: rule.text, found: Self.describe(found, kind: rule.metric.kind))
        }
    }

    static func describe(_ value: Double, kind: Metric.Kind) -> String {
        switch kind {
        case .count: return String(Int64(value))
        case .boolean: return value == 1 ? "true" : "false"
        case .duration: return DurationText.describe(milliseconds: Int64(value))
        case .percentage: return Percent.text(value)
        }
    }
}

/// Fractions shown as percentages with one decimal.
public enum Percent {
    /// "5%" → 0.05; nil for anything but a finite, non-negative number followed by "%".
    public static func fraction(_ text: String) -> Double? {
        guard text.hasSuffix("%"), let number = Double(text.dropLast()), number.isFinite, number >= 0 else {
            return nil
        }
        return number / 100
    }

    public static func text(_ fraction: Double) -> String {
        let tenths = Int64((fraction * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
