/// A job scheduler as a store keeps it (Redis: the `repeat` set and `repeat:<id>` hash; PostgreSQL: the `scheduler`
/// table), with its pending job and its newest finished one.
public struct JobScheduler: Sendable, Equatable {
    /// At most this many schedulers are read per queue.
    public static let listLimit = 10_000

    public var queue: String
    /// BullMQ's `key`: the scheduler id.
    public var id: String
    public var name: String
    /// When the pending iteration is due (ms since the epoch).
    public var next: Int64?
    public var iterationCount: Int64?
    public var limit: Int64?
    public var startDate: Int64?
    public var endDate: Int64?
    public var timeZone: String?
    public var pattern: String?
    public var every: Int64?
    public var offset: Int64?
    public var templateData: JSONValue?
    /// Template job options with BullMQ's long names.
    public var templateOpts: JSONValue?
    /// A repeatable job of BullMQ 5 or older (no iteration count), listed as the Python client lists it.
    public var legacy = false
    /// The state of the pending iteration's job (`repeat:<id>:<next>`); nil when there is no such job.
    public var nextJobState: JobState?
    /// The newest finished iteration found.
    public var last: LastRun?

    public struct LastRun: Sendable, Equatable {
        public var jobId: String
        public var state: FinishedState
        public var finishedOn: Int64

        public init(jobId: String, state: FinishedState, finishedOn: Int64) {
            self.jobId = jobId
            self.state = state
            self.finishedOn = finishedOn
        }
    }

    public init(queue: String, id: String, name: String) {
        self.queue = queue
        self.id = id
        self.name = name
    }

    /// The pending iteration's job id.
    public var nextJobId: String? { next.map { "repeat:\(id):\($0)" } }

    /// How the scheduler is doing at `now`.
    ///
    /// `graceMs`: how late a pending job may be before it counts as overdue.
    public func health(now: Int64, graceMs: Int64) -> SchedulerHealth {
        if legacy { return .legacy }
        switch nextJobState {
        case .waiting?, .paused?, .prioritized?, .delayed?:
            guard let next, next < now - graceMs else { return .ok }
            return .overdue
        case .active?, .waitingChildren?:
            return .ok
        case .completed?, .failed?, nil:
            // Its last iteration ran: BullMQ keeps such a scheduler, and it never fires again.
            if let limit, let count = iterationCount, count >= limit { return .finished }
            if let endDate, now > endDate || (next ?? 0) > endDate { return .finished }
            return .stuck
        }
    }
}

/// A scheduler's health, as `jobctl schedulers` shows it.
public enum SchedulerHealth: String, Sendable, Equatable, CaseIterable {
    /// Its next job is pending, and not late.
    case ok
    /// Its next job is due longer than the grace ago and nothing takes it (no worker, a paused queue).
    case overdue
    /// Its next job is gone or finished although neither limit nor end date was reached: it never fires again.
    case stuck
    /// Its limit or end date was reached.
    case finished
    /// A repeatable job of BullMQ 5 or older.
    case legacy

    /// Needs someone to look.
    public var isProblem: Bool { self == .overdue || self == .stuck }
}

/// What `jobctl schedule` asks for: a scheduler's repeat options and its job template, as
/// `Queue.upsertJobScheduler(id, repeat, name, data, opts)` takes them.
public struct SchedulerSpec: Sendable, Equatable {
    public enum Timing: Sendable, Equatable {
        case every(milliseconds: Int64)
        case cron(CronSchedule, timeZone: TimeZoneRules?)
    }

    public var id: String
    public var name: String
    public var timing: Timing
    public var limit: Int64?
    public var startDate: Int64?
    public var endDate: Int64?
    /// `every` only: the phase of its slots.
    public var offset: Int64?
    public var data: JSONValue
    /// Template job options, long names.
    public var opts: JSONValue

    public init(
        id: String, name: String, timing: Timing, limit: Int64? = nil, startDate: Int64? = nil, endDate: Int64? = nil,
        offset: Int64? = nil, data: JSONValue = .object([]), opts: JSONValue = .object([])
    ) {
        self.id = id
        self.name = name
        self.timing = timing
        self.limit = limit
        self.startDate = startDate
        self.endDate = endDate
        self.offset = offset
        self.data = data
        self.opts = opts
    }

