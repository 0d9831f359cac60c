import ArgumentParser
import JobCore

/// Finds the jobs a command will change, by reading them the way `jobctl jobs` does, so that `--dry-run`, the
/// confirmation and the change itself all see the same jobs.
enum JobSelection {
    static let pageSize = 1000

    /// The jobs of `state`, in listing order, that `matches` accepts; at most `limit`.
    static func inState(
        _ state: JobState, of queue: String, in inspector: any QueueInspector, limit: Int? = nil,
        matches: (JobRecord) -> Bool = { _ in true }
    ) async throws -> Selection {
        var selection = Selection()
        var cursor: String?
        repeat {
            let page = try await inspector.jobs(in: queue, state: state, limit: pageSize, cursor: cursor)
            for job in page.jobs where matches(job) {
                if let limit, selection.count >= limit { return selection }
                selection.add(job)
            }
            cursor = page.nextCursor
        } while cursor != nil
        return selection
    }

    /// The jobs named by id that are in `state` (any state when nil) and that `matches` accepts; the others are
    /// skipped with the reason.
    static func byId(
        _ ids: [String], expecting state: JobState?, of queue: String, in inspector: any QueueInspector,
        matches: (JobRecord) -> Bool = { _ in true }
    ) async throws -> (Selection, [SkippedJob]) {
        var selection = Selection()
        var skipped: [SkippedJob] = []
        var seen = Set<String>()
        for id in ids where seen.insert(id).inserted {
            guard let job = try await inspector.job(in: queue, id: id) else {
                skipped.append(SkippedJob(id: id, reason: "not found"))
                continue
            }
            if let state, job.state != state {
                skipped.append(
                    SkippedJob(id: id, reason: "not \(state.rawValue) (it is \(job.state?.rawValue ?? "in no state"))"))
            } else if !matches(job) {
                skipped.append(SkippedJob(id: id, reason: "does not match the filters"))
            } else {
                selection.add(job)
            }
        }
        return (selection, skipped)
    }
}

/// `--since` and `--before`: a duration ago, epoch milliseconds or an ISO 8601 time.
struct PointInTime: ExpressibleByArgument {
    var milliseconds: Int64

    init?(argument: String) {
        guard let time = Timestamps.pointInTime(argument, now: currentTimeMs()) else { return nil }
        milliseconds = time
    }
}

/// A regular expression typed on the command line.
struct Pattern: ExpressibleByArgument, @unchecked Sendable {
    var text: String
    var regex: Regex<AnyRegexOutput>

    init?(argument: String) {
        guard let regex = try? Regex(argument) else { return nil }
        self.text = argument
        self.regex = regex
    }

    func matches(_ text: String) -> Bool { (try? regex.firstMatch(in: text)) != nil }
}

/// `--backoff`: `1000` (ms), `fixed:5s` or `exponential:1s`.
struct BackoffArgument: ExpressibleByArgument {
    var backoff: Backoff

    init?(argument: String) {
        guard let backoff = Backoff(argument: argument) else { return nil }
        self.backoff = backoff
    }
}
