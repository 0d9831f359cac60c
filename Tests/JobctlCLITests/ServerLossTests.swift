import Foundation
import TestSupport
import Testing

/// A server that goes away in the middle of a bulk change: jobctl stops, says how far it got and how to resume, and
/// exits 69; every job is either changed or untouched.
///
/// On a Redis of the test's own (it is killed), with an append-only file synced at every write so that what the server
/// acknowledged survives the kill.
@Suite(
    .serialized,
    .enabled(if: TestEnvironment.redisURL != nil || TestEnvironment.isCI, "needs redis-server (scripts/test.sh)"))
struct ServerLossTests {
    @Test func retryAndDrainStopWhenRedisGoesAwayAndEveryJobIsChangedOrUntouched() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "jobctl-loss-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = Int.random(in: 57_000...57_999)
        func startServer() throws -> Process {
            let server = Process()
            server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            server.arguments = [
                "redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
                "--appendfsync", "always", "--dir", directory,
            ]
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            try server.run()
            return server
        }
        let url = "redis://127.0.0.1:\(port)/0"
        func redis(_ script: String) throws -> String {
            let run = try runProcess(
                TestEnvironment.python, ["-c", "import redis, sys\nr = redis.from_url(sys.argv[1])\n" + script, url])
            #expect(run.status == 0, "\(run.stderr)")
            return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        /// redis-cli: quick enough to poll with; nil while the server does not answer.
        func cli(_ arguments: String...) -> String? {
            guard let run = try? runProcess("/usr/bin/env", ["redis-cli", "-p", String(port)] + arguments),
                run.status == 0,
                !run.stdout.contains("Could not connect")
            else { return nil }
            return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func waitForServer() async throws {
            for _ in 0..<100 {
                if cli("ping") == "PONG" { return }
                try await Task.sleep(nanoseconds: 100_000_000)
            }
        }
        /// Lets jobctl's blocked writes through for 50 ms, then holds them again, until `condition` (Python, on
        /// `waiting`, the wait list's length) says some batches went through. One Python process does it, so that
        /// the window does not depend on how fast a loaded machine starts processes.
        func letSomeBatchesThrough(until condition: String) throws {
            _ = try redis(
                """
                import time
                for _ in range(100):
                    r.execute_command("CLIENT", "UNPAUSE")
                    time.sleep(0.05)
                    r.execute_command("CLIENT", "PAUSE", "600000", "WRITE")
                    waiting = r.llen("bull:q:wait")
                    if \(condition):
                        break
                """)
        }
        var server = try startServer()
        // SIGKILL: the directory goes next, and a Redis that cannot write its append-only file ignores SIGTERM.
        defer {
            if server.isRunning {
                kill(server.processIdentifier, SIGKILL)
                server.waitUntilExit()
            }
        }
        try await waitForServer()
        // 60,000 failed jobs, as BullMQ leaves them.
        _ = try redis(
            """
            p = r.pipeline(transaction=False)
            for i in range(60000):
                p.hset(f"bull:q:{i}", mapping={"name": "n", "data": "{}", "opts": "{}", "timestamp": 1, "atm": 1,
                                               "failedReason": "boom", "finishedOn": 2})
                p.zadd("bull:q:failed", {str(i): 2})
            p.execute()
            """)
        /// Runs jobctl with the server's writes held (reads are not) from before it starts, lets some batches
        /// through, then kills the server; returns how jobctl ended.
        func runKilledMidway(
            _ arguments: [String], until condition: String
        ) throws -> (status: Int32, stdout: String, stderr: String) {
            let jobctl = Process()
            jobctl.executableURL = URL(fileURLWithPath: TestEnvironment.jobctlBinary)
            jobctl.arguments = arguments
            jobctl.environment = TestEnvironment.jobctlEnvironment(["JOBCTL_URL": url])
            let output = Pipe(), errors = Pipe()
            jobctl.standardOutput = output
            jobctl.standardError = errors
            _ = cli("client", "pause", "600000", "write")
            try jobctl.run()
            try letSomeBatchesThrough(until: condition)
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            // Read before waiting: a full pipe would keep jobctl from exiting.
            let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            jobctl.waitUntilExit()
            return (jobctl.terminationStatus, stdout, stderr)
        }
        let retry = try runKilledMidway(["retry", "q", "--yes"], until: "waiting > 0")
        let (stdout, stderr) = (retry.stdout, retry.stderr)
        #expect(retry.status == 69, "\(stdout)\n\(stderr)")
        #expect(
            stderr.contains("the server went away after") && stderr.contains("run the same command again"), "\(stderr)")
        #expect(stderr.contains("127.0.0.1:\(port)"), "the message names the server: \(stderr)")
        #expect(stdout.contains("of 60000 matched"), "the summary says how far it got: \(stdout)")

        // Back up from its append-only file: every job is in wait (retried) or in failed (untouched), never both.
        server = try startServer()
        try await waitForServer()
        let state = try redis(
            """
            waiting = set(r.lrange('bull:q:wait', 0, -1)); failed = set(r.zrange('bull:q:failed', 0, -1))
            print(len(waiting), len(failed), len(waiting & failed), len(waiting | failed))
            """
        ).split(separator: " ").compactMap { Int($0) }
        #expect(
            state.count == 4 && state[0] > 0 && state[1] > 0 && state[2] == 0 && state[3] == 60_000,
            "wait, failed, both, all: \(state)")
        // The resume hint works: the same command retries the rest.
        let again = try TestEnvironment.jobctl(["retry", "q", "--yes"], environment: ["JOBCTL_URL": url])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try redis("print(r.llen('bull:q:wait'), r.zcard('bull:q:failed'))") == "60000 0")

        // The same for drain: killed in the middle, every job is either still waiting (with its hash) or gone.
        let drain = try runKilledMidway(["drain", "q", "--yes"], until: "waiting < 60000")
        let drainStderr = drain.stderr
        #expect(drain.status == 69 && drainStderr.contains("the server went away after"), "\(drainStderr)")
        server = try startServer()
        try await waitForServer()
        let left = try redis(
            """
            waiting = r.lrange('bull:q:wait', 0, -1)
            hashes = sum(1 for _ in r.scan_iter('bull:q:[0-9]*', count=10000))
            print(len(waiting), hashes, sum(r.exists(f'bull:q:{i.decode()}') for i in waiting))
            """
        ).split(separator: " ").compactMap { Int($0) }
        #expect(
            left.count == 3 && left[0] > 0 && left[0] < 60_000 && left[1] == left[0] && left[2] == left[0],
            "waiting, job hashes, waiting with a hash: \(left)")
    }
}
