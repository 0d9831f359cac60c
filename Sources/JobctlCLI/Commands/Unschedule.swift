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
            let known = Dictionary(
                try await controller.schedulers(of: queue).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            let unique = ids.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            let missing = unique.filter { known[$0] == nil }
            let found = unique.filter { known[$0] != nil }
            var selection = Selection()
            for id in found { selection.entries.append(.init(id: id, name: known[id]?.name ?? "", error: nil)) }
            let description =
                "remove \(found.count) job scheduler\(found.count == 1 ? "" : "s") of queue '\(Cell.oneLine(queue))'"
            if change.dryRun {
                printDryRun(
                    command: "unschedule", description: description, queue: queue, selection: selection,
                    format: global.format)
                if !missing.isEmpty { throw NoSuchSchedulerError(queue: queue, ids: missing) }
                return
            }
            var summary = ChangeSummary(command: "unschedule", verb: "removed", queue: queue, matched: unique.count)
            summary.noun = "scheduler"
            for id in missing { summary.skipped["no such scheduler", default: []].append(id) }
            var left: [String] = []
            if !found.isEmpty {
                try confirmAndBeginChanges(description, options: change)
                for (id, result) in zip(found, try await controller.removeSchedulers(found, in: queue)) {
                    switch result {
                    case .removed: summary.changed += 1
                    case .removedNextJobLeft:
                        summary.changed += 1
                        left.append(known[id]?.nextJobId ?? id)
                    case .notFound: summary.skipped["no such scheduler", default: []].append(id)
                    }
                }
            }
            summary.extra = [("nextJobsLeft", .array(left.map { .string($0) }))]
            if !left.isEmpty, global.format == .text {
                Terminal.writeError(
                    "\(left.count) pending job(s) had already left delayed and stay, to run once more: "
                        + left.prefix(5).map { Cell.oneLine($0) }.joined(separator: ", ") + "\n")
            }
            try summary.finish(format: global.format, resumeHint: "run the command again for the rest")
            if !missing.isEmpty { throw NoSuchSchedulerError(queue: queue, ids: missing) }
        }
    }
}
