import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

/// Runs the journal's WAL checkpoints on a connection and a thread of their own, so that no commit
/// waits for one.
///
/// SQLite's automatic checkpoint runs inside the commit that finds the WAL past 1,000 pages: that
/// commit then copies the WAL into the database file and fsyncs it, a stall of several
/// milliseconds every few megabytes written, right on the path of an acknowledgement. Here the
/// writer's commit hook (which replaces the automatic checkpoint) only schedules a `PASSIVE`
/// checkpoint past the same size; it runs on a separate connection and never blocks the writer or
/// the readers (it copies what no reader still needs, and the writer starts the WAL over once
/// all of it was copied). Checkpoints are not needed for durability (committed data is in the
/// fsynced WAL); they keep the WAL from growing. A failed one is retried after the next commit.
final class Checkpointer: Sendable {
    /// The WAL size, in pages, from which a commit schedules a checkpoint (SQLite's own threshold
    /// for its automatic checkpoint).
    static let thresholdPages: Int32 = 1_000

    private let connection: DatabaseQueue
    private let queue = DispatchQueue(label: "crossclear.journal.checkpoint")
    private let scheduled = Atomic<Bool>(false)
    /// Whether the hook is on the writer (and holds the checkpointer).
    private let hooked = Atomic<Bool>(false)

    /// Opens the checkpointing connection to the journal file at `path` (already in WAL mode).
    init(path: String) throws {
        var configuration = Configuration()
        configuration.label = "crossclear.journal.checkpoint"
        configuration.busyMode = .timeout(5)
        connection = try DatabaseQueue(path: path, configuration: configuration)
        // A checkpoint fsyncs the WAL before it copies and the database file after.
        try connection.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
    }

    /// Makes the writer connection schedule checkpoints after its commits instead of running them
    /// itself. The hook holds the checkpointer strongly: ``release(from:)`` lets it go.
    func install(on writer: Database) {
        guard !hooked.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let context = Unmanaged.passRetained(self).toOpaque()
        sqlite3_wal_hook(writer.sqliteConnection, { context, _, _, pages in
            if pages >= Checkpointer.thresholdPages, let context {
                Unmanaged<Checkpointer>.fromOpaque(context).takeUnretainedValue().schedule()
            }
            return SQLITE_OK
        }, context)
    }

    /// Removes the hook from the writer connection (a closed connection took it with it) and lets
    /// the checkpointer go; a second call does nothing.
    func release(from writer: Database) {
        guard hooked.exchange(false, ordering: .acquiringAndReleasing) else { return }
        if let connection = writer.sqliteConnection { sqlite3_wal_hook(connection, nil, nil) }
        Unmanaged.passUnretained(self).release()
    }

    /// Schedules one checkpoint, unless one is scheduled and has not started yet.
    private func schedule() {
        guard !scheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.async {
            self.scheduled.store(false, ordering: .releasing)
            _ = try? self.checkpoint()
        }
    }

    /// Runs a `PASSIVE` checkpoint now and returns the WAL's frame count and how many of its
    /// frames are now in the database file.
    @discardableResult
    func checkpoint() throws -> (walFrames: Int, checkpointedFrames: Int) {
        let result = try connection.writeWithoutTransaction { try $0.checkpoint(.passive) }
        return (result.walFrameCount, result.checkpointedFrameCount)
    }

    /// Waits for a scheduled checkpoint to finish, then closes the connection.
    func close() throws {
        queue.sync {}
        try connection.close()
    }
}
