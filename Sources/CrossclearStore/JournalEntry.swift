/// A position in a stream: sequence numbers restart at 1 in every new epoch, so a position is the
/// pair, ordered by epoch first.
public struct JournalPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The writer's epoch (incremented each time the writer restarts without its full history).
    public var epoch: Int64
    /// The sequence number within the epoch, from 1.
    public var sequence: Int64

    /// Creates a position.
    public init(epoch: Int64, sequence: Int64) {
        self.epoch = epoch
        self.sequence = sequence
    }

    /// Orders by epoch, then sequence.
    public static func < (lhs: JournalPosition, rhs: JournalPosition) -> Bool {
        (lhs.epoch, lhs.sequence) < (rhs.epoch, rhs.sequence)
    }

    /// "epoch:sequence".
    public var description: String { "\(epoch):\(sequence)" }
}

/// One record of a hash-chained stream.
///
/// The caller computes `hash` (the store depends only on GRDB and never hashes); the journal
/// stores it and enforces the chain: see `AppendOutcome` and Docs/store.md.
public struct JournalEntry: Sendable, Hashable {
    /// The length of `hash` and `previousHash`, in bytes.
    public static let hashLength = 32
    /// The `previousHash` of the first entry of a stream: 32 zero bytes.
    public static let genesisHash = [UInt8](repeating: 0, count: hashLength)

    /// The stream's name (for example a venue id, or "venue-a/margin").
    public var stream: String
    /// The writer's epoch, `>= 0`.
    public var epoch: Int64
    /// The sequence number within the epoch, `>= 1`.
    public var sequence: Int64
    /// What the payload is, for the caller (the journal does not interpret it).
    public var kind: Int32
    /// The encoded event.
    public var payload: [UInt8]
    /// The `hash` of the stream's previous entry, or `genesisHash` for the first one.
    public var previousHash: [UInt8]
    /// This entry's hash (32 bytes), computed by the caller over its content and `previousHash`.
    public var hash: [UInt8]

    /// Creates an entry.
    public init(
        stream: String, epoch: Int64, sequence: Int64, kind: Int32, payload: [UInt8],
        previousHash: [UInt8], hash: [UInt8]
    ) {
        self.stream = stream
        self.epoch = epoch
        self.sequence = sequence
        self.kind = kind
        self.payload = payload
        self.previousHash = previousHash
        self.hash = hash
    }

    /// The entry's position in its stream.
    public var position: JournalPosition { JournalPosition(epoch: epoch, sequence: sequence) }
}

/// The last entry of a stream: what the next entry must chain onto.
public struct StreamHead: Sendable, Hashable {
    /// The last entry's epoch.
    public var epoch: Int64
    /// The last entry's sequence number.
    public var sequence: Int64
    /// The last entry's hash.
    public var hash: [UInt8]

    /// Creates a head.
    public init(epoch: Int64, sequence: Int64, hash: [UInt8]) {
        self.epoch = epoch
        self.sequence = sequence
        self.hash = hash
    }

    /// The head's position.
    public var position: JournalPosition { JournalPosition(epoch: epoch, sequence: sequence) }
}

/// What happened to one entry given to `append`. Rejections are values, not errors: the caller
/// answers the sender with them (acknowledge, ask for a resend, or force a resync).
public enum AppendOutcome: Sendable, Hashable {
    /// The entry extends its stream's chain and was written (durable once the call returns).
    case appended
    /// An entry with the same stream, epoch, sequence and hash is already journaled: nothing was
    /// written. Retries are therefore idempotent.
    case duplicate
    /// The entry is ahead of the stream: `expected` is the sequence number the stream needs next
    /// (in the entry's epoch). Nothing was written.
    case gap(expected: Int64)
    /// The entry contradicts the journal: either another entry with a different hash is journaled
    /// at its position, or its `previousHash` is not the hash of the stream's head. `existingHash`
    /// is the journal's hash at the point of divergence. Nothing was written; the stream needs a
    /// resync, never silent acceptance.
    case fork(existingHash: [UInt8])
    /// The entry belongs to an epoch older than the stream's current epoch (and is not a duplicate
    /// of an entry journaled in that epoch): its writer is a zombie and must be fenced.
    case staleEpoch
    /// The entry's position was compacted into a snapshot, so the journal can no longer tell a
    /// duplicate from a fork. Nothing was written.
    case compacted
    /// The entry breaks the format (hash not 32 bytes, epoch < 0, sequence < 1, empty stream name).
    /// Nothing was written.
    case malformed(reason: String)

    /// Whether the journal now holds this exact entry (`.appended` or `.duplicate`).
    public var isDurable: Bool {
        switch self {
        case .appended, .duplicate: true
        default: false
        }
    }
}
