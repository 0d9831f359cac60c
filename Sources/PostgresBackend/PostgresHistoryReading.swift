public import JobCore

/// The history behind `jobctl stats` analytics and `jobctl tune`: bounded index scans (finished jobs by
/// `job_finished_idx`, the newest ready jobs by `job_ready_idx`, active ones by `job_active_idx`), plus the
/// `metrics` rows.
extension PostgresQueueStore {
    public func history(of queue: String, sampleSize: Int) async throws -> QueueHistory {
        try await run(historyBatch(of: queue, sampleSize: sampleSize))
    }

    func historyBatch(of queue: String, sampleSize: Int) -> StatementBatch<QueueHistory> {
        let limit = String(sampleSize + 1)  // one more than the sample: tells whether a list was cut
        let job = table("job")
        let statements = [
            // Reads a heap row per sampled job: as long as a count's piece. Of each reason only what a fingerprint
            // reads (a handler may have put megabytes in it).
            Statement(
                sql: """
                    (SELECT id, name, state::text, added_at_ms, delay_ms, processed_at_ms, finished_at_ms,
                            left(failed_reason, \(ErrorText.scanLimit))
                       FROM \(job) WHERE queue = $1 AND state = 'completed' ORDER BY finished_at_ms DESC LIMIT $2::int)
                    UNION ALL
                    (SELECT id, name, state::text, added_at_ms, delay_ms, processed_at_ms, finished_at_ms,
                            left(failed_reason, \(ErrorText.scanLimit))
                       FROM \(job) WHERE queue = $1 AND state = 'failed' ORDER BY finished_at_ms DESC LIMIT $2::int)
                    """, parameters: [queue, limit], isLong: true),
            Statement(
                sql: """
                    (SELECT 'waiting', added_at_ms, NULL::bigint, NULL::bigint, id FROM \(job)
                      WHERE queue = $1 AND state = 'waiting' AND priority = 0 ORDER BY seq DESC LIMIT $2::int)
                    UNION ALL
                    (SELECT 'active', added_at_ms, processed_at_ms, locked_until_ms, id FROM \(job)
                      WHERE queue = $1 AND state = 'active' ORDER BY locked_until_ms LIMIT $2::int)
                    """, parameters: [queue, limit]),
            Statement(
                sql:
                    "SELECT kind, count, prev_ts, prev_count, data[1:60]::text FROM \(table("metrics")) WHERE queue = "
                    + "$1",
                parameters: [queue]),
        ]
        // Quick on its own; beside a big count (see `statsWithHistory`) it shares the count's connections.
        return StatementBatch(statements: statements, inParallel: false) { results in
            Self.history(results, sampleSize: sampleSize)
        }
    }

    private static func history(_ results: [PostgresRows], sampleSize: Int) -> QueueHistory {
        func int(_ text: String??) -> Int64? { (text ?? nil).flatMap { Int64($0) } }

        var finished: [FinishedJob] = []
        var cut = (completed: false, failed: false)
        var taken = (completed: 0, failed: 0)
        for row in results[0].rows where row.count == 8 {
            let failed = row[2] == "failed"
            if failed { taken.failed += 1 } else { taken.completed += 1 }
            if (failed ? taken.failed : taken.completed) > sampleSize {
                if failed { cut.failed = true } else { cut.completed = true }
                continue
            }
            guard let finishedOn = int(row[6]) else { continue }
            finished.append(
                FinishedJob(
                    id: row[0] ?? "", name: row[1] ?? "", failed: failed, addedAt: int(row[3]) ?? finishedOn,
                    delayMs: int(row[4]) ?? 0,
                    processedOn: int(row[5]), finishedOn: finishedOn, failedReason: row[7]))
        }
        var unfinished: [Int64] = []
        var active: [ActiveJob] = []
        var unfinishedCut = false
        var seen = (waiting: 0, active: 0)
        for row in results[1].rows where row.count == 5 {
            let isActive = row[0] == "active"
            if isActive { seen.active += 1 } else { seen.waiting += 1 }
            if (isActive ? seen.active : seen.waiting) > sampleSize {
                unfinishedCut = true
                continue
            }
            if let added = int(row[1]) { unfinished.append(added) }
            if isActive {
                active.append(ActiveJob(id: row[4] ?? "", processedOn: int(row[2]), lockedUntil: int(row[3])))
            }
        }
        var metrics: [String: MetricsSeries] = [:]
        for row in results[2].rows where row.count == 5 {
            guard let kind = row[0], let count = int(row[1]) else { continue }
            metrics[kind] = MetricsSeries(
                count: count, previousTimestamp: int(row[2]), previousCount: int(row[3]) ?? 0,
                data: PostgresArray.parse(row[4] ?? "{}").map { Int64($0) ?? 0 })
        }
        return QueueHistory(
            finished: finished, completedTruncated: cut.completed, failedTruncated: cut.failed,
            unfinishedAddedAt: unfinished,
            unfinishedTruncated: unfinishedCut, active: active, completedMetrics: metrics["completed"],
            failedMetrics: metrics["failed"],
            sampleSize: sampleSize)
    }
}
