import BlockingIO
import Glibc
import JobCore

/// A connection and the scripts loaded on it.
final class RedisNodeLink {
    let connection: RedisConnection
    private var loadedScripts: Set<String> = []

    init(_ connection: RedisConnection) { self.connection = connection }

    /// EVALSHA, with SCRIPT LOAD first in the same round trip when this connection has not loaded the script;
    /// `before` (ASKING) goes right before the call.
    ///
    /// Returns the call's reply, error replies included; a NOSCRIPT reply (the server restarted, failed over or
    /// flushed its scripts) forgets the script, so that the next call loads it again.
    func evaluate(
        sha1: String, source: String, call: RedisCommand, before: [RedisCommand] = []
    ) throws(RedisError) -> RedisValue {
        let load = !loadedScripts.contains(sha1)
        let replies = try connection.pipeline((load ? [RedisCommand("SCRIPT", "LOAD", source)] : []) + before + [call])
        if load {
            let loaded = replies[0]
            let server = connection.endpoint.hostDescription
            if let (code, message) = loaded.serverError {
                throw RedisError(code: .server, server: server, serverCode: code, message: message)
            }
            guard loaded.text == sha1 else {
                throw RedisError(
                    code: .unexpectedReply, server: server,
                    message: "SCRIPT LOAD answered \(loaded), not the script's SHA1 \(sha1)")
            }
            loadedScripts.insert(sha1)
        }
        let reply = replies[replies.count - 1]
        if reply.serverError?.code == "NOSCRIPT" { loadedScripts.remove(sha1) }
        return reply
    }
}

/// The nodes of a Redis Cluster and the slot each serves: sends each command to the master of its keys' slot,
/// follows MOVED (the map is read again) and ASK (once, after ASKING), and waits out TRYAGAIN and CLUSTERDOWN — at
/// most 16 redirections per command, as ioredis and redis-py.
///
/// Blocking: used only by `RedisClient`, on its thread. A lost connection is not retried (a write may have run):
/// it is dropped, the map is read again on the next call, and the error goes to the caller, as on a single server.
final class ClusterRouter {
    static let maxRedirections = 16
    static let retryDelayMs = 100

    private let endpoint: RedisEndpoint
    private let seeds: [ClusterNode]
    private let connectTimeoutMs: Int
    private let commandTimeoutMs: Int
    private let connectionName: String?
    private let socket: InterruptibleSocket
    private var map: ClusterSlotMap
    private var links: [ClusterNode: RedisNodeLink] = [:]
    private var mapIsStale = false
    /// Nodes that could not be reached lately: asked for the map last (a dead host may cost a connect timeout).
    private var unreachable: Set<ClusterNode> = []

    /// Reads the slot map from `first`, a connection to the cluster node `node`.
    init(
        first: RedisConnection, at node: ClusterNode, seeds: [ClusterNode], endpoint: RedisEndpoint,
        connectTimeoutMs: Int, commandTimeoutMs: Int, connectionName: String?, socket: InterruptibleSocket
    ) throws(RedisError) {
        self.endpoint = endpoint
        self.seeds = seeds
        self.connectTimeoutMs = connectTimeoutMs
        self.commandTimeoutMs = commandTimeoutMs
        self.connectionName = connectionName
        self.socket = socket
        let link = RedisNodeLink(first)
        map = try Self.readMap(over: link, at: node)
        links[node] = link
    }

    private static func readMap(over link: RedisNodeLink, at node: ClusterNode) throws(RedisError) -> ClusterSlotMap {
        let server = link.connection.endpoint.hostDescription
        let reply = try link.connection.pipeline([RedisCommand("CLUSTER", "SLOTS")])[0]
        if let (code, message) = reply.serverError {
            throw RedisError(code: .server, server: server, serverCode: code, message: message)
        }
        guard let map = ClusterSlotMap(clusterSlots: reply, askedHost: node.host) else {
            throw RedisError(code: .unexpectedReply, server: server, message: "CLUSTER SLOTS has an unexpected shape")
        }
        return map
    }

