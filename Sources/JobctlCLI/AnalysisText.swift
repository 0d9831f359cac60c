import JobCore

/// The analytics part of `jobctl stats` as text.
enum AnalysisText {
    static func render(_ analysis: QueueAnalysis, advice: [Advice]) -> String {
        func rate(_ value: Double?) -> String {
            guard let value, value.isFinite else { return "-" }
            let tenths = Int64((value * 10).rounded())
            return "\(tenths / 10).\(abs(tenths % 10))/min"
        }
        func duration(_ ms: Int64?) -> String { ms.map { DurationText.describe(milliseconds: $0) } ?? "-" }
        let source =
            analysis.throughputSource == .metrics
            ? "BullMQ metrics" : "derived from the finish times of up to \(analysis.sampleSize) kept jobs of each kind"
        var out = "\nthroughput, last \(duration(analysis.rateWindowMs)) (\(source))\n"
        var facts = TextTable([("", .left), ("", .left)])
        facts.append(["completed", rate(analysis.completedRate) + "  " + Sparkline.of(analysis.completedPerMinute)])
        facts.append(["failed", rate(analysis.failedRate) + "  " + Sparkline.of(analysis.failedPerMinute)])
        facts.append(["failure rate", analysis.failureRate.map(Percent.text) ?? "-"])
        facts.append(["arrivals", rate(analysis.arrivalRate) + " (over \(duration(analysis.arrivalWindowMs)))"])
        let growth = analysis.backlogGrowthRate.map { $0 > 0 ? "growing \(rate($0))" : "shrinking \(rate(-$0))" } ?? "-"
        facts.append(["backlog", "\(analysis.backlog), \(growth)"])
        facts.append([
            "time to empty",
            analysis.backlog == 0
                ? "empty" : analysis.timeToEmptyMs.map { DurationText.describe(milliseconds: $0) } ?? "not shrinking",
        ])
        out += facts.renderWithoutHeaders()
        var timings = TextTable([
            ("TIME", .left), ("P50", .right), ("P95", .right), ("P99", .right), ("MAX", .right), ("JOBS", .right),
        ])
        for (label, value) in [("processing", analysis.processing), ("waiting", analysis.waiting)] {
            if let value {
                timings.append([
                    label, duration(value.p50), duration(value.p95), duration(value.p99), duration(value.max),
                    String(value.sampleSize),
                ])
            } else {
                timings.append([label, "-", "-", "-", "-", "0"])
            }
        }
        out += "\n" + timings.render()
        if !analysis.topFailures.isEmpty {
            var failures = TextTable([
                ("FAILURES", .right), ("NAME", .left), ("REASON", .left), ("FIRST", .left), ("LAST", .left),
            ])
            for group in analysis.topFailures {
                failures.append([
                    String(group.count), Cell.oneLine(group.name, limit: 30), Cell.oneLine(group.reason, limit: 80),
                    Timestamps.iso8601(milliseconds: group.firstSeen), Timestamps.iso8601(milliseconds: group.lastSeen),
                ])
            }
            out += "\n" + failures.render()
        }
        if !advice.isEmpty {
            out += "\nadvice\n" + advice.map { "  ! \($0.message)\n      (\($0.evidence))\n" }.joined()
        }
        return out
    }
}

/// Per-minute counts as a line of block characters (a space where the minute is not known).
enum Sparkline {
    static func of(_ values: [Int64?]) -> String {
        let top = values.compactMap { $0 }.max() ?? 0
        let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        return String(
            values.map { value -> Character in
                guard let value else { return " " }
                if top == 0 { return "▁" }
                return blocks[Int((Double(value) / Double(top) * 7).rounded())]
            })
    }
}
