import Foundation
import TestSupport
import Testing

/// `jobctl schedulers`, `schedule` and `unschedule` against the real Python client on both backends: what jobctl
/// schedules is the client's own (the same record and pending job as `upsertJobScheduler` writes, fired by its
/// Worker), what the client schedules jobctl lists with the client's fields, and the health words say what is wrong.
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct SchedulerCommandTests {
    typealias Object = [String: Any]

    static var nowMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    static func scheduler(_ result: StepResult) -> Object { result.object["scheduler"] as? Object ?? [:] }

    /// A plan whose first step opens the client's Queue (on PostgreSQL its migrations make the test's schema).
    static func plan() -> StepPlan {
        let plan = StepPlan()
        plan.step(["op": "counts", "queue": "setup"])
        return plan
    }

    static func next(_ result: StepResult) throws -> Int64 {
        try #require((scheduler(result)["next"] as? NSNumber)?.int64Value, "\(result)")
    }

    @Test(arguments: Backend.live)
    func aCronScheduleMadeByJobctlIsTheClientsOwn(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = Self.plan()
        let before = plan.result([
            "op": "cron_next", "repeat": ["pattern": "0 3 * * *", "tz": "America/New_York"], "base": Self.nowMs,
        ])
        let made = plan.jobctl([
            "schedule", "j", "nightly", "--cron", "0 3 * * *", "--tz", "America/New_York", "--name", "digest",
            "--data", #"{"a":1}"#, "--opts", #"{"attempts":3}"#, "--yes",
        ])
        plan.step([
            "op": "upsert_scheduler", "queue": "p", "id": "nightly",
            "repeat": ["pattern": "0 3 * * *", "tz": "America/New_York"], "name": "digest", "data": ["a": 1],
            "opts": ["attempts": 3],
        ])
        let ours = plan.result(["op": "get_scheduler", "queue": "j", "id": "nightly"])
        let theirs = plan.result(["op": "get_scheduler", "queue": "p", "id": "nightly"])
        try plan.run(on: steps)
        #expect(made.status == 0, "\(made)")
        let next = try Self.next(ours)
        #expect(jsonEqual(before.object["next"], next), "the client's croniter agrees: \(before) \(ours)")
        #expect(
            jsonEqual(
                Self.scheduler(ours),
                [
                    "key": "nightly", "name": "digest", "next": next, "iterationCount": 1, "tz": "America/New_York",
                    "pattern": "0 3 * * *", "offset": 0, "template": ["data": ["a": 1], "opts": ["attempts": 3]],
                ] as Object), "\(ours)")
        #expect(jsonEqual(Self.scheduler(ours), Self.scheduler(theirs)), "\(ours)\n\(theirs)")

        let check = StepPlan()
        let job = check.job("j", id: "repeat:nightly:\(next)")
        let ourJob = check.result(["op": "raw_job", "queue": "j", "id": "repeat:nightly:\(next)"])
        let theirJob = check.result(["op": "raw_job", "queue": "p", "id": "repeat:nightly:\(next)"])
        try check.run(on: steps)
        #expect(job.state == "delayed", "\(job)")
        let opts = job.object["opts"] as? Object ?? [:]
        #expect(jsonEqual(opts["prevMillis"], next) && jsonEqual(opts["repeatJobKey"], "nightly"), "\(opts)")
        #expect(
            jsonEqual(opts["repeat"], ["pattern": "0 3 * * *", "tz": "America/New_York", "count": 1]), "\(opts)")
        #expect(
            jsonEqual(SchedulerWorkerTests.comparable(ourJob.object), SchedulerWorkerTests.comparable(theirJob.object)),
            "jobctl's pending job:\n\(ourJob)\nthe client's:\n\(theirJob)")
    }

    @Test(arguments: Backend.live)
    func anEveryScheduleMadeByJobctlRunsFirstAtOnceAsTheClients(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = Self.plan()
        let made = plan.jobctl(["schedule", "j", "e", "--every", "2s", "--data", #"{"x":1}"#, "--yes", "-o", "json"])
        plan.step([
            "op": "upsert_scheduler", "queue": "p", "id": "e", "repeat": ["every": 2000], "name": "e",
            "data": ["x": 1],
        ])
        let ours = plan.result(["op": "get_scheduler", "queue": "j", "id": "e"])
        let theirs = plan.result(["op": "get_scheduler", "queue": "p", "id": "e"])
        try plan.run(on: steps)
        #expect(made.status == 0, "\(made)")
        let summary = try made.json()
        #expect(jsonEqual(summary["delayMs"], 0) && jsonEqual(summary["created"], true), "\(summary)")
        var mine = Self.scheduler(ours)
        var python = Self.scheduler(theirs)
        // The due time (and so the phase) is the time each was made.
        for key in ["next", "offset"] {
            mine[key] = nil
            python[key] = nil
        }
        #expect(jsonEqual(mine, python), "\(ours)\n\(theirs)")
        let check = StepPlan()
        let ourJob = check.result(["op": "raw_job", "queue": "j", "id": "repeat:e:\(try Self.next(ours))"])
        let theirJob = check.result(["op": "raw_job", "queue": "p", "id": "repeat:e:\(try Self.next(theirs))"])
        try check.run(on: steps)
        #expect(
            jsonEqual(SchedulerWorkerTests.comparable(ourJob.object), SchedulerWorkerTests.comparable(theirJob.object)),
            "jobctl's first job:\n\(ourJob)\nthe client's:\n\(theirJob)")
    }

    @Test(arguments: Backend.live)
    func aPythonWorkerFiresWhatJobctlScheduled(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = Self.plan()
        let every = plan.jobctl(["schedule", "e", "e", "--every", "2s", "--data", #"{"x":1}"#, "--yes"])
        let cron = plan.jobctl(["schedule", "c", "c", "--cron", "*/2 * * * * *", "--data", #"{"y":2}"#, "--yes"])
        plan.step(["op": "worker_start", "queue": "e"])
        plan.step(["op": "worker_start", "queue": "c"])
        plan.step(["op": "wait_until", "queue": "e", "completed": 3, "timeout": 60])
        plan.step(["op": "wait_until", "queue": "c", "completed": 3, "timeout": 60])
        let seenEvery = plan.result(["op": "worker_stop", "queue": "e"])
        let seenCron = plan.result(["op": "worker_stop", "queue": "c"])
        let everyRecord = plan.result(["op": "get_scheduler", "queue": "e", "id": "e"])
        let cronRecord = plan.result(["op": "get_scheduler", "queue": "c", "id": "c"])
        try plan.run(on: steps)
        #expect(every.status == 0 && cron.status == 0, "\(every) \(cron)")
        for (seen, record, id, data, step) in [
            (seenEvery, everyRecord, "e", ["x": 1], Int64(2000)), (seenCron, cronRecord, "c", ["y": 2], 2000),
        ] {
            let jobs = seen.object["seen"] as? [Object] ?? []
            #expect(jobs.count >= 3 && (seen.object["errors"] as? [Any] ?? []).isEmpty, "\(seen)")
            let slots = jobs.compactMap { ($0["id"] as? String)?.split(separator: ":").last.flatMap { Int64($0) } }
            #expect(slots.count == jobs.count, "\(jobs)")
            #expect(zip(slots, slots.dropFirst()).allSatisfy { $1 > $0 && ($1 - $0) % step == 0 }, "\(slots)")
            #expect(jobs.allSatisfy { jsonEqual($0["data"], data) }, "\(jobs)")
            let count = (Self.scheduler(record)["iterationCount"] as? NSNumber)?.intValue ?? 0
            #expect(count >= jobs.count + 1, "\(id): \(record)")
        }
    }

    @Test(arguments: Backend.live)
    func changingRunningNowAndRemovingThroughJobctl(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let start = String(Self.nowMs + 3_600_000)
        let plan = Self.plan()
        plan.step([
            "op": "jobctl",
            "args": ["schedule", "q", "e", "--every", "2s", "--start", start, "--data", #"{"v":1}"#, "--yes"],
        ])
        let changed = plan.jobctl([
            "schedule", "q", "e", "--every", "5s", "--start", start, "--data", #"{"v":2}"#, "--name", "tick", "--yes",
        ])
        let ranNow = plan.jobctl(["schedule", "q", "e", "--run-now", "--yes", "-o", "json"])
        let record = plan.result(["op": "get_scheduler", "queue": "q", "id": "e"])
        let counts = plan.counts("q")
        let removed = plan.jobctl(["unschedule", "q", "e", "--yes", "-o", "json"])
        let gone = plan.result(["op": "get_scheduler", "queue": "q", "id": "e"])
        let after = plan.counts("q")
        let events = plan.result(["op": "events", "queue": "q"])
        let again = plan.jobctl(["unschedule", "q", "e", "--yes"])
        try plan.run(on: steps)
        #expect(changed.status == 0 && ranNow.status == 0, "\(changed) \(ranNow)")
        let scheduler = Self.scheduler(record)
        #expect(
            jsonEqual(scheduler["every"], 5000) && jsonEqual(scheduler["name"], "tick")
                && jsonEqual(scheduler["iterationCount"], 1), "run now leaves the count: \(scheduler)")
        #expect(jsonEqual((scheduler["template"] as? Object)?["data"], ["v": 2]), "\(scheduler)")
        // One pending (delayed) iteration, and the job run now, waiting.
        #expect(counts.int("delayed") == 1 && counts.int("waiting") == 1, "\(counts)")
        let added = try ranNow.json()["jobId"] as? String ?? ""
        let check = StepPlan()
        let job = check.result(["op": "raw_job", "queue": "q", "id": added])
        try check.run(on: steps)
        let raw = job.object
        #expect(raw["rjk"] == nil && jsonEqual(raw["scheduler_id"], nil), "an ordinary job: \(raw)")
        #expect(jsonEqual(raw["name"], "tick"), "\(raw)")

        #expect(removed.status == 0 && Self.scheduler(gone).isEmpty, "\(removed) \(gone)")
        #expect(after.int("delayed") == 0, "the pending delayed job went with it: \(after)")
        let removedEvents = (events.object["events"] as? [Object] ?? []).filter {
            $0["event"] as? String == "removed" && ($0["jobId"] as? String)?.hasPrefix("repeat:e:") == true
        }
        #expect(removedEvents.count == 1, "\(events)")
        #expect(again.status == 1 && again.stderr.contains("no job scheduler 'e' in queue 'q'"), "\(again)")
    }

    @Test(arguments: Backend.live)
    func theListingMatchesTheClientAndSaysWhatIsWrong(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let future = Self.nowMs + 3_600_000
        let plan = Self.plan()
        plan.steps([
            [
                "op": "upsert_scheduler", "queue": "ok", "id": "ok", "name": "fine", "data": ["d": 1],
                "repeat": ["every": 60000, "startDate": future, "endDate": future + 86_400_000, "limit": 9],
                "opts": ["attempts": 2, "removeOnComplete": 5],
            ],
            [
                "op": "upsert_scheduler", "queue": "ok", "id": "cron",
                "repeat": ["pattern": "0 30 4 * * *", "tz": "Asia/Kolkata"],
            ],
            ["op": "upsert_scheduler", "queue": "fin", "id": "fin", "repeat": ["every": 1000, "limit": 1]],
            ["op": "upsert_scheduler", "queue": "late", "id": "late", "repeat": ["every": 1000]],
            [
                "op": "upsert_scheduler", "queue": "stuck", "id": "stuck",
                "repeat": ["every": 60000, "startDate": future],
            ],
        ])
        let finished = plan.jobctl(["run-once", "fin", "--noop"])
        let stuckRecord = plan.result(["op": "get_scheduler", "queue": "stuck", "id": "stuck"])
        try plan.run(on: steps)
        #expect(finished.status == 0, "\(finished)")
        let stuckJob = "repeat:stuck:\(try Self.next(stuckRecord))"

        let check = StepPlan()
        // A raw delete leaves the stuck scheduler without its next job.
        switch backend {
        case .redis:
            check.step([
                "op": "raw",
                "redis": [["DEL", "{prefix}:stuck:\(stuckJob)"], ["ZREM", "{prefix}:stuck:delayed", stuckJob]],
            ])
            check.step(["op": "raw", "redis": [["ZADD", "{prefix}:leg:repeat", "5000", "old:id::UTC:*/5 * * * *"]]])
        case .postgres:
            check.step(["op": "raw", "sql": ["DELETE FROM {schema}.job WHERE queue = 'stuck'"]])
        }
        let queues = ["ok", "fin", "late", "stuck"] + (backend == .redis ? ["leg"] : [])
        let listed = check.jobctl(["schedulers"] + queues + ["--grace", "0s", "-o", "json"])
        let text = check.jobctl(["schedulers"] + queues + ["--grace", "0s"])
        let clients = queues.map { check.result(["op": "get_schedulers", "queue": $0]) }
        let lateCheck = check.jobctl(["status", "late", "--check", "schedulers=1,overdue_schedulers=0"])
        let fine = check.jobctl(["status", "ok", "fin", "--check", "overdue_schedulers=0", "-o", "json"])
        let stuckCheck = check.jobctl(["status", "stuck", "--check", "overdue_schedulers=0"])
        let stuckStats = check.jobctl(["stats", "stuck", "-o", "json"])
        try check.run(on: steps)

        #expect(listed.status == 0 && text.status == 0, "\(listed) \(text)")
        let rows = try listed.json()["schedulers"] as? [Object] ?? []
        let expected = clients.flatMap { $0.object["schedulers"] as? [Object] ?? [] }
        #expect(rows.count == expected.count && rows.count == queues.count + 1, "\(rows)\n\(expected)")
        let shared = [
            "key", "name", "next", "iterationCount", "limit", "startDate", "endDate", "tz", "pattern", "every",
            "offset", "template",
        ]
        for client in expected {
            let row = rows.first { jsonEqual($0["key"], client["key"]) } ?? [:]
            for key in shared {
                #expect(jsonEqual(row[key], client[key]), "\(key) of \(client["key"] ?? "?"): \(row[key] ?? "none")")
            }
        }
        func state(_ key: String) -> String? { rows.first { $0["key"] as? String == key }?["state"] as? String }
        #expect(state("ok") == "ok" && state("cron") == "ok", "\(rows)")
        #expect(state("fin") == "finished" && state("late") == "overdue" && state("stuck") == "stuck", "\(rows)")
        if backend == .redis { #expect(state("old:id::UTC:*/5 * * * *") == "legacy", "\(rows)") }
        for word in ["finished", "overdue", "stuck", "every 1m", "0 30 4 * * *", "Asia/Kolkata", "1/1"] {
            #expect(text.stdout.contains(word), "\(word): \(text.stdout)")
        }
        // A minute's grace in status: the late one (a second late) is not overdue yet, but counted.
        #expect(lateCheck.status == 0, "\(lateCheck)")
        #expect(fine.status == 0, "\(fine)")
        let statusRows = try fine.json()["queues"] as? [Object] ?? []
        #expect(
            statusRows.contains { jsonEqual($0["queue"], "ok") && jsonEqual($0["schedulers"], 2) }, "\(statusRows)")
        // Scheduled work that silently stopped fails the check.
        #expect(stuckCheck.status == 2 && stuckCheck.stderr.contains("overdue_schedulers=0 (found 1)"), "\(stuckCheck)")
        let stats = try stuckStats.json()
        #expect(jsonEqual(stats["schedulers"], 1) && jsonEqual(stats["overdueSchedulers"], 1), "\(stats)")
    }

    @Test(arguments: Backend.live)
    func badScheduleInputIsRefusedAndChangesNothing(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = Self.plan()
        let cases: [([String], Int32, String)] = [
            (["--every", "2s", "--cron", "* * * * *"], 64, "one of --every"),
            ([], 64, "one of --every"),
            (["--cron", "61 * * * *"], 64, "cron pattern '61 * * * *'"),
            (["--cron", "* * * * *", "--tz", "Mars/Olympus"], 64, "time zone 'Mars/Olympus'"),
            (["--every", "0s"], 64, "--every '0s'"),
            (["--every", "2s", "--tz", "UTC"], 64, "--tz is for --cron"),
            (["--every", "2s", "--opts", #"{"jobId":"x"}"#], 64, "'jobId' is set by the scheduler"),
            (["--every", "2s", "--opts", "[1]"], 64, "--opts must be a JSON object"),
            (["--every", "2s", "--data", "{"], 64, "--data is not JSON"),
            (["--every", "2s", "--end", "2001-01-01T00:00Z"], 1, "nothing scheduled: its end date"),
            (["--every", "2s", "--start", "yesterday"], 64, "--start 'yesterday' is not a time"),
            (["--run-now", "--every", "2s"], 64, "--run-now uses the scheduler as it is"),
            (["--run-now"], 1, "no job scheduler 's' in queue 'q'"),
        ]
        let runs = cases.map { plan.jobctl(["schedule", "q", "s"] + $0.0 + ["--yes"]) }
        plan.step(["op": "add", "queue": "q", "name": "n", "data": [:], "opts": [:]])
        let unscheduleNothing = plan.jobctl(["unschedule", "q"])
        let dump = plan.result(["op": "dump", "queue": "q"])
        let schedulers = plan.result(["op": "get_schedulers", "queue": "q"])
        try plan.run(on: steps)
        for ((arguments, status, words), run) in zip(cases, runs) {
            #expect(run.status == Int(status) && run.stderr.contains(words), "\(arguments): \(run)")
        }
        #expect(unscheduleNothing.status == 64, "\(unscheduleNothing)")
        #expect(jsonEqual(schedulers.object["count"], 0), "nothing was scheduled: \(schedulers) \(dump)")
    }

    /// BullMQ refuses a cron scheduler whose next job id is taken (-10); jobctl says so and leaves everything as it
    /// was, on Redis where its script checks before it deletes.
    @Test func aTakenSlotIsRefusedAndChangesNothing() throws {
        let steps = try BullMQSteps(on: .redis)
        let plan = Self.plan()
        let next = plan.result(["op": "cron_next", "repeat": ["pattern": "0 4 * * *"], "base": Self.nowMs])
        try plan.run(on: steps)
        let due = try #require((next.object["next"] as? NSNumber)?.int64Value)
        let check = StepPlan()
        check.step(["op": "raw", "redis": [["HSET", "{prefix}:q:repeat:c:\(due)", "name", "squatter", "data", "{}"]]])
        let before = check.result(["op": "dump", "queue": "q"])
        let refused = check.jobctl(["schedule", "q", "c", "--cron", "0 4 * * *", "--yes"])
        let after = check.result(["op": "dump", "queue": "q"])
        try check.run(on: steps)
        #expect(refused.status == 1 && refused.stderr.contains("exists already (BullMQ's -10)"), "\(refused)")
        #expect(jsonEqual(before.raw, after.raw), "nothing changed: \(before)\n\(after)")
    }

    /// A scheduler whose last job already finished is removed without a word about a job that stays.
    @Test(arguments: Backend.live)
    func unschedulingAFinishedSchedulerLeavesNoJobBehind(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = Self.plan()
        plan.step(["op": "upsert_scheduler", "queue": "f", "id": "f", "repeat": ["every": 1000, "limit": 1]])
        let ran = plan.jobctl(["run-once", "f", "--noop"])
        let removed = plan.jobctl(["unschedule", "f", "f", "--yes", "-o", "json"])
        try plan.run(on: steps)
        #expect(ran.status == 0, "\(ran)")
        let summary = try removed.json()
        #expect(removed.status == 0 && jsonEqual(summary["changed"], 1), "\(removed)")
        #expect(jsonEqual(summary["nextJobLeft"], [] as [Any]), "\(summary)")
    }
}
