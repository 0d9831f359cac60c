import Glibc
import JobCore

/// Finding the master that Sentinels name, and confirming it is one.
enum RedisSentinel {
    /// Asks each sentinel in turn for the master, connects to it and checks with `ROLE` that it is the master (an old
    /// master keeps taking writes for seconds after a failover); a replica, or sentinels that answer nothing, are
    /// tried again in up to three rounds 300 ms apart.
    static func connectToMaster(
        _ endpoint: RedisEndpoint, of set: RedisEndpoint.SentinelSet, connectTimeoutMs: Int, commandTimeoutMs: Int,
        name: String?
    ) throws(RedisError) -> RedisConnection {
        var lastError = RedisError(code: .unreachable, server: endpoint.hostDescription, message: "no sentinel given")
        for round in 0..<3 {
            if round > 0 { usleep(300_000) }
            let master: RedisEndpoint.Address
            do {
                master = try masterAddress(endpoint, of: set, connectTimeoutMs: connectTimeoutMs)
            } catch {
                lastError = error
                if error.code == .server { throw error }  // no sentinel knows the name: asking again will not help
                continue
            }
            var target = endpoint
            target.address = master
            do {
                return try RedisConnection(
                    endpoint: target, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs,
                    name: name, expectsMaster: true)
            } catch {
                lastError = error
                guard error.kind == .unavailable else { throw error }
            }
        }
        throw lastError
    }

    /// The master's address from the first sentinel that knows it.
    static func masterAddress(
        _ endpoint: RedisEndpoint, of set: RedisEndpoint.SentinelSet, connectTimeoutMs: Int
    ) throws(RedisError) -> RedisEndpoint.Address {
        var failures: [String] = []
        var unknownTo: [String] = []
        for node in set.nodes {
            let sentinel = RedisEndpoint(
                address: .tcp(host: node.host, port: node.port), username: set.username, password: set.password,
                tls: endpoint.tls)
            do {
                let connection = try RedisConnection(
                    endpoint: sentinel, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: connectTimeoutMs)
                let reply = try connection.pipeline([RedisCommand("SENTINEL", "get-master-addr-by-name", set.master)])[
                    0]
                if let (code, message) = reply.serverError {
                    failures.append("\(sentinel.hostDescription): \(code) \(message)")
                    continue
                }
                guard let parts = reply.array, parts.count == 2, let host = parts[0].text,
                    let port = parts[1].text.flatMap({ Int($0) })
                else {
                    unknownTo.append(sentinel.hostDescription)
                    continue
                }
                return .tcp(host: host, port: port)
            } catch {
                failures.append("\(sentinel.hostDescription): \(error.message)")
            }
        }
        if !unknownTo.isEmpty {
            throw RedisError(
                code: .server, server: endpoint.hostDescription,
                message: "no sentinel knows a master named '\(set.master)' (asked \(unknownTo.joined(separator: ", "))"
                    + "); check master= in the URL")
        }
        throw RedisError(
            code: .unreachable, server: endpoint.hostDescription,
            message: "no sentinel answered: " + failures.joined(separator: "; "))
    }
}
