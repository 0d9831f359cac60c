import JobCore

/// Turns a BullMQ job hash (field/value pairs as stored) into a `JobRecord`, reporting what is wrong instead of
/// failing: invalid UTF-8, payloads that are not JSON, numbers that are not numbers, missing creation fields.
func decodeJobHash(queue: String, id: String, pairs: [RedisValue]) -> JobRecord {
    var job = JobRecord(queue: queue, id: id)
    var seen = Set<String>()
    func problem(_ field: String, _ message: String) {
        job.problems.append(DataProblem(subject: "field \(field)", message: message))
    }
    var index = 0
    while index + 1 < pairs.count {
        defer { index += 2 }
        guard let fieldBytes = pairs[index].bytes, let valueBytes = pairs[index + 1].bytes else { continue }
        let field = String(decoding: fieldBytes, as: UTF8.self)
        let value = String(decoding: valueBytes, as: UTF8.self)
        seen.insert(field)
        if String(validating: valueBytes, as: UTF8.self) == nil {
            problem(field, "not valid UTF-8 (shown with replacement characters)")
        }
        func integer() -> Int64? {
            if let number = Int64(value) { return number }
            // Some writers store integral doubles ("1.0", "1e3"); accept those exactly.
            if let double = Double(value), double.rounded() == double, abs(double) < 9.0e15 { return Int64(double) }
            problem(field, "'\(value.prefix(40))' is not an integer")
            return nil
        }
        func json() -> StoredJSON {
            let stored = StoredJSON(raw: value)
            if case .invalid(_, let reason) = stored { problem(field, "not valid JSON (\(reason)); shown as text") }
            return stored
        }
        switch field {
        case "name": job.name = value
        case "data": job.data = json()
        case "opts": job.opts = decodeOpts(json())
        case "progress": job.progress = json()
        case "returnvalue": job.returnValue = json()
        case "timestamp": job.timestamp = integer()
        case "delay": job.delay = integer()
        case "priority": job.priority = integer()
        case "processedOn": job.processedOn = integer()
        case "finishedOn": job.finishedOn = integer()
        // `atm` is the current name; `attemptsMade` the legacy one. BullMQ reads either, preferring the legacy.
        case "attemptsMade": job.attemptsMade = integer() ?? job.attemptsMade
        case "atm": if !seen.contains("attemptsMade") { job.attemptsMade = integer() ?? 0 }
        case "ats": job.attemptsStarted = integer() ?? 0
        case "stc": job.stalledCounter = integer() ?? 0
        case "failedReason": job.failedReason = value
        case "stacktrace":
            switch json() {
            case .valid(.array(let entries)):
                job.stacktrace = entries.map { entry in
                    if case .string(let text) = entry { return text }
                    return entry.compactText
                }
            case .valid(.null): break
            case .valid(let other):
                problem(field, "expected a JSON array of strings")
                job.stacktrace = [other.compactText]
            case .invalid(let raw, _):
                job.stacktrace = [raw]
            }
        case "defa": job.deferredFailure = value
        case "pb": job.processedBy = value
        case "rjk": job.repeatJobKey = value
        case "deid": job.deduplicationId = value
        case "parentKey": job.parentKey = value
        case "parent": job.parent = json()
        default: job.otherFields.append((field, value))
        }
    }
    for required in ["name", "data", "opts", "timestamp"] where !seen.contains(required) {
        problem(required, "missing (BullMQ writes it when the job is added)")
    }
    return job
}

/// BullMQ stores a few options under short names; show them by their full names, as BullMQ's clients do.
private func decodeOpts(_ stored: StoredJSON) -> StoredJSON {
    guard case .valid(.object(let members)) = stored else { return stored }
    return .valid(.object(members.map { (optsLongNames[$0.0] ?? $0.0, $0.1) }))
}

private let optsLongNames: [String: String] = [
    "de": "deduplication", "fpof": "failParentOnFailure", "cpof": "continueParentOnFailure",
    "idof": "ignoreDependencyOnFailure", "rdof": "removeDependencyOnFailure", "kl": "keepLogs",
]
