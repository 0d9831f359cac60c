import ArgumentParser
import JobCore

struct Clean: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clean",
        abstract: "Delete completed or failed jobs that finished longer ago than a given age.",
        discussion: """
            Jobs go with their logs, as BullMQ's Queue.clean deletes them, in batches; each batch publishes a \
            'cleaned' event.

            Example: jobctl clean emails --failed --older-than 7d --limit 10000
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var change: ChangeOptions

    @Argument(help: "The queue.")
    var queue: String

    @Flag(help: "Delete completed jobs.")
    var completed = false

    @Flag(help: "Delete failed jobs.")
    var failed = false

    @Option(help: ArgumentHelp("Only jobs that finished longer ago than this, e.g. 24h or 7d.", valueName: "duration"))
    var olderThan: String

    @Option(help: "At most this many jobs (the oldest first, per state).")
    var limit: Int?

    var states: [FinishedState] { (completed ? [FinishedState.completed] : []) + (failed ? [.failed] : []) }

    func validate() throws {
        if !completed && !failed { throw ValidationError("say what to delete: --completed, --failed or both") }
        guard DurationText.milliseconds(olderThan) != nil else {
            throw ValidationError("--older-than '\(olderThan)' is not a duration (examples: 30m, 24h, 7d)")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        try await Terminal.reportingErrors {
            let controller = try await global.connectForChange(to: queue)
            let age = DurationText.milliseconds(olderThan) ?? 0
            let cutoff = currentTimeMs() - age
            var total = Selection()
            var matched = 0
            var perState: [(state: FinishedState, count: Int)] = []
            for state in states {
                let count: Int
                if change.dryRun {
                    var selection = try await JobSelection.inState(state.jobState, of: queue, in: controller) { job in
                        job.finishedOn.map { $0 <= cutoff } ?? false
                    }
                    // The listing is newest first; the limit keeps the oldest, as the deletion takes them.
                    if let limit, selection.count > limit { selection = selection.suffix(limit) }
                    total.merge(selection)
                    count = selection.count
                } else {
                    let span = try await controller.jobSpan(
                        in: queue, state: TimedState(state), times: .min..<(cutoff + 1))
                    count = min(span.count, limit ?? .max)
                }
                perState.append((state, count))
                matched += count
            }
            let kinds = states.map(\.rawValue).joined(separator: " and ")
            let description =
                "delete \(matched) \(kinds) job\(matched == 1 ? "" : "s") of queue '\(queue)' that finished "
                + "more than \(DurationText.describe(milliseconds: age)) ago"
            if change.dryRun {
                printDryRun(
                    command: "clean", description: description, queue: queue, selection: total, format: global.format)
                return
            }
            var summary = ChangeSummary(command: "clean", verb: "deleted", queue: queue, matched: matched)
            if matched > 0 {
                try confirmAndBeginChanges(description, options: change)
                let progress = Progress(total: matched, verb: "deleting")
                try await summary.deleteCounted(perState, batchSize: controller.deleteBatchSize, progress: progress) {
                    state, limit in
                    try await controller.clean(state, in: queue, finishedBefore: cutoff, limit: limit)
                }
                var filters: [(String, JSONValue)] = [
                    ("states", .array(states.map { .string($0.rawValue) })), ("olderThan", .string(olderThan)),
                ]
                if let limit { filters.append(("limit", .int(limit))) }
                await summary.recordTrail(
                    note: change.note(command: "clean"), filters: .object(filters), in: controller)
            }
            try summary.finish(format: global.format, resumeHint: "run the same command again to delete the rest")
        }
    }
}
