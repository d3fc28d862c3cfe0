import GRDB

/// An operating error of the store: the journal file could not be opened, written or trusted.
///
/// Every throwing API of `CrossclearStore` throws a `StoreError` (except `Journal.transaction`,
/// which rethrows the caller's own errors unchanged). Its description names the file and the
/// cause, so a node that refuses to start says why:
///
///     crossclear store /var/lib/venue-a/journal.sqlite: open failed (not an SQLite database):
///     file is not a database
///
/// Domain rejections (a gap, a fork, a stale epoch) are never errors: they are `AppendOutcome`
/// values.
public struct StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, as a closed set.
    public enum Code: String, Sendable, Equatable {
        /// The file exists but is not an SQLite database (or is encrypted).
        case notADatabase = "not an SQLite database"
        /// SQLite found the file damaged (a failed integrity check or a corrupt page).
        case corrupt = "corrupt database"
        /// The file or its directory cannot be created, opened or written.
        case unwritable = "cannot open or write"
        /// Another `Journal` (in this or another live process) holds the file's lock.
        case locked = "locked by another journal"
        /// The device is full; the transaction was rolled back.
        case diskFull = "disk full"
        /// The operating system reported an I/O error; the journal refuses further use.
        case ioError = "I/O error"
        /// WAL mode or `synchronous = FULL` could not be applied and verified.
        case durability = "durability settings rejected"
        /// The file's schema was written by a newer version of crossclear.
        case unknownSchema = "unknown schema version"
        /// The journal was closed, or failed earlier with an I/O error or corruption.
        case closed = "journal closed"
        /// A snapshot contradicts the one already saved at the same position.
        case snapshotConflict = "snapshot conflict"
        /// An argument violates the API contract (for example a snapshot ahead of the journal).
        case invalidArgument = "invalid argument"
        /// Any other SQLite error.
        case database = "database error"
    }

    /// What went wrong.
    public let code: Code
    /// The journal file the error concerns.
    public let path: String
    /// The operation that failed ("open", "append", "compact", ...).
    public let operation: String
    /// The underlying cause, in words (SQLite's message, `errno` text, or a check that failed).
    public let cause: String

    /// Creates an error.
    public init(_ code: Code, path: String, operation: String, cause: String) {
        self.code = code
        self.path = path
        self.operation = operation
        self.cause = cause
    }

    /// "crossclear store PATH: OPERATION failed (CODE): CAUSE".
    public var description: String {
        "crossclear store \(path): \(operation) failed (\(code.rawValue)): \(cause)"
    }

    /// Whether this error means the file can no longer be trusted by this process: after it, the
    /// journal refuses every further operation until it is reopened (which lets SQLite recover).
    var isFatal: Bool {
        switch code {
        case .ioError, .corrupt, .notADatabase: true
        default: false
        }
    }
}

extension StoreError {
    /// Converts any error thrown by GRDB into a `StoreError`; a `StoreError` passes unchanged.
    static func wrapping(_ error: any Error, path: String, operation: String) -> StoreError {
        if let error = error as? StoreError { return error }
        guard let error = error as? DatabaseError else {
            return StoreError(.database, path: path, operation: operation, cause: String(describing: error))
        }
        let code: Code
        switch error.resultCode {
        case .SQLITE_NOTADB: code = .notADatabase
        case .SQLITE_CORRUPT: code = .corrupt
        case .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_AUTH: code = .unwritable
        case .SQLITE_FULL: code = .diskFull
        case .SQLITE_IOERR: code = .ioError
        case .SQLITE_BUSY, .SQLITE_LOCKED: code = .locked
        default: code = .database
        }
        let cause = "\(error.message ?? "SQLite error") (SQLite code \(error.extendedResultCode.rawValue))"
        return StoreError(code, path: path, operation: operation, cause: cause)
    }
}
