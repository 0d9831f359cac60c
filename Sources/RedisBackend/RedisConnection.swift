import CHiredis
import Glibc
import JobCore

/// One Redis connection: jobctl's own socket (TCP, Unix or TLS, `RedisSocket`), with hiredis 0.14 as the protocol
/// layer only — its command formatter and reply reader.
///
/// Owns its reader and frees it exactly once. Blocking: use it only from `RedisClient`, which runs it on its own
/// thread.
final class RedisConnection {
    private let transport: RedisSocket
    private let reader: UnsafeMutablePointer<redisReader>
    private let commandTimeoutMs: Int
    let endpoint: RedisEndpoint
    private var broken = false
    private var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)

    /// Whether the server is a Redis Cluster node (asked with `INFO cluster` when `probesCluster`).
    private(set) var isClusterNode = false

    /// Connects, logs in, selects the database and names the connection (`CLIENT SETNAME`, when `name` is given; a
    /// server that refuses it only leaves the connection unnamed).
    ///
    /// `expectsMaster`: the server must say it is a master (`ROLE`), as the one Sentinels name must.
    /// `probesCluster`: find out whether the server is a cluster node (`isClusterNode`; a server that refuses
    /// `INFO` is taken for none).
    init(
        endpoint: RedisEndpoint, connectTimeoutMs: Int, commandTimeoutMs: Int, name: String? = nil,
        expectsMaster: Bool = false, probesCluster: Bool = false
    ) throws(RedisError) {
        let server = endpoint.hostDescription
        transport = try RedisSocket(endpoint: endpoint, connectTimeoutMs: connectTimeoutMs)
        guard let reader = redisReaderCreate() else {
            throw RedisError(code: .unreachable, server: server, message: "out of memory creating the reply reader")
        }
        self.reader = reader
        self.endpoint = endpoint
        self.commandTimeoutMs = commandTimeoutMs
        // From here on deinit frees the reader (and the socket closes).
        var setup: [RedisCommand] = []
        if let password = endpoint.password {
            setup.append(
                endpoint.username.map { RedisCommand("AUTH", $0, password) } ?? RedisCommand("AUTH", password))
        }
        if endpoint.database != 0 { setup.append(RedisCommand("SELECT", String(endpoint.database))) }
        // PING proves the server speaks Redis and tells us early when it wants a password.
        setup.append(RedisCommand("PING"))
        let role = setup.count
        if expectsMaster { setup.append(RedisCommand("ROLE")) }
        let info = setup.count
        if probesCluster { setup.append(RedisCommand("INFO", "cluster")) }
        if let name { setup.append(RedisCommand("CLIENT", "SETNAME", name)) }
        let replies: [RedisValue]
        do {
            replies = try pipeline(setup)
        } catch  where error.code == .connectionLost && endpoint.tls == nil {
            // A TLS-only port drops a client that does not start with a TLS handshake.
            throw RedisError(
                code: .connectionLost, server: server,
                message: "\(error.message) before answering (a TLS-only port? then use rediss://)")
        }
        for reply in replies.prefix(expectsMaster ? role + 1 : role) {
            guard let (code, message) = reply.serverError else { continue }
            switch code {
            case "NOAUTH", "WRONGPASS", "NOPERM":
                throw RedisError(code: .authentication, server: server, serverCode: code, message: message)
            case "ERR" where message.contains("AUTH") || message.contains("password"):
                throw RedisError(code: .authentication, server: server, serverCode: code, message: message)
            case "ERR" where message.contains("DB index"):
                throw RedisError(
                    code: .server, server: server, serverCode: code,
                    message: "\(message) (database \(endpoint.database) in the URL)")
            case "ERR" where message.contains("cluster mode"):
                throw RedisError(
                    code: .server, server: server,
                    message: "it is a Redis Cluster node, and a cluster has only database 0: drop "
                        + "'/\(endpoint.database)' from the URL")
            default:
                throw RedisError(code: .server, server: server, serverCode: code, message: message)
            }
        }
        if expectsMaster {
            let role = replies[role].array?.first?.text ?? "unknown"
            guard role == "master" else {
                throw RedisError(
                    code: .unreachable, server: server,
                    message: "the sentinels name it as the master, but it says it is a \(role) (a failover under way?)")
            }
        }
        if probesCluster {
            isClusterNode = replies[info].text?.contains("cluster_enabled:1") ?? false
        }
    }

    deinit { redisReaderFree(reader) }

    /// The connection's socket, for `InterruptibleSocket`.
    var socket: Int32 { transport.descriptor }

    /// Sends every command at once, then reads every reply: one round trip.
    ///
    /// Error replies are returned as `.error` values, not thrown; I/O failures throw and leave the connection unusable.
    func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisValue] {
        guard !broken else {
            throw RedisError(code: .connectionLost, server: endpoint.hostDescription, message: "connection closed")
        }
        var request: [UInt8] = []
        for command in commands { Self.format(command, into: &request) }
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        do throws(RedisError) {
            try transport.send(request, timeoutMs: commandTimeoutMs)
            while replies.count < commands.count {
                var reply: UnsafeMutableRawPointer?
                guard redisReaderGetReply(reader, &reply) == CHiredis_OK else {
                    throw RedisError(
                        code: .unexpectedReply, server: endpoint.hostDescription,
                        message: "the reply is not Redis protocol: \(Self.readerError(reader))")
                }
                if let reply {
                    replies.append(Self.copy(reply.assumingMemoryBound(to: redisReply.self)))
                    freeReplyObject(reply)
                    continue
                }
                let count = try transport.receive(into: &readBuffer, timeoutMs: commandTimeoutMs)
                _ = readBuffer.withUnsafeBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { redisReaderFeed(reader, $0.baseAddress, count) }
                }
            }
        } catch {
            broken = true
            throw error
        }
        return replies
    }

    private static func readerError(_ reader: UnsafeMutablePointer<redisReader>) -> String {
        withUnsafeBytes(of: &reader.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Appends the command in Redis' protocol, as hiredis's formatter writes it.
    private static func format(_ command: RedisCommand, into request: inout [UInt8]) {
        // Copy every argument into one buffer so each has a stable address for the call.
        let total = command.arguments.reduce(0) { $0 + $1.count }
        var buffer = [CChar](repeating: 0, count: max(total, 1))
        var lengths: [Int] = []
        var offsets: [Int] = []
        var position = 0
        for argument in command.arguments {
            offsets.append(position)
            lengths.append(argument.count)
            for byte in argument {
                buffer[position] = CChar(bitPattern: byte)
                position += 1
            }
        }
        buffer.withUnsafeBufferPointer { base in
            guard let start = base.baseAddress else { return }
            let pointers: [UnsafePointer<CChar>?] = offsets.map { start + $0 }
            var formatted: UnsafeMutablePointer<CChar>?
            let length = pointers.withUnsafeBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    redisFormatCommandArgv(
                        &formatted, Int32(command.arguments.count), UnsafeMutablePointer(mutating: argv.baseAddress),
                        argvlen.baseAddress)
                }
            }
            guard let formatted, length > 0 else { return }
            formatted.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                request.append(contentsOf: UnsafeBufferPointer(start: $0, count: Int(length)))
            }
            redisFreeCommand(formatted)
        }
    }

    private static func copy(_ reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let value = reply.pointee
        switch Int32(value.type) {
        case CHiredis_REPLY_STRING:
            return .bulk(bytes(value.str, value.len))
        case CHiredis_REPLY_STATUS:
            return .status(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case CHiredis_REPLY_ERROR:
            return .error(String(decoding: bytes(value.str, value.len), as: UTF8.self))
        case CHiredis_REPLY_INTEGER:
            return .integer(value.integer)
        case CHiredis_REPLY_ARRAY:
            var elements: [RedisValue] = []
            elements.reserveCapacity(value.elements)
            for index in 0..<value.elements {
                if let element = value.element[index] { elements.append(copy(element)) } else { elements.append(.null) }
            }
            return .array(elements)
        default:
            return .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }
}
