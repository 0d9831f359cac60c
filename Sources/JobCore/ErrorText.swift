/// Failure reasons with the parts that differ between occurrences of the same error taken out.
public enum ErrorText {
    /// First line only; numbers become `<n>` and id-like tokens (hex, UUIDs) `<id>`; at most 120 characters.
    /// Works on Unicode scalars, not Characters: `stats` runs it over a thousand reasons, and grapheme breaking
    /// cost more than the whole count of a big queue's small states.
    public static func normalized(_ reason: String) -> String {
        var out = String.UnicodeScalarView()
        var token: [Unicode.Scalar] = []
        func flush() {
            defer { token.removeAll(keepingCapacity: true) }
            guard !token.isEmpty else { return }
            var digits = 0
            var hexOrDash = 0
            for scalar in token {
                if isNumber(scalar) { digits += 1 }
                if scalar.isASCII && (scalar.properties.isASCIIHexDigit || scalar == "-") { hexOrDash += 1 }
            }
            if token.count >= 8, digits > 0, hexOrDash == token.count {
                out.append(contentsOf: "<id>".unicodeScalars)
            } else if digits == token.count {
                out.append(contentsOf: "<n>".unicodeScalars)
            } else if digits > 0 && token.count >= 6 && Double(digits) / Double(token.count) >= 0.5 {
                out.append(contentsOf: "<id>".unicodeScalars)
            } else {
                out.append(contentsOf: token)
            }
        }
        for scalar in reason.unicodeScalars {
            if isNewline(scalar) {
                if out.isEmpty && token.isEmpty { continue }  // the first line with something on it
                break
            }
            // A combining mark belongs to the word it follows, as it would in the Character it is part of.
            if isWordPart(scalar) || (!token.isEmpty && isMark(scalar)) {
                token.append(scalar)
            } else {
                flush()
                out.append(scalar)
            }
        }
        flush()
        let text = String(out)
        guard out.count > 120, text.count > 120 else { return text }
        return String(text.prefix(119)) + "…"
    }

    private static func isWordPart(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let byte = UInt8(scalar.value)
            return (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2D || byte == 0x5F
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return isNumber(scalar)
        }
    }

    private static func isNumber(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar.value >= 0x30 && scalar.value <= 0x39 }
        switch scalar.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    private static func isMark(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return false }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return scalar.properties.isVariationSelector || scalar.properties.isJoinControl
        }
    }

    private static func isNewline(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029: return true
        default: return false
        }
    }
}
