/// A consumer's state for a stream, as of a position in it: replay starts after `position`.
public struct Snapshot: Sendable, Hashable {
    /// The stream.
    public var stream: String
    /// The epoch of the last entry the snapshot includes.
    public var epoch: Int64
    /// The sequence of the last entry the snapshot includes.
    public var sequence: Int64
    /// The consumer's state digest at that position (to check replay determinism).
    public var digest: UInt64
    /// The encoded state.
    public var payload: [UInt8]

    /// Creates a snapshot value.
    public init(stream: String, epoch: Int64, sequence: Int64, digest: UInt64, payload: [UInt8]) {
        self.stream = stream
        self.epoch = epoch
        self.sequence = sequence
        self.digest = digest
        self.payload = payload
    }

    /// The position of the last entry the snapshot includes.
    public var position: JournalPosition { JournalPosition(epoch: epoch, sequence: sequence) }
}

extension Journal {
    /// Durably saves a snapshot of `stream` as of (`epoch`, `sequence`).
    ///
    /// The position must be one the stream has reached (at or before its head). Saving the same
    /// position again with the same digest is a no-op (the first payload is kept); with a different
    /// digest it throws `.snapshotConflict` (replay was not deterministic).
    public func saveSnapshot(stream: String, epoch: Int64, sequence: Int64, digest: UInt64, payload: [UInt8]) throws {
        try writing("saveSnapshot") { db in
            try JournalTransaction(db: db, path: path).saveSnapshot(
                stream: stream, epoch: epoch, sequence: sequence, digest: digest, payload: payload)
        }
    }

    /// The stream's snapshot with the greatest position, if any.
    public func latestSnapshot(stream: String) throws -> Snapshot? {
        try reading("latestSnapshot") { db in try JournalTransaction(db: db, path: path).latestSnapshot(stream: stream) }
    }

    /// Deletes the stream's entries at or before `position`, never past its latest snapshot, in
    /// one transaction; returns how many entries were deleted (0 without a snapshot).
    ///
    /// Snapshots older than the compaction point are deleted too (replay from them would need the
    /// deleted entries). The stream's head is kept, and a later offer of a compacted position is
    /// answered `.compacted`.
    @discardableResult
    public func compact(stream: String, through position: JournalPosition) throws -> Int {
        try writing("compact") { db in try JournalTransaction(db: db, path: path).compact(stream: stream, through: position) }
    }
}

extension JournalTransaction {
    /// Deletes the stream's snapshots before `position` (the stream's entries stay); returns how
    /// many were deleted. For a consumer that replays from its latest snapshot only.
    @discardableResult
    public func deleteSnapshots(stream: String, before position: JournalPosition) throws -> Int {
        let delete = try db.cachedStatement(sql: "DELETE FROM snapshot WHERE stream = ? AND (epoch, sequence) < (?, ?)")
        try delete.execute(arguments: [stream, position.epoch, position.sequence])
        return db.changesCount
    }
}
