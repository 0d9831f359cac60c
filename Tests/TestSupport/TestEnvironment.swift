import Foundation

/// Where the test services, the Python client and the built binary are, from the environment that
/// `scripts/test.sh` (and `.ci/run`) export.
public enum TestEnvironment {
    public static let variables = ProcessInfo.processInfo.environment

    /// `JOBCTL_TEST_REDIS_URL`, such as `redis://127.0.0.1:56379/0`.
    public static var redisURL: String? { variables["JOBCTL_TEST_REDIS_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    /// True under CI, where a live suite that cannot reach its server must fail rather than skip.
    public static var isCI: Bool { variables["CI"] == "true" }

    /// Whether live Redis suites run: when a server is configured, and always under CI (where they then fail).
    public static var runsLiveRedisTests: Bool { redisURL != nil || isCI }

    /// The Redis URL for live tests, or an error that says how to set it.
    public static func requireRedisURL() throws -> String {
        guard let url = redisURL else {
            throw MissingServiceError(
                description: "JOBCTL_TEST_REDIS_URL is not set: run the tests with scripts/test.sh")
        }
        return url
    }

    /// `JOBCTL_TEST_POSTGRES_URL`, such as `postgresql://jobctl@127.0.0.1:55432/postgres`.
    public static var postgresURL: String? { variables["JOBCTL_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    /// Whether live PostgreSQL suites run: when a server is configured, and always under CI.
    public static var runsLivePostgresTests: Bool { postgresURL != nil || isCI }

    /// The PostgreSQL URL for live tests, or an error that says how to set it.
    public static func requirePostgresURL() throws -> String {
        guard let url = postgresURL else {
            throw MissingServiceError(
                description: "JOBCTL_TEST_POSTGRES_URL is not set: run the tests with scripts/test.sh")
        }
        return url
    }

    /// `JOBCTL_TEST_PGBOUNCER_URL`: PgBouncer in transaction mode with one server connection, in front of the test
    /// PostgreSQL (`scripts/services.sh`).
    public static var pgbouncerURL: String? { variables["JOBCTL_TEST_PGBOUNCER_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    /// Whether the pooler suites run: when PgBouncer is configured, and always under CI.
    public static var runsPoolerTests: Bool { pgbouncerURL != nil || isCI }

    public static func requirePgBouncerURL() throws -> String {
        guard let url = pgbouncerURL else {
            throw MissingServiceError(
                description: "JOBCTL_TEST_PGBOUNCER_URL is not set: run the tests with scripts/test.sh")
        }
        return url
    }

    /// `JOBCTL_TEST_REDIS_TLS_URL`: `rediss://localhost:…?ssl_ca_certs=…` (`scripts/services.sh`).
    public static var redisTLSURL: String? { variables["JOBCTL_TEST_REDIS_TLS_URL"].flatMap { $0.isEmpty ? nil : $0 } }

    /// Whether the Redis TLS suites run: when the TLS server is configured, and always under CI.
    public static var runsRedisTLSTests: Bool { redisTLSURL != nil || isCI }

    /// The TLS URL, the folder of its certificates and the port that requires a client certificate.
    public static func requireRedisTLS() throws -> (url: String, certificates: String, mutualPort: String) {
        guard let url = redisTLSURL, let folder = variables["JOBCTL_TEST_REDIS_TLS_DIR"],
            let port = variables["JOBCTL_TEST_REDIS_MTLS_PORT"]
        else {
            throw MissingServiceError(
                description:
                    "JOBCTL_TEST_REDIS_TLS_URL (and _DIR, MTLS_PORT) not set: run the tests with scripts/test.sh")
        }
        return (url, folder, port)
    }

    /// `JOBCTL_TEST_REDIS_SENTINEL_URL` (`redis-sentinel://…?master=jobctl-master`) and the two Redis servers the
    /// sentinels watch (`JOBCTL_TEST_REDIS_SENTINEL_NODES`, `host:port,host:port`).
    public static var runsSentinelTests: Bool { variables["JOBCTL_TEST_REDIS_SENTINEL_URL"] != nil || isCI }

    public static func requireSentinel() throws -> (url: String, nodes: [String]) {
        guard let url = variables["JOBCTL_TEST_REDIS_SENTINEL_URL"], !url.isEmpty,
            let nodes = variables["JOBCTL_TEST_REDIS_SENTINEL_NODES"]
        else {
            throw MissingServiceError(
                description: "JOBCTL_TEST_REDIS_SENTINEL_URL is not set: run the tests with scripts/test.sh")
        }
        return (url, nodes.split(separator: ",").map(String.init))
    }

    /// `JOBCTL_TEST_REDIS_CLUSTER_URL` (one node of a cluster of three masters and three replicas),
    /// `JOBCTL_TEST_REDIS_CLUSTER_NODES` (all six, `host:port,…`) and `JOBCTL_TEST_REDIS_CLUSTER_TLS_URL` (a TLS
    /// cluster of three masters that announce "localhost"), from `scripts/services.sh`.
    public static var runsClusterTests: Bool { variables["JOBCTL_TEST_REDIS_CLUSTER_URL"] != nil || isCI }

    public static func requireCluster() throws -> (url: String, nodes: [String], tlsURL: String) {
        guard let url = variables["JOBCTL_TEST_REDIS_CLUSTER_URL"], !url.isEmpty,
            let nodes = variables["JOBCTL_TEST_REDIS_CLUSTER_NODES"],
            let tlsURL = variables["JOBCTL_TEST_REDIS_CLUSTER_TLS_URL"]
        else {
            throw MissingServiceError(
                description: "JOBCTL_TEST_REDIS_CLUSTER_URL (and _NODES, _TLS_URL) not set: run the tests with "
                    + "scripts/test.sh")
        }
        return (url, nodes.split(separator: ",").map(String.init), tlsURL)
    }

    /// `JOBCTL_TEST_POSTGRES_TLS_CA`: the CA that signed the test PostgreSQL's certificate (for "localhost").
    public static func requirePostgresTLSCA() throws -> String {
        guard let path = variables["JOBCTL_TEST_POSTGRES_TLS_CA"], !path.isEmpty else {
            throw MissingServiceError(
                description: "JOBCTL_TEST_POSTGRES_TLS_CA is not set: run the tests with scripts/test.sh")
        }
        return path
    }

    /// A fresh PostgreSQL schema name (a plain identifier) for one test.
    public static func uniqueSchema(_ base: String) -> String {
        "\(base)_\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// The repository root, found from this file's path.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The venv's Python with the pinned `bullmq` (`JOBCTL_TEST_PYTHON`, else `.venv/bin/python`).
    public static var python: String {
        variables["JOBCTL_TEST_PYTHON"] ?? repositoryRoot.appendingPathComponent(".venv/bin/python").path
    }

    /// The BullMQ fixture builder shared with the demo.
    public static var fixtureScript: String { repositoryRoot.appendingPathComponent("scripts/bullmq-fixture.py").path }

    /// A fresh name for one test's queues, so tests never share state.
    public static func uniqueName(_ base: String) -> String {
        "\(base)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}

/// The result of running a process to completion.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a program with arguments (no shell), waits for it, and returns its exit status and output.
public func runProcess(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String]? = nil,
    stdin: String? = nil
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let outPipe = Pipe()
    let errPipe = Pipe()
    let inPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    process.standardInput = inPipe
    try process.run()
    if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
    try inPipe.fileHandleForWriting.close()
    // Read stderr on another thread so a full stderr pipe cannot block the child while stdout is read.
    let errBox = DataBox()
    let errDone = DispatchSemaphore(value: 0)
    let reader = Thread {
        errBox.data = errPipe.fileHandleForReading.readDataToEndOfFile()
        errDone.signal()
    }
    reader.start()
    let out = outPipe.fileHandleForReading.readDataToEndOfFile()
    errDone.wait()
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
        stderr: String(decoding: errBox.data, as: UTF8.self))
}

private final class DataBox: @unchecked Sendable {
    var data = Data()
}

extension TestEnvironment {
    /// The built `jobctl` binary: `JOBCTL_BIN`, else the one beside the test bundle.
    public static var jobctlBinary: String {
        if let path = variables["JOBCTL_BIN"], !path.isEmpty { return path }
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("jobctl").path
    }

    /// Runs the built binary with the given arguments and environment additions (see `jobctlEnvironment`).
    public static func jobctl(
        _ arguments: [String], environment extra: [String: String] = [:], stdin: String? = nil
    )
        throws -> ProcessResult
    {
        try runProcess(jobctlBinary, arguments, environment: jobctlEnvironment(extra), stdin: stdin)
    }

    /// The test process's environment for a jobctl run, with `extra` added: JOBCTL_*, REDIS_URL, DATABASE_URL and
    /// libpq's PG* are removed first, so each test says exactly what it uses.
    public static func jobctlEnvironment(_ extra: [String: String]) -> [String: String] {
        var environment = variables.filter {
            !$0.key.hasPrefix("JOBCTL_") && !$0.key.hasPrefix("PG") && $0.key != "REDIS_URL" && $0.key != "DATABASE_URL"
        }
        environment.merge(extra) { $1 }
        return environment
    }
}

/// Fails (never skips) under CI when a live service is not configured; elsewhere the caller may skip.
public struct MissingServiceError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// The backends the fixture and the interop tests run on.
public enum Backend: String, Sendable, CaseIterable, CustomStringConvertible {
    case redis, postgres

    public var description: String { rawValue }

    /// The backends whose live suites run (both under CI).
    public static var live: [Backend] { allCases.filter(\.isLive) }

    /// Whether the live suites of this backend run (see `runsLiveRedisTests`).
    public var isLive: Bool {
        switch self {
        case .redis: return TestEnvironment.runsLiveRedisTests
        case .postgres: return TestEnvironment.runsLivePostgresTests
        }
    }

    public func requireURL() throws -> String {
        switch self {
        case .redis: return try TestEnvironment.requireRedisURL()
        case .postgres: return try TestEnvironment.requirePostgresURL()
        }
    }
}

/// The BullMQ fixture: queues built by the real Python client, and what that client reports about them.
public struct BullMQFixture: Sendable {
    public var backend: Backend
    public var url: String
    /// The Redis prefix or the PostgreSQL schema the fixture lives in.
    public var namespace: String
    public var suffix: String
    /// The JSON the fixture printed: the client's view of the queues.
    public var reportText: String

    /// The full name of a fixture queue (`pdf-notes` → `pdf-notes-<suffix>`).
    public func queue(_ base: String) -> String { "\(base)-\(suffix)" }

    /// What jobctl needs in its environment to read the fixture.
    public var jobctlEnvironment: [String: String] {
        switch backend {
        case .redis: return ["JOBCTL_URL": url, "JOBCTL_PREFIX": namespace]
        case .postgres: return ["JOBCTL_URL": url, "JOBCTL_SCHEMA": namespace]
        }
    }

    /// Per full queue name: counts, paused, limits, jobs (by id) and ids by state, as the client reported them.
    public var queues: [String: [String: Any]] {
        let report = (try? parseJSONObject(reportText)) ?? [:]
        return (report["queues"] as? [String: [String: Any]]) ?? [:]
    }

    /// Builds the fixture under a fresh suffix (and, on PostgreSQL, a fresh schema).
    ///
    /// Requires the backend's test URL and the venv.
    public static func build(on backend: Backend = .redis, badData: Bool = false) throws -> BullMQFixture {
        let url = try backend.requireURL()
        let suffix = String(UUID().uuidString.prefix(8)).lowercased()
        let namespace = backend == .redis ? "bull" : "fx_\(suffix)"
        var arguments = [
            TestEnvironment.fixtureScript, "--backend", backend.rawValue, "--url", url, "--suffix", suffix,
        ]
        arguments += backend == .redis ? ["--prefix", namespace] : ["--schema", namespace]
        if badData { arguments.append("--bad-data") }
        let result = try runProcess(TestEnvironment.python, arguments)
        guard result.status == 0 else {
            throw MissingServiceError(description: "fixture failed (\(result.status)): \(result.stderr.suffix(2000))")
        }
        _ = try parseJSONObject(result.stdout)
        if backend == .postgres { FixtureSchemas.dropAtExit(namespace) }
        return BullMQFixture(
            backend: backend, url: url, namespace: namespace, suffix: suffix, reportText: result.stdout)
    }
}

/// Parses a JSON document printed by jobctl with Foundation, independent of jobctl's own JSON code.
public func parseJSONObject(_ text: String) throws -> [String: Any] {
    guard
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            as? [String: Any]
    else { throw MissingServiceError(description: "not a JSON object: \(text.prefix(200))") }
    return object
}

/// Whether two values decoded by JSONSerialization are the same JSON (numbers compared by value).
public func jsonEqual(_ a: Any?, _ b: Any?) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case (is NSNull, nil), (nil, is NSNull), (is NSNull, is NSNull): return true
    case (let x as [String: Any], let y as [String: Any]):
        let keys = Set(x.keys).union(y.keys)
        return keys.allSatisfy { jsonEqual(x[$0], y[$0]) }
    case (let x as [Any], let y as [Any]):
        return x.count == y.count && zip(x, y).allSatisfy { jsonEqual($0, $1) }
    case (let x as String, let y as String): return x == y
    case (let x as NSNumber, let y as NSNumber): return x == y
    default: return false
    }
}

/// Runs raw Redis commands through the Python client in the venv: for writes a BullMQ client would never make.
public func redisRaw(_ commands: [[String]]) throws {
    let url = try TestEnvironment.requireRedisURL()
    let script = """
        import json, sys, redis
        r = redis.from_url(sys.argv[1])
        for command in json.load(sys.stdin):
            r.execute_command(*command)
        """
    let payload = try JSONSerialization.data(withJSONObject: commands)
    let result = try runProcess(
        TestEnvironment.python, ["-c", script, url], stdin: String(decoding: payload, as: UTF8.self))
    guard result.status == 0 else { throw MissingServiceError(description: "raw redis write failed: \(result.stderr)") }
}

/// Runs SQL statements through psycopg in the venv, in one transaction: for writes a BullMQ client would never
/// make, and for schema setups (a missing ledger, a newer version).
public func postgresRaw(_ statements: [String]) throws {
    let url = try TestEnvironment.requirePostgresURL()
    let script = """
        import json, sys, psycopg
        with psycopg.connect(sys.argv[1]) as conn:
            for statement in json.load(sys.stdin):
                conn.execute(statement)
        """
    let payload = try JSONSerialization.data(withJSONObject: statements)
    let result = try runProcess(
        TestEnvironment.python, ["-c", script, url], stdin: String(decoding: payload, as: UTF8.self))
    guard result.status == 0 else { throw MissingServiceError(description: "raw SQL failed: \(result.stderr)") }
}

/// Runs read-only statements through psycopg (autocommit, one connection) at `url`; the rows of each, as text.
public func postgresRows(_ statements: [String], url: String) throws -> [[[String?]]] {
    let script = """
        import json, sys, psycopg
        with psycopg.connect(sys.argv[1], autocommit=True, prepare_threshold=None) as conn:
            out = []
            for statement in json.load(sys.stdin):
                rows = conn.execute(statement).fetchall()
                out.append([[None if v is None else str(v) for v in row] for row in rows])
            print(json.dumps(out))
        """
    let payload = try JSONSerialization.data(withJSONObject: statements)
    let result = try runProcess(
        TestEnvironment.python, ["-c", script, url], stdin: String(decoding: payload, as: UTF8.self))
    guard result.status == 0,
        let rows = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[[Any]]]
    else { throw MissingServiceError(description: "SQL read failed: \(result.stderr)") }
    return rows.map { $0.map { $0.map { $0 as? String } } }
}

/// Creates a BullMQ schema with the Python client's own migrations (what any BullMQ Queue or Worker does on first
/// use), dropping an older one of the same name first.
public func createBullMQSchema(_ schema: String) throws {
    let url = try TestEnvironment.requirePostgresURL()
    let script = """
        import asyncio, sys, psycopg
        from bullmq.backends.postgres_connection import run_migrations
        async def main():
            async with await psycopg.AsyncConnection.connect(sys.argv[1]) as conn:
                await conn.execute(f'DROP SCHEMA IF EXISTS "{sys.argv[2]}" CASCADE')
                await run_migrations(conn, sys.argv[2])
                await conn.commit()
        asyncio.run(main())
        """
    let result = try runProcess(TestEnvironment.python, ["-c", script, url, schema])
    guard result.status == 0 else { throw MissingServiceError(description: "migrations failed: \(result.stderr)") }
}

/// The `completed` events per job id in a BullMQ events stream (`<prefix>:<queue>:events`), read with redis-py
/// (its RedisCluster client when `cluster`).
public func completedEventsPerJob(url: String, streamKey: String, cluster: Bool = false) throws -> [String: Int] {
    let script = """
        import json, sys, redis
        from redis.cluster import RedisCluster
        client = RedisCluster if sys.argv[3] == "cluster" else redis.Redis
        r = client.from_url(sys.argv[1], decode_responses=True)
        seen = {}
        for _, fields in r.xrange(sys.argv[2]):
            if fields.get("event") == "completed":
                seen[fields["jobId"]] = seen.get(fields["jobId"], 0) + 1
        print(json.dumps(seen))
        """
    let result = try runProcess(
        TestEnvironment.python, ["-c", script, url, streamKey, cluster ? "cluster" : "single"])
    guard result.status == 0 else { throw MissingServiceError(description: "reading events: \(result.stderr)") }
    return (try parseJSONObject(result.stdout) as? [String: Int]) ?? [:]
}

/// A namespace of a test's own (a Redis key prefix or a PostgreSQL schema) and the real Python client acting in
/// it through `scripts/bullmq-steps.py`, with the built `jobctl` at hand.
public struct BullMQSteps: Sendable {
    public var backend: Backend
    public var url: String
    public var namespace: String
    /// Redis Cluster: the client's Queue runs over redis-py's RedisCluster (`--backend redis-cluster`).
    public var cluster = false

    /// A fresh namespace; a PostgreSQL schema is created by the client's migrations on first use.
    ///
    /// The schema is dropped when the test process ends. `url`: a server other than the backend's test server (TLS,
    /// a pooler).
    public init(on backend: Backend, url: String? = nil) throws {
        self.backend = backend
        self.url = try url ?? backend.requireURL()
        let suffix = String(UUID().uuidString.prefix(8)).lowercased()
        switch backend {
        case .redis: namespace = "jc\(suffix)"
        case .postgres:
            namespace = "ctl_\(suffix)"
            FixtureSchemas.dropAtExit(namespace)
        }
    }

    public var jobctlEnvironment: [String: String] {
        switch backend {
        case .redis: return ["JOBCTL_URL": url, "JOBCTL_PREFIX": namespace]
        case .postgres: return ["JOBCTL_URL": url, "JOBCTL_SCHEMA": namespace]
        }
    }

    /// Runs the steps (see the script's documentation) and returns one result per step.
    public func run(_ steps: [[String: Any]]) throws -> [Any] {
        var arguments = [
            TestEnvironment.repositoryRoot.appendingPathComponent("scripts/bullmq-steps.py").path, "--backend",
            cluster ? "redis-cluster" : backend.rawValue,
            "--url", url, "--jobctl", TestEnvironment.jobctlBinary,
        ]
        arguments += backend == .redis ? ["--prefix", namespace] : ["--schema", namespace]
        let plan = try JSONSerialization.data(withJSONObject: steps)
        let result = try runProcess(TestEnvironment.python, arguments, stdin: String(decoding: plan, as: UTF8.self))
        guard result.status == 0 else {
            throw MissingServiceError(description: "steps failed (\(result.status)): \(result.stderr.suffix(3000))")
        }
        guard let results = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [Any],
            results.count == steps.count
        else {
            throw MissingServiceError(description: "steps printed no result list: \(result.stdout.prefix(500))")
        }
        return results
    }

    /// Runs the steps and returns the result of the last one.
    @discardableResult
    public func last(_ steps: [[String: Any]]) throws -> Any {
        try run(steps).last ?? NSNull()
    }

    /// Runs the built binary on a pseudo-terminal (stdin, stdout and stderr), typing each answer once its prompt
    /// has appeared; returns the exit status and everything the terminal showed.
    public func jobctlOnTerminal(
        _ arguments: [String], answers: [(prompt: String, answer: String)]
    ) throws -> (status: Int, screen: String) {
        let script = """
            import json, os, pty, select, sys
            args, answers, env = json.loads(sys.stdin.read())
            pid, fd = pty.fork()
            if pid == 0:
                os.execve(args[0], args, env)
            screen = b""
            while True:
                ready, _, _ = select.select([fd], [], [], 20)
                if not ready:
                    break
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                screen += data
                if answers and answers[0][0].encode() in screen:
                    os.write(fd, answers.pop(0)[1].encode() + b"\\n")
            _, status = os.waitpid(pid, 0)
            print(json.dumps({"status": os.waitstatus_to_exitcode(status), "screen": screen.decode(errors="replace")}))
            """
        var environment = TestEnvironment.variables.filter { !$0.key.hasPrefix("JOBCTL_") && !$0.key.hasPrefix("PG") }
        environment.merge(jobctlEnvironment) { $1 }
        let input: [Any] = [
            [TestEnvironment.jobctlBinary] + arguments, answers.map { [$0.prompt, $0.answer] }, environment,
        ]
        let payload = String(decoding: try JSONSerialization.data(withJSONObject: input), as: UTF8.self)
        let result = try runProcess(TestEnvironment.python, ["-c", script], stdin: payload)
        let report = try parseJSONObject(result.stdout)
        return ((report["status"] as? Int) ?? -1, (report["screen"] as? String) ?? "")
    }

    /// Runs the built binary against this namespace.
    public func jobctl(_ arguments: [String], stdin: String? = nil) throws -> ProcessResult {
        try TestEnvironment.jobctl(arguments, environment: jobctlEnvironment, stdin: stdin)
    }

    /// Runs the built binary with `arguments` and presses Ctrl-C once `queue` has a waiting job (the command's
    /// changes have begun); `interrupted` is false when it finished before that.
    public func jobctlInterruptedOnceWaiting(
        _ queue: String, _ arguments: [String]
    ) throws -> (result: ProcessResult, interrupted: Bool) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.jobctlBinary)
        process.arguments = arguments
        process.environment = TestEnvironment.jobctlEnvironment(jobctlEnvironment)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var interrupted = false
        while process.isRunning {
            let stats = try jobctl(["stats", queue, "--json"])
            if let counts = (try? parseJSONObject(stats.stdout))?["counts"] as? [String: Any],
                (counts["waiting"] as? Int ?? 0) > 0
            {
                process.interrupt()
                interrupted = true
                break
            }
        }
        process.waitUntilExit()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (ProcessResult(status: process.terminationStatus, stdout: stdout, stderr: stderr), interrupted)
    }
}

/// Fixture schemas live as long as the test process, then go.
enum FixtureSchemas {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var names: [String] = []

    static func dropAtExit(_ schema: String) {
        lock.lock()
        defer { lock.unlock() }
        if names.isEmpty { atexit { FixtureSchemas.dropAll() } }
        names.append(schema)
    }

    private static func dropAll() {
        lock.lock()
        defer { lock.unlock() }
        try? postgresRaw(names.map { "DROP SCHEMA IF EXISTS \"\($0)\" CASCADE" })
    }
}

/// A program left running while a test acts on what it watches: its stdout is collected as it comes.
public final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var collected = Data()
    private let ended = DispatchSemaphore(value: 0)

    public init(_ executable: String, _ arguments: [String], environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil  // end of output
                self?.ended.signal()
                return
            }
            guard let self else { return }
            self.lock.lock()
            self.collected.append(data)
            self.lock.unlock()
        }
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }  // a test that failed midway leaves nothing behind
    }

    /// The output so far.
    public var output: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: collected, as: UTF8.self)
    }

    /// Waits until the output satisfies `condition` or `timeout` seconds pass; true if it did.
    public func wait(seconds timeout: Double, until condition: (String) -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(output) { return true }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return condition(output)
    }

    /// Sends SIGINT, waits for the exit, and returns everything it printed.
    public func interruptAndCollect() -> String {
        process.interrupt()
        process.waitUntilExit()
        _ = ended.wait(timeout: .now() + 10)  // the handler has taken the last chunk
        return output
    }
}
