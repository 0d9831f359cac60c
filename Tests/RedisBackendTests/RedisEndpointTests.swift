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

    @Test func readsTLSSettingsAsRedisPyNamesThem() throws {
        let plain = try RedisEndpoint(url: "redis://h")
        #expect(plain.tls == nil)
        let tls = try #require(try RedisEndpoint(url: "rediss://:pw@h:6380/2").tls)
        #expect(tls.verifiesCertificate && tls.checksHostName && tls.caFile == nil)
        #expect(try RedisEndpoint(url: "rediss://:pw@h:6380/2").redactedURL == "rediss://:***@h:6380/2")
        let full = try #require(
            try RedisEndpoint(
                url:
                    "rediss://h?ssl_ca_certs=/ca%20dir/ca.pem&ssl_ca_path=/certs&ssl_certfile=/c.pem&ssl_keyfile=/k.pem"
                    + "&ssl_check_hostname=false"
            ).tls)
        #expect(full.caFile == "/ca dir/ca.pem" && full.caDirectory == "/certs")
        #expect(full.certificateFile == "/c.pem" && full.keyFile == "/k.pem" && !full.checksHostName)
        #expect(try RedisEndpoint(url: "rediss://h?ssl_cert_reqs=none").tls?.verifiesCertificate == false)
        #expect(try RedisEndpoint(url: "redis://h?tls=true").tls != nil, "redis://…?tls=true, as ioredis users write")
    }

    @Test(arguments: [
        "rediss://:pw@h?ssl_certfile=/c.pem", "rediss://:pw@h?ssl_keyfile=/k.pem", "rediss://:pw@h?ssl_cert_reqs=maybe",
        "rediss://:pw@h?ssl_check_hostname=perhaps", "rediss://:pw@h?ssl_version=3", "redis://:pw@h?ssl_ca_certs=/ca",
    ])
    func refusesTLSSettingsItCannotHonour(_ url: String) {
        #expect {
            try RedisEndpoint(url: url)
        } throws: { error in
            !String(describing: error).contains("pw")
        }
    }

    @Test func readsSentinelURLs() throws {
        let endpoint = try RedisEndpoint(
            url: "redis-sentinel://app:pw@s1,s2:26380,[::1]:26381/3?master=main&sentinel_password=sp%40ss"
                + "&sentinel_username=watch")
        guard case .sentinel(let set) = endpoint.address else {
            Issue.record("not a sentinel address: \(endpoint.address)")
            return
        }
        #expect(set.nodes.map(\.host) == ["s1", "s2", "::1"] && set.nodes.map(\.port) == [26379, 26380, 26381])
        #expect(set.master == "main" && set.username == "watch" && set.password == "sp@ss")
        #expect(
            endpoint.username == "app" && endpoint.password == "pw" && endpoint.database == 3 && endpoint.tls == nil)
        #expect(
            !endpoint.redactedURL.contains("pw") && !endpoint.redactedURL.contains("sp@ss"), "\(endpoint.redactedURL)")
        let tls = try RedisEndpoint(url: "rediss-sentinel://h1/0?sentinelMasterId=m&ssl_ca_certs=/ca.pem")
        #expect(tls.tls?.caFile == "/ca.pem" && tls.hostDescription == "master 'm' of sentinels h1:26379")
        for bad in [
            "redis-sentinel://h1,h2/0", "redis-sentinel://h1:0/0?master=m", "redis-sentinel://h1,,h2/0?master=m",
        ] {
            #expect(throws: RedisURLError.self, "\(bad)") { try RedisEndpoint(url: bad) }
        }
    }

    @Test func parsesClusterSeeds() throws {
        let endpoint = try RedisEndpoint(url: "rediss://:pw@n1:7000,n2,[::1]:7002/0?ssl_ca_certs=/ca.pem")
        #expect(
            endpoint.address
                == .clusterSeeds([
                    .init(host: "n1", port: 7000), .init(host: "n2", port: 6379), .init(host: "::1", port: 7002),
                ]))
        #expect(endpoint.password == "pw" && endpoint.tls?.caFile == "/ca.pem")
        #expect(endpoint.redactedURL == "rediss://:***@n1:7000,n2:6379,[::1]:7002/0")
        #expect(endpoint.hostDescription == "Redis Cluster nodes n1:7000,n2:6379,[::1]:7002")
        for bad in ["redis://n1,n2/1", "redis://n1,,n2", "redis://n1,n2:0", "redis://n1:7000,"] {
            #expect(throws: RedisURLError.self, "\(bad)") { try RedisEndpoint(url: bad) }
        }
        let database = #expect(throws: RedisURLError.self) { try RedisEndpoint(url: "redis://n1,n2/1") }
        #expect(database?.reason.contains("only database 0") == true)
    }
}
