import JobCore
import Testing

@Suite struct PointInTimeTests {
    static let now: Int64 = 1_795_372_785_606  // 2026-11-22T18:39:45.606Z

    @Test(
        arguments: [
            ("2h", now - 7_200_000), ("90s", now - 90_000), ("1795372785000", 1_795_372_785_000),
            ("2026-11-22", 1_795_305_600_000), ("2026-11-22T18:39:45.606Z", now),
            ("2026-11-22 18:39", 1_795_372_740_000),
            ("2026-11-22T20:39:45.606+02:00", now), ("2026-11-22T16:39:45.606-0200", now), ("1970-01-01T00:00:00Z", 0),
        ] as [(String, Int64)])
    func parses(_ text: String, _ expected: Int64) {
        #expect(Timestamps.pointInTime(text, now: Self.now) == expected)
    }

    @Test(arguments: ["", "yesterday", "2026-13-01", "2026-11-22T25:00", "2026-11-22T10:00+2", "2026-11-22Tx", "12:00"])
    func rejects(_ text: String) {
        #expect(Timestamps.pointInTime(text, now: Self.now) == nil)
    }

    @Test func roundTripsWithTheFormatter() {
        for ms in [Int64(0), 951_782_400_000, 1_795_372_785_606, 4_102_444_800_000] {
            #expect(Timestamps.pointInTime(Timestamps.iso8601(milliseconds: ms), now: 0) == ms)
        }
    }
}

@Suite struct ErrorTextTests {
    @Test(arguments: [
        ("connect ECONNREFUSED 10.0.0.1:6379", "connect ECONNREFUSED <n>.<n>.<n>.<n>:<n>"),
        ("job 8f3a9c2e-1d4b-4c1a-9e2f-0a1b2c3d4e5f failed after 3 tries", "job <id> failed after <n> tries"),
        ("timeout after 3000 ms\n  at Socket.<anonymous> (net.js:42)", "timeout after <n> ms"),
        ("user u_83f2a91c not found", "user <id> not found"),
        ("order 5f2b9c1a7e not found", "order <id> not found"),
        ("plain words stay", "plain words stay"),
        ("Größe 42 überschritten", "Größe <n> überschritten"),
        ("cafe\u{301} 12", "cafe\u{301} <n>"),  // a combining mark stays with its word
        ("٣٤٥ items\r\nat line 2", "<n> items"),  // any script's digits; the first line only
        ("\n\r\nError 42\nat x", "Error <n>"),  // the first line that is not empty
    ])
    func normalizes(_ reason: String, _ expected: String) {
        #expect(ErrorText.normalized(reason) == expected)
    }

    @Test func longReasonsAreCut() {
        let text = ErrorText.normalized(String(repeating: "a", count: 500))
        #expect(text.count == 120 && text.hasSuffix("…"))
    }

    /// Scalars of a reason of `count` scalars, counting how many were read.
    final class CountingScalars: Sequence, IteratorProtocol {
        let pattern = Array("timeout 42 at 10.0.0.1 ".unicodeScalars)
        let count: Int
        var consumed = 0
        init(count: Int) { self.count = count }
        func next() -> Unicode.Scalar? {
            guard consumed < count else { return nil }
            defer { consumed += 1 }
            return pattern[consumed % pattern.count]
        }
    }

    @Test(arguments: [50_000_000, 5_000_000, 100_000])
    func hugeReasonsAreReadOnlyAsFarAsTheFingerprintNeeds(_ size: Int) {
        let scalars = CountingScalars(count: size)
        let text = ErrorText.normalized(scalars: scalars)
        #expect(scalars.consumed <= ErrorText.scanLimit)
        #expect(text.count == ErrorText.maximumLength && text.hasPrefix("timeout <n> at <n>.<n>.<n>.<n> timeout"))
    }

