import Foundation
import GRDB
import Synchronization

/// A node's durable journal: hash-chained streams of entries, snapshots, cursors and an outbox,
/// in one SQLite file (WAL mode, `synchronous = FULL`).
///
/// "Acknowledged means durable": when a write method returns, its transaction is committed and
/// the WAL is fsynced, so it survives kill -9 and power loss. Write in batches (`append(_:)` with
/// many entries, or a `GroupCommitter`): a commit costs one fsync however many entries it holds.
///
/// Writes are serialized on one writer connection; reads run concurrently on reader connections
/// and see only committed transactions. Every throwing method throws `StoreError`. After an I/O
/// error or corruption the journal fails closed: every later call throws `.closed` until the file
/// is reopened. The synchronous methods block the calling thread (an fsync can take milliseconds):
/// from async code prefer `GroupCommitter` or the async `append(_:)` and `transaction(_:)`.
///
/// Only one `Journal` may have a file open at a time, across processes (see `open`).
public final class Journal: Sendable {
    /// Settings for `Journal.open`.
    public struct Options: Sendable {
        /// Run `PRAGMA quick_check` when opening (reads the whole file; fails closed on damage).
        public var integrityCheckOnOpen: Bool
        /// How many reader connections may run at once.
        public var maximumReaderCount: Int

        /// Creates options; the defaults check integrity and allow two concurrent readers.
        public init(integrityCheckOnOpen: Bool = true, maximumReaderCount: Int = 2) {
            self.integrityCheckOnOpen = integrityCheckOnOpen
            self.maximumReaderCount = maximumReaderCount
        }
    }

    /// The database file.
    public let path: String

    let pool: DatabasePool
    /// Runs the WAL checkpoints off the writer's commits.
    let checkpointer: Checkpointer

    private struct State: ~Copyable {
        var lock: FileLock?
        /// Set by `close()` or by a fatal error; every later call throws it.
        var refusal: StoreError?
    }

    private let state: Mutex<State>

    private init(path: String, pool: DatabasePool, checkpointer: Checkpointer, lock: consuming FileLock) {
        self.path = path
        self.pool = pool
        self.checkpointer = checkpointer
        self.state = Mutex(State(lock: lock, refusal: nil))
    }

    deinit {
        // Close the connections before releasing the lock, so no successor can open the file
        // while this journal still has it open.
        if state.withLock({ $0.lock != nil }) { try? closeConnections() }
    }

    /// Unhooks the checkpointer from the writer, then closes the writer, the readers and the
    /// checkpointing connection.
    private func closeConnections() throws {
        pool.writeWithoutTransaction { checkpointer.release(from: $0) }
        try pool.close()
        try checkpointer.close()
    }

    // MARK: - Opening and closing

