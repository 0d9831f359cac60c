import ArgumentParser
import JobCore

/// A job state as typed on the command line (BullMQ's names, plus `wait`).
struct StateArgument: ExpressibleByArgument {
    var state: JobState

    init?(argument: String) {
        guard let state = JobState(argument: argument) else { return nil }
        self.state = state
    }

    static var allValueStrings: [String] { JobState.allCases.map(\.rawValue) }
}

struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List the jobs of a queue in one state, a page at a time.",
        usage: "jobctl jobs [<options>] <queue> --state <state> [--cursor <cursor>]",
        discussion: """
            Order: waiting, prioritized and active jobs in the order workers take them; delayed jobs soonest \
            first; completed and failed jobs newest first. Pages are stable while the queue changes: pass the \
            cursor printed after a page to --cursor to get the next one.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The queue.")
    var queue: String

    @Option(
        name: .customLong("state"),
        help: "waiting, prioritized, delayed, active, completed, failed, waiting-children or paused (legacy list).")
    var stateArgument: StateArgument

    var state: JobState { stateArgument.state }

    @Option(name: .long, help: "Jobs per page (1 to 10000).")
    var limit: Int = 50

    @Option(name: .long, help: "Continue after the page that printed this cursor.")
    var cursor: String?

    func validate() throws {
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000") }
    }

    func run() async throws {
        try await Terminal.reportingErrors {
            let inspector = try await global.connect()
            try await inspector.requireQueue(queue)
            let page = try await inspector.jobs(in: queue, state: state, limit: limit, cursor: cursor)
            let now = currentTimeMs()
            switch global.format {
            case .json:
                let document = JSONValue.object([
                    ("queue", .string(queue)), ("state", .string(state.rawValue)),
                    ("jobs", .array(page.jobs.map(JSONShapes.jobRow))),
                    ("nextCursor", .optionalString(page.nextCursor)),
                    ("vanishedIds", .array(page.vanishedIds.map { .string($0) })),
                    ("problems", JSONShapes.problems(page.problems)),
                ])
                Terminal.write(document.prettyText + "\n")
            case .jsonl:
                Terminal.write(page.jobs.map { JSONShapes.jobRow($0).compactText + "\n" }.joined())
                if let next = page.nextCursor { Terminal.writeError("next page: --cursor \(next)\n") }
            case .text:
                if page.jobs.isEmpty {
                    Terminal.writeError("no \(state.rawValue) jobs in '\(queue)'\n")
                } else {
                    Terminal.write(table(page.jobs, now: now))
                }
                if let next = page.nextCursor {
                    Terminal.writeError(
                        "next page: jobctl jobs \(queue) --state \(state.rawValue) --limit \(limit) --cursor \(next)\n")
                }
                if !page.vanishedIds.isEmpty {
                    Terminal.writeError(
                        "\(page.vanishedIds.count) job(s) listed in this state have no job (removed while listing, or "
                            + "ids left behind): \(page.vanishedIds.prefix(5).joined(separator: ", "))\n"
                    )
                }
                reportProblems(page.problems)
                for job in page.jobs { reportProblems(job.problems, context: "job \(job.id)") }
            }
        }
    }

    private func table(_ jobs: [JobRecord], now: Int64) -> String {
        var table = TextTable([
            ("ID", .left), ("NAME", .left), ("STATE", .left), ("ATTEMPTS", .right), ("ADDED", .left),
            ("PROCESSED", .left), ("FINISHED", .left), ("FAILED REASON", .left),
        ])
        for job in jobs {
            table.append([
                Cell.oneLine(job.id, limit: 40) + (job.problems.isEmpty ? "" : " (!)"),
                Cell.oneLine(job.name, limit: 30), job.state?.rawValue ?? "?",
                "\(job.attemptsMade)", Cell.relative(job.timestamp, now: now), Cell.relative(job.processedOn, now: now),
                Cell.relative(job.finishedOn, now: now), Cell.oneLine(job.failedReason, limit: 50),
            ])
        }
        return table.render()
    }
}
