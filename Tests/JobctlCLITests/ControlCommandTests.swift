import Foundation
import TestSupport
import Testing

/// The control commands against the real Python `bullmq` on both backends: jobctl changes queues, the client's
/// own workers and readers check the result (and the other way round).
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct ControlCommandTests {
    typealias Object = [String: Any]

    static func object(_ value: Any?) -> Object { value as? Object ?? [:] }
    static func ids(_ value: Any?) -> Set<String> { Set((value as? [Any] ?? []).compactMap { $0 as? String }) }
    static func count(_ counts: Any?, _ state: String) -> Int { (object(counts)[state] as? NSNumber)?.intValue ?? -1 }

    // MARK: retry

    @Test(arguments: Backend.live)
    func failedJobsRetriedByJobctlAreCompletedByABullMQWorker(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        let failed = plan.result([
            "op": "fail_jobs", "queue": "mail", "count": 6, "name": "send", "error": "connect ECONNREFUSED 10.1.2.3:25",
        ])
        let run = plan.jobctl(["retry", "mail", "--failed", "--yes", "--json"])
        let retried = plan.counts("mail")
        plan.step(["op": "worker_start", "queue": "mail", "fail": false])
        let seen = plan.result(["op": "wait_until", "queue": "mail", "completed": 6, "timeout": 20])
        plan.step(["op": "worker_stop", "queue": "mail"])
        let end = plan.counts("mail")
        try plan.run(on: steps)
        #expect(run.status == 0, "\(run)")
        let summary = try run.json()
        #expect(summary["matched"] as? Int == 6 && summary["changed"] as? Int == 6 && summary["skipped"] as? Int == 0)
        #expect(retried.int("waiting") == 6 && retried.int("failed") == 0)
        #expect(Self.ids(seen["completed"]) == Self.ids(failed["ids"]))
        #expect(end.int("completed") == 6 && end.int("failed") == 0 && end.int("waiting") == 0)
    }

    @Test(arguments: Backend.live)
    func retryFiltersChooseExactlyTheIntendedJobs(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        // Two groups of failures a little apart in time, with different names and errors, and completed jobs.
        let setup = StepPlan()
        let resizeJobs = setup.result([
            "op": "fail_jobs", "queue": "q", "count": 3, "name": "resize", "error": "timeout after 3000 ms",
        ])
        // The two groups must be apart in time (the --since/--before filters tell them apart by it).
        setup.step(["op": "sleep", "seconds": 1.2])
        let emailJobs = setup.result([
            "op": "fail_jobs", "queue": "q", "count": 2, "name": "email",
            "error": "SMTP 550 mailbox 8f3a9c2e1d unavailable",
        ])
        let reportJob = setup.result(["op": "add", "queue": "q", "name": "report", "data": ["n": 1], "opts": [:]])
        setup.steps([
            ["op": "worker_start", "queue": "q", "fail": false],
            ["op": "wait_until", "queue": "q", "completed": 1, "timeout": 20],
            ["op": "worker_stop", "queue": "q"],
        ])
        try setup.run(on: steps)
        let resize = Self.ids(resizeJobs["ids"])
        let email = Self.ids(emailJobs["ids"])
        let report = Self.ids([reportJob["id"] as Any])
        let firstEmail = StepPlan()
        let emailJob = firstEmail.job("q", id: email.sorted().first ?? "")
        try firstEmail.run(on: steps)
        let first = try #require(emailJob.number("finishedOn"))
        // Between the groups: a second before the second group finished.
        let between = String(Int64(first) - 600)

        func chosen(_ filters: [String]) throws -> (matched: Int, ids: Set<String>, byError: [String: Any]) {
            let result = try steps.jobctl(["retry", "q", "--dry-run", "--json"] + filters)
            #expect(result.status == 0, "\(filters): \(result.stderr)")
            let report = try parseJSONObject(result.stdout)
            return (report["matched"] as? Int ?? -1, Self.ids(report["sampleIds"]), Self.object(report["byError"]))
        }
        #expect(try chosen([]).matched == 5)
        #expect(try chosen(["--name", "email"]).ids == email)
        #expect(try chosen(["--error-match", "^timeout"]).ids == resize)
        #expect(try chosen(["--error-match", "mailbox [0-9a-f]+ unavailable"]).ids == email)
        #expect(try chosen(["--since", between]).ids == email)
        #expect(try chosen(["--before", between]).ids == resize)
        #expect(try chosen(["--since", "1h", "--name", "resize"]).ids == resize)
        #expect(try chosen(["--limit", "2"]).ids == email, "the most recently failed first")
        #expect(try chosen(["--state", "completed"]).ids == report)
        let errors = try chosen([]).byError
        #expect(
            errors["timeout after <n> ms"] as? Int == 3 && errors["SMTP <n> mailbox <id> unavailable"] as? Int == 2,
            "\(errors)")

        // Job ids: exactly those move, and a job in another state is reported, not moved.
        let picked = Array(resize.sorted().prefix(2))
        let run = try steps.jobctl(["retry", "q", "--yes"] + picked + [report.first!])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stdout.contains("retried 2 of 2") && run.stdout.contains("not failed (it is completed)"),
            "\(run.stdout)")
        let reads = StepPlan()
        let jobs = (resize.sorted() + email.sorted()).map { reads.job("q", id: $0) }
        // Completed jobs, retried, run again.
        let again = reads.jobctl(["retry", "q", "--state", "completed", "--yes"])
        let counts = reads.counts("q")
        try reads.run(on: steps)
        #expect(Set(jobs.filter { $0.state == "waiting" }.compactMap { $0.string("id") }) == Set(picked))
        #expect(again.status == 0)
        #expect(counts.int("completed") == 0 && counts.int("waiting") == 3)
    }

    /// Retrying a whole state (or a range of finish times) lets the server pick the jobs, newest first, batch after
    /// batch: the window, the limit and a job left in place (Redis: a key that is not a hash) all hold.
    @Test(arguments: Backend.live)
    func aRetryTheServerPicksTakesExactlyItsWindow(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let setup = StepPlan()
        let older = setup.result(["op": "fail_jobs", "queue": "w", "count": 3, "name": "resize", "error": "timeout"])
        // The two groups must be apart in time (--since tells them apart by it).
        setup.step(["op": "sleep", "seconds": 1.2])
        let newer = setup.result(["op": "fail_jobs", "queue": "w", "count": 2, "name": "email", "error": "SMTP 550"])
        try setup.run(on: steps)
        let reads = StepPlan()
        let newest = reads.job("w", id: Self.ids(newer["ids"]).sorted().first ?? "")
        try reads.run(on: steps)
        let between = String(Int64(try #require(newest.number("finishedOn"))) - 600)

        let plan = StepPlan()
        let sinceRun = plan.jobctl(["retry", "w", "--since", between, "--yes", "--json"])
        let afterSince = plan.counts("w")
        if backend == .redis {
            // The newest "failed job" is a key of another type: every batch meets it first and skips past it.
            plan.step([
                "op": "raw",
                "redis": [["SET", "{prefix}:w:junk", "x"], ["ZADD", "{prefix}:w:failed", "99999999999999", "junk"]],
            ])
        }
        let limitRun = plan.jobctl(["retry", "w", "--limit", "2", "--yes", "--json"])
        let restRun = plan.jobctl(["retry", "w", "--yes", "--json"])
        let end = plan.counts("w")
        let jobs = Self.ids(older["ids"]).union(Self.ids(newer["ids"])).sorted().map { plan.job("w", id: $0) }
        try plan.run(on: steps)

        let since = try sinceRun.json()
        #expect(since["matched"] as? Int == 2 && since["changed"] as? Int == 2, "\(since)")
        #expect(afterSince.int("waiting") == 2 && afterSince.int("failed") == 3)
        let limited = try limitRun.json()
        let rest = try restRun.json()
        if backend == .redis {
            #expect(limited["matched"] as? Int == 2 && limited["changed"] as? Int == 1, "\(limited)")
            #expect(rest["matched"] as? Int == 3 && rest["changed"] as? Int == 2 && rest["skipped"] as? Int == 1)
            let reasons = Self.object(rest["skippedReasons"])
            #expect(reasons.keys.contains { $0.contains("not a hash") }, "\(reasons)")
            #expect(end.int("failed") == 1)
        } else {
            #expect(limited["matched"] as? Int == 2 && limited["changed"] as? Int == 2, "\(limited)")
            #expect(rest["matched"] as? Int == 1 && rest["changed"] as? Int == 1, "\(rest)")
            #expect(end.int("failed") == 0)
        }
        #expect(end.int("waiting") == 5 && jobs.allSatisfy { $0.state == "waiting" })
    }

    /// PostgreSQL retries and promotes a batch in one statement: it must leave what the schema's per-job functions
    /// (reprocess_job, promote) leave when called for each job in the same order: rows (seq in the same order),
    /// events in the same order, and the event table trimmed by publish_event's rule.
    @Test(.enabled(if: Backend.postgres.isLive))
    func postgresBatchesLeaveWhatThePerJobFunctionsLeave() throws {
        let steps = try BullMQSteps(on: .postgres)
        try steps.last([["op": "counts", "queue": "fn"]])  // the client creates the schema
        let order = "ORDER BY finished_at_ms DESC, id"
        let delay =
            "UPDATE {schema}.job SET state = 'delayed', process_at_ms = 4102444800000 + id::bigint, delay_ms = 5000 "
            + "WHERE queue = 'QUEUE' AND id::bigint % 7 = 0"
        let plan = StepPlan()
        for queue in ["fn", "set", "trim"] { plan.step(["op": "fill_failed", "queue": queue, "count": 700]) }
        plan.step(["op": "fill_failed", "queue": "trim2", "count": 2500])
        for queue in ["cfn", "cset", "dfn", "dset"] { plan.step(["op": "fill_failed", "queue": queue, "count": 700]) }
        plan.step([
            "op": "raw",
            "sql": [
                // Two jobs waiting on a priority, delayed ones to promote, and a short event cap to trim.
                "UPDATE {schema}.job SET priority = 3 WHERE queue IN ('fn', 'set') AND id IN ('5', '6')",
                "UPDATE {schema}.job SET added_at_ms = 1700000000000 WHERE queue IN ('fn', 'set')",
                // A cap smaller than a batch (the per-job functions then), and one a batch fits in.
                "INSERT INTO {schema}.meta (queue, field, value) VALUES ('trim', 'opts.maxLenEvents', '100'), "
                    + "('trim2', 'opts.maxLenEvents', '1000')",
                "SELECT {schema}.reprocess_job('fn', id, 'failed', false, false, false) FROM "
                    + "(SELECT id FROM {schema}.job WHERE queue = 'fn' \(order)) o",
                delay.replacingOccurrences(of: "QUEUE", with: "fn"),
                "SELECT {schema}.promote('fn', id) FROM (SELECT id FROM {schema}.job WHERE queue = 'fn' "
                    + "AND state = 'delayed' ORDER BY process_at_ms, id) o",
            ],
        ])
        let retry = plan.jobctl(["retry", "set", "--yes", "--json"])
        plan.step(["op": "raw", "sql": [delay.replacingOccurrences(of: "QUEUE", with: "set")]])
        let promote = plan.jobctl(["promote", "set", "--yes", "--json"])
        let trimRetry = plan.jobctl(["retry", "trim", "--yes", "--json"])
        let trim2Retry = plan.jobctl(["retry", "trim2", "--yes", "--json"])
        plan.step([
            "op": "raw",
            "sql": ["SELECT {schema}.clean('cfn', 'failed', (extract(epoch FROM now()) * 1000)::bigint, 0)"],
        ])
        let clean = plan.jobctl(["clean", "cset", "--failed", "--older-than", "1s", "--yes", "--json"])
        plan.step([
            "op": "raw",
            "sql": [
                "UPDATE {schema}.job SET state = 'waiting', finished_at_ms = NULL, failed_reason = NULL "
                    + "WHERE queue IN ('dfn', 'dset')",
                "SELECT {schema}.clean('dfn', 'wait', (extract(epoch FROM now()) * 1000)::bigint, 0)",
            ],
        ])
        let drain = plan.jobctl(["drain", "dset", "--yes", "--json"])
        let drainedByFunction = plan.result(["op": "dump", "queue": "dfn"])
        let drainedBySet = plan.result(["op": "dump", "queue": "dset"])
        let cleanedByFunction = plan.result(["op": "dump", "queue": "cfn"])
        let cleanedBySet = plan.result(["op": "dump", "queue": "cset"])
        let byFunctions = plan.result(["op": "dump", "queue": "fn"])
        let bySet = plan.result(["op": "dump", "queue": "set"])
        let trimmed = [plan.result(["op": "dump", "queue": "trim"]), plan.result(["op": "dump", "queue": "trim2"])]
        try plan.run(on: steps)
        #expect(retry.status == 0 && promote.status == 0, "\(retry) \(promote)")
        #expect(trimRetry.status == 0 && trim2Retry.status == 0, "\(trimRetry) \(trim2Retry)")
        #expect(try promote.json()["changed"] as? Int == 100, "\(promote.stdout)")

        func rows(_ dump: StepResult, _ table: String) -> [Object] { (dump[table] as? [Any] ?? []).map(Self.object) }
        // Jobs: equal but for the queue and seq, whose order must be the same.
        func jobs(_ dump: StepResult) -> [String: Object] {
            let all = rows(dump, "job")
            let ranks = Dictionary(
                uniqueKeysWithValues: all.sorted { ($0["seq"] as? Int ?? 0) < ($1["seq"] as? Int ?? 0) }.enumerated()
                    .map { ($1["id"] as? String ?? "", $0) })
            return Dictionary(
                uniqueKeysWithValues: all.map { row in
                    var row = row
                    let id = row["id"] as? String ?? ""
                    row["queue"] = nil
                    row["seq"] = ranks[id]
                    return (id, row)
                })
        }
        let expected = jobs(byFunctions)
        let actual = jobs(bySet)
        #expect(expected.count == 700 && expected.keys == actual.keys)
        let differing = expected.keys.sorted().filter { !jsonEqual(expected[$0], actual[$0]) }
        let first = differing.first.map { "\(expected[$0] ?? [:]) vs \(actual[$0] ?? [:])" } ?? ""
        #expect(differing.isEmpty, "\(differing.count) rows differ, the first: \(first)")
        // Events: the same, in the same order (the trail's own record aside).
        func events(_ dump: StepResult) -> [String] {
            rows(dump, "event").filter { $0["event"] as? String != "jobctl" }.map { row in
                let data = (try? JSONSerialization.data(withJSONObject: row["data"] ?? [:], options: [.sortedKeys]))
                return "\(row["event"] ?? "") \(String(decoding: data ?? Data(), as: UTF8.self))"
            }
        }
        #expect(events(byFunctions).count == 800 && events(byFunctions) == events(bySet))
        // clean: every job gone, and one `cleaned` event with the count as text (its record aside).
        let cleaned = try clean.json()
        #expect(clean.status == 0 && cleaned["changed"] as? Int == 700, "\(clean)")
        let drained = try drain.json()
        #expect(drain.status == 0 && drained["changed"] as? Int == 700, "\(drain)")
        for dump in [cleanedByFunction, cleanedBySet, drainedByFunction, drainedBySet] {
            #expect(rows(dump, "job").isEmpty && events(dump) == [#"cleaned {"count":"700"}"#], "\(events(dump))")
        }
        // Trimming: publish_event deletes, on each event id that is a multiple of 256, the queue's events up to
        // that id less the cap; a batch does the same for its own ids at once.
        for (dump, cap) in zip(trimmed, [100, 1000]) {
            let ids = rows(dump, "event").compactMap { $0["id"] as? Int }
            let newest = try #require(ids.max())
            let lastMultiple = newest / 256 * 256
            #expect(
                ids.min() == lastMultiple - cap + 1 && ids.count == newest - (lastMultiple - cap),
                "cap \(cap): \(ids.count) events from \(ids.min() ?? 0) to \(newest)")
        }
    }

    // MARK: pause, resume

    @Test(arguments: Backend.live)
    func pausedQueuesGiveARunningBullMQWorkerNothingUntilResumed(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        plan.steps([
            ["op": "add", "queue": "p", "name": "warm-up", "data": [:], "opts": [:]],
            ["op": "worker_start", "queue": "p", "fail": false],
            ["op": "wait_until", "queue": "p", "completed": 1, "timeout": 20],
        ])
        let pause = plan.jobctl(["pause", "p", "--yes"])
        let paused = plan.result(["op": "is_paused", "queue": "p"])
        plan.steps([
            ["op": "add", "queue": "p", "name": "a", "data": [:], "opts": [:]],
            ["op": "add", "queue": "p", "name": "b", "data": [:], "opts": ["priority": 2]],
            ["op": "add", "queue": "p", "name": "c", "data": [:], "opts": [:]],
            // What is checked is that nothing happens: there is no condition to wait for, only time.
            ["op": "sleep", "seconds": 2.5],
        ])
        let seenWhilePaused = plan.result(["op": "seen", "queue": "p"])
        let resume = plan.jobctl(["resume", "p", "--yes"])
        let resumed = plan.result(["op": "is_paused", "queue": "p"])
        let done = plan.result(["op": "wait_until", "queue": "p", "completed": 4, "timeout": 10])
        plan.step(["op": "worker_stop", "queue": "p"])
        try plan.run(on: steps)
        #expect(pause.status == 0, "\(pause)")
        #expect(paused["paused"] as? Bool == true)
        #expect(
            Self.ids(seenWhilePaused["completed"]).count == 1,
            "the worker took a job from a paused queue: \(seenWhilePaused)")
        #expect(resume.status == 0)
        #expect(resumed["paused"] as? Bool == false)
        #expect(done["timed_out"] as? Bool == false && Self.ids(done["completed"]).count == 4, "\(done)")
    }

    // MARK: drain, clean

    @Test(arguments: Backend.live)
    func drainDeletesWaitingJobsAndLeavesActiveFailedAndCompletedAlone(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        plan.steps([
            ["op": "fail_jobs", "queue": "d", "count": 2, "name": "broken", "error": "boom"],
            ["op": "add", "queue": "d", "name": "done", "data": [:], "opts": [:]],
            ["op": "worker_start", "queue": "d", "fail": false, "concurrency": 2],
            ["op": "wait_until", "queue": "d", "completed": 1, "timeout": 20],
            // Two slow jobs keep both worker slots busy, so everything added after them stays waiting.
            ["op": "add", "queue": "d", "name": "slow", "data": ["sleep": 4], "opts": [:]],
            ["op": "add", "queue": "d", "name": "slow", "data": ["sleep": 4], "opts": [:]],
            ["op": "wait_counts", "queue": "d", "state": "active", "count": 2, "timeout": 20],
            ["op": "add_bulk", "queue": "d", "jobs": (0..<5).map { ["name": "w", "data": ["i": $0], "opts": [:]] }],
            ["op": "add", "queue": "d", "name": "p", "data": [:], "opts": ["priority": 5]],
            ["op": "add", "queue": "d", "name": "later", "data": [:], "opts": ["delay": 600_000]],
        ])
        let before = plan.counts("d")
        let drain = plan.jobctl(["drain", "d", "--yes", "--json"])
        let after = plan.counts("d")
        _ = plan.jobctl(["purge", "d", "--delayed", "--yes"])
        let purged = plan.counts("d")
        let stopped = plan.result(["op": "worker_stop", "queue": "d"])
        try plan.run(on: steps)
        #expect(before.int("active") == 2 && before.int("waiting") == 5 && before.int("prioritized") == 1)
        #expect(try drain.json()["changed"] as? Int == 6, "\(drain)")
        #expect(after.int("waiting") == 0 && after.int("prioritized") == 0 && after.int("delayed") == 1)
        #expect(after.int("active") == 2 && after.int("failed") == 2 && after.int("completed") == 1)
        #expect(purged.int("delayed") == 0 && purged.int("active") == 2)
        // The slow jobs finish normally after the drain.
        #expect(Self.ids(stopped["completed"]).count == 3)
    }

    @Test(arguments: Backend.live)
    func cleanDeletesOnlyJobsFinishedLongerAgoThanTheAge(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        plan.steps([
            ["op": "fail_jobs", "queue": "c", "count": 2, "name": "bad", "error": "boom"],
            ["op": "add_bulk", "queue": "c", "jobs": (0..<4).map { ["name": "old", "data": ["i": $0], "opts": [:]] }],
            ["op": "worker_start", "queue": "c", "fail": false],
            ["op": "wait_until", "queue": "c", "completed": 4, "timeout": 20],
            // The age the command is given must pass: time itself is the condition here.
            ["op": "sleep", "seconds": 2.2],
        ])
        let new = plan.result(["op": "add", "queue": "c", "name": "new", "data": [:], "opts": [:]])
        plan.steps([
            ["op": "wait_until", "queue": "c", "completed": 5, "timeout": 20],
            ["op": "worker_stop", "queue": "c"],
        ])
        let first = plan.jobctl(["clean", "c", "--completed", "--older-than", "2s", "--limit", "3", "--yes", "--json"])
        let afterFirst = plan.counts("c")
        let second = plan.jobctl(["clean", "c", "--completed", "--failed", "--older-than", "2s", "--yes"])
        let afterSecond = plan.counts("c")
        try plan.run(on: steps)
        #expect(try first.json()["changed"] as? Int == 3, "\(first)")
        #expect(afterFirst.int("completed") == 2 && afterFirst.int("failed") == 2)
        #expect(second.status == 0)
        #expect(afterSecond.int("completed") == 1 && afterSecond.int("failed") == 0, "the new job stays")
        let kept = StepPlan()
        let job = kept.job("c", id: new.string("id") ?? "")
        try kept.run(on: steps)
        #expect(job.string("name") == "new")
    }

    // MARK: promote, remove

    @Test(arguments: Backend.live)
    func promotedJobsRunNowWithTheirPriority(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let setup = StepPlan()
        let plainJob = setup.result([
            "op": "add", "queue": "pr", "name": "plain", "data": [:], "opts": ["delay": 600_000],
        ])
        let urgentJob = setup.result([
            "op": "add", "queue": "pr", "name": "urgent", "data": [:], "opts": ["delay": 600_000, "priority": 1],
        ])
        setup.step(["op": "add", "queue": "pr", "name": "stays", "data": [:], "opts": ["delay": 600_000]])
        try setup.run(on: steps)
        let plain = plainJob.string("id") ?? ""
        let urgent = urgentJob.string("id") ?? ""
        let plan = StepPlan()
        let promote = plan.jobctl(["promote", "pr", plain, urgent, "--yes"])
        let counts = plan.counts("pr")
        plan.step(["op": "worker_start", "queue": "pr", "fail": false])
        let seen = plan.result(["op": "wait_until", "queue": "pr", "completed": 2, "timeout": 20])
        plan.step(["op": "worker_stop", "queue": "pr"])
        let job = plan.job("pr", id: urgent)
        try plan.run(on: steps)
        #expect(promote.status == 0, "\(promote)")
        #expect(counts.int("waiting") == 1 && counts.int("prioritized") == 1 && counts.int("delayed") == 1)
        #expect(Self.ids(seen["completed"]) == [plain, urgent])
        #expect(job.int("priority") == 1)
    }

    @Test(arguments: Backend.live)
    func removeRefusesARunningJobUnlessForced(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        plan.steps([
            ["op": "add", "queue": "r", "name": "idle", "data": [:], "opts": ["delay": 600_000, "jobId": "idle-1"]],
            ["op": "worker_start", "queue": "r", "fail": false],
            ["op": "add", "queue": "r", "name": "busy", "data": ["sleep": 3], "opts": ["jobId": "busy-1"]],
            ["op": "wait_counts", "queue": "r", "state": "active", "count": 1, "timeout": 20],
        ])
        let refused = plan.jobctl(["remove", "r", "busy-1", "idle-1", "missing-1", "--yes"])
        let busy = plan.job("r", id: "busy-1")
        let forced = plan.jobctl(["remove", "r", "busy-1", "--force", "--yes"])
        let idleAfter = plan.job("r", id: "idle-1")
        let busyAfter = plan.job("r", id: "busy-1")
        let counts = plan.counts("r")
        plan.step(["op": "worker_stop", "queue": "r"])
        try plan.run(on: steps)
        #expect(refused.status == 1, "not every job was removed: \(refused)")
        #expect(
            refused.stdout.contains("removed 1 of 2") && refused.stdout.contains("locked by a worker")
                && refused.stdout.contains("not found"), "\(refused.stdout)")
        #expect(busy.state == "active")
        #expect(forced.status == 0, "\(forced)")
        #expect(!idleAfter.exists && !busyAfter.exists)
        #expect(counts.int("active") == 0 && counts.int("delayed") == 0)
    }

    // MARK: add

    /// What BullMQ stores for a job, without what differs between two adds (ids, times, sequence numbers).
    static func comparable(_ raw: Any?, backend: Backend) -> Object {
        var stored = object(raw)
        for volatile in ["timestamp", "id", "seq", "added_at_ms", "process_at_ms"] { stored[volatile] = nil }
        for jsonField in ["opts", "data"] {
            if let text = stored[jsonField] as? String,
                let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            {
                stored[jsonField] = parsed
            }
        }
        // A job added with an id of its own keeps it in opts: both adds use a different one.
        if var opts = stored["opts"] as? Object, opts["jobId"] != nil {
            opts["jobId"] = "(own id)"
            stored["opts"] = opts
        }
        return stored
    }

    @Test(arguments: Backend.live)
    func jobsAddedByJobctlAreStoredAsBullMQStoresThemAndRunByItsWorker(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let cases: [(opts: Object, flags: [String])] = [
            ([:], []),
            (["delay": 1500], ["--delay", "1500ms"]),
            (["priority": 3], ["--priority", "3"]),
            (
                ["attempts": 3, "backoff": ["type": "exponential", "delay": 1000]],
                ["--attempts", "3", "--backoff", "exponential:1s"]
            ),
            (["attempts": 2, "backoff": 500], ["--attempts", "2", "--backoff", "500"]),
            (["lifo": true], ["--lifo"]),
            (["jobId": "own-py"], ["--job-id", "own-cli"]),
        ]
        let data: Object = ["to": "ops@example.com", "n": [1, 2.5, "ü"], "nested": ["ok": true, "none": NSNull()]]
        let dataText = String(decoding: try JSONSerialization.data(withJSONObject: data), as: UTF8.self)
        let plan = StepPlan()
        let added = cases.enumerated().map { index, item in
            (
                python: plan.result([
                    "op": "add", "queue": "py\(index)", "name": "send", "data": data, "opts": item.opts,
                ]),
                jobctl: plan.jobctl(["add", "cli\(index)", "send", "--data", dataText, "--yes", "--json"] + item.flags)
            )
        }
        try plan.run(on: steps)
        let reads = StepPlan()
        var stored: [(python: StepResult, jobctl: StepResult)] = []
        for (index, pair) in added.enumerated() {
            #expect(pair.jobctl.status == 0, "\(pair.jobctl)")
            let cliId = (try pair.jobctl.json()["ids"] as? [String])?.first ?? ""
            stored.append(
                (
                    reads.result(["op": "raw_job", "queue": "py\(index)", "id": pair.python.string("id") ?? ""]),
                    reads.result(["op": "raw_job", "queue": "cli\(index)", "id": cliId])
                ))
        }
        try reads.run(on: steps)
        for index in cases.indices {
            var python = Self.comparable(stored[index].python.raw, backend: backend)
            var ours = Self.comparable(stored[index].jobctl.raw, backend: backend)
            python["queue"] = nil
            ours["queue"] = nil
            #expect(
                !python.isEmpty && jsonEqual(python, ours), "case \(cases[index].opts): python \(python) jobctl \(ours)"
            )
        }
        // A Python worker runs what jobctl added, with the same name, data and options.
        let work = StepPlan()
        let stops = cases.indices.map { index in
            work.steps([
                ["op": "worker_start", "queue": "cli\(index)", "fail": false],
                ["op": "wait_until", "queue": "cli\(index)", "completed": 1, "timeout": 20],
            ])
            return work.result(["op": "worker_stop", "queue": "cli\(index)"])
        }
        try work.run(on: steps)
        for index in cases.indices {
            let seen = (stops[index]["seen"] as? [Any])?.first.map(Self.object) ?? [:]
            #expect(seen["name"] as? String == "send" && jsonEqual(seen["data"], data), "case \(index): \(seen)")
            let opts = Self.object(seen["opts"])
            for (key, value) in cases[index].opts where key != "jobId" && key != "backoff" {
                #expect(jsonEqual(opts[key], value), "case \(index) option \(key): \(opts)")
            }
        }
    }

    @Test(arguments: Backend.live)
    func bulkAddFromJSONLinesChecksEveryLineFirst(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        try steps.last([["op": "counts", "queue": "bulk"]])  // the client creates the PostgreSQL schema
        let good = (0..<2500).map { #"{"name":"n\#($0 % 3)","data":{"i":\#($0)},"opts":{"priority":\#($0 % 2)}}"# }
        let added = try steps.jobctl(
            ["add", "bulk", "--from", "-", "--yes", "--json"], stdin: good.joined(separator: "\n") + "\n")
        #expect(added.status == 0, "\(added.stderr)")
        let summary = try parseJSONObject(added.stdout)
        #expect(summary["changed"] as? Int == 2500 && (summary["ids"] as? [String])?.count == 2500)
        let counts = try steps.last([["op": "counts", "queue": "bulk"]])
        #expect(Self.count(counts, "waiting") == 1250 && Self.count(counts, "prioritized") == 1250)

        // Custom ids already taken, or repeated within the file, add nothing and are said; any JSON is data.
        let odd = [
            #"{"name":"s","data":"plain text","opts":{"jobId":"own-1"}}"#,
            #"{"name":"s","data":[1,"two",null],"opts":{"jobId":"own-1"}}"#,
            #"{"name":"s","data":null,"opts":{"jobId":"own-2"}}"#,
            #"{"name":"s","data":7,"opts":{}}"#,
        ]
        let first = try steps.jobctl(
            ["add", "odd", "--from", "-", "--yes", "--json"], stdin: odd.joined(separator: "\n"))
        let again = try steps.jobctl(["add", "odd", "--from", "-", "--yes", "--json"], stdin: odd[2])
        #expect(first.status == 0 && again.status == 0, "\(first.stderr) \(again.stderr)")
        let firstSummary = try parseJSONObject(first.stdout)
        let againSummary = try parseJSONObject(again.stdout)
        #expect(firstSummary["changed"] as? Int == 3 && firstSummary["skipped"] as? Int == 1, "\(firstSummary)")
        #expect(againSummary["changed"] as? Int == 0 && againSummary["skipped"] as? Int == 1, "\(againSummary)")
        let oddIds = (firstSummary["ids"] as? [String]) ?? []
        let reads = StepPlan()
        let stored = oddIds.map { reads.job("odd", id: $0) }
        try reads.run(on: steps)
        #expect(oddIds.prefix(2) == ["own-1", "own-2"] && stored.count == 3, "\(oddIds)")
        if stored.count == 3 {
            #expect(jsonEqual(stored[0]["data"], "plain text") && jsonEqual(stored[2]["data"], 7), "\(stored)")
        }

        let bad = [good[0], #"{"name":"x","opts":{"removeOnComplete":true}}"#, good[1]].joined(separator: "\n")
        let refused = try steps.jobctl(["add", "bulk2", "--from", "-", "--yes"], stdin: bad)
        #expect(
            refused.status == 64 && refused.stderr.contains("stdin line 2")
                && refused.stderr.contains("removeOnComplete"), "\(refused.stderr)")
        let garbage = try steps.jobctl(["add", "bulk2", "--from", "-", "--yes"], stdin: "{\"name\":\"a\"}\nnot json\n")
        #expect(garbage.status == 64 && garbage.stderr.contains("line 2"), "\(garbage.stderr)")
        let nothing = try steps.last([["op": "counts", "queue": "bulk2"]])
        #expect(Self.count(nothing, "waiting") == 0, "a bad line adds nothing")
    }

    // MARK: what every change shares

    @Test(arguments: Backend.live)
    func dryRunChangesNothingAndNoTerminalNeedsYes(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let setup = StepPlan()
        let failedJobs = setup.result(["op": "fail_jobs", "queue": "dr", "count": 3, "name": "x", "error": "boom 42"])
        setup.steps([
            ["op": "add", "queue": "dr", "name": "w", "data": [:], "opts": [:]],
            ["op": "add", "queue": "dr", "name": "later", "data": [:], "opts": ["delay": 600_000]],
        ])
        let before = setup.result(["op": "dump", "queue": "dr"])
        try setup.run(on: steps)
        let failedId = Self.ids(failedJobs["ids"]).sorted().first ?? ""
        let commands: [[String]] = [
            ["retry", "dr"], ["retry", "dr", failedId], ["drain", "dr", "--delayed"],
            ["clean", "dr", "--failed", "--older-than", "0s"],
            ["promote", "dr"], ["pause", "dr"], ["resume", "dr"], ["remove", "dr", failedId],
            ["add", "dr", "new", "--data", "{}"],
        ]
        let plan = StepPlan()
        let runs = commands.map { command in
            (
                command: command, text: plan.jobctl(command + ["--dry-run"]),
                json: plan.jobctl(command + ["--dry-run", "--json"]), refused: plan.jobctl(command)
            )
        }
        let after = plan.result(["op": "dump", "queue": "dr"])
        try plan.run(on: steps)
        for (command, text, json, refused) in runs {
            #expect(text.status == 0 && text.stdout.contains("nothing changed"), "\(command): \(text)")
            let report = try json.json()
            #expect(report["dryRun"] as? Bool == true && (report["matched"] as? Int ?? 0) >= 1, "\(command): \(json)")
            #expect(refused.status == 64, "\(command): \(refused)")
            #expect(refused.stderr.contains("--yes"), "\(command): \(refused)")
        }
        #expect(jsonEqual(before.raw, after.raw), "a dry run or an unconfirmed command changed the store")
    }

    @Test(arguments: Backend.live)
    func onATerminalItAsksWhichQueueAndForAYes(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        _ = try steps.run([
            ["op": "fail_jobs", "queue": "t1", "count": 2, "name": "x", "error": "boom"],
            ["op": "fail_jobs", "queue": "t2", "count": 1, "name": "y", "error": "bang"],
        ])
        let declined = try steps.jobctlOnTerminal(["retry", "t1"], answers: [("[y/N]", "n")])
        #expect(
            declined.status == 1 && declined.screen.contains("Retry 2 failed jobs in queue 't1'? [y/N]"),
            "\(declined.screen)")
        #expect(declined.screen.contains("nothing changed"))
        let chosen = try steps.jobctlOnTerminal(["retry"], answers: [("number:", "2"), ("[y/N]", "y")])
        #expect(chosen.status == 0, "\(chosen.screen)")
        #expect(
            chosen.screen.contains("1) t1 (2 failed)") && chosen.screen.contains("2) t2 (1 failed)"), "\(chosen.screen)"
        )
        #expect(chosen.screen.contains("retried 1 of 1 matched job in queue 't2'"), "\(chosen.screen)")
        let all = try steps.jobctl(["retry", "--all-queues", "--yes"])
        #expect(all.status == 0 && all.stdout.contains("retried 2 of 2"), "\(all.stdout) \(all.stderr)")
        let plan = StepPlan()
        let (t1, t2) = (plan.counts("t1"), plan.counts("t2"))
        try plan.run(on: steps)
        #expect(t1.int("failed") == 0 && t1.int("waiting") == 2)
        #expect(t2.int("failed") == 0 && t2.int("waiting") == 1)
    }

    @Test(.enabled(if: TestEnvironment.runsLiveRedisTests)) func redisKeysBullMQDidNotWriteAreSkippedAndLeftAlone()
        throws
    {
        let steps = try BullMQSteps(on: .redis)
        _ = try steps.run([["op": "fail_jobs", "queue": "bad", "count": 2, "name": "x", "error": "boom"]])
        let base = "\(steps.namespace):bad:"
        let now = String(Int64(Date().timeIntervalSince1970 * 1000))
        try redisRaw([
            ["SET", base + "999", "not a job"], ["ZADD", base + "failed", now, "999"],
            [
                "HSET", base + "998", "name", "x", "data", "{}", "opts", "{not json", "timestamp", now, "finishedOn",
                now, "failedReason", "boom",
            ],
            ["ZADD", base + "failed", now, "998"],
        ])
        let retried = try steps.jobctl(["retry", "bad", "--yes", "--json"])
        #expect(retried.status == 0, "\(retried.stderr)")
        let summary = try parseJSONObject(retried.stdout)
        #expect(summary["changed"] as? Int == 3 && summary["skipped"] as? Int == 1, "\(summary)")
        #expect((summary["skippedReasons"] as? [String: Any])?.keys.first?.contains("not a hash") == true, "\(summary)")
        try redisRaw([["SET", base + "997", "also not a job"], ["LPUSH", base + "wait", "997"]])
        let drained = try steps.jobctl(["drain", "bad", "--yes"])
        #expect(drained.status == 0 && drained.stdout.contains("deleted 4 of 4"), "\(drained.stdout) \(drained.stderr)")
        let plan = StepPlan()
        let counts = plan.counts("bad")
        let stored = plan.result(["op": "dump", "queue": "bad"])
        try plan.run(on: steps)
        #expect(counts.int("waiting") == 0 && counts.int("failed") == 1)
        let dump = stored.object
        #expect(Self.object(dump[base + "999"])["type"] as? String == "string", "the stray key is left alone")
        #expect(dump[base + "997"] == nil && dump[base + "998"] == nil)
    }

    @Test(arguments: Backend.live)
    func badArgumentsAreUsageErrorsThatTouchNothing(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        try steps.last([["op": "add", "queue": "b", "name": "w", "data": [:], "opts": [:]]])
        let cases: [([String], String)] = [
            (["retry", "b", "--error-match", "(unclosed"], "--error-match"),
            (["retry", "b", "--state", "waiting"], "failed or completed"),
            (["retry", "b", "--since", "yesterday-ish"], "--since"),
            (["clean", "b", "--older-than", "1h"], "--completed, --failed"),
            (["clean", "b", "--completed", "--older-than", "soon"], "not a duration"),
            (["add", "b", "x", "--data", "{not json"], "--data is not JSON"),
            (["add", "b", "x", "--priority", "-1"], "priority"),
            (["add", "b", "x", "--job-id", "12"], "is a number"),
            (["add", "b", "x", "--backoff", "linear:5s"], "--backoff"),
            (["pause"], "--all"),
            (["retry", "--yes"], "name a queue, or pass --all-queues"),
            (["retry", "nosuchqueue", "--yes"], "not found"),
        ]
        for (arguments, message) in cases {
            let result = try steps.jobctl(arguments)
            #expect(
                result.status == (message == "not found" ? 1 : 64), "\(arguments): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let counts = try steps.last([["op": "counts", "queue": "b"]])
        #expect(Self.count(counts, "waiting") == 1)
    }
}

