import ArgumentParser
import JobCore

struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Pause queues: BullMQ workers finish the jobs they run and take no new ones.",
        usage: "jobctl pause [<options>] (<queues> ... | --all)",
        discussion: "As BullMQ's Queue.pause. Jobs can still be added; they wait until 'jobctl resume'.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var change: ChangeOptions

    @Argument(help: "The queues.")
    var queues: [String] = []

    @Flag(help: "Every queue.")
    var all = false

    func validate() throws { try validateQueueChoice(queues, all: all) }

    func run() async throws {
        try await setPaused(true, queues: queues, all: all, global: global, change: change)
    }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume paused queues: BullMQ workers take jobs again at once.",
        usage: "jobctl resume [<options>] (<queues> ... | --all)",
        discussion: "As BullMQ's Queue.resume, which also wakes idle workers.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var change: ChangeOptions

    @Argument(help: "The queues.")
    var queues: [String] = []

    @Flag(help: "Every queue.")
    var all = false

    func validate() throws { try validateQueueChoice(queues, all: all) }

    func run() async throws {
        try await setPaused(false, queues: queues, all: all, global: global, change: change)
    }
}

private func validateQueueChoice(_ queues: [String], all: Bool) throws {
    if all && !queues.isEmpty { throw ValidationError("--all takes no queue names") }
    if !all && queues.isEmpty { throw ValidationError("name the queues, or pass --all") }
}

private func setPaused(
    _ paused: Bool, queues named: [String], all: Bool, global: GlobalOptions, change: ChangeOptions
) async throws {
    try await Terminal.reportingErrors {
        Interruption.install()
        let controller = try await global.connect()
        let queues = all ? try await controller.discoverQueues() : named
        for queue in queues where !all { try await controller.requireQueue(queue) }
        let overviews = try await controller.overview(of: queues)
        let verb = paused ? "pause" : "resume"
        let list = queues.prefix(10).map { "'\($0)'" }.joined(separator: ", ") + (queues.count > 10 ? ", …" : "")
        let description = "\(verb) \(queues.count) queue\(queues.count == 1 ? "" : "s"): \(list)"
        if change.dryRun {
            switch global.format {
            case .json, .jsonl:
                let value = JSONValue.object([
                    ("command", .string(verb)), ("dryRun", .bool(true)), ("matched", .int(queues.count)),
                    (
                        "queues",
                        .array(
                            overviews.map { .object([("queue", .string($0.queue)), ("paused", .bool($0.isPaused))]) })
                    ),
                ])
                Terminal.write((global.format == .json ? value.prettyText : value.compactText) + "\n")
            case .text:
                var text = "would \(description)\n"
                for overview in overviews {
                    text +=
                        "  \(Cell.oneLine(overview.queue, limit: 200)): \(overview.isPaused ? "paused" : "running"), "
                        + "\(Cell.count(overview.counts.ready)) ready\n"
                }
                Terminal.write(text + "nothing changed (--dry-run)\n")
            }
            return
        }
        var summary = ChangeSummary(
            command: verb, verb: paused ? "paused" : "resumed", queue: nil, matched: queues.count)
        summary.noun = "queue"
        if !queues.isEmpty {
            try confirmAndBeginChanges(description, options: change)
            var done: [QueueTally] = []
            for queue in queues {
                if Interruption.isRequested {
                    summary.interrupted = true
                    break
                }
                try await controller.setPaused(paused, queue: queue)
                summary.changed += 1
                done.append(QueueTally(queue: queue, matched: 1, changed: 1))
            }
            await recordTrail(
                done, note: change.note(command: verb), filters: .object([("all", .bool(all))]),
                startedAt: summary.startedAt, interrupted: summary.interrupted, in: controller)
        }
        summary.extra = [("queues", .array(queues.map { .string($0) }))]
        try summary.finish(format: global.format, resumeHint: "run the same command again for the rest")
    }
}
