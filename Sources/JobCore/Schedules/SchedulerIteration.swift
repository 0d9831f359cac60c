/// What a worker does for a job a job scheduler made, the moment it takes it: BullMQ's worker asks the store for the
/// scheduler's next iteration (`upsertJobScheduler` without override, guarded by the taken job's id).
public enum SchedulerStep: Sendable, Equatable {
    /// Ask the store for the next iteration.
    case advance(SchedulerAdvance)
    /// No next iteration: the limit is reached or the end date passed. The scheduler stays, as in BullMQ.
    case finished(reason: String)
    /// The job's repeat options give no next time; BullMQ's worker reports it and runs the job anyway.
    case invalid(reason: String)
}

/// One request to a store to create a scheduler's next iteration.
public struct SchedulerAdvance: Sendable, Equatable {
    public var schedulerId: String
    /// The taken job: the store creates the next iteration only when this is the scheduler's current one.
    public var producerId: String
    /// A cron pattern's next due time; for `every`, the client's now (each store works the next time out itself).
    public var nextMillis: Int64
    /// The next job's options with BullMQ's long names, as the Python worker builds them (`getNextJobOpts`).
    public var opts: JSONValue
    /// The taken job's data (JSON text): PostgreSQL's function takes it for the template's data.
    public var data: String

    public init(schedulerId: String, producerId: String, nextMillis: Int64, opts: JSONValue, data: String) {
        self.schedulerId = schedulerId
        self.producerId = producerId
        self.nextMillis = nextMillis
        self.opts = opts
        self.data = data
    }
}

/// Works out each taken scheduler job's next iteration as the pinned Python client does (`job_scheduler.py`), from
/// the job's own `opts.repeat`: limit and end date, the `prevMillis` bump of a job taken early, the cron pattern's
/// next time in its zone; time zones and patterns are read once.
public struct SchedulerIterations: Sendable {
    private var zones: [String: TimeZoneRules] = [:]
    private var patterns: [String: CronSchedule] = [:]
    private let zoneDirectory: String?

    public init(zoneDirectory: String? = nil) {
        self.zoneDirectory = zoneDirectory
    }

    /// Nil for a job no scheduler made.
    public mutating func step(for job: ClaimedJob, now: Int64) -> SchedulerStep? {
        guard let schedulerId = job.schedulerId else { return nil }
        let opts = BullMQOptionNames.decoded(job.opts)
        guard let repeatOptions = opts["repeat"], case .object(let members) = repeatOptions else {
            return .invalid(reason: "the job has no repeat options")
        }
        let schedule = ScheduleRepeat(members)
        if schedule.pattern != nil && schedule.every != nil {
            return .invalid(reason: "both pattern and every are set in its repeat options")
        }
        if schedule.pattern == nil && schedule.every == nil {
            return .invalid(reason: "neither pattern nor every is set in its repeat options")
        }
        if schedule.immediately && schedule.startDate != nil {
            return .invalid(reason: "both immediately and startDate are set in its repeat options")
        }
        let iteration = (schedule.count ?? 0) + 1
        if let limit = schedule.limit, iteration > limit {
            return .finished(reason: "its limit of \(limit) iteration(s) is reached")
        }
        if let end = schedule.endDate, now > end {
            return .finished(reason: "its end date \(Timestamps.iso8601(milliseconds: end)) has passed")
        }
        // A job taken before its time (promoted, say) still gets the slot after its own.
        let base = max(now, opts["prevMillis"].flatMap(\.integerValue) ?? 0)
        var next: Int64?
        if let pattern = schedule.pattern {
            if schedule.immediately {
                next = now
            } else {
                let cronSchedule: CronSchedule
                let zone: TimeZoneRules
                do {
                    cronSchedule = try cron(pattern)
                    zone = try rules(schedule.timeZone)
                } catch {
                    return .invalid(reason: "\(error)")
                }
                guard let after = cronSchedule.next(afterMs: max(base, schedule.startDate ?? base), in: zone) else {
                    return .invalid(reason: "cron pattern '\(pattern)' names no time after this one")
                }
                next = after
            }
            next = max(next ?? base, base)
        }
        // The Python worker's Job gives the options `attempts` 0 and a normalised `backoff`.
        var jobOptions = JSONValue.object([("attempts", .int(0)), ("delay", .int(0))])
        if case .object(let stored) = opts {
            for (key, value) in stored { jobOptions.set(key, value) }
        }
        jobOptions.set("backoff", ScheduleRepeat.normalizedBackoff(opts["backoff"]))
        guard case .object(let baseMembers) = jobOptions else { return nil }
        let nextOpts = schedule.nextJobOptions(
            base: baseMembers, schedulerId: schedulerId, nextMillis: next, iteration: iteration, now: now)
        return .advance(
            SchedulerAdvance(
                schedulerId: schedulerId, producerId: job.id, nextMillis: next ?? now, opts: nextOpts,
                data: job.data))
    }

    private mutating func cron(_ pattern: String) throws(CronError) -> CronSchedule {
        if let known = patterns[pattern] { return known }
        let schedule = try CronSchedule(pattern)
        if patterns.count > 1000 { patterns = [:] }
        patterns[pattern] = schedule
        return schedule
    }

    private mutating func rules(_ identifier: String?) throws(TimeZoneError) -> TimeZoneRules {
        guard let identifier else { return .utc }
        if let known = zones[identifier] { return known }
        let zone = try TimeZoneRules(identifier: identifier, directory: zoneDirectory)
        if zones.count > 1000 { zones = [:] }
        zones[identifier] = zone
        return zone
    }
}

