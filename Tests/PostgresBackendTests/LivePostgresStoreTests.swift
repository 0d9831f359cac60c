import Foundation
import JobCore
import TestSupport
import Testing

@testable import PostgresBackend

/// The store against a real PostgreSQL with schemas made by BullMQ's own migrations; jobs are added and moved
/// with the schema's own functions, as BullMQ clients do.
@Suite(.enabled(if: TestEnvironment.runsLivePostgresTests, "set JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct LivePostgresStoreTests {
    func store(schema: String, timeoutMs: Int = 10_000) throws -> PostgresQueueStore {
        let endpoint = try PostgresEndpoint(url: try TestEnvironment.requirePostgresURL())
        return PostgresQueueStore(endpoint: endpoint, schema: try SchemaName(schema), commandTimeoutMs: timeoutMs)
    }

    /// SQL literal for a test value.
    func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    func addJob(
        _ schema: String, _ queue: String, id: String, priority: Int = 0, delay: Int = 0,
        timestamp: Int64 = 1_700_000_000_000
    ) -> String {
        "SELECT \"\(schema)\".add_job(\(literal(queue)), \(literal(id)), 'job', '{}'::jsonb, '{}'::jsonb, \(priority), "
            + "\(delay), \(timestamp), 1, NULL, NULL, NULL, NULL, NULL, false)"
    }

    @Test func missingSchemaNamesTheBullMQSchemasThatExist() async throws {
        let present = TestEnvironment.uniqueSchema("present")
        try createBullMQSchema(present)
        defer { try? postgresRaw(["DROP SCHEMA \"\(present)\" CASCADE"]) }
        await #expect {
            try await store(schema: TestEnvironment.uniqueSchema("absent")).connect()
        } throws: { error in
            guard let error = error as? SchemaNotFoundError else { return false }
            return error.otherSchemas.contains(present) && !error.existsWithoutLedger
                && error.hints.joined(separator: " ").contains("run_migrations")
                && error.description.contains("not found")
        }
    }

    @Test func schemaWithoutLedgerAndNewerVersionsAreRefusedByName() async throws {
        let plain = TestEnvironment.uniqueSchema("plain")
        let newer = TestEnvironment.uniqueSchema("newer")
        try postgresRaw([
            "CREATE SCHEMA \"\(plain)\"", "CREATE TABLE \"\(plain)\".job (queue text)",
            "CREATE SCHEMA \"\(newer)\"", "CREATE TABLE \"\(newer)\".job (queue text)",
            "CREATE TABLE \"\(newer)\".migration (version int PRIMARY KEY, name text, applied_at timestamptz DEFAULT "
                + "now())",
            "INSERT INTO \"\(newer)\".migration (version, name) VALUES (1, '0001_schema.sql'), (7, '0007_future.sql')",
        ])
        defer { try? postgresRaw(["DROP SCHEMA \"\(plain)\" CASCADE", "DROP SCHEMA \"\(newer)\" CASCADE"]) }
        await #expect {
            try await store(schema: plain).connect()
        } throws: { error in
            (error as? SchemaNotFoundError)?.existsWithoutLedger == true
        }
        await #expect {
            try await store(schema: newer).connect()
        } throws: { error in
            guard let error = error as? UnsupportedSchemaVersionError else { return false }
            return error.version == 7 && error.description.contains("version 7") && error.description.contains("1–4")
        }
    }

    @Test func oddQueueNamesAreFoundCountedAndKeptApart() async throws {
        let schema = TestEnvironment.uniqueSchema("names")
        try createBullMQSchema(schema)
        defer { try? postgresRaw(["DROP SCHEMA \"\(schema)\" CASCADE"]) }
        let names = [
            "with space", "with:colon", "{braces},comma", "quote'\"dq", "back\\slash", "ünïcødé", "NULL",
            "mark\"\u{301}\\\u{301}",
        ]
        try postgresRaw(
            names.enumerated().flatMap { index, name in
                (0...index).map { addJob(schema, name, id: "j\($0)") }
            } + [
                addJob(schema, "with space", id: "p1", priority: 3),
                addJob(schema, "with space", id: "d1", delay: 60_000),
            ])
        let store = try store(schema: schema)
        try await store.connect()
        #expect(try await store.discoverQueues() == names.sorted())
        let overviews = try await store.overview(of: names + ["absent"])
        #expect(overviews.map(\.queue) == names + ["absent"])
        for (index, overview) in overviews.prefix(names.count).enumerated() {
            #expect(overview.counts[.waiting] == index + 1, "\(overview.queue)")
        }
        #expect(overviews[0].counts[.prioritized] == 1 && overviews[0].counts[.delayed] == 1)
        #expect(overviews.last?.counts.ready == 0)
        #expect(try await store.queueExists("quote'\"dq"))
        #expect(try await !store.queueExists("quote"))
    }

    @Test func pagingIsStableWithTiedSortKeysAndWhileWorkersTakeJobs() async throws {
        let schema = TestEnvironment.uniqueSchema("paging")
        try createBullMQSchema(schema)
        defer { try? postgresRaw(["DROP SCHEMA \"\(schema)\" CASCADE"]) }
        let queue = "pages"
        // 12 completed jobs finished at only 3 distinct times, and 10 waiting jobs.
        var setup: [String] = []
        for index in 0..<12 {
            setup.append(addJob(schema, queue, id: "c\(index)"))
            setup.append(
                "SELECT id FROM \"\(schema)\".move_to_active('\(queue)', 'tok', 30000, 1700000000000, 'test', NULL, "
                    + "NULL)"
            )
            setup.append(
                "SELECT \"\(schema)\".move_to_completed('\(queue)', 'c\(index)', 'tok', '1'::jsonb, "
                    + "\(1_700_000_000_000 + Int64(index % 3)), false, NULL, NULL)"
            )
        }
        setup += (0..<10).map { addJob(schema, queue, id: "w\($0)") }
        try postgresRaw(setup)
        let store = try store(schema: schema)
        try await store.connect()

        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await store.jobs(in: queue, state: .completed, limit: 5, cursor: cursor)
            seen += page.jobs.map(\.id)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen.count == 12 && Set(seen).count == 12)
        let finished = try await store.jobs(in: queue, state: .completed, limit: 100, cursor: nil).jobs.compactMap(
            \.finishedOn)
        #expect(finished == finished.sorted(by: >))
        #expect(seen == (try await store.jobs(in: queue, state: .completed, limit: 100, cursor: nil)).jobs.map(\.id))

        // Waiting: the first page, then a worker takes three jobs, then the rest: nothing shown twice or missed.
        let first = try await store.jobs(in: queue, state: .waiting, limit: 4, cursor: nil)
        #expect(first.jobs.map(\.id) == ["w0", "w1", "w2", "w3"])
        try postgresRaw(
            (0..<3).map { _ in
                "SELECT id FROM \"\(schema)\".move_to_active('\(queue)', 'tok2', 30000, 1700000000000, 'test', NULL, "
                    + "NULL)"
            })
        let rest = try await store.jobs(in: queue, state: .waiting, limit: 100, cursor: first.nextCursor)
        #expect(rest.jobs.map(\.id) == (4..<10).map { "w\($0)" })
        #expect(rest.nextCursor == nil)

        await #expect(throws: InvalidCursorError.self) {
            _ = try await store.jobs(in: queue, state: .failed, limit: 5, cursor: first.nextCursor)
        }
    }

    @Test func aStatementThatOutlivesTheTimeoutIsCancelledAndReportedAsUnavailable() async throws {
        let schema = TestEnvironment.uniqueSchema("slow")
        try createBullMQSchema(schema)
        defer { try? postgresRaw(["DROP SCHEMA \"\(schema)\" CASCADE"]) }
        let store = try store(schema: schema, timeoutMs: 600)
        try await store.connect()
        // Another session holds an exclusive lock on the job table for 180 s (it is killed when the test ends).
        let locker = Process()
        locker.executableURL = URL(fileURLWithPath: TestEnvironment.python)
        locker.arguments = [
            "-c",
            """
            import sys, time, psycopg
            with psycopg.connect(sys.argv[1]) as conn:
                conn.execute('LOCK TABLE "\(schema)".job IN ACCESS EXCLUSIVE MODE')
                print("locked", flush=True)
                time.sleep(180)
            """, try TestEnvironment.requirePostgresURL(),
        ]
        let out = Pipe()
        locker.standardOutput = out
        try locker.run()
        defer {
            kill(locker.processIdentifier, SIGKILL)
            locker.waitUntilExit()
        }
        _ = out.fileHandleForReading.availableData  // "locked"
        let started = Date()
        await #expect {
            _ = try await store.overview(of: ["q"])
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.kind == .unavailable && error.code == .timeout
        }
        // Far under the lock's 180 s, with room for a machine loaded by other suites and benchmarks (CI once took
        // 6.9 s, a machine running two suites and a chaos run 22.6 s): the query gave up instead of waiting.
        #expect(Date().timeIntervalSince(started) < 90)
    }

    @Test func countingABigQueueInPiecesGivesTheSameCounts() async throws {
        let schema = TestEnvironment.uniqueSchema("pieces")
        try createBullMQSchema(schema)
        defer { try? postgresRaw(["DROP SCHEMA \"\(schema)\" CASCADE"]) }
        let queue = "pieces"
        var setup = (0..<40).map {
            addJob(schema, queue, id: "w\($0)", priority: $0 % 4 == 0 ? 2 : 0, delay: $0 % 5 == 0 ? 60_000 : 0)
        }
        for index in 0..<9 {
            setup.append(
                "SELECT id FROM \"\(schema)\".move_to_active('\(queue)', 'tok', 30000, 1700000000000, 'test', NULL, "
                    + "NULL)"
            )
            let finish =
                index % 3 == 0
                ? "move_to_failed('\(queue)', id, 'tok', 'boom', NULL, \(1_700_000_000_000 + Int64(index)), false, "
                    + "NULL, NULL)"
                : "move_to_completed('\(queue)', id, 'tok', '1'::jsonb, \(1_700_000_000_000 + Int64(index)), false, "
                    + "NULL, NULL)"
            setup.append(
                "SELECT \"\(schema)\".\(finish) FROM \"\(schema)\".job WHERE queue = '\(queue)' AND state = 'active'")
        }
        // Rows no BullMQ function writes: a finished job without a finish time, a delayed one without a due time.
        setup.append(
            "UPDATE \"\(schema)\".job SET finished_at_ms = NULL WHERE queue = '\(queue)' AND id = (SELECT min(id) FROM "
                + "\"\(schema)\".job WHERE queue = '\(queue)' AND state = 'completed')"
        )
        setup.append("UPDATE \"\(schema)\".job SET process_at_ms = NULL WHERE queue = '\(queue)' AND id = 'w5'")
        try postgresRaw(setup)
        let whole = try store(schema: schema)
        try await whole.connect()
        var inPieces = try store(schema: schema)
        inPieces.splitThreshold = -.infinity
        inPieces.rowsPerPiece = 0
        try await inPieces.connect(preparingToCount: true)
        let expected = try #require(try await whole.overview(of: [queue]).first)
        let counted = try #require(try await inPieces.overview(of: [queue]).first)
        #expect(counted.counts == expected.counts)
        #expect(counted.oldestWaitingTimestamp == expected.oldestWaitingTimestamp)
        #expect(expected.counts[.completed] == 6 && expected.counts[.failed] == 3 && expected.counts[.delayed] == 8)
        #expect(expected.counts.ready == 40 - 9 - 8)

        // Stats and history read in one batch (as `stats` does) equal the two read apart.
        let (stats, history) = try await inPieces.statsWithHistory(of: queue, sampleSize: 5)
        let apart = (
            stats: try await whole.stats(of: queue), history: try await whole.history(of: queue, sampleSize: 5)
        )
        #expect(stats.overview.counts == apart.stats.overview.counts)
        #expect(stats.stalledCandidates == apart.stats.stalledCandidates && stats.stalledCandidates == 0)
        #expect(history.finished == apart.history.finished && !history.finished.isEmpty)
        #expect(history.completedTruncated == apart.history.completedTruncated && history.completedTruncated)
        #expect(history.unfinishedAddedAt == apart.history.unfinishedAddedAt)
    }
}