    @Test func analysesKeepOnlyTheReadPart() {
        let huge = String(repeating: "é", count: 1_000_000)
        #expect(ErrorText.readPart(huge).unicodeScalars.count == ErrorText.scanLimit)
        #expect(ErrorText.normalized(ErrorText.readPart(huge)) == ErrorText.normalized(huge))
        #expect(ErrorText.readPart("short") == "short")
        let job = FinishedJob(
            id: "1", name: "n", failed: true, addedAt: 0, processedOn: 0, finishedOn: 1, failedReason: huge)
        #expect(job.failedReason?.unicodeScalars.count == ErrorText.scanLimit)
    }

    @Test func aHugeWordOrHugeBlankStartIsBounded() {
        #expect(ErrorText.normalized(String(repeating: "7", count: 5_000_000)) == "<id>")  // as any long number
        #expect(ErrorText.normalized(String(repeating: "\n", count: 5_000_000) + "late") == "")
        let word = ErrorText.normalized(String(repeating: "x", count: 5_000_000))
        #expect(word.count == ErrorText.maximumLength && word.hasSuffix("…"))
    }
}

@Suite struct NewJobTests {
    @Test(
        arguments: [
            ("1000", Backoff(type: "fixed", delayMs: 1000)), ("fixed:5s", Backoff(type: "fixed", delayMs: 5000)),
            ("exponential:500ms", Backoff(type: "exponential", delayMs: 500)),
            ("exponential:1000", Backoff(type: "exponential", delayMs: 1000)),
        ] as [(String, Backoff)])
    func parsesBackoff(_ text: String, _ expected: Backoff) {
        #expect(Backoff(argument: text) == expected)
    }

    @Test(arguments: ["linear:5s", "fixed:", "-5", "exponential:soon", ""])
    func rejectsBackoff(_ text: String) {
        #expect(Backoff(argument: text) == nil)
    }

    @Test func storesOptionsAsBullMQClientsDo() {
        let plain = NewJob(name: "n", data: .null, timestamp: 1)
        #expect(plain.storedOptions(backoffNull: false).compactText == #"{"attempts":0,"delay":0}"#)
        #expect(plain.storedOptions(backoffNull: true).compactText == #"{"attempts":0,"delay":0,"backoff":null}"#)
        let full = NewJob(
            name: "n", data: .null, id: "x", delayMs: 5, priority: 3, attempts: 4,
            backoff: Backoff(type: "exponential", delayMs: 9),
            lifo: true, timestamp: 1)
        #expect(
            full.storedOptions(backoffNull: true).compactText
                == #"{"attempts":4,"delay":5,"priority":3,"lifo":true,"jobId":"x","#
                + #""backoff":{"type":"exponential","delay":9}}"#
        )
    }
}

@Suite struct BatchOutcomeTests {
    @Test func perJobCodesBecomeChangedAndSkippedJobsWithTheirReasons() {
        let outcome = BatchOutcome(ids: ["a", "b", "c", "d", "e"], codes: [1, -1, -3, 7, nil], changedCode: 1) { code in
            code == .notFound ? "not found" : "no longer failed"
        }
        #expect(outcome.changed == ["a"])
        #expect(
            outcome.skipped == [
                SkippedJob(id: "b", reason: "not found"), SkippedJob(id: "c", reason: "no longer failed"),
                SkippedJob(id: "d", reason: "unexpected reply 7"), SkippedJob(id: "e", reason: "unexpected reply nil"),
            ])
    }

    @Test func typedStatesNameTheJobStatesTheyStandFor() {
        #expect(FinishedState.allCases.map(\.jobState) == [.completed, .failed])
        #expect(ReadyState.allCases.map(\.jobState) == [.waiting, .paused, .prioritized, .delayed])
        #expect(TimedState.allCases.map(\.jobState) == [.delayed, .completed, .failed])
        #expect(FinishedState.allCases.map { TimedState($0).rawValue } == ["completed", "failed"])
        for state in FinishedState.allCases { #expect(state.rawValue == state.jobState.rawValue) }
        for state in ReadyState.allCases { #expect(state.rawValue == state.jobState.rawValue) }
    }
}
