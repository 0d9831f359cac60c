/// A Redis reply, copied out of hiredis at once.
enum RedisValue: Sendable, Equatable {
    case bulk([UInt8])
    case integer(Int64)
    case array([RedisValue])
    case null
    case status(String)
    case error(String)

    /// The reply as text; invalid UTF-8 is replaced (use `isValidUTF8` to tell).
    var text: String? {
        switch self {
        case .bulk(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .status(let text): return text
        case .integer(let value): return String(value)
        default: return nil
        }
    }

    var bytes: [UInt8]? {
        if case .bulk(let bytes) = self { return bytes }
        return nil
    }

    var integer: Int64? {
        switch self {
        case .integer(let value): return value
        case .bulk(let bytes): return Int64(String(decoding: bytes, as: UTF8.self))
        default: return nil
        }
    }

    var array: [RedisValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    var isNull: Bool { self == .null }

    /// The server's error reply split into its code (`WRONGTYPE`, `NOAUTH`, `ERR`) and message.
    var serverError: (code: String, message: String)? {
        guard case .error(let text) = self else { return nil }
        let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
        if let code = parts.first, code == code.uppercased(), code.allSatisfy({ $0.isLetter || $0 == "_" }) {
            return (code, parts.count > 1 ? parts[1] : "")
        }
        return ("ERR", text)
    }
}

/// One command: its arguments as bytes, so keys and values are binary-safe.
struct RedisCommand: Sendable {
    var arguments: [[UInt8]]

    init(_ arguments: String...) { self.arguments = arguments.map { Array($0.utf8) } }
    init(arguments: [String]) { self.arguments = arguments.map { Array($0.utf8) } }
    init(bytes: [[UInt8]]) { self.arguments = bytes }

    /// The keys it names, which decide the node it goes to on a cluster (none: any node will do).
    var keys: ArraySlice<[UInt8]> {
        guard let name = arguments.first.map({ String(decoding: $0, as: UTF8.self).uppercased() }) else { return [] }
        switch name {
        case "EVAL", "EVALSHA":
            guard arguments.count >= 3, let count = Int(String(decoding: arguments[2], as: UTF8.self)), count >= 0,
                arguments.count >= 3 + count
            else { return [] }
            return arguments[3..<(3 + count)]
        case "EXISTS", "DEL", "UNLINK", "TOUCH", "MGET":
            return arguments.dropFirst()
        case "SCAN", "CLIENT", "INFO", "PING", "SCRIPT", "CLUSTER", "ROLE", "TIME", "AUTH", "SELECT", "ASKING",
            "DBSIZE", "CONFIG", "HELLO", "SENTINEL", "COMMAND":
            return []
        default:
            return arguments.dropFirst().prefix(1)
        }
    }
}
