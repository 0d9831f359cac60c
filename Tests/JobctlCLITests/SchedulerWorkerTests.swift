import Foundation
import TestSupport
import Testing

/// Job schedulers upserted by the real Python client on a queue worked by `jobctl run`, on both backends: every
/// iteration jobctl takes creates the next one as a Python worker does (the same stored job, field by field, time
/// stamps aside), limits and end dates end them, and a mixed pool never creates an iteration twice.
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct SchedulerWorkerTests {
    typealias Object = [String: Any]

    static func scheduler(_ result: StepResult) -> Object { result.object["scheduler"] as? Object ?? [:] }

    static func events(_ result: StepResult, named name: String) -> [Object] {
        (result.object["events"] as? [Object] ?? []).filter { $0["event"] as? String == name }
    }

    /// The due times (ms) in the ids of the jobs completed, in the order they completed.
    static func completedSlots(_ events: StepResult, scheduler: String) -> [Int64] {
        Self.events(events, named: "completed").compactMap { event in
            (event["jobId"] as? String).flatMap { id in
                id.hasPrefix("repeat:\(scheduler):") ? Int64(id.dropFirst("repeat:\(scheduler):".count)) : nil
            }
        }
    }

    static func pending(_ counts: StepResult) -> Int {
        (counts.int("waiting") ?? 0) + (counts.int("delayed") ?? 0) + (counts.int("prioritized") ?? 0)
            + (counts.int("active") ?? 0)
    }

    /// A stored job with what differs between two runs (its id, due time and time stamps) left out.
    static func comparable(_ job: Object) -> Object {
        var job = job
        for key in ["id", "seq", "queue", "timestamp", "delay", "added_at_ms", "delay_ms", "process_at_ms"] {
            job[key] = nil
        }
        var opts: Object =
            (job["opts"] as? Object)
            ?? (job["opts"] as? String).flatMap { try? parseJSONObject($0) } ?? [:]
        for key in ["jobId", "delay", "timestamp", "prevMillis"] { opts[key] = nil }
        job["opts"] = opts
        return job
    }

    @Test(arguments: Backend.live)
    func anEverySchedulerGoesOnAsWithAPythonWorker(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        let template: Object = [
            "repeat": ["every": 1500], "name": "tick", "data": ["n": 1],
            "opts": ["attempts": 2, "backoff": 1000, "removeOnFail": 5, "priority": 0],
        ]
        // The same scheduler on two queues: one worked by jobctl, one by the Python client's Worker.
        plan.step(["op": "upsert_scheduler", "queue": "j", "id": "e"].merging(template) { a, _ in a })
        plan.step(["op": "upsert_scheduler", "queue": "p", "id": "e"].merging(template) { a, _ in a })
        plan.step(["op": "jobctl_start", "args": ["run", "j", "--noop"], "until": "wake-ups"])
        plan.step(["op": "worker_start", "queue": "p"])
        plan.step(["op": "wait_counts", "queue": "j", "state": "completed", "count": 4, "timeout": 60])
        plan.step(["op": "wait_counts", "queue": "p", "state": "completed", "count": 2, "timeout": 60])
        let stopped = plan.result(["op": "jobctl_stop"])
        plan.step(["op": "worker_stop", "queue": "p"])
        let ours = plan.result(["op": "get_scheduler", "queue": "j", "id": "e"])
        let theirs = plan.result(["op": "get_scheduler", "queue": "p", "id": "e"])
        let counts = plan.counts("j")
        let events = plan.result(["op": "events", "queue": "j"])
        try plan.run(on: steps)

        #expect(stopped.int("status") == 0, "\(stopped)")
        #expect(!stopped.string("stderr")!.contains("does not create"), "the old warning is gone: \(stopped)")
        let slots = Self.completedSlots(events, scheduler: "e")
        #expect(slots.count >= 4, "\(events)")
        // Each next slot follows the one taken (a late take may skip slots, keeping the phase).
        for (earlier, later) in zip(slots, slots.dropFirst()) {
            #expect(later > earlier && (later - earlier) % 1500 == 0, "\(slots)")
        }
        let record = Self.scheduler(ours)
        let completed = counts.int("completed") ?? 0
        #expect(jsonEqual(record["iterationCount"], completed + 1), "one iteration per take: \(record) \(counts)")
        #expect(Self.pending(counts) == 1, "exactly one next job: \(counts)")
        #expect(Self.events(events, named: "duplicated").isEmpty, "\(events)")

        // The pending next job as jobctl stored it equals the Python worker's, field by field.
        let next = try #require((record["next"] as? NSNumber)?.int64Value)
        let pythonNext = try #require((Self.scheduler(theirs)["next"] as? NSNumber)?.int64Value)
        #expect(slots.last.map { next > $0 } == true, "\(next) after \(slots)")
        let check = StepPlan()
        let ourJob = check.result(["op": "raw_job", "queue": "j", "id": "repeat:e:\(next)"])
        let theirJob = check.result(["op": "raw_job", "queue": "p", "id": "repeat:e:\(pythonNext)"])
        try check.run(on: steps)
        var mine = Self.comparable(ourJob.object)
        var python = Self.comparable(theirJob.object)
        #expect(!mine.isEmpty && !python.isEmpty, "\(ourJob) \(theirJob)")
        // How many iterations each ran before the stop is the runs' business, not the layout's.
        var ourOpts = mine["opts"] as? Object ?? [:]
        var theirOpts = python["opts"] as? Object ?? [:]
        var ourRepeat = ourOpts["repeat"] as? Object ?? [:]
        var theirRepeat = theirOpts["repeat"] as? Object ?? [:]
        #expect(jsonEqual(ourRepeat["count"], record["iterationCount"]), "\(ourRepeat) \(record)")
        ourRepeat["count"] = nil
        theirRepeat["count"] = nil
        ourOpts["repeat"] = ourRepeat
        theirOpts["repeat"] = theirRepeat
        mine["opts"] = ourOpts
        python["opts"] = theirOpts
        #expect(jsonEqual(mine, python), "jobctl's next job:\n\(mine)\nthe Python worker's:\n\(python)")
    }

    @Test(arguments: Backend.live)
    func aCronSchedulerInBerlinFiresOnItsSeconds(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        plan.step([
            "op": "upsert_scheduler", "queue": "c", "id": "c",
            "repeat": ["pattern": "*/2 * * * * *", "tz": "Europe/Berlin"], "name": "even", "data": ["k": "v"],
            "opts": ["attempts": 3],
        ])
        plan.step(["op": "jobctl_start", "args": ["run", "c", "--noop"], "until": "wake-ups"])
        plan.step(["op": "wait_counts", "queue": "c", "state": "completed", "count": 3, "timeout": 60])
        plan.step(["op": "jobctl_stop"])
        let record = plan.result(["op": "get_scheduler", "queue": "c", "id": "c"])
        let counts = plan.counts("c")
        let events = plan.result(["op": "events", "queue": "c"])
        try plan.run(on: steps)
        let slots = Self.completedSlots(events, scheduler: "c")
        #expect(slots.count >= 3 && slots.allSatisfy { $0 % 2000 == 0 }, "every even second: \(slots)")
        #expect(zip(slots, slots.dropFirst()).allSatisfy { $0 < $1 }, "\(slots)")
        #expect(Self.pending(counts) == 1, "\(counts)")
        let scheduler = Self.scheduler(record)
        #expect(jsonEqual(scheduler["iterationCount"], (counts.int("completed") ?? 0) + 1), "\(scheduler)")
        let next = try #require((scheduler["next"] as? NSNumber)?.int64Value)
        let check = StepPlan()
        let job = check.job("c", id: "repeat:c:\(next)")
        try check.run(on: steps)
        #expect(jsonEqual(job.object["data"], ["k": "v"]), "\(job)")
        let opts = job.object["opts"] as? Object ?? [:]
        #expect(jsonEqual(opts["attempts"], 3) && jsonEqual(opts["prevMillis"], next), "\(opts)")
        #expect(
            jsonEqual(
                opts["repeat"],
                ["pattern": "*/2 * * * * *", "tz": "Europe/Berlin", "count": (counts.int("completed") ?? 0) + 1]),
            "\(opts)")
    }

    @Test(arguments: Backend.live)
    func aLimitEndsTheSchedulerAfterItsIterations(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        plan.step(["op": "upsert_scheduler", "queue": "l", "id": "l", "repeat": ["every": 1000, "limit": 3]])
        plan.step(["op": "jobctl_start", "args": ["run", "l", "--noop"], "until": "is its last iteration"])
        plan.step(["op": "wait_counts", "queue": "l", "state": "completed", "count": 3, "timeout": 60])
        let stopped = plan.result(["op": "jobctl_stop"])
        let record = plan.result(["op": "get_scheduler", "queue": "l", "id": "l"])
        let counts = plan.counts("l")
        try plan.run(on: steps)
        #expect(counts.int("completed") == 3 && Self.pending(counts) == 0, "\(counts)")
        // BullMQ keeps a scheduler that reached its limit.
        #expect(jsonEqual(Self.scheduler(record)["iterationCount"], 3), "\(record)")
        #expect(
            stopped.string("stderr")?.contains("its limit of 3 iteration(s) is reached") == true, "\(stopped)")
    }

    @Test(arguments: Backend.live)
    func noIterationIsCreatedAfterTheEndDate(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let end = Int64(Date().timeIntervalSince1970 * 1000) + 2500
        let plan = StepPlan()
        plan.step(["op": "upsert_scheduler", "queue": "d", "id": "d", "repeat": ["every": 1000, "endDate": end]])
        plan.step(["op": "jobctl_start", "args": ["run", "d", "--noop"], "until": "has passed"])
        plan.step(["op": "wait_counts", "queue": "d", "state": "completed", "count": 2, "timeout": 60])
        plan.step(["op": "jobctl_stop"])
        let counts = plan.counts("d")
        let events = plan.result(["op": "events", "queue": "d"])
        try plan.run(on: steps)
        let slots = Self.completedSlots(events, scheduler: "d")
        #expect(slots.count >= 2 && Self.pending(counts) == 0, "\(counts) \(slots)")
        let check = StepPlan()
        let jobs = slots.map { check.job("d", id: "repeat:d:\($0)") }
        try check.run(on: steps)
        for job in jobs {
            let created = (job.object["timestamp"] as? NSNumber)?.int64Value ?? .max
            #expect(created <= end, "created \(created), after the end \(end): \(job)")
        }
    }

    @Test(arguments: Backend.live)
    func aMixedPoolNeverCreatesAnIterationTwice(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        plan.step(["op": "upsert_scheduler", "queue": "m", "id": "m", "repeat": ["every": 1000]])
        plan.step(["op": "worker_start", "queue": "m"])
        for key in ["a", "b"] {
            plan.step(["op": "jobctl_start", "key": key, "args": ["run", "m", "--noop"], "until": "wake-ups"])
        }
        plan.step(["op": "wait_counts", "queue": "m", "state": "completed", "count": 20, "timeout": 120])
        let python = plan.result(["op": "worker_stop", "queue": "m"])
        let ours = ["a", "b"].map { plan.result(["op": "jobctl_stop", "key": $0]) }
        let record = plan.result(["op": "get_scheduler", "queue": "m", "id": "m"])
        let counts = plan.counts("m")
        let events = plan.result(["op": "events", "queue": "m"])
        try plan.run(on: steps)
        let slots = Self.completedSlots(events, scheduler: "m")
        #expect(Set(slots).count == slots.count && slots.count >= 20, "\(slots)")
        #expect(Self.events(events, named: "duplicated").isEmpty, "\(events)")
        // Every iteration created is a job that ran or the one pending: none was made twice.
        let completed = counts.int("completed") ?? 0
        #expect(
            jsonEqual(Self.scheduler(record)["iterationCount"], completed + Self.pending(counts)),
            "\(record) \(counts)")
        #expect(ours.allSatisfy { $0.int("status") == 0 }, "\(ours)")
        let pythonSeen = (python.object["seen"] as? [Any])?.count ?? 0
        print("mixed pool on \(backend): \(completed) completed, \(pythonSeen) by the Python worker")
    }

    /// A job taken before its time (promoted) gets the slot after its own, so the chain is the same whenever the test
    /// runs: across New York's 2027 fall-back, where jobctl fires at 09:00 as named and croniter at 10:00.
    @Test(arguments: Backend.live)
    func aCronChainAcrossAClockChangeFollowsTheWallClock(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        plan.step([
            "op": "upsert_scheduler", "queue": "ny", "id": "c", "name": "nine",
            "repeat": ["pattern": "0 9 * * *", "tz": "America/New_York", "startDate": 1_825_430_400_000],
        ])
        // 2027-11-06 09:00 EDT, 11-07 09:00 EST (the day the clock goes back), 11-08 09:00 EST.
        let chain: [Int64] = [1_825_506_000_000, 1_825_596_000_000, 1_825_682_400_000, 1_825_768_800_000]
        var runs: [CommandRun] = []
        for due in chain.dropLast() {
            plan.step(["op": "promote", "queue": "ny", "id": "repeat:c:\(due)"])
            runs.append(plan.jobctl(["run-once", "ny", "--noop"]))
        }
        let record = plan.result(["op": "get_scheduler", "queue": "ny", "id": "c"])
        let croniter = chain.dropLast().map { base in
            plan.result([
                "op": "cron_next", "repeat": ["pattern": "0 9 * * *", "tz": "America/New_York"], "base": base,
            ])
        }
        let counts = plan.counts("ny")
        try plan.run(on: steps)
        #expect(runs.allSatisfy { $0.status == 0 }, "\(runs)")
        let scheduler = Self.scheduler(record)
        #expect(jsonEqual(scheduler["next"], chain.last) && jsonEqual(scheduler["iterationCount"], 4), "\(scheduler)")
        #expect(counts.int("completed") == 3 && counts.int("delayed") == 1, "\(counts)")
        // croniter agrees away from the change, and says 10:00 EST on the day of it.
        #expect(jsonEqual(croniter[0].object["next"], 1_825_599_600_000), "\(croniter[0])")
        #expect(jsonEqual(croniter[1].object["next"], chain[2]) && jsonEqual(croniter[2].object["next"], chain[3]))
    }

    /// A job that fails its first attempt is taken again: the retry is not the scheduler's current iteration, so it
    /// creates nothing.
    @Test(arguments: Backend.live)
    func aRetriedIterationCreatesNoSecondNextJob(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        plan.step([
            "op": "upsert_scheduler", "queue": "r", "id": "r", "repeat": ["every": 1000], "opts": ["attempts": 2],
        ])
        let failFirst = [
            "--exec", TestEnvironment.python, "-c",
            "import json, sys; job = json.load(sys.stdin); sys.exit('first' if job['attemptsMade'] == 0 else 0)",
        ]
        plan.step(["op": "jobctl_start", "args": ["run", "r"] + failFirst, "until": "wake-ups"])
        plan.step(["op": "wait_counts", "queue": "r", "state": "completed", "count": 3, "timeout": 60])
        plan.step(["op": "jobctl_stop"])
        let record = plan.result(["op": "get_scheduler", "queue": "r", "id": "r"])
        let counts = plan.counts("r")
        let events = plan.result(["op": "events", "queue": "r"])
        try plan.run(on: steps)
        let completed = counts.int("completed") ?? 0
        #expect(completed >= 3, "\(counts)")
        #expect(Self.events(events, named: "duplicated").isEmpty, "\(events)")
        #expect(
            jsonEqual(Self.scheduler(record)["iterationCount"], completed + Self.pending(counts)),
            "one iteration per slot: \(record) \(counts)")
    }

    /// An `every` scheduler whose pending job is 5.3 intervals late, with an offset: the next slot is worked out by
    /// each backend's own formula (BullMQ's Lua keeps the phase; the PostgreSQL function adds a whole interval).
    @Test(arguments: Backend.live)
    func aLateEverySchedulerCatchesUpByItsBackendsFormula(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        plan.step(["op": "upsert_scheduler", "queue": "cu", "id": "e", "repeat": ["every": 1000, "offset": 500]])
        let first = plan.result(["op": "get_scheduler", "queue": "cu", "id": "e"])
        try plan.run(on: steps)
        let pending = try #require((Self.scheduler(first)["next"] as? NSNumber)?.int64Value)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let late = (now - 5300) / 1000 * 1000 + 500
        let rewrite = StepPlan()
        switch backend {
        case .redis:
            rewrite.step([
                "op": "raw",
                "redis": [
                    ["RENAME", "{prefix}:cu:repeat:e:\(pending)", "{prefix}:cu:repeat:e:\(late)"],
                    ["ZREM", "{prefix}:cu:delayed", "repeat:e:\(pending)"],
                    ["ZADD", "{prefix}:cu:delayed", String(late * 4096), "repeat:e:\(late)"],
                    ["ZADD", "{prefix}:cu:repeat", String(late), "e"],
                ],
            ])
        case .postgres:
            rewrite.step([
                "op": "raw",
                "sql": [
                    "UPDATE {schema}.scheduler SET next_run_ms = \(late) WHERE queue = 'cu'",
                    "UPDATE {schema}.job SET id = 'repeat:e:\(late)', process_at_ms = \(late) WHERE queue = 'cu'",
                ],
            ])
        }
        let run = rewrite.jobctl(["run-once", "cu", "--noop"])
        let record = rewrite.result(["op": "get_scheduler", "queue": "cu", "id": "e"])
        try rewrite.run(on: steps)
        #expect(run.status == 0, "\(run)")
        let next = try #require((Self.scheduler(record)["next"] as? NSNumber)?.int64Value)
        let check = StepPlan()
        let job = check.result(["op": "raw_job", "queue": "cu", "id": "repeat:e:\(next)"])
        try check.run(on: steps)
        // The time the worker took it, as the store was told.
        let takenText = job.string("timestamp") ?? job.string("added_at_ms") ?? ""
        let taken = try #require(Int64(takenText), "\(job)")
        let slot = taken / 1000 * 1000
        let expected: Int64
        switch backend {
        case .redis: expected = slot + 500 <= taken ? slot + 1500 : slot + 500
        case .postgres: expected = slot + 1000 + 500
        }
        #expect(next == expected, "taken at \(taken): next \(next), expected \(expected)")
    }
}
