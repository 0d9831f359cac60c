/// A worker's circuit breaker, for "an external service is down": after `threshold` handler failures in a row it
/// opens and the worker takes no job (they stay waiting, their attempts untouched); after the cool-down it lets one
/// job through (half-open); a success closes it, a failure opens it again for twice as long, up to 10 minutes.
public struct CircuitBreaker: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        /// Failures in a row that open it.
        public var threshold: Int
        /// The first cool-down.
        public var cooldownMs: Int64

        public static let defaultCooldownMs: Int64 = 30_000
        /// Cool-downs double while the trial jobs keep failing, up to this (or the first, when longer).
        public static let longestCooldownMs: Int64 = 600_000

        public init(threshold: Int, cooldownMs: Int64 = defaultCooldownMs) {
            self.threshold = threshold
            self.cooldownMs = cooldownMs
        }

        /// `N` or `N/COOLDOWN` (`5`, `5/30s`, `3/2m`); nil when it is neither.
        public init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let threshold = Int(parts[0]), (1...1_000_000).contains(threshold) else { return nil }
            var cooldown = Self.defaultCooldownMs
            if parts.count == 2 {
                guard let ms = DurationText.milliseconds(String(parts[1])), ms > 0, ms <= 86_400_000 else { return nil }
                cooldown = ms
            }
            self.init(threshold: threshold, cooldownMs: cooldown)
        }
    }

    public enum State: Sendable, Equatable {
        case closed(failuresInARow: Int)
        case open(until: Int64)
        /// One trial job may run; `trialRunning` once it was taken.
        case halfOpen(trialRunning: Bool)
    }

    public let settings: Settings
    public private(set) var state: State = .closed(failuresInARow: 0)
    private var cooldownMs: Int64
    private var openedAt: Int64?
    /// How often it opened, and for how long in all (until each close or the end of the run).
    public private(set) var timesOpened = 0
    public private(set) var openMs: Int64 = 0

    public init(_ settings: Settings) {
        self.settings = settings
        self.cooldownMs = settings.cooldownMs
    }

    /// How many jobs may be taken now: nil for any number (closed), 1 for the trial, 0 while open or while the
    /// trial runs.
    public mutating func admits(now: Int64) -> Int? {
        switch state {
        case .closed: return nil
        case .open(let until):
            guard now >= until else { return 0 }
            state = .halfOpen(trialRunning: false)
            return 1
        case .halfOpen(let trialRunning): return trialRunning ? 0 : 1
        }
    }

    /// A job was taken.
    public mutating func jobTaken() {
        if case .halfOpen = state { state = .halfOpen(trialRunning: true) }
    }

    /// A handler finished; returns what to log when the state changes.
    ///
    /// Results of jobs taken before the breaker opened do not count while it is open.
    public mutating func handlerFinished(succeeded: Bool, now: Int64) -> String? {
        switch state {
        case .closed(let failures):
            if succeeded {
                state = .closed(failuresInARow: 0)
                return nil
            }
            guard failures + 1 >= settings.threshold else {
                state = .closed(failuresInARow: failures + 1)
                return nil
            }
            open(now: now)
            return "circuit breaker open after \(settings.threshold) failures in a row: taking no job for "
                + "\(DurationText.describe(milliseconds: cooldownMs)), then one to try"
        case .open:
            return nil
        case .halfOpen(let trialRunning):
            guard trialRunning else { return nil }
            if succeeded {
                if let openedAt { openMs += now - openedAt }
                openedAt = nil
                cooldownMs = settings.cooldownMs
                state = .closed(failuresInARow: 0)
                return "circuit breaker closed: the trial job succeeded"
            }
            cooldownMs = min(cooldownMs * 2, max(Settings.longestCooldownMs, settings.cooldownMs))
            state = .open(until: now + cooldownMs)
            return "circuit breaker open again: the trial job failed; next try in "
                + DurationText.describe(milliseconds: cooldownMs)
        }
    }

    private mutating func open(now: Int64) {
        timesOpened += 1
        openedAt = now
        state = .open(until: now + cooldownMs)
    }

    /// When it is due to half-open (while open).
    public var reopensAt: Int64? {
        if case .open(let until) = state { return until }
        return nil
    }

    /// The time open so far, counting a period still open at `now`.
    public func totalOpenMs(now: Int64) -> Int64 {
        openMs + (openedAt.map { now - $0 } ?? 0)
    }
}
