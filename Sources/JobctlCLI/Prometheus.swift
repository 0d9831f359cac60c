import JobCore

/// `-o prometheus`: Prometheus' text exposition format (version 0.0.4), for node_exporter's textfile collector.
///
/// Every metric is a gauge labelled with the queue; names and labels are documented in `jobctl help status`.
struct PrometheusText {
    private var families: [(name: String, help: String, samples: [String])] = []

    /// Adds a sample to the metric `name` (created with `help` on first use).
    ///
    /// Nil values are left out.
    mutating func add(_ name: String, help: String, labels: [(String, String)], _ value: Double?) {
        guard let value else { return }
        let labelText = labels.map { "\($0.0)=\"\(Self.escaped($0.1))\"" }.joined(separator: ",")
        let sample = "\(name){\(labelText)} \(Self.number(value))"
        if let index = families.firstIndex(where: { $0.name == name }) {
            families[index].samples.append(sample)
        } else {
            families.append((name, help, [sample]))
        }
    }

    var text: String {
        families.map { family in
            "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) gauge\n"
                + family.samples.map { $0 + "\n" }.joined()
        }.joined()
    }

    static func escaped(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    static func number(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// The counts, paused flag and oldest waiting age of a queue (status and stats).
    mutating func addOverview(_ row: QueueOverview, now: Int64) {
        let queue = [("queue", row.queue)]
        for state in [JobState.waiting, .prioritized, .delayed, .active, .completed, .failed, .waitingChildren] {
            let count = state == .waiting ? row.counts.ready - (row.counts[.prioritized] ?? 0) : row.counts[state]
            add(
                "jobctl_queue_jobs", help: "Jobs in each BullMQ state (waiting includes the legacy paused list).",
                labels: queue + [("state", state.rawValue)], count.map(Double.init))
        }
        add("jobctl_queue_paused", help: "1 when the queue is paused.", labels: queue, row.isPaused ? 1 : 0)
        add(
            "jobctl_queue_workers", help: "Workers connected to the queue (left out when the server will not say).",
            labels: queue, row.workers.map(Double.init))
        add(
            "jobctl_queue_schedulers", help: "Job schedulers of the queue.", labels: queue,
            row.schedulers.map { Double($0.total) })
        add(
            "jobctl_queue_schedulers_overdue",
            help: "Job schedulers overdue: their job late and nothing taking it, or gone (stuck).",
            labels: queue, row.schedulers.map { Double($0.overdue) })
        add(
            "jobctl_queue_oldest_waiting_seconds", help: "Age of the oldest job ready to run (0 when none).",
            labels: queue,
            Double(row.oldestWaitingTimestamp.map { max(0, now - $0) } ?? 0) / 1000)
    }

    /// What stats adds: limits, stalled candidates, rates, percentiles.
    mutating func addStats(_ stats: QueueStats, analysis: QueueAnalysis) {
        let queue = [("queue", stats.overview.queue)]
        add(
            "jobctl_queue_global_concurrency", help: "The queue's global concurrency, when set.", labels: queue,
            stats.globalConcurrency.map(Double.init))
        add(
            "jobctl_queue_stalled_candidates", help: "Active jobs whose lock is gone.", labels: queue,
            stats.stalledCandidates.map(Double.init))
        let source = [("source", analysis.throughputSource.rawValue)]
        add(
            "jobctl_queue_finished_per_minute",
            help: "Jobs finished per minute over the last hour (source: metrics or derived).",
            labels: queue + [("result", "completed")] + source, analysis.completedRate)
        add(
            "jobctl_queue_finished_per_minute", help: "", labels: queue + [("result", "failed")] + source,
            analysis.failedRate)
        add(
            "jobctl_queue_failure_ratio", help: "Failed among jobs finished over the last hour (0 to 1).",
            labels: queue, analysis.failureRate)
        add(
            "jobctl_queue_arrivals_per_minute", help: "Jobs added per minute, from the creation times of sampled jobs.",
            labels: queue,
            analysis.arrivalRate)
        for (name, percentiles, help) in [
            (
                "jobctl_queue_processing_seconds", analysis.processing,
                "Processing time of recently finished jobs, by quantile (1 = max)."
            ),
            (
                "jobctl_queue_waiting_seconds", analysis.waiting,
                "Time from due to start of recently finished jobs, by quantile (1 = max)."
            ),
        ] {
            guard let percentiles else { continue }
            for (quantile, value) in [
                ("0.5", percentiles.p50), ("0.95", percentiles.p95), ("0.99", percentiles.p99), ("1", percentiles.max),
            ] {
                add(name, help: help, labels: queue + [("quantile", quantile)], Double(value) / 1000)
            }
        }
    }
}
