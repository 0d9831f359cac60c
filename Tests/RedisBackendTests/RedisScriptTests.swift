import Foundation
import JobCore
import TestSupport
import Testing

@testable import RedisBackend

/// jobctl's Lua scripts on a real Redis: each compiles (SCRIPT LOAD) to the SHA1 the generator computed, and a
/// connection whose scripts the server forgot (restart, failover, SCRIPT FLUSH) loads them again by itself.
@Suite(.enabled(if: TestEnvironment.runsLiveRedisTests, "set JOBCTL_TEST_REDIS_URL (scripts/test.sh does)"))
struct RedisScriptTests {
    func client() throws -> RedisClient {
        RedisClient(
            endpoint: try RedisEndpoint(url: try TestEnvironment.requireRedisURL()), connectTimeoutMs: 5000,
            commandTimeoutMs: 30000)
    }

    @Test func everyScriptCompilesToItsGeneratedSHA1() async throws {
        let client = try client()
        for script in RedisScripts.all {
            let reply = try await client.command(RedisCommand("SCRIPT", "LOAD", script.source))
            #expect(reply.text == script.sha1, "\(script.name)")
        }
    }

    @Test func aFlushedScriptCacheIsReloadedOnce() async throws {
        let prefix = TestEnvironment.uniqueName("jt-noscript")
        let store = RedisQueueStore(
            endpoint: try RedisEndpoint(url: try TestEnvironment.requireRedisURL()), prefix: prefix)
        let job = NewJob(name: "n", data: .null, timestamp: currentTimeMs())
        #expect(try await store.add([job], to: "q", note: nil).map(\.id) == ["1"])
        // The server forgets every script; the store's connection still believes the add script loaded.
        try redisRaw([["SCRIPT", "FLUSH"]])
        #expect(try await store.add([job], to: "q", note: nil).map(\.id) == ["2"])
        let counts = try await store.overview(of: ["q"])
        #expect(counts.first?.counts[.waiting] == 2)
    }

    /// How a whole-state retry reads its jobs' fields.
    enum FieldReads: CaseIterable {
        /// One SORT … GET for the batch.
        case sort
        /// One HMGET per job: where an ACL refuses SORT.
        case refusedSort
        /// One HMGET per job: a "*" in the prefix, which SORT would substitute.
        case starInPrefix
    }

