import ArgumentParser
import JobCore

struct Drain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Delete the waiting and prioritized jobs of a queue (this deletes them; to run them, use run-once).",
        usage: "jobctl drain [<options>] <queue> [--delayed]",
        discussion: """
            Active jobs are never touched, nor completed, failed or waiting-children ones; with --delayed, \
            delayed jobs go too. The next job of each job scheduler stays (remove the scheduler to stop it). \
            Jobs go the oldest first, in batches; a flow parent whose last pending child is deleted is deleted \
            with it when it is in the same queue, as BullMQ's drain does.
            """,
        aliases: ["empty", "purge"]
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var change: ChangeOptions

    @Argument(help: "The queue.")
    var queue: String

    @Flag(help: "Delete the delayed jobs too.")
    var delayed = false

    func run() async throws {
        try await Terminal.reportingErrors {
            let controller = try await global.connectForChange(to: queue)
            let states: [ReadyState] = [.waiting, .prioritized] + (delayed ? [.delayed] : [])
            let kinds = delayed ? "waiting, prioritized and delayed" : "waiting and prioritized"
            func describe(_ count: Int) -> String {
                "delete \(count) \(kinds) job\(count == 1 ? "" : "s") of queue '\(queue)'"
            }
            if change.dryRun {
                var total = Selection()
                for state in states {
                    total.merge(try await JobSelection.inState(state.jobState, of: queue, in: controller))
                }
                printDryRun(
                    command: "drain", description: describe(total.count), queue: queue, selection: total,
                    format: global.format)
                return
            }
            // The counts are enough to confirm and to bound the batches.
            let overview = try await controller.overview(of: [queue]).first
            // A state that cannot be counted (a key of another type) is said, not silently taken as empty.
            reportProblems(overview?.problems ?? [])
            let counts = overview?.counts ?? JobCounts()
            // A queue paused by BullMQ 5 or older keeps its ready jobs in the legacy paused list: they go too.
            let perState = (states + [.paused]).map { (state: $0, count: counts[$0.jobState] ?? 0) }.filter {
                $0.count > 0
            }
            let matched = perState.reduce(0) { $0 + $1.count }
            var summary = ChangeSummary(command: "drain", verb: "deleted", queue: queue, matched: matched)
            if matched > 0 {
                try confirmAndBeginChanges(describe(matched), options: change)
                let progress = Progress(total: matched, verb: "deleting")
                // Scheduler jobs stay in place; later batches of the same state skip past them.
                var kept: [ReadyState: Int] = [:]
                try await summary.deleteCounted(perState, batchSize: controller.deleteBatchSize, progress: progress) {
                    state, limit in
                    let batch = try await controller.drain(state, in: queue, limit: limit, skipping: kept[state] ?? 0)
                    kept[state, default: 0] += batch.kept
                    return batch.removed
                }
                await summary.recordTrail(
                    note: change.note(command: "drain"), filters: .object([("delayed", .bool(delayed))]),
                    in: controller)
            }
            try summary.finish(format: global.format, resumeHint: "run the same command again to delete the rest")
        }
    }
}
