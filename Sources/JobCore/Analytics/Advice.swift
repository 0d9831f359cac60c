/// Lines of advice under `jobctl stats`, each with the figures that raised it.
public struct Advice: Sendable, Equatable {
    public var code: String
    public var message: String
    public var evidence: String

    /// When a line of advice appears; set with `--thresholds failure_rate=10%,throughput=5,waiting=100,...`.
    public struct Thresholds: Sendable, Equatable {
        /// Failed among finished over the last hour (fraction).
        public var failureRate = 0.10
        /// Finished per minute below which a queue with a backlog is called slow.
        public var throughput = 5.0
        /// Waiting jobs above which the backlog is called large.
        public var waiting = 100
        /// Mean processing time above which jobs are called long (ms).
        public var processingMs: Int64 = 30_000
        /// Active jobs whose lock runs out within this margin are at risk of being taken for stalled (ms).
        public var lockMarginMs: Int64 = QueueAnalysis.defaultLockMarginMs

        public init() {}

        public static let keys = ["failure_rate", "throughput", "waiting", "processing", "lock_margin"]

        public init(parsing text: String) throws(HealthCheck.ParseError) {
            for part in text.split(separator: ",") {
                let pair = part.split(separator: "=", maxSplits: 1).map { String($0.filter { !$0.isWhitespace }) }
                guard pair.count == 2 else {
                    throw HealthCheck.ParseError(
                        description: "'\(part.prefix(80))' is not KEY=VALUE; keys: \(Self.keys.joined(separator: ", "))"
                    )
                }
                let (key, value) = (pair[0], pair[1])
                func bad(_ expected: String) -> HealthCheck.ParseError {
                    HealthCheck.ParseError(description: "threshold \(key) takes \(expected), not '\(value.prefix(40))'")
                }
                switch key {
                case "failure_rate":
                    guard let fraction = Percent.fraction(value) else { throw bad("a percentage such as 10%") }
                    failureRate = fraction
                case "throughput":
                    guard let number = Double(value), number.isFinite, number >= 0 else {
                        throw bad("jobs per minute, such as 5")
                    }
                    throughput = number
                case "waiting":
                    guard let number = Int(value), number >= 0 else { throw bad("a whole number") }
                    waiting = number
                case "processing":
                    guard let ms = DurationText.milliseconds(value) else { throw bad("a duration such as 30s") }
                    processingMs = ms
                case "lock_margin":
                    guard let ms = DurationText.milliseconds(value) else { throw bad("a duration such as 5s") }
                    lockMarginMs = ms
                default:
                    throw HealthCheck.ParseError(
                        description:
                            "'\(key.prefix(40))' is not a threshold; keys: \(Self.keys.joined(separator: ", "))")
                }
            }
        }
    }