    /// Each way a whole-state retry reads priority, options and flow parent puts every job where BullMQ's
    /// reprocessJob would: the wait list's head (oldest pushed first), its tail (LIFO), the prioritized set with
    /// its counter, and a failed flow child back among its parent's dependencies.
    @Test(arguments: FieldReads.allCases)
    func aWholeStateRetryPutsEachJobWhereReprocessJobWould(_ reads: FieldReads) async throws {
        let prefix = TestEnvironment.uniqueName("jt-window") + (reads == .starInPrefix ? "*x" : "")
        let base = "\(prefix):q:"
        let parent = "\(prefix):p:1"
        let user = TestEnvironment.uniqueName("jobctl-nosort")
        // Jobs 1 to 5 failed in that order: 2 has a priority, 3 is LIFO, 4 is a flow child of p:1.
        let special: [String: [String]] = [
            "2": ["priority", "3"], "3": ["opts", #"{"lifo":true}"#], "4": ["parentKey", parent],
        ]
        var setup: [[String]] = [["HSET", parent, "name", "p", "data", "{}", "opts", "{}", "priority", "0"]]
        setup.append(["HSET", "\(parent):failed", "\(base)4", "boom"])
        for id in 1...5 {
            setup.append(
                [
                    "HSET", base + "\(id)", "name", "n", "data", "{}", "opts", "{}", "priority", "0", "timestamp", "1",
                    "finishedOn", "\(1000 + id)", "processedOn", "\(990 + id)", "failedReason", "boom", "atm", "1",
                ] + (special["\(id)"] ?? []))
            setup.append(["ZADD", base + "failed", "\(1000 + id)", "\(id)"])
        }
        var endpoint = try RedisEndpoint(url: try TestEnvironment.requireRedisURL())
        if reads == .refusedSort {
            setup.append(["ACL", "SETUSER", user, "reset", "on", ">nosort-pw", "~*", "&*", "+@all", "-sort"])
            endpoint.username = user
            endpoint.password = "nosort-pw"
        }
        try redisRaw(setup)
        defer { if reads == .refusedSort { try? redisRaw([["ACL", "DELUSER", user]]) } }

        let store = RedisQueueStore(endpoint: endpoint, prefix: prefix)
        let outcome = try await store.retryNewest(
            10, of: .failed, finishedIn: Int64.min..<Int64.max, skipping: 0, in: "q", resetAttempts: false, note: nil)
        #expect(outcome == WindowOutcome(moved: 5))

        let client = try client()
        func read(_ arguments: String...) async throws -> [String] {
            try await client.command(RedisCommand(arguments: arguments)).array?.compactMap(\.text) ?? []
        }
        // Newest first: 5, 4, 1 pushed onto the head in one LPUSH, then 3 onto the tail.
        #expect(try await read("LRANGE", base + "wait", "0", "-1") == ["1", "4", "5", "3"])
        #expect(try await read("ZRANGE", base + "prioritized", "0", "-1", "WITHSCORES") == ["2", "12884901889"])
        #expect(try await read("ZRANGE", base + "failed", "0", "-1").isEmpty)
        #expect(try await read("SMEMBERS", "\(parent):dependencies") == ["\(base)4"])
        #expect(try await read("HKEYS", "\(parent):failed").isEmpty)
        for id in 1...5 {
            let fields = try await read("HMGET", base + "\(id)", "finishedOn", "processedOn", "failedReason", "atm")
            #expect(fields == ["1"], "job \(id) keeps its attempts and loses its finish: \(fields)")
        }
        let events = try await client.command(RedisCommand("XRANGE", base + "events", "-", "+")).array ?? []
        let waiting = events.compactMap { $0.array?.last?.array?.compactMap(\.text) }
        #expect(waiting == ["5", "4", "3", "2", "1"].map { ["event", "waiting", "jobId", $0, "prev", "failed"] })
    }

    /// One add call for a batch leaves what one call per job leaves (the script pushes the wait list, sets the
    /// marker and trims the stream once per batch): lists, sets, marker, hashes, replies and events in order.
    @Test func aBatchOfAddsLeavesWhatOneAddPerJobLeaves() async throws {
        let prefix = TestEnvironment.uniqueName("jt-addbatch")
        let store = RedisQueueStore(
            endpoint: try RedisEndpoint(url: try TestEnvironment.requireRedisURL()), prefix: prefix)
        let at: Int64 = 1_700_000_000_000
        let jobs = [
            NewJob(name: "a", data: .null, timestamp: at),
            NewJob(name: "b", data: .string("lifo"), lifo: true, timestamp: at),
            NewJob(name: "c", data: .null, delayMs: 60_000, timestamp: at),
            NewJob(name: "d", data: .null, priority: 2, timestamp: at),
            NewJob(name: "e", data: .null, id: "own", timestamp: at),
            NewJob(name: "f", data: .null, delayMs: 30_000, timestamp: at),
            NewJob(name: "g", data: .null, lifo: true, timestamp: at),
            NewJob(name: "h", data: .null, id: "own", timestamp: at),
            NewJob(name: "i", data: .null, timestamp: at),
        ]
        let batched = try await store.add(jobs, to: "batch", note: nil)
        var single: [AddedJob] = []
        for job in jobs { single += try await store.add([job], to: "single", note: nil) }
        #expect(batched == single)
        #expect(batched.filter(\.duplicate).map(\.id) == ["own"])

        let client = try client()
        func read(_ queue: String, _ arguments: [String]) async throws -> [String] {
            let command = arguments.map { $0.replacingOccurrences(of: "KEY:", with: "\(prefix):\(queue):") }
            return try await client.command(RedisCommand(arguments: command)).array?.compactMap(\.text) ?? []
        }
        for reads in [
            ["LRANGE", "KEY:wait", "0", "-1"], ["ZRANGE", "KEY:prioritized", "0", "-1", "WITHSCORES"],
            ["ZRANGE", "KEY:delayed", "0", "-1", "WITHSCORES"], ["ZRANGE", "KEY:marker", "0", "-1", "WITHSCORES"],
            ["HGETALL", "KEY:own"], ["HGETALL", "KEY:2"],
        ] {
            let (a, b) = (try await read("batch", reads), try await read("single", reads))
            #expect(!a.isEmpty && a == b, "\(reads): \(a) vs \(b)")
        }
        #expect(try await read("batch", ["LRANGE", "KEY:wait", "0", "-1"]) == ["9", "own", "1", "2", "7"])
        // Workers are woken for a ready job ("0") and for the first delayed one, due 30 s after `at` ("1").
        let marker = try await read("batch", ["ZRANGE", "KEY:marker", "0", "-1", "WITHSCORES"])
        #expect(marker == ["0", "0", "1", "\(at + 30_000)"])
        func events(_ queue: String) async throws -> [[String]] {
            let entries = try await client.command(RedisCommand("XRANGE", "\(prefix):\(queue):events", "-", "+"))
            return (entries.array ?? []).compactMap { $0.array?.last?.array?.compactMap(\.text) }
        }
        let (a, b) = (try await events("batch"), try await events("single"))
        #expect(a.count == 17 && a == b, "\(a) vs \(b)")
    }

    @Test func aScriptCallThatFailsInsideRedisIsThrownWithTheServersCode() async throws {
        let client = try client()
        // retry with a key of the wrong type where the meta hash belongs: Redis answers WRONGTYPE from inside.
        let prefix = TestEnvironment.uniqueName("jt-scripterror")
        try redisRaw([["SET", "\(prefix):q:meta", "not a hash"]])
        let keys = RedisScripts.Retry.Keys(
            events: "\(prefix):q:events", state: "\(prefix):q:failed", wait: "\(prefix):q:wait",
            meta: "\(prefix):q:meta",
            active: "\(prefix):q:active", marker: "\(prefix):q:marker", prioritized: "\(prefix):q:prioritized",
            pc: "\(prefix):q:pc")
        let arguments = RedisScripts.Retry.Arguments(
            queueBase: "\(prefix):q:", state: "failed", reset: "0", logLine: "", ids: ["1"])
        await #expect {
            _ = try await client.evaluate(
                sha1: RedisScripts.Retry.sha1, source: RedisScripts.Retry.source, keys: keys.list,
                arguments: arguments.list)
        } throws: { error in
            (error as? RedisError)?.serverCode == "WRONGTYPE"
        }
    }
}
