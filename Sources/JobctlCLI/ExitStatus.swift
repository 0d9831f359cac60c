public import ArgumentParser
import JobCore

/// Every status jobctl exits with.
///
/// The EXIT STATUS of `jobctl --help` and of the man page is made from this list, so a new status cannot go
/// undocumented.
public enum ExitStatus: Int32, CaseIterable, Sendable {
    case success = 0
    case failure = 1
    case checkFailed = 2
    case usage = 64
    case unavailable = 69
    case temporary = 75
    case interrupted = 130

    /// What the status means, for the help and the man page.
    public var meaning: String {
        switch self {
        case .success: return "success"
        case .failure: return "error: no such queue, job or schema; unsupported schema; server error"
        case .checkFailed: return "a status --check rule failed; run-once: a job failed or will retry"
        case .usage: return "usage error: bad arguments or a malformed URL"
        case .unavailable: return "server unreachable, or it went away or stopped answering"
        case .temporary: return "run-once: the queue is paused, no job was taken"
        case .interrupted: return "interrupted (Ctrl-C); the summary says how far it got"
        }
    }

    /// Ends the command with this status.
    public var exitCode: ExitCode { ExitCode(rawValue) }

    init(_ kind: FailureKind) {
        switch kind {
        case .unavailable: self = .unavailable
        case .usage: self = .usage
        case .failure: self = .failure
        }
    }

    /// The EXIT STATUS section: one line per status, each under 80 columns.
    static var helpText: String {
        "EXIT STATUS\n"
            + allCases.map { status in
                let code = String(status.rawValue)
                return "  " + code + String(repeating: " ", count: 5 - code.count) + status.meaning
            }.joined(separator: "\n")
    }
}
