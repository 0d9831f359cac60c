import JobCore
import Testing

@Suite struct JSONValueTests {
    @Test(arguments: [
        "{}", "[]", "null", "true", "0", "-1.5e10", "\"a\\u00e9\\ud83d\\ude00\"",
        "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}",
        "12345678901234567890123",
    ])
    func roundTripsCompactText(_ text: String) throws {
        let value = try JSONValue.parse(text)
        #expect(try JSONValue.parse(value.compactText) == value)
    }

    @Test func keepsBigIntegersAndKeyOrderExactly() throws {
        let value = try JSONValue.parse(#"{"z":1,"id":9007199254740993123,"a":2}"#)
        #expect(value.compactText == #"{"z":1,"id":9007199254740993123,"a":2}"#)
    }

    @Test(arguments: [
        "", "{", "{not json", "[1,]", "{\"a\" 1}", "01", "1.", "tru", "\"\\x\"", "\"\u{01}\"", "\"\\ud800\"", "[1] x",
        String(repeating: "[", count: 600) + String(repeating: "]", count: 600),
    ])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func rejectsInvalidUTF8InStrings() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(bytes: [0x22, 0xFF, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(bytes: [0x22, 0x61, 0x5C, 0x6E, 0xC3, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(bytes: [0x22, 0xC3, 0x5C, 0x6E, 0xA9, 0x22]) }
    }

    /// A stack trace of megabytes with an escape every few bytes (each escape once copied the whole string).
    @Test func parsesLongEscapedStringsWhole() throws {
        let frame = "at handler (wörker.js:17)"
        let count = 200_000
        let text = "[\"" + String(repeating: frame + "\\n\\u00e9\\\"", count: count) + "\"]"
        let value = try JSONValue.parse(text)
        #expect(value == .array([.string(String(repeating: frame + "\né\"", count: count))]))
    }

    @Test func escapesControlCharactersWhenPrinting() {
        #expect(JSONValue.string("a\n\"b\"\u{01}").compactText == #""a\n\"b\"\u0001""#)
    }

    @Test func prettyTextIndentsByTwoSpaces() throws {
        let value = try JSONValue.parse(#"{"a":[1,2],"b":{}}"#)
        #expect(value.prettyText == "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}")
    }

    @Test func storedJSONKeepsInvalidTextAndSaysWhy() {
        guard case .invalid(let raw, let reason) = StoredJSON(raw: "{oops") else {
            Issue.record("expected invalid")
            return
        }
        #expect(raw == "{oops")
        #expect(reason.contains("byte 1"))
        #expect(StoredJSON(raw: "{oops").displayValue == .string("{oops"))
    }
}
