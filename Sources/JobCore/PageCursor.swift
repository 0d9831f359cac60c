import FoundationEssentials

/// An opaque paging position: which listing it belongs to and where the previous page ended.
///
/// Printed as base64url so that it survives shells and URLs unchanged.
public struct PageCursor: Sendable, Equatable {
    /// The state listed; a cursor from another state's listing is refused.
    public var state: JobState
    /// The sort key of the last job shown (a score, a position, a timestamp), as text.
    public var position: String
    /// The id of the last job shown.
    public var lastId: String

    public init(state: JobState, position: String, lastId: String) {
        self.state = state
        self.position = position
        self.lastId = lastId
    }

    public var encoded: String {
        let json = JSONValue.object([
            ("v", .int(1)), ("s", .string(state.rawValue)), ("p", .string(position)), ("id", .string(lastId)),
        ])
        // base64url without padding: safe to paste into a shell and a URL.
        let base64 = Data(json.compactText.utf8).base64EncodedString()
        return String(base64.compactMap { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 == "=" ? nil : $0 })
    }

    /// Decodes a cursor made by `encoded` for a listing of `state`.
    public init(decoding text: String, for state: JobState) throws(InvalidCursorError) {
        var base64 = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let value = try? JSONValue.parse(bytes: Array(data)),
            case .number("1") = value["v"], case .string(let stateName) = value["s"],
            case .string(let position) = value["p"], case .string(let lastId) = value["id"]
        else { throw InvalidCursorError(reason: "not a cursor made by jobctl") }
        guard stateName == state.rawValue else {
            throw InvalidCursorError(reason: "it continues a listing of '\(stateName)', not '\(state.rawValue)'")
        }
        self.init(state: state, position: position, lastId: lastId)
    }
}
