import Foundation
import TestSupport
import Testing

/// jobctl on a Redis Cluster (`scripts/services.sh`: three masters with a replica each, and a TLS cluster of three),
/// with the real Python client's Queue over redis-py's RedisCluster (its Worker does not run on a cluster).
@Suite(
    .serialized,
    .enabled(if: TestEnvironment.runsClusterTests, "set JOBCTL_TEST_REDIS_CLUSTER_URL (scripts/test.sh does)"))
struct ClusterTests {
    typealias Object = [String: Any]

    /// A namespace of its own on the cluster; `taggedPrefix`: the prefix is a hash tag (`{jc…}`, every queue in
    /// one slot), else queues are named with tags of their own.
    static func steps(taggedPrefix: Bool) throws -> BullMQSteps {
        let (url, _, _) = try TestEnvironment.requireCluster()
        var steps = try BullMQSteps(on: .redis, url: url)
        steps.cluster = true
        if taggedPrefix { steps.namespace = "{\(steps.namespace)}" }
        return steps
    }

    /// `count` hash-tagged queue names whose slots lie on at least `nodes` different masters.
    static func queuesOnDifferentNodes(_ steps: BullMQSteps, count: Int, nodes: Int) throws -> [String] {
        let suffix = UUID().uuidString.prefix(6).lowercased()
        let candidates = (0..<24).map { "{q\($0)-\(suffix)}" }
        let plan = StepPlan()
        let owners = candidates.map { plan.result(["op": "node_of", "key": "{prefix}:\($0):wait"]) }
        try plan.run(on: steps)
        var chosen: [String] = []
        var used = Set<String>()
        // One per master first, then any.
        for (name, owner) in zip(candidates, owners) where chosen.count < count {
            if let node = owner.string("node"), used.insert(node).inserted { chosen.append(name) }
        }
        for name in candidates where chosen.count < count && !chosen.contains(name) { chosen.append(name) }
        #expect(used.count >= nodes, "the candidates' slots lie on \(used.count) masters")
        return chosen
    }