    /// Reads the map again from the first node that answers: masters first, then replicas and the seeds.
    private func refreshMap() throws(RedisError) {
        var failures: [String] = []
        var tried = Set<ClusterNode>()
        let candidates = (map.masters + map.nodes + seeds).filter { tried.insert($0).inserted }
        for node in candidates.filter({ !unreachable.contains($0) }) + candidates.filter(unreachable.contains) {
            do {
                map = try Self.readMap(over: try link(node), at: node)
                mapIsStale = false
                return
            } catch {
                drop(node)
                failures.append("\(node): \(error.message)")
            }
        }
        throw RedisError(
            code: .unreachable, server: "Redis Cluster",
            message: "no node answered with the slot map: " + failures.joined(separator: "; "))
    }

    private func link(_ node: ClusterNode) throws(RedisError) -> RedisNodeLink {
        if let link = links[node] { return link }
        var target = endpoint
        target.address = .tcp(host: node.host, port: node.port)
        target.database = 0
        do {
            let link = RedisNodeLink(
                try RedisConnection(
                    endpoint: target, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs,
                    name: connectionName))
            links[node] = link
            unreachable.remove(node)
            return link
        } catch {
            // A node that went away (a failover under way): the map is read again on the next call.
            unreachable.insert(node)
            mapIsStale = true
            throw error
        }
    }

    private func drop(_ node: ClusterNode) {
        socket.clear()
        links[node] = nil
    }

    /// Closes every connection (after an interrupted wait).
    func dropAll() {
        socket.clear()
        links.removeAll()
        mapIsStale = true
    }

    /// Runs `commands` on `node` in one round trip; a broken connection is dropped and the map read again later.
    private func send(_ commands: [RedisCommand], to node: ClusterNode) throws(RedisError) -> [RedisValue] {
        let link = try link(node)
        socket.set(link.connection.socket)
        do {
            return try link.connection.pipeline(commands)
        } catch {
            drop(node)
            mapIsStale = true
            throw error
        }
    }

    /// The slot all of a command's keys hash to; nil for a command without keys.
    static func slot(of keys: some Collection<[UInt8]>) throws(RedisError) -> Int? {
        guard let first = keys.first else { return nil }
        let slot = ClusterSlot.of(first)
        for key in keys.dropFirst() where ClusterSlot.of(key) != slot {
            let one = String(decoding: first, as: UTF8.self)
            let other = String(decoding: key, as: UTF8.self)
            throw RedisError(
                code: .server, server: "Redis Cluster",
                message: "jobctl did not send a call whose keys lie in different hash slots (\(one) → \(slot), "
                    + "\(other) → \(ClusterSlot.of(key))); the cluster would refuse it with CROSSSLOT. Name the "
                    + "queue with a hash tag: prefix '{bull}' or queue '{name}'")
        }
        return slot
    }

    /// The master of the slot (any master for nil), reading the map again if it is stale or has none.
    private func master(of slot: Int?) throws(RedisError) -> ClusterNode {
        if mapIsStale { try? refreshMap() }
        if let node = slot.flatMap({ map[$0] }) ?? (slot == nil ? map.masters.first : nil) { return node }
        try refreshMap()
        if let node = slot.flatMap({ map[$0] }) ?? (slot == nil ? map.masters.first : nil) { return node }
        throw RedisError(
            code: .server, server: "Redis Cluster", serverCode: "CLUSTERDOWN",
            message: "no node serves hash slot \(slot ?? 0) (\(map.uncoveredSlots) slots are not covered)")
    }

