import CLibPQ
import Dispatch
import FoundationEssentials
import Glibc
import JobCore

/// The rows of one query, as text (libpq's text format).
///
/// NULL is nil.
struct PostgresRows: Sendable {
    var columns: [String]
    var rows: [[String?]]

    /// The first row's first value.
    var scalar: String? { rows.first?.first ?? nil }
}

/// One libpq connection.
///
/// Owns its `PGconn` and finishes it exactly once. Blocking: use it only from `PostgresClient`, which runs it on its
/// own thread. Every wait is bounded by a deadline; a query that overruns it is cancelled on the server and the
/// connection is given up.
final class PostgresConnection {
    private let connection: OpaquePointer
    private let server: String
    private let commandTimeoutMs: Int
    private var broken = false

    /// Connects without blocking past `connectTimeoutMs`.
    ///
    /// It sets nothing on the session: behind a transaction pooler (PgBouncer, Supavisor) the server connection
    /// serves other clients next, and a session setting would stay for them. A statement that overruns the command
    /// timeout is cancelled with `PQcancel` instead, which poolers pass on.
    init(
        endpoint: PostgresEndpoint, connectTimeoutMs: Int, commandTimeoutMs: Int, applicationName: String? = nil
    ) throws(PostgresError) {
        let server = endpoint.hostDescription
        // Later entries override earlier ones: the URL (expanded from dbname) overrides our defaults. No
        // application_name: PgBouncer leaves it on the server connection for the next client that sets none.
        var settings: [(String, String)] = [("client_encoding", "UTF8")]
        if let url = endpoint.url { settings.append(("dbname", url)) }
        let raw: OpaquePointer? = Self.withCStringArrays(settings) { keywords, values in
            PQconnectStartParams(keywords, values, 1)
        }
        guard let raw else {
            throw PostgresError(code: .unreachable, server: server, message: "out of memory creating the connection")
        }
        let deadline = Self.deadline(afterMs: connectTimeoutMs)
        var pollStatus = PGRES_POLLING_WRITING
        while PQstatus(raw) != CONNECTION_BAD && pollStatus != PGRES_POLLING_OK && pollStatus != PGRES_POLLING_FAILED {
            let ready = Self.wait(
                socket: PQsocket(raw), forWriting: pollStatus == PGRES_POLLING_WRITING, until: deadline)
            guard ready else {
                PQfinish(raw)  // not yet owned by self: finish here, deinit will not run
                throw PostgresError(
                    code: .unreachable, server: server, message: "connect timed out after \(connectTimeoutMs) ms")
            }
            pollStatus = PQconnectPoll(raw)
        }
        if PQstatus(raw) != CONNECTION_OK {
            let error = Self.connectError(raw, server: server)
            PQfinish(raw)
            throw error
        }
        connection = raw
        self.server = server
        self.commandTimeoutMs = commandTimeoutMs
        // From here on deinit finishes the connection. Server notices (from functions) are not jobctl's output.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        if let applicationName {
            // A pooler (PgBouncer, Supavisor) hands the client a process id of its own: the server's differs. Only a
            // session that is the client's own gets the name (BullMQ's worker discovery reads it).
            let clientSidePid = String(PQbackendPID(connection))
            let rows = try query(
                "SELECT pg_backend_pid()::text, CASE WHEN pg_backend_pid()::text = $2 "
                    + "THEN set_config('application_name', $1, false) END",
                [applicationName, clientSidePid])
            behindPooler = rows.scalar != clientSidePid
        }
    }

    /// The server's process id differs from the one the connection was given: a pooler stands between.
    ///
    /// Known only for connections opened with an application name.
    private(set) var behindPooler = false

    deinit { PQfinish(connection) }

    /// Runs one statement with text parameters bound by position ($1, $2, …): values never become SQL text.
    func query(_ sql: String, _ parameters: [String?] = []) throws(PostgresError) -> PostgresRows {
        guard !broken else { throw PostgresError(code: .connectionLost, server: server, message: "connection closed") }
        let sent = Self.withCStrings(parameters) { values in
            PQsendQueryParams(connection, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        guard sent == 1 else { throw ioError() }
        let deadline = Self.deadline(afterMs: commandTimeoutMs)
        var outcome: Result<PostgresRows, PostgresError>?
        while true {
            while PQisBusy(connection) == 1 {
                guard Self.wait(socket: PQsocket(connection), forWriting: false, until: deadline) else {
                    cancelRunningQuery()
                    throw PostgresError(
                        code: .timeout, server: server, message: "no answer within \(commandTimeoutMs) ms (--timeout)")
                }
                guard PQconsumeInput(connection) == 1 else { throw ioError() }
            }
            guard let result = PQgetResult(connection) else { break }
            defer { PQclear(result) }
            // Keep the first outcome; later results (none for a single statement) are drained.
            if outcome == nil { outcome = read(result) }
        }
        guard let outcome else {
            throw PostgresError(code: .unexpectedReply, server: server, message: "no result for the query")
        }
        return try outcome.get()
    }

    /// Waits up to `timeoutMs` for a notification (on a channel this connection LISTENs to) whose payload is
    /// `payload`; true when one came.
    ///
    /// Notifications for other payloads are consumed and ignored.
    /// The connection's socket, for `InterruptibleSocket`.
    var socket: Int32 { PQsocket(connection) }

    func waitForNotification(payload: String, timeoutMs: Int) throws(PostgresError) -> Bool {
        guard !broken else { throw PostgresError(code: .connectionLost, server: server, message: "connection closed") }
        let deadline = Self.deadline(afterMs: timeoutMs)
        while true {
            guard PQconsumeInput(connection) == 1 else { throw ioError() }
            var matched = false
            while let notification = PQnotifies(connection) {
                if let extra = notification.pointee.extra, String(cString: extra) == payload { matched = true }
                PQfreemem(notification)
            }
            if matched { return true }
            guard Self.wait(socket: PQsocket(connection), forWriting: false, until: deadline) else { return false }
        }
    }

    private func read(_ result: OpaquePointer) -> Result<PostgresRows, PostgresError> {
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK:
            let rowCount = PQntuples(result)
            let columnCount = PQnfields(result)
            let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
            var rows: [[String?]] = []
            rows.reserveCapacity(Int(rowCount))
            for row in 0..<rowCount {
                rows.append(
                    (0..<columnCount).map { column in
                        if PQgetisnull(result, row, column) == 1 { return nil }
                        let length = Int(PQgetlength(result, row, column))
                        return PQgetvalue(result, row, column).withMemoryRebound(to: UInt8.self, capacity: length) {
                            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                        }
                    })
            }
            return .success(PostgresRows(columns: columns, rows: rows))
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR:
            func field(_ code: Int32) -> String? { PQresultErrorField(result, code).map { String(cString: $0) } }
            let sqlState = field(CLibPQ_DIAG_SQLSTATE)
            let message = field(CLibPQ_DIAG_MESSAGE_PRIMARY) ?? Self.trimmed(PQresultErrorMessage(result))
            let code: PostgresError.Code
            switch sqlState {
            case "57014": code = .timeout  // statement_timeout
            // Admin shutdown, crash shutdown, cannot connect now.
            case "57P01", "57P02", "57P03": code = .connectionLost
            default: code = .server
            }
            return .failure(
                PostgresError(
                    code: code, server: server, sqlState: sqlState, message: message,
                    detail: field(CLibPQ_DIAG_MESSAGE_DETAIL), serverHint: field(CLibPQ_DIAG_MESSAGE_HINT)))
        default:
            let status = String(cString: PQresStatus(PQresultStatus(result)))
            return .failure(PostgresError(code: .unexpectedReply, server: server, message: "result status \(status)"))
        }
    }

    /// Asks the server to stop the running query, then gives the connection up: its state is unknown.
    private func cancelRunningQuery() {
        broken = true
        guard let cancel = PQgetCancel(connection) else { return }
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancel, &buffer, Int32(buffer.count))
        PQfreeCancel(cancel)
    }

    private func ioError() -> PostgresError {
        broken = true
        let message = Self.trimmed(PQerrorMessage(connection))
        return PostgresError(
            code: .connectionLost, server: server, message: message.isEmpty ? "connection closed" : message)
    }

    // MARK: Helpers

    private static func connectError(_ raw: OpaquePointer, server: String) -> PostgresError {
        let message = trimmed(PQerrorMessage(raw))
        // libpq reports no SQLSTATE for a refused connection; a server-side refusal carries "FATAL:".
        let serverSaid = message.firstRange(of: "FATAL:").map {
            message[$0.upperBound...].trimmingCharactersInWhitespace()
        }
        let text = serverSaid ?? message
        let lower = text.lowercased()
        let tlsWords = ["certificate", "ssl error", "sslmode", "root cert", "tlsv1 alert", "ssl alert"]
        if tlsWords.contains(where: lower.contains) {
            return PostgresError(code: .certificate, server: server, message: text)
        }
        if PQconnectionNeedsPassword(raw) == 1 || lower.contains("password") || lower.contains("authentication failed")
        {
            return PostgresError(code: .authentication, server: server, message: text)
        }
        let busy = [
            "starting up", "shutting down", "in recovery", "too many clients", "connection slots", "not yet accepting",
        ]
        if serverSaid == nil || busy.contains(where: lower.contains) {
            return PostgresError(code: .unreachable, server: server, message: text)
        }
        return PostgresError(code: .server, server: server, message: text)
    }

    /// libpq's message without its trailing newline, several lines (one per host tried) joined.
    private static func trimmed(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        return String(cString: text).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharactersInWhitespace() }.filter { !$0.isEmpty }.joined(separator: "; ")
    }

    private static func deadline(afterMs ms: Int) -> UInt64 {
        DispatchTime.now().uptimeNanoseconds + UInt64(max(ms, 1)) * 1_000_000
    }

    /// Waits until the socket is ready or the deadline passes; false on timeout.
    private static func wait(socket: Int32, forWriting: Bool, until deadline: UInt64) -> Bool {
        guard socket >= 0 else { return true }  // no socket yet: let libpq report the state
        var descriptor = pollfd(fd: socket, events: Int16(forWriting ? POLLOUT : POLLIN), revents: 0)
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return false }
            let remainingMs = Int32(min((deadline - now) / 1_000_000 + 1, UInt64(Int32.max)))
            let ready = poll(&descriptor, 1, remainingMs)
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }  // let libpq report the socket error
        }
    }

    private static func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
        let copies = strings.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        return body(copies.map { $0.map { UnsafePointer($0) } })
    }

    private static func withCStringArrays<R>(
        _ pairs: [(String, String)],
        _ body: ([UnsafePointer<CChar>?], [UnsafePointer<CChar>?]) -> R
    ) -> R {
        withCStrings(pairs.map(\.0) + [nil]) { keywords in
            withCStrings(pairs.map(\.1) + [nil]) { values in body(keywords, values) }
        }
    }
}
