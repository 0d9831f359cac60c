import JobCore
import Testing

/// Crafted histories: every figure of `QueueAnalysis`, the advice and the `--check` rules.
@Suite struct QueueAnalysisTests {
    /// 12:00:30 on some day, so that minute boundaries are easy to reason about.
    static let now: Int64 = 1_800_000_000_000 - 1_800_000_000_000 % 60_000 + 30_000

    static func history(
        _ finished: [FinishedJob], completedCut: Bool = false, failedCut: Bool = false, unfinished: [Int64] = [],
        active: [ActiveJob] = [], completedMetrics: MetricsSeries? = nil, failedMetrics: MetricsSeries? = nil
    ) -> QueueHistory {
        QueueHistory(
            finished: finished, completedTruncated: completedCut, failedTruncated: failedCut,
            unfinishedAddedAt: unfinished,
            unfinishedTruncated: false, active: active, completedMetrics: completedMetrics,
            failedMetrics: failedMetrics,
            sampleSize: 1000)
    }

    /// A job that finished `agoMs` before now after `processingMs`, having waited `waitingMs`.
    static func job(
        _ id: Int, agoMs: Int64, processingMs: Int64 = 100, waitingMs: Int64 = 10, failed: Bool = false,
        reason: String? = nil, name: String = "n"
    )
        -> FinishedJob
    {
        let finishedOn = now - agoMs
        return FinishedJob(
            id: String(id), name: name, failed: failed, addedAt: finishedOn - processingMs - waitingMs,
            processedOn: finishedOn - processingMs,
            finishedOn: finishedOn, failedReason: failed ? (reason ?? "boom \(id)") : nil)
    }

    @Test func noFinishedJobsGiveNoRatesAndNoPercentiles() {
        let analysis = QueueAnalysis(history: Self.history([]), backlog: 0, oldestWaitingAt: nil, now: Self.now)
        #expect(analysis.throughputSource == .derived)
        #expect(analysis.completedRate == 0 && analysis.failedRate == 0)
        #expect(analysis.failureRate == nil)
        #expect(analysis.processing == nil && analysis.waiting == nil)
        #expect(analysis.timeToEmptyMs == 0)
        #expect(analysis.topFailures.isEmpty)
        #expect(Advice.lines(analysis, stalledCandidates: 0, thresholds: .init()).isEmpty)
    }

    @Test func oneJob() {
        let analysis = QueueAnalysis(
            history: Self.history([Self.job(1, agoMs: 1000, processingMs: 250, waitingMs: 40)]), backlog: 0,
            oldestWaitingAt: nil, now: Self.now)
        #expect(analysis.processing == QueueAnalysis.Percentiles([250]))
        #expect(analysis.processing?.p50 == 250 && analysis.processing?.p99 == 250 && analysis.processing?.max == 250)
        #expect(analysis.waiting?.p50 == 40)
        #expect(analysis.completedRate == 1.0 / 60)
        #expect(analysis.failureRate == 0)
    }

    @Test func nearestRankPercentilesAndAHugeOutlier() throws {
        let values = Array(Int64(1)...99) + [1_000_000]
        let percentiles = try #require(QueueAnalysis.Percentiles(values))
        #expect(percentiles.p50 == 50 && percentiles.p95 == 95 && percentiles.p99 == 99 && percentiles.max == 1_000_000)
        #expect(percentiles.mean == (99 * 100 / 2 + 1_000_000) / 100)
        #expect(percentiles.sampleSize == 100)
    }

