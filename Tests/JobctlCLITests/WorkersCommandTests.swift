import Foundation
import TestSupport
import Testing

/// `jobctl workers`, the WORKERS of status and stats, and jobctl's own workers as BullMQ's tools see them, against
/// the real Python client on both backends.
@Suite(
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct WorkersCommandTests {
    typealias Object = [String: Any]

    static func rows(_ run: CommandRun) throws -> [Object] {
        try #require(try run.json()["workers"] as? [Object])
    }

    @Test(arguments: Backend.live)
    func pythonAndJobctlWorkersAreListedByEachOther(_ backend: Backend) async throws {
        let steps = try BullMQSteps(on: backend)
        let queue = "mail"
        let plan = StepPlan()
        plan.step(["op": "add", "queue": queue, "name": "send", "data": [:] as Object])
        plan.step(["op": "worker_start", "queue": queue, "name": "py-one"])
        let started = plan.result([
            "op": "jobctl_start", "args": ["run", queue, "--noop"], "until": "working queue",
        ])
        let listed = plan.jobctl(["workers", queue, "-o", "json"])
        let clientView = plan.result(["op": "get_workers", "queue": queue])
        let check = plan.jobctl(["status", queue, "--check", "workers>=1", "-o", "json"])
        let stats = plan.jobctl(["stats", queue, "-o", "json"])
        let prometheus = plan.jobctl(["status", queue, "-o", "prometheus"])
        let stopped = plan.result(["op": "jobctl_stop"])
        plan.step(["op": "worker_stop", "queue": queue])
        // A job jobctl ran names the worker in processedBy, as BullMQ's workers do.
        plan.step(["op": "add", "queue": "nightly", "name": "sync", "data": [:] as Object])
        let once = plan.jobctl(["run-once", "nightly", "--noop", "--name", "cron-one"])
        let stored = plan.result(["op": "raw_job", "queue": "nightly", "id": "1"])
        try plan.run(on: steps)
        #expect(once.status == 0, "\(once)")
        #expect(stored.string(backend == .redis ? "pb" : "processed_by") == "cron-one", "\(stored)")

        #expect(listed.status == 0, "\(listed)")
        let workers = try Self.rows(listed)
        let pid = try #require(started.int("pid"))
        let python = workers.first { $0["name"] as? String == "py-one" }
        #expect(python?["client"] as? String == "python" && python?["queue"] as? String == queue, "\(workers)")
        let ours = workers.first { ($0["name"] as? String)?.hasSuffix("-\(pid)") == true }
        let ourName = try #require(ours?["name"] as? String, "jobctl's default name ends with its pid: \(workers)")
        #expect(ourName.hasPrefix("jobctl-") && ours?["client"] as? String == "jobctl", "\(workers)")
        #expect(workers.count == 2, "\(workers)")
        let rawNames = clientView["rawnames"] as? [String] ?? []
        #expect(rawNames.contains("\(steps.namespace):\(queue):w:\(ourName)"), "get_workers(): \(rawNames)")
        #expect(rawNames.contains("\(steps.namespace):\(queue):w:py-one"), "get_workers(): \(rawNames)")

        #expect(check.status == 0, "\(check)")
        let row = try #require((try check.json()["queues"] as? [Object])?.first)
        #expect((row["workers"] as? NSNumber)?.intValue == 2)
        #expect((try stats.json()["workers"] as? NSNumber)?.intValue == 2, "\(stats)")
        #expect(prometheus.stdout.contains("jobctl_queue_workers{queue=\"\(queue)\"} 2"), "\(prometheus.stdout)")
        #expect(stopped.int("status") == 0, "\(stopped)")

        // Both gone: none listed (a closed session may take a moment to leave the server's list).
        var after: [Object] = []
        for _ in 0..<150 {
            let run = try steps.jobctl(["workers", queue, "-o", "json"])
            after = try #require(try parseJSONObject(run.stdout)["workers"] as? [Object], "\(run)")
            if after.isEmpty { break }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        #expect(after.isEmpty, "\(after)")
        let none = try steps.jobctl(["status", queue, "--check", "workers>=1"])
        #expect(none.status == 2 && none.stderr.contains("workers>=1 (found 0)"), "\(none)")
    }

    @Test(.enabled(if: Backend.redis.isLive))
    func nodeNamingIsRecognised() throws {
        let steps = try BullMQSteps(on: .redis)
        let queue = "mail"
        let encoded = Data(queue.utf8).base64EncodedString()
        let plan = StepPlan()
        plan.step(["op": "add", "queue": queue, "name": "send", "data": [:] as Object])
        plan.steps([
            ["op": "name_connection", "name": "{prefix}:\(encoded):w:node-one"],
            ["op": "name_connection", "name": "{prefix}:\(encoded)"],
            ["op": "name_connection", "name": "{prefix}:\(encoded):qe"],
        ])
        let listed = plan.jobctl(["workers", "-o", "json"])
        let table = plan.jobctl(["workers"])
        try plan.run(on: steps)

        #expect(listed.status == 0, "\(listed)")
        let workers = try Self.rows(listed)
        #expect(workers.count == 2, "a named and an unnamed Node worker; QueueEvents is none: \(workers)")
        #expect(workers.allSatisfy { $0["queue"] as? String == queue && $0["client"] as? String == "node" })
        #expect(workers.contains { $0["name"] as? String == "node-one" })
        #expect(workers.contains { $0["name"] is NSNull })
        #expect(table.stdout.contains("node-one") && table.stdout.contains("(unnamed)"), "\(table.stdout)")
    }

    @Test(.enabled(if: Backend.redis.isLive))
    func aUserWithoutClientListGetsAClearErrorAndStatusStillWorks() throws {
        let steps = try BullMQSteps(on: .redis)
        let user = "jc-\(steps.namespace)"
        let password = "pw-\(UUID().uuidString.prefix(8))"
        try redisRaw([["ACL", "SETUSER", user, "on", ">\(password)", "~*", "&*", "+@all", "-client|list"]])
        defer { try? redisRaw([["ACL", "DELUSER", user]]) }
        var url = try #require(URLComponents(string: steps.url))
        (url.user, url.password) = (user, password)
        let environment = ["JOBCTL_URL": try #require(url.string)]
        let plan = StepPlan()
        plan.step(["op": "add", "queue": "mail", "name": "send", "data": [:] as Object])
        let workers = plan.jobctl(["workers"], environment: environment)
        let status = plan.jobctl(["status", "mail"], environment: environment)
        let check = plan.jobctl(["status", "mail", "--check", "workers>=1"], environment: environment)
        try plan.run(on: steps)

        #expect(workers.status == 1 && workers.stdout.isEmpty, "\(workers)")
        #expect(workers.stderr.contains("refuses CLIENT LIST") && workers.stderr.contains("NOPERM"), "\(workers)")
        #expect(workers.stderr.contains("+client|list"), "says what to grant: \(workers.stderr)")
        #expect(status.status == 0 && status.stdout.contains("WORKERS"), "\(status)")
        #expect(status.stderr.contains("workers unknown"), "\(status)")
        #expect(check.status == 2 && check.stderr.contains("workers>=1 (found unknown)"), "\(check)")
        for run in [workers, status, check] {
            #expect(!run.stderr.contains(password) && !run.stdout.contains(password))
        }
    }
}
