import Glibc
import Synchronization

/// The socket of a blocking connection, which another thread may shut down to end a wait on it at once (the
/// cancellation of the task waiting).
///
/// The owner sets it when the connection opens and clears it before the connection is freed, under the same lock
/// a shutdown takes: a shutdown never reaches a descriptor number the system has since given to something else.
public final class InterruptibleSocket: Sendable {
    private let descriptor = Mutex<Int32>(-1)
    private let interrupted = Atomic<Bool>(false)

    public init() {}

    /// A connection opened after an interruption (cancelled while it was connecting) is shut down at once: the
    /// wait that follows ends instead of blocking.
    public func set(_ socket: Int32) {
        descriptor.withLock { current in
            current = socket
            if interrupted.load(ordering: .relaxed) && socket >= 0 { _ = shutdown(socket, Int32(SHUT_RDWR)) }
        }
    }

    public func clear() {
        descriptor.withLock { $0 = -1 }
    }

    /// Shuts the socket down: a read or poll blocked on it returns at once, and the connection is unusable after.
    ///
    /// Remembered until `takeInterruption`, so that the owner drops the connection.
    public func interrupt() {
        interrupted.store(true, ordering: .relaxed)
        descriptor.withLock { socket in
            if socket >= 0 { _ = shutdown(socket, Int32(SHUT_RDWR)) }
        }
    }

    /// Whether an interruption came since the last call (the owner then drops the connection).
    public func takeInterruption() -> Bool {
        interrupted.exchange(false, ordering: .relaxed)
    }
}
