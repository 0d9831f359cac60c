import Foundation
import TestSupport
import Testing

/// Redis over TLS (`rediss://`) with the real Python client on the same server, and every way TLS can fail, each with
/// its own message (`scripts/services.sh` starts the servers: a certificate for "localhost" only, from a CA of the
/// tests' own; a second port that requires a client certificate).
@Suite(
    .enabled(
        if: TestEnvironment.runsRedisTLSTests,
        "set JOBCTL_TEST_REDIS_TLS_URL, _DIR and _MTLS_PORT (scripts/test.sh does)"))
struct RedisTLSTests {
    typealias Object = [String: Any]

    @Test func inspectionControlAndWorkersWorkOverTLS() throws {
        let (url, _, _) = try TestEnvironment.requireRedisTLS()
        let steps = try BullMQSteps(on: .redis, url: url)
        let plan = StepPlan()
        plan.step([
            "op": "add_bulk", "queue": "mail",
            "jobs": (0..<3).map { ["name": "send", "data": ["n": $0]] as Object },
        ])
        let stats = plan.jobctl(["stats", "mail", "-o", "json"])
        let paused = plan.jobctl(["pause", "mail", "--yes"])
        let clientSeesPaused = plan.result(["op": "is_paused", "queue": "mail"])
        plan.step(["op": "resume", "queue": "mail"])
        let once = plan.jobctl(["run-once", "mail", "--noop"])
        plan.step(["op": "jobctl_start", "args": ["run", "mail", "--noop"], "until": "wake-ups:"])
        plan.step(["op": "add", "queue": "mail", "name": "later", "data": [:] as Object])
        let done = plan.result(["op": "wait_counts", "queue": "mail", "state": "completed", "count": 4, "timeout": 60])
        let stopped = plan.result(["op": "jobctl_stop"])
        try plan.run(on: steps)
        #expect(stats.status == 0, "\(stats)")
        #expect(((try stats.json()["counts"] as? Object)?["waiting"] as? NSNumber)?.intValue == 3, "\(stats.stdout)")
        #expect(paused.status == 0 && clientSeesPaused["paused"] as? Bool == true, "\(paused)")
        #expect(once.status == 0, "\(once)")
        #expect(done["timed_out"] as? Bool == false, "the blocking wait over TLS woke for the job added later: \(done)")
        #expect(
            stopped.int("status") == 0 && stopped.string("stderr")?.contains("wake-ups: the queue's marker") == true)
    }

    @Test func eachFailureSaysWhichAndNeverThePassword() throws {
        let (url, folder, mutualPort) = try TestEnvironment.requireRedisTLS()
        let tlsPort = try #require(URLComponents(string: url)?.port)
        let redisPort = try #require(URLComponents(string: try TestEnvironment.requireRedisURL())?.port)
        let password = "pw-\(UUID().uuidString.prefix(8))"
        let ca = "ssl_ca_certs=\(folder)/ca.crt"
        let cases: [(url: String, status: Int32, says: String)] = [
            (
                "rediss://:\(password)@127.0.0.1:\(tlsPort)/0?\(ca)", 1,
                "host name mismatch: the certificate names "
                    + "localhost, not '127.0.0.1'"
            ),
            (
                "rediss://:\(password)@localhost:\(tlsPort)/0?ssl_ca_certs=\(folder)/other-ca.crt", 1,
                "certificate not trusted"
            ),
            ("rediss://:\(password)@localhost:\(tlsPort)/0", 1, "certificate not trusted"),
            ("rediss://:\(password)@localhost:\(mutualPort)/0?\(ca)", 1, "the server requires a client certificate"),
            ("redis://:\(password)@localhost:\(tlsPort)/0", 69, "a TLS-only port? then use rediss://"),
            ("rediss://:\(password)@localhost:\(redisPort)/0?\(ca)", 69, "if this port is not TLS, use redis://"),
        ]
        for (target, status, says) in cases {
            let run = try TestEnvironment.jobctl(
                ["status", "--connect-timeout", "2s"], environment: ["JOBCTL_URL": target])
            #expect(run.status == status && run.stderr.contains(says), "\(target): \(run)")
            #expect(!run.stderr.contains(password) && !run.stdout.contains(password), "\(target)")
        }
        let mutual = try TestEnvironment.jobctl(
            [
                "status", "--tls-ca", "\(folder)/ca.crt", "--tls-cert", "\(folder)/client.crt", "--tls-key",
                "\(folder)/client.key",
            ], environment: ["JOBCTL_URL": "rediss://localhost:\(mutualPort)/0"])
        #expect(mutual.status == 0, "with the client certificate: \(mutual)")
        let halfPair = try TestEnvironment.jobctl(
            ["status", "--tls-cert", "\(folder)/client.crt"], environment: ["JOBCTL_URL": url])
        #expect(halfPair.status == 64 && halfPair.stderr.contains("go together"), "\(halfPair)")
    }

    @Test func turningVerificationOffWarnsEveryTime() throws {
        let (url, _, _) = try TestEnvironment.requireRedisTLS()
        let tlsPort = try #require(URLComponents(string: url)?.port)
        for arguments in [["status", "--tls-insecure"], ["status"]] {
            let target =
                arguments.count > 1
                ? "rediss://127.0.0.1:\(tlsPort)/0" : "rediss://127.0.0.1:\(tlsPort)/0?ssl_cert_reqs=none"
            let run = try TestEnvironment.jobctl(arguments, environment: ["JOBCTL_URL": target])
            #expect(run.status == 0 && run.stderr.contains("without checking the server's certificate"), "\(run)")
        }
    }
}
