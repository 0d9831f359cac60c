/// Names among `candidates` close enough to `name` to be what the operator meant, best first.
public func closeMatches(for name: String, among candidates: [String], limit: Int = 3) -> [String] {
    let target = Array(name.lowercased())
    let scored = candidates.compactMap { candidate -> (String, Int)? in
        let lowered = candidate.lowercased()
        if lowered == name.lowercased() { return (candidate, 0) }
        let distance = editDistance(target, Array(lowered))
        // Allow about one typo per four characters, and always substring matches.
        let allowed = max(2, target.count / 4)
        if distance <= allowed || lowered.contains(name.lowercased()) || name.lowercased().contains(lowered) {
            return (candidate, distance)
        }
        return nil
    }
    return scored.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.prefix(limit).map(\.0)
}

/// Levenshtein distance with transpositions counted as one edit (optimal string alignment).
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previousPrevious = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                current[j] = min(current[j], previousPrevious[j - 2] + 1)
            }
        }
        (previousPrevious, previous, current) = (previous, current, previousPrevious)
    }
    return previous[b.count]
}