    @Test func allFailedGroupsReasonsByNameWithNumbersTakenOut() {
        let jobs =
            (1...6).map {
                Self.job(
                    $0, agoMs: Int64($0) * 1000, failed: true, reason: "timeout after \($0 * 100) ms",
                    name: $0 <= 4 ? "mail" : "sms")
            }
            + [Self.job(7, agoMs: 500, failed: true, reason: "HTTP 429 Too Many Requests", name: "mail")]
        let analysis = QueueAnalysis(history: Self.history(jobs), backlog: 0, oldestWaitingAt: nil, now: Self.now)
        #expect(analysis.failureRate == 1)
        #expect(analysis.topFailures.map(\.count) == [4, 2, 1])
        #expect(analysis.topFailures[0].name == "mail" && analysis.topFailures[0].reason == "timeout after <n> ms")
        #expect(
            analysis.topFailures[0].firstSeen == Self.now - 4000 && analysis.topFailures[0].lastSeen == Self.now - 1000)
        #expect(analysis.topFailures[1].name == "sms")
        let advice = Advice.lines(analysis, stalledCandidates: 0, thresholds: .init())
        #expect(advice.map(\.code) == ["failure_rate"])
    }

    @Test func derivedThroughputCoversOnlyWhatACutSampleReachesBackTo() {
        // 100 completions, one every 6 s over the last 10 minutes, and the list was cut: the rate is per those 10
        // minutes, not per hour; minutes before the sample are unknown.
        let jobs = (0..<100).map { Self.job($0, agoMs: Int64($0) * 6000) }
        let analysis = QueueAnalysis(
            history: Self.history(jobs, completedCut: true), backlog: 0, oldestWaitingAt: nil, now: Self.now)
        #expect(analysis.rateWindowMs == 99 * 6000)
        #expect(abs((analysis.completedRate ?? 0) - 100 * 60_000 / Double(99 * 6000)) < 1e-9)
        #expect(analysis.completedPerMinute.prefix(49).allSatisfy { $0 == nil })
        #expect(analysis.completedPerMinute.suffix(10).allSatisfy { $0 != nil })
        #expect(analysis.completedPerMinute.compactMap { $0 }.reduce(0, +) == 100)
    }

    @Test func metricsAreReadMinuteByMinute() {
        // Data points: the minute before the last point had 7, the one before 3. Since the last point (this
        // minute) 2 more finished.
        let series = MetricsSeries(count: 12, previousTimestamp: Self.now - 10_000, previousCount: 10, data: [7, 3])
        let minutes = series.perMinute(now: Self.now, minutes: 4)
        #expect(minutes == [nil, 3, 7, 2])
        // Two minutes later with nothing finished since: those minutes are zero.
        #expect(series.perMinute(now: Self.now + 120_000, minutes: 4) == [7, 2, 0, 0])
        let analysis = QueueAnalysis(
            history: Self.history([], completedMetrics: series), backlog: 0, oldestWaitingAt: nil, now: Self.now)
        #expect(analysis.throughputSource == .metrics)
        #expect(analysis.completedPerMinute.suffix(3) == [3, 7, 2])
        #expect(analysis.failedPerMinute.allSatisfy { $0 == 0 }, "never-recorded failures count zero")
        // 12 jobs over two whole minutes and the 30 s of this one.
        #expect(analysis.rateWindowMs == 150_000)
        #expect(abs((analysis.completedRate ?? 0) - 12 * 60_000 / 150_000.0) < 1e-9)
    }

    @Test func metricsThatStoppedBeforeTheNewestFinishAreNotUsed() {
        // Metrics last written an hour ago, yet jobs finished a minute ago: workers that do not record them run now.
        let stale = MetricsSeries(count: 500, previousTimestamp: Self.now - 3_600_000, previousCount: 400, data: [100])
        let jobs = (0..<10).map { Self.job($0, agoMs: 60_000 + Int64($0) * 1000) }
        let analysis = QueueAnalysis(
            history: Self.history(jobs, completedMetrics: stale), backlog: 0, oldestWaitingAt: nil, now: Self.now)
        #expect(analysis.throughputSource == .derived)
        #expect(analysis.completedPerMinute.compactMap { $0 }.reduce(0, +) == 10)
    }

    @Test func arrivalsBacklogGrowthAndTimeToEmpty() {
        // 30 finished in the last hour (all added in it) and 90 waiting added in it: 120 arrivals per hour = 2/min;
        // finishes 0.5/min: the backlog grows by 1.5/min and never empties.
        let finished = (0..<30).map { Self.job($0, agoMs: Int64($0) * 60_000) }
        let waiting = (0..<90).map { Self.now - Int64($0) * 30_000 }
        let growing = QueueAnalysis(
            history: Self.history(finished, unfinished: waiting), backlog: 90, oldestWaitingAt: waiting.last,
            now: Self.now)
        #expect(abs((growing.arrivalRate ?? 0) - 2) < 1e-9)
        #expect(abs((growing.backlogGrowthRate ?? 0) - 1.5) < 1e-9)
        #expect(growing.timeToEmptyMs == nil)
        #expect(growing.oldestWaitingAgeMs == Int64(89 * 30_000))
        // 3 finished per minute, all added more than an hour ago, and 30 waiting: the backlog shrinks by 3/min and
        // is empty in 10 minutes.
        let old = (0..<180).map { Self.job($0, agoMs: Int64($0) * 20_000, waitingMs: 7_200_000) }
        let shrinking = QueueAnalysis(history: Self.history(old), backlog: 30, oldestWaitingAt: nil, now: Self.now)
        #expect(abs((shrinking.completedRate ?? 0) - 3) < 1e-9)
        #expect(shrinking.arrivalRate == 0)
        #expect(shrinking.timeToEmptyMs == 600_000)
    }

    @Test func adviceNamesItsEvidenceAndFollowsTheThresholds() throws {
        let slow = (0..<3).map { Self.job($0, agoMs: Int64($0) * 60_000, processingMs: 45_000) }
        let analysis = QueueAnalysis(
            history: Self.history(
                slow, active: [ActiveJob(id: "9", processedOn: Self.now - 20_000, lockedUntil: Self.now + 2_000)]),
            backlog: 500, oldestWaitingAt: Self.now - 60_000, now: Self.now)
        let advice = Advice.lines(analysis, stalledCandidates: 0, thresholds: .init())
        #expect(advice.map(\.code) == ["slow", "backlog", "long_jobs", "stall_risk"])
        #expect(advice[2].evidence.contains("p99 45s"))
        let paused = Advice.lines(analysis, stalledCandidates: 0, thresholds: .init(), pausedQueue: "mail")
        #expect(paused.map(\.code) == ["paused", "backlog", "long_jobs", "stall_risk"])
        #expect(paused[0].message == "the queue is paused: its 500 waiting jobs run only after 'jobctl resume mail'")
        let noWorkers = Advice.lines(analysis, stalledCandidates: 0, thresholds: .init(), workers: 0)
        #expect(noWorkers.first?.code == "no_workers")
        #expect(noWorkers.first?.message.hasPrefix("no worker is connected to this queue") == true)
        let three = Advice.lines(analysis, stalledCandidates: 0, thresholds: .init(), workers: 3)
        #expect(three.first?.code == "slow" && three.first?.message.contains("3 workers connected") == true)
        let relaxed = try Advice.Thresholds(parsing: "throughput=0, waiting=1000, processing=1m, lock_margin=1s")
        let quiet = QueueAnalysis(
            history: Self.history(slow, active: [ActiveJob(id: "9", processedOn: nil, lockedUntil: Self.now + 2_000)]),
            backlog: 500,
            oldestWaitingAt: nil, now: Self.now, lockMarginMs: relaxed.lockMarginMs)
        #expect(Advice.lines(quiet, stalledCandidates: 0, thresholds: relaxed).isEmpty)
        #expect(throws: HealthCheck.ParseError.self) { try Advice.Thresholds(parsing: "failure_rate=10") }
        #expect(throws: HealthCheck.ParseError.self) { try Advice.Thresholds(parsing: "speed=3") }
    }
}

