import Glibc
import JobCore

/// An aligned table: left-aligned text columns, right-aligned number columns, two spaces between columns.
struct TextTable {
    enum Alignment { case left, right }

    var headers: [String]
    var alignments: [Alignment]
    var rows: [[String]] = []

    init(_ columns: [(String, Alignment)]) {
        headers = columns.map(\.0)
        alignments = columns.map(\.1)
    }

    mutating func append(_ row: [String]) { rows.append(row) }

    func render() -> String {
        let all = [headers] + rows
        var widths = [Int](repeating: 0, count: headers.count)
        for row in all {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], displayWidth(cell))
            }
        }
        var out = ""
        for row in all {
            var line = ""
            for (index, cell) in row.enumerated() where index < widths.count {
                let padding = String(repeating: " ", count: widths[index] - displayWidth(cell))
                let isLast = index == row.count - 1
                switch alignments[index] {
                case .left: line += cell + (isLast ? "" : padding)
                case .right: line += padding + cell
                }
                if !isLast { line += "  " }
            }
            while line.hasSuffix(" ") { line.removeLast() }  // an empty last cell leaves padding behind
            out += line + "\n"
        }
        return out
    }

    /// The rows alone, aligned as `render` aligns them: for label/value lists, whose headers are empty.
    func renderWithoutHeaders() -> String {
        render().split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n")
    }

    /// Columns a cell takes on a terminal: one per character (wide CJK characters count as one; good enough here).
    private func displayWidth(_ text: String) -> Int { text.count }
}

/// Cell formatting shared by the commands.
enum Cell {
    /// `1,234,567`.
    static func count(_ value: Int?) -> String {
        guard let value else { return "?" }
        let digits = String(value.magnitude)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(character)
        }
        return value < 0 ? "-" + out : out
    }

    /// A single line of at most `limit` characters, with control characters made visible.
    ///
    /// Reads no more of the text than it shows: a reason of megabytes costs what 60 characters cost.
    static func oneLine(_ text: String?, limit: Int = 60) -> String {
        guard let text else { return "" }
        var kept: [Character] = []
        kept.reserveCapacity(limit)
        for character in text {
            if kept.count == limit { return String(kept.prefix(limit - 1)) + "…" }
            if character.isNewline || character == "\t" {
                kept.append(" ")
            } else if character.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                kept.append("?")
            } else {
                kept.append(character)
            }
        }
        return String(kept)
    }

    /// `2026-12-06 14:05:00Z` (milliseconds only when there are some).
    static func time(_ ms: Int64) -> String {
        let text = String(Timestamps.iso8601(milliseconds: ms).map { $0 == "T" ? " " : $0 })
        return text.hasSuffix(".000Z") ? String(text.dropLast(5)) + "Z" : text
    }

    /// `5m12s ago` relative to now; `in 3m` for the future; `-` when absent.
    static func relative(_ timestamp: Int64?, now: Int64) -> String {
        guard let timestamp, timestamp > 0 else { return "-" }
        let delta = now - timestamp
        return delta >= 0
            ? DurationText.describe(milliseconds: delta) + " ago" : "in " + DurationText.describe(milliseconds: -delta)
    }
}
