import GRDB

/// Writes the entries a `JournalTransaction.append` accepted into the `entry` table, up to
/// ``rowsPerStatement`` rows per INSERT statement.
///
/// A multi-row INSERT opens the table's cursor and runs the statement's prologue once per chunk
/// instead of once per row. The values are bound through the SQLite C API from one scratch buffer
/// holding the chunk's streams, payloads and hashes (one copy each, no allocation per row); the
/// bindings are cleared after every statement, before the buffer is reused or freed.
///
/// Entries are queued by ``add(_:)`` and written by ``flush()``: flush before reading the `entry`
/// table in the same transaction (the queued rows are not in it yet) and before the transaction
/// ends.
final class EntryInserter {
    /// The most rows one INSERT statement carries (7 parameters each, well below SQLite's limit).
    static let rowsPerStatement = 64

    /// The INSERT statement for 1...rowsPerStatement rows (index = row count).
    private static let sql: [String] = (0...rowsPerStatement).map { rows in
        "INSERT INTO entry (stream, epoch, sequence, kind, payload, previous_hash, hash) VALUES "
            + Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", ")
    }

    private let db: Database
    private var queued: [JournalEntry] = []
    private var scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    init(db: Database) {
        self.db = db
        queued.reserveCapacity(Self.rowsPerStatement)
    }

    deinit {
        scratch.deallocate()
    }

    /// Queues `entry` (judged `.appended`); writes a full chunk at once.
    func add(_ entry: JournalEntry) throws {
        queued.append(entry)
        if queued.count == Self.rowsPerStatement { try flush() }
    }

    /// Writes every queued entry.
    func flush() throws {
        guard !queued.isEmpty else { return }
        try insert(queued)
        queued.removeAll(keepingCapacity: true)
    }

    private func insert(_ rows: [JournalEntry]) throws {
        let statement = RawStatement(try db.cachedStatement(sql: Self.sql[rows.count]), db: db)
        defer { statement.clearBindings() }
        var length = 0
        for row in rows {
            length += row.stream.utf8.count + row.payload.count + row.previousHash.count + row.hash.count
        }
        reserve(length)
        var used = 0
        // Copies `bytes` into the scratch buffer and returns where they now are.
        func stage(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
            let target = UnsafeMutableRawBufferPointer(rebasing: scratch[used..<(used + bytes.count)])
            target.copyMemory(from: bytes)
            used += bytes.count
            return UnsafeRawBufferPointer(target)
        }
        var index: Int32 = 1
        for row in rows {
            var stream = row.stream
            try stream.withUTF8 { try statement.bindStaticText(stage(UnsafeRawBufferPointer($0)), at: index) }
            try statement.bind(row.epoch, at: index + 1)
            try statement.bind(row.sequence, at: index + 2)
            try statement.bind(Int64(row.kind), at: index + 3)
            try row.payload.withUnsafeBytes { try statement.bindStatic(stage($0), at: index + 4) }
            try row.previousHash.withUnsafeBytes { try statement.bindStatic(stage($0), at: index + 5) }
            try row.hash.withUnsafeBytes { try statement.bindStatic(stage($0), at: index + 6) }
            index += 7
        }
        try statement.execute()
    }

    /// Makes the scratch buffer hold at least `length` bytes (only between statements: nothing is
    /// bound into it then).
    private func reserve(_ length: Int) {
        guard scratch.count < length else { return }
        scratch.deallocate()
        scratch = .allocate(byteCount: max(length, 2 * scratch.count, 64 * 1024), alignment: 8)
    }
}
