public import JobCore

/// BullMQ queues in Redis: read with plain commands in pipelines (the inspection never writes); changed and worked
/// through jobctl's scripts (see RedisQueueController and RedisWorkerBackend).
public struct RedisQueueStore: QueueInspector {
    let client: RedisClient
    let waitClient: RedisClient
    /// The longest single wait for work (BZPOPMIN) a worker makes.
    static let longestBlockMs: Int64 = 60_000
    public let prefix: String
    public var location: String { "\(client.endpoint.redactedURL) (prefix '\(prefix)')" }

    /// The worker whose connections these are, if they are a worker's.
    let worker: WorkerIdentity?

    /// Prepares a store; nothing connects until `connect()` or the first command; `notice` hears of a failover
    /// behind Sentinels.
    ///
    /// A worker's store names its connections as BullMQ's workers do: the Python client's naming for the one that
    /// runs commands, the Node client's for the one that waits for work, so that `getWorkers()` of either client
    /// (and the tools built on them) lists it once.
    public init(
        endpoint: RedisEndpoint, prefix: String, connectTimeoutMs: Int = 5000, commandTimeoutMs: Int = 30000,
        worker: WorkerIdentity? = nil, notice: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.client = RedisClient(
            endpoint: endpoint, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs,
            connectionName: worker.flatMap {
                $0.pythonStyleNameIsValid(namespace: prefix) ? $0.pythonStyleName(namespace: prefix) : nil
            }, notice: notice)
        // A worker's blocking wait for work gets a connection of its own, with room for the longest block.
        self.waitClient = RedisClient(
            endpoint: endpoint, connectTimeoutMs: connectTimeoutMs,
            commandTimeoutMs: commandTimeoutMs + Int(Self.longestBlockMs),
            connectionName: worker?.nodeStyleName(namespace: prefix))
        self.prefix = prefix
        self.worker = worker
    }

    /// Connects and logs in, so that an unreachable server or a wrong password is reported at once; a worker's store
    /// also opens its wait connection, so that BullMQ's tools list the worker from the start.
    public func connect() async throws {
        try await client.connect()
        if worker != nil { try await waitClient.connect() }
    }

    func keys(_ queue: String) -> QueueKeys { QueueKeys(prefix: prefix, queue: queue) }

    /// The keys of a queue that scripts will change: on a Redis Cluster they must share a slot (a hash tag in the
    /// prefix or the queue name), or the queue is refused before anything is sent.
    func writableKeys(_ queue: String) async throws -> QueueKeys {
        let k = keys(queue)
        if !k.shareOneSlot, try await isCluster() {
            throw RedisClusterLayoutError.untaggedQueue(queue, prefix: prefix)
        }
        return k
    }

    /// Whether the server is a Redis Cluster: known without a round trip to the client's thread once connected (the
    /// worker asks before every claim and finish).
    private func isCluster() async throws -> Bool {
        if let known = client.knownToBeCluster { return known }
        return try await client.isCluster()
    }

    var server: String { client.endpoint.hostDescription }

    // MARK: Discovery

    public func discoverQueues() async throws -> [String] {
        // Every BullMQ queue has a `meta` hash or an `id` counter. Match both in one SCAN; filter exactly here.
        let pattern = globEscaped(prefix) + ":*:[mi][ed]*"
        let head = prefix + ":"
        var names = Set<String>()
        // A cluster's keys are spread over its masters: each is scanned.
        for node in try await client.keyServers() {
            var cursor = "0"
            repeat {
                let reply = try await client.command(
                    RedisCommand("SCAN", cursor, "MATCH", pattern, "COUNT", "10000"), on: node)
                guard let parts = reply.array, parts.count == 2, let next = parts[0].text, let keys = parts[1].array
                else {
                    throw RedisError(
                        code: .unexpectedReply, server: server, message: "SCAN reply has an unexpected shape")
                }
                for key in keys {
                    guard let text = key.text, text.hasPrefix(head) else { continue }
                    let rest = text.dropFirst(head.count)
                    for suffix in [":meta", ":id"] where rest.hasSuffix(suffix) && rest.count > suffix.count {
                        names.insert(String(rest.dropLast(suffix.count)))
                    }
                }
                cursor = next
            } while cursor != "0"
        }
        return names.sorted()
    }

