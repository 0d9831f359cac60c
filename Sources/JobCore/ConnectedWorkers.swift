/// Which BullMQ client a worker runs, as the names of its connections tell.
public enum WorkerClient: String, Sendable, CaseIterable {
    /// Node's BullMQ: `<prefix>:<base64(queue)>[:w:<name>]`.
    case node
    /// Python's BullMQ: `<prefix>:<queue>[:w:<name>]`.
    case python
    /// jobctl: Python's naming, with the default name `jobctl-<host>-<pid>`, and on Redis its wait connection named
    /// as Node names it (so that Node's tools list it too).
    case jobctl
}

/// One connection as the server lists it (Redis `CLIENT LIST`, PostgreSQL `pg_stat_activity`).
public struct ClientConnection: Sendable, Equatable {
    /// The connection's name (Redis) or `application_name` (PostgreSQL).
    public var name: String
    /// `host:port` of the client; nil when the server does not show it.
    public var address: String?
    public var connectedForMs: Int64?
    /// Time since its last command (Redis) or since it last went idle (PostgreSQL); 0 while it runs one.
    public var idleForMs: Int64?

    public init(name: String, address: String?, connectedForMs: Int64?, idleForMs: Int64?) {
        self.name = name
        self.address = address
        self.connectedForMs = connectedForMs
        self.idleForMs = idleForMs
    }
}

/// A worker of a queue, from its connections.
///
/// A named worker is one row whatever its connections; connections of unnamed workers are grouped by host, as their
/// names cannot tell them apart.
public struct ConnectedWorker: Sendable, Equatable {
    public var queue: String
    /// The worker's name; nil for a worker started without one.
    public var name: String?
    public var client: WorkerClient
    /// The distinct `host:port` of its connections, sorted.
    public var addresses: [String]
    public var connections: Int
    /// Since its oldest connection was opened.
    public var connectedForMs: Int64?
    /// Since any of its connections last did something.
    public var idleForMs: Int64?
}

/// The server refuses to list its connections (a Redis user without `+client|list`, a hosted Redis without the
/// command), so the workers of a queue cannot be known.
public struct WorkerListingRefusedError: OperatorFacingError {
    /// Where the queues live, safe to print.
    public var location: String
    /// The server's own answer.
    public var serverMessage: String

    public init(location: String, serverMessage: String) {
        self.location = location
        self.serverMessage = serverMessage
    }

    public var kind: FailureKind { .failure }
    public var description: String {
        "cannot list the workers at \(location): the server refuses CLIENT LIST (\(serverMessage))"
    }
    public var hints: [String] {
        [
            "an ACL user needs the command: ACL SETUSER <user> +client|list (or use a user that has it);",
            "some hosted Redis services do not offer CLIENT LIST at all, and BullMQ's getWorkers() fails there too",
        ]
    }
}

/// How a jobctl worker names its connections, as BullMQ's workers do, so that `getWorkers()` of every BullMQ
/// client (and bull-board, which calls it) lists it.
public struct WorkerIdentity: Sendable, Equatable {
    public var queue: String
    public var name: String

    public init(queue: String, name: String) {
        self.queue = queue
        self.name = name
    }

    /// `jobctl-<host>-<pid>`.
    public static func defaultName(host: String, pid: Int32) -> String {
        let cleaned = String(host.unicodeScalars.map { Self.isNameCharacter($0) ? Character($0) : "-" })
        return "jobctl-\(cleaned.isEmpty ? "host" : cleaned)-\(pid)"
    }

    /// Why `name` cannot name a worker, or nil when it can: Redis refuses spaces and control characters in a
    /// connection name, and PostgreSQL keeps 63 bytes of ASCII.
    public static func problem(withName name: String) -> String? {
        if name.isEmpty { return "it is empty" }
        if name.utf8.count > 100 { return "it is longer than 100 characters" }
        if let bad = name.unicodeScalars.first(where: { !isNameCharacter($0) }) {
            return "it contains \(bad.properties.generalCategory == .control ? "a control character" : "'\(bad)'")"
                + " (use letters, digits and punctuation, no spaces)"
        }
        return nil
    }

    static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool { scalar.value > 0x20 && scalar.value < 0x7F }

    /// `<namespace>:<queue>:w:<name>`, as the Python client names a worker's connections.
    public func pythonStyleName(namespace: String) -> String { "\(namespace):\(queue):w:\(name)" }

    /// `<namespace>:<base64(queue)>:w:<name>`, as the Node client names a worker's connections.
    public func nodeStyleName(namespace: String) -> String { "\(namespace):\(Base64.encode(queue)):w:\(name)" }

    /// Whether Redis accepts the Python-style name (a queue name with a space makes it unusable).
    public func pythonStyleNameIsValid(namespace: String) -> Bool {
        pythonStyleName(namespace: namespace).unicodeScalars.allSatisfy(Self.isNameCharacter)
    }
}

/// Finds the workers among a server's connections, by BullMQ's naming.
public enum WorkerDirectory {
    /// How a connection names its queue.
    enum Style: Equatable { case node, python }

