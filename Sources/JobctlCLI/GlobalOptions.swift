import ArgumentParser
import FoundationEssentials
import JobCore
import PostgresBackend
import RedisBackend

/// How results are printed.
enum OutputFormat: String, CaseIterable {
    case text, json, jsonl
}

/// What `-o` takes: the formats every command prints, and Prometheus' text exposition (status and stats only).
enum OutputChoice: String, ExpressibleByArgument, CaseIterable {
    case text, json, jsonl, prometheus
}

/// Options every command takes: where the queues are and how to print.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Server URL: redis://…, unix:///path or postgresql://…; the scheme picks the backend. (env: "
                + "JOBCTL_URL, REDIS_URL, DATABASE_URL)",
            valueName: "url"))
    var url: String?

    @Option(
        name: .long,
        help: ArgumentHelp("BullMQ key prefix on Redis. (env: JOBCTL_PREFIX; default: bull)", valueName: "prefix"))
    var prefix: String?

    @Option(
        name: .long,
        help: ArgumentHelp("BullMQ schema on PostgreSQL. (env: JOBCTL_SCHEMA; default: bullmq)", valueName: "schema"))
    var schema: String?

    @Option(
        name: [.customShort("o"), .long],
        help: "Output format: text, json or jsonl; prometheus for status and stats. (env: JOBCTL_OUTPUT)")
    var output: OutputChoice?

    @Flag(name: .long, help: "Same as --output json.")
    var json = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "How long to wait for a connection, e.g. 5s. (env: JOBCTL_CONNECT_TIMEOUT)", valueName: "duration"))
    var connectTimeout: String?

    @Option(
        name: .long,
        help: ArgumentHelp("How long to wait for each reply, e.g. 30s. (env: JOBCTL_TIMEOUT)", valueName: "duration"))
    var timeout: String?

    @Option(
        name: .customLong("tls-ca"),
        help: ArgumentHelp(
            "rediss://: trust the CAs in this PEM file instead of the system's. (env: JOBCTL_TLS_CA)", valueName: "file"
        ))
    var tlsCA: String?

    @Option(
        name: .customLong("tls-cert"),
        help: ArgumentHelp(
            "rediss://: the client certificate, for a server that asks for one; with --tls-key. (env: "
                + "JOBCTL_TLS_CERT)",
            valueName: "file"))
    var tlsCertificate: String?

    @Option(
        name: .customLong("tls-key"),
        help: ArgumentHelp("rediss://: the client certificate's key. (env: JOBCTL_TLS_KEY)", valueName: "file"))
    var tlsKey: String?

    @Flag(
        name: .customLong("tls-insecure"),
        help:
            "rediss://: do not check the server's certificate (a warning says so each time). (env: JOBCTL_TLS_INSECURE)"
    )
    var tlsInsecure = false

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    var format: OutputFormat {
        if json { return .json }
        if let output, let format = OutputFormat(rawValue: output.rawValue) { return format }
        return Self.environment["JOBCTL_OUTPUT"].flatMap(OutputFormat.init(rawValue:)) ?? .text
    }

    /// `-o prometheus`; commands other than status and stats refuse it (`connect`).
    var prometheus: Bool { !json && output == .prometheus }

    func validate() throws {
        if json, let output, output != .json {
            throw ValidationError("--json conflicts with --output \(output.rawValue)")
        }
        for (name, value) in [("--connect-timeout", connectTimeout), ("--timeout", timeout)] {
            if let value, DurationText.milliseconds(value) == nil {
                throw ValidationError("\(name) '\(value)' is not a duration (examples: 500ms, 5s, 2m)")
            }
        }
        if let value = Self.environment["JOBCTL_OUTPUT"], !value.isEmpty, OutputFormat(rawValue: value) == nil {
            throw ValidationError("JOBCTL_OUTPUT='\(value)' is not one of text, json, jsonl")
        }
    }

    /// The URL to use, from the first place that names one; nil means PostgreSQL with libpq's own defaults.
    func chosenURL() throws -> String? {
        let env = Self.environment
        if let url = url ?? env["JOBCTL_URL"].nonEmpty { return url }
        switch (env["REDIS_URL"].nonEmpty, env["DATABASE_URL"].nonEmpty) {
        case (.some, .some):
            throw ValidationError("both REDIS_URL and DATABASE_URL are set: choose one with --url or JOBCTL_URL")
        case (.some(let redis), nil): return redis
        case (nil, .some(let database)): return database
        case (nil, nil): break
        }
        if ["PGHOST", "PGHOSTADDR", "PGDATABASE", "PGSERVICE"].contains(where: { env[$0].nonEmpty != nil }) {
            return nil
        }
        return "redis://127.0.0.1:6379/0"
    }

    static func isPostgresURL(_ url: String?) -> Bool {
        guard let url else { return true }
        let lower = url.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// Connects to the queues named by the options and environment, and checks that they are readable (on
    /// PostgreSQL: the schema and its version).
    ///
    /// Warns once when a password sits on the command line. `forCounting`: the command counts the jobs of a queue (a
    /// backend may get ready to count a big one in parallel).
    func connect(
        allowingPrometheus: Bool = false, forCounting: Bool = false, worker: WorkerIdentity? = nil
    ) async throws -> any QueueStore {
        let (store, open) = try prepare(
            allowingPrometheus: allowingPrometheus, forCounting: forCounting, worker: worker)
        try await open()
        return store
    }

    /// The store the options name, not connected yet (the password warning is given here, once), and the call that
    /// connects it; `jobctl run` repeats only that call while the server is away.
    ///
    /// `worker`: the store is a worker's, whose connections get BullMQ's worker names. `listenURL`: PostgreSQL only,
    /// where the worker LISTENs (`--listen-url`; `fromFlag` when it was given on the command line).
    func prepare(
        allowingPrometheus: Bool = false, forCounting: Bool = false, worker: WorkerIdentity? = nil,
        listenURL: (url: String, fromFlag: Bool)? = nil
    ) throws
        -> (store: any QueueStore, open: @Sendable () async throws -> Void)
    {
        if prometheus && !allowingPrometheus {
            throw ValidationError("-o prometheus is for 'status' and 'stats'; use text, json or jsonl here")
        }
        let env = Self.environment
        let url = try chosenURL()
        let connectTimeoutMs = Int(try milliseconds(connectTimeout, env: "JOBCTL_CONNECT_TIMEOUT", default: 5000))
        let commandTimeoutMs = Int(try milliseconds(timeout, env: "JOBCTL_TIMEOUT", default: 30000))
        if Self.isPostgresURL(url) {
            if prefix != nil {
                throw ValidationError("--prefix applies to Redis; on PostgreSQL the queues live in --schema")
            }
            let endpoint = try PostgresEndpoint(url: url)
            warnAboutPasswordOnCommandLine(endpoint.hasPassword)
            let schema = try SchemaName(self.schema ?? env["JOBCTL_SCHEMA"].nonEmpty ?? "bullmq")
            if let worker,
                worker.pythonStyleName(namespace: schema.name).utf8.count
                    > PostgresQueueStore.applicationNameLimit || !worker.pythonStyleNameIsValid(namespace: schema.name)
            {
                Terminal.warn(
                    "BullMQ's tools will not list this worker: its connection name "
                        + "'\(Cell.oneLine(worker.pythonStyleName(namespace: schema.name), limit: 120))' is longer "
                        + "than PostgreSQL's \(PostgresQueueStore.applicationNameLimit) bytes or not plain ASCII; "
                        + "choose a shorter --name")
            }
            var listenEndpoint: PostgresEndpoint?
            if let listenURL {
                guard Self.isPostgresURL(listenURL.url) else {
                    throw ValidationError("--listen-url (JOBCTL_LISTEN_URL) takes a postgres:// or postgresql:// URL")
                }
                listenEndpoint = try PostgresEndpoint(url: listenURL.url)
                if listenURL.fromFlag, listenEndpoint?.hasPassword == true {
                    Terminal.warn(
                        "the password given with --listen-url is visible to other users in the process list; put "
                            + "the URL in JOBCTL_LISTEN_URL instead (or the password in PGPASSWORD or ~/.pgpass)")
                }
            }
            let store = PostgresQueueStore(
                endpoint: endpoint, schema: schema, connectTimeoutMs: connectTimeoutMs,
                commandTimeoutMs: commandTimeoutMs, worker: worker, listenEndpoint: listenEndpoint)
            return (store, { _ = try await store.connect(preparingToCount: forCounting) })
        }
        if schema != nil {
            throw ValidationError("--schema applies to PostgreSQL; on Redis the queues live under --prefix")
        }
        if listenURL?.fromFlag == true {
            throw ValidationError("--listen-url applies to PostgreSQL; a Redis worker waits on the queue's marker")
        }
        var endpoint = try RedisEndpoint(url: url ?? "")
        warnAboutPasswordOnCommandLine(endpoint.password != nil)
        try applyTLSOptions(to: &endpoint)
        let prefix = self.prefix ?? env["JOBCTL_PREFIX"].nonEmpty ?? "bull"
        if let worker, !worker.pythonStyleNameIsValid(namespace: prefix) {
            Terminal.warn(
                "the Python client's tools will not list this worker: Redis refuses the connection name "
                    + "'\(Cell.oneLine(worker.pythonStyleName(namespace: prefix), limit: 120))' (it has spaces)")
        }
        let store = RedisQueueStore(
            endpoint: endpoint, prefix: prefix, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs,
            worker: worker, notice: { Terminal.writeError("jobctl: \($0)\n") })
        return (store, { try await store.connect() })
    }

    /// `--tls-*` and `JOBCTL_TLS_*` over the URL's `ssl_*` settings; a warning whenever the server goes unchecked.
    private func applyTLSOptions(to endpoint: inout RedisEndpoint) throws {
        let env = Self.environment
        let ca = tlsCA ?? env["JOBCTL_TLS_CA"].nonEmpty
        let certificate = tlsCertificate ?? env["JOBCTL_TLS_CERT"].nonEmpty
        let key = tlsKey ?? env["JOBCTL_TLS_KEY"].nonEmpty
        let insecure = tlsInsecure || ["1", "true", "yes"].contains(env["JOBCTL_TLS_INSECURE"]?.lowercased() ?? "")
        let given = ca != nil || certificate != nil || key != nil || insecure
        guard var tls = endpoint.tls else {
            if given {
                throw ValidationError("--tls-ca, --tls-cert, --tls-key and --tls-insecure apply to rediss:// URLs")
            }
            return
        }
        if let ca { tls.caFile = ca }
        if certificate != nil || key != nil {
            guard let certificate, let key else {
                throw ValidationError("--tls-cert and --tls-key go together: the certificate needs its key")
            }
            (tls.certificateFile, tls.keyFile) = (certificate, key)
        }
        if insecure { tls.verifiesCertificate = false }
        if !tls.verifiesCertificate {
            Terminal.warn(
                "TLS without checking the server's certificate (--tls-insecure or ssl_cert_reqs=none): anyone on the "
                    + "way can read and change what jobctl sends, the password included")
        } else if !tls.checksHostName {
            Terminal.warn(
                "TLS without checking the server's host name (ssl_check_hostname=false): any certificate of a "
                    + "trusted CA is accepted")
        }
        endpoint.tls = tls
    }

    private func warnAboutPasswordOnCommandLine(_ hasPassword: Bool) {
        guard url != nil, hasPassword else { return }
        Terminal.warn(
            "the password given with --url is visible to other users in the process list; "
                + "put the URL in JOBCTL_URL instead (or, for PostgreSQL, the password in PGPASSWORD or ~/.pgpass)")
    }

    private func milliseconds(_ flag: String?, env name: String, default value: Int64) throws -> Int64 {
        guard let text = flag ?? Self.environment[name].nonEmpty else { return value }
        guard let ms = DurationText.milliseconds(text), ms > 0 else {
            throw ValidationError("\(name)='\(text)' is not a duration (examples: 500ms, 5s, 2m)")
        }
        return ms
    }
}

extension Optional where Wrapped == String {
    /// nil for an unset or empty variable.
    var nonEmpty: String? {
        guard let self, !self.isEmpty else { return nil }
        return self
    }
}
