import Foundation
import TestSupport
import Testing

/// `run` and `run-once --breaker` against the real Python `bullmq` on both backends: after N handler failures in a
/// row the worker takes no job, the client sees the rest waiting with their attempts untouched, and after the
/// cool-down one job goes through and closes the breaker.
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct BreakerTests {
    typealias Object = [String: Any]

    /// Five jobs whose handler fails, then three that succeed (ids 1–8, worked in that order at concurrency 1).
    static func addFailingThenGood(_ plan: StepPlan, queue: String, failing: Int, good: Int) {
        plan.step([
            "op": "add_bulk", "queue": queue,
            "jobs": (0..<failing).map { ["name": "call", "data": ["fail": true, "n": $0]] as Object }
                + (failing..<failing + good).map { ["name": "call", "data": ["n": $0]] as Object },
        ])
    }

    @Test(arguments: Backend.live)
    func anOpenBreakerLeavesTheWaitingJobsAndTheirAttemptsAlone(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        Self.addFailingThenGood(plan, queue: "b", failing: 5, good: 3)
        // A cool-down far longer than the checks take: what is read meanwhile is the open breaker's doing.
        plan.step([
            "op": "jobctl_start", "until": "circuit breaker open",
            "args": ["run", "b", "--breaker", "5/10m"] + WorkerCommandTests.handler,
        ])
        // The fifth failure is sent beside the log line that opens the breaker.
        plan.step(["op": "wait_counts", "queue": "b", "state": "failed", "count": 5, "timeout": 30])
        let counts = plan.counts("b")
        let left = (6...8).map { plan.job("b", id: String($0)) }
        let stopped = plan.result(["op": "jobctl_stop"])
        try plan.run(on: steps)
        #expect(counts.int("failed") == 5 && counts.int("waiting") == 3 && counts.int("active") == 0, "\(counts)")
        for job in left {
            #expect(job.state == "waiting" && job.int("attemptsMade") == 0, "\(job)")
        }
        let log = stopped.string("stderr") ?? ""
        #expect(stopped.int("status") == 0, "\(stopped)")
        #expect(
            log.components(separatedBy: "circuit breaker open after 5 failures in a row").count == 2
                && log.contains("circuit breaker open once"), "logged once, and in the summary: \(log)")
    }

    @Test(arguments: Backend.live)
    func afterTheCooldownOneJobGoesThroughAndASuccessClosesIt(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        Self.addFailingThenGood(plan, queue: "c", failing: 2, good: 3)
        let run = plan.jobctl(["run-once", "c", "--breaker", "2/1s", "-o", "json"] + WorkerCommandTests.handler)
        let counts = plan.counts("c")
        try plan.run(on: steps)
        #expect(run.status == 2, "two jobs failed: \(run)")
        let summary = try run.json()
        #expect(jsonEqual(summary["completed"], 3) && jsonEqual(summary["failed"], 2), "\(summary)")
        #expect(jsonEqual(summary["breakerOpened"], 1), "\(summary)")
        #expect(((summary["breakerOpenMs"] as? NSNumber)?.intValue ?? 0) >= 1000, "\(summary)")
        #expect(run.stderr.contains("circuit breaker open after 2 failures in a row"), "\(run.stderr)")
        #expect(run.stderr.contains("circuit breaker closed: the trial job succeeded"), "\(run.stderr)")
        #expect(counts.int("completed") == 3 && counts.int("failed") == 2 && counts.int("waiting") == 0, "\(counts)")
    }

    @Test func aBadBreakerIsAUsageError() throws {
        for bad in ["0", "x", "5/", "5/never"] {
            let result = try TestEnvironment.jobctl(["run-once", "q", "--noop", "--breaker", bad])
            #expect(result.status == 64 && result.stderr.contains("--breaker '\(bad)'"), "\(result)")
        }
    }
}
