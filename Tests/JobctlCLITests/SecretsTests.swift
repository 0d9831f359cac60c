import Foundation
import TestSupport
import Testing

/// A password given any way the documentation allows — in JOBCTL_URL, with --url, in PGPASSWORD, in a libpq password
/// file — never appears in anything jobctl prints, whatever the command and however it ends (success, usage error,
/// missing queue or job, unreachable server, failed check).
///
/// Every output captured here is searched for it.
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct SecretsTests {
    /// Every command, on a queue with a waiting, a failed and a delayed job; the runs that must fail say so.
    static func commands(queue: String) -> [(arguments: [String], status: Int32)] {
        [
            (["status"], 0), (["status", "--check", "backlog<0"], 2), (["stats", queue], 0),
            (["stats", queue, "-o", "prometheus"], 0),
            (["stats", queue, "--json"], 0), (["jobs", queue, "--state", "failed"], 0), (["show", queue, "1"], 0),
            (["show", queue, "404"], 1), (["stats", "no-such-queue"], 1), (["retry", queue, "--dry-run"], 0),
            (["drain", queue, "--dry-run", "--json"], 0), (["promote", queue, "--dry-run"], 0),
            (["clean", queue, "--failed", "--older-than", "1d", "--dry-run"], 0),
            (["pause", queue, "--yes"], 0), (["resume", queue, "--yes"], 0),
            (["add", queue, "x", "--data", "{}", "--yes"], 0),
            (["run-once", queue, "--noop", "--json", "--max-jobs", "1"], 0), (["tune", queue, "--json"], 0),
            (["retry", queue], 64),
        ]
    }

    static func expectNoPassword(_ password: String, in runs: [(String, ProcessResult)]) {
        for (label, run) in runs {
            #expect(!(run.stdout + run.stderr).contains(password), "\(label) printed the password")
            #expect(
                !(run.stdout + run.stderr).contains(
                    password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password))
        }
    }

    @Test func redisPasswordsInURLsNeverShow() throws {
        let base = try TestEnvironment.requireRedisURL()
        let parts = try #require(URLComponents(string: base))
        let password = "rd-\(UUID().uuidString)-p@ss:w/rd"
        let user = "jobctl_secret_\(UUID().uuidString.prefix(6).lowercased())"
        try redisRaw([["ACL", "SETUSER", user, "on", ">\(password)", "~*", "&*", "+@all"]])
        defer { try? redisRaw([["ACL", "DELUSER", user]]) }
        let steps = try BullMQSteps(on: .redis)
        _ = try steps.run([
            ["op": "add", "queue": "sq", "name": "a", "data": [:], "opts": [:]],
            ["op": "fail_jobs", "queue": "sq", "count": 1, "name": "f", "error": "boom"],
            ["op": "add", "queue": "sq", "name": "d", "data": [:], "opts": ["delay": 600_000]],
        ])
        let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let url = "redis://\(user):\(encoded)@\(parts.host ?? "127.0.0.1"):\(parts.port ?? 6379)\(parts.path)"
        var runs: [(String, ProcessResult)] = []
        for (arguments, status) in Self.commands(queue: "sq") {
            let run = try TestEnvironment.jobctl(
                arguments, environment: ["JOBCTL_URL": url, "JOBCTL_PREFIX": steps.namespace])
            #expect(run.status == status, "\(arguments): \(run.stderr)")
            runs.append((arguments.joined(separator: " "), run))
        }
        let onCommandLine = try TestEnvironment.jobctl(["stats", "sq", "--url", url, "--prefix", steps.namespace])
        #expect(
            onCommandLine.status == 0 && onCommandLine.stderr.contains("visible to other users in the process list"))
        runs.append(("--url", onCommandLine))
        let wrong = try TestEnvironment.jobctl(
            ["status"], environment: ["JOBCTL_URL": url.replacingOccurrences(of: encoded, with: "not" + encoded)])
        #expect(wrong.status == 1, "\(wrong.stderr)")
        runs.append(("wrong password", wrong))
        let unreachable = try TestEnvironment.jobctl(
            ["status"], environment: ["JOBCTL_URL": "redis://\(user):\(encoded)@127.0.0.1:1/0"])
        #expect(unreachable.status == 69)
        let malformed = try TestEnvironment.jobctl(
            ["status"], environment: ["JOBCTL_URL": "redis://\(user):\(encoded)@127.0.0.1:notaport/0"])
        #expect(malformed.status == 64)
        runs += [("unreachable", unreachable), ("malformed", malformed)]
        Self.expectNoPassword(password, in: runs)
    }

    @Test func postgresPasswordsFromURLsEnvironmentAndPasswordFilesNeverShow() throws {
        let base = try TestEnvironment.requirePostgresURL()
        let parts = try #require(URLComponents(string: base))
        let password = "pg-\(UUID().uuidString)"
        let role = "jobctl_password_test"  // scripts/services.sh makes this role log in with a password
        let steps = try BullMQSteps(on: .postgres)
        _ = try steps.run([
            ["op": "add", "queue": "sq", "name": "a", "data": [:], "opts": [:]],
            ["op": "fail_jobs", "queue": "sq", "count": 1, "name": "f", "error": "boom"],
            ["op": "add", "queue": "sq", "name": "d", "data": [:], "opts": ["delay": 600_000]],
        ])
        let schema = "\"\(steps.namespace)\""
        try postgresRaw([
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(role)') THEN CREATE ROLE \(role) "
                + "LOGIN; END IF; END $$",
            "ALTER ROLE \(role) PASSWORD '\(password)'",
            "GRANT ALL ON SCHEMA \(schema) TO \(role)", "GRANT ALL ON ALL TABLES IN SCHEMA \(schema) TO \(role)",
            "GRANT ALL ON ALL SEQUENCES IN SCHEMA \(schema) TO \(role)",
        ])
        let host = parts.host ?? "127.0.0.1", port = parts.port ?? 5432, database = String(parts.path.dropFirst())
        let bare = "postgresql://\(role)@\(host):\(port)/\(database)"
        let passwordFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "jobctl-pgpass-\(UUID().uuidString)"
        ).path
        try "\(host):\(port):\(database):\(role):\(password)\n".write(
            toFile: passwordFile, atomically: true, encoding: .utf8)
        _ = chmod(passwordFile, 0o600)
        defer { try? FileManager.default.removeItem(atPath: passwordFile) }
        let ways: [(String, [String: String])] = [
            ("JOBCTL_URL", ["JOBCTL_URL": "postgresql://\(role):\(password)@\(host):\(port)/\(database)"]),
            ("PGPASSWORD", ["JOBCTL_URL": bare, "PGPASSWORD": password]),
            ("PGPASSFILE", ["JOBCTL_URL": bare, "PGPASSFILE": passwordFile]),
        ]
        var runs: [(String, ProcessResult)] = []
        for (way, environment) in ways {
            for (arguments, status) in Self.commands(queue: "sq") {
                let run = try TestEnvironment.jobctl(
                    arguments, environment: environment.merging(["JOBCTL_SCHEMA": steps.namespace]) { $1 })
                #expect(run.status == status, "\(way) \(arguments): \(run.stderr)")
                runs.append(("\(way) \(arguments.joined(separator: " "))", run))
            }
            let noSchema = try TestEnvironment.jobctl(
                ["status"], environment: environment.merging(["JOBCTL_SCHEMA": "nothere"]) { $1 })
            #expect(noSchema.status == 1)
            runs.append(("\(way) missing schema", noSchema))
        }
        let unreachable = try TestEnvironment.jobctl(
            ["status"], environment: ["JOBCTL_URL": "postgresql://\(role):\(password)@127.0.0.1:1/db"])
        #expect(unreachable.status == 69)
        let malformed = try TestEnvironment.jobctl(
            ["status"], environment: ["JOBCTL_URL": "postgresql://\(role):\(password)@127.0.0.1:99999/db"])
        #expect(malformed.status == 64)
        runs += [("unreachable", unreachable), ("malformed", malformed)]
        Self.expectNoPassword(password, in: runs)
    }
}
