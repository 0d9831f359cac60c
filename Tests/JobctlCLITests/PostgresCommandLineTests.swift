import Foundation
import TestSupport
import Testing

/// How the binary picks PostgreSQL, and its errors there: exit codes, messages, redaction.
@Suite struct PostgresSelectionTests {
    @Test func unreachablePostgresExits69WithoutThePassword() throws {
        let password = "pg-secret-\(UUID().uuidString)"
        for environment in [
            ["JOBCTL_URL": "postgresql://ops:\(password)@127.0.0.1:1/app"],
            ["DATABASE_URL": "postgres://ops@127.0.0.1:1/app", "PGPASSWORD": password],
        ] {
            let result = try TestEnvironment.jobctl(["status", "--connect-timeout", "2s"], environment: environment)
            #expect(result.status == 69, "\(result.stderr)")
            #expect(result.stderr.contains("cannot connect to PostgreSQL at 127.0.0.1:1"))
            #expect(result.stderr.contains("likely causes"))
            #expect(!(result.stdout + result.stderr).contains(password))
        }
    }

    @Test func choosingTheBackendIsExplicitWhenItIsAmbiguous() throws {
        let both = try TestEnvironment.jobctl(
            ["status"], environment: ["REDIS_URL": "redis://127.0.0.1:1", "DATABASE_URL": "postgresql://127.0.0.1:1/x"])
        #expect(both.status == 64)
        #expect(both.stderr.contains("both REDIS_URL and DATABASE_URL are set"))

        let prefix = try TestEnvironment.jobctl(
            ["status", "--prefix", "bull"], environment: ["JOBCTL_URL": "postgresql://127.0.0.1:1/x"])
        #expect(prefix.status == 64)
        #expect(prefix.stderr.contains("--prefix applies to Redis"))

        let schema = try TestEnvironment.jobctl(
            ["status", "--schema", "bullmq"], environment: ["JOBCTL_URL": "redis://127.0.0.1:1"])
        #expect(schema.status == 64)
        #expect(schema.stderr.contains("--schema applies to PostgreSQL"))

        let badSchema = try TestEnvironment.jobctl(
            ["status", "--schema", "x;drop"], environment: ["JOBCTL_URL": "postgresql://127.0.0.1:1/x"])
        #expect(badSchema.status == 64)
        #expect(badSchema.stderr.contains("invalid --schema"))

        let badURL = try TestEnvironment.jobctl(
            ["status"], environment: ["JOBCTL_URL": "postgresql://u:pw-123@h/db?nonsense=1"])
        #expect(badURL.status == 64)
        #expect(badURL.stderr.contains("invalid PostgreSQL URL"))
        #expect(!badURL.stderr.contains("pw-123"))
    }

    @Test func silentServerTimesOutWithExit69() throws {
        let listener = try SilentListener()
        defer { listener.stop() }
        let started = Date()
        let result = try TestEnvironment.jobctl(
            ["status", "--connect-timeout", "700ms"],
            environment: ["JOBCTL_URL": "postgresql://x@127.0.0.1:\(listener.port)/db"])
        #expect(result.status == 69)
        #expect(result.stderr.contains("connect timed out after 700 ms"))
        #expect(Date().timeIntervalSince(started) < 10)
    }
}

/// Against the live server: schema checks, libpq's environment, passwords.
@Suite(.enabled(if: TestEnvironment.runsLivePostgresTests, "set JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct LivePostgresCommandLineTests {
    @Test func missingSchemaExplainsHowToCreateItAndNamesOthers() throws {
        let url = try TestEnvironment.requirePostgresURL()
        let present = TestEnvironment.uniqueSchema("cli")
        try createBullMQSchema(present)
        defer { try? postgresRaw(["DROP SCHEMA \"\(present)\" CASCADE"]) }
        let result = try TestEnvironment.jobctl(["status", "--schema", "nothere"], environment: ["JOBCTL_URL": url])
        #expect(result.status == 1)
        #expect(result.stderr.contains("schema 'nothere' not found"))
        #expect(result.stderr.contains("'\(present)'"))
        #expect(result.stderr.contains("run_migrations"))
        #expect(result.stdout.isEmpty)

        let empty = try TestEnvironment.jobctl(
            ["status", "-o", "json"], environment: ["JOBCTL_URL": url, "JOBCTL_SCHEMA": present])
        #expect(empty.status == 0, "\(empty.stderr)")
        #expect(try parseJSONObject(empty.stdout)["queues"] as? [Any] != nil)
    }

    @Test func libpqEnvironmentAloneSelectsPostgres() throws {
        let url = try TestEnvironment.requirePostgresURL()
        let parts = try #require(URLComponents(string: url))
        let schema = TestEnvironment.uniqueSchema("env")
        try createBullMQSchema(schema)
        defer { try? postgresRaw(["DROP SCHEMA \"\(schema)\" CASCADE"]) }
        try postgresRaw([
            "SELECT \"\(schema)\".add_job('from-env', '', 'n', '{}', '{}', 0, 0, 1700000000000, 1, NULL, NULL, NULL, "
                + "NULL, NULL, false)"
        ])
        let environment = [
            "PGHOST": parts.host ?? "", "PGPORT": String(parts.port ?? 5432), "PGUSER": parts.user ?? "",
            "PGDATABASE": String(parts.path.dropFirst()), "JOBCTL_SCHEMA": schema,
        ]
        let result = try TestEnvironment.jobctl(["stats", "from-env", "-o", "json"], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(jsonEqual((try parseJSONObject(result.stdout)["counts"] as? [String: Any])?["waiting"], 1))
    }

    @Test func wrongPasswordIsRefusedClearlyAndNoPasswordIsEverPrinted() throws {
        let url = try TestEnvironment.requirePostgresURL()
        let parts = try #require(URLComponents(string: url))
        let password = "pg-pw-\(UUID().uuidString)"
        let role = "jobctl_password_test"  // scripts/services.sh makes this role log in with a password
        try postgresRaw([
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(role)') THEN CREATE ROLE \(role) "
                + "LOGIN; END IF; END $$",
            "ALTER ROLE \(role) PASSWORD '\(password)'",
        ])
        let base = "postgresql://\(role)@\(parts.host ?? "127.0.0.1"):\(parts.port ?? 5432)\(parts.path)"
        let wrong = try TestEnvironment.jobctl(
            ["status"], environment: ["JOBCTL_URL": base, "PGPASSWORD": "not-\(password)"])
        #expect(wrong.status == 1, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("refused the login"))
        #expect(wrong.stderr.contains("password authentication failed"))
        #expect(!(wrong.stdout + wrong.stderr).contains(password))

        let missing = try TestEnvironment.jobctl(["status"], environment: ["JOBCTL_URL": base])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("refused the login"))

        // The right password, in the URL on the command line: a warning, then the schema check (no schema).
        let right = try TestEnvironment.jobctl(
            [
                "status", "--url",
                "postgresql://\(role):\(password)@\(parts.host ?? ""):\(parts.port ?? 5432)\(parts.path)", "--schema",
                "nothere",
            ])
        #expect(right.status == 1)
        #expect(right.stderr.contains("visible to other users in the process list"))
        #expect(right.stderr.contains("schema 'nothere' not found"))
        #expect(!(right.stdout + right.stderr).contains(password))
    }
}
