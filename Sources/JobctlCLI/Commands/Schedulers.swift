import ArgumentParser
import JobCore

struct Schedulers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedulers",
        abstract: "List the job schedulers (repeatable jobs): schedule, next and last run, runs, health.",
        usage: "jobctl schedulers [<options>] [<queues> ...]",
        discussion: """
            Every job scheduler of the queues (default: every queue), soonest next run first, as BullMQ's \
            getJobSchedulers lists them. NEXT is when the pending job is due; LAST the newest finished run found \
            (on Redis among the 1000 newest completed and failed jobs); RUNS the iterations so far, against the \
            limit. STATE: ok; overdue (its job is due longer than --grace ago and nothing takes it: no worker, \
            or the queue is paused); stuck (its next job is gone or finished although neither limit nor end date \
            is reached: it never fires again; re-create it with jobctl schedule); finished (limit or end date \
            reached; BullMQ keeps such schedulers); legacy (a repeatable job of BullMQ 5 or older).

            -o json and jsonl give the client's field names (key, name, next, iterationCount, limit, startDate, \
            endDate, tz, pattern, every, offset, template) plus queue, state, nextJobId, nextJobState and last.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The queues (default: every queue).")
    var queues: [String] = []

    @Option(help: ArgumentHelp("How late a pending job may be before it counts as overdue.", valueName: "duration"))
    var grace = "1m"

    func validate() throws {
        guard DurationText.milliseconds(grace) != nil else {
            throw ValidationError("--grace '\(grace)' is not a duration (examples: 30s, 5m)")
        }
    }

    func run() async throws {
        try await Terminal.reportingErrors {
            let inspector = try await global.connect()
            let names = try await inspector.queues(named: queues)
            let schedulers = try await inspector.schedulers(of: names, lastRuns: true)
            let now = currentTimeMs()
            let graceMs = DurationText.milliseconds(grace) ?? 60_000
            switch global.format {
            case .json:
                let document = JSONValue.object([
                    ("location", .string(inspector.location)),
                    ("schedulers", .array(schedulers.map { Self.shape($0, now: now, graceMs: graceMs) })),
                ])
                Terminal.write(document.prettyText + "\n")
            case .jsonl:
                Terminal.write(
                    schedulers.map { Self.shape($0, now: now, graceMs: graceMs).compactText + "\n" }.joined())
            case .text:
                guard !schedulers.isEmpty else {
                    let scope =
                        queues.isEmpty ? "" : " in " + queues.map { "'\(Cell.oneLine($0))'" }.joined(separator: ", ")
                    Terminal.writeError("no job scheduler\(scope) at \(inspector.location)\n")
                    return
                }
                Terminal.write(Self.table(schedulers, now: now, graceMs: graceMs).render())
            }
        }
    }

    static func table(_ schedulers: [JobScheduler], now: Int64, graceMs: Int64) -> TextTable {
        var table = TextTable([
            ("QUEUE", .left), ("ID", .left), ("NAME", .left), ("SCHEDULE", .left), ("TZ", .left), ("NEXT", .left),
            ("LAST", .left), ("RUNS", .right), ("STATE", .left),
        ])
        for scheduler in schedulers {
            let last = scheduler.last.map { "\($0.state.rawValue) \(Cell.relative($0.finishedOn, now: now))" } ?? "-"
            let runs = scheduler.iterationCount.map { count in scheduler.limit.map { "\(count)/\($0)" } ?? "\(count)" }
            table.append([
                Cell.oneLine(scheduler.queue), Cell.oneLine(scheduler.id), Cell.oneLine(scheduler.name),
                schedule(of: scheduler), scheduler.timeZone.map { Cell.oneLine($0) } ?? "-",
                scheduler.next.map { "\(Cell.time($0)) (\(Cell.relative($0, now: now)))" } ?? "-", last, runs ?? "-",
                scheduler.health(now: now, graceMs: graceMs).rawValue,
            ])
        }
        return table
    }

    /// `*/5 * * * *`, or `every 5s` (`+200ms` for an offset).
    static func schedule(of scheduler: JobScheduler) -> String {
        if let pattern = scheduler.pattern { return Cell.oneLine(pattern) }
        guard let every = scheduler.every else { return "-" }
        var text = "every \(DurationText.describe(milliseconds: every))"
        if let offset = scheduler.offset, offset != 0 { text += " +\(DurationText.describe(milliseconds: offset))" }
        return text
    }

    /// The Python client's getJobSchedulers fields, then jobctl's.
    static func shape(_ scheduler: JobScheduler, now: Int64, graceMs: Int64) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("queue", .string(scheduler.queue)), ("key", .string(scheduler.id)), ("name", .string(scheduler.name)),
            ("next", .optionalInt(scheduler.next)),
        ]
        func add(_ key: String, _ value: JSONValue?) { if let value { members.append((key, value)) } }
        add("iterationCount", scheduler.iterationCount.map { .int($0) })
        add("limit", scheduler.limit.map { .int($0) })
        add("startDate", scheduler.startDate.map { .int($0) })
        add("endDate", scheduler.endDate.map { .int($0) })
        add("tz", scheduler.timeZone.map { .string($0) })
        add("pattern", scheduler.pattern.map { .string($0) })
        add("every", scheduler.every.map { .int($0) })
        add("offset", scheduler.offset.map { .int($0) })
        if scheduler.templateData != nil || scheduler.templateOpts != nil {
            var template: [(String, JSONValue)] = []
            if let data = scheduler.templateData { template.append(("data", data)) }
            if let opts = scheduler.templateOpts { template.append(("opts", opts)) }
            members.append(("template", .object(template)))
        }
        members += [
            ("state", .string(scheduler.health(now: now, graceMs: graceMs).rawValue)),
            ("nextJobId", .optionalString(scheduler.nextJobId)),
            ("nextJobState", .optionalString(scheduler.nextJobState?.rawValue)),
            (
                "last",
                scheduler.last.map { last in
                    .object([
                        ("jobId", .string(last.jobId)), ("state", .string(last.state.rawValue)),
                        ("finishedOn", .int(last.finishedOn)),
                    ])
                } ?? .null
            ),
        ]
        return .object(members)
    }
}
