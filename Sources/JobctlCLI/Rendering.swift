import JobCore

/// The JSON shapes of jobctl's results.
///
/// Field names here are the stable interface for scripts.
enum JSONShapes {
    static func counts(_ counts: JobCounts) -> JSONValue {
        .object(
            [JobState.waiting, .paused, .prioritized, .delayed, .active, .completed, .failed, .waitingChildren].map {
                ($0.rawValue, counts[$0].map { JSONValue.int($0) } ?? .null)
            })
    }

    static func problems(_ problems: [DataProblem]) -> JSONValue {
        .array(problems.map { .object([("subject", .string($0.subject)), ("message", .string($0.message))]) })
    }

    static func age(_ timestamp: Int64?, now: Int64) -> JSONValue {
        timestamp.map { .int(max(0, now - $0)) } ?? .null
    }

    /// One row of `status`.
    static func overview(_ row: QueueOverview, now: Int64) -> JSONValue {
        .object([
            ("queue", .string(row.queue)),
            ("waiting", .int(row.counts.ready)),
            ("prioritized", .optionalInt(row.counts[.prioritized].map(Int64.init))),
            ("active", .optionalInt(row.counts[.active].map(Int64.init))),
            ("delayed", .optionalInt(row.counts[.delayed].map(Int64.init))),
            ("failed", .optionalInt(row.counts[.failed].map(Int64.init))),
            ("completed", .optionalInt(row.counts[.completed].map(Int64.init))),
            ("waitingChildren", .optionalInt(row.counts[.waitingChildren].map(Int64.init))),
            ("paused", .bool(row.isPaused)),
            ("oldestWaitingTimestamp", .optionalInt(row.oldestWaitingTimestamp)),
            ("oldestWaitingAgeMs", age(row.oldestWaitingTimestamp, now: now)),
            ("workers", workers(row.workers)),
            ("schedulers", .optionalInt(row.schedulers.map { Int64($0.total) })),
            ("overdueSchedulers", .optionalInt(row.schedulers.map { Int64($0.overdue) })),
            ("problems", problems(row.problems)),
        ])
    }

    /// `3`, or `3 (1 overdue or stuck)`; `-` when not looked at.
    static func schedulersText(_ counts: SchedulerCounts?) -> String {
        guard let counts else { return "-" }
        return counts.overdue > 0 ? "\(counts.total) (\(counts.overdue) overdue or stuck)" : String(counts.total)
    }

    static func workers(_ count: Int?) -> JSONValue { count.map { .int(Int64($0)) } ?? .null }

    static func stats(
        _ stats: QueueStats, location: String, now: Int64, analysis: QueueAnalysis, advice: [Advice]
    ) -> JSONValue {
        let row = stats.overview
        return .object([
            ("queue", .string(row.queue)),
            ("location", .string(location)),
            ("paused", .bool(row.isPaused)),
            ("workers", workers(row.workers)),
            ("schedulers", .optionalInt(row.schedulers.map { Int64($0.total) })),
            ("overdueSchedulers", .optionalInt(row.schedulers.map { Int64($0.overdue) })),
            ("counts", counts(row.counts)),
            ("oldestWaitingTimestamp", .optionalInt(row.oldestWaitingTimestamp)),
            ("oldestWaitingAgeMs", age(row.oldestWaitingTimestamp, now: now)),
            ("globalConcurrency", .optionalInt(stats.globalConcurrency)),
            (
                "rateLimit",
                stats.rateLimit.map { .object([("max", .int($0.max)), ("durationMs", .int($0.durationMs))]) } ?? .null
            ),
            ("stalledCandidates", .optionalInt(stats.stalledCandidates.map(Int64.init))),
            ("stalledCandidateSample", .array(stats.stalledCandidateSample.map { .string($0) })),
            ("recordedVersion", .optionalString(stats.recordedVersion)),
            ("analytics", analytics(analysis)),
            (
                "advice",
                .array(
                    advice.map {
                        .object([
                            ("code", .string($0.code)), ("message", .string($0.message)),
                            ("evidence", .string($0.evidence)),
                        ])
                    })
            ),
            ("problems", problems(row.problems)),
        ])
    }

