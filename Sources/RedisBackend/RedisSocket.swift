import COpenSSL
import Glibc
import JobCore

/// The byte stream of one Redis connection: a TCP or Unix socket, wrapped in TLS (OpenSSL) for `rediss://`.
///
/// Owns its descriptor and OpenSSL objects and frees them once. Blocking with deadlines: the socket is non-blocking
/// and every wait is a `poll` bounded by the timeout given. Use it only from `RedisConnection`.
final class RedisSocket {
    let descriptor: Int32
    private let server: String
    private var context: OpaquePointer?
    private var tls: OpaquePointer?
    /// Where the verify callback writes the names of a certificate that names another host.
    private let mismatchedNames = UnsafeMutablePointer<CChar>.allocate(capacity: 1024)

    /// Connects (and shakes hands, for TLS) within `connectTimeoutMs`.
    init(endpoint: RedisEndpoint, connectTimeoutMs: Int) throws(RedisError) {
        server = endpoint.hostDescription
        let deadline = Deadline(afterMs: connectTimeoutMs)
        switch endpoint.address {
        case .tcp(let host, let port):
            descriptor = try Self.connectTCP(host: host, port: port, deadline: deadline, server: server)
        case .unixSocket(let path):
            descriptor = try Self.connectUnix(path: path, deadline: deadline, server: server)
        case .sentinel, .clusterSeeds:
            throw RedisError(
                code: .unreachable, server: server, message: "the node must be chosen first (sentinels, slot map)")
        }
        // From here on deinit closes the descriptor.
        if let settings = endpoint.tls, case .tcp(let host, _) = endpoint.address {
            try startTLS(settings, host: host, deadline: deadline, connectTimeoutMs: connectTimeoutMs)
        }
    }

    deinit {
        mismatchedNames.deallocate()
        if let tls { SSL_free(tls) }
        if let context { SSL_CTX_free(context) }
        close(descriptor)
    }

    /// Writes all of `bytes`, waiting at most `timeoutMs` each time the socket cannot take more.
    func send(_ bytes: [UInt8], timeoutMs: Int) throws(RedisError) {
        var offset = 0
        while offset < bytes.count {
            let written: Int = bytes.withUnsafeBufferPointer { buffer in
                guard let base = buffer.baseAddress else { return 0 }
                let start = base + offset
                if let tls { return Int(SSL_write(tls, start, Int32(min(bytes.count - offset, Int(Int32.max))))) }
                return Glibc.send(descriptor, start, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                offset += written
                continue
            }
            try waitAfterFailedIO(result: written, writing: true, timeoutMs: timeoutMs)
        }
    }

    /// Reads what is there (at least one byte) into `buffer`, waiting at most `timeoutMs` for it; returns the count.
    func receive(into buffer: inout [UInt8], timeoutMs: Int) throws(RedisError) -> Int {
        while true {
            let count: Int = buffer.withUnsafeMutableBufferPointer { storage in
                if let tls { return Int(SSL_read(tls, storage.baseAddress, Int32(storage.count))) }
                return recv(descriptor, storage.baseAddress, storage.count, 0)
            }
            if count > 0 { return count }
            if count == 0 && tls == nil {
                throw RedisError(code: .connectionLost, server: server, message: "the server closed the connection")
            }
            try waitAfterFailedIO(result: count, writing: false, timeoutMs: timeoutMs)
        }
    }

    /// After a read or write that did nothing: waits for the socket when it would block, else throws what happened.
    private func waitAfterFailedIO(result: Int, writing: Bool, timeoutMs: Int) throws(RedisError) {
        var wantWrite = writing
        if let tls {
            let error = SSL_get_error(tls, Int32(result))
            switch error {
            case COpenSSL_ERROR_WANT_READ: wantWrite = false
            case COpenSSL_ERROR_WANT_WRITE: wantWrite = true
            case COpenSSL_ERROR_ZERO_RETURN:
                throw RedisError(code: .connectionLost, server: server, message: "the server closed the connection")
            case COpenSSL_ERROR_SYSCALL where errno == 0 || result == 0 || writing:
                // A server that refuses the handshake late (TLS 1.3: no client certificate) says why in an alert
                // that sits unread behind the broken write.
                if writing { drainAlert(tls) }
                let failure = tlsFailure(during: writing ? "writing" : "reading")
                if failure.code == .certificate { throw failure }
                throw RedisError(code: .connectionLost, server: server, message: "the server closed the connection")
            default:
                if writing { drainAlert(tls) }
                throw tlsFailure(during: writing ? "writing" : "reading")
            }
        } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            throw RedisError(code: .connectionLost, server: server, message: String(cString: strerror(errno)))
        }
        guard Self.wait(descriptor, forWriting: wantWrite, until: Deadline(afterMs: timeoutMs)) else {
            throw RedisError(code: .timeout, server: server, message: "no reply within the command timeout")
        }
    }

