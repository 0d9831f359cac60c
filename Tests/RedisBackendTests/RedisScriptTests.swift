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