    public func queueExists(_ queue: String) async throws -> Bool {
        // One EXISTS per key: on a cluster the keys of a queue named without a hash tag lie in different slots.
        let replies = try await client.pipeline(keys(queue).presenceKeys.map { RedisCommand("EXISTS", $0) })
        return replies.contains { ($0.integer ?? 0) > 0 }
    }

    // MARK: Workers

    public func connectedWorkers(knownQueues: Set<String>) async throws -> [ConnectedWorker] {
        // On a cluster a worker connects to the master of its queue's slot: every master is asked.
        var connections: [ClientConnection] = []
        for node in try await client.keyServers() {
            let reply: RedisValue
            do {
                reply = try await client.command(RedisCommand("CLIENT", "LIST"), on: node)
            } catch {
                guard error.code == .server && Self.refusesCommand(error) else { throw error }
                throw WorkerListingRefusedError(
                    location: location,
                    serverMessage: [error.serverCode, error.message].compactMap { $0 }.joined(separator: " "))
            }
            guard let text = reply.text else {
                throw RedisError(
                    code: .unexpectedReply, server: server, message: "CLIENT LIST did not answer with text")
            }
            connections += Self.clientConnections(text)
        }
        return WorkerDirectory.workers(
            from: connections, namespace: prefix, knownQueues: knownQueues, nodeNaming: true)
    }

    /// An ACL without the command, or a server (hosted, or with the command renamed) without it.
    static func refusesCommand(_ error: RedisError) -> Bool {
        if error.serverCode == "NOPERM" { return true }
        let message = error.message.lowercased()
        return error.serverCode == "ERR"
            && (message.contains("unknown command") || message.contains("unknown subcommand"))
    }

    /// The named connections of a `CLIENT LIST` reply: one line per connection, `key=value` fields.
    static func clientConnections(_ list: String) -> [ClientConnection] {
        list.split(whereSeparator: \.isNewline).compactMap { line in
            var name = "", address: String?, age: Int64?, idle: Int64?
            for field in line.split(separator: " ") {
                guard let equals = field.firstIndex(of: "=") else { continue }
                let value = field[field.index(after: equals)...]
                switch field[..<equals] {
                case "name": name = String(value)
                case "addr": address = String(value)
                case "age": age = Int64(value).map { $0 * 1000 }
                case "idle": idle = Int64(value).map { $0 * 1000 }
                default: break
                }
            }
            return name.isEmpty
                ? nil : ClientConnection(name: name, address: address, connectedForMs: age, idleForMs: idle)
        }
    }

    // MARK: Counts

    /// The commands that count one queue, in a fixed order read back by `readCounts`.
    private func countCommands(_ k: QueueKeys) -> [RedisCommand] {
        [
            RedisCommand("LLEN", k.wait), RedisCommand("LLEN", k.paused), RedisCommand("LLEN", k.active),
            RedisCommand("ZCARD", k.prioritized), RedisCommand("ZCARD", k.delayed),
            RedisCommand("ZCARD", k.completed), RedisCommand("ZCARD", k.failed),
            RedisCommand("ZCARD", k.waitingChildren), RedisCommand("HGETALL", k.meta),
            RedisCommand("LRANGE", k.wait, "-2", "-1"), RedisCommand("LRANGE", k.paused, "-2", "-1"),
            RedisCommand("ZRANGE", k.prioritized, "0", "0", "WITHSCORES"),
        ]
    }
    private static let countStates: [JobState] = [
        .waiting, .paused, .active, .prioritized, .delayed, .completed, .failed, .waitingChildren,
    ]

    private struct CountReading {
        var overview: QueueOverview
        var meta: [String: String]
        /// Ids of the oldest ready job at the end of each ready list.
        var readyTails: [String]
        /// First member of `prioritized` and its score, to start the walk for the oldest prioritized job.
        var firstPrioritized: (String, Double)?
        /// Keys that answered WRONGTYPE, to describe with TYPE.
        var wrongTypeKeys: [String]
    }