    static func analytics(_ analysis: QueueAnalysis) -> JSONValue {
        func rate(_ value: Double?) -> JSONValue {
            guard let value, value.isFinite else { return .null }
            return .number("\((value * 1000).rounded() / 1000)")
        }
        func percentiles(_ value: QueueAnalysis.Percentiles?) -> JSONValue {
            guard let value else { return .null }
            return .object([
                ("p50Ms", .int(value.p50)), ("p95Ms", .int(value.p95)), ("p99Ms", .int(value.p99)),
                ("maxMs", .int(value.max)),
                ("meanMs", .int(value.mean)), ("sampleSize", .int(Int64(value.sampleSize))),
            ])
        }
        func minutes(_ values: [Int64?]) -> JSONValue { .array(values.map { $0.map { .int($0) } ?? .null }) }
        return .object([
            ("throughputSource", .string(analysis.throughputSource.rawValue)),
            ("windowMs", .int(analysis.rateWindowMs)),
            ("completedPerMinute", rate(analysis.completedRate)),
            ("failedPerMinute", rate(analysis.failedRate)),
            ("failureRate", rate(analysis.failureRate)),
            ("completedByMinute", minutes(analysis.completedPerMinute)),
            ("failedByMinute", minutes(analysis.failedPerMinute)),
            ("arrivalsPerMinute", rate(analysis.arrivalRate)),
            ("arrivalWindowMs", .int(analysis.arrivalWindowMs)),
            ("backlog", .int(Int64(analysis.backlog))),
            ("backlogGrowthPerMinute", rate(analysis.backlogGrowthRate)),
            ("timeToEmptyMs", .optionalInt(analysis.timeToEmptyMs)),
            ("oldestWaitingAgeMs", .optionalInt(analysis.oldestWaitingAgeMs)),
            ("processingTime", percentiles(analysis.processing)),
            ("waitingTime", percentiles(analysis.waiting)),
            ("sampleSize", .int(Int64(analysis.sampleSize))),
            ("locksNearExpiry", .int(Int64(analysis.locksNearExpiry))),
            (
                "topFailures",
                .array(
                    analysis.topFailures.map {
                        .object([
                            ("name", .string($0.name)), ("reason", .string($0.reason)),
                            ("count", .int(Int64($0.count))),
                            ("firstSeen", .int($0.firstSeen)), ("lastSeen", .int($0.lastSeen)),
                        ])
                    })
            ),
        ])
    }

    /// A job as listed by `jobs`.
    static func jobRow(_ job: JobRecord) -> JSONValue {
        .object([
            ("id", .string(job.id)),
            ("name", .optionalString(job.name)),
            ("state", .optionalString(job.state?.rawValue)),
            ("attemptsMade", .int(job.attemptsMade)),
            ("attemptsStarted", .int(job.attemptsStarted)),
            ("priority", .optionalInt(job.priority)),
            ("delay", .optionalInt(job.delay)),
            ("timestamp", .optionalInt(job.timestamp)),
            ("processedOn", .optionalInt(job.processedOn)),
            ("finishedOn", .optionalInt(job.finishedOn)),
            ("failedReason", .optionalString(job.failedReason)),
            ("problems", problems(job.problems)),
        ])
    }

    /// Every field of a job, for `show`.
    static func job(_ job: JobRecord) -> JSONValue {
        .object([
            ("id", .string(job.id)),
            ("queue", .string(job.queue)),
            ("state", .optionalString(job.state?.rawValue)),
            ("name", .optionalString(job.name)),
            ("data", job.data?.displayValue ?? .null),
            ("opts", job.opts?.displayValue ?? .null),
            // BullMQ reports a job that never reported progress as progress 0.
            ("progress", job.progress?.displayValue ?? .int(0)),
            ("returnvalue", job.returnValue?.displayValue ?? .null),
            ("failedReason", .optionalString(job.failedReason)),
            ("stacktrace", .array(job.stacktrace.map { .string($0) })),
            ("timestamp", .optionalInt(job.timestamp)),
            ("delay", .optionalInt(job.delay)),
            ("priority", .optionalInt(job.priority)),
            ("processedOn", .optionalInt(job.processedOn)),
            ("finishedOn", .optionalInt(job.finishedOn)),
            ("attemptsMade", .int(job.attemptsMade)),
            ("attemptsStarted", .int(job.attemptsStarted)),
            ("stalledCounter", .int(job.stalledCounter)),
            ("deferredFailure", .optionalString(job.deferredFailure)),
            ("processedBy", .optionalString(job.processedBy)),
            ("repeatJobKey", .optionalString(job.repeatJobKey)),
            ("deduplicationId", .optionalString(job.deduplicationId)),
            ("parentKey", .optionalString(job.parentKey)),
            ("parent", job.parent?.displayValue ?? .null),
            (
                "lock",
                job.lock.map { lock in
                    .object([("token", .string(lock.token)), ("ttlMs", .optionalInt(lock.ttlMs))])
                } ?? .null
            ),
            ("logs", .array(job.logs.map { .string($0) })),
            ("logCount", .int(job.logCount)),
            ("otherFields", .object(job.otherFields.map { ($0.0, .string($0.1)) })),
            ("problems", problems(job.problems)),
        ])
    }
}

/// Prints data problems after a text result, on stderr, so that stdout stays a clean table.
func reportProblems(_ problems: [DataProblem], context: String? = nil) {
    guard !problems.isEmpty else { return }
    for problem in problems {
        Terminal.warn((context.map { "\($0): " } ?? "") + problem.description)
    }
}