@Suite struct HealthCheckTests {
    @Test func parsesTheDocumentedGrammar() throws {
        let check = try HealthCheck(
            parsing: " backlog < 1000 , failed_rate<=5%,oldest_wait<10m,paused=false,stalled!=1")
        #expect(
            check.rules.map(\.text) == [
                "backlog<1000", "failed_rate<=5%", "oldest_wait<10m", "paused=false", "stalled!=1",
            ])
        #expect(check.rules[1].value == 0.05 && check.rules[2].value == 600_000 && check.rules[3].value == 0)
        #expect(check.needsHistory && check.needsStalled)
    }

    @Test(arguments: [
        "", "backlog", "backlog<", "backlog<<3", "backlog<1.5", "speed<3", "paused<true", "paused=maybe",
        "failed_rate<5",
        "oldest_wait<soon", "backlog<1000,", ",backlog<1", "backlog=>3", "failed_rate<-5%",
    ])
    func rejectsWhatItCannotRead(_ text: String) {
        #expect(throws: HealthCheck.ParseError.self) { try HealthCheck(parsing: text) }
    }

    @Test func failuresNameTheRuleAndTheValueFound() throws {
        let check = try HealthCheck(parsing: "backlog<1000,failed_rate<5%,oldest_wait<10m,paused=false,active>=0")
        var counts = JobCounts()
        counts[.waiting] = 900
        counts[.prioritized] = 200
        counts[.active] = 3
        let figures = HealthCheck.Figures(
            counts: counts, isPaused: true, oldestWaitMs: 11 * 60_000, failureRate: 0.0625)
        #expect(
            check.failures(figures).map { "\($0.rule) found \($0.found)" } == [
                "backlog<1000 found 1100", "failed_rate<5% found 6.3%", "oldest_wait<10m found 11m00s",
                "paused=false found true",
            ])
        var healthy = figures
        healthy.isPaused = false
        healthy.oldestWaitMs = nil
        healthy.failureRate = nil
        healthy.counts[.prioritized] = 0
        #expect(check.failures(healthy).isEmpty)
    }
}

