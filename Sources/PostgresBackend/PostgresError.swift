public import JobCore

/// A failure talking to PostgreSQL, with the server's SQLSTATE, message, detail and hint where there are some.
///
/// Never holds a password: libpq's messages name the host, port and user only.
public struct PostgresError: OperatorFacingError {
    public typealias Code = ServerFailure

    public var code: Code
    /// `host:port` or the socket directory.
    public var server: String
    /// The five-character SQLSTATE (`42P01`, `57014`, `BM001`, …) when the server sent one.
    public var sqlState: String?
    /// The server's primary message, or libpq's.
    public var message: String
    public var detail: String?
    public var serverHint: String?

    public init(
        code: Code, server: String, sqlState: String? = nil, message: String, detail: String? = nil,
        serverHint: String? = nil
    ) {
        self.code = code
        self.server = server
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.serverHint = serverHint
    }

    /// A server shutting down or starting up (class 57P: admin_shutdown, crash_shutdown, cannot_connect_now) or
    /// a connection failure class (08) is as good as away for now: retried by workers, exit 69 for commands.
    public var kind: FailureKind {
        if let sqlState, sqlState.hasPrefix("57P") || sqlState.hasPrefix("08") { return .unavailable }
        return code.kind
    }

    public var description: String {
        switch code {
        case .unreachable: return "cannot connect to PostgreSQL at \(server): \(message)"
        case .timeout: return "PostgreSQL at \(server) did not answer in time: \(message)"
        case .connectionLost: return "lost the connection to PostgreSQL at \(server): \(message)"
        case .authentication: return "PostgreSQL at \(server) refused the login: \(message)"
        case .server:
            return "PostgreSQL at \(server) answered with an error: " + (sqlState.map { "[\($0)] " } ?? "") + message
        case .unexpectedReply: return "unexpected reply from PostgreSQL at \(server): \(message)"
        case .certificate: return "TLS with PostgreSQL at \(server) failed, on the certificate: \(message)"
        }
    }

    public var hints: [String] {
        var lines: [String] = []
        if let detail { lines.append("detail: \(detail)") }
        if let serverHint { lines.append("server hint: \(serverHint)") }
        switch code {
        case .unreachable:
            lines += [
                "likely causes: the server is not running, the host or port is wrong, a firewall blocks the port,",
                "or pg_hba.conf does not admit this host; check --url / JOBCTL_URL / DATABASE_URL / PGHOST",
            ]
        case .timeout:
            lines.append(
                "the query was cancelled; the server may be overloaded or a lock blocks it; raise --timeout to wait "
                    + "longer"
            )
        case .connectionLost:
            lines.append("the server may have restarted or closed the connection; run the command again")
        case .authentication:
            lines.append("check the user and password: in the URL (percent-encoded), in PGPASSWORD, or in ~/.pgpass")
        case .certificate:
            lines += [
                "the server's certificate must be signed by the CA in sslrootcert (sslmode=verify-ca,",
                "verify-full) and, with verify-full, name the host of the URL; a server that asks for a client",
                "certificate takes sslcert and sslkey",
            ]
        case .server where sqlState == "42501":
            lines.append("the database user lacks a privilege on the schema; grant USAGE and SELECT to it")
        case .server, .unexpectedReply:
            break
        }
        return lines
    }
}
