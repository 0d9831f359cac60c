import ArgumentParser
import Glibc
import JobCore

/// `-w/--watch [SECONDS]` on status and stats: the command again every few seconds, in place on a terminal, with
/// the change of each count since the previous screen.
struct WatchOption: ParsableArguments {
    @Option(
        name: [.customShort("w"), .long],
        help: ArgumentHelp(
            "Refresh every SECONDS (default 2) until Ctrl-C, with changes since the last refresh.", valueName: "seconds"
        ))
    var watch: Double?

    func validate() throws {
        if let watch, !(watch >= 0.1 && watch <= 86_400) {
            throw ValidationError("--watch takes seconds between 0.1 and 86400")
        }
    }
}

enum Watch {
    static let defaultSeconds = "2"

    /// `-w` and `--watch` take an optional value, which ArgumentParser options cannot: a bare one gets the default.
    ///
    /// Only for status and stats: elsewhere `-w` may belong to a handler's command line.
    static func normalized(_ arguments: [String]) -> [String] {
        guard let command = arguments.first, command == "status" || command == "stats" else { return arguments }
        var out: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            out.append(argument)
            if argument == "--" {
                out += arguments[(index + 1)...]
                break
            }
            if argument == "-w" || argument == "--watch" {
                let next = index + 1 < arguments.count ? arguments[index + 1] : nil
                if next.flatMap(Double.init) == nil { out.append(defaultSeconds) }
            }
            index += 1
        }
        return out
    }

    /// Runs `show` now and then every `seconds` until interrupted; on a terminal each run replaces the last.
    static func loop(every seconds: Double?, _ show: () async throws -> Void) async throws {
        guard let seconds else { return try await show() }
        while true {
            if Terminal.stdoutIsTTY { Terminal.write("\u{1B}[H\u{1B}[2J") }
            try await show()
            if Terminal.stdoutIsTTY {
                Terminal.write(
                    "\nevery \(DurationText.describe(milliseconds: Int64(seconds * 1000))) — Ctrl-C to stop\n")
            }
            try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
        }
    }

    /// "120 (+5)": a count and its change since the previous screen.
    static func count(_ value: Int?, previous: Int?) -> String {
        let text = Cell.count(value)
        guard let value, let previous, value != previous else { return text }
        return text + (value > previous ? " (+\(value - previous))" : " (\(value - previous))")
    }
}
