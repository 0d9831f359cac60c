import Foundation
import TestSupport
import Testing

/// The control commands against the real Python `bullmq` on both backends: jobctl changes queues, the client's
/// own workers and readers check the result (and the other way round).
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct ControlCommandTests {
    typealias Object = [String: Any]

    static func object(_ value: Any?) -> Object { value as? Object ?? [:] }
    static func ids(_ value: Any?) -> Set<String> { Set((value as? [Any] ?? []).compactMap { $0 as? String }) }
    static func count(_ counts: Any?, _ state: String) -> Int { (object(counts)[state] as? NSNumber)?.intValue ?? -1 }

    /// The jobctl step's result, with its output checked to be what the test expects.
    static func jobctl(_ args: [String]) -> Object { ["op": "jobctl", "args": args] }

    // MARK: retry

    @Test(arguments: Backend.live)
    func failedJobsRetriedByJobctlAreCompletedByABullMQWorker(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let results = try steps.run([
            [
                "op": "fail_jobs", "queue": "mail", "count": 6, "name": "send",
                "error": "connect ECONNREFUSED 10.1.2.3:25",
            ],
            Self.jobctl(["retry", "mail", "--failed", "--yes", "--json"]),
            ["op": "counts", "queue": "mail"],
            ["op": "worker_start", "queue": "mail", "fail": false],
            ["op": "wait_until", "queue": "mail", "completed": 6, "timeout": 20],
            ["op": "worker_stop", "queue": "mail"],
            ["op": "counts", "queue": "mail"],
        ])
        let failed = Self.ids(Self.object(results[0])["ids"])
        let run = Self.object(results[1])
        #expect(run["status"] as? Int == 0, "\(run)")
        let summary = try parseJSONObject(run["stdout"] as? String ?? "")
        #expect(summary["matched"] as? Int == 6 && summary["changed"] as? Int == 6 && summary["skipped"] as? Int == 0)
        #expect(Self.count(results[2], "waiting") == 6 && Self.count(results[2], "failed") == 0)
        #expect(Self.ids(Self.object(results[4])["completed"]) == failed)
        #expect(
            Self.count(results[6], "completed") == 6 && Self.count(results[6], "failed") == 0
                && Self.count(results[6], "waiting") == 0)
    }

    @Test(arguments: Backend.live)
    func retryFiltersChooseExactlyTheIntendedJobs(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        // Two groups of failures a little apart in time, with different names and errors, and completed jobs.
        let setup = try steps.run([
            ["op": "fail_jobs", "queue": "q", "count": 3, "name": "resize", "error": "timeout after 3000 ms"],
            ["op": "sleep", "seconds": 1.2],
            [
                "op": "fail_jobs", "queue": "q", "count": 2, "name": "email",
                "error": "SMTP 550 mailbox 8f3a9c2e1d unavailable",
            ],
            ["op": "add", "queue": "q", "name": "report", "data": ["n": 1], "opts": [:]],
            ["op": "worker_start", "queue": "q", "fail": false],
            ["op": "wait_until", "queue": "q", "completed": 1, "timeout": 20],
            ["op": "worker_stop", "queue": "q"],
        ])
        let resize = Self.ids(Self.object(setup[0])["ids"])
        let email = Self.ids(Self.object(setup[2])["ids"])
        let report = Self.ids([Self.object(setup[3])["id"] as Any])
        let first = try #require(
            Self.object(try steps.last([["op": "job", "queue": "q", "id": email.first!]]))["finishedOn"] as? NSNumber)
        // Between the groups: a second before the second group finished.
        let between = String(first.int64Value - 600)

        func chosen(_ filters: [String]) throws -> (matched: Int, ids: Set<String>, byError: [String: Any]) {
            let result = try steps.jobctl(["retry", "q", "--dry-run", "--json"] + filters)
            #expect(result.status == 0, "\(filters): \(result.stderr)")
            let report = try parseJSONObject(result.stdout)
            return (report["matched"] as? Int ?? -1, Self.ids(report["sampleIds"]), Self.object(report["byError"]))
        }
        #expect(try chosen([]).matched == 5)
        #expect(try chosen(["--name", "email"]).ids == email)
        #expect(try chosen(["--error-match", "^timeout"]).ids == resize)
        #expect(try chosen(["--error-match", "mailbox [0-9a-f]+ unavailable"]).ids == email)
        #expect(try chosen(["--since", between]).ids == email)
        #expect(try chosen(["--before", between]).ids == resize)
        #expect(try chosen(["--since", "1h", "--name", "resize"]).ids == resize)
        #expect(try chosen(["--limit", "2"]).ids == email, "the most recently failed first")
        #expect(try chosen(["--state", "completed"]).ids == report)
        let errors = try chosen([]).byError
        #expect(
            errors["timeout after <n> ms"] as? Int == 3 && errors["SMTP <n> mailbox <id> unavailable"] as? Int == 2,
            "\(errors)")

        // Job ids: exactly those move, and a job in another state is reported, not moved.
        let picked = Array(resize.sorted().prefix(2))
        let run = try steps.jobctl(["retry", "q", "--yes"] + picked + [report.first!])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            run.stdout.contains("retried 2 of 2") && run.stdout.contains("not failed (it is completed)"),
            "\(run.stdout)")
        let states = try steps.run((resize.sorted() + email.sorted()).map { ["op": "job", "queue": "q", "id": $0] })
        let waiting = Set(
            states.map(Self.object).filter { $0["state"] as? String == "waiting" }.compactMap { $0["id"] as? String })
        #expect(waiting == Set(picked))

        // Completed jobs, retried, run again.
        let again = try steps.run([
            Self.jobctl(["retry", "q", "--state", "completed", "--yes"]),
            ["op": "counts", "queue": "q"],
        ])
        #expect(Self.object(again[0])["status"] as? Int == 0)
        #expect(Self.count(again[1], "completed") == 0 && Self.count(again[1], "waiting") == 3)
    }

    // MARK: pause, resume

    @Test(arguments: Backend.live)
    func pausedQueuesGiveARunningBullMQWorkerNothingUntilResumed(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let results = try steps.run([
            ["op": "add", "queue": "p", "name": "warm-up", "data": [:], "opts": [:]],
            ["op": "worker_start", "queue": "p", "fail": false],
            ["op": "wait_until", "queue": "p", "completed": 1, "timeout": 20],
            Self.jobctl(["pause", "p", "--yes"]),
            ["op": "is_paused", "queue": "p"],
            ["op": "add", "queue": "p", "name": "a", "data": [:], "opts": [:]],
            ["op": "add", "queue": "p", "name": "b", "data": [:], "opts": ["priority": 2]],
            ["op": "add", "queue": "p", "name": "c", "data": [:], "opts": [:]],
            ["op": "sleep", "seconds": 2.5],
            ["op": "seen", "queue": "p"],
            Self.jobctl(["resume", "p", "--yes"]),
            ["op": "is_paused", "queue": "p"],
            ["op": "wait_until", "queue": "p", "completed": 4, "timeout": 10],
            ["op": "worker_stop", "queue": "p"],
        ])
        #expect(Self.object(results[3])["status"] as? Int == 0, "\(results[3])")
        #expect(Self.object(results[4])["paused"] as? Bool == true)
        #expect(
            Self.ids(Self.object(results[9])["completed"]).count == 1,
            "the worker took a job from a paused queue: \(results)")
        #expect(Self.object(results[10])["status"] as? Int == 0)
        #expect(Self.object(results[11])["paused"] as? Bool == false)
        let done = Self.object(results[12])
        #expect(done["timed_out"] as? Bool == false && Self.ids(done["completed"]).count == 4, "\(done)")
    }

    // MARK: drain, clean

    @Test(arguments: Backend.live)
    func drainDeletesWaitingJobsAndLeavesActiveFailedAndCompletedAlone(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let results = try steps.run([
            ["op": "fail_jobs", "queue": "d", "count": 2, "name": "broken", "error": "boom"],
            ["op": "add", "queue": "d", "name": "done", "data": [:], "opts": [:]],
            ["op": "worker_start", "queue": "d", "fail": false, "concurrency": 2],
            ["op": "wait_until", "queue": "d", "completed": 1, "timeout": 20],
            // Two slow jobs keep both worker slots busy, so everything added after them stays waiting.
            ["op": "add", "queue": "d", "name": "slow", "data": ["sleep": 4], "opts": [:]],
            ["op": "add", "queue": "d", "name": "slow", "data": ["sleep": 4], "opts": [:]],
            ["op": "sleep", "seconds": 1.5],
            ["op": "add_bulk", "queue": "d", "jobs": (0..<5).map { ["name": "w", "data": ["i": $0], "opts": [:]] }],
            ["op": "add", "queue": "d", "name": "p", "data": [:], "opts": ["priority": 5]],
            ["op": "add", "queue": "d", "name": "later", "data": [:], "opts": ["delay": 600_000]],
            ["op": "counts", "queue": "d"],
            Self.jobctl(["drain", "d", "--yes", "--json"]),
            ["op": "counts", "queue": "d"],
            Self.jobctl(["purge", "d", "--delayed", "--yes"]),
            ["op": "counts", "queue": "d"],
            ["op": "worker_stop", "queue": "d"],
        ])
        let before = results[10]
        #expect(
            Self.count(before, "active") == 2 && Self.count(before, "waiting") == 5
                && Self.count(before, "prioritized") == 1)
        let summary = try parseJSONObject(Self.object(results[11])["stdout"] as? String ?? "")
        #expect(summary["changed"] as? Int == 6, "\(results[11])")
        let after = results[12]
        #expect(
            Self.count(after, "waiting") == 0 && Self.count(after, "prioritized") == 0
                && Self.count(after, "delayed") == 1)
        #expect(
            Self.count(after, "active") == 2 && Self.count(after, "failed") == 2 && Self.count(after, "completed") == 1)
        #expect(Self.count(results[14], "delayed") == 0 && Self.count(results[14], "active") == 2)
        // The slow jobs finish normally after the drain.
        #expect(Self.ids(Self.object(results[15])["completed"]).count == 3)
    }

    @Test(arguments: Backend.live)
    func cleanDeletesOnlyJobsFinishedLongerAgoThanTheAge(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let results = try steps.run([
            ["op": "fail_jobs", "queue": "c", "count": 2, "name": "bad", "error": "boom"],
            ["op": "add_bulk", "queue": "c", "jobs": (0..<4).map { ["name": "old", "data": ["i": $0], "opts": [:]] }],
            ["op": "worker_start", "queue": "c", "fail": false],
            ["op": "wait_until", "queue": "c", "completed": 4, "timeout": 20],
            ["op": "sleep", "seconds": 2.2],
            ["op": "add", "queue": "c", "name": "new", "data": [:], "opts": [:]],
            ["op": "wait_until", "queue": "c", "completed": 5, "timeout": 20],
            ["op": "worker_stop", "queue": "c"],
            Self.jobctl(["clean", "c", "--completed", "--older-than", "2s", "--limit", "3", "--yes", "--json"]),
            ["op": "counts", "queue": "c"],
            Self.jobctl(["clean", "c", "--completed", "--failed", "--older-than", "2s", "--yes"]),
            ["op": "counts", "queue": "c"],
        ])
        let first = try parseJSONObject(Self.object(results[8])["stdout"] as? String ?? "")
        #expect(first["changed"] as? Int == 3, "\(results[8])")
        #expect(Self.count(results[9], "completed") == 2 && Self.count(results[9], "failed") == 2)
        #expect(Self.object(results[10])["status"] as? Int == 0)
        #expect(
            Self.count(results[11], "completed") == 1 && Self.count(results[11], "failed") == 0, "the new job stays")
        let kept = Self.object(
            try steps.last([["op": "job", "queue": "c", "id": Self.object(results[5])["id"] as? String ?? ""]]))
        #expect(kept["name"] as? String == "new")
    }

    // MARK: promote, remove

    @Test(arguments: Backend.live)
    func promotedJobsRunNowWithTheirPriority(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let results = try steps.run([
            ["op": "add", "queue": "pr", "name": "plain", "data": [:], "opts": ["delay": 600_000]],
            ["op": "add", "queue": "pr", "name": "urgent", "data": [:], "opts": ["delay": 600_000, "priority": 1]],
            ["op": "add", "queue": "pr", "name": "stays", "data": [:], "opts": ["delay": 600_000]],
        ])
        let plain = Self.object(results[0])["id"] as? String ?? ""
        let urgent = Self.object(results[1])["id"] as? String ?? ""
        let run = try steps.run([
            Self.jobctl(["promote", "pr", plain, urgent, "--yes"]),
            ["op": "counts", "queue": "pr"],
            ["op": "worker_start", "queue": "pr", "fail": false],
            ["op": "wait_until", "queue": "pr", "completed": 2, "timeout": 20],
            ["op": "worker_stop", "queue": "pr"],
            ["op": "job", "queue": "pr", "id": urgent],
        ])
        #expect(Self.object(run[0])["status"] as? Int == 0, "\(run[0])")
        #expect(
            Self.count(run[1], "waiting") == 1 && Self.count(run[1], "prioritized") == 1
                && Self.count(run[1], "delayed") == 1)
        #expect(Self.ids(Self.object(run[3])["completed"]) == [plain, urgent])
        #expect((Self.object(run[5])["priority"] as? NSNumber)?.intValue == 1)
    }

    @Test(arguments: Backend.live)
    func removeRefusesARunningJobUnlessForced(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let results = try steps.run([
            ["op": "add", "queue": "r", "name": "idle", "data": [:], "opts": ["delay": 600_000, "jobId": "idle-1"]],
            ["op": "worker_start", "queue": "r", "fail": false],
            ["op": "add", "queue": "r", "name": "busy", "data": ["sleep": 3], "opts": ["jobId": "busy-1"]],
            ["op": "sleep", "seconds": 1.5],
            Self.jobctl(["remove", "r", "busy-1", "idle-1", "missing-1", "--yes"]),
            ["op": "job", "queue": "r", "id": "busy-1"],
            Self.jobctl(["remove", "r", "busy-1", "--force", "--yes"]),
            ["op": "job", "queue": "r", "id": "idle-1"], ["op": "job", "queue": "r", "id": "busy-1"],
            ["op": "counts", "queue": "r"],
            ["op": "worker_stop", "queue": "r"],
        ])
        let refused = Self.object(results[4])
        let text = refused["stdout"] as? String ?? ""
        #expect(refused["status"] as? Int == 1, "not every job was removed: \(refused)")
        #expect(
            text.contains("removed 1 of 2") && text.contains("locked by a worker") && text.contains("not found"),
            "\(text)")
        #expect(Self.object(results[5])["state"] as? String == "active")
        #expect(Self.object(results[6])["status"] as? Int == 0, "\(results[6])")
        #expect(results[7] is NSNull && results[8] is NSNull)
        #expect(Self.count(results[9], "active") == 0 && Self.count(results[9], "delayed") == 0)
    }

    // MARK: add

    /// What BullMQ stores for a job, without what differs between two adds (ids, times, sequence numbers).
    static func comparable(_ raw: Any?, backend: Backend) -> Object {
        var stored = object(raw)
        for volatile in ["timestamp", "id", "seq", "added_at_ms", "process_at_ms"] { stored[volatile] = nil }
        for jsonField in ["opts", "data"] {
            if let text = stored[jsonField] as? String,
                let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            {
                stored[jsonField] = parsed
            }
        }
        // A job added with an id of its own keeps it in opts: both adds use a different one.
        if var opts = stored["opts"] as? Object, opts["jobId"] != nil {
            opts["jobId"] = "(own id)"
            stored["opts"] = opts
        }
        return stored
    }

    @Test(arguments: Backend.live)
    func jobsAddedByJobctlAreStoredAsBullMQStoresThemAndRunByItsWorker(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let cases: [(opts: Object, flags: [String])] = [
            ([:], []),
            (["delay": 1500], ["--delay", "1500ms"]),
            (["priority": 3], ["--priority", "3"]),
            (
                ["attempts": 3, "backoff": ["type": "exponential", "delay": 1000]],
                ["--attempts", "3", "--backoff", "exponential:1s"]
            ),
            (["attempts": 2, "backoff": 500], ["--attempts", "2", "--backoff", "500"]),
            (["lifo": true], ["--lifo"]),
            (["jobId": "own-py"], ["--job-id", "own-cli"]),
        ]
        let data: Object = ["to": "ops@example.com", "n": [1, 2.5, "ü"], "nested": ["ok": true, "none": NSNull()]]
        let dataText = String(decoding: try JSONSerialization.data(withJSONObject: data), as: UTF8.self)
        var plan: [Object] = []
        for (index, item) in cases.enumerated() {
            plan.append(["op": "add", "queue": "py\(index)", "name": "send", "data": data, "opts": item.opts])
            plan.append(
                Self.jobctl(["add", "cli\(index)", "send", "--data", dataText, "--yes", "--json"] + item.flags))
        }
        let added = try steps.run(plan)
        var reads: [Object] = []
        for index in cases.indices {
            let pyId = Self.object(added[2 * index])["id"] as? String ?? ""
            let run = Self.object(added[2 * index + 1])
            #expect(run["status"] as? Int == 0, "\(run)")
            let summary = try parseJSONObject(run["stdout"] as? String ?? "")
            let cliId = (summary["ids"] as? [String])?.first ?? ""
            reads.append(["op": "raw_job", "queue": "py\(index)", "id": pyId])
            reads.append(["op": "raw_job", "queue": "cli\(index)", "id": cliId])
        }
        let stored = try steps.run(reads)
        for index in cases.indices {
            var python = Self.comparable(stored[2 * index], backend: backend)
            var ours = Self.comparable(stored[2 * index + 1], backend: backend)
            python["queue"] = nil
            ours["queue"] = nil
            #expect(
                !python.isEmpty && jsonEqual(python, ours), "case \(cases[index].opts): python \(python) jobctl \(ours)"
            )
        }
        // A Python worker runs what jobctl added, with the same name, data and options.
        var work: [Object] = []
        for index in cases.indices {
            work += [
                ["op": "worker_start", "queue": "cli\(index)", "fail": false],
                ["op": "wait_until", "queue": "cli\(index)", "completed": 1, "timeout": 20],
                ["op": "worker_stop", "queue": "cli\(index)"],
            ]
        }
        let worked = try steps.run(work)
        for index in cases.indices {
            let seen = (Self.object(worked[3 * index + 2])["seen"] as? [Any])?.first.map(Self.object) ?? [:]
            #expect(seen["name"] as? String == "send" && jsonEqual(seen["data"], data), "case \(index): \(seen)")
            let opts = Self.object(seen["opts"])
            for (key, value) in cases[index].opts where key != "jobId" && key != "backoff" {
                #expect(jsonEqual(opts[key], value), "case \(index) option \(key): \(opts)")
            }
        }
    }

    @Test(arguments: Backend.live)
    func bulkAddFromJSONLinesChecksEveryLineFirst(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        try steps.last([["op": "counts", "queue": "bulk"]])  // the client creates the PostgreSQL schema
        let good = (0..<2500).map { #"{"name":"n\#($0 % 3)","data":{"i":\#($0)},"opts":{"priority":\#($0 % 2)}}"# }
        let added = try steps.jobctl(
            ["add", "bulk", "--from", "-", "--yes", "--json"], stdin: good.joined(separator: "\n") + "\n")
        #expect(added.status == 0, "\(added.stderr)")
        let summary = try parseJSONObject(added.stdout)
        #expect(summary["changed"] as? Int == 2500 && (summary["ids"] as? [String])?.count == 2500)
        let counts = try steps.last([["op": "counts", "queue": "bulk"]])
        #expect(Self.count(counts, "waiting") == 1250 && Self.count(counts, "prioritized") == 1250)

        let bad = [good[0], #"{"name":"x","opts":{"removeOnComplete":true}}"#, good[1]].joined(separator: "\n")
        let refused = try steps.jobctl(["add", "bulk2", "--from", "-", "--yes"], stdin: bad)
        #expect(
            refused.status == 64 && refused.stderr.contains("stdin line 2")
                && refused.stderr.contains("removeOnComplete"), "\(refused.stderr)")
        let garbage = try steps.jobctl(["add", "bulk2", "--from", "-", "--yes"], stdin: "{\"name\":\"a\"}\nnot json\n")
        #expect(garbage.status == 64 && garbage.stderr.contains("line 2"), "\(garbage.stderr)")
        let nothing = try steps.last([["op": "counts", "queue": "bulk2"]])
        #expect(Self.count(nothing, "waiting") == 0, "a bad line adds nothing")
    }

    // MARK: what every change shares

    @Test(arguments: Backend.live)
    func dryRunChangesNothingAndNoTerminalNeedsYes(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let setup = try steps.run([
            ["op": "fail_jobs", "queue": "dr", "count": 3, "name": "x", "error": "boom 42"],
            ["op": "add", "queue": "dr", "name": "w", "data": [:], "opts": [:]],
            ["op": "add", "queue": "dr", "name": "later", "data": [:], "opts": ["delay": 600_000]],
            ["op": "dump", "queue": "dr"],
        ])
        let failedId = Self.ids(Self.object(setup[0])["ids"]).sorted().first ?? ""
        let commands: [[String]] = [
            ["retry", "dr"], ["retry", "dr", failedId], ["drain", "dr", "--delayed"],
            ["clean", "dr", "--failed", "--older-than", "0s"],
            ["promote", "dr"], ["pause", "dr"], ["resume", "dr"], ["remove", "dr", failedId],
            ["add", "dr", "new", "--data", "{}"],
        ]
        var plan: [Object] = []
        for command in commands {
            plan.append(Self.jobctl(command + ["--dry-run"]))
            plan.append(Self.jobctl(command + ["--dry-run", "--json"]))
            plan.append(Self.jobctl(command))
        }
        plan.append(["op": "dump", "queue": "dr"])
        let results = try steps.run(plan)
        for (index, command) in commands.enumerated() {
            let text = Self.object(results[3 * index])
            #expect(
                text["status"] as? Int == 0 && (text["stdout"] as? String ?? "").contains("nothing changed"),
                "\(command): \(text)")
            let json = Self.object(results[3 * index + 1])
            let report = try parseJSONObject(json["stdout"] as? String ?? "")
            #expect(report["dryRun"] as? Bool == true && (report["matched"] as? Int ?? 0) >= 1, "\(command): \(json)")
            let refused = Self.object(results[3 * index + 2])
            #expect(refused["status"] as? Int == 64, "\(command): \(refused)")
            #expect((refused["stderr"] as? String ?? "").contains("--yes"), "\(command): \(refused)")
        }
        let before = setup[3]
        let after = results.last!
        #expect(jsonEqual(before, after), "a dry run or an unconfirmed command changed the store")
    }

    @Test(arguments: Backend.live)
    func onATerminalItAsksWhichQueueAndForAYes(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        _ = try steps.run([
            ["op": "fail_jobs", "queue": "t1", "count": 2, "name": "x", "error": "boom"],
            ["op": "fail_jobs", "queue": "t2", "count": 1, "name": "y", "error": "bang"],
        ])
        let declined = try steps.jobctlOnTerminal(["retry", "t1"], answers: [("[y/N]", "n")])
        #expect(
            declined.status == 1 && declined.screen.contains("Retry 2 failed jobs in queue 't1'? [y/N]"),
            "\(declined.screen)")
        #expect(declined.screen.contains("nothing changed"))
        let chosen = try steps.jobctlOnTerminal(["retry"], answers: [("number:", "2"), ("[y/N]", "y")])
        #expect(chosen.status == 0, "\(chosen.screen)")
        #expect(
            chosen.screen.contains("1) t1 (2 failed)") && chosen.screen.contains("2) t2 (1 failed)"), "\(chosen.screen)"
        )
        #expect(chosen.screen.contains("retried 1 of 1 matched job in queue 't2'"), "\(chosen.screen)")
        let all = try steps.jobctl(["retry", "--all-queues", "--yes"])
        #expect(all.status == 0 && all.stdout.contains("retried 2 of 2"), "\(all.stdout) \(all.stderr)")
        let counts = try steps.run([["op": "counts", "queue": "t1"], ["op": "counts", "queue": "t2"]])
        #expect(Self.count(counts[0], "failed") == 0 && Self.count(counts[0], "waiting") == 2)
        #expect(Self.count(counts[1], "failed") == 0 && Self.count(counts[1], "waiting") == 1)
    }

    @Test(.enabled(if: TestEnvironment.runsLiveRedisTests)) func redisKeysBullMQDidNotWriteAreSkippedAndLeftAlone()
        throws
    {
        let steps = try BullMQSteps(on: .redis)
        _ = try steps.run([["op": "fail_jobs", "queue": "bad", "count": 2, "name": "x", "error": "boom"]])
        let base = "\(steps.namespace):bad:"
        let now = String(Int64(Date().timeIntervalSince1970 * 1000))
        try redisRaw([
            ["SET", base + "999", "not a job"], ["ZADD", base + "failed", now, "999"],
            [
                "HSET", base + "998", "name", "x", "data", "{}", "opts", "{not json", "timestamp", now, "finishedOn",
                now, "failedReason", "boom",
            ],
            ["ZADD", base + "failed", now, "998"],
        ])
        let retried = try steps.jobctl(["retry", "bad", "--yes", "--json"])
        #expect(retried.status == 0, "\(retried.stderr)")
        let summary = try parseJSONObject(retried.stdout)
        #expect(summary["changed"] as? Int == 3 && summary["skipped"] as? Int == 1, "\(summary)")
        #expect((summary["skippedReasons"] as? [String: Any])?.keys.first?.contains("not a hash") == true, "\(summary)")
        try redisRaw([["SET", base + "997", "also not a job"], ["LPUSH", base + "wait", "997"]])
        let drained = try steps.jobctl(["drain", "bad", "--yes"])
        #expect(drained.status == 0 && drained.stdout.contains("deleted 4 of 4"), "\(drained.stdout) \(drained.stderr)")
        let results = try steps.run([["op": "counts", "queue": "bad"], ["op": "dump", "queue": "bad"]])
        #expect(Self.count(results[0], "waiting") == 0 && Self.count(results[0], "failed") == 1)
        let dump = Self.object(results[1])
        #expect(Self.object(dump[base + "999"])["type"] as? String == "string", "the stray key is left alone")
        #expect(dump[base + "997"] == nil && dump[base + "998"] == nil)
    }

    @Test(arguments: Backend.live)
    func badArgumentsAreUsageErrorsThatTouchNothing(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        try steps.last([["op": "add", "queue": "b", "name": "w", "data": [:], "opts": [:]]])
        let cases: [([String], String)] = [
            (["retry", "b", "--error-match", "(unclosed"], "--error-match"),
            (["retry", "b", "--state", "waiting"], "failed or completed"),
            (["retry", "b", "--since", "yesterday-ish"], "--since"),
            (["clean", "b", "--older-than", "1h"], "--completed, --failed"),
            (["clean", "b", "--completed", "--older-than", "soon"], "not a duration"),
            (["add", "b", "x", "--data", "{not json"], "--data is not JSON"),
            (["add", "b", "x", "--priority", "-1"], "priority"),
            (["add", "b", "x", "--job-id", "12"], "is a number"),
            (["add", "b", "x", "--backoff", "linear:5s"], "--backoff"),
            (["pause"], "--all"),
            (["retry", "--yes"], "name a queue, or pass --all-queues"),
            (["retry", "nosuchqueue", "--yes"], "not found"),
        ]
        for (arguments, message) in cases {
            let result = try steps.jobctl(arguments)
            #expect(
                result.status == (message == "not found" ? 1 : 64), "\(arguments): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let counts = try steps.last([["op": "counts", "queue": "b"]])
        #expect(Self.count(counts, "waiting") == 1)
    }
}

