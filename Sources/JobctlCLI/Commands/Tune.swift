import ArgumentParser
import Glibc
import JobCore

struct Tune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Recommend worker settings from what a queue shows, with the numbers behind each.",
        discussion: """
            From the same sample as 'stats': concurrency by Little's law (arrivals × p95 processing time, with \\
            headroom; capped at the cores for --cpu-bound work); lockDuration at least twice the p99 processing \\
            time and never below BullMQ's 30 s, lockRenewTime half of it, stalledInterval and maxStalledCount \\
            (with a warning where stalls coincide with long jobs); drainDelay, the seconds an idle worker blocks \\
            waiting (a long-poll timeout, not a polling interval); a rate limit where failures look like rate \\
            limiting (429, 'rate limit', 'too many requests', timeouts); retry backoff where failures come in \\
            bursts.

            --apply writes what BullMQ stores per queue — the global concurrency and the global rate limit — \\
            after confirmation (--yes off a terminal; --dry-run shows what it would write). The rest are worker or \\
            job options to set in the code that starts the workers or adds the jobs.
            """
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var change: ChangeOptions

    @Argument(help: "The queue.")
    var queue: String

    @Flag(help: "The jobs use CPU the whole time: concurrency is capped at --cores.")
    var cpuBound = false

    @Flag(help: "The jobs mostly wait on I/O: concurrency is not capped by cores.")
    var ioBound = false

    @Option(help: "Cores of a worker machine (default: this machine's).")
    var cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))

    @OptionGroup var sample: SampleOption

    @Flag(help: "Write the global concurrency and rate limit recommended (after confirmation).")
    var apply = false

    func validate() throws {
        if cpuBound && ioBound { throw ValidationError("--cpu-bound and --io-bound exclude each other") }
        guard cores >= 1 else { throw ValidationError("--cores must be at least 1") }
        if (change.yes || change.dryRun) && !apply { throw ValidationError("--yes and --dry-run go with --apply") }
    }

    func run() async throws {
        try await Terminal.reportingErrors {
            let controller = try await global.connect(forCounting: true)
            try await controller.requireQueue(queue)
            let (stats, sampled, analysis) = try await controller.analyzed(queue, sampleSize: sample.sample)
            let tuning = Tuning(
                analysis: analysis, history: sampled, globalConcurrency: stats.globalConcurrency,
                rateLimit: stats.rateLimit,
                workload: cpuBound ? .cpuBound : ioBound ? .ioBound : .unknown, cores: cores)
            let changes = tuning.recommendations.compactMap(\.apply)
            switch global.format {
            case .json, .jsonl:
                let shape = JSONValue.object([
                    ("queue", .string(queue)),
                    (
                        "recommendations",
                        .array(
                            tuning.recommendations.map { recommendation in
                                .object([
                                    ("setting", .string(recommendation.setting)),
                                    ("value", .string(recommendation.value)),
                                    ("current", .string(recommendation.current)),
                                    ("reason", .string(recommendation.reason)),
                                    ("appliable", .bool(recommendation.apply != nil)),
                                ])
                            })
                    ),
                    ("warnings", .array(tuning.warnings.map { .string($0) })),
                    ("analytics", JSONShapes.analytics(analysis)),
                ])
                Terminal.write((global.format == .json ? shape.prettyText : shape.compactText) + "\n")
            case .text:
                var table = TextTable([("SETTING", .left), ("RECOMMENDED", .left), ("CURRENT", .left), ("WHY", .left)])
                for recommendation in tuning.recommendations {
                    table.append([
                        recommendation.setting, recommendation.value.isEmpty ? "-" : recommendation.value,
                        Cell.oneLine(recommendation.current, limit: 60), recommendation.reason,
                    ])
                }
                Terminal.write(table.render())
                for warning in tuning.warnings { Terminal.warn(warning) }
            }
            guard apply else { return }
            guard !changes.isEmpty else {
                Terminal.writeError("nothing to apply: no global concurrency or rate limit was recommended\n")
                return
            }
            let described = changes.map(Self.describe).joined(separator: " and ")
            if change.dryRun {
                Terminal.writeError("would set \(described) on '\(queue)' (dry run: nothing changed)\n")
                return
            }
            try confirm("set \(described) on '\(queue)'", options: change)
            let startedAt = currentTimeMs()
            for change in changes {
                switch change {
                case .globalConcurrency(let value): try await controller.setGlobalConcurrency(value, queue: queue)
                case .globalRateLimit(let limit): try await controller.setGlobalRateLimit(limit, queue: queue)
                }
            }
            await recordTrail(
                [QueueTally(queue: queue, matched: changes.count, changed: changes.count)],
                note: change.note(command: "tune"), filters: .object([("set", .string(described))]),
                startedAt: startedAt, interrupted: false, in: controller)
            Terminal.writeError("set \(described) on '\(queue)'\n")
        }
    }

    static func describe(_ change: Tuning.Apply) -> String {
        switch change {
        case .globalConcurrency(let value): "global concurrency \(value)"
        case .globalRateLimit(let limit):
            "global rate limit \(limit.max) per \(DurationText.describe(milliseconds: limit.durationMs))"
        }
    }
}
