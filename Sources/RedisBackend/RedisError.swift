public import JobCore

/// A failure talking to Redis, with the server's own error code where there is one.
///
/// Never holds a password.
public struct RedisError: OperatorFacingError {
    public typealias Code = ServerFailure

    public var code: Code
    /// `host:port` or socket path.
    public var server: String
    /// The server's error code (`WRONGTYPE`, `NOAUTH`, `NOSCRIPT`, …), for `.server` and `.authentication`.
    public var serverCode: String?
    public var message: String

    public init(code: Code, server: String, serverCode: String? = nil, message: String) {
        self.code = code
        self.server = server
        self.serverCode = serverCode
        self.message = message
    }

    /// A server that is there but not serving yet (loading its data after a restart, busy with a script, a
    /// replica without its primary) is as good as away for now: retried by workers, exit 69 for commands.
    public var kind: FailureKind {
        if code == .server, let serverCode,
            ["LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN", "READONLY", "UNBLOCKED"].contains(serverCode)
        {
            return .unavailable
        }
        return code.kind
    }

    public var description: String {
        switch code {
        case .unreachable: return "cannot connect to Redis at \(server): \(message)"
        case .timeout: return "Redis at \(server) did not answer in time: \(message)"
        case .connectionLost: return "lost the connection to Redis at \(server): \(message)"
        case .authentication: return "Redis at \(server) refused the login: \(message)"
        case .server:
            return
                "Redis at \(server) answered with an error: "
                + "\([serverCode, message].compactMap { $0 }.joined(separator: " "))"
        case .unexpectedReply: return "unexpected reply from Redis at \(server): \(message)"
        case .certificate: return "TLS with Redis at \(server) failed: \(message)"
        }
    }

    public var hints: [String] {
        switch code {
        case .unreachable:
            return [
                "likely causes: the server is not running, the host or port is wrong, a firewall blocks the port,",
                "or it listens on another address; check --url / JOBCTL_URL / REDIS_URL",
            ]
        case .timeout:
            return ["the server may be overloaded or blocked by a long script; raise --timeout to wait longer"]
        case .connectionLost:
            return ["the server may have restarted or closed idle clients; run the command again"]
        case .authentication:
            switch serverCode {
            case "NOAUTH":
                return ["the server requires a password: put it in JOBCTL_URL as redis://:PASSWORD@host:port"]
            case "WRONGPASS":
                return ["check the user name and password in the URL (percent-encode special characters)"]
            default:
                return ["check the credentials in the URL"]
            }
        case .server, .unexpectedReply, .certificate:
            return []
        }
    }
}
