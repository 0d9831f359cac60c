import Foundation
import TestSupport
import Testing

/// `run-once` against the real Python `bullmq` on both backends: jobs the client added are run by jobctl, and the
/// client sees them completed, retried with their backoff and failed, as its own worker would leave them.
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct WorkerCommandTests {
    typealias Object = [String: Any]
    static func object(_ value: Any?) -> Object { value as? Object ?? [:] }

    /// A handler in Python: doubles data.n; fails with "boom <attempt>" when data.fail; exits 65 when data.bad.
    static let handler = [
        "--exec", TestEnvironment.python, "-c",
        """
        import json, sys
        job = json.load(sys.stdin)
        data = job["data"]
        if data.get("bad"):
            print("bad input", file=sys.stderr); sys.exit(65)
        if data.get("fail"):
            sys.exit("boom " + str(job["attemptsMade"]))
        print(json.dumps({"double": data["n"] * 2, "id": job["id"]}))
        """,
    ]

    @Test(arguments: Backend.live)
    func jobsAddedByBullMQAreCompletedWithTheHandlersReturnValue(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        plan.steps([
            ["op": "add", "queue": "w", "name": "dbl", "data": ["n": 1], "opts": [:]],
            ["op": "add", "queue": "w", "name": "dbl", "data": ["n": 2], "opts": ["priority": 3]],
            ["op": "add", "queue": "w", "name": "dbl", "data": ["n": 3], "opts": ["removeOnComplete": true]],
            ["op": "add", "queue": "w", "name": "dbl", "data": ["n": 4], "opts": ["lifo": true]],
        ])
        let run = plan.jobctl(["run-once", "w", "--concurrency", "3", "--json"] + Self.handler)
        let jobs = [(plan.job("w", id: "1"), 1), (plan.job("w", id: "2"), 2)]
        let removed = plan.job("w", id: "3")
        let counts = plan.counts("w")
        let idle = plan.jobctl(["run-once", "w", "--json"] + Self.handler)
        try plan.run(on: steps)
        #expect(run.status == 0, "\(run)")
        let summary = try run.json()
        #expect(summary["processed"] as? Int == 4 && summary["completed"] as? Int == 4)
        for (job, n) in jobs {
            #expect(job.state == "completed", "\(job)")
            #expect(jsonEqual(job["returnvalue"], ["double": n * 2, "id": job.string("id") ?? ""]), "\(job)")
            #expect(job.int("attemptsMade") == 1 && job["finishedOn"] is NSNumber && job["processedOn"] is NSNumber)
        }
        #expect(!removed.exists, "removeOnComplete: true removes the job")
        #expect(counts.int("completed") == 3 && counts.int("waiting") == 0 && counts.int("active") == 0)
        #expect(try idle.status == 0 && idle.json()["processed"] as? Int == 0)
    }

    @Test(arguments: Backend.live)
    func aFailingHandlerIsRetriedWithTheJobsBackoffThenFails(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        plan.steps([
            [
                "op": "add", "queue": "f", "name": "flaky", "data": ["fail": true],
                "opts": ["attempts": 3, "backoff": ["type": "exponential", "delay": 400]],
            ],
            ["op": "add", "queue": "f", "name": "final", "data": ["bad": true], "opts": ["attempts": 5]],
            ["op": "add", "queue": "f", "name": "now", "data": ["fail": true], "opts": ["attempts": 2]],
        ])
        let first = plan.jobctl(["run-once", "f"] + Self.handler)
        let delayed = plan.job("f", id: "1")
        let final = plan.job("f", id: "2")
        let now = plan.job("f", id: "3")
        // The backoff itself is what is waited for (400 ms, then 800 ms): time is the condition.
        plan.step(["op": "sleep", "seconds": 0.5])
        _ = plan.jobctl(["run-once", "f"] + Self.handler)
        let second = plan.job("f", id: "1")
        plan.step(["op": "sleep", "seconds": 0.9])
        _ = plan.jobctl(["run-once", "f"] + Self.handler)
        let last = plan.job("f", id: "1")
        let counts = plan.counts("f")
        try plan.run(on: steps)
        #expect(first.status == 2, "\(first)")
        #expect(first.stderr.contains("job 1: boom 0"), "handler output is logged with the job id")
        #expect(delayed.state == "delayed" && delayed.int("attemptsMade") == 1, "\(delayed)")
        #expect(delayed.string("failedReason") == "boom 0" && delayed.int("delay") == 400)
        #expect(
            final.state == "failed" && final.string("failedReason") == "bad input",
            "exit 65 skips the attempts left: \(final)")
        // attempts 2 and no backoff: the second attempt ran in the same run, then it failed for good.
        #expect(
            now.state == "failed" && now.int("attemptsMade") == 2 && now.string("failedReason") == "boom 1", "\(now)")
        #expect(second.state == "delayed" && second.int("delay") == 800, "exponential: \(second)")
        #expect(
            last.state == "failed" && last.int("attemptsMade") == 3 && last.string("failedReason") == "boom 2",
            "\(last)")
        #expect(counts.int("failed") == 3 && counts.int("active") == 0)
    }

    @Test(arguments: Backend.live)
    func serveHandlersAreReusedAndADyingOneFailsOnlyItsJob(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let serve = [
            "--serve", TestEnvironment.python, "-c",
            """
            import json, os, sys
            for line in sys.stdin:
                job = json.loads(line)
                data = job["data"]
                if data.get("crash"):
                    os._exit(3)
                if data.get("fail"):
                    print(json.dumps({"id": job["id"], "ok": False, "error": "nope " + str(job["attemptsMade"])}),
                          flush=True)
                    continue
                print("working on", job["id"], file=sys.stderr, flush=True)
                value = {"double": data["n"] * 2, "pid": os.getpid()}
                print(json.dumps({"id": job["id"], "ok": True, "value": value}), flush=True)
            """,
        ]
        let plan = StepPlan()
        plan.steps((1...6).map { ["op": "add", "queue": "s", "name": "dbl", "data": ["n": $0], "opts": [:]] })
        plan.steps([
            [
                "op": "add", "queue": "s", "name": "flaky", "data": ["fail": true],
                "opts": ["attempts": 2, "backoff": 60_000, "jobId": "flaky-1"],
            ],
            ["op": "add", "queue": "s", "name": "crash", "data": ["crash": true], "opts": ["jobId": "crash-1"]],
        ])
        let run = plan.jobctl(["run-once", "s", "--concurrency", "2", "--json"] + serve)
        let doubled = (1...6).map { plan.job("s", id: String($0)) }
        let flaky = plan.job("s", id: "flaky-1")
        let crash = plan.job("s", id: "crash-1")
        plan.step(["op": "add", "queue": "s2", "name": "dbl", "data": ["n": 5], "opts": [:]])
        let example = plan.jobctl([
            "run-once", "s2", "--serve", TestEnvironment.python,
            TestEnvironment.repositoryRoot.appendingPathComponent("examples/serve-handler.py").path,
        ])
        let exampleJob = plan.job("s2", id: "1")
        try plan.run(on: steps)
        #expect(run.status == 2, "a job failed: \(run)")
        let logged = run.stderr.split(separator: "\n").contains {
            $0.hasSuffix(": working on 1")
                && ($0.hasPrefix("job 1:") || $0.hasPrefix("jobs ") && $0.split(separator: ":")[0].contains("1"))
        }
        #expect(logged, "handler stderr is logged with the job ids it may be about: \(run)")
        var pids: [Int] = []
        for (index, job) in doubled.enumerated() {
            let value = Self.object(job["returnvalue"])
            #expect(job.state == "completed" && (value["double"] as? Int) == 2 * (index + 1), "\(job)")
            if let pid = value["pid"] as? Int { pids.append(pid) }
        }
        #expect(Set(pids).count < pids.count, "handler processes are reused: \(pids)")
        #expect(flaky.state == "delayed" && flaky.string("failedReason") == "nope 0", "\(flaky)")
        #expect(
            crash.state == "failed" && (crash.string("failedReason") ?? "").contains("exited while running this job"),
            "\(crash)")
        #expect(example.status == 0, "\(example)")
        #expect(jsonEqual(exampleJob["returnvalue"], ["double": 10]), "the example handler: \(exampleJob)")
    }

    /// A handler process gets several jobs before it answers the first: this one runs each line on a thread of its
    /// own after a random pause, so answers come back out of order and must be matched by id.
    ///
    /// One job sleeps past the timeout: its process is killed, that job fails, and the jobs sent to the same process
    /// after it are run by another one.
    @Test(arguments: Backend.live)
    func serveAnswersOutOfOrderAreMatchedByIdAndATimeoutFailsOnlyItsJob(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let serve = [
            "--serve", TestEnvironment.python, "-c",
            """
            import json, random, sys, threading, time
            lock = threading.Lock()
            def answer(job):
                time.sleep(30 if job["data"].get("hang") else random.random() / 50)
                with lock:
                    print(json.dumps({"id": job["id"], "ok": True, "value": job["data"]["n"] * 2}), flush=True)
            for line in sys.stdin:
                threading.Thread(target=answer, args=(json.loads(line),), daemon=True).start()
            """,
        ]
        let total = 80
        var jobs: [[String: Any]] = (1...total).map { ["name": "dbl", "data": ["n": $0]] }
        jobs[10] = ["name": "hang", "data": ["n": 11, "hang": true], "opts": ["jobId": "hang-1"]]
        let plan = StepPlan()
        let added = plan.result(["op": "add_bulk", "queue": "p", "jobs": jobs])
        let run = plan.jobctl(["run-once", "p", "--concurrency", "40", "--job-timeout", "3s", "--json"] + serve)
        let counts = plan.counts("p")
        let hang = plan.job("p", id: "hang-1")
        try plan.run(on: steps)
        let ids = (added["ids"] as? [String] ?? []).filter { $0 != "hang-1" }
        #expect(ids.count == total - 1)
        let lookups = StepPlan()
        let done = ids.map { lookups.job("p", id: $0) }
        try lookups.run(on: steps)
        #expect(run.status == 2, "the hanging job failed: \(run)")
        #expect(counts.int("completed") == total - 1 && counts.int("failed") == 1, "\(counts)")
        #expect(
            hang.state == "failed" && (hang.string("failedReason") ?? "").hasPrefix("timed out after 3s"), "\(hang)")
        for job in done {
            let n = (Self.object(job["data"])["n"] as? Int) ?? -1
            #expect(job.state == "completed" && job.int("returnvalue") == 2 * n, "\(job)")
        }
    }

    /// Flow children that fail for good move their parents as BullMQ's own worker does, for each of the child
    /// options: failParentOnFailure (the parent runs and fails at once, naming the child), continueParentOnFailure,
    /// ignoreDependencyOnFailure, removeDependencyOnFailure (the parent runs), and none (the parent keeps waiting).
    ///
    /// The same flows run by the Python worker in another namespace are the reference.
    @Test(arguments: Backend.live)
    func failedFlowChildrenMoveTheirParentsAsBullMQDoes(_ backend: Backend) throws {
        let options = [
            "fpof": "failParentOnFailure", "cpof": "continueParentOnFailure", "idof": "ignoreDependencyOnFailure",
            "rdof": "removeDependencyOnFailure", "none": "",
        ]
        let kinds = options.keys.sorted()
        var flows: [[String: Any]] = []
        for kind in kinds {
            var childOptions: [String: Any] = ["jobId": "c-\(kind)"]
            if let option = options[kind], !option.isEmpty { childOptions[option] = true }
            var children: [[String: Any]] = [
                ["name": "child", "queueName": "kids", "data": ["fail": true, "n": 1], "opts": childOptions]
            ]
            if kind == "idof" {
                children.append(["name": "child", "queueName": "kids", "data": ["n": 2], "opts": ["jobId": "c-idof-2"]])
            }
            let flow: [String: Any] = [
                "name": "parent", "queueName": "parents", "data": ["n": 3], "opts": ["jobId": "p-\(kind)"],
                "children": children,
            ]
            flows.append(["op": "add_flow", "flow": flow])
        }
        func states(_ parents: [JobSnapshot]) -> [String: String] {
            var states: [String: String] = [:]
            for (kind, job) in zip(kinds, parents) {
                let reason = job.string("failedReason").map {
                    $0.hasPrefix("child ") && $0.hasSuffix("kids:c-\(kind) failed") ? " (child failed)" : " (\($0))"
                }
                states[kind] = (job.state ?? "missing") + (reason ?? "")
            }
            return states
        }

        let byJobctl = StepPlan()
        byJobctl.steps(flows)
        _ = byJobctl.jobctl(["run-once", "kids"] + Self.handler)
        let jobctlAfterChildren = kinds.map { byJobctl.job("parents", id: "p-\($0)") }
        _ = byJobctl.jobctl(["run-once", "parents"] + Self.handler)
        let jobctlAfterParents = kinds.map { byJobctl.job("parents", id: "p-\($0)") }
        try byJobctl.run(on: BullMQSteps(on: backend))

        let byPython = StepPlan()
        byPython.steps(
            flows + [
                ["op": "worker_start", "queue": "kids", "fail": true],
                ["op": "wait_counts", "queue": "kids", "state": "failed", "count": kinds.count],
                ["op": "wait_counts", "queue": "kids", "state": "completed", "count": 1],
                ["op": "worker_stop", "queue": "kids"],
            ])
        let pythonAfterChildren = kinds.map { byPython.job("parents", id: "p-\($0)") }
        byPython.steps([
            ["op": "worker_start", "queue": "parents"],
            ["op": "wait_counts", "queue": "parents", "state": "completed", "count": 3],
            ["op": "wait_counts", "queue": "parents", "state": "failed", "count": 1],
            ["op": "worker_stop", "queue": "parents"],
        ])
        let pythonAfterParents = kinds.map { byPython.job("parents", id: "p-\($0)") }
        try byPython.run(on: BullMQSteps(on: backend))

        let afterChildren = [
            "fpof": "waiting", "cpof": "waiting", "idof": "waiting", "rdof": "waiting", "none": "waiting-children",
        ]
        let afterParents = [
            "fpof": "failed (child failed)", "cpof": "completed", "idof": "completed", "rdof": "completed",
            "none": "waiting-children",
        ]
        #expect(states(pythonAfterChildren) == afterChildren, "the reference")
        #expect(states(pythonAfterParents) == afterParents, "the reference")
        #expect(states(jobctlAfterChildren) == afterChildren)
        #expect(states(jobctlAfterParents) == afterParents)
    }

    /// Taking a job scheduler's job creates the scheduler's next iteration, as a BullMQ worker does.
    @Test(arguments: Backend.live)
    func aJobSchedulersJobMakesItsNextIteration(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        plan.steps([
            [
                "op": "upsert_scheduler", "queue": "sched", "id": "tick-s", "repeat": ["pattern": "* * * * * *"],
                "data": ["n": 4],
            ],
            // The scheduler's first job is due at the next whole second: time is the condition.
            ["op": "sleep", "seconds": 1.2],
        ])
        let run = plan.jobctl(["run-once", "sched", "-o", "json"] + Self.handler)
        let counts = plan.counts("sched")
        let scheduler = plan.result(["op": "get_scheduler", "queue": "sched", "id": "tick-s"])
        try plan.run(on: steps)
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        let summary = try run.json()
        #expect(jsonEqual(summary["schedulerIterations"], (summary["processed"] as? Int) ?? -1), "\(summary)")
        let record = scheduler.object["scheduler"] as? Object ?? [:]
        let completed = counts.int("completed") ?? 0
        #expect(completed >= 1 && jsonEqual(record["iterationCount"], completed + 1), "\(counts) \(record)")
    }

    @Test(arguments: Backend.live)
    func overlappingRunsAndABullMQWorkerRunEveryJobExactlyOnce(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let marks = FileManager.default.temporaryDirectory.appendingPathComponent("jobctl-once-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: marks) }
        // Each run creates a file named after the job, exclusively: a job run twice fails the second time.
        let once = [
            "--exec", TestEnvironment.python, "-c",
            "import json, sys; open(sys.argv[1] + '/' + json.load(sys.stdin)['id'], 'x'); print(1)", marks,
        ]
        let total = 400
        let plan = StepPlan()
        plan.steps([
            [
                "op": "add_bulk", "queue": "m",
                "jobs": (0..<total).map { ["name": "j", "data": ["i": $0], "opts": [:]] },
            ],
            ["op": "worker_start", "queue": "m", "fail": false, "concurrency": 5],
        ])
        let both = plan.result([
            "op": "jobctl_many",
            "runs": [
                ["run-once", "m", "--concurrency", "8", "--json"] + once,
                ["run-once", "m", "--concurrency", "8", "--json"] + once,
            ],
        ])
        plan.step(["op": "wait_until", "queue": "m", "completed": 1, "timeout": 5])
        let python = plan.result(["op": "worker_stop", "queue": "m"])
        let counts = plan.counts("m")
        try plan.run(on: steps)
        let runs = (both["results"] as? [Any] ?? []).map(Self.object)
        #expect(runs.count == 2)
        var byJobctl = 0
        for run in runs {
            #expect(run["status"] as? Int == 0, "\(run)")
            let summary = (try? parseJSONObject(run["stdout"] as? String ?? "")) ?? [:]
            #expect(summary["failed"] as? Int == 0)
            byJobctl += summary["completed"] as? Int ?? 0
        }
        let byPython = (python["completed"] as? [Any])?.count ?? 0
        #expect(byJobctl + byPython == total, "jobctl \(byJobctl) + python \(byPython)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: marks).count == byJobctl)
        #expect(counts.int("completed") == total && counts.int("failed") == 0)
    }

    @Test(arguments: Backend.live)
    func pausedQueuesDisabledWorkersAndBadCommands(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let plan = StepPlan()
        plan.steps([
            ["op": "add", "queue": "p", "name": "x", "data": ["n": 1], "opts": [:]],
            ["op": "pause", "queue": "p"],
        ])
        let paused = plan.jobctl(["run-once", "p"] + Self.handler)
        let disabled = [
            plan.jobctl(["run-once", "p", "--noop"], environment: ["JOBCTL_DISABLE_WORKERS": "true"]),
            plan.jobctl(["run-once", "p", "--noop"], environment: ["DISABLE_BACKGROUND_WORKERS": "true"]),
        ]
        let bad = [
            plan.jobctl(["run-once", "p"]), plan.jobctl(["run-once", "p", "--noop", "--exec", "true"]),
            plan.jobctl(["run-once", "p", "--noop", "--concurrency", "0"]),
        ]
        plan.step(["op": "resume", "queue": "p"])
        let missing = plan.jobctl(["run-once", "p", "--exec", "/no/such/handler"])
        let job = plan.job("p", id: "1")
        try plan.run(on: steps)
        #expect(paused.status == 75 && paused.stderr.contains("is paused"), "\(paused)")
        for run in disabled {
            #expect(run.status == 0 && run.stderr.contains("workers are disabled"), "\(run)")
        }
        for run in bad { #expect(run.status == 64, "\(run)") }
        #expect(missing.status == 2)
        #expect(
            job.state == "failed" && (job.string("failedReason") ?? "").contains("could not start /no/such/handler"),
            "\(job)")
    }
}

