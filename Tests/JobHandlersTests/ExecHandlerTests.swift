import Glibc
import JobCore
import JobHandlers
import Testing

@Suite struct ExecHandlerTests {
    static func job(_ data: String = #"{"n":2}"#) -> ClaimedJob {
        ClaimedJob(
            queue: "q", id: "7", name: "double", data: data, opts: .object([]), attemptsMade: 1, timestamp: 5,
            token: "t")
    }

    @Test func theJobArrivesOnStdinAndInTheEnvironment() async {
        let handler = ExecHandler(
            command: [
                "/bin/sh", "-c",
                #"read line; printf '{"got":%s,"env":"%s/%s/%s/%s"}' "$line" "#
                    + #""$JOBCTL_QUEUE" "$JOBCTL_JOB_ID" "$JOBCTL_JOB_NAME" "$JOBCTL_ATTEMPT""#,
            ],
            timeoutMs: 10_000, log: { _ in })
        let outcome = await handler.run(Self.job())
        guard case .completed(let value) = outcome, let parsed = try? JSONValue.parse(value) else {
            Issue.record("not completed: \(outcome)")
            return
        }
        #expect(parsed["env"] == .string("q/7/double/2"))
        #expect(parsed["got"]?["data"]?["n"] == .number("2") && parsed["got"]?["attemptsMade"] == .number("1"))
    }

    @Test func outputThatIsNotJSONIsAString() async {
        let outcome = await ExecHandler(command: ["/bin/echo", "plain text"], timeoutMs: nil, log: { _ in }).run(
            Self.job())
        #expect(outcome == .completed(returnValue: #""plain text""#))
    }

    @Test func failuresCarryTheTailOfStderrAndStatus65IsFinal() async {
        let failing = await ExecHandler(
            command: ["/bin/sh", "-c", "echo first >&2; echo 'disk full' >&2; exit 3"], timeoutMs: nil, log: { _ in }
        ).run(Self.job())
        #expect(failing == .failed(reason: "first\ndisk full", stacktrace: nil, unrecoverable: false))
        let final = await ExecHandler(command: ["/bin/sh", "-c", "exit 65"], timeoutMs: nil, log: { _ in }).run(
            Self.job())
        #expect(final == .failed(reason: "the handler exited with status 65", stacktrace: nil, unrecoverable: true))
        let missing = await ExecHandler(command: ["/no/such/handler"], timeoutMs: nil, log: { _ in }).run(Self.job())
        guard case .failed(let reason, _, _) = missing else {
            Issue.record("\(missing)")
            return
        }
        #expect(reason.contains("could not start /no/such/handler"))
    }

    @Test func theHandlerGetsNoOtherDescriptorOfJobctl() async {
        let stray = open("/dev/null", O_RDONLY)  // inheritable, like a server socket or a descriptor from our parent
        defer { close(stray) }
        // ls lists its own descriptors: stdin, stdout, stderr and the one it reads the directory with.
        let outcome = await ExecHandler(command: ["/bin/ls", "/proc/self/fd"], timeoutMs: 10_000, log: { _ in }).run(
            Self.job())
        #expect(outcome == .completed(returnValue: #""0\n1\n2\n3""#))
    }

    @Test func aHandlerThatIgnoresItsInputDoesNotTakeTheProcessWithIt() async {
        // More than a pipe holds: writing it to a handler that has exited raises EPIPE (and SIGPIPE).
        let big = "\"" + String(repeating: "x", count: 300_000) + "\""
        let outcome = await ExecHandler(command: ["/bin/true"], timeoutMs: 10_000, log: { _ in }).run(Self.job(big))
        #expect(outcome == .completed(returnValue: "null"))
    }

    @Test func aTimeoutKillsTheWholeProcessGroup() async {
        let marker = "/tmp/jobctl-exec-test-\(UInt32.random(in: 0...UInt32.max))"
        // The handler starts a grandchild that would write the marker after 2 s; both must die at the timeout.
        let handler = ExecHandler(
            command: ["/bin/sh", "-c", "(sleep 2; touch \(marker)) & sleep 30"], timeoutMs: 300, log: { _ in })
        let outcome = await handler.run(Self.job())
        guard case .failed(let reason, _, let unrecoverable) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(reason.contains("timed out after 300ms") && !unrecoverable)
        try? await Task.sleep(nanoseconds: 2_500_000_000)
        #expect(access(marker, F_OK) != 0, "the grandchild survived the timeout")
    }
}
