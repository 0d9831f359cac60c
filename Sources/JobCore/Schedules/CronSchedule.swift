/// A cron pattern as BullMQ's Python client reads it (croniter 2.0.7 with the seconds field first).
///
/// Five fields `min hour dom mon dow` or six `sec min hour dom mon dow`, `*` and `?`, lists, ranges, steps, month
/// and weekday names, `L` (last day of the month) in the day of month, `5#2` (second Friday) and `L5` (last Friday)
/// in the day of week, `@yearly @annually @monthly @weekly @daily @midnight @hourly`. When both the day of month and
/// the day of week are restricted, a day matching either fires (Vixie cron).
///
/// Next times are computed on the wall clock of the schedule's zone. Where croniter shifts daily schedules by an hour
/// on the days a clock changes, jobctl does not: a schedule fires at the wall-clock time it names, once — a time the
/// clock skips fires right after the gap (02:30 on a spring-forward night fires at 03:30), a time the clock passes
/// twice fires at its first pass.
public struct CronSchedule: Sendable, Equatable {
    public let pattern: String
    /// Six fields: the first is seconds.
    public let hasSeconds: Bool
    private let seconds: UInt64
    private let minutes: UInt64
    private let hours: UInt64
    private let daysOfMonth: UInt64
    private let lastDayOfMonth: Bool
    private let months: UInt64
    private let weekdays: UInt64
    /// Weekday → which of its occurrences in the month (bits 1–5; bit 6: the last).
    private let nthWeekdays: [Int: UInt8]
    private let dayOfMonthIsAny: Bool
    private let dayOfWeekIsAny: Bool

    private static let aliases = [
        "@midnight": "0 0 * * *", "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]
    private static let monthNames = [
        "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
        "nov": 11, "dec": 12,
    ]
    private static let weekdayNames = ["sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6]
    /// Field order after the seconds move last: minute, hour, day of month, month, day of week, second.
    private static let ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7), (0, 59)]
    private static let countMeaningAll = [60, 24, 31, 12, 7, 60]
    private static let fieldNames = ["minute", "hour", "day of month", "month", "day of week", "second"]

    /// One value of a field: a number, or `L` (the last day of the month).
    private enum Value: Hashable {
        case number(Int)
        case last
        case any
    }

    public init(_ pattern: String) throws(CronError) {
        self.pattern = pattern
        guard pattern.utf8.count <= 1000 else { throw CronError(pattern: pattern, reason: "longer than 1000 bytes") }
        var text = pattern.lowercased()
        if let alias = Self.aliases[text] { text = alias }
        var fields = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 || fields.count == 6 else {
            throw CronError(pattern: pattern, reason: "exactly 5 or 6 fields (seconds first), found \(fields.count)")
        }
        hasSeconds = fields.count == 6
        if hasSeconds { fields.append(fields.removeFirst()) }
        var expanded: [[Value]] = []
        var nth: [Int: UInt8] = [:]
        for (index, field) in fields.enumerated() {
            expanded.append(try Self.expand(field, index: index, fields: fields, nth: &nth, pattern: pattern))
        }
        if !nth.isEmpty {
            let literal = Set(expanded[4]).subtracting(nth.keys.map { .number($0) }).subtracting([.any])
            if !literal.isEmpty && Set(expanded[4]).count != 7 {
                throw CronError(
                    pattern: pattern, reason: "the day of week mixes plain days with nth days (5#2, L5)")
            }
        }
        func bits(_ values: [Value]) -> UInt64 {
            values.reduce(0) { bits, value in
                switch value {
                case .number(let number) where number >= 0 && number < 64: return bits | (1 << UInt64(number))
                case .any: return ~0
                default: return bits
                }
            }
        }
        minutes = bits(expanded[0])
        hours = bits(expanded[1])
        daysOfMonth = bits(expanded[2])
        lastDayOfMonth = expanded[2].contains(.last)
        months = bits(expanded[3])
        // A 7 left by a range or by six fields never matches (croniter's quirk: "0 0 0 * * 7" never fires).
        weekdays = bits(expanded[4])
        seconds = hasSeconds ? bits(expanded[5]) : 1
        // 7 is Sunday as well.
        nthWeekdays = nth.reduce(into: [:]) { $0[$1.key % 7, default: 0] |= $1.value }
        dayOfMonthIsAny = expanded[2].first == .any
        dayOfWeekIsAny = expanded[4].first == .any
        guard let _ = next(afterMs: 0, in: .utc) else {
            throw CronError(pattern: pattern, reason: "no date ever matches it")
        }
    }

