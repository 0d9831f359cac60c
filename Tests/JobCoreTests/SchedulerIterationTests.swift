import JobCore
import Testing

/// The next iteration of a scheduler's job, worked out as the Python client's `upsertJobScheduler` does when its
/// worker takes the job.
struct SchedulerIterationTests {
    static func job(_ opts: String, id: String = "repeat:s:1000", data: String = #"{"n":1}"#) throws -> ClaimedJob {
        ClaimedJob(
            queue: "q", id: id, name: "tick", data: data, opts: try JSONValue.parse(opts), attemptsMade: 0,
            timestamp: 0, token: "t", schedulerId: "s")
    }

    static func advance(_ step: SchedulerStep?) -> SchedulerAdvance? {
        if case .advance(let advance)? = step { return advance }
        return nil
    }

    @Test func aJobNoSchedulerMadeHasNoStep() throws {
        var iterations = SchedulerIterations()
        var job = try Self.job("{}")
        job.schedulerId = nil
        #expect(iterations.step(for: job, now: 5) == nil)
    }

    @Test func everyBuildsTheNextOptionsAsThePythonWorker() throws {
        var iterations = SchedulerIterations()
        let job = try Self.job(
            #"{"attempts":2,"backoff":1000,"kl":5,"repeat":{"every":2000,"count":4,"offset":300},"prevMillis":900}"#)
        let advance = try #require(Self.advance(iterations.step(for: job, now: 1500)))
        #expect(advance.schedulerId == "s" && advance.producerId == "repeat:s:1000" && advance.nextMillis == 1500)
        #expect(advance.data == #"{"n":1}"#)
        let expected = try JSONValue.parse(
            #"{"attempts":2,"delay":300,"backoff":{"type":"fixed","delay":1000},"keepLogs":5,"#
                + #""repeat":{"every":2000,"count":5,"offset":300},"prevMillis":1500,"jobId":"repeat:s:1500","#
                + #""timestamp":1500,"repeatJobKey":"s"}"#)
        #expect(advance.opts == expected, "\(advance.opts.compactText)")
        // Redis keeps the short names and drops nulls, as the client's msgpack does.
        let stored = BullMQOptionNames.encodedForRedis(advance.opts)
        #expect(stored["kl"] == .int(5) && stored["keepLogs"] == nil)
        let withoutBackoff = try #require(
            Self.advance(iterations.step(for: try Self.job(#"{"repeat":{"every":5}}"#), now: 1)))
        #expect(
            withoutBackoff.opts["backoff"] == .null
                && BullMQOptionNames.encodedForRedis(withoutBackoff.opts)["backoff"] == nil)
    }

    @Test func aCronPatternIsEvaluatedInItsZoneAfterTheLaterOfNowAndTheJobsOwnTime() throws {
        var iterations = SchedulerIterations()
        // 2027-11-06 09:00 New York (EDT) = 13:00 UTC; the job was promoted and taken 8 h early.
        let due: Int64 = 1_825_506_000_000
        let job = try Self.job(
            #"{"repeat":{"pattern":"0 9 * * *","tz":"America/New_York","count":1},"prevMillis":\#(due)}"#,
            id: "repeat:s:\(due)")
        let advance = try #require(Self.advance(iterations.step(for: job, now: due - 8 * 3_600_000)))
        // The next day, after the clock went back: 09:00 EST = 14:00 UTC (croniter says 10:00 EST).
        #expect(advance.nextMillis == due + 25 * 3_600_000)
        #expect(advance.opts["prevMillis"] == .int(advance.nextMillis))
        #expect(advance.opts["jobId"] == .string("repeat:s:\(advance.nextMillis)"))
        #expect(advance.opts["repeat"]?["count"] == .int(2))
    }

    @Test func aStartDateLaterThanNowIsTheCronBase() throws {
        var iterations = SchedulerIterations()
        let job = try Self.job(#"{"repeat":{"pattern":"0 0 1 1 *","startDate":"2030-06-01T00:00:00Z"}}"#)
        let advance = try #require(Self.advance(iterations.step(for: job, now: 0)))
        #expect(advance.nextMillis == 1_924_992_000_000, "2031-01-01T00:00Z")
        #expect(advance.opts["repeat"]?["startDate"] == .int(1_906_502_400_000))
    }

    @Test func limitAndEndDateStopIt() throws {
        var iterations = SchedulerIterations()
        let last = try Self.job(#"{"repeat":{"every":1000,"limit":3,"count":3}}"#)
        #expect(iterations.step(for: last, now: 10) == .finished(reason: "its limit of 3 iteration(s) is reached"))
        let ended = try Self.job(#"{"repeat":{"every":1000,"endDate":9}}"#)
        guard case .finished? = iterations.step(for: ended, now: 10) else {
            Issue.record("an end date before now ends it")
            return
        }
        // The end date is compared with now, not with the next time (BullMQ's rule).
        #expect(Self.advance(iterations.step(for: ended, now: 9)) != nil)
    }

    @Test func badRepeatOptionsAreReportedNotGuessed() throws {
        var iterations = SchedulerIterations()
        let cases = [
            (#"{}"#, "no repeat options"), (#"{"repeat":{"every":5,"pattern":"* * * * *"}}"#, "both pattern and every"),
            (#"{"repeat":{}}"#, "neither pattern nor every"), (#"{"repeat":{"pattern":"61 * * * *"}}"#, "61"),
            (#"{"repeat":{"pattern":"* * * * *","tz":"Mars/Olympus"}}"#, "Mars/Olympus"),
        ]
        for (opts, words) in cases {
            let step = iterations.step(for: try Self.job(opts), now: 0)
            guard case .invalid(let reason)? = step, reason.contains(words) else {
                Issue.record("\(opts): \(String(describing: step))")
                continue
            }
        }
    }

    @Test func healthSaysOkOverdueStuckFinishedOrLegacy() {
        var scheduler = JobScheduler(queue: "q", id: "s", name: "n")
        scheduler.next = 1_000
        scheduler.iterationCount = 2
        scheduler.nextJobState = .delayed
        #expect(scheduler.health(now: 1_500, graceMs: 1_000) == .ok, "late within the grace")
        #expect(scheduler.health(now: 2_500, graceMs: 1_000) == .overdue)
        scheduler.nextJobState = .active
        #expect(scheduler.health(now: 99_000, graceMs: 0) == .ok, "taken")
        scheduler.nextJobState = nil
        #expect(scheduler.health(now: 0, graceMs: 0) == .stuck)
        scheduler.nextJobState = .completed
        #expect(scheduler.health(now: 0, graceMs: 0) == .stuck)
        scheduler.limit = 2
        #expect(scheduler.health(now: 0, graceMs: 0) == .finished)
        scheduler.limit = nil
        scheduler.endDate = 500
        #expect(scheduler.health(now: 600, graceMs: 0) == .finished)
        scheduler.legacy = true
        #expect(scheduler.health(now: 600, graceMs: 0) == .legacy)
    }

    @Test func upcomingRunsHonourStartOffsetLimitAndEnd() throws {
        let every = SchedulerSpec(id: "e", name: "e", timing: .every(milliseconds: 1_000), offset: 250)
        #expect(every.upcomingRuns(count: 3, now: 10_500) == [11_250, 12_250, 13_250])
        var started = every
        started.startDate = 20_000
        #expect(started.upcomingRuns(count: 2, now: 10_500) == [20_000, 21_000])
        var limited = every
        limited.limit = 2
        #expect(limited.upcomingRuns(count: 5, now: 0) == [250, 1_250])
        var ending = every
        ending.endDate = 2_000
        // The run due after the end date is made by the one before it, and is the last.
        #expect(ending.upcomingRuns(count: 5, now: 0) == [250, 1_250, 2_250])
        let cron = SchedulerSpec(
            id: "c", name: "c", timing: .cron(try CronSchedule("0 0 1 1 *"), timeZone: nil))
        #expect(cron.upcomingRuns(count: 2, now: 0) == [31_536_000_000, 63_072_000_000])
        #expect(cron.nothingToSchedule(now: 0) == nil)
        var expired = cron
        expired.endDate = 5
        #expect(expired.nothingToSchedule(now: 10)?.contains("end date") == true)
    }
}
