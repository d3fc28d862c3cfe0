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
            let select = RawStatement(
                try db.cachedStatement(sql: """
                    SELECT epoch, sequence, kind, payload, previous_hash, hash FROM entry
                    WHERE stream = ? AND (epoch, sequence) > (?, ?)
                    ORDER BY epoch, sequence LIMIT ?
                    """), db: db)
            defer { select.clearBindings() }
            try select.bindCopy(stream, at: 1)
            try select.bind(after.epoch, at: 2)
            try select.bind(after.sequence, at: 3)
            try select.bind(Int64(limit), at: 4)
            var result: [JournalEntry] = []
            result.reserveCapacity(min(limit, 16_384))
            var lastHash: [UInt8] = []
            while try select.next() {
                let kind = select.int64(at: 2)
                guard let kind = Int32(exactly: kind) else {
                    throw StoreError(.database, path: path, operation: "entries", cause: "\(stream): kind \(kind) is not a 32-bit integer")
                }
                // An entry chained onto the one before it shares that one's hash array.
                let previousHash = select.bytes(at: 4, reusing: lastHash)
                let hash = select.bytes(at: 5)
                result.append(JournalEntry(
                    stream: stream, epoch: select.int64(at: 0), sequence: select.int64(at: 1), kind: kind,
                    payload: select.bytes(at: 3), previousHash: previousHash, hash: hash))
                lastHash = hash
            }
            return result
        }
    }

    /// The names of all streams, sorted.
    public func streams() throws -> [String] {
        try reading("streams") { db in try String.fetchAll(db, sql: "SELECT name FROM stream ORDER BY name") }
    }
}
