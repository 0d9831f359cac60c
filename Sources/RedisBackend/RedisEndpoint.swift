import FoundationEssentials
public import JobCore

/// How a connection checks the server over TLS (`rediss://`).
public struct RedisTLS: Sendable, Equatable {
    /// A PEM file of CAs to trust instead of the system's (`ssl_ca_certs`, `--tls-ca`).
    public var caFile: String?
    /// A directory of hashed CA certificates (`ssl_ca_path`).
    public var caDirectory: String?
    /// The client's certificate and key, for servers that ask for one (`ssl_certfile`, `ssl_keyfile`).
    public var certificateFile: String?
    public var keyFile: String?
    /// Check the server's certificate against the trusted CAs (`ssl_cert_reqs=none` and `--tls-insecure` turn it
    /// off).
    public var verifiesCertificate = true
    /// Check that the certificate names the host of the URL (`ssl_check_hostname=false` turns it off).
    public var checksHostName = true

    public init() {}
}

/// Where a Redis server is and how to log in, parsed from `redis://[user:password@]host[:port][/db]`,
/// `rediss://…` (TLS), `unix:///path/to/socket[?db=N]`, `redis://h1:p1,h2:p2` (nodes of a Redis Cluster) or
/// `redis-sentinel://s1,s2/db?master=NAME`.
///
/// A single host may be a Redis Cluster node too: the connection finds out by itself.
public struct RedisEndpoint: Sendable, Equatable {
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)
        /// The master that Sentinels name: asked for on every connect.
        case sentinel(SentinelSet)
        /// Nodes of one Redis Cluster, tried in turn until one answers with the cluster's slot map.
        case clusterSeeds([Node])
    }

    /// A host and port: a sentinel, a seed or a node of a Redis Cluster.
    public struct Node: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// `host:port`, or `[v6]:port`.
        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// Sentinels that watch a master, and how to log in to them (when it differs from the master's login).
    public struct SentinelSet: Sendable, Equatable {
        public typealias Node = RedisEndpoint.Node

        public var nodes: [Node]
        public var master: String
        public var username: String?
        public var password: String?

        public static let defaultPort = 26379

        /// `h1:26379,h2:26379`.
        public var description: String { RedisEndpoint.describe(nodes) }
    }

    public var address: Address
    public var database: Int
    public var username: String?
    public var password: String?
    /// TLS settings; nil for plain TCP.
    public var tls: RedisTLS?

    public init(
        address: Address, database: Int = 0, username: String? = nil, password: String? = nil, tls: RedisTLS? = nil
    ) {
        self.address = address
        self.database = database
        self.username = username
        self.password = password
        self.tls = tls
    }

    /// `host:port` or the socket path, for messages.
    public var hostDescription: String {
        switch address {
        case .tcp(let host, let port): return Node(host: host, port: port).description
        case .unixSocket(let path): return path
        case .sentinel(let set): return "master '\(set.master)' of sentinels \(set.description)"
        case .clusterSeeds(let nodes): return "Redis Cluster nodes \(Self.describe(nodes))"
        }
    }

    /// `h1:6379,[v6]:6379`.
    static func describe(_ nodes: [Node]) -> String { nodes.map(\.description).joined(separator: ",") }

    /// The URL with the password replaced by `***`: safe to print.
    public var redactedURL: String {
        var credentials = ""
        if username != nil || password != nil {
            credentials = (username ?? "") + (password != nil ? ":***" : "") + "@"
        }
        switch address {
        case .tcp:
            return "\(tls == nil ? "redis" : "rediss")://\(credentials)\(hostDescription)/\(database)"
        case .unixSocket(let path):
            return "unix://\(credentials)\(path)" + (database != 0 ? "?db=\(database)" : "")
        case .sentinel(let set):
            return "\(tls == nil ? "redis" : "rediss")-sentinel://\(credentials)\(set.description)/\(database)?master="
                + set.master + (set.password != nil ? "&sentinel_password=***" : "")
        case .clusterSeeds(let nodes):
            return "\(tls == nil ? "redis" : "rediss")://\(credentials)\(Self.describe(nodes))/\(database)"
        }
    }
}