/// `jobctl run` as a process: stop signals, a killed worker, and a fleet shared with Python workers.
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct RunCommandTests {
    typealias Object = [String: Any]
    static func object(_ value: Any?) -> Object { value as? Object ?? [:] }

    /// Starts `jobctl run` in the background against the namespace; returns the process and its stderr pipe.
    static func start(_ steps: BullMQSteps, _ arguments: [String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.jobctlBinary)
        process.arguments = ["run"] + arguments
        process.environment = TestEnvironment.jobctlEnvironment(steps.jobctlEnvironment)
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, err)
    }

    static func counts(_ steps: BullMQSteps, _ queue: String) throws -> Object {
        try steps.last([["op": "counts", "queue": queue]]) as? Object ?? [:]
    }

    static func waitFor(_ what: String, timeout: Double = 20, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        Issue.record("timed out waiting for \(what)")
    }

    @Test(arguments: Backend.live)
    func sigtermLetsRunningJobsFinishAndLeavesNothingActive(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        _ = try steps.run([
            ["op": "add_bulk", "queue": "t", "jobs": (0..<6).map { ["name": "slow", "data": ["i": $0], "opts": [:]] }]
        ])
        let (process, err) = try Self.start(
            steps, ["t", "--concurrency", "2", "--exec", "/bin/sh", "-c", "sleep 1; echo done"])
        try Self.waitFor("two active jobs") { (try Self.counts(steps, "t")["active"] as? Int) == 2 }
        process.terminate()
        process.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(stderr)")
        #expect(stderr.contains("stopped: 2 completed"), "\(stderr)")
        let counts = try Self.counts(steps, "t")
        #expect(
            counts["active"] as? Int == 0 && counts["completed"] as? Int == 2 && counts["waiting"] as? Int == 4,
            "\(counts)")
    }

    @Test(arguments: Backend.live)
    func jobsOfAKilledWorkerAreRescuedAndCompletedByTheNext(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        _ = try steps.run([
            ["op": "add_bulk", "queue": "k", "jobs": (0..<8).map { ["name": "j", "data": ["i": $0], "opts": [:]] }]
        ])
        // Short locks, so that the killed worker's jobs are free soon.
        let (killed, _) = try Self.start(
            steps,
            [
                "k", "--concurrency", "4", "--lock-duration", "1s", "--stalled-interval", "500ms", "--exec", "/bin/sh",
                "-c", "sleep 30",
            ])
        try Self.waitFor("four active jobs") { (try Self.counts(steps, "k")["active"] as? Int) == 4 }
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        let (next, err) = try Self.start(
            steps, ["k", "--concurrency", "4", "--stalled-interval", "500ms", "--exec", "/bin/echo", "ok"])
        try Self.waitFor("every job completed", timeout: 30) { (try Self.counts(steps, "k")["completed"] as? Int) == 8 }
        next.terminate()
        next.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(stderr.contains("stalled job(s) back to waiting"), "\(stderr)")
        let counts = try Self.counts(steps, "k")
        #expect(
            counts["completed"] as? Int == 8 && counts["active"] as? Int == 0 && counts["failed"] as? Int == 0,
            "\(counts)")
    }

    /// BullMQ never fails a job scheduler's job for stalling too often (its next iteration hangs on it); the Redis
    /// stalled check does as BullMQ's does (the PostgreSQL schema's function already exempts them).
    @Test(.enabled(if: Backend.redis.isLive, "set JOBCTL_TEST_REDIS_URL (scripts/test.sh does)"))
    func aSchedulersJobThatStalledTooOftenIsNotFailed() throws {
        let steps = try BullMQSteps(on: .redis)
        let plan = StepPlan()
        // Jobs 1 (made by scheduler "tick", which exists) and 2 (a plain job): both active without a lock, noted by
        // the previous stalled check, and stalled once already (maxStalledCount is 1).
        let now = String(Int64(Date().timeIntervalSince1970 * 1000))
        plan.step([
            "op": "raw",
            "redis": [
                ["HSET", "{prefix}:st:repeat:tick", "name", "tick", "every", "600000", "ic", "1"],
                ["ZADD", "{prefix}:st:repeat", "1900000000000", "tick"],
                [
                    "HSET", "{prefix}:st:1", "name", "tick", "data", "{}", "opts", "{}", "timestamp", now, "rjk",
                    "tick",
                    "stc", "1", "atm", "1",
                ],
                [
                    "HSET", "{prefix}:st:2", "name", "plain", "data", "{}", "opts", "{}", "timestamp", now, "stc", "1",
                    "atm", "1",
                ],
                ["SET", "{prefix}:st:id", "2"], ["HSET", "{prefix}:st:meta", "opts.maxLenEvents", "10000"],
                ["RPUSH", "{prefix}:st:active", "1", "2"], ["SADD", "{prefix}:st:stalled", "1", "2"],
            ],
        ])
        plan.step(["op": "jobctl_start", "until": "wake-ups:", "args": ["run", "st", "--noop"]])
        plan.step(["op": "wait_counts", "queue": "st", "state": "failed", "count": 1, "timeout": 30])
        plan.step(["op": "wait_counts", "queue": "st", "state": "completed", "count": 1, "timeout": 30])
        let counts = plan.counts("st")
        let scheduled = plan.job("st", id: "1")
        let plain = plan.job("st", id: "2")
        let stopped = plan.result(["op": "jobctl_stop"])
        try plan.run(on: steps)
        #expect(stopped.int("status") == 0, "\(stopped)")
        #expect(counts.int("completed") == 1 && counts.int("failed") == 1 && counts.int("active") == 0, "\(counts)")
        #expect(scheduled.state == "completed", "the scheduler's job ran: \(scheduled)")
        #expect(
            plain.state == "failed" && plain.string("failedReason") == "job stalled more than allowable limit",
            "\(plain)")
    }

    @Test(arguments: Backend.live)
    func aMixedFleetCompletesEveryJobExactlyOnce(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let marks = FileManager.default.temporaryDirectory.appendingPathComponent("jobctl-fleet-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: marks) }
        _ = try steps.run([["op": "counts", "queue": "fleet"]])  // the client creates the PostgreSQL schema
        let (jobctl, err) = try Self.start(
            steps,
            ["fleet", "--concurrency", "8", "--exec", "/bin/sh", "-c", #"set -C; : > "$0/$JOBCTL_JOB_ID""#, marks])
        let total = 2000
        let plan = StepPlan()
        plan.steps([
            ["op": "worker_start", "queue": "fleet", "fail": false, "concurrency": 8],
            [
                "op": "add_bulk", "queue": "fleet",
                "jobs": (0..<total).map { ["name": "j", "data": ["i": $0], "opts": [:]] },
            ],
        ])
        let done = plan.result([
            "op": "wait_counts", "queue": "fleet", "state": "completed", "count": total, "timeout": 90,
        ])
        let python = plan.result(["op": "worker_stop", "queue": "fleet"])
        try plan.run(on: steps)
        #expect(done["timed_out"] as? Bool == false, "\(done)")
        let byPython = (python["completed"] as? [Any])?.count ?? 0
        jobctl.terminate()
        jobctl.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(jobctl.terminationStatus == 0, "\(stderr)")
        let counts = try Self.counts(steps, "fleet")
        #expect(
            counts["completed"] as? Int == total && counts["failed"] as? Int == 0 && counts["active"] as? Int == 0,
            "\(counts)")
        // jobctl ran each of its jobs once (a second run of one would have failed on its mark).
        let byJobctl = try FileManager.default.contentsOfDirectory(atPath: marks).count
        #expect(stderr.contains("stopped: \(byJobctl) completed, 0 failed"), "\(stderr)")
        #expect(byJobctl > 0 && byPython > 0 && byJobctl + byPython == total, "jobctl \(byJobctl) + python \(byPython)")
    }
}

/// What the queue says about itself holds for jobctl's worker: pause and the global concurrency.
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct QueueLimitsTests {
    typealias Object = [String: Any]

    @Test(arguments: Backend.live)
    func aPausedQueueGetsNoJobTakenUntilResumed(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        _ = try steps.run([
            ["op": "pause", "queue": "pz"],
            ["op": "add_bulk", "queue": "pz", "jobs": (0..<5).map { ["name": "j", "data": ["i": $0], "opts": [:]] }],
        ])
        let (process, err) = try RunCommandTests.start(steps, ["pz", "--noop"])
        Thread.sleep(forTimeInterval: 2.5)
        let paused = try RunCommandTests.counts(steps, "pz")
        // The Python client on PostgreSQL counts the ready jobs of a paused queue under "paused".
        let ready = (paused["waiting"] as? Int ?? 0) + (paused["paused"] as? Int ?? 0)
        #expect(ready == 5 && paused["completed"] as? Int == 0, "\(paused)")
        _ = try steps.run([["op": "resume", "queue": "pz"]])
        try RunCommandTests.waitFor("every job completed after resume", timeout: 15) {
            (try RunCommandTests.counts(steps, "pz")["completed"] as? Int) == 5
        }
        process.terminate()
        process.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(stderr)")
    }

    @Test(arguments: Backend.live)
    func aBlockedWorkerMakesOnlyAFewServerCalls(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        _ = try steps.run([
            [
                "op": "add_bulk", "queue": "held",
                "jobs": [["name": "j", "data": [:], "opts": [:]], ["name": "j", "data": [:], "opts": [:]]],
            ],
            ["op": "pause", "queue": "paused"],
            ["op": "add", "queue": "paused", "name": "j", "data": [:], "opts": [:]],
        ])
        // Queue "held" is at its global concurrency of 1: another worker holds job 1 (its lock lasts 10 minutes).
        switch backend {
        case .redis:
            let base = "\(steps.namespace):held:"
            try redisRaw([
                ["HSET", base + "meta", "concurrency", "1"],
                ["LMOVE", base + "wait", base + "active", "RIGHT", "LEFT"],
                ["SET", base + "1:lock", "another-worker", "PX", "600000"],
            ])
        case .postgres:
            let schema = "\"\(steps.namespace)\""
            try postgresRaw([
                "INSERT INTO \(schema).meta (queue, field, value) VALUES ('held', 'concurrency', '1')",
                "UPDATE \(schema).job SET state = 'active', lock_token = 'another-worker', locked_until_ms = "
                    + "(extract(epoch FROM now()) * 1000)::bigint + 600000 WHERE queue = 'held' AND id = '1'",
            ])
        }
        for (queue, most) in [("held", 14), ("paused", 4)] {
            let (process, err) = try RunCommandTests.start(steps, [queue, "--noop"])
            Thread.sleep(forTimeInterval: 5)
            process.terminate()
            process.waitUntilExit()
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let calls = stderr.split(separator: ",").last.flatMap { Int($0.split(separator: " ").first ?? "") }
            // held: claims after 0.1, 0.2, 0.4 … 3.2 s and one stalled check; paused: one claim, one long wait.
            #expect(calls.map { $0 <= most } == true, "\(queue): \(stderr)")
            #expect(stderr.contains("stopped: 0 completed"), "\(queue): \(stderr)")
        }
    }

    @Test(arguments: Backend.live)
    func theQueuesGlobalConcurrencyHoldsAcrossTheWorkersSlots(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        _ = try steps.run([
            ["op": "add_bulk", "queue": "gc", "jobs": (0..<4).map { ["name": "j", "data": ["i": $0], "opts": [:]] }]
        ])
        // What BullMQ's Queue.setGlobalConcurrency(1) stores (its Python client on PostgreSQL cannot set it).
        switch backend {
        case .redis: try redisRaw([["HSET", "\(steps.namespace):gc:meta", "concurrency", "1"]])
        case .postgres:
            try postgresRaw([
                "INSERT INTO \"\(steps.namespace)\".meta (queue, field, value) VALUES ('gc', 'concurrency', '1')"
            ])
        }
        let lock = FileManager.default.temporaryDirectory.appendingPathComponent("jobctl-gc-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: lock) }
        // Two jobs running at once would find the lock directory taken and fail.
        let (process, err) = try RunCommandTests.start(
            steps,
            [
                "gc", "--concurrency", "4", "--exec", "/bin/sh", "-c", #"mkdir "$0" || exit 3; sleep 0.3; rmdir "$0""#,
                lock,
            ])
        try RunCommandTests.waitFor("every job completed", timeout: 30) {
            (try RunCommandTests.counts(steps, "gc")["completed"] as? Int) == 4
        }
        process.terminate()
        process.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let counts = try RunCommandTests.counts(steps, "gc")
        #expect(counts["failed"] as? Int == 0 && counts["completed"] as? Int == 4, "\(counts) \(stderr)")
    }
}

/// BullMQ's per-minute metrics, recorded by jobctl's worker exactly where and as the Python worker records them.
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct WorkerMetricsTests {
    typealias Object = [String: Any]

    /// The metrics of a queue from a raw dump: Redis hashes `metrics:<kind>`, Postgres `metrics` rows; the time of
    /// the last data point left out.
    static func metrics(_ dump: Any, queue: String, steps: BullMQSteps) -> [String: Object] {
        var result: [String: Object] = [:]
        let root = dump as? Object ?? [:]
        for kind in ["completed", "failed"] {
            switch steps.backend {
            case .redis:
                var fields =
                    ((root["\(steps.namespace):\(queue):metrics:\(kind)"] as? Object)?["value"] as? Object) ?? [:]
                fields["prevTS"] = fields["prevTS"] == nil ? nil : "set"
                result[kind] = fields
            case .postgres:
                let rows = (root["metrics"] as? [Any] ?? []).compactMap { $0 as? Object }
                var row = rows.first { $0["kind"] as? String == kind } ?? [:]
                row["prev_ts"] = row["prev_ts"] == nil || row["prev_ts"] is NSNull ? nil : "set"
                row["queue"] = nil
                result[kind] = row
            }
        }
        return result
    }

    @Test(arguments: Backend.live)
    func metricsAreRecordedAsThePythonWorkerRecordsThem(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let jobs: [Object] = [
            ["name": "ok", "data": ["n": 1], "opts": [:]], ["name": "ok", "data": ["n": 2], "opts": [:]],
            ["name": "ok", "data": ["n": 3], "opts": [:]], ["name": "bad", "data": ["fail": true], "opts": [:]],
        ]
        let plan = StepPlan()
        plan.steps([
            ["op": "add_bulk", "queue": "py", "jobs": jobs],
            ["op": "worker_start", "queue": "py", "fail": true, "metrics": 10],
            ["op": "wait_counts", "queue": "py", "state": "completed", "count": 3, "timeout": 20],
            ["op": "wait_counts", "queue": "py", "state": "failed", "count": 1, "timeout": 20],
            ["op": "worker_stop", "queue": "py"],
            ["op": "add_bulk", "queue": "cli", "jobs": jobs],
        ])
        let run = plan.jobctl([
            "run-once", "cli", "--metrics", "10", "--exec", "/bin/sh", "-c",
            #"grep -q '"fail": *true' && exit 1; echo 1"#,
        ])
        let pythonDump = plan.result(["op": "dump", "queue": "py"])
        let oursDump = plan.result(["op": "dump", "queue": "cli"])
        try plan.run(on: steps)
        #expect(run.status == 2, "\(run)")
        let python = Self.metrics(pythonDump.raw, queue: "py", steps: steps)
        let ours = Self.metrics(oursDump.raw, queue: "cli", steps: steps)
        #expect(!python.isEmpty && jsonEqual(python, ours), "python \(python) jobctl \(ours)")
    }

    static func object(_ value: Any?) -> Object { value as? Object ?? [:] }
}
