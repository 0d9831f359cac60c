import ArgumentParser
import JobCore

struct Promote: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Move delayed jobs to waiting now, instead of at their due time.",
        usage: "jobctl promote [<options>] <queue> [<ids> ...] [--limit <limit>]",
        discussion: """
            Each job is promoted as BullMQ's Job.promote does it: it keeps its priority, the 'waiting' event is \
            published and idle workers wake up. Without job ids, every delayed job is promoted, the soonest due \
            first.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var change: ChangeOptions

    @Argument(help: "The queue.")
    var queue: String

    @Argument(help: "Ids of the jobs to promote (default: every delayed job).")
    var ids: [String] = []

    @Option(help: "At most this many jobs.")
    var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        try await Terminal.reportingErrors {
            let controller = try await global.connectForChange(to: queue)
            var selection: Selection
            var notChosen: [SkippedJob] = []
            if ids.isEmpty && !change.dryRun {
                let found = try await controller.jobIds(in: queue, state: .delayed, times: nil)
                selection = Selection(ids: limit.map { Array(found.prefix($0)) } ?? found)
            } else if ids.isEmpty {
                selection = try await JobSelection.inState(.delayed, of: queue, in: controller, limit: limit)
            } else {
                (selection, notChosen) = try await JobSelection.byId(
                    ids, expecting: .delayed, of: queue, in: controller)
                if let limit, selection.count > limit { selection = selection.prefix(limit) }
            }
            let description =
                "promote \(selection.count) delayed job\(selection.count == 1 ? "" : "s") of queue '\(queue)'"
            let note = change.jobNote(command: "promote")
            var filters: [(String, JSONValue)] = []
            if !ids.isEmpty { filters.append(("ids", .array(ids.prefix(100).map { .string($0) }))) }
            if let limit { filters.append(("limit", .int(limit))) }
            try await changeJobs(
                selection, alreadySkipped: notChosen, command: "promote", verb: "promoted", progressVerb: "promoting",
                description: description, queue: queue, store: controller, filters: .object(filters), options: change,
                format: global.format
            ) { batch in
                try await controller.promote(batch, in: queue, note: note)
            }
        }
    }
}
