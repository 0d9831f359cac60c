import JobCore

/// BullMQ's key names for one queue: `<prefix>:<queue>:<suffix>`.
struct QueueKeys: Sendable {
    let prefix: String
    let queue: String

    var base: String { "\(prefix):\(queue):" }
    /// Whether every key of the queue lies in one slot of a Redis Cluster (a hash tag in the prefix or the name).
    var shareOneSlot: Bool { ClusterSlot.sharedTag(ofKeysStartingWith: base) != nil }
    func key(_ suffix: String) -> String { base + suffix }
    func job(_ id: String) -> String { base + id }
    func lock(_ id: String) -> String { base + id + ":lock" }
    func logs(_ id: String) -> String { base + id + ":logs" }

    var wait: String { key("wait") }
    var paused: String { key("paused") }
    var active: String { key("active") }
    var prioritized: String { key("prioritized") }
    var delayed: String { key("delayed") }
    var completed: String { key("completed") }
    var failed: String { key("failed") }
    var waitingChildren: String { key("waiting-children") }
    var meta: String { key("meta") }

    /// The key holding the jobs of a state, and whether it is a list (else a sorted set).
    func stateKey(_ state: JobState) -> (key: String, isList: Bool) {
        switch state {
        case .waiting: return (wait, true)
        case .paused: return (paused, true)
        case .active: return (active, true)
        case .prioritized: return (prioritized, false)
        case .delayed: return (delayed, false)
        case .completed: return (completed, false)
        case .failed: return (failed, false)
        case .waitingChildren: return (waitingChildren, false)
        }
    }

    /// Every key whose existence means the queue exists.
    var presenceKeys: [String] {
        [
            meta, key("id"), wait, paused, active, prioritized, delayed, completed, failed, waitingChildren,
            key("events"), key("repeat"),
        ]
    }
}

/// Escapes Redis glob characters so a prefix matches only itself in SCAN MATCH.
func globEscaped(_ text: String) -> String {
    var out = ""
    for character in text {
        if "*?[]\\".contains(character) { out.append("\\") }
        out.append(character)
    }
    return out
}
