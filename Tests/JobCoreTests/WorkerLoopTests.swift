import JobCore
import Testing

/// The worker's rules, driven event by event with a clock of the test's own (`now`).
@Suite struct WorkerLoopTests {
    static let start: Int64 = 1_000_000

    static func job(_ id: String, opts: JSONValue = .object([])) -> ClaimedJob {
        ClaimedJob(
            queue: "q", id: id, name: "n", data: "{}", opts: opts, attemptsMade: 0, timestamp: 0, token: "t:\(id)")
    }

    static func settings(concurrency: Int = 4, claimBatch: Int = 50) -> WorkerSettings {
        var settings = WorkerSettings()
        settings.concurrency = concurrency
        settings.claimBatch = claimBatch
        return settings
    }

    static func claimed(_ ids: [String], wait: ClaimWait? = nil) -> ClaimResult {
        ClaimResult(jobs: ids.map { job($0) }, wait: wait)
    }

    static func finishes(_ actions: [WorkerLoop.Action]) -> [String] {
        actions.flatMap { action -> [String] in
            if case .flush(let batch) = action { return batch.map(\.job.id) }
            return []
        }
    }

    @Test func claimsForTheFreeSlotsInBatchesThenWaitsForAJobToBeDone() {
        var loop = WorkerLoop(
            mode: .untilStopped, settings: Self.settings(concurrency: 3, claimBatch: 2), now: Self.start)
        #expect(loop.next(now: Self.start) == [.claim(2)])
        #expect(
            loop.claimed(Self.claimed(["1", "2"]), now: Self.start) == [
                .startHandler(Self.job("1")), .startHandler(Self.job("2")),
            ])
        #expect(loop.next(now: Self.start) == [.claim(1)])
        _ = loop.claimed(Self.claimed(["3"]), now: Self.start)
        #expect(loop.next(now: Self.start).isEmpty, "every slot is taken: wait for an event")
        #expect(loop.jobDone(Self.job("2"), outcome: .completed(returnValue: "null"), now: Self.start + 10).isEmpty)
        let next = loop.next(now: Self.start + 10)
        #expect(Self.finishes(next) == ["2"] && next.last == .claim(1), "the finish goes beside the next claim")
    }

    @Test func pollingBacksOffTo2sResetsOnWorkAndComesForTheNextDelayedJob() {
        var loop = WorkerLoop(mode: .untilStopped, settings: Self.settings(concurrency: 1), now: Self.start)
        loop.polling = true
        var now = Self.start
        #expect(loop.next(now: now) == [.claim(1)])
        #expect(loop.claimed(Self.claimed([], wait: .empty(nextDelayedAt: nil)), now: now) == [.poll(afterMs: 100)])
        #expect(loop.next(now: now).isEmpty, "no claim before the poll says so")
        var waits: [Int64] = []
        for _ in 0..<6 {
            now += 10
            for case .poll(let ms) in loop.polled(mayHaveWork: false, now: now) { waits.append(ms) }
        }
        #expect(waits == [200, 400, 800, 1600, 2000, 2000])
        #expect(loop.polled(mayHaveWork: true, now: now).isEmpty)
        #expect(loop.next(now: now) == [.claim(1)], "work found: claim")
        _ = loop.claimed(Self.claimed(["1"]), now: now)
        _ = loop.jobDone(Self.job("1"), outcome: .completed(returnValue: "null"), now: now)
        _ = loop.next(now: now)
        // Work resets the back-off; a delayed job due sooner than the back-off is come for on time.
        #expect(loop.claimed(Self.claimed([], wait: .empty(nextDelayedAt: now + 40)), now: now) == [.poll(afterMs: 40)])
        #expect(loop.polled(mayHaveWork: false, now: now + 40) == [.poll(afterMs: 200)], "due passed: back-off again")
        #expect(loop.polled(mayHaveWork: true, now: now + 240).isEmpty)
        #expect(loop.next(now: now + 240) == [.claim(1)])
        #expect(loop.claimed(Self.claimed([], wait: .paused), now: now + 240) == [.poll(afterMs: 2000)])
    }

    @Test func signalledWorkersWaitForTheSignalNotAPoll() {
        var loop = WorkerLoop(mode: .untilStopped, settings: Self.settings(concurrency: 1), now: Self.start)
        _ = loop.next(now: Self.start)
        #expect(
            loop.claimed(Self.claimed([], wait: .empty(nextDelayedAt: nil)), now: Self.start) == [
                .waitForWork(timeoutMs: WorkerLoop.firstIdleWaitMs)
            ])
    }

    @Test func aStopDuringAClaimLetsItsJobsRunWithinTheGraceThenEnds() {
        var loop = WorkerLoop(mode: .untilStopped, settings: Self.settings(), graceMs: 30_000, now: Self.start)
        #expect(loop.next(now: Self.start) == [.claim(4)])
        #expect(loop.stopRequested().isEmpty, "nothing runs yet")
        let answer = loop.claimed(Self.claimed(["1", "2"]), now: Self.start)
        #expect(answer.contains(.startHandler(Self.job("1"))) && answer.contains(.startGrace(ms: 30_000)))
        #expect(loop.next(now: Self.start).isEmpty, "no claim after a stop")
        _ = loop.jobDone(Self.job("1"), outcome: .completed(returnValue: "1"), now: Self.start + 5)
        _ = loop.jobDone(Self.job("2"), outcome: .completed(returnValue: "2"), now: Self.start + 6)
        let next = loop.next(now: Self.start + 6)
        #expect(Self.finishes(next) == ["1", "2"] && !next.contains(.end))
        let batch = next.compactMap { if case .flush(let batch) = $0 { return batch } else { return nil } }[0]
        _ = loop.flushed(batch, lost: [])
        #expect(loop.next(now: Self.start + 7) == [.end])
        #expect(loop.summary.completed == 2 && loop.summary.handedBack == 0)
    }

    @Test func graceExpiryHandsBackWhatRunsAndStillSendsWhatIsDone() {
        var loop = WorkerLoop(mode: .untilStopped, settings: Self.settings(), graceMs: 2000, now: Self.start)
        _ = loop.next(now: Self.start)
        _ = loop.claimed(Self.claimed(["1", "2", "3"], wait: .empty(nextDelayedAt: nil)), now: Self.start)
        let stop = loop.stopRequested()
        #expect(stop.contains(.startGrace(ms: 2000)))
        #expect(loop.stopRequested().isEmpty, "a second request changes nothing")
        _ = loop.jobDone(Self.job("1"), outcome: .completed(returnValue: "1"), now: Self.start + 100)
        #expect(loop.graceOver() == [.handBack([.init(id: "2", token: "t:2"), .init(id: "3", token: "t:3")])])
        let next = loop.next(now: Self.start + 2001)
        #expect(Self.finishes(next) == ["1"] && !next.contains(.end), "job 1's finish is not dropped")
        let batch = next.compactMap { if case .flush(let batch) = $0 { return batch } else { return nil } }[0]
        _ = loop.flushed(batch, lost: [])
        #expect(loop.next(now: Self.start + 2002) == [.end])
        #expect(loop.summary.handedBack == 2 && loop.summary.completed == 1)
        // A handler that comes back after its job was handed back finishes nothing.
        #expect(loop.jobDone(Self.job("2"), outcome: .completed(returnValue: "late"), now: Self.start + 3000).isEmpty)
        #expect(Self.finishes(loop.next(now: Self.start + 3000)).isEmpty)
    }

    @Test func aLockThatCouldNotBeRenewedMakesItsJobLostNeverFinished() {
        var settings = Self.settings()
        settings.lockDurationMs = 30_000
        var loop = WorkerLoop(mode: .untilIdle, settings: settings, now: Self.start)
        _ = loop.next(now: Self.start)
        _ = loop.claimed(Self.claimed(["1", "2"]), now: Self.start)
        #expect(loop.locksToRenew().map(\.id) == ["1", "2"])
        let renewed = loop.locksRenewed(loop.locksToRenew(), failed: ["1"], now: Self.start + 15_000)
        #expect(renewed.count == 1, "the lost job is logged")
        #expect(loop.locksToRenew().map(\.id) == ["2"], "a lost lock is not renewed again")
        _ = loop.jobDone(Self.job("1"), outcome: .completed(returnValue: "1"), now: Self.start + 16_000)
        // Job 2's lock was renewed at +15 s: it holds until +45 s by the worker's clock.
        _ = loop.jobDone(Self.job("2"), outcome: .completed(returnValue: "2"), now: Self.start + 44_000)
        #expect(Self.finishes(loop.next(now: Self.start + 44_000)) == ["2"])
        #expect(loop.summary.lost == 1 && loop.summary.processed == 2)
    }

    @Test func aLockThatRanOutByTheWorkersClockIsNotFinished() {
        var settings = Self.settings()
        settings.lockDurationMs = 1000
        var loop = WorkerLoop(mode: .untilIdle, settings: settings, now: Self.start)
        _ = loop.next(now: Self.start)
        _ = loop.claimed(Self.claimed(["1"]), now: Self.start)
        _ = loop.jobDone(Self.job("1"), outcome: .completed(returnValue: "1"), now: Self.start + 1001)
        #expect(Self.finishes(loop.next(now: Self.start + 1001)).isEmpty)
        #expect(loop.summary.lost == 1)
    }

    @Test func finishesOfAFlushLostToTheServerAreSentAgainWithBackOff() {
        var loop = WorkerLoop(mode: .untilStopped, settings: Self.settings(concurrency: 1), now: Self.start)
        _ = loop.next(now: Self.start)
        _ = loop.claimed(Self.claimed(["1"]), now: Self.start)
        _ = loop.jobDone(Self.job("1"), outcome: .completed(returnValue: "1"), now: Self.start + 1)
        let first = loop.next(now: Self.start + 1)
        let batch = first.compactMap { if case .flush(let batch) = $0 { return batch } else { return nil } }[0]
        #expect(loop.flushFailed(batch, serverAway: true) == [.wake(afterMs: 500)])
        #expect(loop.next(now: Self.start + 2).isEmpty, "nothing until the back-off passes")
        _ = loop.woke()
        let again = loop.next(now: Self.start + 502)
        #expect(Self.finishes(again) == ["1"], "the same finish, sent again")
        #expect(loop.flushFailed(batch, serverAway: true) == [.wake(afterMs: 1000)], "the back-off doubles")
        _ = loop.woke()
        _ = loop.next(now: Self.start + 1600)
        #expect(loop.flushed(batch, lost: [LostJob(id: "1", reason: "its lock had expired")]).count == 1)
        #expect(loop.summary.lost == 1 && loop.summary.completed == 0)
    }

    @Test func aFailedFlushEndsARunOnceAndAnErrorEndsAnyRun() {
        var once = WorkerLoop(mode: .untilIdle, settings: Self.settings(), now: Self.start)
        #expect(once.flushFailed([], serverAway: true) == [.end])
        var service = WorkerLoop(mode: .untilStopped, settings: Self.settings(), now: Self.start)
        #expect(service.flushFailed([], serverAway: false) == [.end])
        #expect(service.claimFailed(serverAway: false, description: "ERR", now: Self.start) == [.end])
    }

    @Test func aServerAwayIsRetriedWithADoublingPauseAndSaidOnce() {
        var loop = WorkerLoop(mode: .untilStopped, settings: Self.settings(), now: Self.start)
        var waits: [Int64] = []
        for step in 0..<8 {
            _ = loop.next(now: Self.start + Int64(step))
            let answer = loop.claimFailed(
                serverAway: true, description: "connection refused", now: Self.start + Int64(step))
            #expect(
                answer.filter { if case .log = $0 { return true } else { return false } }.count == (step == 0 ? 1 : 0))
            for case .wake(let ms) in answer { waits.append(ms) }
            _ = loop.woke()
        }
        #expect(waits == [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000])
        let back = loop.claimed(Self.claimed([]), now: Self.start + 60_000)
        #expect(back.first == .log("connection to the server is back after 1m00s"))
        _ = loop.next(now: Self.start + 60_000)
        #expect(
            loop.claimFailed(serverAway: true, description: "again", now: Self.start + 61_000).last
                == .wake(afterMs: 500))
    }

    @Test func pauseGlobalConcurrencyAndRateLimitWaitAsTheReadmeSays() {
        var loop = WorkerLoop(mode: .untilStopped, settings: Self.settings(), now: Self.start)
        _ = loop.next(now: Self.start)
        #expect(loop.claimed(Self.claimed([], wait: .rateLimited(ms: 700)), now: Self.start) == [.wake(afterMs: 700)])
        #expect(loop.next(now: Self.start).isEmpty)
        _ = loop.woke()
        _ = loop.next(now: Self.start)
        #expect(
            loop.claimed(Self.claimed([], wait: .rateLimited(ms: 90_000)), now: Self.start) == [.wake(afterMs: 30_000)])
        var maxed: [Int64] = []
        for _ in 0..<8 {
            _ = loop.woke()
            _ = loop.next(now: Self.start)
            for case .wake(let ms) in loop.claimed(Self.claimed([], wait: .maxed), now: Self.start) { maxed.append(ms) }
        }
        #expect(maxed == [100, 200, 400, 800, 1600, 3200, 5000, 5000])
        _ = loop.woke()
        _ = loop.next(now: Self.start)
        #expect(loop.claimed(Self.claimed([], wait: .paused), now: Self.start) == [.waitForWork(timeoutMs: 60_000)])

        var once = WorkerLoop(mode: .untilIdle, settings: Self.settings(), now: Self.start)
        _ = once.next(now: Self.start)
        #expect(once.claimed(Self.claimed([], wait: .paused), now: Self.start).isEmpty)
        #expect(once.next(now: Self.start) == [.end] && once.summary.sawPause)
    }

    @Test func anIdleWorkerWaitsLongerEachTimeUpTo60sAndWakesForTheNextDelayedJob() {
        var loop = WorkerLoop(mode: .untilStopped, settings: Self.settings(), now: Self.start)
        var waits: [Int64] = []
        for _ in 0..<6 {
            _ = loop.next(now: Self.start)
            for case .waitForWork(let ms) in loop.claimed(
                Self.claimed([], wait: .empty(nextDelayedAt: nil)), now: Self.start)
            {
                waits.append(ms)
            }
            _ = loop.woke()
        }
        #expect(waits == [5000, 10_000, 20_000, 40_000, 60_000, 60_000])
        _ = loop.next(now: Self.start)
        let soon = loop.claimed(Self.claimed([], wait: .empty(nextDelayedAt: Self.start + 1200)), now: Self.start)
        #expect(soon == [.waitForWork(timeoutMs: 1200)], "the next delayed job is due sooner")
        _ = loop.woke()
        _ = loop.next(now: Self.start)
        _ = loop.claimed(Self.claimed(["1"]), now: Self.start)
        _ = loop.jobDone(Self.job("1"), outcome: .completed(returnValue: "1"), now: Self.start)
        _ = loop.woke()
        _ = loop.next(now: Self.start)
        #expect(
            loop.claimed(Self.claimed([], wait: .empty(nextDelayedAt: nil)), now: Self.start) == [
                .waitForWork(timeoutMs: 5000)
            ],
            "work found: the wait starts over")
        #expect(
            loop.claimed(Self.claimed([], wait: .empty(nextDelayedAt: nil)), now: Self.start).isEmpty,
            "one wait at a time")
    }

    @Test func maxJobsBoundsTheClaimsAndEndsTheRunWhenAllAreFinished() {
        var settings = Self.settings(concurrency: 10)
        settings.maxJobs = 3
        var loop = WorkerLoop(mode: .untilIdle, settings: settings, now: Self.start)
        #expect(loop.next(now: Self.start) == [.claim(3)])
        _ = loop.claimed(Self.claimed(["1", "2"]), now: Self.start)
        #expect(loop.next(now: Self.start) == [.claim(1)])
        _ = loop.claimed(Self.claimed(["3"]), now: Self.start)
        #expect(loop.next(now: Self.start).isEmpty)
        for id in ["1", "2", "3"] {
            _ = loop.jobDone(Self.job(id), outcome: .completed(returnValue: id), now: Self.start)
        }
        let next = loop.next(now: Self.start)
        #expect(Self.finishes(next) == ["1", "2", "3"] && !next.contains(where: \.isClaim) && !next.contains(.end))
        let batch = next.compactMap { if case .flush(let batch) = $0 { return batch } else { return nil } }[0]
        _ = loop.flushed(batch, lost: [])
        #expect(loop.next(now: Self.start) == [.end])
    }

    @Test func maxRuntimeStopsTheClaimsOnceItHasPassed() {
        var settings = Self.settings()
        settings.maxRuntimeMs = 10_000
        var loop = WorkerLoop(mode: .untilStopped, settings: settings, now: Self.start)
        #expect(loop.next(now: Self.start + 9_999) == [.claim(4)])
        _ = loop.claimed(Self.claimed(["1"]), now: Self.start + 9_999)
        #expect(loop.next(now: Self.start + 10_000).isEmpty, "no claim, job 1 still runs")
        _ = loop.jobDone(
            Self.job("1"), outcome: .failed(reason: "x", stacktrace: nil, unrecoverable: false),
            now: Self.start + 10_001)
        let next = loop.next(now: Self.start + 10_001)
        let batch = next.compactMap { if case .flush(let batch) = $0 { return batch } else { return nil } }[0]
        _ = loop.flushed(batch, lost: [])
        #expect(loop.next(now: Self.start + 10_002) == [.end] && loop.summary.failed == 1)
    }

    @Test func aRunOnceThatFindsNothingWhileJobsRunLooksAgainWhenOneIsDone() {
        var loop = WorkerLoop(mode: .untilIdle, settings: Self.settings(), now: Self.start)
        _ = loop.next(now: Self.start)
        _ = loop.claimed(Self.claimed(["1"], wait: .empty(nextDelayedAt: nil)), now: Self.start)
        #expect(loop.next(now: Self.start).isEmpty, "a retry of job 1 may come back: not over yet")
        _ = loop.jobDone(
            Self.job("1", opts: .object([("attempts", .int(2))])),
            outcome: .failed(reason: "x", stacktrace: nil, unrecoverable: false), now: Self.start)
        let next = loop.next(now: Self.start)
        #expect(Self.finishes(next) == ["1"] && next.last == .claim(4))
        _ = loop.claimed(Self.claimed([], wait: .empty(nextDelayedAt: nil)), now: Self.start)
        #expect(loop.next(now: Self.start).isEmpty, "the finish is still under way")
        let batch = next.compactMap { if case .flush(let batch) = $0 { return batch } else { return nil } }[0]
        _ = loop.flushed(batch, lost: [])
        #expect(loop.next(now: Self.start) == [.claim(4)])
        _ = loop.claimed(Self.claimed([], wait: .empty(nextDelayedAt: nil)), now: Self.start)
        #expect(loop.next(now: Self.start) == [.end])
    }
}
