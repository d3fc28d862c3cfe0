import GRDB
import GRDBSQLite

/// The journal's hot paths (appending and reading entries) drive a cached GRDB `Statement`
/// through the SQLite C API: values are bound straight from the entry's storage, with no
/// `StatementArguments` (an array of `DatabaseValue`s, a `Data` copy per blob) per row, and blobs
/// are read in place.
///
/// Valid only on the connection's queue, inside the GRDB access that made the statement; every
/// failure is thrown as GRDB's `DatabaseError` (so `StoreError.wrapping` classifies it as for any
/// other statement). Bindings made with `bindStatic` point into caller memory that lives only
/// while the caller's closure runs: `clearBindings()` before the statement goes back to the cache.
struct RawStatement {
    let statement: Statement
    let db: Database

    init(_ statement: Statement, db: Database) {
        self.statement = statement
        self.db = db
    }

    private var handle: SQLiteStatement { statement.sqliteStatement }

    /// Drops every binding (the statement no longer points into caller memory).
    func clearBindings() {
        _ = sqlite3_reset(handle)
        _ = sqlite3_clear_bindings(handle)
    }

    // MARK: - Binding (1-based indices)

    func bind(_ value: Int64, at index: Int32) throws {
        try check(sqlite3_bind_int64(handle, index, value))
    }

    /// Binds text copied by SQLite (the binding outlives the caller's string).
    func bindCopy(_ text: String, at index: Int32) throws {
        let code = text.withCString { sqlite3_bind_text(handle, index, $0, -1, sqliteTransient) }
        try check(code)
    }

    /// Binds a blob without copying it: `bytes` must stay valid until the statement is stepped
    /// and then re-bound or cleared.
    func bindStatic(_ bytes: UnsafeRawBufferPointer, at index: Int32) throws {
        let code: Int32 =
            if let base = bytes.baseAddress, bytes.count > 0 {
                sqlite3_bind_blob(handle, index, base, Int32(bytes.count), sqliteStatic)
            } else {
                // A nil pointer would bind NULL: an empty blob is a zero-length blob.
                sqlite3_bind_zeroblob(handle, index, 0)
            }
        try check(code)
    }

    // MARK: - Stepping

    /// Steps a statement that returns no row.
    func execute() throws {
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else { throw failure(code) }
    }

    /// Steps to the next row: true on a row, false when done.
    func next() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw failure(code)
        }
    }

    // MARK: - Columns (0-based indices, of the current row)

    func int64(at column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    /// The blob at `column` in place (empty for a zero-length blob): valid until the statement
    /// is stepped, reset or cleared.
    func blob(at column: Int32) -> UnsafeRawBufferPointer {
        // sqlite3_column_blob before sqlite3_column_bytes, as SQLite documents.
        guard let base = sqlite3_column_blob(handle, column) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base, count: Int(sqlite3_column_bytes(handle, column)))
    }

    // MARK: - Errors

    private func check(_ code: Int32) throws {
        guard code == SQLITE_OK else { throw failure(code) }
    }

    private func failure(_ code: Int32) -> DatabaseError {
        let message = sqlite3_errmsg(db.sqliteConnection).map { String(cString: $0) }
        // A failed statement must be reset before reuse; its error is the one being thrown.
        _ = sqlite3_reset(handle)
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: String(cString: sqlite3_sql(handle)))
    }
}

/// SQLite's destructor markers: STATIC (the caller keeps the bytes alive), TRANSIENT (SQLite copies).
private let sqliteStatic = unsafeBitCast(0, to: sqlite3_destructor_type.self)
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
