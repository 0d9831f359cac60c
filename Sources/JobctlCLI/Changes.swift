import ArgumentParser
import Dispatch
import Glibc
import JobCore
import Synchronization

/// Options every command that changes queues takes.
struct ChangeOptions: ParsableArguments {
    @Flag(help: "Show what would change (count, breakdown by job name and error, sample ids) and change nothing.")
    var dryRun = false

    @Flag(name: [.customShort("y"), .long], help: "Go ahead without asking (required when stdin is not a terminal).")
    var yes = false

    @Option(
        help: ArgumentHelp(
            "Why: kept in the queue's trail and in each changed job's log (default: $JOBCTL_REASON).",
            valueName: "text"))
    var reason: String?

    @Option(
        help: ArgumentHelp("Who: kept with the reason (default: $JOBCTL_ACTOR, else user@host).", valueName: "name"))
    var actor: String?

    func validate() throws {
        let env = GlobalOptions.environment
        if let reason = reason ?? env["JOBCTL_REASON"] {
            if reason.count > OperatorNote.reasonLimit {
                throw ValidationError("--reason is longer than \(OperatorNote.reasonLimit) characters; say it shorter")
            }
            if reason.contains(where: { $0.isNewline || ($0.asciiValue.map { $0 < 0x20 } ?? false) }) {
                throw ValidationError("--reason must be one line of text")
            }
        }
        if let actor = actor ?? env["JOBCTL_ACTOR"] {
            if actor.isEmpty || actor.count > 200 || actor.contains(where: { $0.isWhitespace && $0 != " " }) {
                throw ValidationError("--actor must be a name of 1 to 200 characters on one line")
            }
        }
    }

    /// The line for each changed job's log: only when a reason is given (the trail records every command).
    func jobNote(command: String) -> OperatorNote? {
        let note = note(command: command)
        return note.reason == nil ? nil : note
    }

    /// Who is changing what, and why, for `command`.
    func note(command: String) -> OperatorNote {
        let env = GlobalOptions.environment
        let actor = actor ?? env["JOBCTL_ACTOR"].nonEmpty ?? Self.processActor
        return OperatorNote(command: command, actor: actor, reason: reason ?? env["JOBCTL_REASON"].nonEmpty)
    }

    /// `user@host` of this process.
    static var processActor: String {
        var host = [CChar](repeating: 0, count: 256)
        let named =
            host.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress.map { gethostname($0, buffer.count - 1) } ?? -1
            } == 0
        let hostName =
            named ? String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
        let user =
            getpwuid(geteuid()).flatMap { String(validatingCString: $0.pointee.pw_name) }
            ?? GlobalOptions.environment["USER"].nonEmpty ?? "uid\(geteuid())"
        return "\(user)@\(hostName)"
    }
}

/// Records a command on each queue it changed, in the queue's events (`jobctl trail` lists them).
///
/// A record that cannot be written (the server went away) is said on stderr; the change itself stands.
func recordTrail(
    _ tallies: [QueueTally], note: OperatorNote, filters: JSONValue, startedAt: Int64, interrupted: Bool,
    in store: any QueueController
) async {
    let ended = currentTimeMs()
    // A queue the command did not change gets no record (a bad id, everything skipped), unless it was stopped.
    for tally in tallies where tally.changed > 0 || interrupted {
        let record = TrailRecord(
            queue: tally.queue, note: note, filters: filters, matched: tally.matched, changed: tally.changed,
            skipped: tally.skipped, startedAt: startedAt, endedAt: ended, interrupted: interrupted)
        do {
            try await store.recordTrail(record)
        } catch {
            Terminal.writeError(
                "could not record this \(note.command) in the trail of queue '\(Cell.oneLine(tally.queue))': \(error)\n"
            )
        }
    }
}

/// What a command did to one queue.
struct QueueTally {
    var queue: String
    var matched = 0
    var changed = 0
    var skipped = 0
}

/// The operator said no at the prompt.
struct DeclinedError: OperatorFacingError {
    var kind: FailureKind { .failure }
    var description: String { "nothing changed: not confirmed" }
}

/// A change needs a yes, and there is no terminal to ask on.
struct ConfirmationNeededError: OperatorFacingError {
    var question: String
    var kind: FailureKind { .usage }
    var description: String { "not confirmed: \(question); stdin is not a terminal, so jobctl cannot ask" }
    var hints: [String] { ["add --yes to go ahead, or --dry-run to see what would change"] }
}

extension GlobalOptions {
    /// Connects for a change to one queue: Ctrl-C handling first (it exits at once until changes begin), then the
    /// store, then a check that the queue exists (naming close matches when it does not).
    func connectForChange(to queue: String) async throws -> any QueueStore {
        Interruption.install()
        let store = try await connect()
        try await store.requireQueue(queue)
        return store
    }
}

