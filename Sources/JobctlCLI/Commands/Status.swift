import ArgumentParser
import JobCore

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show every queue on one screen: counts, workers, paused flag, age of the oldest waiting job.",
        usage: "jobctl status [<options>] [<queues> ...] [--check <rules>] [--watch]",
        discussion: """
            Queues are found with SCAN under the prefix (never KEYS). WAITING counts every job ready to run: \
            the wait list, the legacy paused list and prioritized jobs. WORKERS counts the workers connected \
            to each queue as 'jobctl workers' lists them ('?' when the server refuses CLIENT LIST). Name queues \
            to show only those.

            --check RULES exits 2 when a rule does not hold for a queue, naming each such rule with the value \
            found (on stderr), and 0 otherwise. Rules: 'metric op value' separated by commas, e.g. \
            'backlog<1000,failed_rate<5%,oldest_wait<10m,paused=false'. Ops: < <= > >= = !=. Metrics: backlog \
            (waiting + prioritized), waiting, prioritized, active, delayed, failed, completed, waiting_children, \
            stalled, workers (counts); paused (true/false); oldest_wait (a duration such as 90s, 10m, 2h); failed_rate \
            (the share of jobs finished in the last hour that failed, as a percentage; 0% when none finished); \
            schedulers and overdue_schedulers (job schedulers, and those whose job is due over a minute ago with \
            nothing taking it or that will never fire again: 'jobctl schedulers' says which), so that \
            'overdue_schedulers=0' alerts when scheduled work silently stopped. SCHEDULERS shows both.

            -o prometheus prints Prometheus' text format for node_exporter's textfile collector, every metric a \
            gauge labelled with queue: jobctl_queue_jobs{state}, jobctl_queue_paused, jobctl_queue_workers, \
            jobctl_queue_oldest_waiting_seconds; 'stats' adds jobctl_queue_global_concurrency, \
            jobctl_queue_stalled_candidates, jobctl_queue_finished_per_minute{result,source}, \
            jobctl_queue_failure_ratio, jobctl_queue_arrivals_per_minute, jobctl_queue_processing_seconds{quantile} \
            and jobctl_queue_waiting_seconds{quantile} (quantile 1 is the maximum).
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "Queues to show (default: every queue found).")
    var queues: [String] = []

    @Option(help: ArgumentHelp("Health rules; exit 2 naming each that fails (see below).", valueName: "rules"))
    var check: String?

    @OptionGroup var watch: WatchOption

    func validate() throws {
        if let check {
            do { _ = try HealthCheck(parsing: check) } catch { throw ValidationError("--check: \(error)") }
            if watch.watch != nil { throw ValidationError("--check gives one answer: it does not go with --watch") }
        }
    }

    func run() async throws {
        try await Terminal.reportingErrors {
            let inspector = try await global.connect(allowingPrometheus: true, forCounting: true)
            let names = try await inspector.queues(named: queues)
            var previous: [String: JobCounts] = [:]
            var refusalShown = false
            try await Watch.loop(every: watch.watch) {
                var rows = try await inspector.overview(of: names)
                switch try await inspector.workerCounts(of: names) {
                case .success(let counts):
                    for index in rows.indices { rows[index].workers = counts[rows[index].queue] }
                case .failure(let refusal):
                    if !refusalShown {
                        Terminal.writeError("note: workers unknown: \(refusal.description)\n")
                        refusalShown = true
                    }
                }
                let now = currentTimeMs()
                let schedulers = SchedulerCounts.tally(
                    try await inspector.schedulers(of: names, lastRuns: false), now: now,
                    graceMs: SchedulerCounts.defaultGraceMs)
                for index in rows.indices {
                    rows[index].schedulers = schedulers[rows[index].queue] ?? SchedulerCounts()
                }
                let failures = try await checkFailures(rows, inspector: inspector, now: now)
                show(rows, location: inspector.location, now: now, previous: previous)
                previous = Dictionary(rows.map { ($0.queue, $0.counts) }, uniquingKeysWith: { first, _ in first })
                if !failures.isEmpty { throw ExitStatus.checkFailed.exitCode }
            }
        }
    }

    private func show(_ rows: [QueueOverview], location: String, now: Int64, previous: [String: JobCounts]) {
        if global.prometheus {
            var exposition = PrometheusText()
            for row in rows { exposition.addOverview(row, now: now) }
            Terminal.write(exposition.text)
            return
        }
        switch global.format {
        case .json:
            let totals = rows.reduce(JobCounts()) { $0 + $1.counts }
            var total = QueueOverview(
                queue: "TOTAL", counts: totals, isPaused: false,
                oldestWaitingTimestamp: rows.compactMap(\.oldestWaitingTimestamp).min(), problems: [])
            total.workers = Self.sum(rows.map(\.workers))
            total.schedulers = rows.compactMap(\.schedulers).reduce(into: SchedulerCounts()) {
                $0.total += $1.total
                $0.overdue += $1.overdue
            }
            let document = JSONValue.object([
                ("location", .string(location)),
                ("queues", .array(rows.map { JSONShapes.overview($0, now: now) })),
                ("totals", totalsShape(total, now: now)),
            ])
            Terminal.write(document.prettyText + "\n")
        case .jsonl:
            Terminal.write(rows.map { JSONShapes.overview($0, now: now).compactText + "\n" }.joined())
        case .text:
            if rows.isEmpty {
                Terminal.writeError("no queues found at \(location)\n")
                return
            }
            Terminal.write(table(rows, now: now, previous: previous))
            for row in rows { reportProblems(row.problems, context: row.queue) }
        }
    }

    /// The --check rules that fail, per queue, each reported on stderr.
    private func checkFailures(
        _ rows: [QueueOverview], inspector: any QueueInspector, now: Int64
    ) async throws -> [(String, HealthCheck.Failure)] {
        guard let check, let rules = try? HealthCheck(parsing: check) else { return [] }
        var failures: [(String, HealthCheck.Failure)] = []
        for row in rows {
            var figures = HealthCheck.Figures(
                counts: row.counts, isPaused: row.isPaused,
                oldestWaitMs: row.oldestWaitingTimestamp.map { max(0, now - $0) }, workers: row.workers,
                schedulers: row.schedulers)
            let sampleSize = QueueHistory.defaultSampleSize
            var history: QueueHistory?
            switch (rules.needsStalled, rules.needsHistory) {
            case (true, true):
                let (stats, sampled) = try await inspector.statsWithHistory(of: row.queue, sampleSize: sampleSize)
                (figures.stalled, history) = (stats.stalledCandidates, sampled)
            case (true, false): figures.stalled = try await inspector.stats(of: row.queue).stalledCandidates
            case (false, true): history = try await inspector.history(of: row.queue, sampleSize: sampleSize)
            case (false, false): break
            }
            if let history {
                figures.failureRate =
                    QueueAnalysis(
                        history: history, backlog: row.counts.ready, oldestWaitingAt: row.oldestWaitingTimestamp,
                        now: now
                    ).failureRate
            }
            for failure in rules.failures(figures) {
                failures.append((row.queue, failure))
                Terminal.writeError(
                    "check failed: \(Cell.oneLine(row.queue)): \(failure.rule) (found \(failure.found))\n")
            }
        }
        return failures
    }

    private func totalsShape(_ total: QueueOverview, now: Int64) -> JSONValue {
        guard case .object(let members) = JSONShapes.overview(total, now: now) else { return .null }
        return .object(members.filter { !["queue", "paused", "problems"].contains($0.0) })
    }

    private func table(_ rows: [QueueOverview], now: Int64, previous: [String: JobCounts]) -> String {
        var table = TextTable([
            ("QUEUE", .left), ("WAITING", .right), ("ACTIVE", .right), ("DELAYED", .right), ("FAILED", .right),
            ("COMPLETED", .right), ("WORKERS", .right), ("PAUSED", .left), ("OLDEST WAITING", .left),
            ("SCHEDULERS", .left),
        ])
        func line(
            _ name: String, _ counts: JobCounts, workers: Int?, paused: String, oldest: Int64?,
            schedulers: SchedulerCounts?, before: JobCounts? = nil
        ) -> [String] {
            [
                name, Watch.count(counts.ready, previous: before?.ready),
                Watch.count(counts[.active], previous: before?[.active]),
                Watch.count(counts[.delayed], previous: before?[.delayed]),
                Watch.count(counts[.failed], previous: before?[.failed]),
                Watch.count(counts[.completed], previous: before?[.completed]), workers.map { String($0) } ?? "?",
                paused, oldest.map { DurationText.describe(milliseconds: max(0, now - $0)) } ?? "-",
                JSONShapes.schedulersText(schedulers),
            ]
        }
        for row in rows {
            table.append(
                line(
                    Cell.oneLine(row.queue), row.counts, workers: row.workers, paused: row.isPaused ? "yes" : "no",
                    oldest: row.oldestWaitingTimestamp, schedulers: row.schedulers,
                    before: previous[row.queue]))
        }
        if rows.count > 1 {
            let totals = rows.reduce(JobCounts()) { $0 + $1.counts }
            let paused = rows.filter(\.isPaused).count
            table.append(
                line(
                    "TOTAL", totals, workers: Self.sum(rows.map(\.workers)), paused: "\(paused) of \(rows.count)",
                    oldest: rows.compactMap(\.oldestWaitingTimestamp).min(),
                    schedulers: rows.compactMap(\.schedulers).reduce(into: SchedulerCounts()) {
                        $0.total += $1.total
                        $0.overdue += $1.overdue
                    }))
        }
        return table.render()
    }

    /// The sum, or nil when any is unknown.
    private static func sum(_ values: [Int?]) -> Int? {
        values.reduce(0 as Int?) { total, value in total.flatMap { total in value.map { total + $0 } } }
    }
}
