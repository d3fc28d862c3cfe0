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
}
