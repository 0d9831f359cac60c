import ArgumentParser
import Glibc
import JobCore

struct Add: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a job, or many from a JSON Lines file, as BullMQ's Queue.add does.",
        discussion: """
            The job is stored with the fields and options BullMQ's own client writes, so that any BullMQ \
            worker runs it. Adding to a queue that does not exist yet creates it, as BullMQ does.

            With --from, each line of the file ('-' for stdin) is one job in the shape of BullMQ's addBulk: \
            {"name": "send", "data": {…}, "opts": {"delay": 5000, "priority": 3, "attempts": 5, \
            "backoff": {"type": "exponential", "delay": 1000}, "jobId": "x", "lifo": true}}. Every line is \
            checked before anything is added; a bad line is reported with its number.

            Examples:
              jobctl add emails send --data '{"to":"ops@example.com"}' \\
                  --attempts 3 --backoff exponential:1s --yes
              jobctl add emails --from jobs.jsonl --yes
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var change: ChangeOptions

    @Argument(help: "The queue.")
    var queue: String

    @Argument(help: "The job's name (not with --from).")
    var name: String?

    @Option(help: ArgumentHelp("The job's data, as JSON.", valueName: "json"))
    var data: String?

    @Option(help: ArgumentHelp("Run it no earlier than this from now, e.g. 30s.", valueName: "duration"))
    var delay: String?

    @Option(help: "Priority: 1 (highest) to 2097152; 0 or none is plain FIFO, before any prioritized job.")
    var priority: Int64?

    @Option(help: "Attempts in all before the job fails for good.")
    var attempts: Int64?

    @Option(help: ArgumentHelp("Wait between attempts: 1000 (ms), fixed:5s or exponential:1s.", valueName: "backoff"))
    var backoff: BackoffArgument?

    @Option(help: "A job id of your own; a job with this id that already exists is left as it is.")
    var jobId: String?

    @Flag(help: "Last in, first out: workers take this job before the waiting ones.")
    var lifo = false

    @Option(
        name: .customLong("from"),
        help: ArgumentHelp("Add the jobs of a JSON Lines file ('-' reads stdin).", valueName: "file"))
    var file: String?

    func validate() throws {
        if file != nil {
            if name != nil || data != nil || delay != nil || priority != nil || attempts != nil || backoff != nil
                || jobId != nil || lifo
            {
                throw ValidationError(
                    "--from takes every job's name and options from the file; give no name or job options")
            }
        } else if name == nil {
            throw ValidationError("give the job's name, or --from FILE")
        }
    }

    func run() async throws {
        try await Terminal.reportingErrors {
            Interruption.install()
            let jobs = try file.map(Self.readJobs) ?? [try singleJob()]
            let controller = try await global.connect()
            var selection = Selection()
            for job in jobs { selection.entries.append(.init(id: job.id ?? "(new)", name: job.name)) }
            let description =
                jobs.count == 1
                ? "add job '\(jobs[0].name)' to queue '\(queue)'"
                : "add \(jobs.count) jobs to queue '\(queue)'"
            if change.dryRun {
                printDryRun(
                    command: "add", description: description, queue: queue, selection: selection, format: global.format)
                return
            }
            var summary = ChangeSummary(command: "add", verb: "added", queue: queue, matched: jobs.count)
            var added: [String] = []
            if !jobs.isEmpty {
                try confirmAndBeginChanges(description, options: change)
                let note = change.note(command: "add")
                let jobNote = change.jobNote(command: "add")
                let progress = Progress(total: jobs.count, verb: "adding")
                for batch in jobs.batches(of: controller.batchSize) {
                    if Interruption.isRequested {
                        summary.interrupted = true
                        break
                    }
                    for job in try await controller.add(Array(batch), to: queue, note: jobNote) {
                        if job.duplicate {
                            summary.record(
                                BatchOutcome(skipped: [
                                    SkippedJob(id: job.id, reason: "a job with this id already exists")
                                ]))
                        } else {
                            summary.changed += 1
                            added.append(job.id)
                        }
                    }
                    progress.update(summary.changed)
                }
                progress.finish()
                let filters: JSONValue = file.map { .object([("from", .string($0))]) } ?? .object([])
                await summary.recordTrail(note: note, filters: filters, in: controller)
            }
            summary.extra = [("ids", .array(added.map { .string($0) }))]
            if global.format == .text && added.count == 1 { Terminal.write("job \(added[0])\n") }
            try summary.finish(
                format: global.format,
                resumeHint: "the jobs added so far stay; remove those lines from the file before running it again")
        }
    }

    private func singleJob() throws -> NewJob {
        let delayMs: Int64
        if let delay {
            guard let ms = DurationText.milliseconds(delay) else {
                throw ValidationError("--delay '\(delay)' is not a duration (examples: 500ms, 30s, 5m)")
            }
            delayMs = ms
        } else {
            delayMs = 0
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(data ?? "{}")
        } catch {
            throw ValidationError("--data is not JSON: \(error)")
        }
        let job = NewJob(
            name: name ?? "", data: value, id: jobId, delayMs: delayMs, priority: priority ?? 0, attempts: attempts,
            backoff: backoff?.backoff, lifo: lifo, timestamp: currentTimeMs())
        try Self.check(job, where: "")
        return job
    }

    /// Checks what BullMQ would refuse or misread.
    private static func check(_ job: NewJob, where place: String) throws {
        if job.name.isEmpty { throw ValidationError("\(place)the job needs a name") }
        if !(0...2_097_152).contains(job.priority) {
            throw ValidationError("\(place)priority must be between 0 and 2097152")
        }
        if let attempts = job.attempts, attempts < 1 { throw ValidationError("\(place)attempts must be at least 1") }
        if job.delayMs < 0 { throw ValidationError("\(place)delay must not be negative") }
        if let id = job.id {
            if id.isEmpty { throw ValidationError("\(place)jobId must not be empty") }
            if Int64(id) != nil {
                throw ValidationError(
                    "\(place)jobId '\(id)' is a number: BullMQ's own ids are numbers, so it could collide with one; "
                        + "use another id"
                )
            }
            if id.contains(":") {
                throw ValidationError("\(place)jobId '\(id)' contains ':', which BullMQ's keys cannot hold")
            }
        }
    }

    /// Reads and checks every line first, so that a bad line adds nothing.
    private static func readJobs(from path: String) throws -> [NewJob] {
        let text = try readText(path)
        var jobs: [NewJob] = []
        let now = currentTimeMs()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharactersInWhitespace()
            if trimmed.isEmpty { continue }
            let place = "\(path == "-" ? "stdin" : path) line \(index + 1): "
            let value: JSONValue
            do {
                value = try JSONValue.parse(trimmed)
            } catch {
                throw ValidationError("\(place)not JSON: \(error)")
            }
            guard case .object(let members) = value else { throw ValidationError("\(place)expected a JSON object") }
            var name: String?
            var data = JSONValue.object([])
            var job = NewJob(name: "", data: data, timestamp: now)
            for (key, member) in members {
                switch key {
                case "name":
                    guard case .string(let text) = member else {
                        throw ValidationError("\(place)name must be a string")
                    }
                    name = text
                case "data": data = member
                case "opts": try applyOptions(member, to: &job, place: place)
                default: throw ValidationError("\(place)unknown key '\(key)' (expected name, data, opts)")
                }
            }
            job.name = name ?? ""
            job.data = data
            try check(job, where: place)
            jobs.append(job)
        }
        return jobs
    }

    private static func applyOptions(_ value: JSONValue, to job: inout NewJob, place: String) throws {
        guard case .object(let options) = value else { throw ValidationError("\(place)opts must be an object") }
        func integer(_ value: JSONValue, _ key: String) throws -> Int64 {
            guard case .number(let text) = value, let number = Int64(text) else {
                throw ValidationError("\(place)opts.\(key) must be a whole number")
            }
            return number
        }
        for (key, option) in options {
            switch key {
            case "delay": job.delayMs = try integer(option, key)
            case "priority": job.priority = try integer(option, key)
            case "attempts": job.attempts = try integer(option, key)
            case "lifo":
                guard case .bool(let flag) = option else {
                    throw ValidationError("\(place)opts.lifo must be true or false")
                }
                job.lifo = flag
            case "jobId":
                guard case .string(let id) = option else {
                    throw ValidationError("\(place)opts.jobId must be a string")
                }
                job.id = id
            case "backoff":
                if case .number = option {
                    job.backoff = Backoff(type: "fixed", delayMs: try integer(option, key))
                } else if case .object = option, case .string(let type) = option["type"],
                    type == "fixed" || type == "exponential",
                    let delay = option["delay"]
                {
                    job.backoff = Backoff(type: type, delayMs: try integer(delay, "backoff.delay"))
                } else {
                    throw ValidationError(
                        "\(place)opts.backoff must be a number of ms or {\"type\": \"fixed\"|\"exponential\", "
                            + "\"delay\": ms}"
                    )
                }
            default:
                throw ValidationError(
                    "\(place)option '\(key)' is not supported by jobctl add (supported: delay, priority, attempts, "
                        + "backoff, jobId, lifo)"
                )
            }
        }
    }

    private static func readText(_ path: String) throws -> String {
        let descriptor = path == "-" ? STDIN_FILENO : open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw ValidationError("cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { if descriptor != STDIN_FILENO { close(descriptor) } }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw ValidationError("cannot read '\(path)': \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += buffer[0..<count]
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ValidationError("'\(path)' is not UTF-8 text")
        }
        return text
    }
}