@Suite struct TuningTests {
    typealias Q = QueueAnalysisTests

    static func tune(
        _ jobs: [FinishedJob], unfinished: [Int64] = [], workload: Tuning.Workload = .unknown, cores: Int = 4
    ) -> Tuning {
        let history = Q.history(jobs, unfinished: unfinished)
        let analysis = QueueAnalysis(history: history, backlog: unfinished.count, oldestWaitingAt: nil, now: Q.now)
        return Tuning(
            analysis: analysis, history: history, globalConcurrency: nil, rateLimit: nil, workload: workload,
            cores: cores)
    }

    static func setting(_ tuning: Tuning, _ name: String) -> Tuning.Recommendation? {
        tuning.recommendations.first { $0.setting == name }
    }

    @Test func concurrencyByLittlesLawCappedAtTheCoresForCPUBoundWork() throws {
        // 120 arrivals an hour (2/min, all finished) taking 30 s each: 1 in progress on average, 1.5 with headroom
        // → 2.
        let jobs = (0..<120).map { Q.job($0, agoMs: Int64($0) * 30_000, processingMs: 30_000) }
        let io = try #require(Self.setting(Self.tune(jobs), "concurrency"))
        #expect(io.value == "2" && io.apply == .globalConcurrency(2) && io.reason.contains("I/O-bound assumed"))
        // 1000 arrivals in the hour (16.7/min): 8.3 in progress, 12.5 with headroom → 13; CPU-bound on 4 cores: 4.
        let many = (0..<1000).map { Q.job($0, agoMs: Int64($0) * 3_000, processingMs: 30_000) }
        #expect(Self.setting(Self.tune(many, workload: .ioBound), "concurrency")?.value == "13")
        let cpu = try #require(Self.setting(Self.tune(many, workload: .cpuBound, cores: 4), "concurrency"))
        #expect(cpu.value == "4" && cpu.reason.contains("capped at 4 cores"))
    }

