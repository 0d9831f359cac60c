/// `jobctl tune`: worker settings recommended from what a queue shows, each with the numbers behind it and the
/// current value beside it.
public struct Tuning: Sendable {
    public enum Workload: String, Sendable {
        case cpuBound = "cpu-bound"
        case ioBound = "io-bound"
        /// Not said: I/O-bound is assumed (and the recommendation says so).
        case unknown
    }

    public struct Recommendation: Sendable, Equatable {
        /// BullMQ's name of the setting (worker option, job option, or queue setting).
        public var setting: String
        /// The recommended value as BullMQ takes it ("" when the advice is to keep what is there).
        public var value: String
        public var current: String
        /// The numbers behind it.
        public var reason: String
        /// What `--apply` writes for it, if it is a per-queue setting BullMQ stores.
        public var apply: Apply?
    }

    public enum Apply: Sendable, Equatable {
        case globalConcurrency(Int64)
        case globalRateLimit(RateLimit)
    }

    public var recommendations: [Recommendation]
    /// Caveats that are not a setting: stalls that coincide with long jobs, too little history.
    public var warnings: [String]

    /// BullMQ's worker defaults.
    public static let defaultLockDurationMs: Int64 = 30_000
    public static let defaultStalledIntervalMs: Int64 = 30_000
    public static let defaultDrainDelaySeconds: Int64 = 5

