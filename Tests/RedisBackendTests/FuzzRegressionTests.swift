import RedisBackend
import Testing

/// Inputs scripts/fuzz.sh found that crashed a parser; each must now parse or be refused, never trap.
@Suite struct RedisURLFuzzRegressionTests {
    /// An empty query parameter name ("?=") indexed past an empty split.
    @Test(arguments: [
        "redis://\u{0}\u{0}&\u{0}\u{FFFD}\u{FFFD}\u{0}'u?\u{FFFD}e&&&&&&\u{36B}&&&&&&&7\",\"\u{7F}&&&&&&&=&k\":fa",
        "redis://127.0.0.1?=", "redis://127.0.0.1:6379/0?&=&", "unix:///tmp/redis.sock?=&db=2",
    ])
    func emptyQueryParameterNames(_ url: String) {
        let endpoint = try? RedisEndpoint(url: url)
        if url.hasPrefix("unix") { #expect(endpoint?.database == 2) }
        if url.hasPrefix("redis://127") { #expect(endpoint?.address == .tcp(host: "127.0.0.1", port: 6379)) }
    }
}
