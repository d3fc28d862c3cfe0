import GRDB

/// Writes the entries a `JournalTransaction.append` accepted into the `entry` table, up to
/// ``rowsPerStatement`` rows per INSERT statement.
///
/// A multi-row INSERT opens the table's cursor and runs the statement's prologue once per chunk
/// instead of once per row. The values are bound through the SQLite C API from one scratch buffer
/// holding the chunk's streams, payloads and hashes (one copy each, no allocation per row); the
/// bindings are cleared after every statement, before the buffer is reused or freed.
///
/// Entries are queued by position in the array being appended (``add(_:of:)``, no copy of the
/// entry) and written by ``flush()``: flush before reading the `entry` table in the same
/// transaction (the queued rows are not in it yet) and before the transaction ends.
final class EntryInserter {
    /// The most rows one INSERT statement carries (7 parameters each, well below SQLite's limit).
    static let rowsPerStatement = 64

    /// The INSERT statement for 1...rowsPerStatement rows (index = row count).
    private static let sql: [String] = (0...rowsPerStatement).map { rows in
        "INSERT INTO entry (stream, epoch, sequence, kind, payload, previous_hash, hash) VALUES "
            + Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", ")
    }

    private let db: Database
    /// The array the queued indices point into.
    private var source: [JournalEntry] = []
    private var queued: [Int] = []
    private var scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    init(db: Database) {
        self.db = db
        queued.reserveCapacity(Self.rowsPerStatement)
    }

    deinit {
        scratch.deallocate()
    }

    /// Queues `entries[index]` (judged `.appended`); writes a full chunk at once.
    func add(_ index: Int, of entries: [JournalEntry]) throws {
        if !queued.isEmpty, !Self.same(source, entries) { try flush() }
        if queued.isEmpty { source = entries }
        queued.append(index)
        if queued.count == Self.rowsPerStatement { try flush() }
    }

    /// Writes every queued entry.
    func flush() throws {
        guard !queued.isEmpty else { return }
        try insert(queued, of: source)
        queued.removeAll(keepingCapacity: true)
    }

    /// Whether two arrays share their storage (then an index means the same entry in both).
    private static func same(_ a: [JournalEntry], _ b: [JournalEntry]) -> Bool {
        a.count == b.count && a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
    }

    private func insert(_ indices: [Int], of entries: [JournalEntry]) throws {
        let statement = RawStatement(try db.cachedStatement(sql: Self.sql[indices.count]), db: db)
        defer { statement.clearBindings() }
        // Entries are read in place through the buffer (an array subscript copies each one).
        try entries.withUnsafeBufferPointer { entries in
            var length = 0
            for index in indices {
                length += entries[index].stream.utf8.count + entries[index].payload.count
                    + entries[index].previousHash.count + entries[index].hash.count
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
            var parameter: Int32 = 1
            for index in indices {
                var stream = entries[index].stream
                try stream.withUTF8 { try statement.bindStaticText(stage(UnsafeRawBufferPointer($0)), at: parameter) }
                try statement.bind(entries[index].epoch, at: parameter + 1)
                try statement.bind(entries[index].sequence, at: parameter + 2)
                try statement.bind(Int64(entries[index].kind), at: parameter + 3)
                try entries[index].payload.withUnsafeBytes { try statement.bindStatic(stage($0), at: parameter + 4) }
                try entries[index].previousHash.withUnsafeBytes { try statement.bindStatic(stage($0), at: parameter + 5) }
                try entries[index].hash.withUnsafeBytes { try statement.bindStatic(stage($0), at: parameter + 6) }
                parameter += 7
            }
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
