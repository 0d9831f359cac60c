import JobCore

/// One of jobctl's Lua scripts (`RedisScripts`, generated from `Lua/*.lua`): its keys and arguments are types, so
/// a call site names each key instead of placing it, and its reply is decoded in one place.
protocol RedisScript {
    associatedtype Keys: RedisScriptKeys
    associatedtype Arguments: RedisScriptArguments
    associatedtype Reply

    static var name: String { get }
    static var sha1: String { get }
    static var source: String { get }

    /// The reply as a Swift value, or nil when it has another shape.
    static func decode(_ reply: RedisValue) -> Reply?
}

protocol RedisScriptKeys {
    /// KEYS, in the order the script reads them.
    var list: [String] { get }
}

protocol RedisScriptArguments {
    /// ARGV, in the order the script reads them.
    var list: [String] { get }
}

/// Scripts that answer one integer code per job (1 or 0 done, negative: why not).
protocol RedisPerJobCodeScript: RedisScript where Reply == [Int64?] {}

extension RedisPerJobCodeScript {
    static func decode(_ reply: RedisValue) -> [Int64?]? { reply.array?.map(\.integer) }
}

/// Scripts that answer a list of job ids.
protocol RedisIdListScript: RedisScript where Reply == [String] {}

extension RedisIdListScript {
    static func decode(_ reply: RedisValue) -> [String]? { reply.array?.compactMap(\.text) }
}

/// Scripts that answer one integer.
protocol RedisCountScript: RedisScript where Reply == Int64 {}

extension RedisCountScript {
    static func decode(_ reply: RedisValue) -> Int64? { reply.integer }
}

extension RedisScripts.Retry: RedisPerJobCodeScript {}
extension RedisScripts.Promote: RedisPerJobCodeScript {}
extension RedisScripts.Remove: RedisPerJobCodeScript {}
extension RedisScripts.Finish: RedisPerJobCodeScript {}
extension RedisScripts.Clean: RedisIdListScript {}
extension RedisScripts.ExtendLocks: RedisIdListScript {}
extension RedisScripts.RescueStalled: RedisIdListScript {}
extension RedisScripts.Pause: RedisCountScript {}
extension RedisScripts.Unschedule: RedisPerJobCodeScript {}

extension RedisScripts.RecordTrail {
    /// The stream entry's id.
    static func decode(_ reply: RedisValue) -> String? { reply.text }
}

extension RedisScripts.Schedule {
    enum Reply {
        case scheduled(jobId: String, delayMs: Int64)
        /// BullMQ's -10 (a pattern's job id exists) or -11 (32 `every` slots taken).
        case slotTaken(code: Int)
    }

    /// {jobId, delay}, or a negative code.
    static func decode(_ reply: RedisValue) -> Reply? {
        if let code = reply.integer { return code < 0 ? .slotTaken(code: Int(code)) : nil }
        guard let parts = reply.array, parts.count == 2, let id = parts[0].text,
            let delay = parts[1].integer ?? parts[1].text.flatMap({ Int64($0) })
        else { return nil }
        return .scheduled(jobId: id, delayMs: delay)
    }
}
extension RedisScripts.HandBack: RedisCountScript {}

extension RedisScripts.RetryWindow {
    /// How many moved, and each job left in place with its code.
    struct Reply {
        var moved: Int
        var skipped: [(id: String, code: JobReplyCode?)]
    }

    /// {moved, id, code, id, code, ...}.
    static func decode(_ reply: RedisValue) -> Reply? {
        guard let parts = reply.array, let moved = parts.first?.integer, parts.count % 2 == 1 else { return nil }
        var skipped: [(id: String, code: JobReplyCode?)] = []
        for index in stride(from: 1, to: parts.count, by: 2) {
            guard let id = parts[index].text else { return nil }
            skipped.append((id, parts[index + 1].integer.flatMap(JobReplyCode.init(rawValue:))))
        }
        return Reply(moved: Int(moved), skipped: skipped)
    }
}

extension RedisScripts.Drain {
    /// {removed, kept}.
    static func decode(_ reply: RedisValue) -> (removed: Int, kept: Int)? {
        guard let counts = reply.array?.compactMap(\.integer), counts.count == 2 else { return nil }
        return (Int(counts[0]), Int(counts[1]))
    }
}

extension RedisScripts.Add {
    /// Per job {id, 1 if a job with that id existed (nothing added) else 0}.
    static func decode(_ reply: RedisValue) -> [(id: String, duplicate: Bool)]? {
        guard let pairs = reply.array else { return nil }
        var added: [(id: String, duplicate: Bool)] = []
        for pair in pairs {
            guard let fields = pair.array, fields.count == 2, let id = fields[0].text else { return nil }
            added.append((id, fields[1].integer == 1))
        }
        return added
    }
}

extension RedisScripts.AdvanceSchedulers {
    /// Per advance {"created", id}, {"notCurrent"}, {"duplicated", id} or {"legacy"}.
    static func decode(_ reply: RedisValue) -> [SchedulerAdvanceResult]? {
        guard let replies = reply.array else { return nil }
        var results: [SchedulerAdvanceResult] = []
        for entry in replies {
            guard let fields = entry.array?.compactMap(\.text), let kind = fields.first else { return nil }
            switch (kind, fields.count) {
            case ("created", 2): results.append(.created(jobId: fields[1]))
            case ("duplicated", 2): results.append(.duplicated(jobId: fields[1]))
            case ("notCurrent", 1): results.append(.notCurrent)
            case ("legacy", 1): results.append(.legacy)
            default: return nil
            }
        }
        return results
    }
}

extension RedisScripts.Claim {
    /// A claimed job's fields as the script lists them.
    struct Row {
        var id, token, name, data, opts, atm, attemptsMade, timestamp, deferredFailure, stacktrace, schedulerId: String
    }

    /// Why fewer jobs than tokens came back.
    enum Wait {
        case limited(ms: Int64?)
        case paused
        case maxed
        case empty(nextDelayedAt: Int64?)
    }

    /// {jobs, wait}: a row per job, and the reason it stopped early (none when every token got a job).
    static func decode(_ reply: RedisValue) -> (rows: [Row], wait: Wait?)? {
        guard let parts = reply.array, parts.count == 2, let list = parts[0].array else { return nil }
        var rows: [Row] = []
        for entry in list {
            guard let fields = entry.array?.map({ $0.text ?? "" }), fields.count == 11 else { return nil }
            rows.append(
                Row(
                    id: fields[0], token: fields[1], name: fields[2], data: fields[3], opts: fields[4], atm: fields[5],
                    attemptsMade: fields[6], timestamp: fields[7], deferredFailure: fields[8], stacktrace: fields[9],
                    schedulerId: fields[10]))
        }
        let wait = parts[1].array ?? []
        guard let kind = wait.first?.text else { return (rows, nil) }
        let number = wait.count > 1 ? wait[1].integer : nil
        switch kind {
        case "limited": return (rows, .limited(ms: number))
        case "paused": return (rows, .paused)
        case "maxed": return (rows, .maxed)
        default: return (rows, .empty(nextDelayedAt: number.flatMap { $0 > 0 ? $0 : nil }))
        }
    }
}
