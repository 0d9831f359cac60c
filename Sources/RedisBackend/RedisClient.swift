import JobCore

/// The one owner of a Redis connection, isolated to a private thread.
actor RedisClient {
    private let executor: DispatchQueueExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    nonisolated let endpoint: RedisEndpoint
    private let connectTimeoutMs: Int
    private let commandTimeoutMs: Int
    private var connection: RedisConnection?

    init(endpoint: RedisEndpoint, connectTimeoutMs: Int, commandTimeoutMs: Int) {
        self.executor = DispatchQueueExecutor(label: "jobctl.redis")
        self.endpoint = endpoint
        self.connectTimeoutMs = connectTimeoutMs
        self.commandTimeoutMs = commandTimeoutMs
    }

    /// Connects now, so that an unreachable server is reported before any work starts.
    func connect() throws(RedisError) {
        _ = try open()
    }

    private func open() throws(RedisError) -> RedisConnection {
        if let connection { return connection }
        let fresh = try RedisConnection(
            endpoint: endpoint, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs)
        connection = fresh
        return fresh
    }

    /// Runs the commands in one round trip. Error replies come back as `.error` values.
    func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        let connection = try open()
        do {
            return try connection.pipeline(commands)
        } catch {
            self.connection = nil  // a broken connection is not reused
            throw error
        }
    }

    /// Runs one command; an error reply is thrown.
    func command(_ command: RedisCommand) throws(RedisError) -> RedisValue {
        let reply = try pipeline([command])[0]
        if let (code, message) = reply.serverError {
            throw RedisError(code: .server, server: endpoint.hostDescription, serverCode: code, message: message)
        }
        return reply
    }
}
