import RedisBackend
import Testing

@Suite struct RedisEndpointTests {
    @Test func parsesFullURL() throws {
        let endpoint = try RedisEndpoint(url: "redis://alice:s3cr%40t@cache.internal:6380/4")
        #expect(endpoint.address == .tcp(host: "cache.internal", port: 6380))
        #expect(endpoint.database == 4)
        #expect(endpoint.username == "alice")
        #expect(endpoint.password == "s3cr@t")
        #expect(endpoint.redactedURL == "redis://alice:***@cache.internal:6380/4")
        #expect(!endpoint.redactedURL.contains("s3cr"))
    }

    @Test func appliesDefaults() throws {
        let endpoint = try RedisEndpoint(url: "redis://localhost")
        #expect(endpoint.address == .tcp(host: "localhost", port: 6379))
        #expect(endpoint.database == 0)
        #expect(endpoint.password == nil)
        #expect(try RedisEndpoint(url: "redis://").address == .tcp(host: "127.0.0.1", port: 6379))
    }

    @Test func acceptsPasswordOnlyForms() throws {
        #expect(try RedisEndpoint(url: "redis://:pw@h").password == "pw")
        #expect(try RedisEndpoint(url: "redis://:pw@h").username == nil)
        #expect(try RedisEndpoint(url: "redis://pw@h").password == "pw")
    }

    @Test func parsesIPv6AndUnixSockets() throws {
        #expect(try RedisEndpoint(url: "redis://[::1]:7000/2").address == .tcp(host: "::1", port: 7000))
        #expect(try RedisEndpoint(url: "redis://[::1]:7000").hostDescription == "[::1]:7000")
        let socket = try RedisEndpoint(url: "unix:///run/redis.sock?db=3")
        #expect(socket.address == .unixSocket(path: "/run/redis.sock"))
        #expect(socket.database == 3)
    }

    @Test(arguments: [
        "localhost:6379", "http://h", "redis://h:0", "redis://h:99999", "redis://h:port", "redis://h/x",
        "redis://h/-1", "redis://[::1", "unix://relative/path", "redis://a b", "redis://:%zz@h",
    ])
    func rejectsMalformedURLs(_ url: String) {
        #expect(throws: RedisURLError.self) { try RedisEndpoint(url: url) }
    }

    @Test func explainsThatTLSIsUnavailable() {
        #expect {
            try RedisEndpoint(url: "rediss://:pw@h:6380")
        } throws: { error in
            String(describing: error).contains("TLS") && !String(describing: error).contains("pw")
        }
    }
}
