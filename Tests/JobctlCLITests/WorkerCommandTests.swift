import Foundation
import Testing
import TestSupport

/// `run-once` against the real Python `bullmq` on both backends: jobs the client added are run by jobctl, and the
/// client sees them completed, retried with their backoff and failed, as its own worker would leave them.
@Suite(.serialized, .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct WorkerCommandTests {
    typealias Object = [String: Any]
    static func object(_ value: Any?) -> Object { value as? Object ?? [:] }
    static func count(_ counts: Any?, _ state: String) -> Int { (object(counts)[state] as? NSNumber)?.intValue ?? -1 }

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
        let results = try steps.run([
            ["op": "add", "queue": "w", "name": "dbl", "data": ["n": 1], "opts": [:]],
            ["op": "add", "queue": "w", "name": "dbl", "data": ["n": 2], "opts": ["priority": 3]],
            ["op": "add", "queue": "w", "name": "dbl", "data": ["n": 3], "opts": ["removeOnComplete": true]],
            ["op": "add", "queue": "w", "name": "dbl", "data": ["n": 4], "opts": ["lifo": true]],
            ["op": "jobctl", "args": ["run-once", "w", "--concurrency", "3", "--json"] + Self.handler],
            ["op": "job", "queue": "w", "id": "1"], ["op": "job", "queue": "w", "id": "2"], ["op": "job", "queue": "w", "id": "3"],
            ["op": "counts", "queue": "w"],
            ["op": "jobctl", "args": ["run-once", "w", "--json"] + Self.handler],
        ])
        let run = Self.object(results[4])
        #expect(run["status"] as? Int == 0, "\(run)")
        let summary = try parseJSONObject(run["stdout"] as? String ?? "")
        #expect(summary["processed"] as? Int == 4 && summary["completed"] as? Int == 4)
        for (index, n) in [(5, 1), (6, 2)] {
            let job = Self.object(results[index])
            #expect(job["state"] as? String == "completed", "\(job)")
            #expect(jsonEqual(job["returnvalue"], ["double": n * 2, "id": job["id"] as? String ?? ""]), "\(job)")
            #expect((job["attemptsMade"] as? NSNumber)?.intValue == 1 && job["finishedOn"] is NSNumber && job["processedOn"] is NSNumber)
        }
        #expect(results[7] is NSNull, "removeOnComplete: true removes the job")
        #expect(Self.count(results[8], "completed") == 3 && Self.count(results[8], "waiting") == 0 && Self.count(results[8], "active") == 0)
        let idle = Self.object(results[9])
        #expect(try idle["status"] as? Int == 0 && (parseJSONObject(idle["stdout"] as? String ?? ""))["processed"] as? Int == 0)
    }

    @Test(arguments: Backend.live)
    func aFailingHandlerIsRetriedWithTheJobsBackoffThenFails(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let results = try steps.run([
            ["op": "add", "queue": "f", "name": "flaky", "data": ["fail": true], "opts": ["attempts": 3, "backoff": ["type": "exponential", "delay": 400]]],
            ["op": "add", "queue": "f", "name": "final", "data": ["bad": true], "opts": ["attempts": 5]],
            ["op": "add", "queue": "f", "name": "now", "data": ["fail": true], "opts": ["attempts": 2]],
            ["op": "jobctl", "args": ["run-once", "f"] + Self.handler],
            ["op": "job", "queue": "f", "id": "1"], ["op": "job", "queue": "f", "id": "2"], ["op": "job", "queue": "f", "id": "3"],
            ["op": "sleep", "seconds": 0.5],
            ["op": "jobctl", "args": ["run-once", "f"] + Self.handler],
            ["op": "job", "queue": "f", "id": "1"],
            ["op": "sleep", "seconds": 0.9],
            ["op": "jobctl", "args": ["run-once", "f"] + Self.handler],
            ["op": "job", "queue": "f", "id": "1"],
            ["op": "counts", "queue": "f"],
        ])
        let first = Self.object(results[3])
        #expect(first["status"] as? Int == 2, "\(first)")
        #expect((first["stderr"] as? String ?? "").contains("job 1: boom 0"), "handler output is logged with the job id")
        let delayed = Self.object(results[4])
        #expect(delayed["state"] as? String == "delayed" && (delayed["attemptsMade"] as? NSNumber)?.intValue == 1, "\(delayed)")
        #expect(delayed["failedReason"] as? String == "boom 0" && (delayed["delay"] as? NSNumber)?.intValue == 400)
        let final = Self.object(results[5])
        #expect(final["state"] as? String == "failed" && final["failedReason"] as? String == "bad input", "exit 65 skips the attempts left: \(final)")
        // attempts 2 and no backoff: the second attempt ran in the same run, then it failed for good.
        let now = Self.object(results[6])
        #expect(now["state"] as? String == "failed" && (now["attemptsMade"] as? NSNumber)?.intValue == 2 && now["failedReason"] as? String == "boom 1", "\(now)")
        let second = Self.object(results[9])
        #expect(second["state"] as? String == "delayed" && (second["delay"] as? NSNumber)?.intValue == 800, "exponential: \(second)")
        let last = Self.object(results[12])
        #expect(last["state"] as? String == "failed" && (last["attemptsMade"] as? NSNumber)?.intValue == 3 && last["failedReason"] as? String == "boom 2", "\(last)")
        #expect(Self.count(results[13], "failed") == 3 && Self.count(results[13], "active") == 0)
    }

    @Test(arguments: Backend.live)
    func overlappingRunsAndABullMQWorkerRunEveryJobExactlyOnce(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let marks = FileManager.default.temporaryDirectory.appendingPathComponent("jobctl-once-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: marks) }
        // Each run creates a file named after the job, exclusively: a job run twice fails the second time.
        let once = ["--exec", TestEnvironment.python, "-c", "import json, sys; open(sys.argv[1] + '/' + json.load(sys.stdin)['id'], 'x'); print(1)", marks]
        let total = 400
        let results = try steps.run([
            ["op": "add_bulk", "queue": "m", "jobs": (0..<total).map { ["name": "j", "data": ["i": $0], "opts": [:]] }],
            ["op": "worker_start", "queue": "m", "fail": false, "concurrency": 5],
            ["op": "jobctl_many", "runs": [
                ["run-once", "m", "--concurrency", "8", "--json"] + once, ["run-once", "m", "--concurrency", "8", "--json"] + once,
            ]],
            ["op": "wait_until", "queue": "m", "completed": 1, "timeout": 5],
            ["op": "worker_stop", "queue": "m"],
            ["op": "counts", "queue": "m"],
        ])
        let runs = (Self.object(results[2])["results"] as? [Any] ?? []).map(Self.object)
        #expect(runs.count == 2)
        var byJobctl = 0
        for run in runs {
            #expect(run["status"] as? Int == 0, "\(run)")
            let summary = (try? parseJSONObject(run["stdout"] as? String ?? "")) ?? [:]
            #expect(summary["failed"] as? Int == 0)
            byJobctl += summary["completed"] as? Int ?? 0
        }
        let byPython = (Self.object(results[4])["completed"] as? [Any])?.count ?? 0
        #expect(byJobctl + byPython == total, "jobctl \(byJobctl) + python \(byPython)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: marks).count == byJobctl)
        #expect(Self.count(results[5], "completed") == total && Self.count(results[5], "failed") == 0)
    }

    @Test(arguments: Backend.live)
    func pausedQueuesDisabledWorkersAndBadCommands(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let results = try steps.run([
            ["op": "add", "queue": "p", "name": "x", "data": ["n": 1], "opts": [:]],
            ["op": "pause", "queue": "p"],
            ["op": "jobctl", "args": ["run-once", "p"] + Self.handler],
            ["op": "jobctl", "args": ["run-once", "p", "--noop"], "env": ["JOBCTL_DISABLE_WORKERS": "true"]],
            ["op": "jobctl", "args": ["run-once", "p", "--noop"], "env": ["DISABLE_BACKGROUND_WORKERS": "true"]],
            ["op": "jobctl", "args": ["run-once", "p"]],
            ["op": "jobctl", "args": ["run-once", "p", "--noop", "--exec", "true"]],
            ["op": "jobctl", "args": ["run-once", "p", "--noop", "--concurrency", "0"]],
            ["op": "resume", "queue": "p"],
            ["op": "jobctl", "args": ["run-once", "p", "--exec", "/no/such/handler"]],
            ["op": "job", "queue": "p", "id": "1"],
        ])
        let paused = Self.object(results[2])
        #expect(paused["status"] as? Int == 75 && (paused["stderr"] as? String ?? "").contains("is paused"), "\(paused)")
        for index in [3, 4] {
            let disabled = Self.object(results[index])
            #expect(disabled["status"] as? Int == 0 && (disabled["stderr"] as? String ?? "").contains("workers are disabled"), "\(disabled)")
        }
        for index in [5, 6, 7] {
            #expect(Self.object(results[index])["status"] as? Int == 64, "\(results[index])")
        }
        #expect(Self.object(results[9])["status"] as? Int == 2)
        let job = Self.object(results[10])
        #expect(job["state"] as? String == "failed" && (job["failedReason"] as? String ?? "").contains("could not start /no/such/handler"), "\(job)")
    }
}
