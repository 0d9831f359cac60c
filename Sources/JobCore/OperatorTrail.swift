/// Who changed a queue and why (`--actor`, `--reason`): written with the change, into the log of every job it
/// changes (BullMQ's job log, which bull-board and `jobctl show` display) and as one record of the whole command.
public struct OperatorNote: Sendable, Equatable {
    /// The command (`retry`, `promote`, …).
    public var command: String
    public var actor: String
    public var reason: String?

    /// At most this many characters of a reason are kept (a reason is a sentence, not a payload).
    public static let reasonLimit = 1000

    public init(command: String, actor: String, reason: String?) {
        self.command = command
        self.actor = actor
        self.reason = reason.map { String($0.prefix(Self.reasonLimit)) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The line each changed job's log gets: `jobctl retry by alice@ops-1: provider outage over`.
    public var jobLogLine: String {
        "jobctl \(command) by \(actor)" + (reason.map { ": \($0)" } ?? "")
    }
}

/// One command's record on one queue: what it was asked, what it did, who and why.
public struct TrailRecord: Sendable, Equatable {
    /// Where the store keeps it (the stream entry's or the event's id); nil before it is written.
    public var id: String?
    public var queue: String
    public var command: String
    public var actor: String
    public var reason: String?
    /// The options that chose what to change (`--error-match`, `--since`, ids, …), as given.
    public var filters: JSONValue
    public var matched: Int
    public var changed: Int
    public var skipped: Int
    public var startedAt: Int64
    public var endedAt: Int64
    /// Stopped before the end (Ctrl-C, the server lost): `changed` is what it did.
    public var interrupted: Bool

    public init(
        queue: String, note: OperatorNote, filters: JSONValue, matched: Int, changed: Int, skipped: Int,
        startedAt: Int64, endedAt: Int64, interrupted: Bool
    ) {
        self.queue = queue
        self.command = note.command
        self.actor = note.actor
        self.reason = note.reason
        self.filters = filters
        self.matched = matched
        self.changed = changed
        self.skipped = skipped
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.interrupted = interrupted
    }

    /// The name of the event the record is: BullMQ uses none like it, and its clients pass unknown ones on as they
    /// are.
    public static let eventName = "jobctl"

    /// The record's fields as text, as a Redis stream entry holds them (after `event`).
    public var fields: [(String, String)] {
        var pairs: [(String, String)] = [("command", command), ("actor", actor)]
        if let reason { pairs.append(("reason", reason)) }
        pairs += [
            ("filters", filters.compactText), ("matched", String(matched)), ("changed", String(changed)),
            ("skipped", String(skipped)), ("startedAt", String(startedAt)), ("endedAt", String(endedAt)),
            ("interrupted", interrupted ? "true" : "false"),
        ]
        return pairs
    }

    /// The record as JSON (the PostgreSQL event's data; `jobctl trail -o json`).
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("command", .string(command)), ("actor", .string(actor))]
        members.append(("reason", reason.map { .string($0) } ?? .null))
        members += [
            ("filters", filters), ("matched", .int(matched)), ("changed", .int(changed)), ("skipped", .int(skipped)),
            ("startedAt", .int(startedAt)), ("endedAt", .int(endedAt)), ("interrupted", .bool(interrupted)),
        ]
        return .object(members)
    }

    /// A record read back from its fields (stream entry) or its JSON (event data); nil when it is not one.
    public init?(queue: String, id: String, fields: [String: JSONValue]) {
        func text(_ key: String) -> String? {
            switch fields[key] {
            case .string(let value)?: return value
            case .number(let value)?: return value
            case .bool(let value)?: return value ? "true" : "false"
            default: return nil
            }
        }
        func number(_ key: String) -> Int64? { text(key).flatMap { Int64($0) } }
        guard let command = text("command"), let actor = text("actor") else { return nil }
        self.id = id
        self.queue = queue
        self.command = command
        self.actor = actor
        self.reason = text("reason")
        switch fields["filters"] {
        case .string(let raw)?: self.filters = (try? JSONValue.parse(raw)) ?? .string(raw)
        case let value?: self.filters = value
        case nil: self.filters = .object([])
        }
        self.matched = Int(number("matched") ?? 0)
        self.changed = Int(number("changed") ?? 0)
        self.skipped = Int(number("skipped") ?? 0)
        self.startedAt = number("startedAt") ?? 0
        self.endedAt = number("endedAt") ?? 0
        self.interrupted = text("interrupted") == "true"
    }
}
