import ArgumentParser
import JobCore

/// `--sample N` on stats and tune.
struct SampleOption: ParsableArguments {
    @Option(help: "How many of the most recent completed and of failed jobs to sample.")
    var sample = QueueHistory.defaultSampleSize

    func validate() throws {
        guard (1...100_000).contains(sample) else { throw ValidationError("--sample must be between 1 and 100000") }
    }
}
