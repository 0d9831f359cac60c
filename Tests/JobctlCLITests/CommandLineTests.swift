import Foundation
import TestSupport
import Testing

/// The built binary's exit codes, messages and redaction, without needing queue data.
@Suite struct CommandLineTests {
    @Test func usageErrorsExit64() throws {
        for arguments in [
            ["stats"], ["jobs", "q"], ["jobs", "q", "--state", "bogus"],
            ["jobs", "q", "--state", "failed", "--limit", "0"],
            ["status", "--output", "yaml"], ["status", "--timeout", "soon"], ["frobnicate"],
        ] {
            let result = try TestEnvironment.jobctl(arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stdout.isEmpty)
            #expect(!result.stderr.isEmpty)
        }
    }

    @Test(arguments: ["http://example.com", "redis://h:99999", "rediss://:pw@h?ssl_certfile=/c.pem"])
    func malformedURLsExit64WithoutThePassword(_ url: String) throws {
        let result = try TestEnvironment.jobctl(["status"], environment: ["JOBCTL_URL": url])
        #expect(result.status == 64)
        #expect(result.stderr.contains("invalid Redis URL"))
        #expect(!result.stderr.contains(":pw@"))
    }

    @Test func unreachableServerExits69NamingHostAndPort() throws {
        let password = "correct-horse-\(UUID().uuidString)"
        for environment in [
            ["JOBCTL_URL": "redis://:\(password)@127.0.0.1:1/0"], ["REDIS_URL": "redis://user:\(password)@127.0.0.1:1"],
        ] {
            let result = try TestEnvironment.jobctl(["status", "--connect-timeout", "2s"], environment: environment)
            #expect(result.status == 69)
            #expect(result.stderr.contains("cannot connect to Redis at 127.0.0.1:1"))
            #expect(result.stderr.contains("likely causes"))
            #expect(!(result.stdout + result.stderr).contains(password))
        }
    }

    @Test func passwordOnTheCommandLineDrawsAWarningAndIsNeverPrinted() throws {
        let password = "tr0ub4dor-\(UUID().uuidString)"
        let result = try TestEnvironment.jobctl(["status", "--url", "redis://:\(password)@127.0.0.1:1", "-o", "json"])
        #expect(result.status == 69)
        #expect(result.stderr.contains("visible to other users in the process list"))
        #expect(!(result.stdout + result.stderr).contains(password))
    }

    @Test func helpAndVersion() throws {
        let help = try TestEnvironment.jobctl(["--help"])
        #expect(help.status == 0)
        for command in ["status", "stats", "jobs", "show"] { #expect(help.stdout.contains(command)) }
        #expect(help.stdout.contains("69"))
        let version = try TestEnvironment.jobctl(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("0."))
    }
}

/// Authentication against the live server, with a throwaway ACL user.
@Suite(.enabled(if: TestEnvironment.runsLiveRedisTests, "set JOBCTL_TEST_REDIS_URL (scripts/test.sh does)"))
struct AuthenticationTests {
    @Test func wrongPasswordIsAClearErrorAndRightPasswordWorks() throws {
        let url = try #require(TestEnvironment.redisURL)
        let user = TestEnvironment.uniqueName("jobctl-test")
        let password = "pw-\(UUID().uuidString)"
        try redisRaw([["ACL", "SETUSER", user, "on", ">\(password)", "~*", "+@all"]])
        defer { try? redisRaw([["ACL", "DELUSER", user]]) }
        let hostPart = url.replacingOccurrences(of: "redis://", with: "")

        let wrong = try TestEnvironment.jobctl(
            ["status"], environment: ["JOBCTL_URL": "redis://\(user):not-\(password)@\(hostPart)"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("refused the login"))
        #expect(wrong.stderr.contains("WRONGPASS") || wrong.stderr.contains("check the user name and password"))
        #expect(!(wrong.stdout + wrong.stderr).contains(password))

        let right = try TestEnvironment.jobctl(
            ["status", "-o", "json"],
            environment: ["JOBCTL_URL": "redis://\(user):\(password)@\(hostPart)", "JOBCTL_PREFIX": "jt-none"])
        #expect(right.status == 0, "\(right.stderr)")
        #expect(!(right.stdout + right.stderr).contains(password))
        #expect(right.stdout.contains("***"))
    }
}

/// A server that accepts connections and never answers: jobctl must give up after --timeout, not hang.
@Suite struct HungServerTests {
    @Test func silentServerTimesOutWithExit69() throws {
        let listener = try SilentListener()
        defer { listener.stop() }
        let started = Date()
        let result = try TestEnvironment.jobctl(
            ["status", "--timeout", "700ms"], environment: ["JOBCTL_URL": "redis://127.0.0.1:\(listener.port)/0"])
        #expect(result.status == 69)
        #expect(result.stderr.contains("did not answer in time"))
        #expect(Date().timeIntervalSince(started) < 10)
    }
}

/// A listener on a free loopback port that accepts connections and never says anything, for at most 20 s.
struct SilentListener {
    let process: Process
    let port: Int

    init() throws {
        let script = """
            import socket, sys, time
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
            print(s.getsockname()[1], flush=True)
            conns = []
            deadline = time.time() + 20
            s.settimeout(0.2)
            while time.time() < deadline:
                try: conns.append(s.accept()[0])
                except socket.timeout: pass
            """
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let portLine = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = Int(portLine.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw MissingServiceError(description: "the silent listener did not start: \(portLine)")
        }
        self.port = port
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)  // SIGTERM may be ignored by what the test runner passes down
        process.waitUntilExit()
    }
}
