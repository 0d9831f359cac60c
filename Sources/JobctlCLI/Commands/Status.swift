import ArgumentParser
import JobCore

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every queue on one screen: counts, paused flag and the age of the oldest waiting job.",
        discussion: """
            Queues are found with SCAN under the prefix (never KEYS). WAITING counts every job ready to run: \
            the wait list, the legacy paused list and prioritized jobs. Name queues to show only those.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Queues to show (default: every queue found).")
    var queues: [String] = []

    func run() async throws {
        try await Terminal.reportingErrors {
            let inspector = try await global.connect()
            var names = queues
            if names.isEmpty {
                names = try await inspector.discoverQueues()
            } else {
                for name in names { try await inspector.requireQueue(name) }
            }
            let rows = try await inspector.overview(of: names)
            let now = currentTimeMs()
            switch global.format {
            case .json:
                let totals = rows.reduce(JobCounts()) { $0 + $1.counts }
                let total = QueueOverview(
                    queue: "TOTAL", counts: totals, isPaused: false,
                    oldestWaitingTimestamp: rows.compactMap(\.oldestWaitingTimestamp).min(), problems: [])
                let document = JSONValue.object([
                    ("location", .string(inspector.location)),
                    ("queues", .array(rows.map { JSONShapes.overview($0, now: now) })),
                    ("totals", totalsShape(total, now: now)),
                ])
                Terminal.write(document.prettyText + "\n")
            case .jsonl:
                Terminal.write(rows.map { JSONShapes.overview($0, now: now).compactText + "\n" }.joined())
            case .text:
                if rows.isEmpty {
                    Terminal.writeError("no queues found at \(inspector.location)\n")
                    return
                }
                Terminal.write(table(rows, now: now))
                for row in rows { reportProblems(row.problems, context: row.queue) }
            }
        }
    }

    private func totalsShape(_ total: QueueOverview, now: Int64) -> JSONValue {
        guard case .object(let members) = JSONShapes.overview(total, now: now) else { return .null }
        return .object(members.filter { !["queue", "paused", "problems"].contains($0.0) })
    }

    private func table(_ rows: [QueueOverview], now: Int64) -> String {
        var table = TextTable([
            ("QUEUE", .left), ("WAITING", .right), ("ACTIVE", .right), ("DELAYED", .right), ("FAILED", .right),
            ("COMPLETED", .right), ("PAUSED", .left), ("OLDEST WAITING", .left),
        ])
        func line(_ name: String, _ counts: JobCounts, paused: String, oldest: Int64?) -> [String] {
            [
                name, Cell.count(counts.ready), Cell.count(counts[.active]), Cell.count(counts[.delayed]),
                Cell.count(counts[.failed]), Cell.count(counts[.completed]), paused,
                oldest.map { DurationText.describe(milliseconds: max(0, now - $0)) } ?? "-",
            ]
        }
        for row in rows {
            table.append(line(Cell.oneLine(row.queue), row.counts, paused: row.isPaused ? "yes" : "no", oldest: row.oldestWaitingTimestamp))
        }
        if rows.count > 1 {
            let totals = rows.reduce(JobCounts()) { $0 + $1.counts }
            let paused = rows.filter(\.isPaused).count
            table.append(line("TOTAL", totals, paused: "\(paused) of \(rows.count)", oldest: rows.compactMap(\.oldestWaitingTimestamp).min()))
        }
        return table.render()
    }
}
