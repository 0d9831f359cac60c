import Foundation
import TestSupport
import Testing

/// Redis behind Sentinel (`redis-sentinel://…?master=jobctl-master`, `scripts/services.sh`: a master, a replica and
/// three sentinels), with the real Python client on whichever server is the master.
@Suite(
    .serialized,
    .enabled(if: TestEnvironment.runsSentinelTests, "set JOBCTL_TEST_REDIS_SENTINEL_URL (scripts/test.sh does)"))
struct SentinelTests {
    typealias Object = [String: Any]

    /// `host:port` of the master, as the first sentinel that answers names it.
    static func master() throws -> String {
        let (url, _) = try TestEnvironment.requireSentinel()
        let hosts = url.split(separator: "//")[1].split(separator: "/")[0].split(separator: ",").map(String.init)
        let script = """
            import sys, redis
            for node in sys.argv[1:]:
                host, port = node.rsplit(":", 1)
                try:
                    answer = redis.Redis(host=host, port=int(port), decode_responses=True).execute_command(
                        "SENTINEL", "get-master-addr-by-name", "jobctl-master")
                    print(f"{answer[0]}:{answer[1]}")
                    break
                except Exception:
                    continue
            """
        let result = try runProcess(TestEnvironment.python, ["-c", script] + hosts)
        let master = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0, !master.isEmpty else {
            throw MissingServiceError(description: "no sentinel named the master: \(result.stderr)")
        }
        return master
    }

    @Test func countsThroughSentinelEqualTheClients() throws {
        let (url, _) = try TestEnvironment.requireSentinel()
        let steps = try BullMQSteps(on: .redis, url: "redis://\(try Self.master())/0")
        let plan = StepPlan()
        plan.step([
            "op": "add_bulk", "queue": "mail", "jobs": (0..<5).map { ["name": "send", "data": ["n": $0]] as Object },
        ])
        plan.step(["op": "add", "queue": "mail", "name": "later", "data": [:] as Object, "opts": ["delay": 60_000]])
        let counts = plan.counts("mail")
        let stats = plan.jobctl(["stats", "mail", "-o", "json"], environment: ["JOBCTL_URL": url])
        try plan.run(on: steps)
        #expect(stats.status == 0, "\(stats)")
        let ours = try #require(try stats.json()["counts"] as? Object)
        for state in ["waiting", "delayed", "active", "completed", "failed"] {
            #expect(jsonEqual(ours[state], counts[state]), "\(state): jobctl \(ours[state] ?? "nil"), client \(counts)")
        }
    }

    @Test func aWorkerRidesThroughAFailoverAndRunOnceWorksTheNewMaster() throws {
        let (url, nodes) = try TestEnvironment.requireSentinel()
        let sentinel = "redis://" + url.split(separator: "//")[1].split(separator: "/")[0].split(separator: ",")[0]
        let before = try Self.master()
        let steps = try BullMQSteps(on: .redis, url: "redis://\(before)/0")
        let jobs = 2000
        let plan = StepPlan()
        for first in stride(from: 0, to: jobs, by: 500) {
            plan.step([
                "op": "add_bulk", "queue": "mail",
                "jobs": (first..<first + 500).map { ["name": "send", "data": ["n": $0]] as Object },
            ])
        }
        // Keep the events of every completion, to count them.
        plan.step(["op": "raw", "redis": [["HSET", "{prefix}:mail:meta", "opts.maxLenEvents", "100000"]]])
        plan.step([
            "op": "jobctl_start", "env": ["JOBCTL_URL": url], "until": "wake-ups:",
            "args": [
                "run", "mail", "--noop", "--limiter", "200/1s", "--lock-duration", "5s", "--stalled-interval", "2s",
            ],
        ])
        plan.step(["op": "wait_counts", "queue": "mail", "state": "completed", "count": 200, "timeout": 60])
        let failover = plan.result([
            "op": "redis_command", "url": sentinel, "args": ["SENTINEL", "FAILOVER", "jobctl-master"],
        ])
        // The old master becomes a replica of the new one, so the client's reads there see the new master's data.
        let done = plan.result([
            "op": "wait_counts", "queue": "mail", "state": "completed", "count": jobs, "timeout": 180,
        ])
        let stopped = plan.result(["op": "jobctl_stop"])
        try plan.run(on: steps)
        #expect(failover["reply"] as? String == "OK" || failover["reply"] as? Bool == true, "\(failover)")
        #expect(done["timed_out"] as? Bool == false, "\(done)")
        let log = stopped.string("stderr") ?? ""
        #expect(stopped.int("status") == 0 && log.contains("a failover; reconnected"), "\(log)")

        let after = try Self.master()
        #expect(after != before && nodes.contains(after), "the sentinels switched the master: \(before) -> \(after)")
        let completions = try completedEventsPerJob(
            url: "redis://\(after)/0", streamKey: "\(steps.namespace):mail:events")
        #expect(completions.count == jobs, "every job completed: \(completions.count) of \(jobs)")
        #expect(completions.values.allSatisfy { $0 == 1 }, "none twice: \(completions.filter { $0.value > 1 })")

        // run-once after the failover works the new master.
        var onNewMaster = try BullMQSteps(on: .redis, url: "redis://\(after)/0")
        onNewMaster.namespace = steps.namespace
        let next = StepPlan()
        next.step([
            "op": "add_bulk", "queue": "later", "jobs": (0..<10).map { ["name": "send", "data": ["n": $0]] as Object },
        ])
        let once = next.jobctl(["run-once", "later", "--noop", "-o", "json"], environment: ["JOBCTL_URL": url])
        let counts = next.counts("later")
        try next.run(on: onNewMaster)
        #expect(once.status == 0 && counts.int("completed") == 10, "\(once) \(counts)")
    }

