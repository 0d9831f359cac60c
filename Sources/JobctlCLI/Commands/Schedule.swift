import ArgumentParser
import JobCore

struct Schedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Create or change a job scheduler (repeatable job), or run one now.",
        usage: """
            jobctl schedule [<options>] <queue> <id> (--every <d> | --cron <expr>)
              jobctl schedule [<options>] <queue> <id> --run-now
            """,
        discussion: """
            As BullMQ's Queue.upsertJobScheduler: the scheduler's record is written and its pending job replaced \
            (an unchanged --every keeps its due time; the iteration count is kept). A new --every scheduler runs \
            first at once (or at --start, or at the next slot of --offset). --cron takes five fields, or six with \
            the seconds first, as BullMQ's Python client reads them (croniter), evaluated in --tz (default UTC) \
            from the system's tz database. On the days a clock changes, a cron schedule fires at the wall-clock \
            time it names, once: a time the clock skips fires right after the gap, a time it passes twice fires \
            at its first pass (croniter, and so a Python worker, fires a daily 09:00 New York schedule at 10:00 on \
            the fall-back day and twice on the spring-forward day). --dry-run shows the next five run times.

            --run-now adds one ordinary job from the scheduler's template (name, data, options) and leaves the \
            schedule and its iteration count alone.

            Examples:
              jobctl schedule reports nightly --cron '0 3 * * *' --tz America/New_York
              jobctl schedule sync uploads --every 5s --opts '{"attempts":3}'
              jobctl schedule reports nightly --run-now
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var change: ChangeOptions

    @Argument(help: "The queue.")
    var queue: String

    @Argument(help: "The scheduler's id (BullMQ's key).")
    var id: String

    @Option(help: ArgumentHelp("Run every so long: 5s, 10m, or plain ms.", valueName: "duration"))
    var every: String?

    @Option(help: ArgumentHelp("Run at the times a cron pattern names.", valueName: "pattern"))
    var cron: String?

    @Option(help: ArgumentHelp("The time zone of --cron (default UTC).", valueName: "zone"))
    var tz: String?

    @Option(help: "The name of the jobs it makes (default: the id).")
    var name: String?

    @Option(help: ArgumentHelp("The data of the jobs it makes, as JSON.", valueName: "json"))
    var data: String?

    @Option(help: ArgumentHelp("The options of the jobs it makes (attempts, backoff, …) as JSON.", valueName: "json"))
    var opts: String?

    @Option(help: "Stop after this many runs.")
    var limit: Int64?

    @Option(help: ArgumentHelp("No run before this time (ISO 8601 or epoch ms).", valueName: "time"))
    var start: String?

    @Option(help: ArgumentHelp("No new run after this time (ISO 8601 or epoch ms).", valueName: "time"))
    var end: String?

    @Option(help: ArgumentHelp("--every only: the phase of its runs within each interval.", valueName: "duration"))
    var offset: String?

    @Flag(help: "Add one job from the scheduler's template now; the schedule stays as it is.")
    var runNow = false

    func validate() throws {
        if id.isEmpty { throw ValidationError("the scheduler id must not be empty") }
        if runNow {
            let texts = [every, cron, tz, name, data, opts, start, end, offset]
            if texts.contains(where: { $0 != nil }) || limit != nil {
                throw ValidationError("--run-now uses the scheduler as it is; give no schedule or template options")
            }
            return
        }
        if (every == nil) == (cron == nil) { throw ValidationError("give one of --every DURATION or --cron PATTERN") }
        if tz != nil && cron == nil { throw ValidationError("--tz is for --cron; an --every schedule has no zone") }
        if offset != nil && every == nil { throw ValidationError("--offset is for --every") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        try await Terminal.reportingErrors {
            let controller = try await global.connect()
            let existing = try await controller.scheduler(id, in: queue).flatMap { $0.legacy ? nil : $0 }
            if runNow {
                try await runOnce(existing, controller: controller)
            } else {
                try await upsert(try spec(), existing: existing, controller: controller)
            }
        }
    }

    private func spec() throws -> SchedulerSpec {
        let timing: SchedulerSpec.Timing
        if let every {
            guard let ms = Int64(every) ?? DurationText.milliseconds(every), ms > 0 else {
                throw ValidationError("--every '\(every)' is not a duration (examples: 500ms, 5s, 10m, or ms)")
            }
            timing = .every(milliseconds: ms)
        } else {
            timing = .cron(try CronSchedule(cron ?? ""), timeZone: try tz.map { try TimeZoneRules(identifier: $0) })
        }
        var spec = SchedulerSpec(id: id, name: name ?? id, timing: timing, limit: limit)
        spec.startDate = try start.map { try Self.time($0, option: "--start") }
        spec.endDate = try end.map { try Self.time($0, option: "--end") }
        if let offset {
            guard let ms = Int64(offset) ?? DurationText.milliseconds(offset), ms >= 0 else {
                throw ValidationError("--offset '\(offset)' is not a duration (examples: 200ms, 30s, or ms)")
            }
            spec.offset = ms
        }
        if let data {
            do {
                spec.data = try JSONValue.parse(data)
            } catch {
                throw ValidationError("--data is not JSON: \(error)")
            }
        }
        if let opts {
            let value: JSONValue
            do {
                value = try JSONValue.parse(opts)
            } catch {
                throw ValidationError("--opts is not JSON: \(error)")
            }
            guard case .object(let members) = value else { throw ValidationError("--opts must be a JSON object") }
            let owned = ["jobId", "repeat", "delay", "prevMillis", "repeatJobKey", "timestamp"]
            if let key = members.first(where: { owned.contains($0.0) })?.0 {
                throw ValidationError("--opts: '\(key)' is set by the scheduler for each job; leave it out")
            }
            spec.opts = value
        }
        return spec
    }

    /// ISO 8601 or epoch ms, as the Python client's `_to_millis` takes them.
    static func time(_ text: String, option: String) throws -> Int64 {
        if let ms = Int64(text) { return ms }
        guard text.first?.isNumber == true, text.contains("-"), let ms = Timestamps.pointInTime(text, now: 0) else {
            throw ValidationError("\(option) '\(text)' is not a time (ISO 8601 such as 2027-01-31T09:00Z, or epoch ms)")
        }
        return ms
    }

    private func upsert(_ spec: SchedulerSpec, existing: JobScheduler?, controller: any QueueStore) async throws {
        let now = currentTimeMs()
        if let reason = spec.nothingToSchedule(now: now) {
            throw NothingScheduledError(reason: reason)
        }
        var runs = spec.upcomingRuns(count: 5, now: now)
        if case .every(let ms) = spec.timing, let existing, existing.every == ms, let next = existing.next,
            [.delayed, .waiting, .prioritized].contains(existing.nextJobState)
        {
            // BullMQ keeps the pending job's time when --every does not change.
            runs = (0..<5).map { next + Int64($0) * ms }
        }
        let verb = existing == nil ? "create" : "change"
        let description = "\(verb) job scheduler '\(Cell.oneLine(id))' of queue '\(Cell.oneLine(queue))'"
        let changes = existing.map { Self.changes(from: $0, to: spec) } ?? []
        if change.dryRun {
            switch global.format {
            case .json, .jsonl:
                let value = JSONValue.object([
                    ("command", .string("schedule")), ("queue", .string(queue)), ("id", .string(id)),
                    ("dryRun", .bool(true)), ("exists", .bool(existing != nil)),
                    ("nextRuns", .array(runs.map { .int($0) })),
                    ("changes", .array(changes.map { .string($0) })),
                ])
                Terminal.write((global.format == .json ? value.prettyText : value.compactText) + "\n")
            case .text:
                var text = "would \(description): \(Self.describe(spec))\n"
                for line in changes { text += "  \(line)\n" }
                text += "next runs:\n"
                for run in runs { text += "  \(Cell.time(run)) (\(Cell.relative(run, now: now)))\n" }
                Terminal.write(text)
            }
            return
        }
        try confirmAndBeginChanges(description, options: change)
        let started = currentTimeMs()
        let (jobId, delayMs) = try await controller.upsertScheduler(spec, in: queue, now: started)
        await recordTrail(
            [QueueTally(queue: queue, matched: 1, changed: 1)], note: change.note(command: "schedule"),
            filters: .object([("id", .string(id)), ("schedule", .string(Self.describe(spec)))]), startedAt: started,
            interrupted: false, in: controller)
        let due = started + delayMs
        switch global.format {
        case .json, .jsonl:
            let value = JSONValue.object([
                ("command", .string("schedule")), ("queue", .string(queue)), ("id", .string(id)),
                ("dryRun", .bool(false)), ("created", .bool(existing == nil)), ("nextJobId", .string(jobId)),
                ("next", .int(due)), ("delayMs", .int(delayMs)),
            ])
            Terminal.write((global.format == .json ? value.prettyText : value.compactText) + "\n")
        case .text:
            Terminal.write(
                "job scheduler '\(Cell.oneLine(id))' of queue '\(Cell.oneLine(queue))' "
                    + "\(existing == nil ? "created" : "changed"): next run \(Cell.time(due)) "
                    + "(\(Cell.relative(due, now: started))), job \(Cell.oneLine(jobId))\n")
        }
    }

    private func runOnce(_ scheduler: JobScheduler?, controller: any QueueStore) async throws {
        guard let scheduler else { throw NoSuchSchedulerError(queue: queue, ids: [id]) }
        let job = Self.job(from: scheduler, now: currentTimeMs())
        let description =
            "add one job '\(Cell.oneLine(job.name))' to queue '\(Cell.oneLine(queue))' from job scheduler "
            + "'\(Cell.oneLine(id))'"
        if change.dryRun {
            printDryRun(
                command: "schedule", description: description, queue: queue,
                selection: Selection(entries: [.init(id: "(new)", name: job.name, error: nil)]), format: global.format)
            return
        }
        try confirmAndBeginChanges(description, options: change)
        let started = currentTimeMs()
        let added = try await controller.add([job], to: queue, note: change.jobNote(command: "schedule"))
        let jobId = added.first?.id ?? "?"
        await recordTrail(
            [QueueTally(queue: queue, matched: 1, changed: added.count)], note: change.note(command: "schedule"),
            filters: .object([("id", .string(id)), ("runNow", .bool(true))]), startedAt: started, interrupted: false,
            in: controller)
        switch global.format {
        case .json, .jsonl:
            let value = JSONValue.object([
                ("command", .string("schedule")), ("queue", .string(queue)), ("id", .string(id)),
                ("dryRun", .bool(false)), ("runNow", .bool(true)), ("jobId", .string(jobId)),
            ])
            Terminal.write((global.format == .json ? value.prettyText : value.compactText) + "\n")
        case .text:
            Terminal.write(
                "job \(Cell.oneLine(jobId)) added from job scheduler '\(Cell.oneLine(id))'; its schedule is unchanged\n"
            )
        }
    }

    /// An ordinary job from a scheduler's template, as bull-board's "run now" adds it: no scheduler fields.
    static func job(from scheduler: JobScheduler, now: Int64) -> NewJob {
        var job = NewJob(name: scheduler.name, data: scheduler.templateData ?? .object([]), timestamp: now)
        guard case .object(let members)? = scheduler.templateOpts else { return job }
        for (key, value) in members {
            switch (key, value) {
            case ("attempts", _) where value.integerValue != nil: job.attempts = value.integerValue
            case ("priority", _) where value.integerValue != nil: job.priority = value.integerValue ?? 0
            case ("delay", _) where value.integerValue != nil: job.delayMs = value.integerValue ?? 0
            case ("lifo", .bool(let flag)): job.lifo = flag
            case ("backoff", .number):
                job.backoff = value.integerValue.map { Backoff(type: "fixed", delayMs: $0) }
            default: job.otherOptions[key] = value
            }
        }
        return job
    }

    /// `every 5s`, `cron '0 3 * * *' in America/New_York`, with the limit and dates.
    static func describe(_ spec: SchedulerSpec) -> String {
        var text: String
        switch spec.timing {
        case .every(let ms): text = "every \(DurationText.describe(milliseconds: ms))"
        case .cron(let schedule, let zone):
            text = "cron '\(Cell.oneLine(schedule.pattern))' in \(zone?.identifier ?? "UTC")"
        }
        if let limit = spec.limit { text += ", at most \(limit) runs" }
        if let start = spec.startDate { text += ", from \(Cell.time(start))" }
        if let end = spec.endDate { text += ", until \(Cell.time(end))" }
        return text + ", jobs named '\(Cell.oneLine(spec.name))'"
    }

    /// What an upsert changes in an existing scheduler, one line per field.
    static func changes(from old: JobScheduler, to spec: SchedulerSpec) -> [String] {
        var lines: [String] = []
        func compare(_ field: String, _ before: String?, _ after: String?) {
            if before != after { lines.append("\(field): \(before ?? "-") → \(after ?? "-")") }
        }
        var pattern: String?
        var zone: String?
        var every: Int64?
        switch spec.timing {
        case .every(let ms): every = ms
        case .cron(let schedule, let rules):
            pattern = schedule.pattern
            zone = rules?.identifier
        }
        compare("name", Cell.oneLine(old.name), Cell.oneLine(spec.name))
        compare(
            "every", old.every.map { DurationText.describe(milliseconds: $0) },
            every.map { DurationText.describe(milliseconds: $0) })
        compare("pattern", old.pattern.map { Cell.oneLine($0) }, pattern.map { Cell.oneLine($0) })
        compare("tz", old.timeZone, zone)
        compare("limit", old.limit.map(String.init), spec.limit.map(String.init))
        compare("start", old.startDate.map(Cell.time), spec.startDate.map(Cell.time))
        compare("end", old.endDate.map(Cell.time), spec.endDate.map(Cell.time))
        let data = spec.data == .object([]) ? nil : spec.data
        compare(
            "data", old.templateData.map { Cell.oneLine($0.compactText) }, data.map { Cell.oneLine($0.compactText) })
        let opts = spec.opts == .object([]) ? nil : spec.opts
        compare(
            "opts", old.templateOpts.map { Cell.oneLine($0.compactText) }, opts.map { Cell.oneLine($0.compactText) })
        return lines
    }
}
