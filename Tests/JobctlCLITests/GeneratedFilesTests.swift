import ArgumentParser
import Foundation
import JobctlCLI
import TestSupport
import Testing

/// The committed completions must match the command definitions; `scripts/generate-docs.sh` rewrites them.
@Suite struct GeneratedFilesTests {
    @Test(arguments: [(CompletionShell.bash, "jobctl.bash"), (.zsh, "_jobctl"), (.fish, "jobctl.fish")])
    func completionsAreCurrent(_ shell: CompletionShell, _ file: String) throws {
        let path = TestEnvironment.repositoryRoot.appendingPathComponent("completions/\(file)")
        let committed = try String(contentsOf: path, encoding: .utf8)
        #expect(committed == Jobctl.completionScript(for: shell) + "\n", "stale \(file): run scripts/generate-docs.sh")
    }

    @Test func manPageDocumentsEveryCommandAndExitCode() throws {
        let page = try String(
            contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("man/jobctl.1"), encoding: .utf8)
        for word in ["status", "stats", "jobs", "show", "JOBCTL_URL"] {
            #expect(page.contains(word), "man/jobctl.1 lacks \(word): run scripts/generate-docs.sh")
        }
        for status in ExitStatus.allCases {
            #expect(page.contains(status.meaning), "man/jobctl.1 lacks exit status \(status.rawValue)")
        }
    }
}

/// The help of every command reads well at 80 columns: ArgumentParser wraps there, and a hard line longer than that
/// would come out as a long line and a short one.
@Suite struct HelpLayoutTests {
    static let commands: [any ParsableCommand.Type] = [Jobctl.self] + Jobctl.configuration.subcommands

    @Test(arguments: commands.indices)
    func everyLineFitsIn80Columns(_ index: Int) {
        let command = Self.commands[index]
        let help = Jobctl.helpMessage(for: command, columns: 80)
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            #expect(line.count <= 80, "\(command.configuration.commandName ?? "?"): \(line)")
        }
        // A hard line of the discussion that is indented (a list, an example) must not wrap: its continuation would
        // lose the indentation. Paragraphs without hard breaks wrap cleanly.
        for line in command.configuration.discussion.split(separator: "\n") where line.first == " " {
            #expect(line.count <= 80, "\(command.configuration.commandName ?? "?"): \(line)")
        }
    }

    @Test func rootHelpListsEveryExitStatus() {
        let help = Jobctl.helpMessage(columns: 80)
        for status in ExitStatus.allCases {
            #expect(help.contains("  \(status.rawValue) "), "EXIT STATUS lacks \(status.rawValue)")
        }
    }
}
