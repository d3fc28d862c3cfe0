import Foundation
import GRDB

extension Journal {
    // MARK: - Appending

    /// Appends a batch in one write transaction (one fsync) and returns one outcome per entry.
    ///
    /// The batch rule: each entry is judged exactly as if the entries were appended one at a time,
    /// in order; the accepted ones commit together, and nothing of the batch is visible to readers
    /// before that commit. A rejected entry in the middle does not stop the batch. See
    /// `AppendOutcome` for the outcomes and Docs/store.md for the chain rules.
    ///
    /// - Throws: `StoreError` if the transaction could not commit; then nothing of the batch was
    ///   written.
    public func append(_ entries: [JournalEntry]) throws -> [AppendOutcome] {
        try writing("append") { db in try JournalTransaction(db: db, path: path).append(entries) }
    }

    /// Appends one entry in its own transaction (one fsync: batch when you can).
    public func append(_ entry: JournalEntry) throws -> AppendOutcome {
        try append([entry])[0]
    }

    /// The async form of `append(_:)`: waits for the writer without blocking a thread.
    public func append(_ entries: [JournalEntry]) async throws -> [AppendOutcome] {
        try await transaction { try $0.append(entries) }
    }

    /// The async `append(_:)` of several producers' entries, in order, as one batch (what a
    /// `GroupCommitter` commits), without concatenating them first.
    func append(submissions: [[JournalEntry]]) async throws -> [AppendOutcome] {
        try await transaction { try $0.append(submissions: submissions) }
    }

    /// Appends a batch and sets cursors in the same transaction: either both are durable or
    /// neither is.
    ///
    /// The cursors are set whatever the entries' outcomes; to set them depending on the outcomes,
    /// use `transaction(_:)`.
    public func append(_ entries: [JournalEntry], settingCursors cursors: [String: Int64]) throws -> [AppendOutcome] {
        try writing("append") { db in
            let transaction = JournalTransaction(db: db, path: path)
            let outcomes = try transaction.append(entries)
            for name in cursors.keys.sorted() {
                try transaction.setCursor(name, cursors[name, default: 0])
            }
            return outcomes
        }
    }

    // MARK: - Reading

    /// The stream's last entry (its epoch, sequence and hash), or nil for a stream never seen.
    /// Kept even when compaction deleted the entry itself.
    public func last(stream: String) throws -> StreamHead? {
        try reading("last") { db in try JournalTransaction(db: db, path: path).last(stream: stream) }
    }

    /// Up to `limit` entries of `stream` strictly after `position` (from the first one when
    /// `position` is nil), in (epoch, sequence) order. Compacted entries are gone: start from
    /// `latestSnapshot(stream:)`'s position.
    public func entries(stream: String, after position: JournalPosition?, limit: Int) throws -> [JournalEntry] {
        guard limit > 0 else { return [] }
        let after = position ?? JournalPosition(epoch: -1, sequence: 0)
        return try reading("entries") { db in
            // The runs from the one holding `after` (if any) on.
            let select = RawStatement(
                try db.cachedStatement(sql: """
                    SELECT epoch, first, last, previous_hash, payload FROM entry_run
                    WHERE stream = ?1 AND (epoch, first) >= (?2, coalesce(
                        (SELECT first FROM entry_run WHERE stream = ?1 AND epoch = ?2 AND first <= ?3 ORDER BY first DESC LIMIT 1),
                        0))
                    ORDER BY epoch, first
                    """), db: db)
            defer { select.clearBindings() }
            try select.bindCopy(stream, at: 1)
            try select.bind(after.epoch, at: 2)
            try select.bind(after.sequence, at: 3)
            var result: [JournalEntry] = []
            result.reserveCapacity(min(limit, 16_384))
            var lastHash: [UInt8] = []
            while result.count < limit, try select.next() {
                var run = try EntryRun.Reader(
                    stream: stream, epoch: select.int64(at: 0), first: select.int64(at: 1), last: select.int64(at: 2),
                    previousHash: select.blob(at: 3), payload: select.blob(at: 4), path: path, operation: "entries")
                if run.epoch == after.epoch { try run.skip(through: after.sequence) }
                while result.count < limit, let entry = try run.next() {
                    // An entry chained onto the one before it shares that one's hash array.
                    let previousHash = lastHash.withUnsafeBytes { $0.elementsEqual(entry.previousHash) } ? lastHash : [UInt8](entry.previousHash)
                    let hash = [UInt8](entry.hash)
                    result.append(JournalEntry(
                        stream: stream, epoch: run.epoch, sequence: entry.sequence, kind: entry.kind,
                        payload: [UInt8](entry.payload), previousHash: previousHash, hash: hash))
                    lastHash = hash
                }
                try run.finish()
            }
            return result
        }
    }

    /// The names of all streams, sorted.
    public func streams() throws -> [String] {
        try reading("streams") { db in try String.fetchAll(db, sql: "SELECT name FROM stream ORDER BY name") }
    }
}
