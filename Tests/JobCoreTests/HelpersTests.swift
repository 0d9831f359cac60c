import JobCore
import Testing

@Suite struct DurationTextTests {
    @Test(
        arguments: [
            ("500ms", 500), ("5s", 5000), ("2m", 120_000), ("1h30m", 5_400_000), ("1d", 86_400_000), ("1.5s", 1500),
            ("30", 30_000), (" 2h ", 7_200_000),
        ] as [(String, Int64)])
    func parses(_ text: String, _ expected: Int64) {
        #expect(DurationText.milliseconds(text) == expected)
    }

    @Test(arguments: ["", "s", "5x", "-5s", "5s-", "h5", "1e400", "5 s", "inf", "nan"])
    func rejects(_ text: String) {
        #expect(DurationText.milliseconds(text) == nil)
    }

    @Test(
        arguments: [
            (850, "850ms"), (1500, "1.5s"), (42_000, "42s"), (312_000, "5m12s"), (11_040_000, "3h04m"),
            (183_600_000, "2d03h"),
        ] as [(Int64, String)])
    func describes(_ ms: Int64, _ text: String) {
        #expect(DurationText.describe(milliseconds: ms) == text)
    }
}

@Suite struct TimestampTests {
    @Test func formatsUTC() {
        #expect(Timestamps.iso8601(milliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamps.iso8601(milliseconds: 1_795_372_785_606) == "2026-11-22T18:39:45.606Z")
        #expect(Timestamps.iso8601(milliseconds: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(Timestamps.iso8601(milliseconds: -1) == "1969-12-31T23:59:59.999Z")
    }
}

@Suite struct SuggestionTests {
    @Test func suggestsCloseQueueNames() {
        let queues = ["pdf-notes", "ai-notes", "pdf-extract", "completion"]
        #expect(closeMatches(for: "pdf-note", among: queues).first == "pdf-notes")
        #expect(closeMatches(for: "pdf-ntoes", among: queues).first == "pdf-notes")
        #expect(closeMatches(for: "AI-NOTES", among: queues) == ["ai-notes"])
        #expect(closeMatches(for: "billing", among: queues).isEmpty)
    }
}

@Suite struct JobStateTests {
    @Test func acceptsBullMQNamesAndKeyNames() {
        #expect(JobState(argument: "wait") == .waiting)
        #expect(JobState(argument: "Waiting") == .waiting)
        #expect(JobState(argument: "waiting-children") == .waitingChildren)
        #expect(JobState(argument: "prioritized") == .prioritized)
        #expect(JobState(argument: "stalled") == nil)
    }

    @Test func countsSumAndReady() {
        var a = JobCounts()
        a[.waiting] = 2
        a[.prioritized] = 3
        var b = JobCounts()
        b[.waiting] = 1
        b[.paused] = 4
        let sum = a + b
        #expect(sum[.waiting] == 3)
        #expect(sum.ready == 10)
        #expect(sum[.failed] == nil)
    }
}

@Suite struct PageCursorTests {
    @Test func roundTrips() throws {
        let cursor = PageCursor(state: .failed, position: "1795372787665", lastId: "job:with/odd+chars é")
        #expect(try PageCursor(decoding: cursor.encoded, for: .failed) == cursor)
        #expect(!cursor.encoded.contains("="))
    }

    @Test func refusesForeignOrOtherStateCursors() {
        let cursor = PageCursor(state: .failed, position: "1", lastId: "1").encoded
        #expect(throws: InvalidCursorError.self) { try PageCursor(decoding: cursor, for: .completed) }
        #expect(throws: InvalidCursorError.self) { try PageCursor(decoding: "garbage!!", for: .failed) }
        #expect(throws: InvalidCursorError.self) { try PageCursor(decoding: "", for: .failed) }
    }
}
