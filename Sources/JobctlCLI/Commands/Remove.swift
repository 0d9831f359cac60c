import ArgumentParser
import JobCore

struct Remove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Delete jobs by id, with their logs and their children.",
        usage: "jobctl remove [<options>] <queue> <ids> ... [--force]",
        discussion: """
            As BullMQ's Queue.remove: a job whose lock is held by a worker (it is running), or that has a running \
            child, is left alone unless --force; the next job of a job scheduler is never removed (remove the \
            scheduler instead). With --force the worker running the job finds it gone when it finishes. The \
            exit status is 1 when any job named was not removed.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var change: ChangeOptions

    @Argument(help: "The queue.")
    var queue: String

    @Argument(help: "Ids of the jobs to remove.")
    var ids: [String]

    @Flag(help: "Remove jobs even when a worker holds their lock.")
    var force = false

    func run() async throws {
        try await Terminal.reportingErrors {
            let controller = try await global.connectForChange(to: queue)
            let (selection, notFound) = try await JobSelection.byId(ids, expecting: nil, of: queue, in: controller)
            let description =
                "remove \(selection.count) job\(selection.count == 1 ? "" : "s") of queue '\(queue)'"
                + (force ? ", even running ones" : "")
            let summary = try await changeJobs(
                selection, alreadySkipped: notFound, command: "remove", verb: "removed", progressVerb: nil,
                description: description, queue: queue, store: controller,
                filters: .object([("ids", .array(ids.prefix(100).map { .string($0) })), ("force", .bool(force))]),
                options: change, format: global.format
            ) { batch in
                try await controller.remove(batch, in: queue, force: force)
            }
            if let summary, summary.changed < Set(ids).count { throw ExitStatus.failure.exitCode }
        }
    }
}