    /// The advice for a queue: what is wrong by the thresholds, and the numbers that show it.
    ///
    /// `pausedQueue` is the queue's name when it is paused: its backlog then waits for a resume, not for workers.
    /// `workers`: how many are connected, when known.
    public static func lines(
        _ analysis: QueueAnalysis, stalledCandidates: Int?, thresholds: Thresholds, pausedQueue: String? = nil,
        workers: Int? = nil
    ) -> [Advice] {
        var advice: [Advice] = []
        let finishedRate = (analysis.completedRate ?? 0) + (analysis.failedRate ?? 0)
        let window = DurationText.describe(milliseconds: analysis.rateWindowMs)
        if let rate = analysis.failureRate, rate > thresholds.failureRate {
            advice.append(
                Advice(
                    code: "failure_rate",
                    message:
                        "\(Percent.text(rate)) of finished jobs failed (above "
                        + "\(Percent.text(thresholds.failureRate))): see the top failures and 'jobctl jobs --state "
                        + "failed'",
                    evidence:
                        "\(rate1(analysis.failedRate)) failed vs \(rate1(analysis.completedRate)) completed per minute "
                        + "over \(window)"
                ))
        }
        if let pausedQueue, analysis.backlog > 0 {
            advice.append(
                Advice(
                    code: "paused",
                    message:
                        "the queue is paused: its \(analysis.backlog) waiting jobs run only after 'jobctl resume "
                        + "\(pausedQueue)'",
                    evidence:
                        "paused flag set; backlog \(analysis.backlog); \(rate1(finishedRate)) finished per minute over "
                        + "\(window)"
                ))
        } else if analysis.backlog > 0 && workers == 0 {
            advice.append(
                Advice(
                    code: "no_workers",
                    message:
                        "no worker is connected to this queue: its \(analysis.backlog) waiting jobs wait for one "
                        + "(start one, e.g. 'jobctl run QUEUE -- COMMAND')",
                    evidence:
                        "0 workers connected; backlog \(analysis.backlog); \(rate1(finishedRate)) finished per minute "
                        + "over \(window)"))
        } else if analysis.backlog > 0 && finishedRate < thresholds.throughput {
            let question =
                switch workers {
                case nil: "are workers running, and enough of them?"
                case 1: "1 worker connected but nothing much finishes: is it stuck, or too slow for the queue?"
                case let count?:
                    "\(count) workers connected but nothing much finishes: are they stuck, or too slow for the queue?"
                }
            advice.append(
                Advice(
                    code: "slow",
                    message:
                        "\(rate1(finishedRate)) jobs/min finished with \(analysis.backlog) waiting (below "
                        + "\(rate1(thresholds.throughput))/min): \(question)",
                    evidence:
                        "backlog \(analysis.backlog); \(rate1(finishedRate)) finished per minute over \(window)"
                        + (workers.map { "; \($0) workers connected" } ?? "")))
        }
        if analysis.backlog > thresholds.waiting {
            let growth =
                analysis.backlogGrowthRate.map {
                    $0 > 0 ? "growing by \(rate1($0))/min" : "shrinking by \(rate1(-$0))/min"
                } ?? "rate unknown"
            advice.append(
                Advice(
                    code: "backlog",
                    message: "\(analysis.backlog) jobs waiting (above \(thresholds.waiting)); \(growth)"
                        + (analysis.timeToEmptyMs.map { ", empty in about \(DurationText.describe(milliseconds: $0))" }
                            ?? ""),
                    evidence: "arrivals \(rate1(analysis.arrivalRate))/min, finishes \(rate1(finishedRate))/min"))
        }
        if let processing = analysis.processing, processing.mean > thresholds.processingMs {
            advice.append(
                Advice(
                    code: "long_jobs",
                    message:
                        "jobs take \(DurationText.describe(milliseconds: processing.mean)) on average (above "
                        + "\(DurationText.describe(milliseconds: thresholds.processingMs))): check lockDuration "
                        + "with 'jobctl tune'",
                    evidence:
                        "p50 \(DurationText.describe(milliseconds: processing.p50)), p99 "
                        + "\(DurationText.describe(milliseconds: processing.p99)) over \(processing.sampleSize) "
                        + "jobs"
                ))
        }
        if analysis.locksNearExpiry > 0 || (stalledCandidates ?? 0) > 0 {
            advice.append(
                Advice(
                    code: "stall_risk",
                    message:
                        "\(analysis.locksNearExpiry) active job(s) have a lock that runs out within "
                        + "\(DurationText.describe(milliseconds: thresholds.lockMarginMs)) or has run out: their "
                        + "workers may be stuck or overloaded; raise lockDuration or look at the workers",
                    evidence: "stalled candidates \(stalledCandidates ?? 0)"))
        }
        return advice
    }
}

func rate1(_ value: Double?) -> String {
    guard let value, value.isFinite else { return "-" }
    if value > 0 && value < 0.05 { return "<0.1" }
    let tenths = Int64((value * 10).rounded())
    return tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(abs(tenths % 10))"
}
