import Foundation
import TestSupport
import Testing

/// Handlers cannot harm jobctl or the machine through it: job data never reaches a shell, output beyond the caps is
/// dropped without growing jobctl's memory, a timeout kills everything the handler started, and a long run leaks
/// neither descriptors nor zombies.
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct HandlerSafetyTests {
    typealias Object = [String: Any]
    static func object(_ value: Any?) -> Object { value as? Object ?? [:] }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jobctl-safety-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Names and data full of shell syntax reach `--exec` and `--serve` handlers byte for byte (stdin and
    /// JOBCTL_JOB_NAME), and none of it runs: the files it would create do not appear.
    @Test(arguments: Backend.live)
    func jobDataNeverReachesAShell(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trap = "\(directory)/pwned"
        let hostile = [
            "$(touch \(trap)-1)", "`touch \(trap)-2`", "; touch \(trap)-3", "' ; touch \(trap)-4 ; '",
            "\" && touch \(trap)-5 \"",
            "line one\ntouch \(trap)-6\n", "| touch \(trap)-7", "$HOME ${PATH} %s %n \\ \\\\",
        ]
        // Each handler writes what it received (stdin's data and name, and its environment's job name) to a file
        // named after the job id.
        let record = """
            import json, os, sys
            def record(job, directory):
                with open(os.path.join(directory, job["id"] + ".json"), "w") as f:
                    json.dump({"data": job["data"], "name": job["name"], "env": os.environ.get("JOBCTL_JOB_NAME")}, f)
            """
        let exec = [
            "--exec", TestEnvironment.python, "-c", record + "\nrecord(json.load(sys.stdin), sys.argv[1])\nprint('{}')",
            directory,
        ]
        let serve = [
            "--serve", TestEnvironment.python, "-c",
            record
                + "\nfor line in sys.stdin:\n    job = json.loads(line)\n    record(job, sys.argv[1])\n    "
                + "print(json.dumps({'id': job['id'], 'ok': True, 'value': None}), flush=True)",
            directory + "/serve",
        ]
        try FileManager.default.createDirectory(atPath: directory + "/serve", withIntermediateDirectories: true)
        let jobs: [[String: Any]] = hostile.enumerated().map { index, text in
            ["name": text, "data": ["text": text, "list": [text, index]], "opts": ["jobId": "hostile-\(index)"]]
        }
        let plan = StepPlan()
        plan.step(["op": "add_bulk", "queue": "sh", "jobs": jobs])
        let execRun = plan.jobctl(["run-once", "sh"] + exec)
        plan.step(["op": "add_bulk", "queue": "sh2", "jobs": jobs])
        let serveRun = plan.jobctl(["run-once", "sh2"] + serve)
        try plan.run(on: steps)
        for run in [execRun, serveRun] { #expect(run.status == 0, "\(run)") }
        for (subdirectory, handler) in [("", "exec"), ("/serve", "serve")] {
            for (index, text) in hostile.enumerated() {
                let path = "\(directory)\(subdirectory)/hostile-\(index).json"
                let seen = try parseJSONObject(String(contentsOfFile: path, encoding: .utf8))
                #expect(jsonEqual(seen["data"], ["text": text, "list": [text, index]]), "\(handler): \(seen)")
                #expect(seen["name"] as? String == text, "\(handler): \(seen)")
                if handler == "exec" { #expect(seen["env"] as? String == text, "JOBCTL_JOB_NAME verbatim: \(seen)") }
            }
        }
        let created = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("pwned") }
        #expect(created.isEmpty, "nothing in the data ran: \(created)")
    }

    /// A handler that prints far more than the caps (64 MiB on stdout, 64 MiB on stderr): the job completes with a
    /// return value cut to 1 MiB, and jobctl's memory stays small.
    ///
    /// A `--serve` handler that answers with a line longer than its cap fails that job and is replaced.
    @Test(arguments: Backend.live)
    func floodsOfOutputAreCutWithoutGrowingJobctl(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let flood = """
            import os, sys
            chunk = b"x" * (1 << 20)
            for _ in range(64):
                os.write(1, chunk)
                os.write(2, chunk)
            """
        let longLine = """
            import json, sys
            for line in sys.stdin:
                job = json.loads(line)
                if job["data"].get("flood"):
                    sys.stdout.write('{"id": "' + job["id"] + '", "ok": true, "value": "' + "y" * (8 << 20) + '"}\\n')
                else:
                    sys.stdout.write(json.dumps({"id": job["id"], "ok": True, "value": 1}) + "\\n")
                sys.stdout.flush()
            """
        let plan = StepPlan()
        plan.step(["op": "add", "queue": "fl", "name": "flood", "data": [:], "opts": ["jobId": "flood-1"]])
        let run = plan.jobctl(["run-once", "fl", "--exec", TestEnvironment.python, "-c", flood], timeout: 120)
        let raw = plan.result(["op": "raw_job", "queue": "fl", "id": "flood-1"])
        plan.steps([
            ["op": "add", "queue": "fl2", "name": "flood", "data": ["flood": true], "opts": ["jobId": "long-1"]],
            ["op": "add", "queue": "fl2", "name": "fine", "data": [:], "opts": ["jobId": "fine-1"]],
        ])
        _ = plan.jobctl(
            ["run-once", "fl2", "--concurrency", "1", "--serve", TestEnvironment.python, "-c", longLine], timeout: 120)
        let long = plan.job("fl2", id: "long-1")
        let fine = plan.job("fl2", id: "fine-1")
        try plan.run(on: steps)
        #expect(run.status == 0, "\(run.stderr)")
        let maxRSS = run.int("children_maxrss_kb") ?? Int.max
        #expect(
            maxRSS < 64 * 1024,
            "jobctl (and its handler) stayed under 64 MiB resident while 128 MiB went through: \(maxRSS) KiB")
        let stored = raw.string("returnvalue") ?? raw.string("return_value") ?? ""
        #expect(
            stored.count > 1 << 19 && stored.count <= (1 << 20) + 16,
            "the return value is cut to 1 MiB: \(stored.count) bytes")
        #expect(
            long.state == "failed" && (long.string("failedReason") ?? "").contains("result line longer than"), "\(long)"
        )
        #expect(fine.state == "completed", "the next job runs on a new process: \(fine)")
    }

    /// `--job-timeout` kills the handler's whole process group: a grandchild it left running is gone too, with
    /// `--exec` and with `--serve`.
    @Test(arguments: Backend.live)
    func aTimeoutKillsEverythingTheHandlerStarted(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Starts a grandchild that would live 60 s, records its pid, then hangs.
        let spawner = """
            import subprocess, sys, time
            child = subprocess.Popen(["sleep", "60"])
            open(sys.argv[1], "w").write(str(child.pid))
            time.sleep(60)
            """
        let plan = StepPlan()
        plan.step(["op": "add", "queue": "to", "name": "hang", "data": [:], "opts": ["jobId": "hang-1"]])
        _ = plan.jobctl([
            "run-once", "to", "--job-timeout", "1s", "--exec", TestEnvironment.python, "-c", spawner,
            directory + "/exec.pid",
        ])
        plan.step(["op": "add", "queue": "to2", "name": "hang", "data": [:], "opts": ["jobId": "hang-2"]])
        _ = plan.jobctl([
            "run-once", "to2", "--job-timeout", "1s", "--serve", TestEnvironment.python, "-c",
            "import sys\nsys.stdin.readline()\n" + spawner, directory + "/serve.pid",
        ])
        let jobs = [plan.job("to", id: "hang-1"), plan.job("to2", id: "hang-2")]
        try plan.run(on: steps)
        for job in jobs {
            #expect(
                job.state == "failed" && (job.string("failedReason") ?? "").hasPrefix("timed out after 1s"), "\(job)")
        }
        for name in ["exec.pid", "serve.pid"] {
            let pid = Int32(try String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)) ?? 0
            #expect(pid > 0)
            // Gone, or at most a zombie waiting for init to reap it (the kill may take a moment to land: up to 10 s).
            func state() -> Substring? {
                (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.split(separator: " ").dropFirst(2)
                    .first
            }
            for _ in 0..<100 where !(state() == nil || state() == "Z") { Thread.sleep(forTimeInterval: 0.1) }
            #expect(
                state() == nil || state() == "Z",
                "the grandchild \(pid) of the \(name) handler still runs (state \(state() ?? "?"))")
        }
    }

    /// 10,000 jobs through `jobctl run --exec`: its open descriptors are the same before and after, and it leaves
    /// no zombie child.
    @Test(arguments: Backend.live)
    func aLongRunLeaksNoDescriptorsAndNoZombies(_ backend: Backend) async throws {
        let steps = try BullMQSteps(on: backend)
        // The client creates the queue (and on Postgres the schema) first.
        _ = try steps.run([["op": "add_bulk", "queue": "leak", "jobs": (0..<200).map { _ in ["name": "t"] }]])
        let (worker, _) = try RunCommandTests.start(steps, ["leak", "--concurrency", "16", "--exec", "/bin/true"])
        defer { if worker.isRunning { worker.terminate() } }
        let pid = worker.processIdentifier
        func descriptors() -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
        }
        func zombies() -> [String] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.filter { Int($0) != nil }.compactMap { entry in
                guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                    let close = stat.lastIndex(of: ")")
                else { return nil }
                let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
                return fields.count > 1 && fields[1] == "\(pid)" && fields[0] == "Z" ? entry : nil
            }
        }
        let warmUp = try steps.run([
            ["op": "wait_counts", "queue": "leak", "state": "completed", "count": 200, "timeout": 60]
        ])
        try #require(Self.object(warmUp[0])["timed_out"] as? Bool == false, "\(warmUp[0])")
        // The worker's descriptors once they stop changing (it may still be finishing its last batch).
        func settled(at target: Int? = nil) async throws -> Int {
            var last = descriptors()
            var steady = 0
            for _ in 0..<200 where steady < 3 && last != target {
                try await Task.sleep(nanoseconds: 50_000_000)
                let now = descriptors()
                steady = now == last ? steady + 1 : 0
                last = now
            }
            return last
        }
        let before = try await settled()
        var plan: [[String: Any]] = []
        for _ in 0..<10 {
            plan.append(["op": "add_bulk", "queue": "leak", "jobs": (0..<1000).map { _ in ["name": "t"] }])
        }
        plan.append(["op": "wait_counts", "queue": "leak", "state": "completed", "count": 10_200, "timeout": 300])
        let run = try steps.run(plan)
        #expect(Self.object(run.last)["timed_out"] as? Bool == false, "\(run.last ?? "")")
        let after = try await settled(at: before)
        #expect(before > 0 && after == before, "open descriptors: \(before) after 200 jobs, \(after) after 10,200")
        #expect(zombies().isEmpty, "zombie children: \(zombies())")
        worker.interrupt()
        worker.waitUntilExit()
        #expect(worker.terminationStatus == 0)
    }
}
