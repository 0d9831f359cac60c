import CHiredis
import Glibc
import JobCore

/// One hiredis connection.
///
/// Owns its `redisContext` and frees it exactly once. Blocking: use it only from `RedisClient`, which runs it on its
/// own thread.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    let endpoint: RedisEndpoint
    private var broken = false

    /// Connects, sets the command timeout, logs in, selects the database and names the connection (`CLIENT SETNAME`,
    /// when `name` is given; a server that refuses it only leaves the connection unnamed).
    init(endpoint: RedisEndpoint, connectTimeoutMs: Int, commandTimeoutMs: Int, name: String? = nil) throws(RedisError)
    {
        let server = endpoint.hostDescription
        let connectTimeout = CHiredis_timeval(connectTimeoutMs)
        let raw: UnsafeMutablePointer<redisContext>?
        switch endpoint.address {
        case .tcp(let host, let port): raw = redisConnectWithTimeout(host, Int32(port), connectTimeout)
        case .unixSocket(let path): raw = redisConnectUnixWithTimeout(path, connectTimeout)
        }
        guard let raw else {
            throw RedisError(code: .unreachable, server: server, message: "out of memory creating the connection")
        }
        if raw.pointee.err != 0 {
            let reason = Self.errorText(raw)
            redisFree(raw)  // not yet owned by self: free here, deinit will not run
            let timedOut = reason.contains("timed out") || reason.contains("temporarily unavailable")
            throw RedisError(
                code: .unreachable, server: server,
                message: timedOut ? "connect timed out after \(connectTimeoutMs) ms" : reason)
        }
        context = raw
        self.endpoint = endpoint
        // From here on deinit frees the context.
        if redisSetTimeout(context, CHiredis_timeval(commandTimeoutMs)) != CHiredis_OK {
            throw RedisError(code: .unreachable, server: server, message: "could not set the command timeout")
        }
        var setup: [RedisCommand] = []
        if let password = endpoint.password {
            setup.append(
                endpoint.username.map { RedisCommand("AUTH", $0, password) } ?? RedisCommand("AUTH", password))
        }
        if endpoint.database != 0 { setup.append(RedisCommand("SELECT", String(endpoint.database))) }
        // PING proves the server speaks Redis and tells us early when it wants a password.
        setup.append(RedisCommand("PING"))
        if let name { setup.append(RedisCommand("CLIENT", "SETNAME", name)) }
        let replies = try pipeline(setup)
        for reply in replies.prefix(name == nil ? replies.count : replies.count - 1) {
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
            default:
                throw RedisError(code: .server, server: server, serverCode: code, message: message)
            }
        }
    }

    deinit { redisFree(context) }

    /// The connection's socket, for `InterruptibleSocket`.
    var socket: Int32 { context.pointee.fd }

    /// Sends every command at once, then reads every reply: one round trip.
    ///
    /// Error replies are returned as `.error` values, not thrown; I/O failures throw and leave the connection unusable.
    func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisValue] {
        guard !broken else {
            throw RedisError(code: .connectionLost, server: endpoint.hostDescription, message: "connection closed")
        }
        for command in commands {
            let status = Self.append(command, to: context)
            if status != CHiredis_OK { throw ioError() }
        }
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var reply: UnsafeMutableRawPointer?
            guard redisGetReply(context, &reply) == CHiredis_OK, let reply else { throw ioError() }
            let typed = reply.assumingMemoryBound(to: redisReply.self)
            replies.append(Self.copy(typed))
            freeReplyObject(reply)
        }
        return replies
    }

    private func ioError() -> RedisError {
        broken = true
        let reason = Self.errorText(context)
        let server = endpoint.hostDescription
        if reason.contains("temporarily unavailable") || reason.contains("timed out") {
            return RedisError(code: .timeout, server: server, message: "no reply within the command timeout")
        }
        return RedisError(code: .connectionLost, server: server, message: reason.isEmpty ? "I/O error" : reason)
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: &context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func append(_ command: RedisCommand, to context: UnsafeMutablePointer<redisContext>) -> Int32 {
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
        return buffer.withUnsafeBufferPointer { base -> Int32 in
            guard let start = base.baseAddress else { return -1 }
            let pointers: [UnsafePointer<CChar>?] = offsets.map { start + $0 }
            return pointers.withUnsafeBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    redisAppendCommandArgv(
                        context, Int32(command.arguments.count),
                        UnsafeMutablePointer(mutating: argv.baseAddress), argvlen.baseAddress)
                }
            }
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
