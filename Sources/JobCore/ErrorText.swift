/// Failure reasons with the parts that differ between occurrences of the same error taken out.
public enum ErrorText {
    /// The longest fingerprint, in characters; longer ones end with "…".
    public static let maximumLength = 120
    /// The most Unicode scalars read from a reason.
    ///
    /// A fingerprint keeps at most 120 characters of the first line, so a reason of megabytes (a handler that put a
    /// whole response body in its error) costs no more than this.
    public static let scanLimit = 4096

    /// The start of a reason that a fingerprint reads: all that analyses need to keep of it.
    public static func readPart(_ reason: String) -> String {
        let scalars = reason.unicodeScalars
        guard let end = scalars.index(scalars.startIndex, offsetBy: scanLimit, limitedBy: scalars.endIndex),
            end != scalars.endIndex
        else { return reason }
        return String(scalars[..<end])
    }

    /// First line only; numbers become `<n>` and id-like tokens (hex, UUIDs) `<id>`; at most 120 characters.
    ///
    /// Works on Unicode scalars, not Characters: `stats` runs it over a thousand reasons, and grapheme breaking cost
    /// more than the whole count of a big queue's small states.
    public static func normalized(_ reason: String) -> String {
        normalized(scalars: reason.unicodeScalars)
    }

    /// The same over any scalars; reads at most `scanLimit` of them (tests count them).
    public static func normalized(scalars: some Sequence<Unicode.Scalar>) -> String {
        var builder = Builder()
        for scalar in scalars.prefix(scanLimit) {
            if isNewline(scalar) {
                if builder.isEmpty { continue }  // the first line with something on it
                break
            }
            builder.append(scalar)
        }
        builder.flush()
        var text = ""
        text.unicodeScalars.append(contentsOf: builder.output)
        guard builder.output.count > maximumLength, text.count > maximumLength else { return text }
        return String(text.prefix(maximumLength - 1)) + "…"
    }

    /// Collects the output and the word being read; both stay within a few times `scanLimit` scalars.
    private struct Builder {
        var output: [Unicode.Scalar] = []
        var token: [Unicode.Scalar] = []

        var isEmpty: Bool { output.isEmpty && token.isEmpty }

        mutating func append(_ scalar: Unicode.Scalar) {
            // A combining mark belongs to the word it follows, as it would in the Character it is part of.
            if isWordPart(scalar) || (!token.isEmpty && isMark(scalar)) {
                token.append(scalar)
            } else {
                flush()
                output.append(scalar)
            }
        }

        mutating func flush() {
            defer { token.removeAll(keepingCapacity: true) }
            guard !token.isEmpty else { return }
            var digits = 0
            var hexOrDash = 0
            for scalar in token {
                if isNumber(scalar) { digits += 1 }
                if scalar.isASCII && (scalar.properties.isASCIIHexDigit || scalar == "-") { hexOrDash += 1 }
            }
            if token.count >= 8, digits > 0, hexOrDash == token.count {
                output.append(contentsOf: "<id>".unicodeScalars)
            } else if digits == token.count {
                output.append(contentsOf: "<n>".unicodeScalars)
            } else if digits > 0 && token.count >= 6 && Double(digits) / Double(token.count) >= 0.5 {
                output.append(contentsOf: "<id>".unicodeScalars)
            } else {
                output.append(contentsOf: token)
            }
        }
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
