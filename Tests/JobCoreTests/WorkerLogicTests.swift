import JobCore
import Testing

@Suite struct FinishDecisionTests {
    static func job(attemptsMade: Int64, opts: String) -> ClaimedJob {
        ClaimedJob(
            queue: "q", id: "1", name: "n", data: "{}", opts: (try? JSONValue.parse(opts)) ?? .null,
            attemptsMade: attemptsMade,
            timestamp: 0,
            token: "t:1", stacktrace: ["earlier"])
    }

    @Test func completesWithTheRetentionOfTheJob() {
        #expect(
            finish(
                for: Self.job(attemptsMade: 0, opts: #"{"removeOnComplete":true}"#),
                outcome: .completed(returnValue: "1"))
                == .complete(returnValue: "1", keep: Retention(removeAll: true, keepCount: nil, keepAgeSeconds: nil)))
        #expect(
            finish(
                for: Self.job(attemptsMade: 0, opts: #"{"removeOnComplete":{"age":60,"count":5}}"#),
                outcome: .completed(returnValue: "1"))
                == .complete(returnValue: "1", keep: Retention(removeAll: false, keepCount: 5, keepAgeSeconds: 60)))
        #expect(
            finish(for: Self.job(attemptsMade: 0, opts: "{}"), outcome: .completed(returnValue: "null"))
                == .complete(returnValue: "null", keep: .keepAll))
    }

    @Test func retriesWhileAttemptsRemainAsBullMQCountsThem() {
        let failure = JobOutcome.failed(reason: "boom", stacktrace: "trace", unrecoverable: false)
        // attempts 0 or 1: one run only.
        #expect(
            finish(for: Self.job(attemptsMade: 0, opts: "{}"), outcome: failure)
                == .fail(reason: "boom", stacktrace: ["earlier", "trace"], keep: .keepAll))
        #expect(
            finish(for: Self.job(attemptsMade: 0, opts: #"{"attempts":1}"#), outcome: failure)
                == .fail(reason: "boom", stacktrace: ["earlier", "trace"], keep: .keepAll))
        #expect(
            finish(for: Self.job(attemptsMade: 0, opts: #"{"attempts":2}"#), outcome: failure)
                == .retryNow(reason: "boom", stacktrace: ["earlier", "trace"]))
        #expect(
            finish(for: Self.job(attemptsMade: 1, opts: #"{"attempts":2}"#), outcome: failure)
                == .fail(reason: "boom", stacktrace: ["earlier", "trace"], keep: .keepAll))
        let unrecoverable = JobOutcome.failed(reason: "bad input", stacktrace: nil, unrecoverable: true)
        #expect(
            finish(for: Self.job(attemptsMade: 0, opts: #"{"attempts":5}"#), outcome: unrecoverable)
                == .fail(reason: "bad input", stacktrace: ["earlier"], keep: .keepAll))
        #expect(
            finish(for: Self.job(attemptsMade: 0, opts: #"{"attempts":3,"stackTraceLimit":1}"#), outcome: failure)
                == .retryNow(reason: "boom", stacktrace: ["trace"]))
    }

    @Test func backoffIsFixedOrExponentialWithNodesJitter() {
        let failure = JobOutcome.failed(reason: "boom", stacktrace: nil, unrecoverable: false)
        #expect(
            finish(for: Self.job(attemptsMade: 0, opts: #"{"attempts":3,"backoff":250}"#), outcome: failure)
                == .retryLater(delayMs: 250, reason: "boom", stacktrace: ["earlier"]))
        let exponential = #"{"attempts":9,"backoff":{"type":"exponential","delay":100}}"#
        let delays = (Int64(0)..<4).map { made -> Int64? in
            if case .retryLater(let delay, _, _) = finish(
                for: Self.job(attemptsMade: made, opts: exponential), outcome: failure)
            {
                return delay
            }
            return nil
        }
        #expect(delays == [100, 200, 400, 800])  // the Python client's observed 200 then 400 for the 2nd and 3rd try
        #expect(
            backoffDelay(
                try! JSONValue.parse(#"{"type":"fixed","delay":1000,"jitter":0.5}"#), attemptsMade: 1, random: { 0 })
                == 500)
        #expect(
            backoffDelay(
                try! JSONValue.parse(#"{"type":"fixed","delay":1000,"jitter":0.5}"#), attemptsMade: 1, random: { 0.999 }
            ) == 999)
        #expect(
            backoffDelay(try! JSONValue.parse(#"{"type":"custom","delay":1}"#), attemptsMade: 1, random: { 0 }) == nil)
        #expect(backoffDelay(nil, attemptsMade: 1, random: { 0 }) == nil)
    }
}