    /// Opens (creating if needed) the journal at `path`, failing closed.
    ///
    /// In order: takes an exclusive lock on `<path>.lock`; opens the file in WAL mode; sets
    /// `PRAGMA synchronous = FULL` on the writer and reads it back (GRDB's `DatabasePool` sets
    /// NORMAL when it enables WAL, and NORMAL loses acknowledged commits on power loss); checks
    /// `journal_mode` is `wal`; optionally runs `PRAGMA quick_check`; refuses a schema newer than
    /// this code; migrates an older one; hands the WAL checkpoints to a ``Checkpointer``.
    ///
    /// - Throws: `StoreError` naming `path`: `.notADatabase`, `.corrupt`, `.unwritable`, `.locked`,
    ///   `.durability`, `.unknownSchema`, ...
    public static func open(path: String, options: Options = Options()) throws -> Journal {
        let lock = try FileLock(path: path + ".lock", journalPath: path)
        var configuration = Configuration()
        configuration.label = "crossclear.journal"
        configuration.maximumReaderCount = max(1, options.maximumReaderCount)
        configuration.busyMode = .timeout(5)

        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError.wrapping(error, path: path, operation: "open")
        }
        do {
            try pool.writeWithoutTransaction { db in
                try applyDurability(db, path: path)
                if options.integrityCheckOnOpen {
                    try checkIntegrity(db, path: path)
                }
                let migrator = Schema.migrator
                if try migrator.hasBeenSuperseded(db) {
                    let known = try migrator.appliedIdentifiers(db).sorted()
                    throw StoreError(
                        .unknownSchema, path: path, operation: "open",
                        cause: "the file records migrations this version does not know (applied: \(known))")
                }
            }
            try Schema.migrator.migrate(pool)
        } catch {
            try? pool.close()
            throw StoreError.wrapping(error, path: path, operation: "open")
        }
        let checkpointer: Checkpointer
        do {
            checkpointer = try Checkpointer(path: path)
            pool.writeWithoutTransaction { checkpointer.install(on: $0) }
        } catch {
            try? pool.close()
            throw StoreError.wrapping(error, path: path, operation: "open")
        }
        return Journal(path: path, pool: pool, checkpointer: checkpointer, lock: lock)
    }

    /// Closes the connections and releases the lock. Later calls throw `.closed`.
    ///
    /// Closing is optional (deinit closes too) but makes the moment explicit; a second close is a
    /// no-op.
    public func close() throws {
        let alreadyClosed = state.withLock { state in
            let wasClosed = state.lock == nil
            if state.refusal == nil {
                state.refusal = StoreError(.closed, path: path, operation: "use", cause: "the journal was closed")
            }
            return wasClosed
        }
        if alreadyClosed { return }
        do {
            try closeConnections()
        } catch {
            throw StoreError.wrapping(error, path: path, operation: "close")
        }
        state.withLock { $0.lock = nil }
    }

    private static func applyDurability(_ db: Database, path: String) throws {
        // Must run after DatabasePool's own setup, which sets NORMAL when it enables WAL.
        try db.execute(sql: "PRAGMA synchronous = FULL")
        let synchronous = try Int.fetchOne(db, sql: "PRAGMA synchronous")
        guard synchronous == 2 else {
            throw StoreError(
                .durability, path: path, operation: "open",
                cause: "PRAGMA synchronous reads back \(synchronous.map(String.init) ?? "nothing"), expected 2 (FULL)")
        }
        let journalMode = try String.fetchOne(db, sql: "PRAGMA journal_mode")
        guard journalMode == "wal" else {
            throw StoreError(
                .durability, path: path, operation: "open",
                cause: "PRAGMA journal_mode reads back \(journalMode ?? "nothing"), expected wal")
        }
    }

    private static func checkIntegrity(_ db: Database, path: String) throws {
        let problems = try String.fetchAll(db, sql: "PRAGMA quick_check")
        guard problems == ["ok"] else {
            throw StoreError(
                .corrupt, path: path, operation: "open",
                cause: "PRAGMA quick_check: " + problems.prefix(3).joined(separator: "; "))
        }
    }

    /// The durability settings of a connection, as SQLite reports them.
    public struct DurabilitySettings: Sendable, Hashable {
        /// `PRAGMA synchronous`: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA.
        public var synchronous: Int
        /// `PRAGMA journal_mode`, lowercase ("wal").
        public var journalMode: String

        /// Creates a value (to compare with).
        public init(synchronous: Int, journalMode: String) {
            self.synchronous = synchronous
            self.journalMode = journalMode
        }
    }

    /// Reads `synchronous` and `journal_mode` back from the writer connection (the one whose
    /// commits must be durable; reader connections keep their own, irrelevant, setting).
    public func durabilitySettings() throws -> DurabilitySettings {
        try checkUsable("durabilitySettings")
        do {
            return try pool.writeWithoutTransaction { db in
                DurabilitySettings(
                    synchronous: try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1,
                    journalMode: try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "")
            }
        } catch {
            throw failure(error, "durabilitySettings")
        }
    }

    // MARK: - Running operations

    /// Runs a write transaction: `body` sees the journal as of the previous commit plus its own
    /// writes, and nothing it writes is visible to readers until it returns and the commit is
    /// fsynced. If `body` throws, everything it wrote is rolled back and its error is rethrown
    /// unchanged. Do not let the `JournalTransaction` escape `body`.
    public func transaction<T>(_ body: (JournalTransaction) throws -> T) throws -> T {
        try writing("transaction") { db in try body(JournalTransaction(db: db, path: path)) }
    }

    /// The async form of `transaction(_:)`: waits for the writer without blocking a thread.
    ///
    /// If the calling task is cancelled, the transaction may be rolled back (GRDB interrupts it)
    /// and the call throws: then whether it committed is unknown, and the caller retries with the
    /// same entries (appends are idempotent).
    public func transaction<T: Sendable>(_ body: @Sendable (JournalTransaction) throws -> T) async throws -> T {
        try checkUsable("transaction")
        let path = self.path
        do {
            return try await pool.write { db in try body(JournalTransaction(db: db, path: path)) }
        } catch {
            throw failure(error, "transaction")
        }
    }

    func writing<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        try checkUsable(operation)
        do {
            return try pool.write(body)
        } catch {
            throw failure(error, operation)
        }
    }

    func reading<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        try checkUsable(operation)
        do {
            return try pool.read(body)
        } catch {
            throw failure(error, operation)
        }
    }

    private func checkUsable(_ operation: String) throws {
        if let refusal = state.withLock({ $0.refusal }) {
            throw StoreError(.closed, path: path, operation: operation, cause: refusal.cause)
        }
    }

    /// Converts `error` (GRDB's errors become `StoreError`; the caller's own pass unchanged) and
    /// fails the journal closed if it is fatal.
    private func failure(_ error: any Error, _ operation: String) -> any Error {
        guard error is DatabaseError || error is StoreError else { return error }
        let storeError = StoreError.wrapping(error, path: path, operation: operation)
        if storeError.isFatal {
            state.withLock { state in
                if state.refusal == nil {
                    state.refusal = StoreError(
                        .closed, path: path, operation: operation,
                        cause: "refusing further use after: \(storeError.description); reopen the journal")
                }
            }
        }
        return storeError
    }
}