    /// Runs the commands, each on the master of its slot: one round trip per node, replies in the original order.
    ///
    /// Error replies come back as `.error` values; redirections are followed.
    func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisValue] {
        var replies = [RedisValue](repeating: .null, count: commands.count)
        var slots: [Int?] = []
        for command in commands { slots.append(try Self.slot(of: command.keys)) }
        // Each pending command, and the node that ASKed for it.
        var pending: [(index: Int, asked: ClusterNode?)] = commands.indices.map { ($0, nil) }
        var redirections = 0
        while !pending.isEmpty {
            var groups: [ClusterNode: [(index: Int, asking: Bool)]] = [:]
            var order: [ClusterNode] = []
            for (index, asked) in pending {
                let node = if let asked { asked } else { try master(of: slots[index]) }
                if groups[node] == nil { order.append(node) }
                groups[node, default: []].append((index, asked != nil))
            }
            var again: [(index: Int, asked: ClusterNode?)] = []
            var moves: [(slot: Int, node: ClusterNode)] = []
            var waits = false
            for node in order {
                let group = groups[node] ?? []
                let batch = group.flatMap {
                    $0.asking ? [RedisCommand("ASKING"), commands[$0.index]] : [commands[$0.index]]
                }
                var answers = try send(batch, to: node)[...]
                for (index, asking) in group {
                    if asking { answers = answers.dropFirst() }
                    guard let reply = answers.popFirst() else { break }
                    replies[index] = reply
                    switch ClusterRedirect(reply) {
                    case .moved(let slot, let target):
                        moves.append((slot, target))
                        again.append((index, nil))
                    case .ask(_, let target): again.append((index, target))
                    case .retryLater:
                        waits = true
                        again.append((index, nil))
                    case nil:
                        if let code = reply.serverError?.code, code == "READONLY" || code == "UNBLOCKED" {
                            mapIsStale = true
                        }
                    }
                }
            }
            guard !again.isEmpty, redirections < Self.maxRedirections else { break }
            redirections += 1
            if waits {
                usleep(UInt32(Self.retryDelayMs * 1000))
                mapIsStale = true
            }
            if !moves.isEmpty {
                // The map as the cluster sees it now, and what the MOVED answers said on top.
                try? refreshMap()
                for (slot, node) in moves { map.move(slot: slot, to: node) }
            }
            pending = again
        }
        return replies
    }

    /// Runs a script on the master of its keys' slot, following redirections; a NOSCRIPT answer loads it again.
    ///
    /// Returns the reply, error replies included.
    func evaluate(sha1: String, source: String, keys: [String], arguments: [String]) throws(RedisError) -> RedisValue {
        let call = RedisCommand(arguments: ["EVALSHA", sha1, String(keys.count)] + keys + arguments)
        let slot = try Self.slot(of: call.keys)
        var asked: ClusterNode?
        var reply = RedisValue.null
        var reloaded = false
        for _ in 0...Self.maxRedirections {
            let node = if let asked { asked } else { try master(of: slot) }
            let link = try link(node)
            socket.set(link.connection.socket)
            do {
                reply = try link.evaluate(
                    sha1: sha1, source: source, call: call, before: asked == nil ? [] : [RedisCommand("ASKING")])
            } catch {
                drop(node)
                mapIsStale = true
                throw error
            }
            asked = nil
            switch ClusterRedirect(reply) {
            case .moved(let slot, let target):
                try? refreshMap()
                map.move(slot: slot, to: target)
            case .ask(_, let target): asked = target
            case .retryLater:
                usleep(UInt32(Self.retryDelayMs * 1000))
                mapIsStale = true
            case nil:
                guard reply.serverError?.code == "NOSCRIPT", !reloaded else { return reply }
                reloaded = true
            }
        }
        return reply
    }

    /// Every master, for what must ask each (SCAN, CLIENT LIST).
    func masters() throws(RedisError) -> [ClusterNode] {
        if mapIsStale { try refreshMap() }
        return map.masters
    }

    /// Runs one command on one node; the reply comes back as it is, errors included.
    func command(_ command: RedisCommand, on node: ClusterNode) throws(RedisError) -> RedisValue {
        try send([command], to: node)[0]
    }
}
