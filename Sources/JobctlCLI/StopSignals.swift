import Dispatch
import Glibc
import Synchronization

/// The one way jobctl handles stop signals (`run`: SIGTERM and SIGINT; the change commands: SIGINT).
///
/// The first signal calls `onFirst`, which stops the work gracefully; a second one says so and exits at once with
/// status 130. Handlers run on a dispatch queue, never in signal context.
final class StopSignals: Sendable {
    private nonisolated(unsafe) let sources: [any DispatchSourceSignal]

    init(_ numbers: [Int32], onFirst: @escaping @Sendable () -> Void, secondMessage: String) {
        let seen = Atomic<Int>(0)
        sources = numbers.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if seen.add(1, ordering: .relaxed).newValue > 1 {
                    Terminal.writeError("\n" + secondMessage + "\n")
                    exit(ExitStatus.interrupted.rawValue)
                }
                onFirst()
            }
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