/// Ctrl-C in the middle of a long change, sent as a real SIGINT to the running binary.
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct InterruptionTests {
    @Test(arguments: Backend.live)
    func ctrlCStopsBetweenBatchesAndEveryJobIsWholeAndCounted(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let total = 30_000
        let jobs = (0..<total).map {
            ["name": "later", "data": ["i": $0], "opts": ["delay": 3_600_000]] as [String: Any]
        }
        try steps.last([["op": "add_bulk", "queue": "big", "jobs": jobs]])

        let (run, sent) = try steps.jobctlInterruptedOnceWaiting("big", ["promote", "big", "--yes", "--json"])
        let (stdout, stderr) = (run.stdout, run.stderr)
        try #require(sent, "the command finished before it could be interrupted: \(stdout)")
        #expect(run.status == 130, "\(stderr)")
        #expect(
            stderr.contains("interrupted: every job is in a consistent state")
                && stderr.contains("run the same command again"), "\(stderr)")
        let summary = try parseJSONObject(stdout)
        #expect(summary["interrupted"] as? Bool == true)
        let changed = summary["changed"] as? Int ?? -1
        #expect(changed > 0 && changed < total)
        // Every job is either promoted (and counted in the summary) or still delayed: none lost, none half-moved.
        let counts = try steps.last([["op": "counts", "queue": "big"]]) as? [String: Any] ?? [:]
        #expect(counts["waiting"] as? Int == changed, "\(counts)")
        #expect(counts["delayed"] as? Int == total - changed, "\(counts)")
    }
}
