import FoundationEssentials

/// A time zone's UTC offsets over time, read from the system's tz database: the TZif files under `$TZDIR` or
/// `/usr/share/zoneinfo`, the same files Python's `zoneinfo` reads first, so jobctl and BullMQ's Python client agree.
///
/// Times after the file's last transition follow its POSIX TZ footer (`EST5EDT,M3.2.0,M11.1.0`), expanded to
/// transitions up to the year 2200.
public struct TimeZoneRules: Sendable, Equatable {
    /// The zone's name as given (`America/New_York`), or `UTC`.
    public let identifier: String
    /// Transition instants (UTC seconds since 1970), ascending, and the offset (seconds east of UTC) from each on.
    private let transitions: [Int64]
    private let offsetsAfter: [Int32]
    /// The offset before the first transition.
    private let initialOffset: Int32

    public static let utc = TimeZoneRules(identifier: "UTC", transitions: [], offsetsAfter: [], initialOffset: 0)

    private init(identifier: String, transitions: [Int64], offsetsAfter: [Int32], initialOffset: Int32) {
        self.identifier = identifier
        self.transitions = transitions
        self.offsetsAfter = offsetsAfter
        self.initialOffset = initialOffset
    }

    /// The system's zone of that name (case-sensitive, as Python's `ZoneInfo`).
    ///
    /// `directory`: the tz database, by default `$TZDIR` or `/usr/share/zoneinfo`.
    public init(identifier: String, directory: String? = nil) throws(TimeZoneError) {
        // A name, not a path: letters, digits and `_+-/`, no `..` and no leading `/`.
        let allowed = identifier.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
                || "_+-/".unicodeScalars.contains($0)
        }
        guard !identifier.isEmpty, identifier.utf8.count <= 255, allowed, !identifier.hasPrefix("/"),
            !identifier.split(separator: "/").contains("..")
        else { throw TimeZoneError(identifier: identifier, reason: "not a time zone name") }
        let folder =
            directory ?? ProcessInfo.processInfo.environment["TZDIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "/usr/share/zoneinfo"
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + identifier))
        } catch {
            throw TimeZoneError(identifier: identifier, reason: "no such zone in \(folder)")
        }
        try self.init(identifier: identifier, tzif: Array(data))
    }

    /// Parses a TZif file (RFC 8536, version 2 or later: 64-bit transitions and a footer).
    public init(identifier: String, tzif bytes: [UInt8]) throws(TimeZoneError) {
        func bad(_ what: String) -> TimeZoneError { TimeZoneError(identifier: identifier, reason: "bad TZif: \(what)") }
        var reader = ByteReader(bytes)
        guard let v1 = reader.header(), v1.version >= 2 else { throw bad("no version 2 header") }
        guard reader.skip(v1.dataLength(timeSize: 4)), let v2 = reader.header() else { throw bad("truncated") }
        var times: [Int64] = []
        var typeIndices: [Int] = []
        for _ in 0..<v2.timeCount {
            guard let time = reader.int64() else { throw bad("truncated transitions") }
            times.append(time)
        }
        for _ in 0..<v2.timeCount {
            guard let index = reader.byte(), Int(index) < v2.typeCount else {
                throw bad("a transition type out of range")
            }
            typeIndices.append(Int(index))
        }
        var offsets: [Int32] = []
        for _ in 0..<v2.typeCount {
            guard let offset = reader.int32(), reader.skip(2) else { throw bad("truncated types") }
            offsets.append(offset)
        }
        guard !offsets.isEmpty, zip(times, times.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw bad("no types, or transitions out of order")
        }
        guard reader.skip(v2.charCount + v2.leapCount * 12 + v2.standardCount + v2.utcCount) else {
            throw bad("truncated")
        }
        var transitions = times
        var offsetsAfter = typeIndices.map { offsets[$0] }
        // The footer: a POSIX TZ string between newlines, for the times after the last transition.
        if let footer = reader.footer(), !footer.isEmpty {
            guard let rule = PosixTimeZone(footer) else { throw bad("footer '\(footer)' is not a POSIX TZ string") }
            let lastOffset = offsetsAfter.last ?? offsets[0]
            var year = transitions.last.map { CivilDate(days: Int($0 / 86_400)).year } ?? 1970
            var previous = lastOffset
            while year <= 2200 {
                for (instant, offset) in rule.transitions(in: year)
                where instant > (transitions.last ?? Int64.min) && offset != previous {
                    transitions.append(instant)
                    offsetsAfter.append(offset)
                    previous = offset
                }
                year += 1
            }
            if transitions.isEmpty, case .fixed(let offset) = rule.kind {
                self.init(identifier: identifier, transitions: [], offsetsAfter: [], initialOffset: offset)
                return
            }
        }
        self.init(
            identifier: identifier, transitions: transitions, offsetsAfter: offsetsAfter, initialOffset: offsets[0])
    }

    /// The offset (seconds east of UTC) in force at an instant.
    public func offset(atUTC seconds: Int64) -> Int32 {
        // The last transition at or before the instant.
        var low = 0
        var high = transitions.count
        while low < high {
            let middle = (low + high) / 2
            if transitions[middle] <= seconds { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? initialOffset : offsetsAfter[low - 1]
    }

    /// The instant of a wall-clock time (seconds since 1970 as if the wall clock were UTC), as Python's `fold=0`
    /// reads it: a time the clock skipped (spring forward) is taken with the offset before the change, so it lands
    /// after the gap by its length; a time the clock passed twice (fall back) is its first occurrence.
    public func utcSeconds(forWall wall: Int64) -> Int64 {
        // The last transition whose wall-clock boundary, with the larger of the offsets around it, is passed.
        var low = 0
        var high = transitions.count
        while low < high {
            let middle = (low + high) / 2
            let before = middle == 0 ? initialOffset : offsetsAfter[middle - 1]
            if transitions[middle] + Int64(max(before, offsetsAfter[middle])) <= wall {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return wall - Int64(low == 0 ? initialOffset : offsetsAfter[low - 1])
    }
}

/// A time zone jobctl cannot use, and why.
public struct TimeZoneError: OperatorFacingError, Equatable {
    public var identifier: String
    public var reason: String
    public var kind: FailureKind { .usage }
    public var description: String { "time zone '\(identifier)': \(reason)" }
    public var hints: [String] {
        ["time zones are IANA names such as Europe/Berlin or America/New_York (case matters)"]
    }
}

/// A day of the proleptic Gregorian calendar (Howard Hinnant's algorithms), for schedules and printed times.
struct CivilDate: Equatable {
    var year: Int
    var month: Int
    var day: Int

    init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// From days since 1970-01-01 (Howard Hinnant's civil_from_days).
    init(days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shifted + 2) / 5 + 1
        month = shifted < 10 ? shifted + 3 : shifted - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Days since 1970-01-01 (days_from_civil).
    var days: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// 0 Sunday … 6 Saturday.
    var weekday: Int { ((days % 7) + 11) % 7 }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// A POSIX TZ string as TZif footers hold it: `EST5EDT,M3.2.0,M11.1.0`, `<+0530>-5:30`, `<-04>4<-03>,M9.1.6/24,…`.
struct PosixTimeZone {
    enum Kind {
        case fixed(Int32)
        /// Standard and daylight offsets (east of UTC) and the rules, with their local times (seconds).
        case daylight(standard: Int32, daylight: Int32, start: (DateRule, Int64), end: (DateRule, Int64))
    }

    enum DateRule {
        /// Month, week (1–5, 5 the last), weekday (0 Sunday).
        case monthWeekDay(Int, Int, Int)
        /// `Jn`: day 1–365, February 29 never counted.
        case julian(Int)
        /// `n`: day 0–365, February 29 counted.
        case zeroBased(Int)
    }

    let kind: Kind

    init?(_ text: String) {
        var scanner = Array(text.utf8)[...]
        guard Self.name(&scanner), let standard = Self.time(&scanner) else { return nil }
        if scanner.isEmpty {
            kind = .fixed(Int32(-standard))
            return
        }
        guard Self.name(&scanner) else { return nil }
        var daylight = standard - 3600
        if let first = scanner.first, first != UInt8(ascii: ",") {
            guard let given = Self.time(&scanner) else { return nil }
            daylight = given
        }
        guard scanner.popFirst() == UInt8(ascii: ","), let start = Self.rule(&scanner),
            scanner.popFirst() == UInt8(ascii: ","), let end = Self.rule(&scanner), scanner.isEmpty
        else { return nil }
        kind = .daylight(standard: Int32(-standard), daylight: Int32(-daylight), start: start, end: end)
    }

    /// The year's changes: (instant, offset from then on), in order.
    func transitions(in year: Int) -> [(Int64, Int32)] {
        guard case .daylight(let standard, let daylight, let start, let end) = kind else { return [] }
        let begins = Self.localSeconds(start.0, year: year) + start.1 - Int64(standard)
        let ends = Self.localSeconds(end.0, year: year) + end.1 - Int64(daylight)
        return [(begins, daylight), (ends, standard)].sorted { $0.0 < $1.0 }
    }

    private static func localSeconds(_ rule: DateRule, year: Int) -> Int64 {
        let days: Int
        switch rule {
        case .monthWeekDay(let month, let week, let weekday):
            let first = CivilDate(year: year, month: month, day: 1)
            var day = 1 + (weekday - first.weekday + 7) % 7 + (week - 1) * 7
            while day > CivilDate.daysIn(month: month, year: year) { day -= 7 }
            days = CivilDate(year: year, month: month, day: day).days
        case .julian(let n):
            let leapShift = CivilDate.isLeap(year) && n >= 60 ? 1 : 0
            days = CivilDate(year: year, month: 1, day: 1).days + n - 1 + leapShift
        case .zeroBased(let n):
            days = CivilDate(year: year, month: 1, day: 1).days + n
        }
        return Int64(days) * 86_400
    }

    private static func name(_ scanner: inout ArraySlice<UInt8>) -> Bool {
        if scanner.first == UInt8(ascii: "<") {
            guard let close = scanner.firstIndex(of: UInt8(ascii: ">")) else { return false }
            scanner = scanner[(close + 1)...]
            return true
        }
        let letters = scanner.prefix { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0 & 0xDF) }
        scanner = scanner.dropFirst(letters.count)
        return letters.count >= 3
    }

    /// `[+-]hh[:mm[:ss]]` in seconds.
    private static func time(_ scanner: inout ArraySlice<UInt8>) -> Int64? {
        var sign: Int64 = 1
        if let first = scanner.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            sign = first == UInt8(ascii: "-") ? -1 : 1
            scanner = scanner.dropFirst()
        }
        var total: Int64 = 0
        for (index, unit) in [3600, 60, 1].enumerated() {
            if index > 0 {
                guard scanner.first == UInt8(ascii: ":") else { break }
                scanner = scanner.dropFirst()
            }
            guard let value = number(&scanner) else { return nil }
            total += Int64(value) * Int64(unit)
        }
        return sign * total
    }

    /// One to three digits.
    private static func number(_ scanner: inout ArraySlice<UInt8>) -> Int? {
        let digits = scanner.prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        guard !digits.isEmpty, digits.count <= 3 else { return nil }
        scanner = scanner.dropFirst(digits.count)
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    private static func rule(_ scanner: inout ArraySlice<UInt8>) -> (DateRule, Int64)? {
        func number() -> Int? { Self.number(&scanner) }
        let date: DateRule
        switch scanner.first {
        case UInt8(ascii: "M"):
            scanner = scanner.dropFirst()
            guard let month = number(), (1...12).contains(month), scanner.popFirst() == UInt8(ascii: "."),
                let week = number(), (1...5).contains(week), scanner.popFirst() == UInt8(ascii: "."),
                let weekday = number(), (0...6).contains(weekday)
            else { return nil }
            date = .monthWeekDay(month, week, weekday)
        case UInt8(ascii: "J"):
            scanner = scanner.dropFirst()
            guard let day = number(), (1...365).contains(day) else { return nil }
            date = .julian(day)
        default:
            guard let day = number(), (0...365).contains(day) else { return nil }
            date = .zeroBased(day)
        }
        var time: Int64 = 7200
        if scanner.first == UInt8(ascii: "/") {
            scanner = scanner.dropFirst()
            guard let given = Self.time(&scanner) else { return nil }
            time = given
        }
        return (date, time)
    }
}

/// Big-endian reads over a TZif file.
private struct ByteReader {
    struct Header {
        var version: Int
        var utcCount, standardCount, leapCount, timeCount, typeCount, charCount: Int

        func dataLength(timeSize: Int) -> Int {
            timeCount * timeSize + timeCount + typeCount * 6 + charCount + leapCount * (timeSize + 4) + standardCount
                + utcCount
        }
    }

    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, position + count <= bytes.count else { return false }
        position += count
        return true
    }

    mutating func byte() -> UInt8? {
        guard position < bytes.count else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func int32() -> Int32? {
        guard position + 4 <= bytes.count else { return nil }
        defer { position += 4 }
        return Int32(bitPattern: bytes[position..<position + 4].reduce(0) { $0 << 8 | UInt32($1) })
    }

    mutating func int64() -> Int64? {
        guard position + 8 <= bytes.count else { return nil }
        defer { position += 8 }
        return Int64(bitPattern: bytes[position..<position + 8].reduce(0) { $0 << 8 | UInt64($1) })
    }

    mutating func header() -> Header? {
        guard position + 44 <= bytes.count, bytes[position..<position + 4].elementsEqual("TZif".utf8) else {
            return nil
        }
        let versionByte = bytes[position + 4]
        let version = versionByte == 0 ? 1 : Int(versionByte) - Int(UInt8(ascii: "0"))
        position += 20
        var counts: [Int] = []
        for _ in 0..<6 {
            guard let count = int32(), count >= 0, count < 1_000_000 else { return nil }
            counts.append(Int(count))
        }
        return Header(
            version: version, utcCount: counts[0], standardCount: counts[1], leapCount: counts[2],
            timeCount: counts[3], typeCount: counts[4], charCount: counts[5])
    }

    /// The text between the newlines after the data, if any.
    mutating func footer() -> String? {
        guard byte() == UInt8(ascii: "\n"), let end = bytes[position...].firstIndex(of: UInt8(ascii: "\n")) else {
            return nil
        }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }
}