/// A change applied to jobs chosen by id (promote, remove): prints what would change for `--dry-run`; otherwise
/// asks, applies `change` a batch at a time (with progress when `progressVerb` is given) and prints the summary,
/// which it returns.
@discardableResult
func changeJobs(
    _ selection: Selection, alreadySkipped: [SkippedJob], command: String, verb: String, progressVerb: String?,
    description: String, queue: String, store: any QueueController, filters: JSONValue, options: ChangeOptions,
    format: OutputFormat, _ change: ([String]) async throws -> BatchOutcome
) async throws -> ChangeSummary? {
    if options.dryRun {
        printDryRun(command: command, description: description, queue: queue, selection: selection, format: format)
        return nil
    }
    var summary = ChangeSummary(command: command, verb: verb, queue: queue, matched: selection.count)
    summary.record(BatchOutcome(skipped: alreadySkipped))
    if selection.count > 0 {
        try confirmAndBeginChanges(description, options: options)
        let progress = progressVerb.map { Progress(total: selection.count, verb: $0) }
        _ = try await summary.apply(selection.ids, batchSize: store.batchSize, progress: progress, change)
        progress?.finish()
        await summary.recordTrail(note: options.note(command: command), filters: filters, in: store)
    }
    try summary.finish(format: format, resumeHint: "run the same command again to \(command) the rest")
    return summary
}

/// Asks for a change described in lower case ("retry 40 failed jobs …"), then marks that changes begin: from then
/// on Ctrl-C stops after the batch in flight instead of at once.
func confirmAndBeginChanges(_ description: String, options: ChangeOptions) throws {
    try confirm(description.prefix(1).uppercased() + description.dropFirst(), options: options)
    Interruption.beginChanges()
}

/// Asks before a change: on a terminal it states what will change and waits for "y"; elsewhere `--yes` is required.
func confirm(_ question: String, options: ChangeOptions) throws {
    if options.yes { return }
    guard isatty(STDIN_FILENO) == 1 else { throw ConfirmationNeededError(question: question) }
    Terminal.writeError("\(question)? [y/N] ")
    let answer = (readLine() ?? "").trimmingCharactersInWhitespace().lowercased()
    guard answer == "y" || answer == "yes" else { throw DeclinedError() }
}

/// Ctrl-C in a command that changes queues.
///
/// Before the first change it exits at once (nothing changed yet); once changes have begun, the first Ctrl-C stops the
/// command after the batch in flight (each batch is atomic on the server) and the second exits at once.
enum Interruption {
    private static let changing = Atomic<Bool>(false)
    private static let requested = Atomic<Bool>(false)
    private static let installed = Atomic<Bool>(false)
    nonisolated(unsafe) private static var signals: StopSignals?

    static var isRequested: Bool { requested.load(ordering: .relaxed) }

    static func install() {
        guard !installed.exchange(true, ordering: .relaxed) else { return }
        signals = StopSignals(
            [SIGINT],
            onFirst: {
                guard changing.load(ordering: .relaxed) else {
                    Terminal.writeError("\ninterrupted: nothing changed\n")
                    exit(ExitStatus.interrupted.rawValue)
                }
                requested.store(true, ordering: .relaxed)
                Terminal.writeError("\nstopping after the batch in flight… (Ctrl-C again to exit at once)\n")
            },
            secondMessage: "interrupted again: exiting now (the batch in flight is applied whole or not at all)")
    }

    /// From here on, Ctrl-C lets the batch in flight finish.
    static func beginChanges() { changing.store(true, ordering: .relaxed) }
}

/// Jobs a command matched: what `--dry-run` and the final summary report.
struct Selection {
    struct Entry {
        var id: String
        var name: String
        var error: String?
    }

    var entries: [Entry] = []

    init() {}

    init(entries: [Entry]) { self.entries = entries }

    /// Jobs known by id only: enough for the confirmation and the summary, not for `--dry-run`'s breakdowns.
    init(ids: [String]) { entries = ids.map { Entry(id: $0, name: "", error: nil) } }

    var ids: [String] { entries.map(\.id) }
    var count: Int { entries.count }
    var byName: [String: Int] { entries.reduce(into: [:]) { $0[$1.name, default: 0] += 1 } }
    var byError: [String: Int] {
        entries.reduce(into: [:]) { counts, entry in
            entry.error.map { counts[ErrorText.normalized($0), default: 0] += 1 }
        }
    }

    mutating func add(_ job: JobRecord) {
        // Only what the error breakdown reads: a reason may be megabytes.
        let error = job.failedReason.map(ErrorText.readPart)
        entries.append(Entry(id: job.id, name: job.name ?? "(no name)", error: error))
    }