    public init(
        analysis: QueueAnalysis, history: QueueHistory, globalConcurrency: Int64?, rateLimit: RateLimit?,
        workload: Workload,
        cores: Int, headroom: Double = 1.5
    ) {
        var recommendations: [Recommendation] = []
        var warnings: [String] = []
        let ms = { (value: Int64) in DurationText.describe(milliseconds: value) }
        let currentConcurrency =
            globalConcurrency.map { "global \($0)" } ?? "no global limit (each worker's concurrency is not stored)"

        // Concurrency by Little's law: jobs in progress = arrival rate × time in the system (p95, with headroom).
        if let processing = analysis.processing, let arrivals = analysis.arrivalRate, arrivals > 0 {
            let perSecond = arrivals / 60
            let busy = perSecond * Double(processing.p95) / 1000
            var needed = Int64(max(1, (busy * headroom).rounded(.up)))
            var reason =
                "arrivals \(rate1(arrivals))/min × p95 processing \(ms(processing.p95)) = \(rate1(busy)) jobs in "
                + "progress on average, × \(rate1(headroom)) headroom"
            switch workload {
            case .cpuBound:
                if needed > Int64(cores) {
                    reason +=
                        "; CPU-bound work: capped at \(cores) cores (more workers on more machines if the backlog "
                        + "grows)"
                    needed = Int64(cores)
                }
            case .ioBound:
                reason += "; I/O-bound work: not capped by cores"
            case .unknown:
                reason += "; I/O-bound assumed (pass --cpu-bound to cap it at the cores)"
            }
            recommendations.append(
                Recommendation(
                    setting: "concurrency", value: String(needed), current: currentConcurrency, reason: reason,
                    apply: .globalConcurrency(needed)))
        } else {
            recommendations.append(
                Recommendation(
                    setting: "concurrency", value: "", current: currentConcurrency,
                    reason: "no arrivals and finished jobs in the window to size it from", apply: nil))
        }

        // Locks: at least twice the slowest jobs, never below BullMQ's default; renewed at half.
        let p99 = analysis.processing?.p99 ?? 0
        let lock = max(Self.defaultLockDurationMs, ((2 * p99 + 999) / 1000) * 1000)
        recommendations.append(
            Recommendation(
                setting: "lockDuration", value: String(lock),
                current: "not stored (BullMQ's default \(ms(Self.defaultLockDurationMs)))",
                reason: analysis.processing.map {
                    "2 × p99 processing \(ms($0.p99)) = \(ms(2 * $0.p99)); at least BullMQ's default "
                        + "\(ms(Self.defaultLockDurationMs))"
                }
                    ?? "no finished jobs: BullMQ's default",
                apply: nil))
        recommendations.append(
            Recommendation(
                setting: "lockRenewTime", value: String(lock / 2),
                current: "not stored (BullMQ's default: half the lock duration)",
                reason: "half of lockDuration: a renewal can fail once and the lock still holds", apply: nil))
        recommendations.append(
            Recommendation(
                setting: "stalledInterval", value: String(max(Self.defaultStalledIntervalMs, lock)),
                current: "not stored (default \(ms(Self.defaultStalledIntervalMs)))",
                reason: "a stalled check more often than the lock lasts finds nothing more", apply: nil))
        let stalledFailures = history.finished.filter {
            $0.failed && ($0.failedReason ?? "").lowercased().contains("stalled")
        }.count
        recommendations.append(
            Recommendation(
                setting: "maxStalledCount", value: "1", current: "not stored (default 1)",
                reason: stalledFailures > 0
                    ? "\(stalledFailures) sampled job(s) failed as stalled: fix the lock, not the count"
                    : "no stalled failures in the sample",
                apply: nil))
        if stalledFailures > 0 && p99 > Self.defaultLockDurationMs / 2 {
            warnings.append(
                "\(stalledFailures) job(s) failed as stalled while p99 processing is \(ms(p99)): long jobs outlive "
                    + "their locks; raise lockDuration to \(ms(lock)) on every worker"
            )
        }

        // The blocking wait: a long-poll timeout, not a polling interval.
        let quiet = (analysis.arrivalRate ?? 0) < 1
        recommendations.append(
            Recommendation(
                setting: "drainDelay", value: quiet ? "30" : String(Self.defaultDrainDelaySeconds),
                current: "not stored (default \(Self.defaultDrainDelaySeconds) s)",
                reason:
                    "seconds an idle worker blocks waiting for a job; it wakes at once when one arrives, so a longer "
                    + "wait only saves round trips"
                    + (quiet ? " (fewer than one arrival a minute: idle most of the time)" : ""),
                apply: nil))

        // A rate limit where failures look like the other side pushing back.
        let failed = history.finished.filter(\.failed)
        let pushback = failed.filter { Self.looksRateLimited($0.failedReason ?? "") }
        if failed.count >= 3, pushback.count * 5 >= failed.count {
            let peak = analysis.completedPerMinute.compactMap { $0 }.max() ?? 0
            let limit =
                peak >= 75
                ? RateLimit(max: max(1, Int64(Double(peak) * 0.8 / 60)), durationMs: 1000)
                : RateLimit(max: max(1, Int64(Double(peak) * 0.8)), durationMs: 60_000)
            recommendations.append(
                Recommendation(
                    setting: "limiter", value: "{max: \(limit.max), duration: \(limit.durationMs)}",
                    current: rateLimit.map { "{max: \($0.max), duration: \($0.durationMs)}" } ?? "none",
                    reason:
                        "\(pushback.count) of \(failed.count) sampled failures look like rate limiting (429, rate "
                        + "limit, too many requests, timeouts); 80% of the busiest minute's \(peak) completions",
                    apply: .globalRateLimit(limit)))
        }

        // Backoff where failures come in bursts (an outage, not a bad job).
        let times = failed.map(\.finishedOn).sorted()
        var inBursts = 0
        for (index, time) in times.enumerated() {
            let window = times[max(0, index - 4)...min(times.count - 1, index + 4)].filter { abs($0 - time) <= 10_000 }
            if window.count >= 5 { inBursts += 1 }
        }
        if times.count >= 5, inBursts * 2 >= times.count {
            recommendations.append(
                Recommendation(
                    setting: "attempts/backoff (job options)",
                    value: "attempts: 5, backoff: {type: 'exponential', delay: 1000}",
                    current: "per job",
                    reason:
                        "\(inBursts) of \(times.count) sampled failures came in bursts (5 or more within 10 s): "
                        + "retries spread over 1+2+4+8 s ride out a short outage",
                    apply: nil))
        }
        if history.finished.count < 20 {
            warnings.append("only \(history.finished.count) finished job(s) in the sample: the figures are rough")
        }
        self.recommendations = recommendations
        self.warnings = warnings
    }

    static func looksRateLimited(_ reason: String) -> Bool {
        let text = reason.lowercased()
        return [
            "429", "rate limit", "ratelimit", "rate-limit", "too many requests", "throttl", "timed out", "timeout",
            "etimedout",
        ]
        .contains { text.contains($0) }
    }
}