    private func readCounts(_ k: QueueKeys, _ replies: ArraySlice<RedisValue>) -> CountReading {
        let replies = Array(replies)
        var counts = JobCounts()
        var problems: [DataProblem] = []
        var wrongType: [String] = []
        for (index, state) in Self.countStates.enumerated() {
            let reply = replies[index]
            if let value = reply.integer {
                counts[state] = Int(value)
            } else if let (code, message) = reply.serverError {
                if code == "WRONGTYPE" {
                    wrongType.append(k.stateKey(state).key)
                } else {
                    problems.append(DataProblem(subject: k.stateKey(state).key, message: "\(code) \(message)"))
                }
            }
        }
        var meta: [String: String] = [:]
        if let pairs = replies[8].array {
            var index = 0
            while index + 1 < pairs.count {
                if let field = pairs[index].text, let value = pairs[index + 1].text { meta[field] = value }
                index += 2
            }
        } else if replies[8].serverError?.code == "WRONGTYPE" {
            wrongType.append(k.meta)
        }
        // Entries starting with "0:" are pre-v5 wake-up markers, not jobs (BullMQ's getCounts skips them too).
        var tails: [String] = []
        for (offset, state) in [(9, JobState.waiting), (10, JobState.paused)] {
            guard let entries = replies[offset].array?.compactMap(\.text) else { continue }
            if let last = entries.last, last.hasPrefix("0:"), let count = counts[state] {
                counts[state] = max(0, count - 1)
            }
            if let oldest = entries.reversed().first(where: { !$0.hasPrefix("0:") }) { tails.append(oldest) }
        }
        var first: (String, Double)?
        if let pair = replies[11].array, pair.count == 2, let member = pair[0].text,
            let score = pair[1].text.flatMap(Double.init)
        {
            first = (member, score)
        }
        let overview = QueueOverview(
            queue: k.queue, counts: counts, isPaused: QueueSettings(meta: meta, subject: k.meta).isPaused,
            oldestWaitingTimestamp: nil,
            problems: problems)
        return CountReading(
            overview: overview, meta: meta, readyTails: tails, firstPrioritized: first, wrongTypeKeys: wrongType)
    }

    public func overview(of queues: [String]) async throws -> [QueueOverview] {
        try await readOverviews(queues).map(\.overview)
    }

    private func readOverviews(_ queues: [String]) async throws -> [CountReading] {
        var readings: [CountReading] = []
        let perQueue = countCommands(keys("")).count
        // Bounded pipelines: at most ~200 queues (2,400 commands) per round trip.
        for chunk in stride(from: 0, to: queues.count, by: 200).map({ Array(queues[$0..<min($0 + 200, queues.count)]) })
        {
            let replies = try await client.pipeline(chunk.flatMap { countCommands(keys($0)) })
            for (index, queue) in chunk.enumerated() {
                readings.append(readCounts(keys(queue), replies[index * perQueue..<(index + 1) * perQueue]))
            }
        }
        try await describeWrongTypes(&readings)
        try await fillOldestWaiting(&readings)
        let spread = readings.indices.filter { !keys(readings[$0].overview.queue).shareOneSlot }
        if !spread.isEmpty, try await isCluster() {
            for index in spread {
                readings[index].overview.problems.append(
                    DataProblem(
                        subject: keys(readings[index].overview.queue).base + "*",
                        message: "its keys lie in different slots of the Redis Cluster: BullMQ cannot work it "
                            + "(name it '{queue}' or use a prefix such as '{bull}')"))
            }
        }
        return readings
    }

    /// Turns WRONGTYPE replies into problems that name the type found.
    private func describeWrongTypes(_ readings: inout [CountReading]) async throws {
        let keys = readings.flatMap(\.wrongTypeKeys)
        guard !keys.isEmpty else { return }
        let types = try await client.pipeline(keys.map { RedisCommand("TYPE", $0) })
        var found: [String: String] = [:]
        for (key, type) in zip(keys, types) { found[key] = type.text ?? "?" }
        for index in readings.indices {
            for key in readings[index].wrongTypeKeys {
                let expected =
                    key.hasSuffix(":meta")
                    ? "a hash"
                    : (key.hasSuffix(":wait") || key.hasSuffix(":paused") || key.hasSuffix(":active")
                        ? "a list" : "a sorted set")
                readings[index].overview.problems.append(
                    DataProblem(
                        subject: key,
                        message: "has type \(found[key] ?? "?"); BullMQ keeps \(expected) there (count not shown)"))
            }
        }
    }