    /// The values of one field, as croniter expands them (its quirks included, since a queue may be worked by
    /// jobctl and the Python client alike).
    private static func expand(
        _ field: String, index: Int, fields: [String], nth: inout [Int: UInt8], pattern: String
    ) throws(CronError) -> [Value] {
        let name = fieldNames[index]
        func bad(_ reason: String) -> CronError { CronError(pattern: pattern, reason: "\(name) '\(field)': \(reason)") }
        var expression = field
        if expression.contains("?") {
            guard expression == "?" else { throw bad("'?' cannot be used with other characters") }
            guard index == 2 || index == 4 else { throw bad("'?' is only for the day of month or of week") }
            expression = "*"
        }
        if let first = expression.first, first == "h" || first == "r",
            expression.dropFirst().allSatisfy({ "0123456789()-/".contains($0) })
        {
            throw bad("'H' and 'R' (hashed and random values) are not supported")
        }
        var pending = expression.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var values = Set<Value>()
        let (low, high) = ranges[index]
        while let element = pending.popLast() {
            var element = element
            var occurrence: Int?  // 1–5, or 6 for the last
            if index == 4, let special = Self.specialWeekday(element) {
                element = special.base
                if special.last {
                    occurrence = 6
                } else {
                    guard let n = Int(special.count), (1...5).contains(n) else {
                        throw bad("the n of day#n must be 1 to 5")
                    }
                    occurrence = n
                }
            }
            var spec = element
            if spec.hasPrefix("*/") { spec = "\(low)-\(high)" + spec.dropFirst(1) }
            var range = Self.rangeParts(spec)
            if range == nil, let slash = spec.firstIndex(of: "/"), slash != spec.startIndex,
                spec.index(after: slash) != spec.endIndex
            {
                range = Self.rangeParts(String(spec[..<slash]) + "-\(high)" + spec[slash...])
            }
            if let (start, given, step) = range {
                let end = index == 2 && given == "l" ? "31" : given
                guard let first = Self.number(start) ?? alphabetic(start, index: index),
                    var last = Self.number(end) ?? alphabetic(end, index: index)
                else { throw bad("'\(element)' is not a number or a name") }
                guard let stride = Self.number(step) else { throw bad("the step '\(step)' is not a number") }
                if first > last {
                    guard index == 4 && last == 0 else { throw bad("a range must go upwards") }
                    last = 7  // FRI-SUN
                }
                guard max(first, last) <= high else { throw bad("\(max(first, last)) is out of range") }
                guard stride > 0 else { throw bad("a step must be at least 1") }
                // Each value is read again on its own, as croniter does (its range check and 7 → Sunday apply).
                let suffix = occurrence.map { $0 == 6 ? "" : "#\($0)" } ?? ""
                pending += Swift.stride(from: first, through: last, by: stride).map { "\($0)\(suffix)" }
                continue
            }
            guard !spec.hasPrefix("-") else { throw bad("negative numbers are not allowed") }
            var value: Value
            if spec == "*" {
                value = .any
            } else if let number = Self.number(spec) {
                value = .number(number)
            } else if index == 2 && spec == "l" {
                value = .last
            } else if let number = alphabetic(spec, index: index) {
                value = .number(number)
            } else {
                throw bad("'\(element)' is not a number or a name")
            }
            // croniter maps a day or month 0 to 1 with seconds, and 7 to Sunday without.
            if case .number(let number) = value {
                if number == 0 && index == 2 && fields.count == 6 { value = .number(1) }
                if number == 7 && index == 4 && fields.count == 5 { value = .number(0) }
                if case .number(let mapped) = value, mapped < low || mapped > high {
                    throw bad("\(mapped) is out of range \(low)–\(high)")
                }
            }
            values.insert(value)
            if let occurrence, case .number(let day) = value {
                nth[day, default: 0] |= 1 << UInt8(occurrence)
            }
        }
        if values.contains(.any) { return [.any] }
        if values.count == countMeaningAll[index] {
            // croniter reads a full list as '*' unless the other day field has no '*'.
            let other = index == 2 ? fields[4] : index == 4 ? fields[2] : "*"
            if other.contains("*") { return [.any] }
        }
        return values.sorted { lhs, rhs in
            switch (lhs, rhs) {
            case (.number(let a), .number(let b)): return a < b
            case (.number, _): return true
            default: return false
            }
        }
    }

    /// `mon#2`, `5#2`, `mon-fri#2` (he) or `l5`.
    private static func specialWeekday(_ element: String) -> (base: String, count: String, last: Bool)? {
        if element.hasPrefix("l"), element.count > 1, element.dropFirst().allSatisfy(\.isWholeNumber) {
            return (String(element.dropFirst()), "", true)
        }
        guard let hash = element.firstIndex(of: "#") else { return nil }
        let base = String(element[..<hash])
        let count = String(element[element.index(after: hash)...])
        guard !count.isEmpty, count.allSatisfy(\.isWholeNumber), !base.isEmpty else { return nil }
        let word = base.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
        let names = base.split(separator: "-", omittingEmptySubsequences: false)
        let namedRange =
            names.count <= 2
            && names.allSatisfy { weekdayNames[String($0)] != nil || monthNames[String($0)] != nil }
        guard word || namedRange else { return nil }
        return (base, count, false)
    }

