import Foundation
import JobCore
import TestSupport
import Testing

@testable import RedisBackend

/// A worker's idle wait (BZPOPMIN) ends as soon as the task waiting is cancelled, instead of running out its
/// timeout: the end of a run cancels it, and no wait outlives the run.
@Suite(.enabled(if: TestEnvironment.runsLiveRedisTests, "set JOBCTL_TEST_REDIS_URL (scripts/test.sh does)"))
struct InterruptedWaitTests {
    /// Cancelled at once, while it may still be connecting: the wait must not block anyway.
    @Test func aWaitCancelledBeforeItBlocksEndsToo() async throws {
        let store = RedisQueueStore(
            endpoint: try RedisEndpoint(url: try TestEnvironment.requireRedisURL()),
            prefix: TestEnvironment.uniqueName("jt-wait0"))
        for _ in 0..<10 {
            let wait = Task { try await store.waitForWork(queue: "q", timeoutMs: 120_000) }
            wait.cancel()
            // Only an interrupted wait throws: one that ran out would return false after its timeout. (No
            // wall-clock bound: under the full suite the test's own task can wait minutes for a thread.)
            await #expect(throws: CancellationError.self) { _ = try await wait.value }
        }
        #expect(try await store.waitForWork(queue: "q", timeoutMs: 10) == false)
    }

    @Test func cancellingAnIdleWaitEndsItAtOnceAndTheStoreStillWorks() async throws {
        let url = try TestEnvironment.requireRedisURL()
        let store = RedisQueueStore(
            endpoint: try RedisEndpoint(url: url), prefix: TestEnvironment.uniqueName("jt-wait"))
        try await store.connect()
        // A queue name of its own (on Postgres the NOTIFY payload is the bare name, shared by every schema).
        let queue = TestEnvironment.uniqueName("wait")
        let wait = Task { try await store.waitForWork(queue: queue, timeoutMs: 120_000) }
        // Until Redis shows a client blocked in BZPOPMIN (up to 30 s). Asked without blocking a thread of the
        // cooperative pool, which the waiting task needs to start.
        let observer = RedisClient(
            endpoint: try RedisEndpoint(url: url), connectTimeoutMs: 5000, commandTimeoutMs: 5000)
        var blocked = false
        for _ in 0..<300 where !blocked {
            blocked = try await observer.command(RedisCommand("CLIENT", "LIST")).text?.contains("cmd=bzpopmin") == true
            if !blocked { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        #expect(blocked, "no client blocked in BZPOPMIN")
        wait.cancel()
        // Only an interrupted wait throws: one that ran out would return false after its timeout.
        await #expect(throws: CancellationError.self) { _ = try await wait.value }
        // The next wait opens a connection of its own again.
        #expect(try await store.waitForWork(queue: queue, timeoutMs: 10) == false)
    }
}
