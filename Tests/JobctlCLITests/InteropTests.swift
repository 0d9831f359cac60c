import Foundation
import TestSupport
import Testing

/// Queues built by the real Python bullmq, read by the built jobctl binary, compared with what bullmq reports.
@Suite(.enabled(if: TestEnvironment.runsLiveRedisTests, "set JOBCTL_TEST_REDIS_URL (scripts/test.sh does)"))
struct InteropTests {
    static let fixture = Result { try BullMQFixture.build(badData: true) }

    func env() throws -> [String: String] {
        _ = try Self.fixture.get()
        return ["JOBCTL_URL": TestEnvironment.redisURL ?? ""]
    }

    func jobctlJSON(_ arguments: [String]) throws -> [String: Any] {
        let result = try TestEnvironment.jobctl(arguments + ["-o", "json"], environment: try env())
        #expect(result.status == 0, "jobctl \(arguments): \(result.stderr)")
        return try parseJSONObject(result.stdout)
    }

    static let bases = ["pdf-notes", "ai-notes", "pdf-extract", "completion"]

    @Test(arguments: bases)
    func statsCountsEqualBullMQJobCounts(_ base: String) throws {
        let fixture = try Self.fixture.get()
        let queue = fixture.queue(base)
        let client = try #require(fixture.queues[queue])
        let stats = try jobctlJSON(["stats", queue])
        let counts = try #require(stats["counts"] as? [String: Any])
        let expected = try #require(client["counts"] as? [String: Any])
        #expect(Set(counts.keys) == Set(expected.keys))
        for (state, value) in expected {
            #expect(jsonEqual(counts[state], value), "\(queue) \(state): jobctl \(counts[state] ?? "nil"), bullmq \(value)")
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

    @Test(arguments: bases)
    func showFieldsEqualBullMQJobFields(_ base: String) throws {
        let fixture = try Self.fixture.get()
        let queue = fixture.queue(base)
        let jobs = try #require(fixture.queues[queue]?["jobs"] as? [String: [String: Any]])
        #expect(!jobs.isEmpty)
        let compared = [
            "id", "name", "data", "opts", "progress", "returnvalue", "failedReason", "stacktrace", "timestamp",
            "delay", "priority", "processedOn", "finishedOn", "attemptsMade", "attemptsStarted", "stalledCounter",
            "deferredFailure", "repeatJobKey", "parentKey", "parent", "state", "logs",
        ]
        for (id, client) in jobs {
            let shown = try jobctlJSON(["show", queue, id])
            for field in compared {
                #expect(jsonEqual(shown[field], client[field]), "\(queue)/\(id) \(field): jobctl \(shown[field] ?? "nil"), bullmq \(client[field] ?? "nil")")
            }
            let lock = shown["lock"] as? [String: Any]
            #expect(jsonEqual(lock?["token"], client["lockToken"]), "\(queue)/\(id) lock")
        }
    }

    @Test(arguments: bases)
    func jobsListsWhatBullMQListsAndPagesCoverItExactlyOnce(_ base: String) throws {
        let fixture = try Self.fixture.get()
        let queue = fixture.queue(base)
        let byState = try #require(fixture.queues[queue]?["ids_by_state"] as? [String: [String]])
        for (state, ids) in byState {
            let all = try jobctlJSON(["jobs", queue, "--state", state, "--limit", "1000"])
            let listed = ((all["jobs"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
            #expect(Set(listed) == Set(ids) && listed.count == ids.count, "\(queue) \(state)")
            var paged: [String] = []
            var cursor: String?
            repeat {
                let page = try jobctlJSON(["jobs", queue, "--state", state, "--limit", "2"] + (cursor.map { ["--cursor", $0] } ?? []))
                paged += ((page["jobs"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
                cursor = page["nextCursor"] as? String
            } while cursor != nil
            #expect(paged == listed, "\(queue) \(state) paged")
        }
    }

    @Test func statsFindsTheJobWhoseWorkerDied() throws {
        let fixture = try Self.fixture.get()
        let queue = fixture.queue("pdf-notes")
        let jobs = try #require(fixture.queues[queue]?["jobs"] as? [String: [String: Any]])
        let dead = jobs.filter { ($0.value["state"] as? String) == "active" && $0.value["lockToken"] is NSNull }.map(\.key)
        #expect(dead.count == 1)
        let stats = try jobctlJSON(["stats", queue])
        #expect(jsonEqual(stats["stalledCandidates"], 1))
        #expect(jsonEqual(stats["stalledCandidateSample"], dead))
        #expect(stats["oldestWaitingAgeMs"] is NSNumber)
    }

    @Test func statusShowsNamedQueuesWithTotals() throws {
        let fixture = try Self.fixture.get()
        let names = Self.bases.map(fixture.queue)
        let status = try jobctlJSON(["status"] + names)
        let rows = try #require(status["queues"] as? [[String: Any]])
        #expect(rows.compactMap { $0["queue"] as? String } == names)
        let waiting = rows.compactMap { $0["waiting"] as? Int }
        #expect(waiting == [7, 3, 5, 0])  // pdf-notes: 4 waiting + 3 prioritized
        #expect(rows.compactMap { $0["paused"] as? Bool } == [false, true, false, false])
        let totals = try #require(status["totals"] as? [String: Any])
        #expect(jsonEqual(totals["waiting"], 15))
        #expect(jsonEqual(totals["failed"], 3))

        let text = try TestEnvironment.jobctl(["status"] + names, environment: try env())
        #expect(text.status == 0)
        let lines = text.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("QUEUE") == true)
        #expect(lines.last?.hasPrefix("TOTAL") == true)
        #expect(lines.count == 6)

        let jsonl = try TestEnvironment.jobctl(["status", "-o", "jsonl"] + names, environment: try env())
        #expect(jsonl.stdout.split(separator: "\n").count == 4)
        #expect(try jsonl.stdout.split(separator: "\n").allSatisfy { try parseJSONObject(String($0))["queue"] != nil })
    }

    @Test func badDataIsReportedAndTheRestStillShown() throws {
        let fixture = try Self.fixture.get()
        let queue = fixture.queue("broken")
        let result = try TestEnvironment.jobctl(["stats", queue, "--json"], environment: try env())
        #expect(result.status == 0)
        let stats = try parseJSONObject(result.stdout)
        let counts = try #require(stats["counts"] as? [String: Any])
        #expect(jsonEqual(counts["waiting"], 3))
        #expect(counts["delayed"] is NSNull)
        let problems = try #require(stats["problems"] as? [[String: String]]).map { "\($0["subject"] ?? ""): \($0["message"] ?? "")" }
        #expect(problems.contains { $0.contains(":delayed") && $0.contains("has type string") })
        #expect(problems.contains { $0.contains("concurrency") && $0.contains("'lots' is not an integer") })

        let listed = try TestEnvironment.jobctl(["jobs", queue, "--state", "waiting"], environment: try env())
        #expect(listed.status == 0)
        #expect(listed.stdout.contains("bad-json") && listed.stdout.contains("good"))
        #expect(listed.stderr.contains("job 1: field data: not valid JSON"))
        #expect(listed.stderr.contains("job 2: field name: not valid UTF-8"))

        let shown = try parseJSONObject(try TestEnvironment.jobctl(["show", queue, "1", "--json"], environment: try env()).stdout)
        #expect(shown["data"] as? String == "{not json")
        #expect((shown["problems"] as? [[String: String]])?.first?["subject"] == "field data")
    }

    @Test func unknownQueueAndJobSayWhatToDo() throws {
        let fixture = try Self.fixture.get()
        let misspelt = fixture.queue("pdf-notes").replacingOccurrences(of: "notes", with: "ntoes")
        let result = try TestEnvironment.jobctl(["stats", misspelt], environment: try env())
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("queue '\(misspelt)' not found"))
        #expect(result.stderr.contains("did you mean '\(fixture.queue("pdf-notes"))'"))

        let job = try TestEnvironment.jobctl(["show", fixture.queue("pdf-notes"), "no-such-job"], environment: try env())
        #expect(job.status == 1)
        #expect(job.stderr.contains("job 'no-such-job' not found"))
    }
}
