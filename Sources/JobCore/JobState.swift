/// The states a BullMQ job can be in, by BullMQ's own names.
public enum JobState: String, CaseIterable, Sendable, Hashable {
    /// Ready, priority 0 (the `wait` list).
    case waiting
    /// Ready, in the legacy (BullMQ ≤ 5) `paused` list of a queue paused by an old client.
    case paused
    /// Ready, priority > 0.
    case prioritized
    case delayed
    case active
    case completed
    case failed
    /// A flow parent waiting for its children.
    case waitingChildren = "waiting-children"

    /// Parses a state as an operator types it: BullMQ's names plus the key name `wait`.
    public init?(argument: String) {
        switch argument.lowercased() {
        case "wait", "waiting": self = .waiting
        case "waiting_children", "waitingchildren", "children": self = .waitingChildren
        default:
            guard let state = JobState(rawValue: argument.lowercased()) else { return nil }
            self = state
        }
    }

    /// States whose jobs are ready to run now.
    public var isReady: Bool { self == .waiting || self == .paused || self == .prioritized }
}

/// Job counts per state.
///
/// A state whose count could not be read (for instance a key of the wrong type) is absent.
public struct JobCounts: Sendable, Equatable {
    public private(set) var values: [JobState: Int] = [:]

    public init() {}

    public subscript(state: JobState) -> Int? {
        get { values[state] }
        set { values[state] = newValue }
    }

    /// Jobs ready to run: waiting (including the legacy paused list) plus prioritized.
    public var ready: Int { [JobState.waiting, .paused, .prioritized].reduce(0) { $0 + (values[$1] ?? 0) } }

    /// Sums two sets of counts; a state unknown on one side counts as zero.
    public static func + (lhs: JobCounts, rhs: JobCounts) -> JobCounts {
        var sum = JobCounts()
        for state in JobState.allCases where lhs[state] != nil || rhs[state] != nil {
            sum[state] = (lhs[state] ?? 0) + (rhs[state] ?? 0)
        }
        return sum
    }
}

/// Something wrong with the stored data that jobctl reports instead of failing: a key of an unexpected type, a
/// payload that is not JSON, a field that is missing or out of range.
public struct DataProblem: Sendable, Equatable, CustomStringConvertible {
    /// What the problem is about: a key, or `field <name>` of a job.
    public var subject: String
    public var message: String

    public init(subject: String, message: String) {
        self.subject = subject
        self.message = message
    }

    public var description: String { "\(subject): \(message)" }
}

/// The finished states: what `retry` takes jobs from and `clean` deletes.
///
/// A call that takes one cannot be given another state.
public enum FinishedState: String, CaseIterable, Sendable, Hashable {
    case completed
    case failed

    public var jobState: JobState {
        switch self {
        case .completed: return .completed
        case .failed: return .failed
        }
    }
}

/// The states of jobs waiting to run: what `drain` deletes (`paused`: BullMQ 5's legacy list of a paused queue).
public enum ReadyState: String, CaseIterable, Sendable, Hashable {
    case waiting
    case paused
    case prioritized
    case delayed

    public var jobState: JobState {
        switch self {
        case .waiting: return .waiting
        case .paused: return .paused
        case .prioritized: return .prioritized
        case .delayed: return .delayed
        }
    }
}

/// The states whose jobs are kept in time order, so their ids can be listed by time: delayed jobs by due time,
/// finished ones by finish time.
public enum TimedState: String, CaseIterable, Sendable, Hashable {
    case delayed
    case completed
    case failed

    public init(_ finished: FinishedState) {
        switch finished {
        case .completed: self = .completed
        case .failed: self = .failed
        }
    }

    public var jobState: JobState {
        switch self {
        case .delayed: return .delayed
        case .completed: return .completed
        case .failed: return .failed
        }
    }
}
