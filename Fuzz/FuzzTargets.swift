import RedisEndpointParsing

// libFuzzer entry point over the parsers jobctl writes itself for untrusted text. Built by scripts/fuzz.sh (not by
// SwiftPM): `swiftc -sanitize=fuzzer,address`. The first byte picks the parser; the rest is its input. Besides not
// crashing, each target checks a property of what it accepts.
@testable import JobCore
@testable import JobHandlers

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let text = String(decoding: bytes, as: UTF8.self)
    switch data[0] % 8 {
    case 0:
        // JSON: what parses prints as text that parses to the same value.
        if let value = try? JSONValue.parse(bytes: bytes) {
            let again = try? JSONValue.parse(value.compactText)
            precondition(again == value, "JSON round trip changed \(value.compactText)")
            _ = value.prettyText
        }
    case 1:
        // Durations (--timeout, --job-timeout, --older-than, oldest_wait rules): never negative.
        if let ms = DurationText.milliseconds(text) {
            precondition(ms >= 0, "negative duration from \(text)")
            _ = DurationText.describe(milliseconds: ms)
        }
    case 2:
        // --check rules: every accepted rule re-reads the same from its own text.
        if let check = try? HealthCheck(parsing: text) {
            for rule in check.rules {
                let again = try? HealthCheck(parsing: rule.text)
                precondition(again?.rules == [rule], "rule \(rule.text) reads differently")
            }
        }
    case 3:
        _ = try? Advice.Thresholds(parsing: text)
    case 4:
        // --serve answers: an accepted answer names a job.
        if let (id, _) = ServeProcess.answer(text) { _ = id.count }
    case 5:
        // --since / --before.
        _ = Timestamps.pointInTime(text, now: 1_800_000_000_000)
    case 6:
        _ = ErrorText.normalized(text)
    default:
        // Redis URLs: what is printed of an accepted URL does not depend on its password at all.
        if var endpoint = try? RedisEndpoint(url: text) {
            let printed = (endpoint.redactedURL, endpoint.hostDescription)
            endpoint.password = endpoint.password.map { $0 + "-changed" }
            precondition(
                printed == (endpoint.redactedURL, endpoint.hostDescription),
                "the password shows in what is printed of \(text)")
        }
    }
    return 0
}
