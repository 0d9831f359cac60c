import ArgumentParser
import Glibc
import JobCore

struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Move failed (or completed) jobs back to waiting, so that workers run them again.",
        discussion: """
            Each job is retried as BullMQ's Job.retry does it: it goes back to waiting (or prioritized) with \
            its priority, the 'waiting' event is published and idle workers wake up. Its attempt counters are \
            kept unless --reset-attempts: a job that used up its attempts then gets exactly one more try.

            Jobs are chosen by the filters, all of which must match: job ids, --name, --error-match (on the \
            failure reason), --since/--before (on the finish time) and --limit (the most recently finished \
            first). Without a queue, jobctl asks which one on a terminal; --all-queues takes every queue.

            Examples:
              jobctl retry emails --failed --error-match 'ECONNREFUSED' --since 2h --dry-run
              jobctl retry emails 17 18 21 --yes
              jobctl retry --all-queues --failed --since 30m --yes
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var change: ChangeOptions

    @Argument(help: "The queue, then (optionally) the ids of the jobs to retry.")
    var arguments: [String] = []

    @Flag(help: "Retry failed jobs (the default).")
    var failed = false

    @Option(name: .customLong("state"), help: "Where the jobs are: failed or completed.")
    var stateArgument: StateArgument?

    @Flag(help: "Retry in every queue that has matching jobs (no job ids then).")
    var allQueues = false

    @Option(help: "Only jobs with this name.")
    var name: String?

    @Option(help: ArgumentHelp("Only jobs whose failure reason matches this regular expression.", valueName: "regex"))
    var errorMatch: Pattern?

    @Option(
        help: ArgumentHelp(
            "Only jobs that finished at or after this time: 2h (ago), 2026-11-23T10:00Z, epoch ms.", valueName: "time"))
    var since: PointInTime?

    @Option(help: ArgumentHelp("Only jobs that finished before this time (same forms as --since).", valueName: "time"))
    var before: PointInTime?

    @Option(help: "At most this many jobs.")
    var limit: Int?

    @Flag(help: "Also reset the jobs' attempt counters, so that each gets all its attempts again.")
    var resetAttempts = false

    var state: JobState { stateArgument?.state ?? .failed }
    /// `state`, once `validate` has checked it is a finished one.
    var finishedState: FinishedState { state == .completed ? .completed : .failed }

    /// The options that chose the jobs, for the trail.
    var filters: JSONValue {
        var members: [(String, JSONValue)] = [("state", .string(finishedState.rawValue))]
        let ids = allQueues ? [] : Array(arguments.dropFirst())
        if !ids.isEmpty { members.append(("ids", .array(ids.prefix(100).map { .string($0) }))) }
        if allQueues { members.append(("allQueues", .bool(true))) }
        if let name { members.append(("name", .string(name))) }
        if let errorMatch { members.append(("errorMatch", .string(errorMatch.text))) }
        if let since { members.append(("since", .int(since.milliseconds))) }
        if let before { members.append(("before", .int(before.milliseconds))) }
        if let limit { members.append(("limit", .int(limit))) }
        if resetAttempts { members.append(("resetAttempts", .bool(true))) }
        return .object(members)
    }

    func validate() throws {
        if failed, let stateArgument, stateArgument.state != .failed {
            throw ValidationError("--failed conflicts with --state \(stateArgument.state.rawValue)")
        }
        guard state == .failed || state == .completed else {
            throw ValidationError("retry takes failed or completed jobs, not \(state.rawValue)")
        }
        if allQueues && !arguments.isEmpty {
            throw ValidationError("--all-queues takes no queue or job ids; name a queue to retry jobs by id")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if errorMatch != nil && state == .completed { throw ValidationError("--error-match applies to failed jobs") }
    }

    func matches(_ job: JobRecord) -> Bool {
        if let name, job.name != name { return false }
        if let errorMatch, !errorMatch.matches(job.failedReason ?? "") { return false }
        if let since, (job.finishedOn ?? .min) < since.milliseconds { return false }
        if let before, (job.finishedOn ?? .max) >= before.milliseconds { return false }
        return true
    }

    func run() async throws {
        try await Terminal.reportingErrors {
            Interruption.install()
            let controller = try await global.connect()
            let queues: [String]
            if allQueues {
                queues = try await controller.discoverQueues()
            } else if let queue = arguments.first {
                try await controller.requireQueue(queue)
                queues = [queue]
            } else {
                queues = [try await chooseQueue(having: state, in: controller)]
            }
            let ids = Array(arguments.dropFirst())

            var plans: [(queue: String, jobs: ChosenJobs)] = []
            var notChosen: [SkippedJob] = []
            var total = Selection()
            var matched = 0
            for queue in queues {
                let jobs: ChosenJobs
                if ids.isEmpty {
                    let left = limit.map { $0 - matched }
                    if let left, left <= 0 { break }
                    if !change.dryRun && name == nil && errorMatch == nil {
                        // Nothing to read from the jobs themselves: the server picks them, by finish time. The
                        // window ends after the latest job there is now, so that jobs failing meanwhile are not
                        // taken in place of the ones counted.
                        let times = (since?.milliseconds ?? .min)..<(before?.milliseconds ?? .max)
                        let span = try await controller.jobSpan(
                            in: queue, state: TimedState(finishedState), times: times)
                        let after = span.latest.map { $0 == .max ? $0 : $0 + 1 }
                        let end = after.map { min(times.upperBound, $0) } ?? times.upperBound
                        jobs = .window(
                            times.lowerBound..<max(end, times.lowerBound), count: min(span.count, left ?? .max))
                    } else {
                        jobs = .selection(
                            try await JobSelection.inState(
                                state, of: queue, in: controller, limit: left, matches: matches))
                    }
                } else {
                    var selection: Selection
                    (selection, notChosen) = try await JobSelection.byId(
                        ids, expecting: state, of: queue, in: controller, matches: matches)
                    if let limit, selection.count > limit { selection = selection.prefix(limit) }
                    jobs = .selection(selection)
                }
                if case .selection(let selection) = jobs { total.merge(selection) }
                matched += jobs.count
                if jobs.count > 0 { plans.append((queue, jobs)) }
            }

            let scope = queues.count == 1 ? "queue '\(queues[0])'" : "\(plans.count) queues"
            let description = "retry \(matched) \(state.rawValue) job\(matched == 1 ? "" : "s") in \(scope)"
            if change.dryRun {
                printDryRun(
                    command: "retry", description: description, queue: queues.count == 1 ? queues[0] : nil,
                    selection: total, format: global.format)
                return
            }
            var summary = ChangeSummary(
                command: "retry", verb: "retried", queue: queues.count == 1 ? queues[0] : nil, matched: matched)
            summary.record(BatchOutcome(skipped: notChosen))
            if matched > 0 {
                try confirmAndBeginChanges(description, options: change)
                let note = change.note(command: "retry")
                let jobNote = change.jobNote(command: "retry")
                let progress = Progress(total: matched, verb: "retrying")
                var tallies: [QueueTally] = []
                for plan in plans {
                    let before = summary.tally
                    let finished: Bool
                    switch plan.jobs {
                    case .selection(let selection):
                        finished = try await summary.apply(
                            selection.ids, batchSize: controller.batchSize, progress: progress
                        ) { batch in
                            try await controller.retry(
                                batch, in: plan.queue, from: finishedState, resetAttempts: resetAttempts, note: jobNote)
                        }
                    case .window(let times, let count):
                        finished = try await summary.applyWindow(
                            count: count, batchSize: controller.windowBatchSize, progress: progress
                        ) { limit, skipping in
                            try await controller.retryNewest(
                                limit, of: finishedState, finishedIn: times, skipping: skipping, in: plan.queue,
                                resetAttempts: resetAttempts, note: jobNote)
                        }
                    }
                    tallies.append(
                        QueueTally(
                            queue: plan.queue, matched: plan.jobs.count,
                            changed: summary.changed - before.changed, skipped: summary.tally.skipped - before.skipped))
                    if !finished || summary.serverLost != nil { break }
                }
                progress.finish()
                await recordTrail(
                    tallies, note: note, filters: filters, startedAt: summary.startedAt,
                    interrupted: summary.interrupted || summary.serverLost != nil, in: controller)
            }
            try summary.finish(
                format: global.format,
                resumeHint:
                    "run the same command again to retry the rest (jobs already retried are no longer "
                    + "\(state.rawValue))"
            )
        }
    }
}

/// The jobs a change takes in one queue: listed (by id, or read to filter them), or left to the server to pick
/// within a window of finish times.
enum ChosenJobs {
    case selection(Selection)
    case window(Range<Int64>, count: Int)

    var count: Int {
        switch self {
        case .selection(let selection): selection.count
        case .window(_, let count): count
        }
    }
}

/// No queue was named: on a terminal, offer the queues that have jobs in `state`; elsewhere say how to name one.
func chooseQueue(having state: JobState, in inspector: any QueueInspector) async throws -> String {
    let names = try await inspector.discoverQueues()
    let candidates = try await inspector.overview(of: names).filter { ($0.counts[state] ?? 0) > 0 }
    let listing = candidates.prefix(20).map { "\($0.queue) (\(Cell.count($0.counts[state])) \(state.rawValue))" }
    guard isatty(STDIN_FILENO) == 1, !candidates.isEmpty else {
        throw ValidationError(
            "name a queue, or pass --all-queues"
                + (candidates.isEmpty
                    ? " (no queue has \(state.rawValue) jobs)"
                    : "; queues with \(state.rawValue) jobs: " + listing.joined(separator: ", ")))
    }
    var prompt = "Which queue?\n"
    for (index, line) in listing.enumerated() { prompt += "  \(index + 1)) \(line)\n" }
    Terminal.writeError(prompt + "number: ")
    guard let answer = readLine().flatMap({ Int($0.trimmingCharactersInWhitespace()) }),
        (1...listing.count).contains(answer)
    else {
        throw DeclinedError()
    }
    return candidates[answer - 1].queue
}
