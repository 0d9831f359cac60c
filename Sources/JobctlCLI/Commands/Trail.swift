import ArgumentParser
import JobCore

struct Trail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trail",
        abstract: "List who changed the queues with jobctl, when, how much and why; newest first.",
        usage: "jobctl trail [<options>] [<queues> ...] [--since <time>] [--limit <n>]",
        discussion: """
            Every change command (retry, promote, remove, drain, clean, pause, resume, add, schedule, \
            unschedule, tune --apply) leaves one record per queue it changed: the command, the options that \
            chose the jobs, how many matched, changed and were skipped, --actor (default $JOBCTL_ACTOR, else \
            user@host) and --reason ($JOBCTL_REASON), start and end, and whether it was stopped midway (then \
            the counts are what it did). Given a reason, retry, promote and add also write a line into each \
            changed job's log \
            ('jobctl retry by alice@ops-1: provider outage over'), which bull-board and jobctl show display.

            The records are events of the queue named 'jobctl' (Redis: the queue's events stream; PostgreSQL: \
            the schema's event table), which BullMQ's clients pass by. Like BullMQ's own events they are capped \
            (about the newest 10,000 events of the queue) and go with the queue when it is obliterated: a trail \
            of what happened lately, not an archive. --dry-run records nothing.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The queues (default: every queue).")
    var queues: [String] = []

    @Option(
        help: ArgumentHelp(
            "Only records of commands that ended since then (2h, ISO 8601, epoch ms).", valueName: "time"))
    var since: PointInTime?

    @Option(help: "At most this many records.")
    var limit = 100

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        try await Terminal.reportingErrors {
            let inspector = try await global.connect()
            let names = try await inspector.queues(named: queues)
            let records = try await inspector.trail(of: names, since: since?.milliseconds, limit: limit)
            let now = currentTimeMs()
            switch global.format {
            case .json:
                let document = JSONValue.object([
                    ("location", .string(inspector.location)), ("records", .array(records.map(Self.shape))),
                ])
                Terminal.write(document.prettyText + "\n")
            case .jsonl:
                Terminal.write(records.map { Self.shape($0).compactText + "\n" }.joined())
            case .text:
                guard !records.isEmpty else {
                    Terminal.writeError("no jobctl change recorded at \(inspector.location)\n")
                    return
                }
                var table = TextTable([
                    ("ENDED", .left), ("QUEUE", .left), ("COMMAND", .left), ("ACTOR", .left), ("CHANGED", .right),
                    ("SKIPPED", .right), ("REASON", .left),
                ])
                for record in records {
                    table.append([
                        "\(Cell.time(record.endedAt)) (\(Cell.relative(record.endedAt, now: now)))",
                        Cell.oneLine(record.queue), record.command + (record.interrupted ? " (stopped)" : ""),
                        Cell.oneLine(record.actor, limit: 60), "\(record.changed) of \(record.matched)",
                        String(record.skipped), record.reason.map { Cell.oneLine($0, limit: 80) } ?? "-",
                    ])
                }
                Terminal.write(table.render())
            }
        }
    }

    static func shape(_ record: TrailRecord) -> JSONValue {
        guard case .object(let members) = record.json else { return record.json }
        return .object([("queue", .string(record.queue)), ("id", .optionalString(record.id))] + members)
    }
}