    /// For each queue: 3 failed (by jobctl), 4 waiting, 1 prioritized, 2 delayed; then jobctl's counts against the
    /// client's.
    static func checkCounts(_ steps: BullMQSteps, queues: [String]) throws {
        let plan = StepPlan()
        var counts: [StepResult] = []
        var stats: [CommandRun] = []
        for queue in queues {
            plan.step(["op": "add_bulk", "queue": queue, "jobs": (0..<3).map { ["name": "bad", "data": ["n": $0]] }])
            _ = plan.jobctl(["run-once", queue, "--exec", "/bin/false"])
            plan.step([
                "op": "add_bulk", "queue": queue,
                "jobs": (0..<4).map { ["name": "send", "data": ["n": $0]] as Object }
                    + [["name": "vip", "data": [:] as Object, "opts": ["priority": 3]]],
            ])
            for delay in [60_000, 90_000] {
                plan.step([
                    "op": "add", "queue": queue, "name": "later", "data": [:] as Object, "opts": ["delay": delay],
                ])
            }
            counts.append(plan.counts(queue))
            stats.append(plan.jobctl(["stats", queue, "-o", "json"]))
        }
        let status = plan.jobctl(["status", "-o", "json"])
        try plan.run(on: steps)
        #expect(status.status == 0, "\(status)")
        let rows = (try status.json()["queues"] as? [Object]) ?? []
        #expect(Set(rows.compactMap { $0["queue"] as? String }) == Set(queues), "status found \(rows)")
        for (index, queue) in queues.enumerated() {
            let client = counts[index]
            #expect(client.int("failed") == 3 && client.int("waiting") == 4 && client.int("delayed") == 2, "\(client)")
            #expect(stats[index].status == 0, "\(stats[index])")
            let ours = (try stats[index].json()["counts"] as? Object) ?? [:]
            for state in ["waiting", "prioritized", "delayed", "active", "completed", "failed"] {
                #expect(jsonEqual(ours[state], client[state]), "\(queue) \(state): jobctl \(ours), client \(client)")
            }
            let row = rows.first { $0["queue"] as? String == queue } ?? [:]
            #expect(
                jsonEqual(row["waiting"], 5) && jsonEqual(row["failed"], 3) && jsonEqual(row["delayed"], 2), "\(row)")
        }
    }

    @Test func countsEqualTheClientsWithATaggedPrefix() throws {
        try Self.checkCounts(try Self.steps(taggedPrefix: true), queues: ["mail", "sms"])
    }

    @Test func countsEqualTheClientsWithTaggedQueuesOnDifferentNodes() throws {
        let steps = try Self.steps(taggedPrefix: false)
        try Self.checkCounts(steps, queues: try Self.queuesOnDifferentNodes(steps, count: 3, nodes: 3))
    }

    @Test func changeCommandsAreSeenByTheClient() throws {
        let steps = try Self.steps(taggedPrefix: false)
        let queues = try Self.queuesOnDifferentNodes(steps, count: 2, nodes: 2)
        let (queue, other) = (queues[0], queues[1])
        let plan = StepPlan()
        plan.step(["op": "add_bulk", "queue": queue, "jobs": (0..<5).map { ["name": "send", "data": ["n": $0]] }])
        let failing = plan.jobctl(["run-once", queue, "--exec", "/bin/false"])
        let failed = plan.counts(queue)
        let retry = plan.jobctl(["retry", queue, "--failed", "--yes"])
        let retried = plan.counts(queue)
        let work = plan.jobctl(["run-once", queue, "--noop"])
        let worked = plan.counts(queue)
        plan.step(["op": "add", "queue": queue, "name": "later", "data": [:] as Object, "opts": ["delay": 600_000]])
        let promote = plan.jobctl(["promote", queue, "--yes"])
        let promoted = plan.counts(queue)
        let pause = plan.jobctl(["pause", queue, "--yes"])
        let paused = plan.result(["op": "is_paused", "queue": queue])
        let resume = plan.jobctl(["resume", queue, "--yes"])
        let resumed = plan.result(["op": "is_paused", "queue": queue])
        let drain = plan.jobctl(["drain", queue, "--yes"])
        let drained = plan.counts(queue)
        let clean = plan.jobctl(["clean", queue, "--completed", "--older-than", "0s", "--yes"])
        let cleaned = plan.counts(queue)
        let add = plan.jobctl(["add", other, "made-by-jobctl", "--data", #"{"to":"x"}"#, "--yes"])
        let added = plan.counts(other)
        try plan.run(on: steps)

        #expect(failing.status == 2 && failed.int("failed") == 5, "\(failing) \(failed)")
        #expect(retry.status == 0 && retried.int("waiting") == 5 && retried.int("failed") == 0, "\(retry) \(retried)")
        #expect(work.status == 0 && worked.int("completed") == 5, "\(work) \(worked)")
        #expect(promote.status == 0 && promoted.int("waiting") == 1 && promoted.int("delayed") == 0, "\(promoted)")
        #expect(pause.status == 0 && paused["paused"] as? Bool == true, "\(pause) \(paused)")
        #expect(resume.status == 0 && resumed["paused"] as? Bool == false, "\(resume) \(resumed)")
        #expect(drain.status == 0 && drained.int("waiting") == 0, "\(drain) \(drained)")
        #expect(clean.status == 0 && cleaned.int("completed") == 0, "\(clean) \(cleaned)")
        #expect(add.status == 0 && added.int("waiting") == 1, "\(add) \(added)")
        let id = add.stdout.split(separator: "\n").first.map { $0.replacingOccurrences(of: "job ", with: "") } ?? ""

        let next = StepPlan()
        let made = next.job(other, id: id)
        let remove = next.jobctl(["remove", other, id, "--yes"])
        let gone = next.job(other, id: id)
        try next.run(on: steps)
        #expect(made.exists && made.string("name") == "made-by-jobctl", "\(made)")
        #expect(remove.status == 0 && !gone.exists, "\(remove) \(gone)")
    }

    @Test func runWorksAQueueAndWorkersListsIt() throws {
        let steps = try Self.steps(taggedPrefix: false)
        let queue = try Self.queuesOnDifferentNodes(steps, count: 1, nodes: 1)[0]
        let plan = StepPlan()
        plan.step(["op": "add_bulk", "queue": queue, "jobs": (0..<300).map { ["name": "send", "data": ["n": $0]] }])
        plan.step([
            "op": "jobctl_start", "until": "wake-ups:", "args": ["run", queue, "--noop", "--name", "cluster-runner"],
        ])
        let done = plan.result(["op": "wait_counts", "queue": queue, "state": "completed", "count": 300])
        let workers = plan.jobctl(["workers", queue, "-o", "json"])
        plan.step(["op": "add", "queue": queue, "name": "late", "data": [:] as Object])
        let late = plan.result(["op": "wait_counts", "queue": queue, "state": "completed", "count": 301])
        let stopped = plan.result(["op": "jobctl_stop"])
        try plan.run(on: steps)
        #expect(done["timed_out"] as? Bool == false && late["timed_out"] as? Bool == false, "\(done) \(late)")
        #expect(stopped.int("status") == 0, "\(stopped)")
        let rows = (try? workers.json()["workers"] as? [Object]) ?? []
        #expect(rows.contains { $0["name"] as? String == "cluster-runner" }, "\(workers)")
    }

    /// A queue's slot in the middle of a migration (its keys on the new master, the slot not yet handed over): the
    /// reads follow ASK; after the hand-over, a worker follows MOVED.
    @Test func readsFollowASKDuringAMigration() throws {
        let steps = try Self.steps(taggedPrefix: false)
        let queue = try Self.queuesOnDifferentNodes(steps, count: 1, nodes: 1)[0]
        let plan = StepPlan()
        plan.step(["op": "add_bulk", "queue": queue, "jobs": (0..<5).map { ["name": "send", "data": ["n": $0]] }])
        plan.step(["op": "add", "queue": queue, "name": "later", "data": [:] as Object, "opts": ["delay": 600_000]])
        let migration = plan.result(["op": "cluster_migrate", "key": "{prefix}:\(queue):wait", "finish": false])
        let stats = plan.jobctl(["stats", queue, "-o", "json"])
        let status = plan.jobctl(["status", queue, "-o", "json"])
        let jobs = plan.jobctl(["jobs", queue, "--state", "waiting", "-o", "jsonl"])
        try plan.run(on: steps)
        #expect(migration.int("keys") ?? 0 >= 7, "\(migration)")
        #expect(stats.status == 0, "\(stats)")
        let counts = (try? stats.json()["counts"] as? Object) ?? [:]
        #expect(jsonEqual(counts["waiting"], 5) && jsonEqual(counts["delayed"], 1), "\(counts)")
        #expect(status.status == 0 && jobs.status == 0, "\(status) \(jobs)")
        #expect(jobs.stdout.split(separator: "\n").count == 5, "\(jobs)")

        let finish = StepPlan()
        finish.step(["op": "cluster_finish", "slot": migration.int("slot") ?? -1, "to": migration.string("to") ?? ""])
        let work = finish.jobctl(["run-once", queue, "--noop"])
        let after = finish.counts(queue)
        let owner = finish.result(["op": "node_of", "key": "{prefix}:\(queue):wait"])
        try finish.run(on: steps)
        #expect(owner.string("node") == migration.string("to"), "\(owner) \(migration)")
        #expect(work.status == 0 && after.int("completed") == 5, "\(work) \(after)")
    }

    /// The completed events per job id in a queue's event stream, read through the cluster.
    static func completions(_ steps: BullMQSteps, queue: String) throws -> [String: Int] {
        try completedEventsPerJob(url: steps.url, streamKey: "\(steps.namespace):\(queue):events", cluster: true)
    }

    /// Steps that add `count` jobs to `queue` and keep every event (to count completions).
    static func addKeepingEvents(_ plan: StepPlan, queue: String, count: Int) {
        plan.step(["op": "raw", "redis": [["HSET", "{prefix}:\(queue):meta", "opts.maxLenEvents", "100000"]]])
        for first in stride(from: 0, to: count, by: 500) {
            plan.step([
                "op": "add_bulk", "queue": queue,
                "jobs": (first..<min(first + 500, count)).map { ["name": "send", "data": ["n": $0]] as Object },
            ])
        }
    }

    /// 1,000 jobs worked by `jobctl run` while the queue's slot moves to another master.
    @Test func aSlotMigratedDuringRunLosesNoJob() throws {
        let steps = try Self.steps(taggedPrefix: false)
        let queue = try Self.queuesOnDifferentNodes(steps, count: 1, nodes: 1)[0]
        let jobs = 1000
        let plan = StepPlan()
        Self.addKeepingEvents(plan, queue: queue, count: jobs)
        plan.step([
            "op": "jobctl_start", "until": "wake-ups:",
            "args": ["run", queue, "--noop", "--limiter", "250/1s", "--concurrency", "4"],
        ])
        plan.step(["op": "wait_counts", "queue": queue, "state": "completed", "count": 150, "timeout": 60])
        let migration = plan.result(["op": "cluster_migrate", "key": "{prefix}:\(queue):wait"])
        let done = plan.result([
            "op": "wait_counts", "queue": queue, "state": "completed", "count": jobs, "timeout": 180,
        ])
        let stopped = plan.result(["op": "jobctl_stop"])
        let counts = plan.counts(queue)
        try plan.run(on: steps)
        #expect(migration.string("from") != migration.string("to"), "\(migration)")
        #expect(done["timed_out"] as? Bool == false, "\(done)")
        #expect(stopped.int("status") == 0, "\(stopped)")
        #expect(counts.int("active") == 0 && counts.int("waiting") == 0 && counts.int("completed") == jobs, "\(counts)")
        let completions = try Self.completions(steps, queue: queue)
        #expect(completions.count == jobs, "every job completed: \(completions.count) of \(jobs)")
        #expect(completions.values.allSatisfy { $0 == 1 }, "none twice: \(completions.filter { $0.value > 1 })")
    }

    /// A master killed in the middle of a run: its replica takes over and the worker goes on there.
    ///
    /// `kill -9` of the master that serves a busy queue while `jobctl run` works 2,000 jobs. The killed node is
    /// started again (it rejoins as a replica).
    @Test func aWorkerRidesThroughAMasterKilledMidRun() throws {
        let steps = try Self.steps(taggedPrefix: false)
        let queue = try Self.queuesOnDifferentNodes(steps, count: 1, nodes: 1)[0]
        let jobs = 2000
        let first = StepPlan()
        let owner = first.result(["op": "node_of", "key": "{prefix}:\(queue):wait"])
        try first.run(on: steps)
        let master = try #require(owner.string("node"))

        let plan = StepPlan()
        Self.addKeepingEvents(plan, queue: queue, count: jobs)
        plan.step([
            "op": "jobctl_start", "until": "wake-ups:",
            "args": [
                "run", queue, "--noop", "--limiter", "250/1s", "--lock-duration", "5s", "--stalled-interval", "2s",
            ],
        ])
        plan.step(["op": "wait_counts", "queue": queue, "state": "completed", "count": 300, "timeout": 60])
        let killed = plan.result(["op": "kill_server", "url": "redis://\(master)/0"])
        let done = plan.result([
            "op": "wait_counts", "queue": queue, "state": "completed", "count": jobs, "timeout": 240,
        ])
        let stopped = plan.result(["op": "jobctl_stop"])
        let counts = plan.counts(queue)
        let after = plan.result(["op": "node_of", "key": "{prefix}:\(queue):wait"])
        // The killed node starts again (it rejoins as a replica) and the cluster is whole for the other tests.
        let port = String(master.split(separator: ":").last ?? "")
        let restart = plan.result(["op": "services", "args": ["start-cluster-node", port], "timeout": 90])
        do {
            try plan.run(on: steps)
        } catch {
            let repair = StepPlan()
            repair.step(["op": "services", "args": ["start-cluster-node", port], "timeout": 90])
            try? repair.run(on: steps)
            throw error
        }
        #expect(killed.int("pid") != nil && restart.int("status") == 0, "\(killed) \(restart)")
        #expect(after.string("node") != master, "the replica took over: \(after)")
        #expect(done["timed_out"] as? Bool == false, "\(done)")
        #expect(stopped.int("status") == 0, "\(stopped)")
        #expect(counts.int("active") == 0 && counts.int("waiting") == 0 && counts.int("completed") == jobs, "\(counts)")
        let completions = try Self.completions(steps, queue: queue)
        #expect(completions.count == jobs, "every job completed: \(completions.count) of \(jobs)")
        // At least once: a completion the old master took but never passed on is done again on the new one.
        let twice = completions.filter { $0.value > 1 }
        #expect(twice.count <= 50, "completed twice: \(twice.count) (\(twice.keys.sorted().prefix(10)))")
    }

    @Test func flowsAcrossSlotsAreRefusedNotHalfDone() throws {
        let steps = try Self.steps(taggedPrefix: false)
        let queues = try Self.queuesOnDifferentNodes(steps, count: 2, nodes: 2)
        let (parentQueue, childQueue) = (queues[0], queues[1])
        let plan = StepPlan()
        let parent = plan.result(["op": "add", "queue": parentQueue, "name": "parent", "data": [:] as Object])
        let child = plan.result(["op": "add", "queue": childQueue, "name": "child", "data": [:] as Object])
        try plan.run(on: steps)
        let parentId = try #require(parent.string("id"))
        let childId = try #require(child.string("id"))
        let parentKey = "\(steps.namespace):\(parentQueue):\(parentId)"
        let childKey = "\(steps.namespace):\(childQueue):\(childId)"

        // The link a FlowProducer would write (it cannot on a cluster: its MULTI spans the two slots).
        let link = StepPlan()
        link.step([
            "op": "raw",
            "redis": [
                [
                    "HSET", childKey, "parentKey", parentKey, "parent",
                    #"{"id":"\#(parentId)","queueKey":"\#(steps.namespace):\#(parentQueue)"}"#,
                ],
                ["SADD", "\(parentKey):dependencies", childKey],
            ],
        ])
        let before = link.result(["op": "dump", "queue": parentQueue])
        let drain = link.jobctl(["drain", childQueue, "--yes"])
        let remove = link.jobctl(["remove", childQueue, childId, "--yes", "-o", "json"])
        let run = link.jobctl(["run-once", childQueue, "--noop", "--lock-duration", "2s"])
        let parentAfter = link.result(["op": "dump", "queue": parentQueue])
        let childAfter = link.job(childQueue, id: childId)
        try link.run(on: steps)

        #expect(drain.status == 64 && drain.stderr.contains("another slot of the Redis Cluster"), "\(drain)")
        #expect(remove.stdout.contains("another hash slot"), "\(remove)")
        #expect(run.stderr.contains("another hash slot") || run.stdout.contains("another hash slot"), "\(run)")
        #expect(childAfter.exists, "the child is still there: \(childAfter)")
        #expect(
            jsonEqual(before.raw, parentAfter.raw), "the parent is untouched: \(before.raw) → \(parentAfter.raw)")
    }

    @Test func badClusterInputSaysWhat() throws {
        let (url, nodes, _) = try TestEnvironment.requireCluster()
        let node = nodes[0]
        let untagged = try TestEnvironment.jobctl(
            ["add", "mail", "send", "--data", "{}", "--yes"],
            environment: ["JOBCTL_URL": url, "JOBCTL_PREFIX": "plain"])
        #expect(
            untagged.status == 64 && untagged.stderr.contains("cannot be worked on a Redis Cluster")
                && untagged.stderr.contains("{bull}"), "\(untagged)")
        let worker = try TestEnvironment.jobctl(["run", "mail", "--noop"], environment: ["JOBCTL_URL": url])
        #expect(worker.status == 64 && worker.stderr.contains("hash to different slots"), "\(worker)")
        let database = try TestEnvironment.jobctl(["status"], environment: ["JOBCTL_URL": "redis://\(node)/1"])
        #expect(database.status == 1 && database.stderr.contains("only database 0"), "\(database)")
        let seeds = try TestEnvironment.jobctl(["status"], environment: ["JOBCTL_URL": "redis://\(node),\(nodes[1])/2"])
        #expect(seeds.status == 64 && seeds.stderr.contains("only database 0"), "\(seeds)")
        let nobody = try TestEnvironment.jobctl(
            ["status", "--connect-timeout", "1s"], environment: ["JOBCTL_URL": "redis://127.0.0.1:1,127.0.0.1:2/0"])
        #expect(nobody.status == 69 && nobody.stderr.contains("no node answered"), "\(nobody)")
        let single = try TestEnvironment.requireRedisURL()
        let hostPort = single.split(separator: "//")[1].split(separator: "/")[0]
        let mixed = try TestEnvironment.jobctl(
            ["status"], environment: ["JOBCTL_URL": "redis://\(hostPort),\(node)/0"])
        #expect(mixed.status == 1 && mixed.stderr.contains("not a Redis Cluster node"), "\(mixed)")
    }

    @Test func aTLSClusterIsWorkedThroughItsHostNames() throws {
        let (_, _, tlsURL) = try TestEnvironment.requireCluster()
        let prefix = "{\(TestEnvironment.uniqueName("tls"))}"
        let environment = ["JOBCTL_URL": tlsURL, "JOBCTL_PREFIX": prefix]
        for queue in ["a", "b"] {
            let add = try TestEnvironment.jobctl(
                ["add", queue, "send", "--data", "{}", "--yes"], environment: environment)
            #expect(add.status == 0, "\(add)")
        }
        let work = try TestEnvironment.jobctl(["run-once", "a", "--noop"], environment: environment)
        let status = try TestEnvironment.jobctl(["status", "-o", "json"], environment: environment)
        #expect(work.status == 0, "\(work)")
        let rows = (try? parseJSONObject(status.stdout)["queues"] as? [Object]) ?? []
        #expect(
            rows.count == 2 && jsonEqual(rows.first?["completed"], 1) && jsonEqual(rows.last?["waiting"], 1),
            "\(status)")
    }
}