    /// Finds the creation time of the oldest ready job of each queue: the tails of the ready lists, and in
    /// `prioritized` the member inserted first (lowest counter), found by visiting each priority band's head.
    private func fillOldestWaiting(_ readings: inout [CountReading]) async throws {
        var candidates: [[String]] = readings.map(\.readyTails)
        var walking: [Int: (member: String, score: Double, bestCounter: Double, best: String)] = [:]
        for (index, reading) in readings.enumerated() {
            if let (member, score) = reading.firstPrioritized {
                walking[index] = (member, score, score.truncatingRemainder(dividingBy: Self.band), member)
            }
        }
        var rounds = 0
        while !walking.isEmpty && rounds < 32 {
            rounds += 1
            let order = walking.map { (index: $0.key, score: $0.value.score) }
            let commands = order.map { index, score -> RedisCommand in
                let nextBand = ((score / Self.band).rounded(.down) + 1) * Self.band
                return RedisCommand(
                    "ZRANGEBYSCORE", keys(readings[index].overview.queue).prioritized, Self.scoreText(nextBand), "+inf",
                    "WITHSCORES", "LIMIT", "0", "1")
            }
            let replies = try await client.pipeline(commands)
            for ((index, _), reply) in zip(order, replies) {
                guard var state = walking[index] else { continue }
                if let pair = reply.array, pair.count == 2, let member = pair[0].text,
                    let score = pair[1].text.flatMap(Double.init)
                {
                    let counter = score.truncatingRemainder(dividingBy: Self.band)
                    if counter < state.bestCounter { state.bestCounter = counter; state.best = member }
                    state.member = member
                    state.score = score
                    walking[index] = state
                } else {
                    candidates[index].append(state.best)
                    walking[index] = nil
                }
            }
        }
        for (index, state) in walking { candidates[index].append(state.best) }  // many bands: best seen so far

        let flat = candidates.enumerated().flatMap { index, ids in ids.map { (index, $0) } }
        guard !flat.isEmpty else { return }
        let replies = try await client.pipeline(
            flat.map { RedisCommand("HGET", keys(readings[$0.0].overview.queue).job($0.1), "timestamp") })
        for ((index, _), reply) in zip(flat, replies) {
            guard let timestamp = reply.integer else { continue }
            let current = readings[index].overview.oldestWaitingTimestamp
            readings[index].overview.oldestWaitingTimestamp = min(current ?? timestamp, timestamp)
        }
    }

    /// Prioritized scores are priority·2³² + insertion counter.
    static let band = 4_294_967_296.0

    static func scoreText(_ score: Double) -> String {
        if score.rounded() == score, abs(score) < 9.0e15 { return String(Int64(score)) }
        return String(score)
    }

    // MARK: Stats

    public func stats(of queue: String) async throws -> QueueStats {
        let k = keys(queue)
        guard var reading = try await readOverviews([queue]).first else {
            throw RedisError(code: .unexpectedReply, server: server, message: "no reply for queue \(queue)")
        }
        let settings = QueueSettings(meta: reading.meta, subject: k.meta)
        var problems = reading.overview.problems + settings.problems
        // Stalled candidates: active jobs without a lock. Bounded: at most 100,000 active ids are checked.
        var stalled: Int?
        var sample: [String] = []
        if let activeCount = reading.overview.counts[.active] {
            let checkCount = min(activeCount, 100_000)
            var stalledCount = 0
            var start = 0
            while start < checkCount {
                let end = min(start + 1000, checkCount) - 1
                let ids = try await client.command(RedisCommand("LRANGE", k.active, String(start), String(end)))
                let activeIds = (ids.array ?? []).compactMap(\.text).filter { !$0.hasPrefix("0:") }
                let exists = try await client.pipeline(activeIds.map { RedisCommand("EXISTS", k.lock($0)) })
                for (id, reply) in zip(activeIds, exists) where reply.integer == 0 {
                    stalledCount += 1
                    if sample.count < 5 { sample.append(id) }
                }
                if activeIds.isEmpty { break }
                start = end + 1
            }
            stalled = stalledCount
            if activeCount > checkCount {
                problems.append(
                    DataProblem(
                        subject: k.active,
                        message:
                            "only the first \(checkCount) of \(activeCount) active jobs were checked for stalled locks")
                )
            }
        }
        reading.overview.problems = problems
        return QueueStats(
            overview: reading.overview, globalConcurrency: settings.globalConcurrency, rateLimit: settings.rateLimit,
            stalledCandidates: stalled, stalledCandidateSample: sample, recordedVersion: reading.meta["version"])
    }
}
