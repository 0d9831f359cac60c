import Foundation

/// A plan of steps for `scripts/bullmq-steps.py`, with a typed handle for each step whose result a test reads.
///
/// Steps are added in order; `run(on:)` runs them all with the real client and fills every handle, so a test reads
/// `run.status` or `job.state` instead of `results[7]`, and adding a step shifts nothing.
public final class StepPlan: @unchecked Sendable {
    private var steps: [[String: Any]] = []
    private var handles: [(index: Int, handle: StepResult)] = []

    public init() {}

    /// A step whose result the test does not read.
    public func step(_ step: [String: Any]) {
        steps.append(step)
    }

    /// Several such steps.
    public func steps(_ list: [[String: Any]]) {
        steps += list
    }

    /// A step whose result is read as a JSON object (`result["key"]`).
    @discardableResult
    public func result(_ step: [String: Any]) -> StepResult {
        attach(StepResult(), to: step)
    }

    /// `jobctl` with these arguments (and environment additions; a value of nil removes a variable).
    public func jobctl(_ arguments: [String], environment: [String: Any] = [:], timeout: Int = 60) -> CommandRun {
        attach(CommandRun(), to: ["op": "jobctl", "args": arguments, "env": environment, "timeout": timeout])
    }

    /// The job as the client reads it (`Job.fromId` and `getState`), or a missing one.
    public func job(_ queue: String, id: String) -> JobSnapshot {
        attach(JobSnapshot(), to: ["op": "job", "queue": queue, "id": id])
    }

    /// `Queue.getJobCounts` for every state.
    public func counts(_ queue: String) -> StepResult {
        attach(StepResult(), to: ["op": "counts", "queue": queue])
    }

    /// Runs every step; the handles are readable afterwards.
    public func run(on runner: BullMQSteps) throws {
        let results = try runner.run(steps)
        for (index, handle) in handles { handle.raw = results[index] }
    }

    private func attach<Handle: StepResult>(_ handle: Handle, to step: [String: Any]) -> Handle {
        handles.append((steps.count, handle))
        steps.append(step)
        return handle
    }
}

/// The result of one step, filled by `StepPlan.run(on:)`.
public class StepResult: @unchecked Sendable, CustomStringConvertible {
    /// The step's result as the script printed it (JSON), before the plan ran: NSNull.
    public fileprivate(set) var raw: Any = NSNull()

    public init() {}

    public var object: [String: Any] { raw as? [String: Any] ?? [:] }
    public subscript(key: String) -> Any? { object[key] }
    public func int(_ key: String) -> Int? { (object[key] as? NSNumber)?.intValue }
    public func number(_ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }
    public func string(_ key: String) -> String? { object[key] as? String }
    public var description: String { "\(raw)" }
}

/// A `jobctl` run: its exit status and output.
public final class CommandRun: StepResult, @unchecked Sendable {
    public var status: Int { int("status") ?? -1 }
    public var stdout: String { string("stdout") ?? "" }
    public var stderr: String { string("stderr") ?? "" }

    /// stdout as one JSON object (`-o json`).
    public func json() throws -> [String: Any] { try parseJSONObject(stdout) }
}

/// A job as the client reads it; `exists` is false when there is none.
public final class JobSnapshot: StepResult, @unchecked Sendable {
    public var exists: Bool { raw is [String: Any] }
    public var state: String? { string("state") }
}
