import Testing

@testable import RedisBackend

/// Redis Cluster's pure parts: the key → slot function, hash tags, the slot map and redirections.
@Suite struct ClusterSlotTests {
    /// Values from `CLUSTER KEYSLOT` on Redis 7.0.
    @Test func slotsEqualTheServers() {
        #expect(ClusterSlot.of("{bull}:myq:wait") == 9263)
        #expect(ClusterSlot.of("{bull}:myq:meta") == 9263)
        #expect(ClusterSlot.of("bull:myq:wait") == 4949)
        #expect(ClusterSlot.of("bull:myq:meta") == 2850)
        #expect(ClusterSlot.of("bull:myq:1") == 14282)
        #expect(ClusterSlot.of("bull:{myq}:wait") == 1357)
        #expect(ClusterSlot.of("foo") == 12182)
        #expect(ClusterSlot.of("123456789") == 12739)  // CRC16-XMODEM's check value 0x31C3 mod 16384
        #expect(ClusterSlot.of("") == 0)
    }

    @Test func hashTagsFollowTheFirstBraces() {
        // Only the first '{' counts, and the first '}' after it; an empty tag means the whole key.
        #expect(ClusterSlot.of("{user1000}.following") == 3443)
        #expect(ClusterSlot.of("{user1000}.following") == ClusterSlot.of("user1000"))
        #expect(ClusterSlot.of("foo{}{bar}") == 8363)
        #expect(ClusterSlot.hashTag(Array("foo{}{bar}".utf8)) == nil)
        #expect(ClusterSlot.hashTag(Array("foo{{bar}}zap".utf8)).map { String(decoding: $0, as: UTF8.self) } == "{bar")
        #expect(ClusterSlot.hashTag(Array("foo{bar}{zap}".utf8)).map { String(decoding: $0, as: UTF8.self) } == "bar")
        #expect(ClusterSlot.hashTag(Array("{open".utf8)) == nil)
    }

    @Test func aQueueSharesASlotOnlyWithATagInsideItsBase() {
        #expect(ClusterSlot.sharedTag(ofKeysStartingWith: "{bull}:mail:") == "bull")
        #expect(ClusterSlot.sharedTag(ofKeysStartingWith: "bull:{mail}:") == "mail")
        #expect(ClusterSlot.sharedTag(ofKeysStartingWith: "bull:mail:") == nil)
        #expect(ClusterSlot.sharedTag(ofKeysStartingWith: "bull:{}:") == nil)
        // A '{' that closes only in the suffix does not hold the queue's keys together.
        #expect(ClusterSlot.sharedTag(ofKeysStartingWith: "bull:{mail:") == nil)
    }

    @Test func readsTheSlotMap() throws {
        func node(_ host: String, _ port: Int64, _ id: String) -> RedisValue {
            .array([.bulk(Array(host.utf8)), .integer(port), .bulk(Array(id.utf8))])
        }
        let reply = RedisValue.array([
            .array([.integer(0), .integer(5460), node("10.0.0.1", 7000, "a"), node("10.0.0.4", 7003, "d")]),
            .array([.integer(5461), .integer(10922), node("", 7001, "b")]),
            .array([.integer(10923), .integer(16383), node("cache-3.example", 7002, "c")]),
        ])
        let map = try #require(ClusterSlotMap(clusterSlots: reply, askedHost: "seed.example"))
        #expect(map[0] == ClusterNode(host: "10.0.0.1", port: 7000))
        #expect(map[5460] == ClusterNode(host: "10.0.0.1", port: 7000))
        #expect(map[5461] == ClusterNode(host: "seed.example", port: 7001))  // announced without an address
        #expect(map[16383] == ClusterNode(host: "cache-3.example", port: 7002))
        #expect(map.masters.count == 3)
        #expect(map.nodes.contains(ClusterNode(host: "10.0.0.4", port: 7003)))
        #expect(map.uncoveredSlots == 0)

        var moved = map
        moved.move(slot: 5461, to: ClusterNode(host: "10.0.0.1", port: 7000))
        #expect(moved[5461] == ClusterNode(host: "10.0.0.1", port: 7000))
        #expect(moved.masters.count == 3)  // slot 5462 is still on the second master
    }

    @Test func refusesMalformedSlotMaps() {
        #expect(ClusterSlotMap(clusterSlots: .status("OK"), askedHost: "h") == nil)
        #expect(
            ClusterSlotMap(
                clusterSlots: .array([.array([.integer(0), .integer(20000), .array([.bulk([]), .integer(1)])])]),
                askedHost: "h") == nil)
        #expect(
            ClusterSlotMap(clusterSlots: .array([.array([.integer(5), .integer(1), .array([])])]), askedHost: "h")
                == nil)
        let partial = ClusterSlotMap(
            clusterSlots: .array([.array([.integer(0), .integer(99), .array([.bulk(Array("h".utf8)), .integer(1)])])]),
            askedHost: "h")
        #expect(partial?.uncoveredSlots == 16384 - 100)
    }

    @Test func readsRedirections() {
        #expect(
            ClusterRedirect(.error("MOVED 3999 127.0.0.1:6381"))
                == .moved(slot: 3999, node: ClusterNode(host: "127.0.0.1", port: 6381)))
        #expect(
            ClusterRedirect(.error("ASK 3999 cache-2.example:6381"))
                == .ask(slot: 3999, node: ClusterNode(host: "cache-2.example", port: 6381)))
        #expect(
            ClusterRedirect(.error("MOVED 1 ::1:7000")) == .moved(slot: 1, node: ClusterNode(host: "::1", port: 7000)))
        #expect(ClusterRedirect(.error("TRYAGAIN Multiple keys request during rehashing of slot")) == .retryLater)
        #expect(ClusterRedirect(.error("CLUSTERDOWN The cluster is down")) == .retryLater)
        #expect(ClusterRedirect(.error("MOVED 99999 h:1")) == nil)
        #expect(ClusterRedirect(.error("MOVED x")) == nil)
        #expect(ClusterRedirect(.error("ERR wrong")) == nil)
        #expect(ClusterRedirect(.bulk([])) == nil)
    }

    @Test func commandsNameTheirKeys() {
        func keys(_ command: RedisCommand) -> [String] { command.keys.map { String(decoding: $0, as: UTF8.self) } }
        #expect(keys(RedisCommand("LLEN", "a")) == ["a"])
        #expect(keys(RedisCommand("EVALSHA", "sha", "2", "k1", "k2", "arg")) == ["k1", "k2"])
        #expect(keys(RedisCommand("EVALSHA", "sha", "0", "arg")) == [])
        #expect(keys(RedisCommand("EVALSHA", "sha", "9", "k1")) == [])
        #expect(keys(RedisCommand("EXISTS", "a", "b")) == ["a", "b"])
        #expect(keys(RedisCommand("SCAN", "0", "MATCH", "x")) == [])
        #expect(keys(RedisCommand("client", "list")) == [])
        #expect(keys(RedisCommand("PING")) == [])
    }

    @Test func refusesCallsAcrossSlotsBeforeSending() throws {
        #expect(throws: RedisError.self) {
            try ClusterRouter.slot(of: [Array("bull:q:wait".utf8), Array("bull:q:meta".utf8)])
        }
        #expect(try ClusterRouter.slot(of: [Array("{bull}:q:wait".utf8), Array("{bull}:r:meta".utf8)]) == 9263)
        #expect(try ClusterRouter.slot(of: [[UInt8]]()) == nil)
    }
}
