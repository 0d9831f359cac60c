import Foundation
import JobCore
import TestSupport
import Testing

/// jobctl's cron patterns and time zones against what BullMQ's Python client computes (croniter 2.0.7 and zoneinfo
/// in the test venv, through `scripts/cron_table.py`), and the clock-change rule on its own.
@Suite struct CronScheduleTests {
    static let venvReady = FileManager.default.isExecutableFile(atPath: TestEnvironment.python)

    /// The JSON lines `scripts/cron_table.py MODE` prints.
    static func table(_ mode: String) throws -> [[String: Any]] {
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/cron_table.py").path
        let result = try runProcess(TestEnvironment.python, [script, mode])
        guard result.status == 0 else { throw MissingServiceError(description: "cron_table.py: \(result.stderr)") }
        return try result.stdout.split(separator: "\n").map { try parseJSONObject(String($0)) }
    }

    static func ms(_ iso: String) -> Int64 {
        Int64((ISO8601DateFormatter().date(from: iso)?.timeIntervalSince1970 ?? .nan) * 1000)
    }

    static func zone(_ name: String?) throws -> TimeZoneRules {
        try name.map { try TimeZoneRules(identifier: $0) } ?? .utc
    }

    @Test(.enabled(if: venvReady || TestEnvironment.isCI, "needs the venv (scripts/venv.sh)"))
    func offsetsEqualPythonsZoneinfo() throws {
        var compared = 0
        for entry in try Self.table("offsets") {
            let name = try #require(entry["tz"] as? String)
            let zone = try TimeZoneRules(identifier: name)
            for point in (entry["offsets"] as? [[NSNumber]]) ?? [] {
                let (instant, offset) = (point[0].int64Value, point[1].int32Value)
                #expect(zone.offset(atUTC: instant) == offset, "\(name) at \(instant)")
                compared += 1
            }
        }
        #expect(compared > 30_000, "compared \(compared) offsets")
    }

