import JobCore
import Testing

/// The job log line and the trail record, as written and as read back.
struct OperatorTrailTests {
    @Test func theJobLogLineSaysWhoWhatAndWhy() {
        #expect(
            OperatorNote(command: "retry", actor: "alice@ops-1", reason: "provider outage over").jobLogLine
                == "jobctl retry by alice@ops-1: provider outage over")
        #expect(OperatorNote(command: "promote", actor: "bob", reason: "").jobLogLine == "jobctl promote by bob")
        let long = OperatorNote(command: "retry", actor: "a", reason: String(repeating: "é", count: 5000))
        #expect(long.reason?.count == OperatorNote.reasonLimit)
    }

    @Test func aRecordReadsBackFromItsStreamFieldsAndFromItsJSON() throws {
        let note = OperatorNote(command: "retry", actor: "alice", reason: "why")
        let record = TrailRecord(
            queue: "q", note: note, filters: .object([("state", .string("failed"))]), matched: 10, changed: 7,
            skipped: 3, startedAt: 100, endedAt: 250, interrupted: true)
        let fromStream = TrailRecord(
            queue: "q", id: "1-0",
            fields: Dictionary(uniqueKeysWithValues: record.fields.map { ($0.0, JSONValue.string($0.1)) }))
        guard case .object(let members) = record.json else {
            Issue.record("not an object")
            return
        }
        let fromJSON = TrailRecord(queue: "q", id: "9", fields: Dictionary(members, uniquingKeysWith: { a, _ in a }))
        for read in [fromStream, fromJSON] {
            var expected = record
            expected.id = read?.id
            #expect(read == expected)
        }
        // Not a record: no command or actor.
        #expect(TrailRecord(queue: "q", id: "1", fields: ["event": .string("jobctl")]) == nil)
    }
}
