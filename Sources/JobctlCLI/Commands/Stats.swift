import ArgumentParser
import JobCore

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show one queue in detail: counts, limits, throughput, timings, top failures and advice.",
        usage: "jobctl stats [<options>] <queue> [--sample <n>] [--thresholds <k=v>]",
        discussion: """
            Counts use BullMQ's state names. 'paused' counts the legacy paused list of queues paused by BullMQ 5 \
            or older; a queue paused by BullMQ 6 keeps its jobs under 'waiting' and has the paused flag set. \
            Stalled candidates are active jobs whose lock has expired: the next stalled check of any worker \
            moves them back to waiting.

            Throughput per minute over the last hour comes from BullMQ's metrics when the queue's workers record \
            them, otherwise from the finish times of the jobs the queue keeps (labelled derived; it covers only \
            as far back as the sample reaches). Processing time (start to finish of the last attempt) and waiting \
            time (due to start) are percentiles over the --sample most recent completed and failed jobs. \
            Arrivals are counted from the creation times of the sampled jobs (finished, newest waiting, active); \
            prioritized and delayed jobs are not sampled. Top failures group failed reasons with numbers and ids \
            taken out, by job name.

            Advice lines appear when a threshold is crossed; change them with --thresholds, e.g. \
            'failure_rate=10%,throughput=5,waiting=100,processing=30s,lock_margin=5s' (the defaults).
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The queue.")
    var queue: String

    @OptionGroup var sample: SampleOption

    @Option(help: ArgumentHelp("When advice appears: KEY=VALUE,… (see below).", valueName: "thresholds"))
    var thresholds: String?

    @OptionGroup var watch: WatchOption

    func validate() throws {
        if let thresholds {
            do { _ = try Advice.Thresholds(parsing: thresholds) } catch {
                throw ValidationError("--thresholds: \(error)")
            }
        }
    }

    func run() async throws {
        try await Terminal.reportingErrors {
            let inspector = try await global.connect(allowingPrometheus: true, forCounting: true)
            try await inspector.requireQueue(queue)
            let limits = try thresholds.map { try Advice.Thresholds(parsing: $0) } ?? Advice.Thresholds()
            var previous: JobCounts?
            try await Watch.loop(every: watch.watch) {
                let counts = try await show(inspector, limits: limits, previous: previous)
                previous = counts
            }
        }
    }

    /// One screen of stats; returns the counts shown, for the next screen's changes.
    private func show(
        _ inspector: any QueueInspector, limits: Advice.Thresholds, previous: JobCounts?
    ) async throws -> JobCounts {
        var (stats, _, analysis) = try await inspector.analyzed(
            queue, sampleSize: sample.sample, lockMarginMs: limits.lockMarginMs)
        let workerRefusal: WorkerListingRefusedError?
        switch try await inspector.workerCounts(of: [queue]) {
        case .success(let counts): (stats.overview.workers, workerRefusal) = (counts[queue], nil)
        case .failure(let refusal): workerRefusal = refusal
        }
        let now = currentTimeMs()
        stats.overview.schedulers =
            SchedulerCounts.tally(
                try await inspector.schedulers(of: [queue], lastRuns: false), now: now,
                graceMs: SchedulerCounts.defaultGraceMs)[queue] ?? SchedulerCounts()
        let advice = Advice.lines(
            analysis, stalledCandidates: stats.stalledCandidates, thresholds: limits,
            pausedQueue: stats.overview.isPaused ? queue : nil, workers: stats.overview.workers)
        if global.prometheus {
            var exposition = PrometheusText()
            exposition.addOverview(stats.overview, now: now)
            exposition.addStats(stats, analysis: analysis)
            Terminal.write(exposition.text)
            return stats.overview.counts
        }
        switch global.format {
        case .json, .jsonl:
            let shape = JSONShapes.stats(
                stats, location: inspector.location, now: now, analysis: analysis, advice: advice)
            Terminal.write((global.format == .json ? shape.prettyText : shape.compactText) + "\n")
        case .text:
            Terminal.write(
                text(stats, location: inspector.location, now: now, previous: previous, workerRefusal: workerRefusal))
            Terminal.write(AnalysisText.render(analysis, advice: advice))
            reportProblems(stats.overview.problems)
        }
        return stats.overview.counts
    }

    private func text(
        _ stats: QueueStats, location: String, now: Int64, previous: JobCounts?,
        workerRefusal: WorkerListingRefusedError?
    ) -> String {
        let row = stats.overview
        var out = "queue    \(Cell.oneLine(row.queue, limit: 200))\n"
        out += "server   \(location)\n"
        out += "paused   \(row.isPaused ? "yes (workers take no jobs until 'resume')" : "no")\n"
        let workers =
            switch (row.workers, workerRefusal) {
            case (let count?, _): "\(count) connected" + (count > 0 ? " ('jobctl workers' lists them)" : "")
            case (nil, let refusal?): "unknown: the server refuses CLIENT LIST (\(refusal.serverMessage))"
            case (nil, nil): "unknown"
            }
        out += "workers  \(workers)\n\n"
        var table = TextTable([("STATE", .left), ("JOBS", .right)])
        for state in [JobState.waiting, .prioritized, .delayed, .active, .completed, .failed, .waitingChildren] {
            table.append([state.rawValue, Watch.count(row.counts[state], previous: previous?[state])])
        }
        if let legacy = row.counts[.paused], legacy > 0 { table.append(["paused (legacy list)", Cell.count(legacy)]) }
        out += table.render() + "\n"
        var facts = TextTable([("", .left), ("", .left)])
        facts.append([
            "oldest waiting",
            row.oldestWaitingTimestamp.map {
                "\(DurationText.describe(milliseconds: max(0, now - $0))) (added "
                    + "\(Timestamps.iso8601(milliseconds: $0)))"
            } ?? "-",
        ])
        facts.append(["global concurrency", stats.globalConcurrency.map { String($0) } ?? "not set"])
        facts.append([
            "global rate limit",
            stats.rateLimit.map { "\($0.max) jobs per \(DurationText.describe(milliseconds: $0.durationMs))" }
                ?? "not set",
        ])
        var stalled = Cell.count(stats.stalledCandidates)
        if !stats.stalledCandidateSample.isEmpty {
            stalled += " (e.g. " + stats.stalledCandidateSample.joined(separator: ", ") + ")"
        }
        facts.append(["stalled candidates", stalled])
        facts.append(["job schedulers", JSONShapes.schedulersText(row.schedulers)])
        if let version = stats.recordedVersion { facts.append(["created by", version]) }
        out += facts.renderWithoutHeaders()
        return out
    }
}
