import BlockingIO
import JobCore

/// The one owner of a Redis connection, isolated to a private thread.
actor RedisClient {
    private let executor: DispatchQueueExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    nonisolated let endpoint: RedisEndpoint
    private let connectTimeoutMs: Int
    private let commandTimeoutMs: Int
    private var connection: RedisConnection?
    /// The current connection's socket, which `interrupt()` shuts down from any thread.
    private nonisolated let socket = InterruptibleSocket()
    /// The scripts (by SHA1) loaded on the current connection.
    private var loadedScripts: Set<String> = []

    /// The name every connection gets (`CLIENT SETNAME`), if any.
    private let connectionName: String?

    /// Told when the master behind Sentinels changes (the worker logs it).
    private let notice: @Sendable (String) -> Void
    /// Behind Sentinels: the master connected to, and when the sentinels were last asked whether it still is.
    private var connectedMaster: RedisEndpoint.Address?
    private var masterCheckedAt = Deadline(afterMs: 0)
    /// How often a connection behind Sentinels asks them who the master is: an old master keeps taking writes for
    /// seconds after a failover (writes the new master never sees), and only the sentinels know.
    static let masterCheckEveryMs = 1000

    init(
        endpoint: RedisEndpoint, connectTimeoutMs: Int, commandTimeoutMs: Int, connectionName: String? = nil,
        notice: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.executor = DispatchQueueExecutor(label: "jobctl.redis")
        self.endpoint = endpoint
        self.connectionName = connectionName
        self.notice = notice
        self.connectTimeoutMs = connectTimeoutMs
        self.commandTimeoutMs = commandTimeoutMs
    }

    /// Connects now, so that an unreachable server is reported before any work starts.
    func connect() throws(RedisError) {
        _ = try open()
    }

    private func open() throws(RedisError) -> RedisConnection {
        if case .sentinel(let set) = endpoint.address, let connection, masterCheckedAt.remainingMs == 0 {
            masterCheckedAt = Deadline(afterMs: Self.masterCheckEveryMs)
            // Sentinels that cannot be asked right now leave the connection as it is.
            if let master = try? RedisSentinel.masterAddress(endpoint, of: set, connectTimeoutMs: connectTimeoutMs),
                master != connection.endpoint.address
            {
                drop()
            }
        }
        if let connection { return connection }
        let fresh: RedisConnection
        if case .sentinel(let set) = endpoint.address {
            fresh = try RedisSentinel.connectToMaster(
                endpoint, of: set, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs,
                name: connectionName)
            masterCheckedAt = Deadline(afterMs: Self.masterCheckEveryMs)
            if let before = connectedMaster, before != fresh.endpoint.address {
                notice(
                    "Redis master '\(set.master)' is now \(fresh.endpoint.hostDescription) (was "
                        + "\(RedisEndpoint(address: before).hostDescription)): a failover; reconnected")
            }
            connectedMaster = fresh.endpoint.address
        } else {
            fresh = try RedisConnection(
                endpoint: endpoint, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs,
                name: connectionName)
        }
        connection = fresh
        socket.set(fresh.socket)
        return fresh
    }

    /// Runs the commands in one round trip.
    ///
    /// Error replies come back as `.error` values.
    func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        let connection = try open()
        do {
            let replies = try connection.pipeline(commands)
            // A master demoted by a failover: the next call asks the sentinels again.
            if replies.contains(where: { Self.saysDemoted($0) }) { drop() }
            return replies
        } catch {
            drop()  // a broken connection is not reused
            throw error
        }
    }

    /// `READONLY` (a write on a replica) or `UNBLOCKED … master -> replica` (a blocked command on a demoted master).
    static func saysDemoted(_ reply: RedisValue) -> Bool {
        guard let (code, _) = reply.serverError else { return false }
        return code == "READONLY" || code == "UNBLOCKED"
    }

    /// Closes the connection; the next call connects (and loads the scripts) again.
    private func drop() {
        socket.clear()
        connection = nil
        loadedScripts.removeAll()
    }

    /// Runs a script by its SHA1 (EVALSHA).
    ///
    /// On a connection that has not loaded it yet, SCRIPT LOAD goes first in the same round trip; a NOSCRIPT answer
    /// (the server restarted, failed over or flushed its scripts) loads it again and retries once. An error reply is
    /// thrown.
    func evaluate(sha1: String, source: String, keys: [String], arguments: [String]) throws(RedisError) -> RedisValue {
        let call = RedisCommand(arguments: ["EVALSHA", sha1, String(keys.count)] + keys + arguments)
        var reply = RedisValue.null
        for attempt in 0..<2 {
            let load = attempt > 0 || !loadedScripts.contains(sha1)
            let replies = try pipeline(load ? [RedisCommand("SCRIPT", "LOAD", source), call] : [call])
            if load {
                let loaded = replies[0]
                if let (code, message) = loaded.serverError {
                    throw RedisError(
                        code: .server, server: endpoint.hostDescription, serverCode: code, message: message)
                }
                guard loaded.text == sha1 else {
                    throw RedisError(
                        code: .unexpectedReply, server: endpoint.hostDescription,
                        message: "SCRIPT LOAD answered \(loaded), not the script's SHA1 \(sha1)")
                }
                loadedScripts.insert(sha1)
            }
            reply = replies[replies.count - 1]
            guard let (code, message) = reply.serverError else { return reply }
            if code == "NOSCRIPT" && attempt == 0 {
                loadedScripts.remove(sha1)
                continue
            }
            throw RedisError(code: .server, server: endpoint.hostDescription, serverCode: code, message: message)
        }
        return reply
    }

    /// Runs a blocking command (BZPOPMIN) that cancelling the calling task ends at once: the socket is shut down,
    /// the command fails and the connection is opened again on next use.
    nonisolated func interruptibleCommand(_ command: RedisCommand) async throws -> RedisValue {
        do {
            let reply = try await withTaskCancellationHandler {
                try await self.commandUnlessCancelled(command)
            } onCancel: {
                socket.interrupt()
            }
            await dropIfInterrupted()
            return reply
        } catch {
            await dropIfInterrupted()
            throw Task.isCancelled ? CancellationError() : error
        }
    }

    private func commandUnlessCancelled(_ command: RedisCommand) throws -> RedisValue {
        if Task.isCancelled { throw CancellationError() }
        return try self.command(command)
    }

    /// A socket shut down by a cancellation (even one that came as the command ended) serves nothing more: the
    /// next call connects again.
    private func dropIfInterrupted() {
        guard socket.takeInterruption() else { return }
        drop()
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
