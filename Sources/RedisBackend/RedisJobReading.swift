public import JobCore

extension RedisQueueStore {
    /// How many log lines `job(in:id:)` reads at most (the newest ones).
    static let logLineLimit = 1000

    public func jobs(in queue: String, state: JobState, limit: Int, cursor: String?) async throws -> JobPage {
        let k = keys(queue)
        let (key, isList) = k.stateKey(state)
        let position = try cursor.map { text throws(InvalidCursorError) in try PageCursor(decoding: text, for: state) }
        let limit = JobPage.clampedLimit(limit)

        var entries: [(id: String, position: String)]
        var problems: [DataProblem] = []
        do {
            entries =
                isList
                ? try await listPage(key: key, after: position, limit: limit + 1)
                : try await sortedSetPage(
                    key: key, descending: state == .completed || state == .failed, after: position, limit: limit + 1)
        } catch let error as RedisError where error.serverCode == "WRONGTYPE" {
            let type = try await client.command(RedisCommand("TYPE", key)).text ?? "?"
            problems.append(
                DataProblem(
                    subject: key, message: "has type \(type); BullMQ keeps a \(isList ? "list" : "sorted set") there"))
            entries = []
        }
        let hasMore = entries.count > limit
        entries = Array(entries.prefix(limit))

        let replies = try await client.pipeline(entries.map { RedisCommand("HGETALL", k.job($0.id)) })
        var jobs: [JobRecord] = []
        var vanished: [String] = []
        for (entry, reply) in zip(entries, replies) {
            if let (code, message) = reply.serverError {
                var job = JobRecord(queue: queue, id: entry.id)
                job.state = state
                job.problems.append(
                    DataProblem(
                        subject: k.job(entry.id), message: code == "WRONGTYPE" ? "is not a hash" : "\(code) \(message)")
                )
                jobs.append(job)
                continue
            }
            guard let pairs = reply.array, !pairs.isEmpty else {
                vanished.append(entry.id)
                continue
            }
            var job = decodeJobHash(queue: queue, id: entry.id, pairs: pairs)
            job.state = state
            jobs.append(job)
        }
        let next =
            hasMore ? entries.last.map { PageCursor(state: state, position: $0.position, lastId: $0.id).encoded } : nil
        return JobPage(jobs: jobs, nextCursor: next, vanishedIds: vanished, problems: problems)
    }

    /// A page of a list, next-to-run first (from the right).
    ///
    /// The cursor holds the id last shown; the page continues to its left. When that id is gone (taken by a worker),
    /// everything right of it went first, so the listing restarts from the right end, which holds only jobs not yet
    /// shown.
    private func listPage(
        key: String, after cursor: PageCursor?, limit: Int
    ) async throws -> [(id: String, position: String)] {
        var end = -1  // index from the left; -1 = rightmost
        if let cursor {
            let found = try await client.pipeline([RedisCommand("LPOS", key, cursor.lastId, "RANK", "-1")])[0]
            if let (code, message) = found.serverError {
                throw RedisError(code: .server, server: server, serverCode: code, message: message)
            }
            if let index = found.integer {
                if index == 0 { return [] }
                end = Int(index) - 1
            }
        }
        let reply: RedisValue
        if end == -1 {
            reply = try await client.command(RedisCommand("LRANGE", key, String(-limit), "-1"))
        } else {
            reply = try await client.command(RedisCommand("LRANGE", key, String(max(0, end - limit + 1)), String(end)))
        }
        let ids = (reply.array ?? []).compactMap(\.text).reversed().filter { !$0.hasPrefix("0:") }
        return ids.map { ($0, "") }
    }