/// A scheduler's repeat options (`opts.repeat` of its jobs), read as the Python client reads them.
struct ScheduleRepeat {
    var members: [(String, JSONValue)]
    var every: Int64?
    var pattern: String?
    var timeZone: String?
    var limit: Int64?
    var count: Int64?
    var offset: Int64?
    var startDate: Int64?
    var endDate: Int64?
    var immediately: Bool

    init(_ members: [(String, JSONValue)]) {
        self.members = members
        let options = JSONValue.object(members)
        // Python tests truthiness: 0, "" and null count as unset.
        every = options["every"].flatMap(Self.millis).flatMap { $0 != 0 ? $0 : nil }
        pattern = options["pattern"].flatMap { if case .string(let text) = $0, !text.isEmpty { text } else { nil } }
        timeZone = options["tz"].flatMap { if case .string(let text) = $0, !text.isEmpty { text } else { nil } }
        limit = options["limit"].flatMap(\.integerValue)
        count = options["count"].flatMap(\.integerValue)
        offset = options["offset"].flatMap(\.integerValue)
        startDate = options["startDate"].flatMap(Self.millis)
        endDate = options["endDate"].flatMap(Self.millis)
        immediately = options["immediately"].map { $0 != .bool(false) && $0 != .null } ?? false
    }

    /// Python's `_to_millis`: epoch ms as a number or text, or an ISO 8601 date.
    static func millis(_ value: JSONValue) -> Int64? {
        switch value {
        case .number: return value.doubleValue.flatMap { abs($0) < 9e15 ? Int64($0) : nil }
        case .string(let text): return Int64(text) ?? iso(text)
        default: return nil
        }
    }

    private static func iso(_ text: String) -> Int64? {
        // Only a date, never a duration ("5m" means nothing here).
        guard text.first?.isNumber == true, text.contains("-") else { return nil }
        return Timestamps.pointInTime(text, now: 0)
    }

    /// The next job's options, as `JobScheduler._build_next_job_opts` builds them from `base`: the template's
    /// options when the scheduler is upserted, the taken job's options when a worker advances it.
    func nextJobOptions(
        base: [(String, JSONValue)], schedulerId: String, nextMillis: Int64?, iteration: Int64, now: Int64
    ) -> JSONValue {
        var opts = JSONValue.object(base)
        var repeatOptions = JSONValue.object(members.filter { $0.0 != "immediately" })
        repeatOptions.set("offset", every != nil && (offset ?? 0) != 0 ? offset.map { .int($0) } : nil)
        repeatOptions.set("count", .int(iteration))
        repeatOptions.set("startDate", startDate.map { .int($0) })
        repeatOptions.set("endDate", endDate.map { .int($0) })
        let due = nextMillis ?? now
        let offsetMs = every != nil && (offset ?? 0) != 0 ? offset ?? 0 : 0
        opts.set("jobId", .string("repeat:\(schedulerId):\(due)"))
        opts.set("delay", .int(max(due + offsetMs - now, 0)))
        opts.set("timestamp", .int(now))
        opts.set("prevMillis", .int(due))
        opts.set("repeatJobKey", .string(schedulerId))
        opts.set("repeat", repeatOptions)
        return opts
    }

    /// Python's `Backoffs.normalize`: a whole number is a fixed delay, other falsy values are none.
    static func normalizedBackoff(_ value: JSONValue?) -> JSONValue {
        guard let value else { return .null }
        if case .number(let text) = value, let whole = Int64(text) {
            return whole == 0 ? .null : .object([("type", .string("fixed")), ("delay", .int(whole))])
        }
        return value.isTruthy ? value : .null
    }
}

/// BullMQ stores a few job options under short names on Redis (`optsEncodeMap` of the Python client).
public enum BullMQOptionNames {
    public static let shortByLong = [
        "failParentOnFailure": "fpof", "continueParentOnFailure": "cpof", "ignoreDependencyOnFailure": "idof",
        "removeDependencyOnFailure": "rdof", "keepLogs": "kl", "deduplication": "de",
    ]
    public static let longByShort = Dictionary(uniqueKeysWithValues: shortByLong.map { ($1, $0) })

    /// Options with their long names (`optsFromJSON`).
    public static func decoded(_ opts: JSONValue) -> JSONValue {
        guard case .object(let members) = opts else { return opts }
        return .object(members.map { (longByShort[$0.0] ?? $0.0, $0.1) })
    }

    /// Options as the Redis store keeps them: short names, and no nulls (the Python client's msgpack drops them).
    public static func encodedForRedis(_ opts: JSONValue) -> JSONValue {
        guard case .object(let members) = opts else { return opts }
        return .object(members.compactMap { $0.1 == .null ? nil : (shortByLong[$0.0] ?? $0.0, withoutNulls($0.1)) })
    }

    private static func withoutNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            return .object(members.compactMap { $0.1 == .null ? nil : ($0.0, withoutNulls($0.1)) })
        case .array(let items): return .array(items.map(withoutNulls))
        default: return value
        }
    }
}

extension JSONValue {
    /// Python's truth test: null, false, 0, "" and empty containers are false.
    var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let flag): return flag
        case .number(let text): return (Double(text) ?? 0) != 0
        case .string(let text): return !text.isEmpty
        case .array(let items): return !items.isEmpty
        case .object(let members): return !members.isEmpty
        }
    }

    /// Sets a member of an object in place (appended when new); nil removes it.
    mutating func set(_ key: String, _ value: JSONValue?) {
        guard case .object(var members) = self else { return }
        if let index = members.firstIndex(where: { $0.0 == key }) {
            if let value { members[index].1 = value } else { members.remove(at: index) }
        } else if let value {
            members.append((key, value))
        }
        self = .object(members)
    }
}
