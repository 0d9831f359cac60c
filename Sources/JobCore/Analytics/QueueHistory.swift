/// What a backend reads for `jobctl stats` analytics and `jobctl tune`: bounded samples of a queue's recent jobs
/// and BullMQ's own metrics.
///
/// Read the same way on both backends; every figure is computed from it in `QueueAnalysis`.
public struct QueueHistory: Sendable {
    /// The most recently finished jobs (at most `sampleSize` completed and `sampleSize` failed).
    public var finished: [FinishedJob]
    /// Whether there were more completed (failed) jobs than the sample holds.
    public var completedTruncated: Bool
    public var failedTruncated: Bool
    /// Creation times of the newest jobs that have not finished (waiting newest first, active, delayed), and
    /// whether a list was cut by the sample size.
    public var unfinishedAddedAt: [Int64]
    public var unfinishedTruncated: Bool
    /// Active jobs: when they started, and when their lock runs out (nil: no lock).
    public var active: [ActiveJob]
    /// BullMQ's per-minute metrics, when the queue's workers record them.
    public var completedMetrics: MetricsSeries?
    public var failedMetrics: MetricsSeries?
    public var sampleSize: Int

    public init(
        finished: [FinishedJob], completedTruncated: Bool, failedTruncated: Bool, unfinishedAddedAt: [Int64],
        unfinishedTruncated: Bool, active: [ActiveJob], completedMetrics: MetricsSeries?, failedMetrics: MetricsSeries?,
        sampleSize: Int
    ) {
        self.finished = finished
        self.completedTruncated = completedTruncated
        self.failedTruncated = failedTruncated
        self.unfinishedAddedAt = unfinishedAddedAt
        self.unfinishedTruncated = unfinishedTruncated
        self.active = active
        self.completedMetrics = completedMetrics
        self.failedMetrics = failedMetrics
        self.sampleSize = sampleSize
    }

    /// How many jobs of each kind are read: enough for p99 within a few percent, bounded in time.
    public static let defaultSampleSize = 1000
}

public struct FinishedJob: Sendable, Equatable {
    public var id: String
    public var name: String
    public var failed: Bool
    /// Added (BullMQ's `timestamp`), its delay, when its last attempt started and when it finished (ms).
    public var addedAt: Int64
    public var delayMs: Int64
    public var processedOn: Int64?
    public var finishedOn: Int64
    /// The start of the failure reason, as far as any analysis reads it (`ErrorText.scanLimit` scalars): a handler
    /// may have put megabytes in it.
    public var failedReason: String?

    public init(
        id: String, name: String, failed: Bool, addedAt: Int64, delayMs: Int64 = 0, processedOn: Int64?,
        finishedOn: Int64,
        failedReason: String? = nil
    ) {
        self.id = id
        self.name = name
        self.failed = failed
        self.addedAt = addedAt
        self.delayMs = delayMs
        self.processedOn = processedOn
        self.finishedOn = finishedOn
        self.failedReason = failedReason.map(ErrorText.readPart)
    }

    /// From start to finish of its last attempt.
    public var processingMs: Int64? { processedOn.map { finishedOn - $0 }.flatMap { $0 >= 0 ? $0 : nil } }
    /// From when it was due (added, plus its delay) to when its last attempt started.
    public var waitingMs: Int64? { processedOn.map { max(0, $0 - (addedAt + max(0, delayMs))) } }
}

public struct ActiveJob: Sendable, Equatable {
    public var id: String
    public var processedOn: Int64?
    public var lockedUntil: Int64?

    public init(id: String, processedOn: Int64?, lockedUntil: Int64?) {
        self.id = id
        self.processedOn = processedOn
        self.lockedUntil = lockedUntil
    }
}

/// BullMQ's metrics of one kind (completed or failed): a running `count`, the count and time of the last data
/// point, and one data point per minute before it, newest first.
///
/// A data point is pushed when a job finishes in a later minute, so the jobs since `previousTimestamp` (count −
/// previousCount) all finished in that minute.
public struct MetricsSeries: Sendable, Equatable {
    public var count: Int64
    public var previousTimestamp: Int64?
    public var previousCount: Int64
    public var data: [Int64]

    public init(count: Int64, previousTimestamp: Int64?, previousCount: Int64, data: [Int64]) {
        self.count = count
        self.previousTimestamp = previousTimestamp
        self.previousCount = previousCount
        self.data = data
    }

    /// Jobs finished in each of the `minutes` whole minutes ending with the current one, oldest first; nil where
    /// the series does not reach back that far.
    public func perMinute(now: Int64, minutes: Int) -> [Int64?] {
        guard let previousTimestamp else { return Array(repeating: nil, count: minutes) }
        let current = now / 60_000
        let previousMinute = previousTimestamp / 60_000
        return (0..<minutes).map { index -> Int64? in
            let minute = current - Int64(minutes - 1 - index)
            if minute > previousMinute { return 0 }
            if minute == previousMinute { return count - previousCount }
            let back = Int(previousMinute - 1 - minute)
            return back < data.count ? data[back] : nil
        }
    }
}