    /// A page of a sorted set by score (ascending, or descending for finished jobs).
    ///
    /// Ties on the score are ordered by member bytes, as Redis orders them, so a cursor (score, member) resumes exactly
    /// after the last job shown.
    func sortedSetPage(
        key: String, descending: Bool, after cursor: PageCursor?, limit: Int
    ) async throws
        -> [(id: String, position: String)]
    {
        var result: [(id: String, position: String)] = []
        var offset = 0
        let batch = limit + 32
        let cursorScore = cursor.flatMap { Double($0.position) }
        let cursorMember = cursor.map { Array($0.lastId.utf8) }
        while result.count < limit {
            let from = cursor?.position ?? (descending ? "+inf" : "-inf")
            let to = descending ? "-inf" : "+inf"
            let command = RedisCommand(
                descending ? "ZREVRANGEBYSCORE" : "ZRANGEBYSCORE", key, from, to, "WITHSCORES", "LIMIT", String(offset),
                String(batch))
            let reply = try await client.command(command)
            guard let flat = reply.array, !flat.isEmpty else { break }
            var index = 0
            while index + 1 < flat.count {
                defer { index += 2 }
                guard let member = flat[index].bytes, let scoreText = flat[index + 1].text else { continue }
                if let cursorScore, let cursorMember, Double(scoreText) == cursorScore {
                    // Same score as the last job shown: skip members at or before it in Redis' order.
                    let before = member.lexicographicallyPrecedes(cursorMember)
                    if member == cursorMember || (descending ? !before : before) { continue }
                }
                result.append((String(decoding: member, as: UTF8.self), scoreText))
                if result.count == limit { break }
            }
            if flat.count < batch * 2 { break }
            offset += batch
        }
        return result
    }

    public func job(in queue: String, id: String) async throws -> JobRecord? {
        let k = keys(queue)
        let jobKey = k.job(id)
        let commands = [
            RedisCommand("TYPE", jobKey), RedisCommand("HGETALL", jobKey),
            RedisCommand("LLEN", k.logs(id)), RedisCommand("LRANGE", k.logs(id), String(-Self.logLineLimit), "-1"),
            RedisCommand("GET", k.lock(id)), RedisCommand("PTTL", k.lock(id)),
            RedisCommand("ZSCORE", k.completed, id), RedisCommand("ZSCORE", k.failed, id),
            RedisCommand("ZSCORE", k.delayed, id), RedisCommand("ZSCORE", k.prioritized, id),
            RedisCommand("LPOS", k.active, id), RedisCommand("LPOS", k.wait, id), RedisCommand("LPOS", k.paused, id),
            RedisCommand("ZSCORE", k.waitingChildren, id),
        ]
        let replies = try await client.pipeline(commands)
        let type = replies[0].text ?? "none"
        if type == "none" { return nil }
        var job: JobRecord
        if type == "hash", let pairs = replies[1].array {
            job = decodeJobHash(queue: queue, id: id, pairs: pairs)
        } else {
            job = JobRecord(queue: queue, id: id)
            job.problems.append(DataProblem(subject: jobKey, message: "has type \(type); BullMQ keeps a job as a hash"))
        }
        if let count = replies[2].integer { job.logCount = Int(count) }
        if let lines = replies[3].array {
            job.logs = lines.compactMap(\.text)
        } else if replies[3].serverError != nil {
            job.problems.append(DataProblem(subject: k.logs(id), message: "is not a list; logs not shown"))
        }
        if let token = replies[4].text {
            let ttl = replies[5].integer
            job.lock = JobLock(token: token, ttlMs: ttl.flatMap { $0 >= 0 ? $0 : nil })
        }
        // The same order as BullMQ's getState: the first place the id is found wins.
        let places: [(Int, JobState)] = [
            (6, .completed), (7, .failed), (8, .delayed), (9, .prioritized), (10, .active), (11, .waiting),
            (12, .paused), (13, .waitingChildren),
        ]
        for (index, state) in places {
            let reply = replies[index]
            if reply.serverError != nil {
                let key = k.stateKey(state).key
                job.problems.append(DataProblem(subject: key, message: "could not be searched (wrong type)"))
            } else if !reply.isNull {
                job.state = state
                break
            }
        }
        if job.logCount > job.logs.count {
            job.problems.append(
                DataProblem(
                    subject: k.logs(id), message: "showing the last \(job.logs.count) of \(job.logCount) log lines"))
        }
        return job
    }
}