    @Test func badSentinelInputSaysWhat() throws {
        let (url, nodes) = try TestEnvironment.requireSentinel()
        let sentinels = url.split(separator: "//")[1].split(separator: "/")[0]
        let malformed = try TestEnvironment.jobctl(
            ["status"], environment: ["JOBCTL_URL": "redis-sentinel://\(sentinels)/0"])
        #expect(malformed.status == 64 && malformed.stderr.contains("?master=NAME"), "\(malformed)")
        let badPort = try TestEnvironment.jobctl(
            ["status"], environment: ["JOBCTL_URL": "redis-sentinel://127.0.0.1:99999/0?master=x"])
        #expect(badPort.status == 64, "\(badPort)")
        let nobody = try TestEnvironment.jobctl(
            ["status", "--connect-timeout", "1s"],
            environment: ["JOBCTL_URL": "redis-sentinel://127.0.0.1:1,127.0.0.1:2/0?master=jobctl-master"])
        #expect(nobody.status == 69 && nobody.stderr.contains("no sentinel answered"), "\(nobody)")
        let unknown = try TestEnvironment.jobctl(
            ["status"], environment: ["JOBCTL_URL": "redis-sentinel://\(sentinels)/0?master=nosuch"])
        #expect(
            unknown.status == 1 && unknown.stderr.contains("no sentinel knows a master named 'nosuch'"), "\(unknown)")

        // A sentinel that names a replica (a fake one, answering with whichever server is not the master).
        let master = try Self.master()
        let replica = try #require(nodes.first { $0 != master })
        let fake = """
            import asyncio, sys
            host, port = sys.argv[1].rsplit(":", 1)
            async def serve(reader, writer):
                while line := await reader.readline():
                    if line.startswith(b"*"):
                        parts = []
                        for _ in range(int(line[1:])):
                            await reader.readline()
                            parts.append((await reader.readline()).strip())
                        if parts[0].upper() == b"SENTINEL":
                            answer = f"*2\\r\\n${len(host)}\\r\\n{host}\\r\\n${len(port)}\\r\\n{port}\\r\\n"
                        else:
                            answer = "+PONG\\r\\n"
                        writer.write(answer.encode())
                        await writer.drain()
            async def main():
                server = await asyncio.start_server(serve, "127.0.0.1", 0)
                print(server.sockets[0].getsockname()[1], flush=True)
                await server.serve_forever()
            asyncio.run(main())
            """
        let process = try BackgroundProcess(
            TestEnvironment.python, ["-c", fake, replica], environment: TestEnvironment.variables)
        var port = ""
        for _ in 0..<600 where port.isEmpty {  // up to 30 s for Python to start
            port = process.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if port.isEmpty { Thread.sleep(forTimeInterval: 0.05) }
        }
        let liar = try TestEnvironment.jobctl(
            ["status"], environment: ["JOBCTL_URL": "redis-sentinel://127.0.0.1:\(port)/0?master=jobctl-master"])
        withExtendedLifetime(process) {}  // terminated when it goes
        #expect(liar.status == 69 && liar.stderr.contains("it says it is a slave"), "\(liar)")
    }
}
