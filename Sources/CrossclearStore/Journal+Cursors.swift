extension Journal {
    /// Durably sets the cursor `name` to `value`, in its own transaction. To set it atomically
    /// with an append, use `append(_:settingCursors:)` or `transaction(_:)`.
    public func setCursor(_ name: String, _ value: Int64) throws {
        try writing("setCursor") { db in try JournalTransaction(db: db, path: path).setCursor(name, value) }
    }

    /// The cursor's value, or nil if it was never set.
    public func cursor(_ name: String) throws -> Int64? {
        try reading("cursor") { db in try JournalTransaction(db: db, path: path).cursor(name) }
    }
}
