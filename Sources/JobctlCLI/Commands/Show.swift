import ArgumentParser
import JobCore

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show every field of one job: data, options, result, failure, attempts, lock and logs.",
        usage: "jobctl show [<options>] <queue> <id>"
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The queue.")
    var queue: String

    @Argument(help: "The job id.")
    var id: String

    func run() async throws {
        try await Terminal.reportingErrors {
            let inspector = try await global.connect()
            guard let job = try await inspector.job(in: queue, id: id) else {
                try await inspector.requireQueue(queue)
                throw JobNotFoundError(queue: queue, id: id)
            }
            switch global.format {
            case .json: Terminal.write(JSONShapes.job(job).prettyText + "\n")
            case .jsonl: Terminal.write(JSONShapes.job(job).compactText + "\n")
            case .text:
                Terminal.write(text(job, now: currentTimeMs()))
                reportProblems(job.problems, context: "job \(job.id)")
            }
        }
    }

    private func text(_ job: JobRecord, now: Int64) -> String {
        var lines: [(String, String)] = [
            ("id", job.id), ("queue", job.queue), ("state", job.state?.rawValue ?? "unknown (in no state list)"),
            ("name", job.name ?? "-"),
        ]
        func time(_ label: String, _ value: Int64?) {
            guard let value, value > 0 else { return }
            lines.append((label, "\(Timestamps.iso8601(milliseconds: value)) (\(Cell.relative(value, now: now)))"))
        }
        time("added", job.timestamp)
        if let delay = job.delay, delay > 0 { lines.append(("delay", DurationText.describe(milliseconds: delay))) }
        if let priority = job.priority, priority > 0 { lines.append(("priority", String(priority))) }
        time("processed", job.processedOn)
        time("finished", job.finishedOn)
        lines.append(("attempts", "\(job.attemptsMade) made, \(job.attemptsStarted) started"))
        if job.stalledCounter > 0 { lines.append(("stalled", "\(job.stalledCounter) time(s)")) }
        if let lock = job.lock {
            let expiry: String
            switch lock.ttlMs {
            case .none: expiry = ", no expiry"
            case .some(let ttl) where ttl >= 0: expiry = ", expires in \(DurationText.describe(milliseconds: ttl))"
            case .some(let ttl):
                expiry =
                    ", expired \(DurationText.describe(milliseconds: -ttl)) ago (the worker is gone or stuck); "
                    + "the next stalled check moves the job back to waiting"
            }
            lines.append(("lock", "held by \(lock.token)" + expiry))
        } else if job.state == .active {
            lines.append(
                ("lock", "none: expired (the worker is gone); the next stalled check moves the job back to waiting"))
        }
        if let reason = job.failedReason { lines.append(("failed reason", reason)) }
        if let deferred = job.deferredFailure { lines.append(("deferred failure", deferred)) }
        if let by = job.processedBy { lines.append(("processed by", by)) }
        if let key = job.repeatJobKey { lines.append(("scheduler", key)) }
        if let dedup = job.deduplicationId { lines.append(("deduplication id", dedup)) }
        if let parent = job.parentKey { lines.append(("parent", parent)) }
        for (field, value) in job.otherFields { lines.append((field, value)) }

        let width = lines.map(\.0.count).max() ?? 0
        var out =
            lines.map { $0.0 + String(repeating: " ", count: width - $0.0.count) + "  " + $0.1 }.joined(separator: "\n")
            + "\n"
        func block(_ title: String, _ value: StoredJSON?) {
            guard let value else { return }
            out += "\n\(title):\n" + indent(value.displayValue.prettyText) + "\n"
        }
        block("data", job.data)
        block("opts", job.opts)
        block("progress", job.progress)
        block("return value", job.returnValue)
        if !job.stacktrace.isEmpty {
            out += "\nstack traces (\(job.stacktrace.count), oldest first):\n"
            for (index, trace) in job.stacktrace.enumerated() {
                out += "  [\(index + 1)]\n" + indent(trace, by: 4) + "\n"
            }
        }
        if job.logCount > 0 {
            out += "\nlogs (\(job.logCount)):\n" + job.logs.map { "  " + $0 }.joined(separator: "\n") + "\n"
        }
        return out
    }

    private func indent(_ text: String, by count: Int = 2) -> String {
        let pad = String(repeating: " ", count: count)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { pad + $0 }.joined(separator: "\n")
    }
}
