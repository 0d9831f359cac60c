public import JobCore

/// Redis Cluster's key → slot function: CRC16 (XMODEM) of the key's hash tag, or of the whole key, mod 16384.
enum ClusterSlot {
    static let count = 16384

    static func of(_ key: [UInt8]) -> Int {
        let hashed = hashTag(key) ?? key[...]
        var crc: UInt16 = 0
        for byte in hashed {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return Int(crc) % count
    }

    static func of(_ key: String) -> Int { of(Array(key.utf8)) }

    /// The text between the first `{` and the first `}` after it, when not empty (the part of a key that decides
    /// its slot).
    static func hashTag(_ key: [UInt8]) -> ArraySlice<UInt8>? {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
            let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        else { return nil }
        return key[(open + 1)..<close]
    }

    /// The hash tag that every key starting with `base` has whatever follows: a `{…}` closed inside `base`.
    ///
    /// `{bull}:mail:` and `bull:{mail}:` have one; `bull:mail:` has none (its keys spread over the slots).
    static func sharedTag(ofKeysStartingWith base: String) -> String? {
        let bytes = Array(base.utf8)
        guard let tag = hashTag(bytes) else { return nil }
        return String(decoding: tag, as: UTF8.self)
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}

/// A node of a Redis Cluster, as the cluster names it (host as announced: a name or an address).
typealias ClusterNode = RedisEndpoint.Node

extension ClusterNode {
    /// `host:port` as MOVED and ASK name it (`[v6]:port` or `v6:port`).
    init?(redirectTarget text: Substring) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(host: host, port: port)
    }
}

/// Which master serves each slot, from `CLUSTER SLOTS`.
struct ClusterSlotMap: Sendable, Equatable {
    /// The master of each slot; nil where the cluster has none (not all slots covered).
    private(set) var owners: [ClusterNode?]
    /// Every node named, masters and replicas: where to ask for the map again.
    private(set) var nodes: [ClusterNode] = []

    /// Parses `CLUSTER SLOTS`: `[[start, end, [host, port, id, …], replicas…], …]`.
    ///
    /// A master announced without an address (`""` or `?`) is reached at `askedHost`, the host that answered.
    init?(clusterSlots reply: RedisValue, askedHost: String) {
        guard let ranges = reply.array else { return nil }
        var owners = [ClusterNode?](repeating: nil, count: ClusterSlot.count)
        for range in ranges {
            guard let fields = range.array, fields.count >= 3, let start = fields[0].integer,
                let end = fields[1].integer,
                let owner = fields[2].array.flatMap({ Self.node($0, askedHost: askedHost) }),
                0 <= start, start <= end, end < ClusterSlot.count
            else { return nil }
            for slot in Int(start)...Int(end) { owners[slot] = owner }
            for member in fields[2...] {
                if let node = member.array.flatMap({ Self.node($0, askedHost: askedHost) }), !nodes.contains(node) {
                    nodes.append(node)
                }
            }
        }
        self.owners = owners
    }

    private static func node(_ fields: [RedisValue], askedHost: String) -> ClusterNode? {
        guard fields.count >= 2, let port = fields[1].integer, (1...65535).contains(port) else { return nil }
        var host = fields[0].text ?? ""
        if host.isEmpty || host == "?" { host = askedHost }
        return ClusterNode(host: host, port: Int(port))
    }

    subscript(slot: Int) -> ClusterNode? { owners[slot] }

    /// Every master, in slot order.
    var masters: [ClusterNode] {
        var seen = Set<ClusterNode>()
        return owners.compactMap { $0 }.filter { seen.insert($0).inserted }
    }

    var uncoveredSlots: Int { owners.count(where: { $0 == nil }) }

    /// A `MOVED` reply: the slot is served by another master from now on.
    mutating func move(slot: Int, to node: ClusterNode) { owners[slot] = node }
}

/// A redirection a cluster node answers instead of running the command.
enum ClusterRedirect: Equatable {
    /// The slot lives on `node` now (`MOVED slot host:port`).
    case moved(slot: Int, node: ClusterNode)
    /// The slot is being migrated and this key is on `node` already: ask there once (`ASK slot host:port`).
    case ask(slot: Int, node: ClusterNode)
    /// The cluster cannot serve it right now (`TRYAGAIN` during a migration, `CLUSTERDOWN`): wait and retry.
    case retryLater

    init?(_ reply: RedisValue) {
        guard let (code, message) = reply.serverError else { return nil }
        switch code {
        case "MOVED", "ASK":
            let parts = message.split(separator: " ")
            guard parts.count == 2, let slot = Int(parts[0]), (0..<ClusterSlot.count).contains(slot),
                let node = ClusterNode(redirectTarget: parts[1])
            else { return nil }
            self = code == "MOVED" ? .moved(slot: slot, node: node) : .ask(slot: slot, node: node)
        case "TRYAGAIN", "CLUSTERDOWN":
            self = .retryLater
        default:
            return nil
        }
    }
}

/// A queue whose keys cannot share a slot of a Redis Cluster, or a call whose keys would not: refused before
/// anything is sent (the server would answer `CROSSSLOT`, or run a script halfway).
public struct RedisClusterLayoutError: OperatorFacingError {
    public var message: String
    public var kind: FailureKind { .usage }
    public var description: String { message }
    public var hints: [String] {
        [
            "BullMQ on a Redis Cluster keeps each queue's keys in one slot with a hash tag: a prefix such as "
                + "--prefix '{bull}' (every queue in one slot)",
            "or queue names such as '{mail}' (each queue in a slot of its own, spread over the nodes)",
        ]
    }

    /// A queue under a prefix where neither has a hash tag.
    static func untaggedQueue(_ queue: String, prefix: String) -> Self {
        let wait = "\(prefix):\(queue):wait"
        let meta = "\(prefix):\(queue):meta"
        return Self(
            message: "queue '\(queue)' under prefix '\(prefix)' cannot be worked on a Redis Cluster: its keys hash "
                + "to different slots (\(wait) → \(ClusterSlot.of(wait)), \(meta) → \(ClusterSlot.of(meta))), and "
                + "BullMQ's scripts need them in one")
    }
}
