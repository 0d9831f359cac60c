import CLibPQ
import FoundationEssentials
public import JobCore

/// Where a PostgreSQL database is: a `postgres://` / `postgresql://` URL, or nothing at all, in which case libpq's
/// own defaults apply (`PGHOST`, `PGPORT`, `PGDATABASE`, `PGUSER`, `PGPASSWORD`, `PGSSLMODE`, `~/.pgpass`, …).
///
/// Every connection setting (sslmode, sslrootcert, target_session_attrs, …) passes through to libpq unchanged. Never
/// prints the password.
public struct PostgresEndpoint: Sendable, Equatable {
    /// The URL as given, handed to libpq; nil to use libpq's environment defaults only.
    let url: String?
    /// Settings parsed from the URL, for messages only.
    ///
    /// Never includes the password.
    let settings: [String: String]
    /// Whether the URL itself carries a password (to warn when it sits on the command line).
    public let hasPassword: Bool

    /// Parses and checks a URL with libpq's own parser.
    public init(url: String?) throws(PostgresURLError) {
        guard let url else {
            self.url = nil
            self.settings = [:]
            self.hasPassword = false
            return
        }
        let lower = url.lowercased()
        guard lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") else {
            throw PostgresURLError(
                reason: "expected postgres://[user[:password]@]host[:port]/database[?setting=value…]")
        }
        var parsed: [String: String] = [:]
        var errorText: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(url, &errorText) else {
            let reason = errorText.map { String(cString: $0).trimmingCharactersInWhitespace() }
            errorText.map { PQfreemem($0) }
            // libpq's messages quote the offending part of the URL, never the password alone; still, keep only the
            // part after the colon so that nothing of the URL is echoed.
            throw PostgresURLError(reason: Self.withoutQuotedInput(reason ?? "libpq could not parse it"))
        }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { parsed[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        // libpq checks the port only when it connects, which would read as an unreachable server.
        for port in parsed["port"]?.split(separator: ",", omittingEmptySubsequences: false) ?? [] {
            guard let number = Int(port), (1...65535).contains(number) else {
                throw PostgresURLError(reason: "the port must be a number from 1 to 65535, not '\(port.prefix(20))'")
            }
        }
        self.url = url
        self.hasPassword = !(parsed["password"] ?? "").isEmpty
        parsed["password"] = nil
        self.settings = parsed
    }

    private static func withoutQuotedInput(_ message: String) -> String {
        // e.g. `invalid URI query parameter: "x"` or `missing "=" after "…" in connection info string`
        guard let quote = message.firstIndex(of: "\"") else { return message }
        return message[..<quote].trimmingCharactersInWhitespace(or: { $0 == ":" })
    }

    private static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// `host:port` (or the socket directory) as libpq will resolve it, for messages.
    public var hostDescription: String {
        let env = Self.environment
        let host = settings["host"] ?? settings["hostaddr"] ?? env["PGHOST"] ?? "localhost"
        let port = settings["port"] ?? env["PGPORT"] ?? "5432"
        if host.hasPrefix("/") { return "\(host) (socket, port \(port))" }
        return host.contains(":") && !host.contains(",") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The database name libpq will use, for messages.
    public var databaseName: String {
        settings["dbname"] ?? Self.environment["PGDATABASE"] ?? settings["user"] ?? Self.environment["PGUSER"]
            ?? "(default)"
    }

    /// `postgresql://user@host:port/db`, without the password: safe to print.
    public var redactedURL: String {
        let user = settings["user"] ?? Self.environment["PGUSER"]
        var text = "postgresql://" + (user.map { "\($0)@" } ?? "") + hostDescription + "/" + databaseName
        if let sslmode = settings["sslmode"] { text += "?sslmode=\(sslmode)" }
        return text
    }
}

/// A PostgreSQL URL jobctl cannot use, with the reason.
///
/// Never contains the password.
public struct PostgresURLError: OperatorFacingError, Equatable {
    public var reason: String
    public var kind: FailureKind { .usage }
    public var description: String { "invalid PostgreSQL URL: \(reason)" }
    public var hints: [String] {
        ["example: postgresql://USER@127.0.0.1:5432/DATABASE?sslmode=prefer (password in PGPASSWORD or ~/.pgpass)"]
    }
}
