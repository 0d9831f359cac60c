import ArgumentParser
import JobCore

struct Unschedule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unschedule",
        abstract: "Remove job schedulers (repeatable jobs) and their pending jobs.",
        usage: "jobctl unschedule [<options>] <queue> <ids> ...",
        discussion: """
            As BullMQ's Queue.removeJobScheduler: the scheduler's record goes, with its pending job while that \
            is delayed (a 'removed' event is published). A pending job that already left delayed (waiting, or \
            running) stays and runs once more; jobctl says so. An id that names no scheduler is reported and \
            makes the exit status 1; the others are removed.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var change: ChangeOptions

    @Argument(help: "The queue.")
    var queue: String

    @Argument(help: "The ids of the schedulers to remove.")
    var ids: [String] = []

    func validate() throws {
        if ids.isEmpty { throw ValidationError("name the schedulers to remove (jobctl schedulers QUEUE lists them)") }
    }

    func run() async throws {
        try await Terminal.reportingErrors {
            Interruption.install()
            let controller = try await global.connect()
            try await controller.requireQueue(queue)
            let unique = ids.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            let description =
                "remove \(unique.count) job scheduler\(unique.count == 1 ? "" : "s") of queue '\(Cell.oneLine(queue))'"
            if change.dryRun {
                var selection = Selection()
                var missing: [String] = []
                for id in unique {
                    if let scheduler = try await controller.scheduler(id, in: queue) {
                        selection.entries.append(.init(id: id, name: scheduler.name, error: nil))
                    } else {
                        missing.append(id)
                    }
                }
                printDryRun(
                    command: "unschedule", description: description, queue: queue, selection: selection,
                    format: global.format)
                if !missing.isEmpty { throw NoSuchSchedulerError(queue: queue, ids: missing) }
                return
            }
            var summary = ChangeSummary(command: "unschedule", verb: "removed", queue: queue, matched: unique.count)
            summary.noun = "scheduler"
            // The store's answer is the truth: an id is looked for however many schedulers the queue has.
            try confirmAndBeginChanges(description, options: change)
            var left: [String] = []
            var missing: [String] = []
            for batch in unique.batches(of: controller.batchSize) {
                if Interruption.isRequested {
                    summary.interrupted = true
                    break
                }
                for (id, result) in zip(batch, try await controller.removeSchedulers(Array(batch), in: queue)) {
                    switch result {
                    case .removed: summary.changed += 1
                    case .removedNextJobLeft:
                        summary.changed += 1
                        left.append(id)
                    case .notFound:
                        missing.append(id)
                        summary.skipped["no such scheduler", default: []].append(id)
                    }
                }
            }
            await summary.recordTrail(
                note: change.note(command: "unschedule"),
                filters: .object([
                    (
                        "ids",
                        .array(
                            unique.prefix(100).map {
                                .string($0)
                            })
                    )
                ]), in: controller)
            summary.extra = [("nextJobLeft", .array(left.map { .string($0) }))]
            if !left.isEmpty, global.format == .text {
                Terminal.writeError(
                    "the next job of \(left.count) of them had already left delayed (waiting or running) and stays, "
                        + "to run once more: " + left.prefix(5).map { Cell.oneLine($0) }.joined(separator: ", ") + "\n")
            }
            try summary.finish(format: global.format, resumeHint: "run the command again for the rest")
            if !missing.isEmpty { throw NoSuchSchedulerError(queue: queue, ids: missing) }
        }
    }
}
