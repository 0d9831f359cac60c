/// The figures `jobctl stats` adds to the counts, computed from a `QueueHistory` at one instant.
///
/// Pure: the same history gives the same figures, whichever backend it came from.
public struct QueueAnalysis: Sendable {
    public struct Percentiles: Sendable, Equatable {
        public var p50: Int64
        public var p95: Int64
        public var p99: Int64
        public var max: Int64
        public var mean: Int64
        public var sampleSize: Int

        /// Nearest-rank percentiles; nil for no values.
        public init?(_ values: [Int64]) {
            guard !values.isEmpty else { return nil }
            let sorted = values.sorted()
            func rank(_ p: Double) -> Int64 {
                let index = Int((p * Double(sorted.count)).rounded(.up)) - 1
                return sorted[Swift.max(0, Swift.min(sorted.count - 1, index))]
            }
            p50 = rank(0.50)
            p95 = rank(0.95)
            p99 = rank(0.99)
            max = sorted[sorted.count - 1]
            mean = sorted.reduce(0, +) / Int64(sorted.count)
            sampleSize = sorted.count
        }
    }

    public struct Fingerprint: Sendable, Equatable {
        public var name: String
        public var reason: String
        public var count: Int
        public var firstSeen: Int64
        public var lastSeen: Int64
    }

    public enum Source: String, Sendable {
        /// BullMQ's per-minute metrics, written by the queue's workers.
        case metrics
        /// Counted from the finish times of the jobs the queue still keeps.
        case derived
    }

    /// Jobs finished per minute over the last hour, oldest minute first (nil: not known).
    public var completedPerMinute: [Int64?]
    public var failedPerMinute: [Int64?]
    public var throughputSource: Source
    /// The stretch of time the rates cover, in ms (at most an hour; less when the sample does not reach back).
    public var rateWindowMs: Int64
    /// Per minute, over `rateWindowMs`.
    public var completedRate: Double?
    public var failedRate: Double?
    /// Failed among finished, over the window (0…1).
    public var failureRate: Double?
    public var arrivalRate: Double?
    public var arrivalWindowMs: Int64
    /// Arrivals minus finishes, per minute; positive: the backlog grows.
    public var backlogGrowthRate: Double?
    /// How long the current backlog takes to run out at the current rates; nil when it does not shrink.
    public var timeToEmptyMs: Int64?
    public var backlog: Int
    public var oldestWaitingAgeMs: Int64?
    public var processing: Percentiles?
    public var waiting: Percentiles?
    public var topFailures: [Fingerprint]
    /// Active jobs whose lock runs out within the threshold's margin (or has run out).
    public var locksNearExpiry: Int
    public var sampleSize: Int

    public static let windowMs: Int64 = 3_600_000
    public static let defaultLockMarginMs: Int64 = 5_000