/// A worker's idle wait (LISTEN and a poll on the socket) ends as soon as the task waiting is cancelled.
@Suite(.enabled(if: TestEnvironment.runsLivePostgresTests, "set JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct InterruptedPostgresWaitTests {
    /// Cancelled at once, while it may still be connecting or sending LISTEN: the wait must not block anyway.
    @Test func aWaitCancelledBeforeItBlocksEndsToo() async throws {
        let schema = TestEnvironment.uniqueSchema("wait0")
        try createBullMQSchema(schema)
        defer { try? postgresRaw(["DROP SCHEMA \"\(schema)\" CASCADE"]) }
        let store = PostgresQueueStore(
            endpoint: try PostgresEndpoint(url: try TestEnvironment.requirePostgresURL()),
            schema: try SchemaName(schema))
        let queue = TestEnvironment.uniqueName("wait0")
        for _ in 0..<10 {
            let wait = Task { try await store.waitForWork(queue: queue, timeoutMs: 120_000) }
            wait.cancel()
            // Only an interrupted wait throws: one that ran out would return false after its timeout. (No
            // wall-clock bound: under the full suite the test's own task can wait minutes for a thread.)
            await #expect(throws: CancellationError.self) { _ = try await wait.value }
        }
        #expect(try await store.waitForWork(queue: queue, timeoutMs: 10) == false)
    }

    @Test func cancellingAnIdleWaitEndsItAtOnceAndTheStoreStillWorks() async throws {
        let schema = TestEnvironment.uniqueSchema("wait")
        try createBullMQSchema(schema)
        defer { try? postgresRaw(["DROP SCHEMA \"\(schema)\" CASCADE"]) }
        let url = try TestEnvironment.requirePostgresURL()
        let store = PostgresQueueStore(endpoint: try PostgresEndpoint(url: url), schema: try SchemaName(schema))
        try await store.connect()
        // A queue name of its own (on Postgres the NOTIFY payload is the bare name, shared by every schema).
        let queue = TestEnvironment.uniqueName("wait")
        let wait = Task { try await store.waitForWork(queue: queue, timeoutMs: 120_000) }
        // Until a session has run LISTEN and sits idle (up to 30 s). Asked without blocking a thread of the
        // cooperative pool, which the waiting task needs to start.
        let observer = PostgresClient(
            endpoint: try PostgresEndpoint(url: url), connectTimeoutMs: 5000, commandTimeoutMs: 5000)
        var listening = false
        for _ in 0..<300 where !listening {
            let rows = try await observer.query(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND state = 'idle'")
            listening = (rows.scalar.flatMap { Int($0) } ?? 0) > 0
            if !listening { try await Task.sleep(nanoseconds: 100_000_000) }
        }
        #expect(listening, "no session listening")
        wait.cancel()
        // Only an interrupted wait throws: one that ran out would return false after its timeout.
        await #expect(throws: CancellationError.self) { _ = try await wait.value }
        #expect(try await store.waitForWork(queue: queue, timeoutMs: 10) == false)
    }
}