    // MARK: TLS

    private func startTLS(
        _ settings: RedisTLS, host: String, deadline: Deadline, connectTimeoutMs: Int
    )
        throws(RedisError)
    {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw tlsFailure(during: "setting up TLS") }
        self.context = context
        _ = COpenSSL_CTX_set_min_tls12(context)
        if settings.verifiesCertificate {
            COpenSSL_verify_peer(context)
            if settings.caFile != nil || settings.caDirectory != nil {
                guard SSL_CTX_load_verify_locations(context, settings.caFile, settings.caDirectory) == 1 else {
                    throw RedisError(
                        code: .certificate, server: server,
                        message: "cannot read the CA certificates (\(Self.lastErrorText()))")
                }
            } else if SSL_CTX_set_default_verify_paths(context) != 1 {
                throw RedisError(code: .certificate, server: server, message: "cannot read the system's CAs")
            }
        } else {
            SSL_CTX_set_verify(context, COpenSSL_VERIFY_NONE, nil)
        }
        if let certificate = settings.certificateFile, let key = settings.keyFile {
            guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1,
                SSL_CTX_use_PrivateKey_file(context, key, COpenSSL_FILETYPE_PEM) == 1,
                SSL_CTX_check_private_key(context) == 1
            else {
                throw RedisError(
                    code: .certificate, server: server,
                    message: "cannot use the client certificate and key (\(Self.lastErrorText()))")
            }
        }
        guard let tls = SSL_new(context) else { throw tlsFailure(during: "setting up TLS") }
        self.tls = tls
        mismatchedNames[0] = 0
        _ = COpenSSL_keep_mismatched_names(tls, mismatchedNames)
        _ = COpenSSL_set_moving_buffer_mode(tls)
        SSL_set_fd(tls, descriptor)
        let isAddress = Self.isIPAddress(host)
        if !isAddress { _ = COpenSSL_set_tlsext_host_name(tls, host) }  // SNI is for DNS names only (RFC 6066)
        if settings.verifiesCertificate && settings.checksHostName {
            let checked =
                isAddress ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls), host) : SSL_set1_host(tls, host)
            guard checked == 1 else { throw tlsFailure(during: "setting the host name to check") }
        }
        while true {
            ERR_clear_error()
            let result = SSL_connect(tls)
            if result == 1 { return }
            let error = SSL_get_error(tls, result)
            guard error == COpenSSL_ERROR_WANT_READ || error == COpenSSL_ERROR_WANT_WRITE else {
                throw handshakeFailure(host: host)
            }
            guard Self.wait(descriptor, forWriting: error == COpenSSL_ERROR_WANT_WRITE, until: deadline) else {
                throw RedisError(
                    code: .unreachable, server: server,
                    message: "the TLS handshake did not finish within \(connectTimeoutMs) ms (a plain Redis port "
                        + "waits silently for the rest of a command: if this port is not TLS, use redis://)")
            }
        }
    }

    private func handshakeFailure(host: String) -> RedisError {
        if let tls {
            let verdict = SSL_get_verify_result(tls)
            if verdict != X509_V_OK {
                let reason = String(cString: X509_verify_cert_error_string(verdict))
                if verdict == X509_V_ERR_HOSTNAME_MISMATCH || verdict == X509_V_ERR_IP_ADDRESS_MISMATCH {
                    let listed = String(cString: mismatchedNames)
                    return RedisError(
                        code: .certificate, server: server,
                        message: "host name mismatch: the certificate names \(listed.isEmpty ? "no host" : listed), "
                            + "not '\(host)'")
                }
                return RedisError(
                    code: .certificate, server: server, message: "certificate not trusted: \(reason)")
            }
        }
        return tlsFailure(during: "the TLS handshake")
    }

    /// Reads once (without waiting) so that OpenSSL takes in an alert the server sent before closing.
    private func drainAlert(_ tls: OpaquePointer) {
        var scratch = [UInt8](repeating: 0, count: 256)
        _ = scratch.withUnsafeMutableBufferPointer { SSL_read(tls, $0.baseAddress, Int32($0.count)) }
    }

    /// OpenSSL's reason; a server that demands a client certificate says so in an alert.
    private func tlsFailure(during step: String) -> RedisError {
        let reason = Self.lastErrorText()
        if reason.contains("certificate required") {
            return RedisError(
                code: .certificate, server: server,
                message: "the server requires a client certificate (ssl_certfile and ssl_keyfile, or --tls-cert and "
                    + "--tls-key)")
        }
        if reason.contains("certificate") || reason.contains("unknown ca") {
            return RedisError(code: .certificate, server: server, message: "\(step) failed: \(reason)")
        }
        let plain = reason.contains("wrong version number") || reason.contains("packet length too long")
        return RedisError(
            code: step == "the TLS handshake" ? .unreachable : .connectionLost, server: server,
            message: "\(step) failed: \(reason.isEmpty ? "no reason given" : reason)"
                + (plain ? " (the port does not speak TLS: use redis://)" : ""))
    }

    private static func lastErrorText() -> String {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            if let text = ERR_reason_error_string(code) { reasons.append(String(cString: text)) }
        }
        return reasons.joined(separator: "; ")
    }

    // MARK: Sockets

    private static func connectTCP(
        host: String, port: Int, deadline: Deadline, server: String
    ) throws(RedisError)
        -> Int32
    {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &found)
        guard status == 0, let first = found else {
            throw RedisError(
                code: .unreachable, server: server,
                message: "cannot resolve '\(host)': \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(first) }
        var lastError = "no address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let address = candidate {
            candidate = address.pointee.ai_next
            let descriptor = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
            guard descriptor >= 0 else { continue }
            var on: Int32 = 1
            setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(descriptor, SOL_SOCKET, SO_KEEPALIVE, &on, socklen_t(MemoryLayout<Int32>.size))
            switch finishConnect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen, deadline) {
            case nil: return descriptor
            case let failure?:
                close(descriptor)
                if failure == "timed out" {
                    throw RedisError(
                        code: .unreachable, server: server, message: "connect timed out after \(deadline.ms) ms")
                }
                lastError = failure
            }
        }
        throw RedisError(code: .unreachable, server: server, message: lastError)
    }

    private static func connectUnix(path: String, deadline: Deadline, server: String) throws(RedisError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw RedisError(code: .unreachable, server: server, message: "the socket path is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else {
            throw RedisError(code: .unreachable, server: server, message: String(cString: strerror(errno)))
        }
        let failure = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                finishConnect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size), deadline)
            }
        }
        if let failure {
            close(descriptor)
            throw RedisError(code: .unreachable, server: server, message: failure)
        }
        return descriptor
    }

    /// Makes the socket non-blocking and connects it by the deadline; nil when connected, else what went wrong.
    private static func finishConnect(
        _ descriptor: Int32, _ address: UnsafePointer<sockaddr>?, _ length: socklen_t, _ deadline: Deadline
    ) -> String? {
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        if connect(descriptor, address, length) == 0 { return nil }
        guard errno == EINPROGRESS || errno == EAGAIN else { return String(cString: strerror(errno)) }
        guard wait(descriptor, forWriting: true, until: deadline) else { return "timed out" }
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &size)
        return error == 0 ? nil : String(cString: strerror(error))
    }

    /// Waits until the socket is ready or the deadline passes; false on timeout.
    private static func wait(_ descriptor: Int32, forWriting: Bool, until deadline: Deadline) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(forWriting ? POLLOUT : POLLIN), revents: 0)
        while true {
            let remaining = deadline.remainingMs
            guard remaining > 0 else { return false }
            let ready = poll(&entry, 1, Int32(min(remaining, Int(Int32.max))))
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { return true }  // let the next read or write report the error
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, host, &buffer) == 1 || inet_pton(AF_INET6, host, &buffer) == 1
    }
}

/// A point in time on the monotonic clock, `ms` after it was made.
struct Deadline {
    let ms: Int
    private let end: UInt64

    init(afterMs ms: Int) {
        self.ms = ms
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        end = UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000 + UInt64(max(ms, 1))
    }

    var remainingMs: Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let current = UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
        return current >= end ? 0 : Int(end - current)
    }
}