    @Test func locksFollowTheSlowestJobsButNeverGoBelowBullMQsDefault() {
        let quick = Self.tune((0..<50).map { Q.job($0, agoMs: Int64($0) * 1000, processingMs: 200) })
        #expect(
            Self.setting(quick, "lockDuration")?.value == "30000"
                && Self.setting(quick, "lockRenewTime")?.value == "15000")
        let slow = Self.tune(
            (0..<100).map { Q.job($0, agoMs: Int64($0) * 60_000, processingMs: $0 == 5 ? 200_000 : 40_000 + Int64($0)) }
        )
        // p99 of 100 values is the 99th smallest: 40,099 ms → twice, rounded up to whole seconds.
        #expect(Self.setting(slow, "lockDuration")?.value == "81000")
        #expect(Self.setting(slow, "lockRenewTime")?.value == "40500")
        #expect(Self.setting(slow, "stalledInterval")?.value == "81000")
    }

    @Test func stallsWithLongJobsAreWarnedAbout() {
        var jobs = (0..<30).map { Q.job($0, agoMs: Int64($0) * 60_000, processingMs: 50_000) }
        jobs.append(Q.job(99, agoMs: 5_000, failed: true, reason: "job stalled more than allowable limit"))
        let tuning = Self.tune(jobs)
        #expect(tuning.warnings.contains { $0.contains("failed as stalled while p99 processing is 50s") })
        #expect(Self.setting(tuning, "maxStalledCount")?.reason.contains("1 sampled job(s) failed as stalled") == true)
    }

    @Test func aRateLimitWhereFailuresLookLikePushback() throws {
        var jobs = (0..<100).map { Q.job($0, agoMs: Int64($0) * 600, processingMs: 50) }
        jobs += (0..<6).map {
            Q.job(200 + $0, agoMs: Int64($0) * 300_000, failed: true, reason: "HTTP 429 Too Many Requests")
        }
        let limiter = try #require(Self.setting(Self.tune(jobs), "limiter"))
        // The busiest minute had 50 completions (the 100 straddle two minutes): 80% of it, per minute.
        #expect(limiter.apply == .globalRateLimit(RateLimit(max: 40, durationMs: 60_000)), "\(limiter)")
        // 1000 in one minute: per second instead (13 a second is 80% of 1000 a minute).
        let busy =
            (0..<1000).map { Q.job($0, agoMs: 31_000 + Int64($0) * 25, processingMs: 5) }
            + (0..<6).map { Q.job(2000 + $0, agoMs: 100, failed: true, reason: "rate limit exceeded") }
        #expect(
            Self.setting(Self.tune(busy), "limiter")?.apply == .globalRateLimit(RateLimit(max: 13, durationMs: 1000)))
        let plain = (0..<6).map { Q.job($0, agoMs: Int64($0) * 300_000, failed: true, reason: "bad input \($0)") }
        #expect(Self.setting(Self.tune(plain), "limiter") == nil)
    }

    @Test func backoffWhereFailuresComeInBursts() {
        let burst = (0..<8).map { Q.job($0, agoMs: 60_000 + Int64($0) * 500, failed: true, reason: "ECONNREFUSED") }
        #expect(Self.setting(Self.tune(burst), "attempts/backoff (job options)") != nil)
        let spread = (0..<8).map { Q.job($0, agoMs: Int64($0) * 120_000, failed: true, reason: "ECONNREFUSED") }
        #expect(Self.setting(Self.tune(spread), "attempts/backoff (job options)") == nil)
    }

    @Test func noHistoryStillGivesTheDefaultsAndSaysWhy() {
        let tuning = Self.tune([])
        #expect(Self.setting(tuning, "concurrency")?.value == "" && Self.setting(tuning, "concurrency")?.apply == nil)
        #expect(Self.setting(tuning, "lockDuration")?.value == "30000")
        #expect(Self.setting(tuning, "drainDelay")?.value == "30", "idle: a longer blocking wait")
        #expect(tuning.warnings.contains { $0.contains("only 0 finished job(s)") })
    }
}
