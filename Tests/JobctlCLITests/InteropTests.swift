import Foundation
import TestSupport
import Testing

/// Queues built by the real Python bullmq on each backend, read by the built jobctl binary, compared with what
/// bullmq reports.
@Suite(
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct InteropTests {
    static let backends = Backend.live
    static let redisFixture = Result { try BullMQFixture.build(on: .redis, badData: true) }
    static let postgresFixture = Result { try BullMQFixture.build(on: .postgres, badData: true) }

    func fixture(_ backend: Backend) throws -> BullMQFixture {
        switch backend {
        case .redis: return try Self.redisFixture.get()
        case .postgres: return try Self.postgresFixture.get()
        }
    }

    func jobctl(_ backend: Backend, _ arguments: [String]) throws -> ProcessResult {
        try TestEnvironment.jobctl(arguments, environment: try fixture(backend).jobctlEnvironment)
    }

    func jobctlJSON(_ backend: Backend, _ arguments: [String]) throws -> [String: Any] {
        let result = try jobctl(backend, arguments + ["-o", "json"])
        #expect(result.status == 0, "jobctl \(arguments) on \(backend): \(result.stderr)")
        return try parseJSONObject(result.stdout)
    }

    static let bases = ["pdf-notes", "ai-notes", "pdf-extract", "completion"]

    @Test(arguments: backends, bases)
    func statsCountsEqualBullMQJobCounts(_ backend: Backend, _ base: String) throws {
        let fixture = try fixture(backend)
        let queue = fixture.queue(base)
        let client = try #require(fixture.queues[queue])
        let stats = try jobctlJSON(backend, ["stats", queue])
        let counts = try #require(stats["counts"] as? [String: Any])
        let expected = try #require(client["counts"] as? [String: Any])
        #expect(Set(counts.keys) == Set(expected.keys))
        for (state, value) in expected where state != "waiting" && state != "paused" {
            #expect(
                jsonEqual(counts[state], value), "\(queue) \(state): jobctl \(counts[state] ?? "nil"), bullmq \(value)")
        }
        // One meaning on both backends: the ready jobs of a paused queue are waiting, with the queue flagged
        // paused. BullMQ's Redis client agrees; its Postgres client counts them only under `paused`.
        let clientWaiting = try #require(expected["waiting"] as? Int),
            clientPaused = try #require(expected["paused"] as? Int)
        if backend == .redis {
            #expect(
                jsonEqual(counts["waiting"], clientWaiting) && jsonEqual(counts["paused"], clientPaused), "\(queue)")
        } else {
            #expect(jsonEqual(counts["waiting"], clientWaiting + clientPaused), "\(queue) waiting")
            #expect(jsonEqual(counts["paused"], 0), "\(queue) paused")
        }
        #expect(jsonEqual(stats["paused"], client["paused"]))
        #expect(jsonEqual(stats["globalConcurrency"], client["globalConcurrency"]))
        if let limit = client["globalRateLimit"] as? [String: Any] {
            let ours = try #require(stats["rateLimit"] as? [String: Any])
            #expect(jsonEqual(ours["max"], limit["max"]))
            #expect(jsonEqual(ours["durationMs"], limit["duration"]))
        } else {
            #expect(stats["rateLimit"] is NSNull)
        }
    }

    @Test(arguments: backends, bases)
    func showFieldsEqualBullMQJobFields(_ backend: Backend, _ base: String) throws {
        let fixture = try fixture(backend)
        let queue = fixture.queue(base)
        let jobs = try #require(fixture.queues[queue]?["jobs"] as? [String: [String: Any]])
        #expect(!jobs.isEmpty)
        let compared = [
            "id", "name", "data", "opts", "progress", "returnvalue", "failedReason", "stacktrace", "timestamp",
            "delay", "priority", "processedOn", "finishedOn", "attemptsMade", "attemptsStarted", "stalledCounter",
            "deferredFailure", "repeatJobKey", "parentKey", "parent", "state", "logs",
        ]
        for (id, client) in jobs {
            let shown = try jobctlJSON(backend, ["show", queue, id])
            for field in compared {
                let (ours, theirs) = (shown[field] ?? "nil", client[field] ?? "nil")
                #expect(
                    jsonEqual(shown[field], client[field]),
                    "\(backend) \(queue)/\(id) \(field): jobctl \(ours), bullmq \(theirs)")
            }
            let lock = shown["lock"] as? [String: Any]
            #expect(jsonEqual(lock?["token"], client["lockToken"]), "\(queue)/\(id) lock")
        }
    }

    @Test(arguments: backends, bases)
    func jobsListsWhatBullMQListsAndPagesCoverItExactlyOnce(_ backend: Backend, _ base: String) throws {
        let fixture = try fixture(backend)
        let queue = fixture.queue(base)
        let byState = try #require(fixture.queues[queue]?["ids_by_state"] as? [String: [String]])
        for (state, ids) in byState {
            let all = try jobctlJSON(backend, ["jobs", queue, "--state", state, "--limit", "1000"])
            let listed = ((all["jobs"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
            #expect(Set(listed) == Set(ids) && listed.count == ids.count, "\(backend) \(queue) \(state)")
            var paged: [String] = []
            var cursor: String?
            repeat {
                let page = try jobctlJSON(
                    backend,
                    ["jobs", queue, "--state", state, "--limit", "2"] + (cursor.map { ["--cursor", $0] } ?? []))
                paged += ((page["jobs"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
                cursor = page["nextCursor"] as? String
            } while cursor != nil
            #expect(paged == listed, "\(backend) \(queue) \(state) paged")
        }
    }

    @Test(arguments: backends)
    func statsFindsTheJobWhoseWorkerDied(_ backend: Backend) throws {
        let fixture = try fixture(backend)
        let queue = fixture.queue("pdf-notes")
        let jobs = try #require(fixture.queues[queue]?["jobs"] as? [String: [String: Any]])
        // Redis drops an expired lock key; Postgres keeps the token beside an expiry in the past.
        let dead = jobs.filter {
            ($0.value["state"] as? String) == "active"
                && ($0.value["lockToken"] is NSNull
                    || ($0.value["lockToken"] as? String)?.hasPrefix("fixture-dead-worker") == true)
        }.map(\.key)
        #expect(dead.count == 1)
        let stats = try jobctlJSON(backend, ["stats", queue])
        #expect(jsonEqual(stats["stalledCandidates"], 1))
        #expect(jsonEqual(stats["stalledCandidateSample"], dead))
        #expect(stats["oldestWaitingAgeMs"] is NSNumber)
    }

    @Test(arguments: backends)
    func statusShowsNamedQueuesWithTotals(_ backend: Backend) throws {
        let fixture = try fixture(backend)
        let names = Self.bases.map(fixture.queue)
        let status = try jobctlJSON(backend, ["status"] + names)
        let rows = try #require(status["queues"] as? [[String: Any]])
        #expect(rows.compactMap { $0["queue"] as? String } == names)
        let waiting = rows.compactMap { $0["waiting"] as? Int }
        #expect(waiting == [7, 3, 5, 0])  // pdf-notes: 4 waiting + 3 prioritized
        #expect(rows.compactMap { $0["paused"] as? Bool } == [false, true, false, false])
        let totals = try #require(status["totals"] as? [String: Any])
        #expect(jsonEqual(totals["waiting"], 15))
        #expect(jsonEqual(totals["failed"], 3))

        let text = try jobctl(backend, ["status"] + names)
        #expect(text.status == 0)
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("QUEUE") == true)
        #expect(lines.last?.hasPrefix("TOTAL") == true)
        #expect(lines.count == 6)

        let jsonl = try jobctl(backend, ["status", "-o", "jsonl"] + names)
        #expect(jsonl.stdout.split(separator: "\n").count == 4)
        #expect(try jsonl.stdout.split(separator: "\n").allSatisfy { try parseJSONObject(String($0))["queue"] != nil })
    }

    @Test(.enabled(if: TestEnvironment.runsLiveRedisTests))
    func badRedisDataIsReportedAndTheRestStillShown() throws {
        let fixture = try fixture(.redis)
        let queue = fixture.queue("broken")
        let result = try jobctl(.redis, ["stats", queue, "--json"])
        #expect(result.status == 0)
        let stats = try parseJSONObject(result.stdout)
        let counts = try #require(stats["counts"] as? [String: Any])
        #expect(jsonEqual(counts["waiting"], 3))
        #expect(counts["delayed"] is NSNull)
        let problems = try #require(stats["problems"] as? [[String: String]]).map {
            "\($0["subject"] ?? ""): \($0["message"] ?? "")"
        }
        #expect(problems.contains { $0.contains(":delayed") && $0.contains("has type string") })
        #expect(problems.contains { $0.contains("concurrency") && $0.contains("'lots' is not an integer") })

        let listed = try jobctl(.redis, ["jobs", queue, "--state", "waiting"])
        #expect(listed.status == 0)
        #expect(listed.stdout.contains("bad-json") && listed.stdout.contains("good"))
        #expect(listed.stderr.contains("job 1: field data: not valid JSON"))
        #expect(listed.stderr.contains("job 2: field name: not valid UTF-8"))

        let shown = try parseJSONObject(try jobctl(.redis, ["show", queue, "1", "--json"]).stdout)
        #expect(shown["data"] as? String == "{not json")
        #expect((shown["problems"] as? [[String: String]])?.first?["subject"] == "field data")
    }

    @Test(arguments: backends)
    func unknownQueueAndJobSayWhatToDo(_ backend: Backend) throws {
        let fixture = try fixture(backend)
        let misspelt = fixture.queue("pdf-notes").replacingOccurrences(of: "notes", with: "ntoes")
        let result = try jobctl(backend, ["stats", misspelt])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("queue '\(misspelt)' not found"))
        #expect(result.stderr.contains("did you mean '\(fixture.queue("pdf-notes"))'"))

        let job = try jobctl(backend, ["show", fixture.queue("pdf-notes"), "no-such-job"])
        #expect(job.status == 1)
        #expect(job.stderr.contains("job 'no-such-job' not found"))
    }

    @Test(.enabled(if: TestEnvironment.runsLivePostgresTests))
    func badPostgresDataIsReportedAndTheRestStillShown() throws {
        let fixture = try fixture(.postgres)
        let queue = fixture.queue("broken")
        let result = try jobctl(.postgres, ["stats", queue, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let stats = try parseJSONObject(result.stdout)
        let counts = try #require(stats["counts"] as? [String: Any])
        #expect(jsonEqual(counts["waiting"], 5))  // the job with priority -1 included: workers take it first
        #expect(stats["globalConcurrency"] is NSNull)
        let problems = try #require(stats["problems"] as? [[String: String]]).map {
            "\($0["subject"] ?? ""): \($0["message"] ?? "")"
        }
        #expect(problems.contains { $0.contains("meta field concurrency") && $0.contains("'lots' is not an integer") })

        let listed = try jobctl(.postgres, ["jobs", queue, "--state", "waiting"])
        #expect(listed.status == 0)
        #expect(listed.stdout.contains("bad-json") && listed.stdout.contains("good"))
        #expect(listed.stderr.contains("column priority: -1 is negative"))
        #expect(listed.stderr.contains("column opts: is not a JSON object"))

        let shown = try parseJSONObject(try jobctl(.postgres, ["show", queue, "1", "--json"]).stdout)
        #expect(shown["data"] as? String == "{not json")  // a JSON string, stored as jsonb: shown as it is
    }
}
