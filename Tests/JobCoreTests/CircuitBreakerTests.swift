import JobCore
import Testing

/// The circuit breaker on its own, and the worker's rules around it, with a clock of the test's own.
@Suite struct CircuitBreakerTests {
    static let start: Int64 = 1_000_000
    static let failed = JobOutcome.failed(reason: "provider down", stacktrace: nil, unrecoverable: false)
    static let completed = JobOutcome.completed(returnValue: "null")

    @Test func readsNAndCooldown() {
        #expect(CircuitBreaker.Settings("5") == .init(threshold: 5, cooldownMs: 30_000))
        #expect(CircuitBreaker.Settings("3/2s") == .init(threshold: 3, cooldownMs: 2000))
        #expect(CircuitBreaker.Settings("1/10m") == .init(threshold: 1, cooldownMs: 600_000))
        for bad in ["", "0", "-1", "x", "5/", "5/0s", "5/soon", "5/2d", "2/1s/3", " 5"] {
            #expect(CircuitBreaker.Settings(bad) == nil, "'\(bad)'")
        }
    }

    @Test func opensAfterNFailuresInARowHalfOpensAndClosesOnASuccess() {
        var breaker = CircuitBreaker(.init(threshold: 3, cooldownMs: 1000))
        var now = Self.start
        #expect(breaker.admits(now: now) == nil)
        #expect(breaker.handlerFinished(succeeded: false, now: now) == nil)
        #expect(breaker.handlerFinished(succeeded: true, now: now) == nil, "a success resets the count")
        #expect(breaker.handlerFinished(succeeded: false, now: now) == nil)
        #expect(breaker.handlerFinished(succeeded: false, now: now) == nil)
        let opened = breaker.handlerFinished(succeeded: false, now: now)
        #expect(opened?.hasPrefix("circuit breaker open after 3 failures in a row") == true, "\(opened ?? "-")")
        #expect(breaker.state == .open(until: now + 1000) && breaker.admits(now: now + 999) == 0)
        #expect(breaker.handlerFinished(succeeded: true, now: now + 10) == nil, "a job taken before it opened")
        now += 1000
        #expect(breaker.admits(now: now) == 1 && breaker.state == .halfOpen(trialRunning: false))
        breaker.jobTaken()
        #expect(breaker.admits(now: now) == 0, "one trial at a time")
        // The trial fails: open again, twice as long.
        #expect(breaker.handlerFinished(succeeded: false, now: now)?.contains("next try in 2s") == true)
        #expect(breaker.state == .open(until: now + 2000))
        now += 2000
        #expect(breaker.admits(now: now) == 1)
        breaker.jobTaken()
        #expect(
            breaker.handlerFinished(succeeded: true, now: now + 500)
                == "circuit breaker closed: the trial job succeeded")
        #expect(breaker.state == .closed(failuresInARow: 0) && breaker.admits(now: now) == nil)
        #expect(breaker.timesOpened == 1 && breaker.totalOpenMs(now: now + 10_000) == 3500)
    }

    @Test func cooldownsDoubleUpToTenMinutes() {
        var breaker = CircuitBreaker(.init(threshold: 1, cooldownMs: 200_000))
        var now = Self.start
        _ = breaker.handlerFinished(succeeded: false, now: now)
        var cooldowns: [Int64] = []
        for _ in 0..<4 {
            guard let until = breaker.reopensAt else { break }
            cooldowns.append(until - now)
            now = until
            _ = breaker.admits(now: now)
            breaker.jobTaken()
            _ = breaker.handlerFinished(succeeded: false, now: now)
        }
        #expect(cooldowns == [200_000, 400_000, 600_000, 600_000])
    }

    @Test func anOpenBreakerStopsClaimsWakesAfterTheCooldownAndLetsOneJobThrough() {
        var settings = WorkerSettings()
        settings.concurrency = 4
        settings.breaker = .init(threshold: 2, cooldownMs: 5000)
        var loop = WorkerLoop(mode: .untilStopped, settings: settings, now: Self.start)
        var now = Self.start
        #expect(loop.next(now: now) == [.claim(4)])
        _ = loop.claimed(WorkerLoopTests.claimed(["1", "2", "3"]), now: now)
        #expect(loop.jobDone(WorkerLoopTests.job("1"), outcome: Self.failed, now: now).isEmpty)
        let opened = loop.jobDone(WorkerLoopTests.job("2"), outcome: Self.failed, now: now)
        #expect(opened.count == 1, "one log line when it opens: \(opened)")
        let next = loop.next(now: now)
        #expect(!next.contains { $0.isClaim } && next.last == .wake(afterMs: 5000), "\(next)")
        #expect(!loop.next(now: now + 1).contains(.wake(afterMs: 4999)), "one wake for the cool-down")
        // The job still running finishes meanwhile: its finish goes out, no claim does.
        _ = loop.jobDone(WorkerLoopTests.job("3"), outcome: Self.completed, now: now + 100)
        #expect(!loop.next(now: now + 100).contains { $0.isClaim })
        now += 5000
        _ = loop.woke()
        #expect(loop.next(now: now).last == .claim(1), "half-open: one job")
        _ = loop.claimed(WorkerLoopTests.claimed(["4"]), now: now)
        #expect(!loop.next(now: now).contains { $0.isClaim }, "no more until the trial is done")
        _ = loop.jobDone(WorkerLoopTests.job("4"), outcome: Self.completed, now: now + 50)
        #expect(loop.next(now: now + 50).last == .claim(4), "closed: every free slot again")
        let summary = loop.summary(now: now + 60)
        #expect(summary.breakerOpenedTimes == 1 && summary.breakerOpenMs == 5050)
    }
}
