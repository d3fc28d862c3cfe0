import GRDB

/// Writes accepted entries into the `entry_run` table, one row per run of consecutive entries.
///
/// ``add(_:)`` encodes an entry into one reused buffer, extending the pending run when the entry
/// continues it (same stream and epoch, the next sequence, chained onto its last hash, and the
/// run below `EntryRun.maximumPayloadBytes`) and writing the pending run first otherwise. The row
/// is bound through the SQLite C API straight from that buffer (no copy or allocation per entry);
/// the bindings are cleared after the statement, before the buffer is reused or freed.
///
/// ``flush()`` before reading `entry_run` in the same transaction (the pending run is not in it
/// yet) and before the transaction ends.
final class EntryRunWriter {
    private let db: Database
    private var buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    /// The bytes of the pending run in `buffer`; 0 when no run is pending.
    private var used = 0
    private var stream = ""
    private var epoch: Int64 = 0
    private var first: Int64 = 0
    private var last: Int64 = 0
    private var previousHash: [UInt8] = []

    init(db: Database) {
        self.db = db
    }

    deinit {
        buffer.deallocate()
    }

    /// Adds `entry` (judged `.appended`, or read from an older schema) to the pending run.
    func add(_ entry: JournalEntry) throws {
        let length = EntryRun.encodedLength(payloadCount: entry.payload.count)
        if used > 0, used + length > EntryRun.maximumPayloadBytes || !continues(entry) {
            try flush()
        }
        if used == 0 {
            stream = entry.stream
            epoch = entry.epoch
            first = entry.sequence
            previousHash = entry.previousHash
        }
        reserve(used + length)
        EntryRun.write(entry, to: buffer.baseAddress! + used)
        used += length
        last = entry.sequence
    }

    /// Writes the pending run, if any.
    func flush() throws {
        guard used > 0 else { return }
        let insert = RawStatement(
            try db.cachedStatement(sql: """
                INSERT INTO entry_run (stream, epoch, first, last, previous_hash, payload) VALUES (?, ?, ?, ?, ?, ?)
                """), db: db)
        defer { insert.clearBindings() }
        try insert.bindCopy(stream, at: 1)
        try insert.bind(epoch, at: 2)
        try insert.bind(first, at: 3)
        try insert.bind(last, at: 4)
        try previousHash.withUnsafeBytes { previousHash in
            try insert.bindStatic(previousHash, at: 5)
            try insert.bindStatic(UnsafeRawBufferPointer(rebasing: buffer[..<used]), at: 6)
            try insert.execute()
        }
        used = 0
    }

    /// Whether `entry` is the next entry of the pending run.
    private func continues(_ entry: JournalEntry) -> Bool {
        guard entry.sequence == last + 1, entry.epoch == epoch, entry.stream == stream else { return false }
        let lastHash = UnsafeRawBufferPointer(rebasing: buffer[(used - JournalEntry.hashLength)..<used])
        return entry.previousHash.withUnsafeBytes { $0.elementsEqual(lastHash) }
    }

    /// Makes the buffer hold at least `length` bytes, keeping the pending run (only between
    /// statements: nothing is bound into it then).
    private func reserve(_ length: Int) {
        guard buffer.count < length else { return }
        let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: max(length, 2 * buffer.count, 64 * 1024), alignment: 8)
        if used > 0 { grown.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[..<used])) }
        buffer.deallocate()
        buffer = grown
    }
}
