import ArgumentParser
import JobCore

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one queue in detail: counts per state, limits, paused flag, stalled candidates.",
        discussion: """
            Counts use BullMQ's state names. 'paused' counts the legacy paused list of queues paused by BullMQ 5 \
            or older; a queue paused by BullMQ 6 keeps its jobs under 'waiting' and has the paused flag set. \
            Stalled candidates are active jobs whose lock has expired: the next stalled check of any worker \
            moves them back to waiting.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The queue.")
    var queue: String

    func run() async throws {
        try await Terminal.reportingErrors {
            let inspector = try await global.connect()
            try await inspector.requireQueue(queue)
            let stats = try await inspector.stats(of: queue)
            let now = currentTimeMs()
            switch global.format {
            case .json: Terminal.write(JSONShapes.stats(stats, location: inspector.location, now: now).prettyText + "\n")
            case .jsonl: Terminal.write(JSONShapes.stats(stats, location: inspector.location, now: now).compactText + "\n")
            case .text:
                Terminal.write(text(stats, location: inspector.location, now: now))
                reportProblems(stats.overview.problems)
            }
        }
    }

    private func text(_ stats: QueueStats, location: String, now: Int64) -> String {
        let row = stats.overview
        var out = "queue    \(Cell.oneLine(row.queue, limit: 200))\n"
        out += "server   \(location)\n"
        out += "paused   \(row.isPaused ? "yes (workers take no jobs until 'resume')" : "no")\n\n"
        var table = TextTable([("STATE", .left), ("JOBS", .right)])
        for state in [JobState.waiting, .prioritized, .delayed, .active, .completed, .failed, .waitingChildren] {
            table.append([state.rawValue, Cell.count(row.counts[state])])
        }
        if let legacy = row.counts[.paused], legacy > 0 { table.append(["paused (legacy list)", Cell.count(legacy)]) }
        out += table.render() + "\n"
        var facts = TextTable([("", .left), ("", .left)])
        facts.append([
            "oldest waiting",
            row.oldestWaitingTimestamp.map {
                "\(DurationText.describe(milliseconds: max(0, now - $0))) (added \(Timestamps.iso8601(milliseconds: $0)))"
            } ?? "-",
        ])
        facts.append(["global concurrency", stats.globalConcurrency.map { String($0) } ?? "not set"])
        facts.append([
            "global rate limit",
            stats.rateLimit.map { "\($0.max) jobs per \(DurationText.describe(milliseconds: $0.durationMs))" } ?? "not set",
        ])
        var stalled = Cell.count(stats.stalledCandidates)
        if !stats.stalledCandidateSample.isEmpty { stalled += " (e.g. " + stats.stalledCandidateSample.joined(separator: ", ") + ")" }
        facts.append(["stalled candidates", stalled])
        if let version = stats.recordedVersion { facts.append(["created by", version]) }
        // Drop the empty header line of the facts table.
        out += facts.render().split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n")
        return out
    }
}
