import Foundation
import TestSupport
import Testing

/// Failed jobs whose reason or stack trace is megabytes long (a handler that put a whole response body in its
/// error): every command that reads them does work bounded by what it shows.
///
/// Each command gets a deadline that the old quadratic fingerprinting (minutes for 5 MB) could not meet; the time
/// itself is measured by `scripts/bench-huge-text.sh`, not asserted here.
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct HugeTextTests {
    typealias Object = [String: Any]

    /// Job 1 fails with a 5 MB reason, job 2 with a 50 MB one, job 3 with a 5 MB stack trace.
    static func hugeFailures(on backend: Backend, queue: String) -> [[String: Any]] {
        let reason = "boom 42 at 10.0.0.1 "  // 20 bytes
        let frame = "at handler (worker.js:17)\\n"  // 27 bytes in JSON
        switch backend {
        case .redis:
            let key = "{prefix}:\(queue):"
            return [
                [
                    "op": "raw",
                    "redis": [
                        ["HSET", key + "1", "failedReason", ["repeat": reason, "times": 250_000]],
                        ["HSET", key + "2", "failedReason", ["repeat": reason, "times": 2_500_000]],
                        [
                            "HSET", key + "3", "stacktrace",
                            ["repeat": frame, "times": 190_000, "before": "[\"", "after": "\"]"],
                        ],
                    ],
                ]
            ]
        case .postgres:
            let job = "{schema}.job"
            return [
                [
                    "op": "raw",
                    "sql": [
                        "UPDATE \(job) SET failed_reason = repeat('\(reason)', 250000) WHERE queue = '\(queue)' AND id "
                            + "= '1'",
                        "UPDATE \(job) SET failed_reason = repeat('\(reason)', 2500000) WHERE queue = '\(queue)' AND "
                            + "id = '2'",
                        "UPDATE \(job) SET stacktrace = jsonb_build_array(repeat(E'at handler (worker.js:17)\\n', "
                            + "190000)) "
                            + "WHERE queue = '\(queue)' AND id = '3'",
                    ],
                ]
            ]
        }
    }

    @Test(arguments: Backend.live)
    func everyCommandReadsHugeReasonsAndStacksInBoundedWork(_ backend: Backend) throws {
        let queue = "huge"
        let steps = try BullMQSteps(on: backend)
        let commands: [[String]] = [
            ["stats", queue],
            ["stats", queue, "--json"],
            ["status", queue, "--check", "failed_rate<50%"],
            ["retry", queue, "--failed", "--dry-run"],
            ["tune", queue],
            ["jobs", queue, "--state", "failed"],
            ["show", queue, "3"],
        ]
        var plan: [[String: Any]] = [["op": "fail_jobs", "queue": queue, "count": 3, "name": "fetch", "error": "boom"]]
        plan += Self.hugeFailures(on: backend, queue: queue)
        plan += commands.map { ["op": "jobctl", "args": $0, "timeout": 60] }
        let results = try steps.run(plan)
        let runs = results.suffix(commands.count).map { $0 as? Object ?? [:] }
        func output(_ index: Int) -> (status: Int, stdout: String, stderr: String) {
            (
                runs[index]["status"] as? Int ?? -1, runs[index]["stdout"] as? String ?? "",
                runs[index]["stderr"] as? String ?? ""
            )
        }
        let fingerprint = "boom <n> at <n>.<n>.<n>.<n> boom <n>"

        let stats = output(0)
        #expect(stats.status == 0 && stats.stdout.contains(fingerprint), "\(stats.stderr.prefix(500))")
        let json = try parseJSONObject(output(1).stdout)
        let analytics = json["analytics"] as? Object ?? [:]
        let top = (analytics["topFailures"] as? [Object] ?? []).compactMap { $0["reason"] as? String }
        #expect(top.contains { $0.hasPrefix(fingerprint) && $0.count == 120 }, "\(top)")
        let check = output(2)
        #expect(
            check.status == 2 && check.stderr.contains("failed_rate<50% (found 100.0%)"), "\(check.stderr.prefix(500))")
        let dryRun = output(3)
        #expect(dryRun.status == 0 && dryRun.stdout.contains(fingerprint), "\(dryRun.stdout.prefix(500))")
        #expect(output(4).status == 0, "\(output(4).stderr.prefix(500))")
        let jobs = output(5)
        #expect(jobs.status == 0 && jobs.stdout.contains("boom 42 at 10.0.0.1"), "\(jobs.stderr.prefix(500))")
        #expect(
            jobs.stdout.utf8.count < 100_000, "the table shows a cut of each reason: \(jobs.stdout.utf8.count) bytes")
        let show = output(6)
        #expect(show.status == 0 && show.stdout.contains("at handler (worker.js:17)"), "\(show.stderr.prefix(500))")
    }
}
