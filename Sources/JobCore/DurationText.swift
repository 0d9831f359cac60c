/// Parses and prints durations the way operators write them: `500ms`, `30s`, `5m`, `2h`, `1d`, `1h30m`.
public enum DurationText {
    /// Milliseconds in `text`; a bare number means seconds.
    ///
    /// Returns nil when the text is not a duration.
    public static func milliseconds(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharactersInWhitespace()
        guard !trimmed.isEmpty else { return nil }
        if let seconds = Double(trimmed), seconds.isFinite, seconds >= 0, seconds < 1e12 {
            return Int64((seconds * 1000).rounded())
        }
        var total = 0.0
        var number = ""
        var unit = ""
        var parts = 0
        func flush() -> Bool {
            guard let value = Double(number), value.isFinite, value >= 0 else { return false }
            let factor: Double
            switch unit {
            case "ms": factor = 1
            case "s": factor = 1000
            case "m": factor = 60_000
            case "h": factor = 3_600_000
            case "d": factor = 86_400_000
            case "w": factor = 604_800_000
            default: return false
            }
            total += value * factor
            parts += 1
            number = ""
            unit = ""
            return true
        }
        for character in trimmed {
            if character.isNumber || character == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(character)
            } else if character.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(character)
            } else {
                return nil
            }
        }
        guard !number.isEmpty, !unit.isEmpty, flush(), parts > 0, total < 1e15 else { return nil }
        return Int64(total.rounded())
    }

    /// A short human form of a span: `850ms`, `42s`, `5m12s`, `3h04m`, `2d03h`.
    public static func describe(milliseconds ms: Int64) -> String {
        let negative = ms < 0
        let value = negative ? -ms : ms
        let text: String
        if value < 1000 {
            text = "\(value)ms"
        } else if value < 60_000 {
            let tenths = value / 100
            text = tenths % 10 == 0 || value >= 10_000 ? "\(value / 1000)s" : "\(tenths / 10).\(tenths % 10)s"
        } else if value < 3_600_000 {
            text = "\(value / 60_000)m" + pad2((value / 1000) % 60) + "s"
        } else if value < 86_400_000 {
            text = "\(value / 3_600_000)h" + pad2((value / 60_000) % 60) + "m"
        } else {
            text = "\(value / 86_400_000)d" + pad2((value / 3_600_000) % 24) + "h"
        }
        return negative ? "-" + text : text
    }

    private static func pad2(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

extension StringProtocol {
    /// The text without leading and trailing characters that match (whitespace unless told otherwise).
    public func trimmingCharactersInWhitespace(or extra: (Character) -> Bool = { _ in false }) -> String {
        var slice = self[...]
        while let first = slice.first, first.isWhitespace || extra(first) { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace || extra(last) { slice.removeLast() }
        return String(slice)
    }
}
