import FoundationEssentials
import JobCore

/// Text arrays in PostgreSQL's text format, to bind a list as one parameter (`$1::text[]`) and to read one back.
enum PostgresArray {
    /// `{"a","b \"c\""}`: every element quoted, so no element can end the array or add one.
    static func literal(_ elements: [String]) -> String {
        let quoted = elements.map { element -> String in
            // By scalar, not Character: a quote followed by a combining mark is one Character but still a quote.
            var text = String.UnicodeScalarView()
            text.append("\"")
            for scalar in element.unicodeScalars {
                if scalar == "\\" || scalar == "\"" { text.append("\\") }
                text.append(scalar)
            }
            text.append("\"")
            return String(text)
        }
        return "{" + quoted.joined(separator: ",") + "}"
    }

    /// Reads a one-dimensional text array as the server prints it; unquoted NULL elements are dropped.
    static func parse(_ text: String) -> [String] {
        var elements: [String] = []
        var characters = Substring(text)
        guard characters.first == "{", characters.last == "}" else { return [] }
        characters = characters.dropFirst().dropLast()
        var current = ""
        var quoted = false
        var wasQuoted = false
        var escaped = false
        for character in characters {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
                wasQuoted = true
            } else if character == "," && !quoted {
                if wasQuoted || current != "NULL" { elements.append(current) }
                current = ""
                wasQuoted = false
            } else {
                current.append(character)
            }
        }
        if !characters.isEmpty, wasQuoted || current != "NULL" { elements.append(current) }
        return elements
    }
}
