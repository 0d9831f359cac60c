import ArgumentParser
import FoundationEssentials
import Glibc
import JobCore
import RedisBackend

/// Writing to the terminal: stdout for results, stderr for everything else.
enum Terminal {
    static var stdoutIsTTY: Bool { isatty(STDOUT_FILENO) == 1 }

    static func write(_ text: String) {
        writeAll(text, to: STDOUT_FILENO)
    }

    static func writeError(_ text: String) {
        writeAll(text, to: STDERR_FILENO)
    }

    /// Writes every byte, resuming after short writes and signals; gives up quietly on a closed pipe.
    private static func writeAll(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { buffer in
            guard let base = buffer.baseAddress else { return }  // nothing to write
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, base + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    static func warn(_ message: String) {
        writeError("warning: \(message)\n")
    }

    /// Runs a command body, printing any error the operator can act on and exiting with its documented code.
    static func reportingErrors(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch let error as any OperatorFacingError {
            report(error.description, hints: error.hints)
            throw ExitStatus(error.kind).exitCode
        } catch {
            report(String(describing: error), hints: [])
            throw ExitStatus.failure.exitCode
        }
    }

    private static func report(_ message: String, hints: [String]) {
        var text = "error: \(message)\n"
        for hint in hints { text += "  \(hint)\n" }
        writeError(text)
    }
}
