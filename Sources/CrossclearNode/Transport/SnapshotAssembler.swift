import CrossclearWire

/// The clearing side's assembly of snapshot parts into a ``BookSnapshot``: a pure state machine, one
/// per connection (no I/O, no clock).
///
/// It accepts only the answer to the request outstanding on the connection, its parts in order
/// with one header, accounts and marks ascending across the parts, at most
/// `maximumBytes` of frames in all, and a book whose digest is the one stated. A refused
/// snapshot's remaining parts are dropped without further verdicts.
struct SnapshotAssembler {
    /// What became of one part.
    enum Verdict: Equatable {
        /// Taken; more parts are due.
        case incomplete
        /// The last part: the snapshot is whole and its digest checked.
        case complete(BookSnapshot, parts: Int)
        /// The snapshot `snapshotId` is refused (the rest of its parts will be ignored).
        case refused(snapshotId: UInt64, reason: String)
        /// A part of a snapshot refused earlier.
        case ignored
    }

    private struct Assembly {
        var first: SnapshotPart
        var nextPart: UInt32
        var book = MarginBook()
        var lastAccount: UInt32?
        var lastAsset: UInt16?
        var bytes = 0
    }

    /// The largest total of frame bytes one snapshot may take.
    let maximumBytes: Int
    private var assembly: Assembly?
    /// A refused snapshot whose later parts are dropped silently.
    private var discarding: UInt64?

    init(maximumBytes: Int) {
        self.maximumBytes = maximumBytes
    }

    /// Whether a snapshot is being received.
    var isReceiving: Bool { assembly != nil }

    /// Judges `part`, received on a connection of `epoch` whose outstanding request is `expected`
    /// (nil: none).
    mutating func accept(_ part: SnapshotPart, expected: UInt64?, epoch: UInt64) -> Verdict {
        if let discarding, part.snapshotId == discarding, assembly == nil {
            if part.part + 1 == part.partCount { self.discarding = nil }
            return .ignored
        }
        var current: Assembly
        if let assembly {
            current = assembly
            guard part.snapshotId == current.first.snapshotId else {
                return refuse(part, "a part of snapshot \(part.snapshotId) while snapshot \(current.first.snapshotId) is incomplete")
            }
            guard part.part == current.nextPart else {
                return refuse(part, "part \(part.part) where part \(current.nextPart) was due")
            }
            let first = current.first
            guard part.epoch == first.epoch, part.throughSequence == first.throughSequence, part.digest == first.digest,
                part.partCount == first.partCount
            else {
                return refuse(part, "part \(part.part) states another epoch, sequence, digest or part count than part 0")
            }
        } else {
            guard let expected, part.snapshotId == expected else {
                let wanted = expected.map { "snapshot \($0) is requested" } ?? "none is requested"
                return refuse(part, "unsolicited snapshot \(part.snapshotId) (\(wanted))")
            }
            guard part.part == 0 else { return refuse(part, "snapshot \(part.snapshotId) starts at part \(part.part)") }
            guard part.epoch == epoch else {
                return refuse(part, "snapshot of epoch \(part.epoch) on a connection of epoch \(epoch)")
            }
            current = Assembly(first: part, nextPart: 0)
        }
        current.bytes += WireEncoder.frameLength(of: .snapshotPart(part))
        guard current.bytes <= maximumBytes else {
            return refuse(part, "more than \(maximumBytes) bytes of frames")
        }
        if let account = part.accounts.first?.account, let last = current.lastAccount, account <= last {
            return refuse(part, "part \(part.part) starts at account \(account), not above account \(last) of the part before")
        }
        if let asset = part.marks.first?.asset, let last = current.lastAsset, asset <= last {
            return refuse(part, "part \(part.part) starts at asset \(asset), not above asset \(last) of the part before")
        }
        do {
            for account in part.accounts { try current.book.apply(.account(account)) }
            if !part.marks.isEmpty { try current.book.apply(.marks(part.marks)) }
        } catch {
            return refuse(part, "\(error)")
        }
        current.lastAccount = part.accounts.last?.account ?? current.lastAccount
        current.lastAsset = part.marks.last?.asset ?? current.lastAsset
        current.nextPart += 1
        guard current.nextPart == current.first.partCount else {
            assembly = current
            return .incomplete
        }
        assembly = nil
        let digest = current.book.digest()
        guard digest == current.first.digest else {
            return .refused(
                snapshotId: part.snapshotId,
                reason: "the book's digest is \(hexDigest(digest)), the snapshot states \(hexDigest(current.first.digest))")
        }
        let snapshot = BookSnapshot(epoch: current.first.epoch, throughSequence: current.first.throughSequence, book: current.book)
        return .complete(snapshot, parts: Int(current.first.partCount))
    }

    /// Abandons the snapshot in progress (the connection ended).
    mutating func reset() {
        assembly = nil
        discarding = nil
    }

    private mutating func refuse(_ part: SnapshotPart, _ reason: String) -> Verdict {
        // Drop what is left of the refused snapshot (and of one in progress) silently.
        let last = part.part + 1 == part.partCount
        discarding = last ? nil : part.snapshotId
        if let assembly, assembly.first.snapshotId != part.snapshotId {
            discarding = assembly.first.snapshotId
        }
        assembly = nil
        return .refused(snapshotId: part.snapshotId, reason: reason)
    }
}
