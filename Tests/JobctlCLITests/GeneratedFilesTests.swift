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
        for word in ["status", "stats", "jobs", "show", "JOBCTL_URL", "69"] {
            #expect(page.contains(word), "man/jobctl.1 lacks \(word): run scripts/generate-docs.sh")
        }
    }
}