    mutating func merge(_ other: Selection) { entries += other.entries }

    func prefix(_ count: Int) -> Selection { Selection(entries: Array(entries.prefix(count))) }
    func suffix(_ count: Int) -> Selection { Selection(entries: Array(entries.suffix(count))) }
}

/// What a change did, printed at the end (text on stdout, or one JSON object).
struct ChangeSummary {
    var command: String
    /// Past tense for the text: "retried".
    var verb: String
    var queue: String?
    var matched: Int
    /// What was counted: "job" or "queue".
    var noun = "job"
    var changed = 0
    /// Extra members of the JSON summary (the ids of added jobs, say).
    var extra: [(String, JSONValue)] = []
    var skipped: [String: [String]] = [:]
    var interrupted = false
    /// The server went away after some batches went through: reported (exit 69) after the summary.
    var serverLost: (any Error)?
    private let started = DispatchTime.now()
    /// When the command began changing things (ms since the epoch), for its trail.
    let startedAt = currentTimeMs()

    init(command: String, verb: String, queue: String?, matched: Int) {
        self.command = command
        self.verb = verb
        self.queue = queue
        self.matched = matched
    }

    /// Applies `change` to the ids a batch at a time, recording each batch; stops between batches on Ctrl-C (then
    /// `interrupted` is set and false is returned).
    mutating func apply(
        _ ids: [String], batchSize: Int, progress: Progress? = nil, _ change: ([String]) async throws -> BatchOutcome
    ) async throws -> Bool {
        for batch in ids.batches(of: batchSize) {
            if Interruption.isRequested {
                interrupted = true
                return false
            }
            guard let outcome = try await attempt({ try await change(Array(batch)) }) else { return false }
            record(outcome)
            progress?.update(changed)
        }
        return true
    }

    /// Applies `change` to `count` jobs the server picks, a batch of at most `batchSize` at a time (`change` is
    /// given the batch's size and how many jobs earlier batches left in place, to skip); stops between batches on
    /// Ctrl-C (then `interrupted` is set and false is returned) and when a batch finds no job.
    mutating func applyWindow(
        count: Int, batchSize: Int, progress: Progress? = nil, _ change: (Int, Int) async throws -> WindowOutcome
    ) async throws -> Bool {
        var taken = 0
        var leftInPlace = 0
        while taken < count {
            if Interruption.isRequested {
                interrupted = true
                return false
            }
            let limit = min(batchSize, count - taken)
            guard let outcome = try await attempt({ try await change(limit, leftInPlace) }) else { return false }
            if outcome.taken == 0 { break }
            record(BatchOutcome(skipped: outcome.skipped))
            changed += outcome.moved
            taken += outcome.taken
            leftInPlace += outcome.leftInPlace
            progress?.update(changed)
        }
        return true
    }

    /// Deletes by count (drain, clean): for each state, batches of at most `batchSize` until the state's count is
    /// reached, `batch(state, limit)` answering how many went.
    ///
    /// Jobs added meanwhile stay. Stops between batches on Ctrl-C, when the server goes away after earlier batches
    /// (kept for `finish`: exit 69), and at a state whose batch deleted nothing.
    mutating func deleteCounted<State>(
        _ perState: [(state: State, count: Int)], batchSize: Int, progress: Progress,
        _ batch: (State, Int) async throws -> Int
    ) async throws {
        states: for (state, target) in perState {
            var removed = 0
            while removed < target {
                if Interruption.isRequested {
                    interrupted = true
                    break states
                }
                let limit = min(batchSize, target - removed)
                guard let deleted = try await attempt({ try await batch(state, limit) }) else { break states }
                changed += deleted
                removed += deleted
                progress.update(changed)
                if deleted == 0 { break }
            }
        }
        progress.finish()
    }

    /// Runs one batch; nil when the server went away after earlier batches went through (the error is kept for
    /// `finish`).
    ///
    /// Before any change, losing the server is an ordinary failure.
    private mutating func attempt<Result>(_ batch: () async throws -> Result) async throws -> Result? {
        do {
            return try await batch()
        } catch let error as any OperatorFacingError where error.kind == .unavailable && changed > 0 {
            serverLost = error
            return nil
        }
    }

    mutating func record(_ outcome: BatchOutcome) {
        changed += outcome.changed.count
        for job in outcome.skipped { skipped[job.reason, default: []].append(job.id) }
    }

