/// Clearing to venue: "send me the margin book you have published" (anti-entropy repair, after a
/// reported digest did not match the clearing node's view).
///
/// The venue answers with one or more ``SnapshotPart`` frames carrying the same ``snapshotId``.
public struct SnapshotRequest: Sendable, Hashable {
    /// Names the answer (1 ... 2^63 - 1); the clearing node never has two requests of one venue
    /// outstanding.
    public var snapshotId: UInt64
    /// Why, for logs (at most 1,024 UTF-8 bytes, no control characters).
    public var reason: String

    /// Creates a snapshot request.
    public init(snapshotId: UInt64, reason: String) {
        self.snapshotId = snapshotId
        self.reason = reason
    }
}

/// Venue to clearing: one frame of the venue's published margin book at an exact point of its
/// change stream: every change of ``epoch`` up to ``throughSequence`` applied, none after.
///
/// A snapshot is ``partCount`` frames sent in order (``part`` 0, 1, ...), each repeating the
/// header (id, epoch, throughSequence, digest, partCount). Accounts are strictly ascending by
/// account number and marks by asset, within a part and across the parts; ``digest`` is the
/// digest of the whole book (the receiver recomputes it from the assembled parts).
public struct SnapshotPart: Sendable, Hashable {
    /// The ``SnapshotRequest/snapshotId`` this answers (1 ... 2^63 - 1).
    public var snapshotId: UInt64
    /// The venue's epoch (0 ... 2^63 - 1).
    public var epoch: UInt64
    /// The last change of ``epoch`` the book includes (0: none).
    public var throughSequence: UInt64
    /// The digest of the whole book (opaque here; the node's `MarginBook.digest()`).
    public var digest: UInt64
    /// This frame's index, 0 ... ``partCount`` - 1.
    public var part: UInt32
    /// How many frames the snapshot has, 1 ... 65,536.
    public var partCount: UInt32
    /// Full account states, strictly ascending by account, 0 to 65,536 in one part.
    public var accounts: [AccountState]
    /// Prices, strictly ascending by asset, 0 to 4,096 in one part.
    public var marks: [MarkState]

    /// Creates a snapshot part.
    public init(
        snapshotId: UInt64, epoch: UInt64, throughSequence: UInt64, digest: UInt64, part: UInt32, partCount: UInt32,
        accounts: [AccountState], marks: [MarkState]
    ) {
        self.snapshotId = snapshotId
        self.epoch = epoch
        self.throughSequence = throughSequence
        self.digest = digest
        self.part = part
        self.partCount = partCount
        self.accounts = accounts
        self.marks = marks
    }
}
