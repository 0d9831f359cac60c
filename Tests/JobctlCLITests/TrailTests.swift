import Foundation
import TestSupport
import Testing

/// The operator trail on both backends with the real Python client: `--reason` and `--actor` reach each changed
/// job's own log (read by the client's getJobLogs) and one record of the command that `jobctl trail` lists, while a
/// Python Worker and QueueEvents listener (Redis) running meanwhile see nothing but BullMQ's events and the record.
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct TrailTests {
    typealias Object = [String: Any]
    static let line = "jobctl retry by alice@ops-1: provider outage over"

    static func records(_ run: CommandRun) throws -> [Object] { try run.json()["records"] as? [Object] ?? [] }

    @Test(arguments: Backend.live)
    func aRetryWithAReasonIsInEachJobsLogAndInTheTrail(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        let failed = plan.result(["op": "fail_jobs", "queue": "q", "count": 5, "name": "sync", "error": "503"])
        plan.step(["op": "worker_start", "queue": "q"])
        if backend == .redis { plan.step(["op": "listen_start", "queue": "q"]) }
        let dryRun = plan.jobctl(["retry", "q", "--dry-run", "--reason", "just looking"])
        let retried = plan.jobctl([
            "retry", "q", "--reason", "provider outage over", "--actor", "alice@ops-1", "--yes", "-o", "json",
        ])
        plan.step(["op": "wait_until", "queue": "q", "completed": 5, "timeout": 60])
        let worker = plan.result(["op": "worker_stop", "queue": "q"])
        let listened = backend == .redis ? plan.result(["op": "listen_stop", "queue": "q", "wait_for": "jobctl"]) : nil
        let trail = plan.jobctl(["trail", "q", "-o", "json"])
        let text = plan.jobctl(["trail"])
        try plan.run(on: steps)

        #expect(dryRun.status == 0 && retried.status == 0, "\(dryRun) \(retried)")
        let ids = failed.object["ids"] as? [String] ?? []
        #expect(ids.count == 5)
        let check = StepPlan()
        let logs = ids.map { check.result(["op": "job_logs", "queue": "q", "id": $0]) }
        try check.run(on: steps)
        for log in logs {
            #expect((log.object["logs"] as? [String] ?? []).contains(Self.line), "\(log)")
        }
        // The Python worker ran the retried jobs as any others.
        #expect(
            (worker.object["errors"] as? [Any] ?? []).isEmpty && (worker.object["completed"] as? [Any])?.count == 5,
            "\(worker)")
        if let listened {
            let events = listened.object["events"] as? [Object] ?? []
            #expect((listened.object["errors"] as? [Any] ?? []).isEmpty, "\(listened)")
            let names = Set(events.compactMap { $0["event"] as? String })
            let bullmq: Set = ["waiting", "active", "completed", "drained", "added", "failed", "jobctl"]
            #expect(names.isSubset(of: bullmq) && names.contains("jobctl"), "\(names)")
            let record = events.first { $0["event"] as? String == "jobctl" }?["args"] as? [Any]
            let fields = record?.first as? Object ?? [:]
            #expect(
                jsonEqual(fields["command"], "retry") && jsonEqual(fields["actor"], "alice@ops-1")
                    && jsonEqual(fields["changed"], "5"), "the listener sees the record as it is: \(fields)")
        }
        let records = try Self.records(trail)
        #expect(records.count == 1, "--dry-run records nothing: \(records)")
        let record = records.first ?? [:]
        #expect(
            jsonEqual(record["command"], "retry") && jsonEqual(record["actor"], "alice@ops-1")
                && jsonEqual(record["reason"], "provider outage over") && jsonEqual(record["matched"], 5)
                && jsonEqual(record["changed"], 5) && jsonEqual(record["skipped"], 0)
                && jsonEqual(record["interrupted"], false), "\(record)")
        #expect(jsonEqual((record["filters"] as? Object)?["state"], "failed"), "\(record)")
        #expect(text.stdout.contains("alice@ops-1") && text.stdout.contains("provider outage over"), "\(text)")
    }

    /// With a reason, a batch also writes each job's log line, so Redis takes fewer jobs a call: every job still
    /// moves once and gets its line, the last partial batch included.
    @Test(arguments: Backend.live)
    func aRetryWithAReasonOfManyJobsLogsEachOneOnce(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let total = 1_001
        let plan = StepPlan()
        plan.step(["op": "counts", "queue": "many"])  // creates the PostgreSQL schema the fill writes to
        plan.step(["op": "fill_failed", "queue": "many", "count": total])
        let retried = plan.jobctl([
            "retry", "many", "--reason", "provider outage over", "--actor", "alice@ops-1", "--yes", "-o", "json",
        ])
        let counts = plan.counts("many")
        let logs = ["1", "300", "301", "600", "1001"].map {
            plan.result(["op": "job_logs", "queue": "many", "id": $0])
        }
        try plan.run(on: steps)

        let summary = try retried.json()
        #expect(retried.status == 0 && jsonEqual(summary["changed"], total), "\(retried)")
        #expect(counts.int("waiting") == total && counts.int("failed") == 0, "\(counts)")
        for log in logs {
            #expect(log.object["logs"] as? [String] == [Self.line], "\(log)")
        }
    }

    @Test(arguments: Backend.live)
    func promoteAndTheDefaultActorLeaveTheirTrailToo(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        let added = plan.result(["op": "add", "queue": "d", "name": "later", "data": [:], "opts": ["delay": 3_600_000]])
        let promoted = plan.jobctl(["promote", "d", "--yes"], environment: ["JOBCTL_REASON": "ship it now"])
        let addedByJobctl = plan.jobctl(["add", "d", "extra", "--yes", "-o", "json", "--reason", "backfill"])
        let trail = plan.jobctl(["trail", "d", "-o", "json"])
        try plan.run(on: steps)
        #expect(promoted.status == 0, "\(promoted)")
        let id = try #require(added.string("id"))
        let check = StepPlan()
        let logs = check.result(["op": "job_logs", "queue": "d", "id": id])
        try check.run(on: steps)
        let lines = logs.object["logs"] as? [String] ?? []
        #expect(
            lines.count == 1 && lines[0].hasPrefix("jobctl promote by ") && lines[0].hasSuffix(": ship it now")
                && lines[0].contains("@"), "user@host by default: \(lines)")
        let newId = try #require((try addedByJobctl.json()["ids"] as? [String])?.first, "\(addedByJobctl)")
        let newLogs = StepPlan()
        let newLog = newLogs.result(["op": "job_logs", "queue": "d", "id": newId])
        try newLogs.run(on: steps)
        let newLines = newLog.object["logs"] as? [String] ?? []
        #expect(newLines.count == 1 && newLines[0].hasPrefix("jobctl add by ") && newLines[0].hasSuffix(": backfill"))
        let records = try Self.records(trail)
        #expect(records.count == 2, "\(records)")
        let newest = records.first ?? [:]
        #expect(jsonEqual(newest["command"], "add") && jsonEqual(newest["reason"], "backfill"), "\(newest)")
        let record = records.last ?? [:]
        #expect(jsonEqual(record["command"], "promote") && jsonEqual(record["reason"], "ship it now"), "\(record)")
    }

    @Test(arguments: Backend.live)
    func aRetryStoppedMidwayRecordsWhatItDid(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let total = 60_000
        let setup = StepPlan()
        setup.step(["op": "counts", "queue": "big"])
        setup.step(["op": "fill_failed", "queue": "big", "count": total])
        try setup.run(on: steps)

        let (run, sent) = try steps.jobctlInterruptedOnceWaiting(
            "big", ["retry", "big", "--yes", "-o", "json", "--reason", "half", "--actor", "bob"])
        try #require(sent, "the retry finished before it could be interrupted: \(run.stdout)")
        #expect(run.status == 130, "\(run.stderr)")
        let summary = try parseJSONObject(run.stdout)
        let changed = summary["changed"] as? Int ?? -1

        let check = StepPlan()
        let counts = check.counts("big")
        let trail = check.jobctl(["trail", "big", "-o", "json"])
        try check.run(on: steps)
        #expect(changed > 0 && changed < total, "\(summary)")
        #expect(counts.int("waiting") == changed && counts.int("failed") == total - changed, "\(counts)")
        let record = try Self.records(trail).first ?? [:]
        #expect(
            jsonEqual(record["changed"], changed) && jsonEqual(record["matched"], total)
                && jsonEqual(record["interrupted"], true) && jsonEqual(record["actor"], "bob"), "\(record)")
    }

    /// A job's `keepLogs` holds for jobctl's line as for the client's own: the oldest lines go.
    @Test(arguments: Backend.live)
    func theLineRespectsTheJobsKeepLogs(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        let added = plan.result([
            "op": "add", "queue": "k", "name": "later", "data": [:], "opts": ["delay": 3_600_000, "keepLogs": 2],
        ])
        try plan.run(on: steps)
        let id = try #require(added.string("id"))
        let check = StepPlan()
        check.step(["op": "add_log", "queue": "k", "id": id, "row": "first", "keepLogs": 2])
        check.step(["op": "add_log", "queue": "k", "id": id, "row": "second", "keepLogs": 2])
        let promoted = check.jobctl(["promote", "k", "--yes", "--actor", "carol", "--reason", "now"])
        let logs = check.result(["op": "job_logs", "queue": "k", "id": id])
        try check.run(on: steps)
        #expect(promoted.status == 0, "\(promoted)")
        #expect(jsonEqual(logs.object["logs"], ["second", "jobctl promote by carol: now"]), "\(logs)")
    }

    @Test func badReasonsAndActorsAreRefused() throws {
        let cases: [([String], String)] = [
            (["--reason", String(repeating: "x", count: 1001)], "--reason is longer than 1000 characters"),
            (["--reason", "two\nlines"], "--reason must be one line"),
            (["--actor", ""], "--actor must be a name"),
        ]
        for (arguments, words) in cases {
            let result = try TestEnvironment.jobctl(["retry", "q", "--yes"] + arguments)
            #expect(result.status == 64 && result.stderr.contains(words), "\(arguments): \(result)")
        }
    }
}