    var durationMs: Int64 { Int64((DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1_000_000) }

    /// The whole summary as one queue's tally.
    var tally: QueueTally {
        QueueTally(
            queue: queue ?? "", matched: matched, changed: changed,
            skipped: skipped.values.reduce(0) { $0 + $1.count })
    }

    /// Records the command in the trail of its queue (`recordTrail`).
    func recordTrail(note: OperatorNote, filters: JSONValue, in store: any QueueController) async {
        guard queue != nil else { return }
        await JobctlCLI.recordTrail(
            [tally], note: note, filters: filters, startedAt: startedAt, interrupted: interrupted || serverLost != nil,
            in: store)
    }

    /// Prints the summary; an interrupted command then exits with 130, as a shell expects after Ctrl-C.
    func finish(format: OutputFormat, resumeHint: String) throws {
        print(format: format, resumeHint: resumeHint)
        if let serverLost {
            Terminal.writeError(
                "the server went away after \(changed) of \(matched): every job is either changed or untouched (each "
                    + "batch is "
                    + "atomic; the batch in flight may or may not have gone through); \(resumeHint)\n")
            throw serverLost
        }
        if interrupted { throw ExitStatus.interrupted.exitCode }
    }

    private func print(format: OutputFormat, resumeHint: String) {
        let skippedCount = skipped.values.reduce(0) { $0 + $1.count }
        switch format {
        case .json, .jsonl:
            var pairs: [(String, JSONValue)] = [("command", .string(command))]
            if let queue { pairs.append(("queue", .string(queue))) }
            pairs +=
                [
                    ("dryRun", .bool(false)), ("matched", .int(matched)), ("changed", .int(changed)),
                    ("skipped", .int(skippedCount)),
                    (
                        "skippedReasons",
                        .object(skipped.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value.count)) })
                    ),
                    ("durationMs", .int(durationMs)), ("interrupted", .bool(interrupted)),
                ] + extra
            let value = JSONValue.object(pairs)
            Terminal.write((format == .json ? value.prettyText : value.compactText) + "\n")
        case .text:
            let scope = queue.map { " in queue '\(Cell.oneLine($0, limit: 200))'" } ?? ""
            var text =
                "\(verb) \(changed) of \(matched) matched \(noun)\(matched == 1 ? "" : "s")\(scope) in "
                + "\(DurationText.describe(milliseconds: durationMs))\n"
            for (reason, ids) in skipped.sorted(by: { $0.value.count > $1.value.count }) {
                let sample = ids.prefix(5).joined(separator: ", ") + (ids.count > 5 ? ", …" : "")
                text += "skipped \(ids.count): \(reason) (\(sample))\n"
            }
            Terminal.write(text)
        }
        if interrupted {
            Terminal.writeError("interrupted: every job is in a consistent state; \(resumeHint)\n")
        }
    }
}

/// Progress on stderr while a long change runs, when stderr is a terminal.
struct Progress {
    let total: Int
    let verb: String
    private let shown = isatty(STDERR_FILENO) == 1

    init(total: Int, verb: String) {
        self.total = total
        self.verb = verb
    }

    func update(_ done: Int) {
        guard shown else { return }
        Terminal.writeError("\r\(verb) \(done)/\(total)…")
    }

    func finish() {
        guard shown else { return }
        Terminal.writeError("\r\u{1B}[K")
    }
}

/// The `--dry-run` report: the count, what the jobs are, a few ids.
func printDryRun(command: String, description: String, queue: String?, selection: Selection, format: OutputFormat) {
    let sample = Array(selection.ids.prefix(5))
    func sorted(_ counts: [String: Int]) -> [(String, Int)] {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
    }
    switch format {
    case .json, .jsonl:
        var pairs: [(String, JSONValue)] = [("command", .string(command))]
        if let queue { pairs.append(("queue", .string(queue))) }
        pairs += [
            ("dryRun", .bool(true)), ("matched", .int(selection.count)),
            ("byName", .object(sorted(selection.byName).map { ($0.0, .int($0.1)) })),
            ("byError", .object(sorted(selection.byError).map { ($0.0, .int($0.1)) })),
            ("sampleIds", .array(sample.map { .string($0) })),
        ]
        let value = JSONValue.object(pairs)
        Terminal.write((format == .json ? value.prettyText : value.compactText) + "\n")
    case .text:
        var text = "would \(description)\n"
        for (title, counts) in [("name", selection.byName), ("error", selection.byError)] where !counts.isEmpty {
            let rows = sorted(counts)
            var table = TextTable([(title, .left), ("jobs", .right)])
            for row in rows.prefix(10) { table.append([Cell.oneLine(row.0, limit: 80), Cell.count(row.1)]) }
            text += table.render().split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
            if rows.count > 10 { text += "  … and \(rows.count - 10) more\n" }
        }
        if !sample.isEmpty {
            text += "sample ids: " + sample.map { Cell.oneLine($0, limit: 60) }.joined(separator: ", ") + "\n"
        }
        text += "nothing changed (--dry-run)\n"
        Terminal.write(text)
    }
}

extension Array {
    /// The elements in consecutive slices of at most `size`.
    func batches(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