    /// The queue, worker name and naming style a connection name carries, or nil when it is not a worker's.
    ///
    /// `knownQueues` settles names that read both ways; a name of a queue not known is read as Node's when it is
    /// base64 of printable text, as Python's otherwise.
    static func parse(
        _ connectionName: String, namespace: String, knownQueues: Set<String>, nodeNaming: Bool
    ) -> (queue: String, worker: String?, style: Style)? {
        let head = namespace + ":"
        guard connectionName.hasPrefix(head) else { return nil }
        let rest = connectionName.dropFirst(head.count)
        let queuePart: Substring
        let worker: String?
        if let marker = rest.firstRange(of: ":w:") {
            queuePart = rest[..<marker.lowerBound]
            worker = String(rest[marker.upperBound...])
            if worker?.isEmpty == true { return nil }
        } else {
            (queuePart, worker) = (rest, nil)
        }
        guard !queuePart.isEmpty else { return nil }
        let raw = String(queuePart)
        if knownQueues.contains(raw) { return (raw, worker, .python) }
        let decoded = nodeNaming ? Base64.decodeText(raw) : nil
        if let decoded, knownQueues.contains(decoded) { return (decoded, worker, .node) }
        // Other names under the namespace (Node's QueueEvents ':qe', for one) are not workers'.
        if raw.contains(":") { return nil }
        if let decoded, decoded.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) {
            return (decoded, worker, .node)
        }
        return (raw, worker, .python)
    }

    /// The workers among `connections`, sorted by queue, then name (unnamed last), then address.
    ///
    /// `nodeNaming`: whether Node's base64 naming is in use on this backend (Redis).
    public static func workers(
        from connections: [ClientConnection], namespace: String, knownQueues: Set<String>, nodeNaming: Bool
    ) -> [ConnectedWorker] {
        struct GroupKey: Hashable {
            var queue: String
            var name: String?
            /// Unnamed workers only: the naming style and host that group them.
            var unnamedStyle: String?
            var host: String?
        }
        var groups: [GroupKey: (worker: ConnectedWorker, styles: Set<String>)] = [:]
        for connection in connections {
            guard
                let (queue, name, style) = parse(
                    connection.name, namespace: namespace, knownQueues: knownQueues, nodeNaming: nodeNaming)
            else { continue }
            let styleName = style == .node ? "node" : "python"
            let key = GroupKey(
                queue: queue, name: name, unnamedStyle: name == nil ? styleName : nil,
                host: name == nil ? connection.address.map(host(of:)) : nil)
            var entry =
                groups[key]
                ?? (
                    ConnectedWorker(
                        queue: queue, name: name, client: style == .node ? .node : .python, addresses: [],
                        connections: 0, connectedForMs: nil, idleForMs: nil),
                    []
                )
            entry.styles.insert(styleName)
            entry.worker.connections += 1
            if let address = connection.address, !entry.worker.addresses.contains(address) {
                entry.worker.addresses.append(address)
            }
            entry.worker.connectedForMs = maxOptional(entry.worker.connectedForMs, connection.connectedForMs)
            entry.worker.idleForMs = minOptional(entry.worker.idleForMs, connection.idleForMs)
            groups[key] = entry
        }
        return groups.values.map { entry in
            var worker = entry.worker
            worker.addresses.sort()
            if entry.styles.count > 1 || (worker.name?.hasPrefix("jobctl-") ?? false) { worker.client = .jobctl }
            return worker
        }.sorted { a, b in
            if a.queue != b.queue { return a.queue < b.queue }
            switch (a.name, b.name) {
            case (let x?, let y?) where x != y: return x < y
            case (.some, nil): return true
            case (nil, .some): return false
            default: return a.addresses.lexicographicallyPrecedes(b.addresses)
            }
        }
    }

    /// The number of workers of each queue.
    public static func counts(_ workers: [ConnectedWorker]) -> [String: Int] {
        workers.reduce(into: [:]) { $0[$1.queue, default: 0] += 1 }
    }

    /// `10.0.0.7` of `10.0.0.7:51234`, `::1` of `[::1]:51234` or `::1:51234`.
    static func host(of address: String) -> String {
        guard let colon = address.lastIndex(of: ":") else { return address }
        var host = address[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return String(host)
    }

    private static func maxOptional(_ a: Int64?, _ b: Int64?) -> Int64? {
        guard let a else { return b }
        guard let b else { return a }
        return max(a, b)
    }

    private static func minOptional(_ a: Int64?, _ b: Int64?) -> Int64? {
        guard let a else { return b }
        guard let b else { return a }
        return min(a, b)
    }
}

/// Standard base64 with padding, as Node's `Buffer.toString('base64')` writes it.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value: UInt32 = 0
            for (offset, byte) in chunk.enumerated() { value |= UInt32(byte) << (16 - 8 * offset) }
            for position in 0..<4 {
                out.append(
                    position <= chunk.count ? alphabet[Int((value >> (18 - 6 * position)) & 0x3F)] : UInt8(ascii: "="))
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The UTF-8 text `encoded` is the canonical base64 of; nil for anything else.
    static func decodeText(_ encoded: String) -> String? {
        let characters = Array(encoded.utf8)
        guard !characters.isEmpty, characters.count % 4 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters.count / 4 * 3)
        var padding = 0
        for start in stride(from: 0, to: characters.count, by: 4) {
            var value: UInt32 = 0
            for offset in 0..<4 {
                let character = characters[start + offset]
                value <<= 6
                if character == UInt8(ascii: "=") {
                    guard start + 4 == characters.count, offset >= 2 else { return nil }
                    padding += 1
                    continue
                }
                guard padding == 0, let digit = alphabet.firstIndex(of: character) else { return nil }
                value |= UInt32(digit)
            }
            for offset in 0..<3 { bytes.append(UInt8((value >> (16 - 8 * offset)) & 0xFF)) }
        }
        bytes.removeLast(padding)
        guard let text = String(validating: bytes, as: UTF8.self), encode(text) == encoded else { return nil }
        return text
    }
}