    /// Why nothing would be scheduled at `now` (BullMQ's upsert then writes nothing), or nil.
    public func nothingToSchedule(now: Int64) -> String? {
        if let limit, limit < 1 { return "its limit of \(limit) allows no iteration" }
        if let endDate, now > endDate {
            return "its end date \(Timestamps.iso8601(milliseconds: endDate)) has passed"
        }
        return nil
    }

    /// The repeat options as the Python client passes them (`every` or `pattern` + `tz`, limit, dates, offset).
    var repeatMembers: [(String, JSONValue)] {
        var members: [(String, JSONValue)] = []
        switch timing {
        case .every(let ms): members.append(("every", .int(ms)))
        case .cron(let schedule, let zone):
            members.append(("pattern", .string(schedule.pattern)))
            if let zone { members.append(("tz", .string(zone.identifier))) }
        }
        if let limit { members.append(("limit", .int(limit))) }
        if let startDate { members.append(("startDate", .int(startDate))) }
        if let endDate { members.append(("endDate", .int(endDate))) }
        if let offset { members.append(("offset", .int(offset))) }
        return members
    }

    /// The scheduler record's options as the client sends them: `{name, tz, pattern, every, limit, offset, startDate,
    /// endDate}`, unset ones left out (`offset` only for `every`).
    public var schedulerOptions: JSONValue {
        var members: [(String, JSONValue)] = [("name", .string(name))]
        switch timing {
        case .every(let ms): members.append(("every", .int(ms)))
        case .cron(let schedule, let zone):
            if let zone { members.append(("tz", .string(zone.identifier))) }
            members.append(("pattern", .string(schedule.pattern)))
        }
        if let limit { members.append(("limit", .int(limit))) }
        if case .every = timing, let offset, offset != 0 { members.append(("offset", .int(offset))) }
        if let startDate { members.append(("startDate", .int(startDate))) }
        if let endDate { members.append(("endDate", .int(endDate))) }
        return .object(members)
    }

    /// The first iteration as the client works it out at `now`: for a cron pattern its next time after the later of
    /// now and the start date (the store places an `every` scheduler's first job itself), and the job's options.
    public func firstIteration(now: Int64) -> (nextMillis: Int64, opts: JSONValue) {
        let options = ScheduleRepeat(repeatMembers)
        var next: Int64?
        if case .cron(let schedule, let zone) = timing {
            let after = schedule.next(afterMs: max(now, startDate ?? now), in: zone ?? .utc) ?? now
            next = max(after, now)
        }
        let opts = options.nextJobOptions(
            base: members(of: opts), schedulerId: id, nextMillis: next, iteration: 1, now: now)
        return (next ?? now, opts)
    }

    /// The next `count` run times from `now` on, as a new scheduler of this spec would fire (an `every` scheduler
    /// firing first at its start date, at its offset's next slot, or at once).
    public func upcomingRuns(count: Int, now: Int64) -> [Int64] {
        var runs: [Int64] = []
        switch timing {
        case .every(let ms):
            var first = now
            if let startDate {
                first = max(startDate, now)
            } else if let offset, offset > 0 {
                first = now / ms * ms + offset
                if first <= now { first += ms }
            }
            runs = (0..<count).map { first + Int64($0) * ms }
        case .cron(let schedule, let zone):
            var base = max(now, startDate ?? now)
            while runs.count < count, let next = schedule.next(afterMs: base, in: zone ?? .utc) {
                runs.append(next)
                base = next
            }
        }
        if let limit { runs = Array(runs.prefix(Int(max(0, min(limit, Int64(count)))))) }
        if let endDate {
            // The client compares the end date with the time a job is taken: the run after it is the last.
            if let index = runs.firstIndex(where: { $0 > endDate }) { runs = Array(runs.prefix(index + 1)) }
        }
        return runs
    }

    private func members(of value: JSONValue) -> [(String, JSONValue)] {
        if case .object(let members) = value { return members }
        return []
    }
}
