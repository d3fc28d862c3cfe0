#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock (`flock`) on `<journal path>.lock`, held while a `Journal` is open.
///
/// Two writers on one journal (a restarted node while its paused predecessor still runs) would
/// each see a valid chain and both append; the lock makes the second one fail to open instead.
/// The kernel releases it when the process dies, so kill -9 never leaves it stale. The lock file
/// is never deleted (deleting it would let two processes lock two different files).
struct FileLock: ~Copyable {
    private let descriptor: Int32

    /// Opens (creating if needed) and locks `path`, without waiting.
    init(path: String, journalPath: String) throws(StoreError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let cause = "cannot create lock file \(path): \(String(cString: strerror(errno)))"
            throw StoreError(.unwritable, path: journalPath, operation: "open", cause: cause)
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let number = errno
            close(fd)
            let code: StoreError.Code = number == EWOULDBLOCK ? .locked : .unwritable
            let cause = "cannot lock \(path): \(String(cString: strerror(number)))"
            throw StoreError(code, path: journalPath, operation: "open", cause: cause)
        }
        descriptor = fd
    }

    deinit {
        // Closing the descriptor releases the lock.
        close(descriptor)
    }
}
