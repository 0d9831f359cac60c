import Foundation
import TestSupport
import Testing

/// The bad-input corpus (Tests/Corpus/bad-input.json): job hashes and rows BullMQ would never write, keys of the
/// wrong type, garbage meta values, huge payloads, invalid UTF-8, odd queue names, schema trouble, malformed URLs.
///
/// For each case jobctl exits as documented, says what it found, still shows the rest, and changes nothing: the queue's
/// full dump is the same before and after.
@Suite(
    .serialized,
    .enabled(if: !Backend.live.isEmpty, "set JOBCTL_TEST_REDIS_URL / JOBCTL_TEST_POSTGRES_URL (scripts/test.sh does)"))
struct BadInputCorpusTests {
    typealias Object = [String: Any]

    static func corpus() throws -> [Object] {
        let path = TestEnvironment.repositoryRoot.appendingPathComponent("Tests/Corpus/bad-input.json")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [Object] ?? []
    }

    @Test func theCorpusHasAtLeastFiftyCasesOnEachBackend() throws {
        let cases = try Self.corpus()
        for backend in ["redis", "postgres"] {
            #expect(cases.filter { ["both", backend].contains($0["backend"] as? String) }.count >= 30)
        }
        #expect(cases.count >= 50)
    }

    @Test(arguments: Backend.live)
    func everyCaseExitsAsDocumentedAndChangesNothing(_ backend: Backend) throws {
        let cases = try Self.corpus().filter { ["both", backend.rawValue].contains($0["backend"] as? String) }
        let shared = try BullMQSteps(on: backend)
        var plan: [[String: Any]] = []
        var isolated: [(Object, BullMQSteps, [[String: Any]])] = []
        var offsets: [(Object, Int, [String])] = []
        for testCase in cases {
            let setup = testCase["setup"] as? [[String: Any]] ?? []
            let run = testCase["run"] as? [String] ?? []
            let queues = Array(Set(setup.compactMap { $0["queue"] as? String })).sorted()
            var steps: [[String: Any]] = setup
            steps += queues.map { ["op": "dump", "queue": $0] }
            steps.append(["op": "jobctl", "args": run, "env": testCase["env"] ?? [String: String](), "timeout": 120])
            steps += queues.map { ["op": "dump", "queue": $0] }
            if testCase["isolated"] as? Bool == true {
                isolated.append((testCase, try BullMQSteps(on: backend), steps))
            } else {
                offsets.append((testCase, plan.count + setup.count, queues))
                plan += steps
            }
        }
        var checked: [(Object, [Any], Int, [String])] = []
        let results = try shared.run(plan)
        for (testCase, offset, queues) in offsets { checked.append((testCase, results, offset, queues)) }
        for (testCase, steps, plan) in isolated {
            let setupCount = (testCase["setup"] as? [Any] ?? []).count
            let queues = Array(Set((testCase["setup"] as? [[String: Any]] ?? []).compactMap { $0["queue"] as? String }))
                .sorted()
            checked.append((testCase, try steps.run(plan), setupCount, queues))
        }
        for (testCase, results, offset, queues) in checked {
            let name = testCase["name"] as? String ?? "?"
            let run = results[offset + queues.count] as? Object ?? [:]
            let stdout = run["stdout"] as? String ?? "", stderr = run["stderr"] as? String ?? ""
            let status = run["status"] as? Int ?? -1
            let context = Comment(
                rawValue: "\(name): exit \(status)\nstdout: \(stdout.prefix(1500))\nstderr: \(stderr.prefix(1500))")
            #expect(status == testCase["status"] as? Int, context)
            for text in testCase["stdout"] as? [String] ?? [] { #expect(stdout.contains(text), context) }
            for text in testCase["stderr"] as? [String] ?? [] { #expect(stderr.contains(text), context) }
            #expect(!stderr.contains("Fatal error") && !stderr.contains("Stack dump"), context)
            for (index, queue) in queues.enumerated() {
                #expect(
                    jsonEqual(results[offset + index], results[offset + queues.count + 1 + index]),
                    "\(name): \(queue) changed")
            }
        }
    }
}
