import JobCore
import RedisBackend
import TestSupport
import Testing

/// Live tests of the Redis store.
///
/// Under CI (CI=true) they run and fail when Redis is not configured.
@Suite(.enabled(if: TestEnvironment.runsLiveRedisTests, "set JOBCTL_TEST_REDIS_URL (scripts/test.sh does)"))
struct LiveRedisStoreTests {
    func store(prefix: String = "bull") throws -> RedisQueueStore {
        RedisQueueStore(endpoint: try RedisEndpoint(url: try TestEnvironment.requireRedisURL()), prefix: prefix)
    }

    @Test func unreachableServerNamesHostAndPort() async throws {
        let store = RedisQueueStore(endpoint: try RedisEndpoint(url: "redis://:hunter2@127.0.0.1:1/0"), prefix: "bull")
        await #expect {
            try await store.connect()
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .unreachable && error.description.contains("127.0.0.1:1")
                && error.kind == .unavailable && !error.description.contains("hunter2")
        }
    }

    @Test func discoversQueuesWithOddNamesUnderAnIsolatedPrefix() async throws {
        let prefix = TestEnvironment.uniqueName("jt-discover")
        let names = ["with space", "a:colon", "{braced}", "ünïcode-队列", "star*name"]
        try redisRaw(
            names.flatMap { name in
                [
                    ["HSET", "\(prefix):\(name):meta", "opts.maxLenEvents", "10000"],
                    ["RPUSH", "\(prefix):\(name):wait", "1"],
                    [
                        "HSET", "\(prefix):\(name):1", "name", "n", "data", "{}", "opts", "{}", "timestamp", "1",
                        "delay", "0", "priority", "0",
                    ],
                ]
            } + [["SET", "\(prefix)x:other:meta", "not ours"]])
        let store = try store(prefix: prefix)
        #expect(try await store.discoverQueues() == names.sorted())
        let rows = try await store.overview(of: names)
        #expect(rows.map(\.counts[.waiting]) == names.map { _ in 1 })
        for name in names { #expect(try await store.queueExists(name)) }
        #expect(try await store.queueExists("absent") == false)
    }

    @Test func reportsWrongTypesAndStillCountsTheRest() async throws {
        let prefix = TestEnvironment.uniqueName("jt-wrongtype")
        try redisRaw([
            ["HSET", "\(prefix):q:meta", "concurrency", "lots", "max", "5"],
            ["SET", "\(prefix):q:delayed", "oops"], ["RPUSH", "\(prefix):q:wait", "1", "2"],
            ["ZADD", "\(prefix):q:active", "1", "x"],
        ])
        let stats = try await store(prefix: prefix).stats(of: "q")
        #expect(stats.overview.counts[.waiting] == 2)
        #expect(stats.overview.counts[.delayed] == nil)
        #expect(stats.overview.counts[.active] == nil)
        #expect(stats.globalConcurrency == nil)
        #expect(stats.rateLimit == RateLimit(max: 5, durationMs: 0))
        let text = stats.overview.problems.map(\.description).joined(separator: "\n")
        #expect(text.contains("\(prefix):q:delayed: has type string"))
        #expect(text.contains("\(prefix):q:active: has type zset"))
        #expect(text.contains("'lots' is not an integer"))
    }

    @Test func pagesSortedSetsWithTiedScoresExactlyOnce() async throws {
        let prefix = TestEnvironment.uniqueName("jt-page")
        let ids = (1...23).map { "j\($0)" }
        try redisRaw(
            ids.flatMap { id in
                [
                    ["ZADD", "\(prefix):q:completed", id.hasSuffix("7") ? "2000" : "1000", id],
                    [
                        "HSET", "\(prefix):q:\(id)", "name", "n", "data", "{}", "opts", "{}", "timestamp", "1",
                        "finishedOn", "1000",
                    ],
                ]
            })
        let store = try store(prefix: prefix)
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await store.jobs(in: "q", state: .completed, limit: 4, cursor: cursor)
            seen += page.jobs.map(\.id)
            cursor = page.nextCursor
        } while cursor != nil
        // Newest first: score 2000 (j7, j17) before 1000; ties in Redis' member order, reversed.
        let expected = ids.sorted { a, b in
            let (sa, sb) = (a.hasSuffix("7") ? 2000 : 1000, b.hasSuffix("7") ? 2000 : 1000)
            return sa != sb ? sa > sb : Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) == false
        }
        #expect(seen == expected)
    }

    @Test func pagesListsWhileWorkersTakeJobs() async throws {
        let prefix = TestEnvironment.uniqueName("jt-list")
        let ids = (1...10).map(String.init)
        // LPUSH like BullMQ: the first job added ends up on the right, next to be taken.
        try redisRaw(
            [["LPUSH", "\(prefix):q:wait"] + ids]
                + ids.map {
                    ["HSET", "\(prefix):q:\($0)", "name", "n", "data", "{}", "opts", "{}", "timestamp", "1"]
                })
        let store = try store(prefix: prefix)
        let first = try await store.jobs(in: "q", state: .waiting, limit: 3, cursor: nil)
        #expect(first.jobs.map(\.id) == ["1", "2", "3"])
        // A worker takes four jobs (from the right), including the one the cursor points at.
        try redisRaw((1...4).map { _ in ["RPOP", "\(prefix):q:wait"] })
        var seen = first.jobs.map(\.id)
        var cursor = first.nextCursor
        while let current = cursor {
            let page = try await store.jobs(in: "q", state: .waiting, limit: 3, cursor: current)
            seen += page.jobs.map(\.id)
            cursor = page.nextCursor
        }
        #expect(seen == ["1", "2", "3", "5", "6", "7", "8", "9", "10"])
    }

    @Test func decodesMalformedJobHashesWithoutFailing() async throws {
        let prefix = TestEnvironment.uniqueName("jt-bad")
        try redisRaw([
            ["RPUSH", "\(prefix):q:wait", "1", "2"],
            [
                "HSET", "\(prefix):q:1", "name", "x", "data", "{not json", "opts", "[1,", "timestamp", "soon", "atm",
                "2",
                "stacktrace", "\"just text\"", "mystery", "42",
            ],
            ["SET", "\(prefix):q:2", "a string, not a hash"],
        ])
        let store = try store(prefix: prefix)
        let job = try #require(try await store.job(in: "q", id: "1"))
        #expect(job.state == .waiting)
        #expect(
            job.data
                == .invalid(
                    raw: "{not json",
                    reason: job.data.flatMap { if case .invalid(_, let r) = $0 { r } else { nil } } ?? ""))
        #expect(job.timestamp == nil)
        #expect(job.attemptsMade == 2)
        #expect(job.otherFields.map(\.0) == ["mystery"])
        let problems = job.problems.map(\.description).joined(separator: "\n")
        #expect(problems.contains("field data: not valid JSON"))
        #expect(problems.contains("field timestamp: 'soon' is not an integer"))
        #expect(problems.contains("field stacktrace: expected a JSON array"))
        let wrong = try #require(try await store.job(in: "q", id: "2"))
        #expect(wrong.problems.first?.message.contains("has type string") == true)
        let page = try await store.jobs(in: "q", state: .waiting, limit: 10, cursor: nil)
        #expect(page.jobs.count == 2)
        // RPUSH put 2 on the right: it is taken first, so it is listed first.
        #expect(page.jobs.map(\.id) == ["2", "1"])
        #expect(page.jobs[0].problems.first?.message == "is not a hash")
        #expect(try await store.job(in: "q", id: "absent") == nil)
    }
}
