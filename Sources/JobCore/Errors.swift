/// What kind of failure an error is, so that the command line can choose its exit code.
public enum FailureKind: Sendable {
    /// The server cannot be reached, or went away (exit 69).
    case unavailable
    /// The command or its configuration is wrong (exit 64).
    case usage
    /// Anything else (exit 1).
    case failure
}

/// How talking to a server failed, with the same cases on every backend.
public enum ServerFailure: Sendable, Equatable {
    /// Could not connect (refused, no route, DNS, connect timeout; on PostgreSQL also a server starting up or full).
    case unreachable
    /// Connected, but the server did not answer within the command timeout.
    case timeout
    /// The connection broke in the middle of a command.
    case connectionLost
    /// The server refused the credentials or requires some.
    case authentication
    /// TLS could not be set up with the server: its certificate is not trusted or names another host, or it wants
    /// one from the client.
    case certificate
    /// The server answered with an error.
    case server
    /// The reply did not have the shape jobctl expected.
    case unexpectedReply

    public var kind: FailureKind {
        switch self {
        case .unreachable, .timeout, .connectionLost: return .unavailable
        case .authentication, .certificate, .server, .unexpectedReply: return .failure
        }
    }
}

/// An error that knows its kind and, optionally, what the operator can do about it.
public protocol OperatorFacingError: Error, CustomStringConvertible {
    var kind: FailureKind { get }
    /// Lines that say what to try next.
    var hints: [String] { get }
}

extension OperatorFacingError {
    public var hints: [String] { [] }
}

/// The queue named does not exist.
public struct QueueNotFoundError: OperatorFacingError {
    public var queue: String
    public var location: String
    public var suggestions: [String]

    public init(queue: String, location: String, suggestions: [String]) {
        self.queue = queue
        self.location = location
        self.suggestions = suggestions
    }

    public var kind: FailureKind { .failure }
    public var description: String { "queue '\(queue)' not found at \(location)" }
    public var hints: [String] {
        if suggestions.isEmpty { return ["run 'jobctl status' to list the queues there (check --prefix as well)"] }
        return ["did you mean " + suggestions.map { "'\($0)'" }.joined(separator: " or ") + "?"]
    }
}

/// The job named does not exist in the queue.
public struct JobNotFoundError: OperatorFacingError {
    public var queue: String
    public var id: String

    public init(queue: String, id: String) {
        self.queue = queue
        self.id = id
    }

    public var kind: FailureKind { .failure }
    public var description: String { "job '\(id)' not found in queue '\(queue)'" }
    public var hints: [String] {
        [
            "it may have been removed (removeOnComplete / removeOnFail, clean); list jobs with 'jobctl jobs \(queue) "
                + "--state STATE'"
        ]
    }
}

/// A paging cursor that jobctl did not make, or made for another listing.
public struct InvalidCursorError: OperatorFacingError {
    public var reason: String

    public init(reason: String) { self.reason = reason }

    public var kind: FailureKind { .usage }
    public var description: String { "invalid --cursor: \(reason)" }
    public var hints: [String] { ["pass the next_cursor value printed by the previous 'jobctl jobs' call unchanged"] }
}
