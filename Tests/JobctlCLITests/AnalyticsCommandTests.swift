import Foundation
import TestSupport
import Testing

/// `stats` analytics, `status --check` and `-o prometheus` on both backends, over histories made by real Python
/// `bullmq` workers with known timings.
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct AnalyticsCommandTests {
    typealias Object = [String: Any]
    static func object(_ value: Any?) -> Object { value as? Object ?? [:] }
    static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }

    /// 24 jobs that each take 200 ms and 6 that fail at once, run by a Python worker at concurrency 4 that records
    /// metrics: processing p50 ≈ 200 ms, failure rate 6/30, 30 finished in the metrics' window.
    @Test(arguments: Backend.live)
    func figuresMatchAKnownHistory(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        var jobs: [[String: Any]] = (0..<24).map { _ in ["name": "resize", "data": ["sleep": 0.2]] }
        jobs += (0..<6).map {
            ["name": "mail", "data": ["fail": true, "error": "SMTP 550 mailbox \($0)99 unavailable"]]
        }
        let plan = StepPlan()
        plan.steps([
            ["op": "worker_start", "queue": "an", "fail": true, "concurrency": 4, "metrics": 60],
            ["op": "add_bulk", "queue": "an", "jobs": jobs],
            ["op": "wait_until", "queue": "an", "completed": 24, "failed": 6, "timeout": 30],
            ["op": "worker_stop", "queue": "an"],
        ])
        let run = plan.jobctl(["stats", "an", "--json"])
        let textRun = plan.jobctl(["stats", "an"])
        try plan.run(on: steps)
        #expect(run.status == 0, "\(run)")
        let stats = try run.json()
        let analytics = Self.object(stats["analytics"])
        #expect(analytics["throughputSource"] as? String == "metrics", "the worker records metrics: \(analytics)")
        let byMinute = (analytics["completedByMinute"] as? [Any] ?? []).compactMap(Self.number)
        let failedByMinute = (analytics["failedByMinute"] as? [Any] ?? []).compactMap(Self.number)
        #expect(byMinute.reduce(0, +) == 24 && failedByMinute.reduce(0, +) == 6, "\(analytics)")
        #expect(Self.number(analytics["failureRate"]) == 0.2)
        let processing = Self.object(analytics["processingTime"])
        let p50 = Self.number(processing["p50Ms"]) ?? 0
        #expect(processing["sampleSize"] as? Int == 30)
        // The 24 sleeping jobs are 80% of the sample: the median is one of them, 200 ms plus the worker's overhead.
        #expect(p50 >= 200 && p50 < 400, "\(processing)")
        #expect((Self.number(processing["maxMs"]) ?? 0) >= 200)
        // 30 jobs added at once to 4 slots of 200 ms: the last started about 7 × 200 ms after it was added.
        let waiting = Self.object(analytics["waitingTime"])
        #expect((Self.number(waiting["maxMs"]) ?? 0) >= 1000, "\(waiting)")
        let failures = analytics["topFailures"] as? [Any] ?? []
        #expect(failures.count == 1, "one fingerprint for the six: \(failures)")
        let top = Self.object(failures.first)
        #expect(
            top["name"] as? String == "mail" && top["reason"] as? String == "SMTP <n> mailbox <n> unavailable"
                && top["count"] as? Int == 6)
        let advice = (stats["advice"] as? [Any] ?? []).map { Self.object($0)["code"] as? String ?? "" }
        #expect(advice == ["failure_rate"], "\(stats["advice"] ?? "")")
        let text = textRun.stdout
        #expect(
            text.contains("(BullMQ metrics)") && text.contains("failure rate   20.0%")
                && text.contains("SMTP <n> mailbox <n> unavailable"), "\(text)")
    }

    @Test(arguments: Backend.live)
    func checkExitsTwoNamingEachRuleThatFails(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        plan.steps([
            ["op": "add_bulk", "queue": "ok", "jobs": [["name": "a"]]],
            ["op": "fail_jobs", "queue": "busy", "count": 2, "name": "b", "error": "boom"],
            ["op": "add_bulk", "queue": "busy", "jobs": (0..<5).map { _ in ["name": "b"] }],
            ["op": "pause", "queue": "busy"],
        ])
        let failing = plan.jobctl([
            "status", "ok", "busy", "--check", "backlog<3, paused=false, failed_rate<5%, oldest_wait<1h",
        ])
        let passing = plan.jobctl([
            "status", "ok", "--check", "backlog<3,paused=false,failed_rate<5%,oldest_wait<1h", "--json",
        ])
        let bad = plan.jobctl(["status", "ok", "--check", "backlog<3,speed>2"])
        try plan.run(on: steps)
        #expect(failing.status == 2, "\(failing)")
        let stderr = failing.stderr
        let busy = "busy"
        #expect(stderr.contains("check failed: \(busy): backlog<3 (found 5)"), "\(stderr)")
        #expect(stderr.contains("check failed: \(busy): paused=false (found true)"), "\(stderr)")
        #expect(stderr.contains("check failed: \(busy): failed_rate<5% (found 100.0%)"), "\(stderr)")
        #expect(!stderr.contains(": ok:"), "the healthy queue is not named: \(stderr)")
        #expect(failing.stdout.contains(busy), "the table is still shown")
        #expect(passing.status == 0 && passing.stderr.isEmpty, "\(passing)")
        #expect(bad.status == 64 && bad.stderr.contains("'speed' is not a metric"), "\(bad)")
    }

    /// `-o prometheus` read back by the reference parser (prometheus_client's), with a queue name that needs escaping
    /// (status) and with a failed job (stats).
    @Test(arguments: Backend.live)
    func prometheusOutputParsesWithTheReferenceParser(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let odd = "q \"quoted\" \\ back"
        let plan = StepPlan()
        plan.steps([
            ["op": "add_bulk", "queue": odd, "jobs": (0..<2).map { _ in ["name": "x"] }],
            ["op": "fail_jobs", "queue": "pm", "count": 1, "name": "x", "error": "boom"],
        ])
        let status = plan.jobctl(["status", "-o", "prometheus"])
        let stats = plan.jobctl(["stats", "pm", "-o", "prometheus"])
        let refused = plan.jobctl(["jobs", odd, "--state", "failed", "-o", "prometheus"])
        try plan.run(on: steps)
        let parser = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = []
            for family in text_string_to_metric_families(sys.stdin.read()):
                for sample in family.samples:
                    out.append([family.type, sample.name, sample.labels, sample.value])
            print(json.dumps(out))
            """
        var seen: [[String: Double]] = []
        for (run, queue) in [(status, odd), (stats, "pm")] {
            #expect(run.status == 0, "\(run)")
            let parsed = try runProcess(TestEnvironment.python, ["-c", parser], stdin: run.stdout)
            #expect(parsed.status == 0, "the parser accepts it: \(parsed.stderr)")
            let samples = (try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [[Any]]) ?? []
            var mine: [String: Double] = [:]
            for sample in samples where sample.count == 4 {
                #expect(sample[0] as? String == "gauge")
                let labels = sample[2] as? [String: String] ?? [:]
                guard labels["queue"] == queue else { continue }
                let key =
                    ([sample[1] as? String ?? ""]
                    + labels.filter { $0.key != "queue" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
                    .joined(separator: ",")
                mine[key] = Self.number(sample[3])
            }
            seen.append(mine)
        }
        #expect(
            seen[0]["jobctl_queue_jobs,state=waiting"] == 2 && seen[0]["jobctl_queue_jobs,state=failed"] == 0,
            "\(seen[0])")
        #expect(seen[0]["jobctl_queue_paused"] == 0)
        #expect(seen[1]["jobctl_queue_jobs,state=failed"] == 1, "\(seen[1])")
        #expect(seen[1]["jobctl_queue_failure_ratio"] == 1, "\(seen[1])")
        #expect(seen[1]["jobctl_queue_processing_seconds,quantile=0.5"] != nil)
        #expect(
            refused.status == 64 && refused.stderr.contains("-o prometheus is for 'status' and 'stats'"), "\(refused)")
    }

    /// `tune` on a history made by a Python worker whose failures look like rate limiting: it recommends a global
    /// concurrency and rate limit; `--apply` asks first, then writes them where BullMQ reads them (the Python client
    /// reads them back on Redis; jobctl's stats, which read the meta rows BullMQ's functions use, on Postgres).
    @Test(arguments: Backend.live)
    func tuneRecommendsAndAppliesTheQueuesLimits(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        var jobs: [[String: Any]] = (0..<20).map { _ in ["name": "call", "data": ["sleep": 0.05]] }
        jobs += (0..<5).map { _ in ["name": "call", "data": ["fail": true, "error": "HTTP 429 Too Many Requests"]] }
        let plan = StepPlan()
        plan.steps([
            ["op": "worker_start", "queue": "tn", "fail": true, "concurrency": 4],
            ["op": "add_bulk", "queue": "tn", "jobs": jobs],
            ["op": "wait_until", "queue": "tn", "completed": 20, "failed": 5, "timeout": 30],
            ["op": "worker_stop", "queue": "tn"],
        ])
        let recommend = plan.jobctl(["tune", "tn", "--json"])
        let withoutYes = plan.jobctl(["tune", "tn", "--apply"])
        let dryRun = plan.jobctl(["tune", "tn", "--apply", "--dry-run"])
        let statsBefore = plan.jobctl(["stats", "tn", "--json"])
        let apply = plan.jobctl(["tune", "tn", "--apply", "--yes", "--cpu-bound", "--cores", "1"])
        let statsAfter = plan.jobctl(["stats", "tn", "--json"])
        let limits = backend == .redis ? plan.result(["op": "global_limits", "queue": "tn"]) : nil
        try plan.run(on: steps)
        let tune = try recommend.json()
        let recommendations = (tune["recommendations"] as? [Any] ?? []).map(Self.object)
        let settings = recommendations.compactMap { $0["setting"] as? String }
        #expect(
            settings.starts(with: [
                "concurrency", "lockDuration", "lockRenewTime", "stalledInterval", "maxStalledCount", "drainDelay",
                "limiter",
            ]), "\(settings)")
        let limiter = recommendations.first { $0["setting"] as? String == "limiter" } ?? [:]
        #expect(
            (limiter["reason"] as? String ?? "").hasPrefix("5 of 5 sampled failures look like rate limiting"),
            "\(limiter)")
        #expect(withoutYes.status == 64, "no --yes off a terminal: \(withoutYes)")
        #expect(dryRun.stderr.contains("would set global concurrency 1 and global rate limit"), "\(dryRun)")
        let before = try statsBefore.json()
        #expect(before["globalConcurrency"] is NSNull && before["rateLimit"] is NSNull, "nothing written before --yes")
        #expect(apply.status == 0, "\(apply)")
        let after = try statsAfter.json()
        #expect(Self.number(after["globalConcurrency"]) == 1, "\(after)")
        let rate = Self.object(after["rateLimit"])
        #expect((Self.number(rate["max"]) ?? 0) >= 1 && Self.number(rate["durationMs"]) == 60_000, "\(rate)")
        if let limits {
            #expect(
                limits.number("concurrency") == 1
                    && Self.object(limits["rateLimit"])["max"] as? Int == rate["max"] as? Int,
                "\(limits)")
        }
    }

    /// `stats -w` and `status --watch` (a bare flag: every 2 s) print a new screen with the change of each count.
    @Test(arguments: Backend.live)
    func watchRefreshesWithTheChangeOfEachCount(_ backend: Backend) async throws {
        let steps = try BullMQSteps(on: backend)
        _ = try steps.run([["op": "add_bulk", "queue": "w", "jobs": [["name": "a"]]]])
        let environment = TestEnvironment.jobctlEnvironment(steps.jobctlEnvironment)
        let stats = try BackgroundProcess(
            TestEnvironment.jobctlBinary, ["stats", "w", "-w", "0.3"], environment: environment)
        let status = try BackgroundProcess(
            TestEnvironment.jobctlBinary, ["status", "w", "--watch"], environment: environment)
        // Both show the one job before the three more are added; then each shows the change (a loaded machine may
        // take seconds for either, so the test waits for what it expects rather than a fixed time).
        func changed(_ text: String) -> Bool { text.contains(" 4 (+3)") }
        _ = try await stats.wait(seconds: 20) { $0.contains("queue    w") }
        _ = try await status.wait(seconds: 20) { $0.contains("QUEUE") }
        _ = try steps.run([["op": "add_bulk", "queue": "w", "jobs": [["name": "b"], ["name": "c"], ["name": "d"]]]])
        _ = try await stats.wait(seconds: 20) { changed($0) && $0.components(separatedBy: "queue    w").count - 1 >= 5 }
        _ = try await status.wait(seconds: 20, until: changed)
        let statsText = stats.interruptAndCollect()
        let statusText = status.interruptAndCollect()
        #expect(
            statsText.components(separatedBy: "queue    w").count - 1 >= 5,
            "a screen every 0.3 s: \(statsText.prefix(3000))")
        let lines = statsText.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("waiting ") && $0.hasSuffix(" 1") }, "\(statsText.prefix(6000))")
        #expect(lines.contains { $0.hasPrefix("waiting ") && $0.hasSuffix(" 4 (+3)") }, "\(statsText.prefix(6000))")
        #expect(statusText.components(separatedBy: "QUEUE").count - 1 >= 2, "\(statusText)")
        #expect(statusText.contains("4 (+3)"), "\(statusText)")
    }
}
