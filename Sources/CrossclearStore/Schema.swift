import Foundation
import GRDB

/// The journal's schema, versioned through GRDB's `DatabaseMigrator`.
///
/// Migrations are append-only: never edit a registered one, add the next version instead. A file
/// whose recorded migrations this code does not know was written by a newer crossclear and is
/// refused (`StoreError.Code.unknownSchema`). Tables are `STRICT` (SQLite checks every column's
/// type) and carry `CHECK`s that repeat the chain's format rules, as a last line of defence.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: v1)
        }
        migrator.registerMigration("v2") { db in
            let undelivered = try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE delivered = 0") ?? 0
            guard undelivered == 0 else { throw Schema.UndeliveredOutbox(count: undelivered) }
            try db.execute(sql: v2)
        }
        migrator.registerMigration("v3") { db in
            try db.execute(sql: v3)
            try moveEntriesIntoRuns(db)
            try db.execute(sql: "DROP TABLE entry")
        }
        return migrator
    }

    static let v1 = """
        -- One row per stream: the head the next entry must chain onto, and how far the stream was
        -- compacted. Kept apart from `entry` so that compaction never loses the head.
        CREATE TABLE stream (
            name TEXT NOT NULL PRIMARY KEY CHECK (length(name) > 0),
            head_epoch INTEGER NOT NULL CHECK (head_epoch >= 0),
            head_sequence INTEGER NOT NULL CHECK (head_sequence >= 1),
            head_hash BLOB NOT NULL CHECK (length(head_hash) = 32),
            compacted_epoch INTEGER,
            compacted_sequence INTEGER
        ) STRICT, WITHOUT ROWID;

        -- The hash-chained entries, clustered by position.
        CREATE TABLE entry (
            stream TEXT NOT NULL,
            epoch INTEGER NOT NULL CHECK (epoch >= 0),
            sequence INTEGER NOT NULL CHECK (sequence >= 1),
            kind INTEGER NOT NULL,
            payload BLOB NOT NULL,
            previous_hash BLOB NOT NULL CHECK (length(previous_hash) = 32),
            hash BLOB NOT NULL CHECK (length(hash) = 32),
            PRIMARY KEY (stream, epoch, sequence)
        ) STRICT, WITHOUT ROWID;

        -- Snapshots of a stream's consumer state at a position. `digest` is a UInt64 stored as
        -- its Int64 bit pattern.
        CREATE TABLE snapshot (
            stream TEXT NOT NULL,
            epoch INTEGER NOT NULL CHECK (epoch >= 0),
            sequence INTEGER NOT NULL CHECK (sequence >= 1),
            digest INTEGER NOT NULL,
            payload BLOB NOT NULL,
            PRIMARY KEY (stream, epoch, sequence)
        ) STRICT;

        -- Small durable key/values.
        CREATE TABLE cursor (
            name TEXT NOT NULL PRIMARY KEY,
            value INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;

        -- Instructions to deliver exactly once. `position` is the enqueue order; delivered rows
        -- are kept so that a re-enqueued id stays a no-op.
        CREATE TABLE outbox (
            position INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            destination TEXT NOT NULL,
            payload BLOB NOT NULL,
            delivered INTEGER NOT NULL DEFAULT 0 CHECK (delivered IN (0, 1))
        ) STRICT;
        CREATE INDEX outbox_pending ON outbox (destination, position) WHERE delivered = 0;
        """

    /// v2: the outbox holds runs of consecutive instruction ids, one row per run, and a delivery
    /// watermark per destination (v1 held a row per instruction with a `delivered` flag). A v1
    /// journal is migrated only when every instruction in it was delivered.
    static let v2 = """
        DROP TABLE outbox;

        -- Instructions to deliver exactly once: a row holds the ids `first`...`last` of one
        -- destination, enqueued together; rows wholly delivered are dropped.
        CREATE TABLE outbox_run (
            destination TEXT NOT NULL CHECK (length(destination) > 0),
            first INTEGER NOT NULL CHECK (first >= 1),
            last INTEGER NOT NULL CHECK (last >= first),
            payload BLOB NOT NULL,
            PRIMARY KEY (destination, first)
        ) STRICT, WITHOUT ROWID;

        -- Per destination: the last id enqueued, and the watermark every id up to which was
        -- delivered.
        CREATE TABLE outbox_progress (
            destination TEXT NOT NULL PRIMARY KEY,
            enqueued INTEGER NOT NULL CHECK (enqueued >= 0),
            delivered INTEGER NOT NULL CHECK (delivered >= 0 AND delivered <= enqueued)
        ) STRICT, WITHOUT ROWID;
        """

    /// v3: a stream's entries are stored as runs, one row per run of consecutive entries appended
    /// together (v1 and v2 held a row per entry in `entry`); see `EntryRun` for the payload's format.
    static let v3 = """
        -- The hash-chained entries `first`...`last` of one stream and epoch, clustered by
        -- position. `previous_hash` is the first entry's; `payload` holds every entry's kind,
        -- payload and hash (at least 40 bytes each).
        CREATE TABLE entry_run (
            stream TEXT NOT NULL CHECK (length(stream) > 0),
            epoch INTEGER NOT NULL CHECK (epoch >= 0),
            first INTEGER NOT NULL CHECK (first >= 1),
            last INTEGER NOT NULL CHECK (last >= first),
            previous_hash BLOB NOT NULL CHECK (length(previous_hash) = 32),
            payload BLOB NOT NULL CHECK (length(payload) >= 40 * (last - first + 1)),
            PRIMARY KEY (stream, epoch, first)
        ) STRICT, WITHOUT ROWID;
        """

    /// Copies v1's `entry` rows into runs, in position order: consecutive chained entries share
    /// a run, as if appended together.
    private static func moveEntriesIntoRuns(_ db: Database) throws {
        let writer = EntryRunWriter(db: db)
        let rows = try Row.fetchCursor(db, sql: """
            SELECT stream, epoch, sequence, kind, payload, previous_hash, hash FROM entry
            ORDER BY stream, epoch, sequence
            """)
        while let row = try rows.next() {
            let stream: String = row[0]
            let kind: Int64 = row[3]
            guard let kind = Int32(exactly: kind) else { throw UnreadableEntry(stream: stream, epoch: row[1], sequence: row[2], kind: kind) }
            try writer.add(JournalEntry(
                stream: stream, epoch: row[1], sequence: row[2], kind: kind, payload: [UInt8](row[4] as Data),
                previousHash: [UInt8](row[5] as Data), hash: [UInt8](row[6] as Data)))
        }
        try writer.flush()
    }

    /// A v1 entry whose kind does not fit the `Int32` of `JournalEntry.kind`.
    struct UnreadableEntry: Error, CustomStringConvertible {
        var stream: String
        var epoch: Int64
        var sequence: Int64
        var kind: Int64
        var description: String {
            "entry \(epoch):\(sequence) of stream \(stream) has kind \(kind), which is not a 32-bit integer"
        }
    }

    /// A v1 journal still holding undelivered instructions: migrating it would lose them.
    struct UndeliveredOutbox: Error, CustomStringConvertible {
        var count: Int
        var description: String {
            "the journal holds \(count) undelivered instructions in its v1 outbox: deliver them with the crossclear that wrote it, or start from a fresh state directory"
        }
    }
}
