import FoundationEssentials

/// Milliseconds since the epoch, now.
public func currentTimeMs() -> Int64 {
    Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
}

/// Millisecond epoch timestamps printed as RFC 3339 UTC, without Foundation's formatters.
public enum Timestamps {
    /// `2026-11-23T10:15:30.123Z` for a time in milliseconds since the epoch.
    public static func iso8601(milliseconds ms: Int64) -> String {
        let (days, msOfDay) = floorDivide(ms, 86_400_000)
        let date = CivilDate(days: Int(days))
        let (year, month, day) = (Int64(date.year), Int64(date.month), Int64(date.day))
        let hours = msOfDay / 3_600_000
        let minutes = (msOfDay / 60_000) % 60
        let seconds = (msOfDay / 1000) % 60
        let millis = msOfDay % 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hours, 2)):\(pad(minutes, 2)):\(pad(seconds, 2))"
            + ".\(pad(millis, 3))Z"
    }

    /// A point in time as operators write it: a duration ago (`2h`, `30m`), epoch milliseconds
    /// (`1795398921801`), or an ISO 8601 date or time (`2026-11-23`, `2026-11-23T10:15`, `2026-11-23 10:15:30Z`,
    /// `…+02:00`; UTC when no offset is given).
    ///
    /// Nil when the text is none of these.
    public static func pointInTime(_ text: String, now: Int64) -> Int64? {
        let trimmed = text.trimmingCharactersInWhitespace()
        if let time = parseISO8601(trimmed) { return time }
        if trimmed.count >= 12, trimmed.allSatisfy(\.isNumber), let ms = Int64(trimmed) { return ms }
        return DurationText.milliseconds(trimmed).map { now - $0 }
    }

    private static func parseISO8601(_ text: String) -> Int64? {
        let characters = Array(text)
        var index = 0
        func number(_ width: Int) -> Int64? {
            guard index + width <= characters.count else { return nil }
            let digits = String(characters[index..<index + width])
            guard digits.allSatisfy(\.isASCII), let value = Int64(digits) else { return nil }
            index += width
            return value
        }
        func skip(_ separator: Character) -> Bool {
            guard index < characters.count, characters[index] == separator else { return false }
            index += 1
            return true
        }
        guard let year = number(4), skip("-"), let month = number(2), skip("-"), let day = number(2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var ms: Int64 = 0
        if index < characters.count, characters[index] == "T" || characters[index] == " " {
            index += 1
            guard let hours = number(2), skip(":"), let minutes = number(2), hours < 24, minutes < 60 else {
                return nil
            }
            ms = hours * 3_600_000 + minutes * 60_000
            if skip(":") {
                guard let seconds = number(2), seconds < 61 else { return nil }
                ms += seconds * 1000
                if skip(".") {
                    var fraction = ""
                    while index < characters.count, characters[index].isASCII, characters[index].isNumber {
                        fraction.append(characters[index])
                        index += 1
                    }
                    guard !fraction.isEmpty else { return nil }
                    ms += Int64((fraction + "00").prefix(3)) ?? 0
                }
            }
            if skip("Z") || skip("z") {
            } else if index < characters.count, characters[index] == "+" || characters[index] == "-" {
                let sign: Int64 = characters[index] == "+" ? 1 : -1
                index += 1
                guard let offsetHours = number(2) else { return nil }
                _ = skip(":")
                guard let offsetMinutes = number(2) else { return nil }
                ms -= sign * (offsetHours * 3_600_000 + offsetMinutes * 60_000)
            }
        }
        guard index == characters.count else { return nil }
        return Int64(CivilDate(year: Int(year), month: Int(month), day: Int(day)).days) * 86_400_000 + ms
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b
        let r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
