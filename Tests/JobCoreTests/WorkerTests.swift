import JobCore
import TestSupport
import Testing

/// `Worker` carrying out its loop's actions against an in-memory backend: no server, no fixed sleeps.
@Suite struct WorkerTests {
    static func settings(concurrency: Int) -> WorkerSettings {
        var settings = WorkerSettings()
        settings.concurrency = concurrency
        settings.claimBatch = 3
        // Locks that cannot run out by the worker's clock while other suites hold the cooperative pool for a while.
        settings.lockDurationMs = 3_600_000
        return settings
    }

    /// Waits (up to 30 s) until `condition` holds.
    static func eventually(_ condition: () async -> Bool) async -> Bool {
        for _ in 0..<3000 {
            if await condition() { return true }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return false
    }

    @Test func aRunOnceFinishesEveryJobInBatches() async throws {
        let backend = InMemoryWorkerBackend(jobs: 25)
        let worker = Worker(backend: backend, queue: "q", settings: Self.settings(concurrency: 4)) { job in
            .completed(returnValue: "\"\(job.id)\"")
        }
        let summary = try await worker.runUntilIdle()
        #expect(summary.completed == 25 && summary.processed == 25 && summary.lost == 0)
        let (finished, active, waiting) = await (backend.finished, backend.active, backend.waiting)
        #expect(finished.count == 25 && active.isEmpty && waiting.isEmpty)
    }

    @Test func aJobWhoseRenewalFailsIsNotFinished() async throws {
        let backend = InMemoryWorkerBackend(jobs: 2)
        await backend.failRenewals(of: ["1"])
        var settings = Self.settings(concurrency: 2)
        settings.lockRenewMs = 10
        let worker = Worker(backend: backend, queue: "q", settings: settings) { job in
            // Runs until the renewal timer has had its turn.
            try? await Task.sleep(nanoseconds: 200_000_000)
            return .completed(returnValue: "null")
        }
        let summary = try await worker.runUntilIdle()
        #expect(summary.lost == 1 && summary.completed == 1)
        let finished = await backend.finished
        #expect(finished["1"] == nil && finished["2"] != nil)
    }

    @Test(arguments: [false, true])
    func aStopOrACancellationHandsBackWhatDoesNotFinishWithinTheGrace(_ cancel: Bool) async throws {
        let backend = InMemoryWorkerBackend(jobs: 3)
        let worker = Worker(backend: backend, queue: "q", settings: Self.settings(concurrency: 2)) { job in
            if job.id == "1" { return .completed(returnValue: "null") }
            try? await Task.sleep(nanoseconds: 3_600_000_000_000)  // until the run abandons it
            return .completed(returnValue: "null")
        }
        let run = Task { try await worker.runUntilStopped(graceMs: 50) }
        #expect(
            await Self.eventually {
                let (finished, active) = await (backend.finished, backend.active)
                return finished.count == 1 && active.count == 2
            })
        if cancel { run.cancel() } else { worker.stop() }
        let summary = try await run.value
        #expect(summary.completed == 1 && summary.handedBack == 2)
        let (handedBack, active, waiting) = await (backend.handedBack, backend.active, backend.waiting)
        #expect(handedBack.sorted() == ["2", "3"] && active.isEmpty && waiting.count == 2)
    }
}
