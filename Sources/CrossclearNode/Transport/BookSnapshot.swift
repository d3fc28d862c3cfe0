import CrossclearWire

/// A venue's published margin book at an exact point of its change stream: every change of
/// ``epoch`` up to ``throughSequence`` applied, none after (anti-entropy repair; Docs/runtime.md).
public struct BookSnapshot: Sendable, Hashable {
    /// The venue's epoch.
    public var epoch: UInt64
    /// The last change of ``epoch`` the book includes (0: none).
    public var throughSequence: UInt64
    /// The book.
    public var book: MarginBook

    /// Creates a snapshot.
    public init(epoch: UInt64, throughSequence: UInt64, book: MarginBook) {
        self.epoch = epoch
        self.throughSequence = throughSequence
        self.book = book
    }

    /// The frames that carry this snapshot as the answer to request `snapshotId`, each fitting
    /// `maximumFrameLength`.
    func parts(snapshotId: UInt64, maximumFrameLength: Int) -> [SnapshotPart] {
        SnapshotPart.split(
            snapshotId: snapshotId, epoch: epoch, throughSequence: throughSequence, digest: book.digest(),
            accounts: book.accounts.compactMap { $0 }, marks: book.marks.compactMap { $0 }, maximumFrameLength: maximumFrameLength)
    }
}

/// A digest as 16 hex digits, for logs: `0x0123456789abcdef`.
func hexDigest(_ digest: UInt64) -> String {
    let digits = String(digest, radix: 16)
    return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}
