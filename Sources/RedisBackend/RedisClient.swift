import BlockingIO
import JobCore
import Synchronization

/// The one owner of a Redis connection, isolated to a private thread.
actor RedisClient {
    private let executor: DispatchQueueExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    nonisolated let endpoint: RedisEndpoint
    private let connectTimeoutMs: Int
    private let commandTimeoutMs: Int
    /// A single server's connection (or the master's behind Sentinels), with the scripts loaded on it.
    private var link: RedisNodeLink?
    /// A Redis Cluster's connections and slot map, once the first node said it is one.
    private var router: ClusterRouter?
    /// What the connections found, readable without a hop onto this actor: 0 nothing yet, 1 a single server (or the
    /// master behind Sentinels), 2 a Redis Cluster.
    private nonisolated let foundTopology = Atomic<UInt8>(0)
    /// The current connection's socket, which `interrupt()` shuts down from any thread.
    private nonisolated let socket = InterruptibleSocket()

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
        _ = try route()
    }

    /// Whether the server is a Redis Cluster (found on connecting).
    func isCluster() throws(RedisError) -> Bool {
        if case .cluster = try route() { return true }
        return false
    }

    /// Whether the server is a Redis Cluster, once a connection has found out; nil before.
    nonisolated var knownToBeCluster: Bool? {
        switch foundTopology.load(ordering: .relaxed) {
        case 1: return false
        case 2: return true
        default: return nil
        }
    }

    private enum Route {
        case single(RedisNodeLink)
        case cluster(ClusterRouter)
    }

    /// The connection to use, opened (and the topology found) when there is none.
    private func route() throws(RedisError) -> Route {
        if let router { return .cluster(router) }
        if case .sentinel(let set) = endpoint.address, let link, masterCheckedAt.remainingMs == 0 {
            masterCheckedAt = Deadline(afterMs: Self.masterCheckEveryMs)
            // Sentinels that cannot be asked right now leave the connection as it is.
            if let master = try? RedisSentinel.masterAddress(endpoint, of: set, connectTimeoutMs: connectTimeoutMs),
                master != link.connection.endpoint.address
            {
                drop()
            }
        }
        if let link { return .single(link) }
        let fresh: RedisConnection
        switch endpoint.address {
        case .sentinel(let set):
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
        case .clusterSeeds(let nodes):
            let router = try openCluster(seeds: nodes)
            self.router = router
            foundTopology.store(2, ordering: .relaxed)
            return .cluster(router)
        case .tcp(let host, let port):
            fresh = try RedisConnection(
                endpoint: endpoint, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs,
                name: connectionName, probesCluster: true)
            if fresh.isClusterNode {
                let node = ClusterNode(host: host, port: port)
                let router = try ClusterRouter(
                    first: fresh, at: node, seeds: [node], endpoint: endpoint, connectTimeoutMs: connectTimeoutMs,
                    commandTimeoutMs: commandTimeoutMs, connectionName: connectionName, socket: socket)
                self.router = router
                foundTopology.store(2, ordering: .relaxed)
                return .cluster(router)
            }
        case .unixSocket:
            fresh = try RedisConnection(
                endpoint: endpoint, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs,
                name: connectionName)
        }
        let link = RedisNodeLink(fresh)
        self.link = link
        socket.set(fresh.socket)
        foundTopology.store(1, ordering: .relaxed)
        return .single(link)
    }

    /// Several nodes named in the URL: the first that answers gives the slot map; each must be a cluster node.
    private func openCluster(seeds: [ClusterNode]) throws(RedisError) -> ClusterRouter {
        var failures: [String] = []
        for node in seeds {
            var target = endpoint
            target.address = .tcp(host: node.host, port: node.port)
            let connection: RedisConnection
            do {
                connection = try RedisConnection(
                    endpoint: target, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs,
                    name: connectionName, probesCluster: true)
            } catch  where error.kind == .unavailable {
                failures.append("\(node): \(error.message)")
                continue
            }
            guard connection.isClusterNode else {
                throw RedisError(
                    code: .unexpectedReply, server: node.description,
                    message: "it is not a Redis Cluster node (INFO cluster: cluster_enabled:0), and a URL with "
                        + "several hosts names the nodes of one cluster; give one host for a single server, or "
                        + "redis-sentinel://… for Sentinels")
            }
            return try ClusterRouter(
                first: connection, at: node, seeds: seeds, endpoint: endpoint, connectTimeoutMs: connectTimeoutMs,
                commandTimeoutMs: commandTimeoutMs, connectionName: connectionName, socket: socket)
        }
        throw RedisError(
            code: .unreachable, server: endpoint.hostDescription,
            message: "no node answered: " + failures.joined(separator: "; "))
    }

    /// Runs the commands in one round trip (on a cluster: one per node, replies in the original order).
    ///
    /// Error replies come back as `.error` values.
    func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        switch try route() {
        case .cluster(let router):
            return try router.pipeline(commands)
        case .single(let link):
            do {
                let replies = try link.connection.pipeline(commands)
                // A master demoted by a failover: the next call asks the sentinels again.
                if replies.contains(where: { Self.saysDemoted($0) }) { drop() }
                return replies
            } catch {
                drop()  // a broken connection is not reused
                throw error
            }
        }
    }

    /// `READONLY` (a write on a replica) or `UNBLOCKED … master -> replica` (a blocked command on a demoted master).
    static func saysDemoted(_ reply: RedisValue) -> Bool {
        guard let (code, _) = reply.serverError else { return false }
        return code == "READONLY" || code == "UNBLOCKED"
    }

    /// Closes the connections; the next call connects (and loads the scripts) again.
    private func drop() {
        socket.clear()
        link = nil
        router?.dropAll()
    }

    /// Runs a script by its SHA1 (EVALSHA).
    ///
    /// On a connection that has not loaded it yet, SCRIPT LOAD goes first in the same round trip; a NOSCRIPT answer
    /// (the server restarted, failed over or flushed its scripts) loads it again and retries once. An error reply is
    /// thrown.
    func evaluate(sha1: String, source: String, keys: [String], arguments: [String]) throws(RedisError) -> RedisValue {
        var reply = RedisValue.null
        switch try route() {
        case .cluster(let router):
            reply = try router.evaluate(sha1: sha1, source: source, keys: keys, arguments: arguments)
        case .single:
            let call = RedisCommand(arguments: ["EVALSHA", sha1, String(keys.count)] + keys + arguments)
            for _ in 0..<2 {
                guard case .single(let link) = try route() else { break }
                do {
                    reply = try link.evaluate(sha1: sha1, source: source, call: call)
                } catch {
                    drop()
                    throw error
                }
                if Self.saysDemoted(reply) { drop() }
                guard reply.serverError?.code == "NOSCRIPT" else { break }
            }
        }
        if let (code, message) = reply.serverError {
            throw RedisError(code: .server, server: endpoint.hostDescription, serverCode: code, message: message)
        }
        return reply
    }

    /// The servers that hold keys: the one server (nil), or every master of a cluster (SCAN and CLIENT LIST ask
    /// each).
    func keyServers() throws(RedisError) -> [ClusterNode?] {
        switch try route() {
        case .single: return [nil]
        case .cluster(let router): return try router.masters()
        }
    }

    /// Runs one command on one of `keyServers()`; an error reply is thrown.
    func command(_ command: RedisCommand, on node: ClusterNode?) throws(RedisError) -> RedisValue {
        guard let node, case .cluster(let router) = try route() else { return try self.command(command) }
        let reply = try router.command(command, on: node)
        if let (code, message) = reply.serverError {
            throw RedisError(code: .server, server: node.description, serverCode: code, message: message)
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