/// Ctrl-C in the middle of a long change, sent as a real SIGINT to the running binary.
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct InterruptionTests {
    @Test(arguments: Backend.live)
    func ctrlCStopsBetweenBatchesAndEveryJobIsWholeAndCounted(_ backend: Backend) throws {
        let steps = try BullMQSteps(on: backend)
        let total = 30_000
        let jobs = (0..<total).map {
            ["name": "later", "data": ["i": $0], "opts": ["delay": 3_600_000]] as [String: Any]
        }
        try steps.last([["op": "add_bulk", "queue": "big", "jobs": jobs]])

        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.jobctlBinary)
        process.arguments = ["promote", "big", "--yes", "--json"]
        process.environment = TestEnvironment.jobctlEnvironment(steps.jobctlEnvironment)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Wait until promotions have begun (some jobs are waiting), then press Ctrl-C.
        var sent = false
        while process.isRunning {
            let stats = try steps.jobctl(["stats", "big", "--json"])
            if let counts = (try? parseJSONObject(stats.stdout))?["counts"] as? [String: Any],
                (counts["waiting"] as? Int ?? 0) > 0
            {
                process.interrupt()
                sent = true
                break
            }
        }
        process.waitUntilExit()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try #require(sent, "the command finished before it could be interrupted: \(stdout)")
        #expect(process.terminationStatus == 130, "\(stderr)")
        #expect(
            stderr.contains("interrupted: every job is in a consistent state")
                && stderr.contains("run the same command again"), "\(stderr)")
        let summary = try parseJSONObject(stdout)
        #expect(summary["interrupted"] as? Bool == true)
        let changed = summary["changed"] as? Int ?? -1
        #expect(changed > 0 && changed < total)
        // Every job is either promoted (and counted in the summary) or still delayed: none lost, none half-moved.
        let counts = try steps.last([["op": "counts", "queue": "big"]]) as? [String: Any] ?? [:]
        #expect(counts["waiting"] as? Int == changed, "\(counts)")
        #expect(counts["delayed"] as? Int == total - changed, "\(counts)")
    }
}