    @Test(.enabled(if: venvReady || TestEnvironment.isCI, "needs the venv (scripts/venv.sh)"))
    func nextTimesEqualCroniterExceptOnClockChanges() throws {
        var zones: [String: TimeZoneRules] = [:]
        var schedules: [String: CronSchedule] = [:]
        var cases = 0
        var clockChanges = 0
        var mismatches: [String] = []
        for entry in try Self.table("next") {
            let pattern = try #require(entry["pattern"] as? String)
            let name = entry["tz"] as? String
            let base = try #require((entry["base"] as? NSNumber)?.int64Value)
            let rule = (entry["rule"] as? NSNumber)?.int64Value
            let croniter = (entry["croniter"] as? NSNumber)?.int64Value
            let zone = try zones[name ?? "UTC"] ?? Self.zone(name)
            zones[name ?? "UTC"] = zone
            let schedule = try schedules[pattern] ?? CronSchedule(pattern)
            schedules[pattern] = schedule
            let ours = schedule.next(afterMs: base, in: zone)
            cases += 1
            if ours != rule, mismatches.count < 20 {
                mismatches.append("\(pattern) \(name ?? "UTC") after \(base): jobctl \(ours ?? -1), rule \(rule ?? -1)")
            }
            if croniter != rule {
                clockChanges += 1
                #expect(entry["clock_change"] as? Bool == true, "croniter differs away from a clock change: \(entry)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        #expect(cases >= 50_000, "\(cases) cases")
        #expect(clockChanges > 0 && clockChanges < cases / 10, "\(clockChanges) clock-change cases of \(cases)")
    }

    @Test(.enabled(if: venvReady || TestEnvironment.isCI, "needs the venv (scripts/venv.sh)"))
    func acceptsAndRefusesWhatCroniterDoes() throws {
        let cases = try Self.table("grammar")
        #expect(cases.count > 60)
        for entry in cases {
            let pattern = try #require(entry["pattern"] as? String)
            let accepted = (try? CronSchedule(pattern)) != nil
            #expect(accepted == (entry["accepted"] as? Bool), "'\(pattern)': croniter \(entry["accepted"] ?? "?")")
        }
    }

    @Test func aDailyScheduleFiresAtItsWallClockTimeOnClockChanges() throws {
        let newYork = try TimeZoneRules(identifier: "America/New_York")
        let nine = try CronSchedule("0 9 * * *")
        // Fall back (2026-11-01): 09:00 EST, where croniter says 10:00.
        #expect(nine.next(afterMs: Self.ms("2026-10-31T13:00:00Z"), in: newYork) == Self.ms("2026-11-01T14:00:00Z"))
        // Spring forward (2026-03-08): once, at 09:00 EDT (croniter fires at 08:00 and again at 09:00).
        #expect(nine.next(afterMs: Self.ms("2026-03-07T14:00:00Z"), in: newYork) == Self.ms("2026-03-08T13:00:00Z"))
        #expect(nine.next(afterMs: Self.ms("2026-03-08T13:00:00Z"), in: newYork) == Self.ms("2026-03-09T13:00:00Z"))
        // A time the clock skips fires right after the gap.
        let halfPastTwo = try CronSchedule("30 2 * * *")
        #expect(
            halfPastTwo.next(afterMs: Self.ms("2026-03-07T07:30:00Z"), in: newYork) == Self.ms("2026-03-08T07:30:00Z"))
        // A time the clock passes twice fires at its first pass only.
        let halfPastOne = try CronSchedule("30 1 * * *")
        #expect(
            halfPastOne.next(afterMs: Self.ms("2026-10-31T05:30:00Z"), in: newYork) == Self.ms("2026-11-01T05:30:00Z"))
        #expect(
            halfPastOne.next(afterMs: Self.ms("2026-11-01T05:30:00Z"), in: newYork) == Self.ms("2026-11-02T06:30:00Z"))
        // Hourly across fall back: 01:00 EDT, then 02:00 EST (01:00 EST is the same wall time again).
        let hourly = try CronSchedule("0 * * * *")
        #expect(hourly.next(afterMs: Self.ms("2026-11-01T05:00:00Z"), in: newYork) == Self.ms("2026-11-01T07:00:00Z"))
    }

    @Test func nextTimesOnOrdinaryDays() throws {
        let berlin = try TimeZoneRules(identifier: "Europe/Berlin")
        let base = Self.ms("2026-06-10T10:00:00Z")  // 12:00 CEST, a Wednesday
        #expect(try CronSchedule("*/2 * * * * *").next(afterMs: base, in: berlin) == base + 2000)
        #expect(try CronSchedule("0 * * * *").next(afterMs: base, in: berlin) == base + 3_600_000)
        #expect(try CronSchedule("0 12 * * *").next(afterMs: base, in: berlin) == base + 86_400_000)
        #expect(try CronSchedule("0 8 * * 5#2").next(afterMs: base, in: .utc) == Self.ms("2026-06-12T08:00:00Z"))
        #expect(try CronSchedule("0 8 * * L5").next(afterMs: base, in: .utc) == Self.ms("2026-06-26T08:00:00Z"))
        #expect(try CronSchedule("0 0 L * *").next(afterMs: base, in: .utc) == Self.ms("2026-06-30T00:00:00Z"))
        #expect(try CronSchedule("0 0 29 2 *").next(afterMs: base, in: .utc) == Self.ms("2028-02-29T00:00:00Z"))
        // Day of month and day of week both given: either fires.
        #expect(try CronSchedule("0 0 20 * 4").next(afterMs: base, in: .utc) == Self.ms("2026-06-11T00:00:00Z"))
        #expect(try CronSchedule("@monthly").next(afterMs: base, in: .utc) == Self.ms("2026-07-01T00:00:00Z"))
    }

    @Test func badPatternsAndZonesSayWhy() {
        for pattern in ["", "* * * *", "0 0 30 2 *", "*/0 * * * *", "0 0 * * 5L", "H * * * *", "0 0 * * 1,5#2"] {
            #expect(throws: CronError.self, "'\(pattern)'") { try CronSchedule(pattern) }
        }
        let impossible = #expect(throws: CronError.self) { try CronSchedule("0 0 31 4 *") }
        #expect(impossible?.description == "cron pattern '0 0 31 4 *': no date ever matches it")
        for name in ["", "../etc/passwd", "/etc/localtime", "america/new_york", "Mars/Olympus_Mons", "New York"] {
            #expect(throws: TimeZoneError.self, "'\(name)'") { try TimeZoneRules(identifier: name) }
        }
        #expect(throws: TimeZoneError.self) { try TimeZoneRules(identifier: "X", tzif: Array("TZif2 garbage".utf8)) }
    }
}
