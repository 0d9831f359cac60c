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
            Interruption.install()
            let controller = try await global.connect()
            try await controller.requireQueue(queue)
            let states: [JobState] = [.waiting, .prioritized] + (delayed ? [.delayed] : [])
            let kinds = delayed ? "waiting, prioritized and delayed" : "waiting and prioritized"
            func describe(_ count: Int) -> String { "delete \(count) \(kinds) job\(count == 1 ? "" : "s") of queue '\(queue)'" }
            if change.dryRun {
                var total = Selection()
                for state in states { total.merge(try await JobSelection.inState(state, of: queue, in: controller)) }
                printDryRun(command: "drain", description: describe(total.count), queue: queue, selection: total, format: global.format)
                return
            }
            // The counts are enough to confirm and to bound the batches.
            let overview = try await controller.overview(of: [queue]).first
            // A state that cannot be counted (a key of another type) is said, not silently taken as empty.
            reportProblems(overview?.problems ?? [])
            let counts = overview?.counts ?? JobCounts()
            // A queue paused by BullMQ 5 or older keeps its ready jobs in the legacy paused list: they go too.
            let perState = (states + [.paused]).map { ($0, counts[$0] ?? 0) }.filter { $0.1 > 0 }
            let matched = perState.reduce(0) { $0 + $1.1 }
            var summary = ChangeSummary(command: "drain", verb: "deleted", queue: queue, matched: matched)
            if matched > 0 {
                try confirm("D" + describe(matched).dropFirst(), options: change)
                Interruption.beginChanges()
                let progress = Progress(total: matched, verb: "deleting")
                states: for (state, target) in perState {
                    // At most the jobs counted above: jobs added meanwhile stay.
                    var removed = 0
                    var kept = 0
                    while removed < target {
                        if Interruption.isRequested {
                            summary.interrupted = true
                            break states
                        }
                        let limit = min(controller.batchSize, target - removed)
                        guard let deleted = try await summary.run({
                            let batch = try await controller.drain(state, in: queue, limit: limit, skipping: kept)
                            kept += batch.kept
                            return batch.removed
                        }) else { break states }
                        removed += deleted
                        progress.update(summary.changed)
                        if deleted == 0 { break }
                    }
                }
                progress.finish()
            }
            try summary.finish(format: global.format, resumeHint: "run the same command again to delete the rest")
        }
    }
}
