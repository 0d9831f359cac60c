import BlockingIO
import JobCore

/// The one owner of a PostgreSQL connection, isolated to a private thread so that libpq's blocking calls never
/// run on Swift's cooperative pool.
actor PostgresClient {
    private let executor: DispatchQueueExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    nonisolated let endpoint: PostgresEndpoint
    private let connectTimeoutMs: Int
    private let commandTimeoutMs: Int
    private var connection: PostgresConnection? {
        didSet { if let connection { socket.set(connection.socket) } }
        willSet { if newValue == nil { socket.clear() } }
    }
    /// The current connection's socket, which a cancelled wait shuts down from any thread.
    private nonisolated let socket = InterruptibleSocket()

    /// A worker's name as BullMQ's workers name their sessions (`application_name`), given to each connection that
    /// is not behind a pooler.
    private let applicationName: String?

    init(endpoint: PostgresEndpoint, connectTimeoutMs: Int, commandTimeoutMs: Int, applicationName: String? = nil) {
        self.executor = DispatchQueueExecutor(label: "jobctl.postgres")
        self.endpoint = endpoint
        self.applicationName = applicationName
        self.connectTimeoutMs = connectTimeoutMs
        self.commandTimeoutMs = commandTimeoutMs
    }

    private func open() throws(PostgresError) -> PostgresConnection {
        if let connection { return connection }
        let fresh = try PostgresConnection(
            endpoint: endpoint, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs,
            applicationName: applicationName)
        connection = fresh
        return fresh
    }

    /// Whether the connection goes through a pooler (known once connected with an application name).
    func isBehindPooler() throws(PostgresError) -> Bool { try open().behindPooler }

    /// Connects now, so that an unreachable server is reported before any work starts.
    func connect() throws(PostgresError) {
        _ = try open()
    }

    /// Runs one statement with positional text parameters.
    func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> PostgresRows {
        let connection = try open()
        do {
            return try connection.query(sql, parameters)
        } catch {
            if error.code == .connectionLost || error.code == .timeout {
                self.connection = nil  // not reused
                listening = []
            }
            throw error
        }
    }

    private var listening: Set<String> = []

    /// Waits for a NOTIFY on `channel` with `payload`, up to `timeoutMs`; true when one came.
    ///
    /// The LISTEN is issued on first use (on this client's own connection, which then serves nothing else).
    nonisolated func interruptiblyAwaitNotification(
        channel: String, payload: String, timeoutMs: Int
    ) async throws
        -> Bool
    {
        do {
            let notified = try await withTaskCancellationHandler {
                try await self.awaitNotificationUnlessCancelled(
                    channel: channel, payload: payload, timeoutMs: timeoutMs)
            } onCancel: {
                socket.interrupt()
            }
            await dropIfInterrupted()
            return notified
        } catch {
            await dropIfInterrupted()
            throw Task.isCancelled ? CancellationError() : error
        }
    }

    private func awaitNotificationUnlessCancelled(channel: String, payload: String, timeoutMs: Int) throws -> Bool {
        if Task.isCancelled { throw CancellationError() }
        return try awaitNotification(channel: channel, payload: payload, timeoutMs: timeoutMs)
    }

    /// A socket shut down by a cancellation (even one that came as the wait ended) serves nothing more: the next
    /// call connects (and listens) again.
    private func dropIfInterrupted() {
        guard socket.takeInterruption() else { return }
        connection = nil
        listening = []
    }

    func awaitNotification(channel: String, payload: String, timeoutMs: Int) throws(PostgresError) -> Bool {
        try listen(channel)
        do {
            return try open().waitForNotification(payload: payload, timeoutMs: timeoutMs)
        } catch {
            connection = nil
            listening = []
            throw error
        }
    }

    /// LISTENs on `channel` (once per connection).
    func listen(_ channel: String) throws(PostgresError) {
        guard !listening.contains(channel) else { return }
        _ = try query("LISTEN \"\(channel)\"")
        listening.insert(channel)
    }

    /// Closes the connection (the next call connects again).
    func disconnect() {
        connection = nil
        listening = []
    }

    /// Runs statements in one transaction: all of them take effect, or (on any error) none.
    func transaction(_ statements: [(String, [String?])]) throws(PostgresError) -> [PostgresRows] {
        _ = try query("BEGIN")
        do {
            var results: [PostgresRows] = []
            for (sql, parameters) in statements { results.append(try query(sql, parameters)) }
            _ = try query("COMMIT")
            return results
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }
}
