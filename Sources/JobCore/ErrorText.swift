/// Failure reasons with the parts that differ between occurrences of the same error taken out.
public enum ErrorText {
    /// First line only; numbers become `<n>` and id-like tokens (hex, UUIDs) `<id>`; at most 120 characters.
    public static func normalized(_ reason: String) -> String {
        let line = reason.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        var out = ""
        var token = ""
        func flush() {
            defer { token = "" }
            guard !token.isEmpty else { return }
            let hexDigits = token.filter(\.isHexDigit).count
            let digits = token.filter(\.isNumber).count
            if token.count >= 8, digits > 0, hexDigits + token.filter({ $0 == "-" }).count == token.count {
                out += "<id>"
            } else if digits == token.count {
                out += "<n>"
            } else if digits > 0 && token.count >= 6 && Double(digits) / Double(token.count) >= 0.5 {
                out += "<id>"
            } else {
                out += token
            }
        }
        for character in line {
            if character.isLetter || character.isNumber || character == "-" || character == "_" {
                token.append(character)
            } else {
                flush()
                out.append(character)
            }
        }
        flush()
        return out.count > 120 ? String(out.prefix(119)) + "…" : out
    }
}