/// A Redis URL jobctl cannot use, with the reason.
///
/// Never contains the password.
public struct RedisURLError: OperatorFacingError, Equatable {
    public var reason: String
    public var kind: FailureKind { .usage }
    public var description: String { "invalid Redis URL: \(reason)" }
    public var hints: [String] { ["example: redis://:PASSWORD@127.0.0.1:6379/0"] }
}

extension RedisEndpoint {
    public static let defaultPort = 6379

    /// Parses a `redis://` or `unix://` URL.
    public init(url: String) throws(RedisURLError) {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw RedisURLError(reason: "expected redis://[user:password@]host[:port][/db]")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = String(url[schemeEnd.upperBound...])
        let sentinel = scheme == "redis-sentinel" || scheme == "rediss-sentinel"
        switch scheme {
        case "redis", "rediss", "redis-sentinel", "rediss-sentinel": break
        case "unix", "redis+unix": break
        default:
            throw RedisURLError(
                reason: "unsupported scheme '\(scheme)://'; expected redis://, unix:// or postgresql://")
        }

        // Query (unix sockets may carry ?db=N) and fragment.
        var query: [(String, String)] = []
        if let hash = rest.firstIndex(of: "#") { rest = String(rest[..<hash]) }
        if let question = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: question)...].split(separator: "&") {
                // "?=" has an empty name: keep the empty parts rather than index past them (found by fuzzing).
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                query.append((parts[0], parts.count > 1 ? parts[1] : ""))
            }
            rest = String(rest[..<question])
        }

        // Credentials: everything before the last '@' (passwords may contain '@' only percent-encoded, but be lenient).
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = String(rest[..<at])
            rest = String(rest[rest.index(after: at)...])
            if let colon = userinfo.firstIndex(of: ":") {
                let user = String(userinfo[..<colon])
                username = user.isEmpty ? nil : try Self.percentDecoded(user, what: "user name")
                password = try Self.percentDecoded(String(userinfo[userinfo.index(after: colon)...]), what: "password")
            } else if !userinfo.isEmpty {
                // redis://secret@host is how many clients pass a password alone.
                password = try Self.percentDecoded(userinfo, what: "password")
            }
        }

        var database = 0
        if scheme == "unix" || scheme == "redis+unix" {
            let path = try Self.percentDecoded(rest, what: "socket path")
            guard path.hasPrefix("/") else { throw RedisURLError(reason: "a unix socket URL needs an absolute path") }
            for (key, value) in query where key == "db" {
                guard let db = Int(value), db >= 0 else { throw RedisURLError(reason: "db must be a number ≥ 0") }
                database = db
            }
            self.init(address: .unixSocket(path: path), database: database, username: username, password: password)
            return
        }

        var hostPort = rest
        if let slash = rest.firstIndex(of: "/") {
            hostPort = String(rest[..<slash])
            let dbText = rest[rest.index(after: slash)...]
            if !dbText.isEmpty {
                guard let db = Int(dbText), db >= 0, db < 1_000_000 else {
                    throw RedisURLError(reason: "the database after '/' must be a number ≥ 0, not '\(dbText)'")
                }
                database = db
            }
        }
        for (key, value) in query where key == "db" {
            guard let db = Int(value), db >= 0 else { throw RedisURLError(reason: "db must be a number ≥ 0") }
            database = db
        }

        var tls = scheme.hasPrefix("rediss") || query.contains { $0 == ("tls", "true") } ? RedisTLS() : nil
        try Self.readTLSSettings(query, into: &tls)
        if sentinel {
            var set = SentinelSet(nodes: [], master: "")
            for part in hostPort.split(separator: ",", omittingEmptySubsequences: false) {
                guard !part.isEmpty else {
                    throw RedisURLError(reason: "an empty entry in the list of sentinels (host:port,host:port)")
                }
                let (host, port) = try Self.hostAndPort(String(part), defaultPort: SentinelSet.defaultPort)
                set.nodes.append(.init(host: host, port: port))
            }
            for (key, value) in query {
                switch key {
                case "master", "sentinelMasterId": set.master = try Self.percentDecoded(value, what: "master name")
                case "sentinel_username": set.username = try Self.percentDecoded(value, what: "sentinel user name")
                case "sentinel_password": set.password = try Self.percentDecoded(value, what: "sentinel password")
                default: break
                }
            }
            guard !set.master.isEmpty else {
                throw RedisURLError(
                    reason: "\(scheme):// needs the master's name: ?master=NAME (as the sentinels know it)")
            }
            self.init(
                address: .sentinel(set), database: database, username: username, password: password, tls: tls)
            return
        }
        if hostPort.contains(",") {
            var nodes: [Node] = []
            for part in hostPort.split(separator: ",", omittingEmptySubsequences: false) {
                guard !part.isEmpty else {
                    throw RedisURLError(reason: "an empty entry in the list of cluster nodes (host:port,host:port)")
                }
                let (host, port) = try Self.hostAndPort(String(part), defaultPort: Self.defaultPort)
                nodes.append(Node(host: host, port: port))
            }
            guard database == 0 else {
                throw RedisURLError(
                    reason: "several hosts name the nodes of a Redis Cluster, which has only database 0 (drop "
                        + "'/\(database)')")
            }
            self.init(address: .clusterSeeds(nodes), username: username, password: password, tls: tls)
            return
        }
        let (host, port) = try Self.hostAndPort(hostPort, defaultPort: Self.defaultPort)
        self.init(
            address: .tcp(host: host, port: port), database: database, username: username, password: password, tls: tls)
    }

    /// `host[:port]` or `[v6]:port`; an empty host is 127.0.0.1.
    private static func hostAndPort(_ hostPort: String, defaultPort: Int) throws(RedisURLError) -> (String, Int) {
        var host: String
        var port = defaultPort
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                throw RedisURLError(reason: "unterminated '[' in an IPv6 address")
            }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw RedisURLError(reason: "unexpected text after ']'") }
                port = try Self.port(String(after.dropFirst()))
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            port = try Self.port(String(hostPort[hostPort.index(after: colon)...]))
        } else {
            host = hostPort
        }
        if host.isEmpty { host = "127.0.0.1" }
        guard !host.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "@" || $0 == "," }) else {
            throw RedisURLError(reason: "'\(host)' is not a host name")
        }
        return (host, port)
    }

    /// The `ssl_*` settings of the query, for a TLS URL only.
    private static func readTLSSettings(_ query: [(String, String)], into tls: inout RedisTLS?) throws(RedisURLError) {
        for (key, value) in query where key.hasPrefix("ssl_") {
            guard tls != nil else { throw RedisURLError(reason: "\(key) applies to rediss:// (TLS) URLs") }
            let text = try percentDecoded(value, what: key)
            switch key {
            case "ssl_ca_certs": tls?.caFile = text
            case "ssl_ca_path": tls?.caDirectory = text
            case "ssl_certfile": tls?.certificateFile = text
            case "ssl_keyfile": tls?.keyFile = text
            case "ssl_cert_reqs":
                guard ["none", "optional", "required"].contains(text.lowercased()) else {
                    throw RedisURLError(reason: "ssl_cert_reqs takes none, optional or required, not '\(text)'")
                }
                tls?.verifiesCertificate = text.lowercased() != "none"
            case "ssl_check_hostname":
                guard let flag = ["true": true, "false": false][text.lowercased()] else {
                    throw RedisURLError(reason: "ssl_check_hostname takes true or false, not '\(text)'")
                }
                tls?.checksHostName = flag
            default:
                throw RedisURLError(
                    reason: "unknown TLS setting '\(key)'; known: ssl_ca_certs, ssl_ca_path, ssl_certfile, "
                        + "ssl_keyfile, ssl_cert_reqs, ssl_check_hostname")
            }
        }
        if let tls, (tls.certificateFile == nil) != (tls.keyFile == nil) {
            throw RedisURLError(
                reason: "a client certificate needs its key and the key its certificate (ssl_certfile "
                    + "and ssl_keyfile together)")
        }
    }

    private static func port(_ text: String) throws(RedisURLError) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw RedisURLError(reason: "port must be a number from 1 to 65535, not '\(text)'")
        }
        return port
    }

    private static func percentDecoded(_ text: String, what: String) throws(RedisURLError) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    throw RedisURLError(reason: "bad percent-encoding in the \(what)")
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw RedisURLError(reason: "the \(what) is not valid UTF-8 after percent-decoding")
        }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