    public init(
        history: QueueHistory, backlog: Int, oldestWaitingAt: Int64?, now: Int64,
        lockMarginMs: Int64 = defaultLockMarginMs
    ) {
        self.backlog = backlog
        sampleSize = history.sampleSize
        oldestWaitingAgeMs = oldestWaitingAt.map { max(0, now - $0) }
        let windowStart = now - Self.windowMs
        let completed = history.finished.filter { !$0.failed }
        let failed = history.finished.filter(\.failed)

        // Throughput: BullMQ's metrics when the workers keep them; else the finish times of the sample, over the
        // part of the hour the sample reaches back to (a list cut by the sample size covers only its newest part).
        // Metrics that stopped before the newest finish (workers that do not record them took over) are not used.
        let lastRecorded = [history.completedMetrics, history.failedMetrics].compactMap { $0?.previousTimestamp }.max()
        let lastFinished = history.finished.map(\.finishedOn).max()
        if let lastRecorded, (lastFinished ?? 0) <= lastRecorded + 60_000 {
            throughputSource = .metrics
            // A kind never recorded (no job failed since metrics began) counts zero in every minute.
            func minutes(_ series: MetricsSeries?) -> [Int64?] {
                guard let series, series.previousTimestamp != nil else { return Array(repeating: 0, count: 60) }
                return series.perMinute(now: now, minutes: 60)
            }
            completedPerMinute = minutes(history.completedMetrics)
            failedPerMinute = minutes(history.failedMetrics)
            let known = zip(completedPerMinute, failedPerMinute).compactMap { pair -> (Int64, Int64)? in
                guard let done = pair.0, let lost = pair.1 else { return nil }
                return (done, lost)
            }
            // The current minute is partial: the window ends now.
            rateWindowMs = max(1, Int64(max(known.count - 1, 0)) * 60_000 + now % 60_000)
            completedRate = Double(known.reduce(0) { $0 + $1.0 }) * 60_000 / Double(rateWindowMs)
            failedRate = Double(known.reduce(0) { $0 + $1.1 }) * 60_000 / Double(rateWindowMs)
        } else {
            throughputSource = .derived
            var start = windowStart
            if history.completedTruncated, let oldest = completed.map(\.finishedOn).min() { start = max(start, oldest) }
            if history.failedTruncated, let oldest = failed.map(\.finishedOn).min() { start = max(start, oldest) }
            rateWindowMs = max(1, now - start)
            func buckets(_ jobs: [FinishedJob]) -> [Int64?] {
                var counts = [Int64?](repeating: 0, count: 60)
                let firstMinute = now / 60_000 - 59
                for (index, _) in counts.enumerated() where (firstMinute + Int64(index) + 1) * 60_000 <= start {
                    counts[index] = nil  // before what the sample covers
                }
                for job in jobs where job.finishedOn >= start && job.finishedOn <= now {
                    let index = Int(job.finishedOn / 60_000 - firstMinute)
                    if index >= 0 && index < 60 { counts[index] = (counts[index] ?? 0) + 1 }
                }
                return counts
            }
            completedPerMinute = buckets(completed)
            failedPerMinute = buckets(failed)
            let done = completed.filter { $0.finishedOn >= start }.count
            let lost = failed.filter { $0.finishedOn >= start }.count
            completedRate = Double(done) * 60_000 / Double(rateWindowMs)
            failedRate = Double(lost) * 60_000 / Double(rateWindowMs)
        }
        if let completedRate, let failedRate, completedRate + failedRate > 0 {
            failureRate = failedRate / (completedRate + failedRate)
        } else {
            failureRate = nil
        }

        // Arrivals: creation times of the sampled jobs, finished or not, within the hour (or the part of it the
        // cut lists still cover).
        var arrivalStart = windowStart
        let unfinished = history.unfinishedAddedAt
        if history.unfinishedTruncated, let oldest = unfinished.min() { arrivalStart = max(arrivalStart, oldest) }
        if history.completedTruncated, let oldest = completed.map(\.addedAt).min() {
            arrivalStart = max(arrivalStart, oldest)
        }
        if history.failedTruncated, let oldest = failed.map(\.addedAt).min() {
            arrivalStart = max(arrivalStart, oldest)
        }
        arrivalWindowMs = max(1, now - arrivalStart)
        let arrivals =
            unfinished.filter { $0 >= arrivalStart }.count
            + history.finished.filter { $0.addedAt >= arrivalStart }.count
        arrivalRate = Double(arrivals) * 60_000 / Double(arrivalWindowMs)
        if let arrivalRate, let completedRate, let failedRate {
            let growth = arrivalRate - completedRate - failedRate
            backlogGrowthRate = growth
            timeToEmptyMs = backlog == 0 ? 0 : growth < 0 ? Int64(Double(backlog) / -growth * 60_000) : nil
        } else {
            backlogGrowthRate = nil
            timeToEmptyMs = nil
        }

        processing = Percentiles(history.finished.compactMap(\.processingMs))
        waiting = Percentiles(history.finished.compactMap(\.waitingMs))

        var groups: [String: Fingerprint] = [:]
        var order: [String] = []
        var normalized: [String: String] = [:]  // the same reason tends to come back many times
        for job in failed {
            let raw = job.failedReason ?? ""
            let reason = normalized[raw] ?? ErrorText.normalized(raw)
            normalized[raw] = reason
            let key = job.name + "\u{0}" + reason
            if var group = groups[key] {
                group.count += 1
                group.firstSeen = min(group.firstSeen, job.finishedOn)
                group.lastSeen = max(group.lastSeen, job.finishedOn)
                groups[key] = group
            } else {
                groups[key] = Fingerprint(
                    name: job.name, reason: reason, count: 1, firstSeen: job.finishedOn, lastSeen: job.finishedOn)
                order.append(key)
            }
        }
        topFailures = order.compactMap { groups[$0] }.sorted { ($0.count, $0.lastSeen) > ($1.count, $1.lastSeen) }
            .prefix(5).map { $0 }
        locksNearExpiry = history.active.filter { ($0.lockedUntil ?? 0) - now < lockMarginMs }.count
    }
}
