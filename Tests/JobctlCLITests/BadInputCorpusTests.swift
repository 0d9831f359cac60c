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
        // The cases share one namespace, except those marked isolated (they change something namespace-wide).
        let shared = StepPlan()
        var isolated: [StepPlan] = []
        var checked:
            [(testCase: Object, run: CommandRun, before: [StepResult], after: [StepResult], queues: [String])] = []
        for testCase in cases {
            let setup = testCase["setup"] as? [[String: Any]] ?? []
            let queues = Array(Set(setup.compactMap { $0["queue"] as? String })).sorted()
            let plan = testCase["isolated"] as? Bool == true ? StepPlan() : shared
            if plan !== shared { isolated.append(plan) }
            plan.steps(setup)
            let before = queues.map { plan.result(["op": "dump", "queue": $0]) }
            let run = plan.jobctl(
                testCase["run"] as? [String] ?? [], environment: testCase["env"] as? [String: Any] ?? [:], timeout: 120)
            let after = queues.map { plan.result(["op": "dump", "queue": $0]) }
            checked.append((testCase, run, before, after, queues))
        }
        try shared.run(on: BullMQSteps(on: backend))
        for plan in isolated { try plan.run(on: BullMQSteps(on: backend)) }
        for (testCase, run, before, after, queues) in checked {
            let name = testCase["name"] as? String ?? "?"
            let context = Comment(
                rawValue:
                    "\(name): exit \(run.status)\nstdout: \(run.stdout.prefix(1500))\nstderr: "
                    + "\(run.stderr.prefix(1500))"
            )
            #expect(run.status == testCase["status"] as? Int, context)
            for text in testCase["stdout"] as? [String] ?? [] { #expect(run.stdout.contains(text), context) }
            for text in testCase["stderr"] as? [String] ?? [] { #expect(run.stderr.contains(text), context) }
            #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("Stack dump"), context)
            for (index, queue) in queues.enumerated() {
                #expect(jsonEqual(before[index].raw, after[index].raw), "\(name): \(queue) changed")
            }
        }
    }
}
