import Foundation
import TestSupport
import Testing

/// jobctl through PgBouncer in transaction mode with one server connection (`scripts/services.sh`), the way hosted
/// PostgreSQL is reached (Supabase's port 6543, Neon's pooled endpoint), and over verified TLS.
@Suite(
    .serialized,
    .enabled(
        if: TestEnvironment.runsPoolerTests && Backend.postgres.isLive,
        "set JOBCTL_TEST_PGBOUNCER_URL and JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct PoolerTests {
    typealias Object = [String: Any]

    /// What the next client of the pooled server connection finds: every setting, LISTENs, prepared statements,
    /// advisory locks and temporary tables.
    static func sessionState(_ url: String) throws -> [[String?]] {
        let rows = try postgresRows(
            [
                "SELECT name, setting, source FROM pg_settings ORDER BY name",
                "SELECT 'listening', count(*)::text FROM pg_listening_channels()",
                "SELECT 'prepared', count(*)::text FROM pg_prepared_statements",
                "SELECT 'advisory locks', count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND pid = "
                    + "pg_backend_pid()",
                "SELECT 'temporary tables', count(*)::text FROM pg_class WHERE relpersistence = 't'",
            ], url: url)
        return rows.flatMap { $0 }
    }

    /// What differs; a setting that appeared at its default (a module's, once the session loaded it, such as
    /// plpgsql's on the first call of a function) is no change.
    static func changes(_ before: [[String?]], _ after: [[String?]]) -> [String] {
        let old = Dictionary(before.map { ($0[0] ?? "", $0.dropFirst().map { $0 }) }, uniquingKeysWith: { a, _ in a })
        return after.compactMap { row in
            let name = row[0] ?? ""
            let now = row.dropFirst().map { $0 }
            guard let was = old[name] else {
                return now.count > 1 && now[1] == "default" ? nil : "\(name): (absent) -> \(now)"
            }
            return was == now ? nil : "\(name): \(was) -> \(now)"
        }
    }

    @Test func everyCommandFamilyLeavesTheSessionAsItFoundIt() throws {
        let pooler = try TestEnvironment.requirePgBouncerURL()
        let steps = try BullMQSteps(on: .postgres)
        let pooled = ["JOBCTL_URL": pooler]
        let setup = StepPlan()
        setup.step(["op": "add", "queue": "mail", "name": "send", "data": ["n": 1] as Object])
        setup.step([
            "op": "fail_jobs", "queue": "mail", "count": 2, "name": "send", "error": "boom",
        ])
        try setup.run(on: steps)
        let before = try Self.sessionState(pooler)
        let runs: [[String]] = [
            ["status", "--timeout", "7s"], ["stats", "mail", "--timeout", "7s"], ["jobs", "mail", "--state", "failed"],
            ["show", "mail", "1"], ["retry", "mail", "--failed", "--yes"], ["pause", "mail", "--yes"],
            ["resume", "mail", "--yes"],
            ["add", "mail", "send", "--data", "{}", "--yes"], ["run-once", "mail", "--noop"],
            ["drain", "mail", "--yes"],
            ["workers", "mail"],
        ]
        for arguments in runs {
            let plan = StepPlan()
            let run = plan.jobctl(arguments, environment: pooled)
            try plan.run(on: steps)
            #expect(run.status == 0, "\(arguments) through the pooler: \(run)")
            let changed = Self.changes(before, try Self.sessionState(pooler))
            #expect(changed.isEmpty, "after \(arguments), the pooled session has: \(changed)")
        }
        // A long-running worker too, stopped by SIGTERM.
        let plan = StepPlan()
        plan.step(["op": "add", "queue": "mail", "name": "send", "data": [:] as Object])
        plan.step(["op": "jobctl_start", "args": ["run", "mail", "--noop"], "env": pooled, "until": "wake-ups:"])
        plan.step(["op": "wait_counts", "queue": "mail", "state": "completed", "count": 1, "timeout": 60])
        let stopped = plan.result(["op": "jobctl_stop"])
        try plan.run(on: steps)
        #expect(stopped.int("status") == 0, "\(stopped)")
        #expect(stopped.string("stderr")?.contains("wake-ups: polling") == true, "\(stopped)")
        let changed = Self.changes(before, try Self.sessionState(pooler))
        #expect(changed.isEmpty, "after run, the pooled session has: \(changed)")
    }

    @Test func anIdleWorkerBehindThePoolerPollsAndRunsAJobAddedLater() throws {
        let pooler = try TestEnvironment.requirePgBouncerURL()
        let steps = try BullMQSteps(on: .postgres)
        let plan = StepPlan()
        plan.step(["op": "add", "queue": "sync", "name": "first", "data": [:] as Object])
        plan.step([
            "op": "jobctl_start", "args": ["run", "sync", "--noop"], "env": ["JOBCTL_URL": pooler],
            "until": "wake-ups:",
        ])
        plan.step(["op": "wait_counts", "queue": "sync", "state": "completed", "count": 1, "timeout": 60])
        plan.step(["op": "sleep", "seconds": 20])
        plan.step(["op": "add", "queue": "sync", "name": "later", "data": [:] as Object])
        let done = plan.result([
            "op": "wait_counts", "queue": "sync", "state": "completed", "count": 2, "timeout": 60,
        ])
        let stopped = plan.result(["op": "jobctl_stop"])
        try plan.run(on: steps)
        #expect(done["timed_out"] as? Bool == false, "the job added after 20 s idle ran: \(done)")
        let log = stopped.string("stderr") ?? ""
        #expect(log.contains("wake-ups: polling") && log.contains("transaction pooler"), "\(log)")
    }

    @Test func withListenURLTheWorkerBehindThePoolerWakesOnTheNotify() throws {
        let pooler = try TestEnvironment.requirePgBouncerURL()
        let steps = try BullMQSteps(on: .postgres)
        let plan = StepPlan()
        plan.step(["op": "add", "queue": "sync", "name": "first", "data": [:] as Object])
        plan.step([
            "op": "jobctl_start", "args": ["run", "sync", "--noop"],
            "env": ["JOBCTL_URL": pooler, "JOBCTL_LISTEN_URL": steps.url], "until": "wake-ups:",
        ])
        plan.step(["op": "wait_counts", "queue": "sync", "state": "completed", "count": 1, "timeout": 60])
        plan.step(["op": "add", "queue": "sync", "name": "later", "data": [:] as Object])
        let done = plan.result([
            "op": "wait_counts", "queue": "sync", "state": "completed", "count": 2, "timeout": 60,
        ])
        let stopped = plan.result(["op": "jobctl_stop"])
        try plan.run(on: steps)
        #expect(done["timed_out"] as? Bool == false, "\(done)")
        #expect(stopped.string("stderr")?.contains("wake-ups: NOTIFY on bullmq_jobs through --listen-url") == true)
    }

    @Test func listenURLIsForPostgreSQLOnly() throws {
        let result = try TestEnvironment.jobctl(
            ["run", "mail", "--noop", "--listen-url", "postgresql://localhost/x"],
            environment: ["JOBCTL_URL": "redis://127.0.0.1:1/0"])
        #expect(result.status == 64 && result.stderr.contains("--listen-url applies to PostgreSQL"), "\(result)")
    }

    @Test func verifiedTLSPassesWithTheCAAndRefusesAnotherHostName() throws {
        let ca = try TestEnvironment.requirePostgresTLSCA()
        let direct = try #require(URLComponents(string: try TestEnvironment.requirePostgresURL()))
        let password = "tls-\(UUID().uuidString.prefix(8))"
        func url(host: String) -> String {
            var url = direct
            (url.host, url.password) = (host, password)
            url.queryItems = [.init(name: "sslmode", value: "verify-full"), .init(name: "sslrootcert", value: ca)]
            return url.string ?? ""
        }
        let steps = try BullMQSteps(on: .postgres)
        let plan = StepPlan()
        plan.step(["op": "add", "queue": "mail", "name": "send", "data": [:] as Object])
        let good = plan.jobctl(["status", "mail"], environment: ["JOBCTL_URL": url(host: "localhost")])
        let wrongName = plan.jobctl(["status", "mail"], environment: ["JOBCTL_URL": url(host: "127.0.0.1")])
        try plan.run(on: steps)
        #expect(good.status == 0 && good.stdout.contains("mail"), "\(good)")
        #expect(wrongName.status == 1, "\(wrongName)")
        #expect(wrongName.stderr.contains("certificate") && wrongName.stderr.contains("does not match host name"))
        for run in [good, wrongName] {
            #expect(!run.stderr.contains(password) && !run.stdout.contains(password), "no password printed")
        }
    }
}