    /// `low-high[/step]` with neither part containing `-` (and high no `/`).
    private static func rangeParts(_ text: String) -> (String, String, String)? {
        let dash = text.split(separator: "-", omittingEmptySubsequences: false)
        guard dash.count == 2, !dash[0].isEmpty, !dash[1].isEmpty else { return nil }
        let tail = dash[1].split(separator: "/", omittingEmptySubsequences: false)
        guard !tail[0].isEmpty, tail.count <= 2 else { return nil }
        if tail.count == 2 {
            guard !tail[1].isEmpty, tail[1].allSatisfy(\.isWholeNumber) else { return nil }
            return (String(dash[0]), String(tail[0]), String(tail[1]))
        }
        return (String(dash[0]), String(tail[0]), "1")
    }

    /// ASCII digits only (`+5` is not a number to croniter).
    private static func number(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 9, text.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Int(text)
    }

    private static func alphabetic(_ text: String, index: Int) -> Int? {
        switch index {
        case 3: return monthNames[text]
        case 4: return weekdayNames[text]
        default: return nil
        }
    }

    // MARK: Next time

    /// The first time strictly after `afterMs` (ms since 1970) that the pattern names on the zone's wall clock, in
    /// ms; nil when no date within 28 years matches.
    public func next(afterMs: Int64, in zone: TimeZoneRules) -> Int64? {
        let granule: Int64 = hasSeconds ? 1 : 60
        let base = afterMs >= 0 ? afterMs / 1000 : (afterMs - 999) / 1000
        let start = base + granule
        var wall = start + Int64(zone.offset(atUTC: start))
        if !hasSeconds { wall -= ((wall % 60) + 60) % 60 }
        // A wall time the clock passed twice fires at its first pass only: a later match is looked for.
        for _ in 0..<4 {
            guard let match = nextWall(atOrAfter: wall) else { return nil }
            let instant = zone.utcSeconds(forWall: match)
            if instant * 1000 > afterMs { return instant * 1000 }
            wall = match + granule
        }
        return nil
    }

    /// The first wall-clock time (seconds as if UTC) at or after `wall` that matches every field.
    private func nextWall(atOrAfter wall: Int64) -> Int64? {
        let dayNumber = Int(wall >= 0 ? wall / 86_400 : (wall - 86_399) / 86_400)
        var secondOfDay = Int(wall - Int64(dayNumber) * 86_400)
        for day in dayNumber..<(dayNumber + 366 * 28) {
            let date = CivilDate(days: day)
            if matches(date), let time = firstTime(atOrAfter: secondOfDay) {
                return Int64(day) * 86_400 + Int64(time)
            }
            secondOfDay = 0
        }
        return nil
    }

    private func matches(_ date: CivilDate) -> Bool {
        guard months & (1 << UInt64(date.month)) != 0 else { return false }
        let lastDay = CivilDate.daysIn(month: date.month, year: date.year)
        let dayOfMonth = daysOfMonth & (1 << UInt64(date.day)) != 0 || (lastDayOfMonth && date.day == lastDay)
        let weekday = date.weekday
        let dayOfWeek: Bool
        if nthWeekdays.isEmpty {
            dayOfWeek = weekdays & (1 << UInt64(weekday)) != 0
        } else {
            let occurrences = nthWeekdays[weekday] ?? 0
            let occurrence = (date.day - 1) / 7 + 1
            dayOfWeek =
                occurrences & (1 << UInt8(occurrence)) != 0 || (occurrences & (1 << 6) != 0 && date.day + 7 > lastDay)
            // croniter applies nth days whichever way the two day fields combine.
            if !dayOfMonthIsAny && !dayOfWeekIsAny { return dayOfWeek }
            return dayOfMonth && dayOfWeek
        }
        if !dayOfMonthIsAny && !dayOfWeekIsAny { return dayOfMonth || dayOfWeek }
        return dayOfMonth && dayOfWeek
    }

    /// The first second of the day at or after `second` whose hour, minute and second match.
    private func firstTime(atOrAfter second: Int) -> Int? {
        var hour = second / 3600
        var minute = (second / 60) % 60
        var secondOfMinute = second % 60
        while hour < 24 {
            if hours & (1 << UInt64(hour)) != 0 {
                while minute < 60 {
                    if minutes & (1 << UInt64(minute)) != 0,
                        let found = Self.nextBit(seconds, from: secondOfMinute, below: 60)
                    {
                        return hour * 3600 + minute * 60 + found
                    }
                    minute += 1
                    secondOfMinute = 0
                }
            }
            hour += 1
            minute = 0
            secondOfMinute = 0
        }
        return nil
    }

    private static func nextBit(_ bits: UInt64, from start: Int, below end: Int) -> Int? {
        guard start < end else { return nil }
        let shifted = bits >> UInt64(start)
        guard shifted != 0 else { return nil }
        let found = start + shifted.trailingZeroBitCount
        return found < end ? found : nil
    }
}

/// A cron pattern jobctl (like BullMQ's Python client) cannot use, and why.
public struct CronError: OperatorFacingError, Equatable {
    public var pattern: String
    public var reason: String
    public var kind: FailureKind { .usage }
    public var description: String { "cron pattern '\(pattern)': \(reason)" }
    public var hints: [String] {
        ["five fields 'min hour dom mon dow' or six with seconds first, e.g. '0 3 * * *' or '*/10 * * * * *'"]
    }
}
