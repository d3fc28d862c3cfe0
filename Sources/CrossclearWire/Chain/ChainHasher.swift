import Crypto

/// Computes and checks the hash chain of a venue's change stream:
/// `hash = SHA-256(previousHash || epoch || sequence || kind || payload)`, with `epoch` and
/// `sequence` as u64 big-endian, `kind` one byte and `payload` the change body's canonical bytes
/// (``WireEncoder/payload(of:)``). The first change of every epoch has sequence 1 and
/// `previousHash` = ``ChainHash/genesis``.
///
/// A value of this type is also the writer side: it holds the head of the stream and turns bodies
/// into the next changes (``append(_:)``).
public struct ChainHasher: Sendable {
    /// The epoch being written.
    public private(set) var epoch: UInt64
    /// The last sequence number written (0 before the first change of the epoch).
    public private(set) var lastSequence: UInt64
    /// The last hash written (genesis before the first change of the epoch).
    public private(set) var lastHash: ChainHash

    /// A writer at the start of `epoch`.
    public init(epoch: UInt64) {
        self.init(epoch: epoch, lastSequence: 0, lastHash: .genesis)
    }

    /// A writer resuming after the change (`epoch`, `lastSequence`) whose hash is `lastHash`
    /// (for example restored from a journal).
    public init(epoch: UInt64, lastSequence: UInt64, lastHash: ChainHash) {
        self.epoch = epoch
        self.lastSequence = lastSequence
        self.lastHash = lastHash
    }

    /// Chains `body` onto the head and returns the new change.
    ///
    /// - Throws: ``WireError`` when the body breaks a rule of the protocol (it could not be sent),
    ///   or the sequence number would pass 2^63 - 1; the head does not move then.
    public mutating func append(_ body: ChangeBody) throws(WireError) -> Change {
        let sequence = lastSequence &+ 1  // wraps to 0 (rejected below) instead of trapping
        guard PositionRule.positive.admits(sequence) else {
            throw .valueOutOfRange(
                WireLocation(messageType: nil, field: "Change.sequence", item: nil, offset: 0), value: Int128(sequence),
                allowed: PositionRule.positive.allowed)
        }
        let hash = try Self.hash(previousHash: lastHash, epoch: epoch, sequence: sequence, body: body)
        let change = Change(epoch: epoch, sequence: sequence, previousHash: lastHash, hash: hash, body: body)
        lastSequence = sequence
        lastHash = hash
        return change
    }

    /// Moves to a larger epoch: the next change is sequence 1 on the genesis hash.
    ///
    /// - Returns: false (and changes nothing) when `newEpoch` is not larger than ``epoch``.
    @discardableResult
    public mutating func startEpoch(_ newEpoch: UInt64) -> Bool {
        guard newEpoch > epoch else { return false }
        self = ChainHasher(epoch: newEpoch)
        return true
    }

    /// The hash of a change with this content.
    ///
    /// - Throws: ``WireError`` when the body cannot be encoded (it breaks a rule of the protocol).
    public static func hash(previousHash: ChainHash, epoch: UInt64, sequence: UInt64, body: ChangeBody) throws(WireError) -> ChainHash {
        let length = 49 + MessageWriter.payloadLength(of: body)
        // previousHash || epoch || sequence || kind || payload, in scratch memory (on the stack
        // when small).
        let result = withUnsafeTemporaryAllocation(byteCount: length, alignment: 8) { raw in
            Result { () throws(WireError) -> ChainHash in
                var writer = RawWriter(raw: raw, base: -49, type: nil)
                writer.hash(previousHash)
                writer.u64(epoch)
                writer.u64(sequence)
                writer.u8(body.kind)
                try MessageWriter.writePayload(body, &writer)
                precondition(writer.position == length, "payload length mismatch")
                var hasher = SHA256()
                hasher.update(bufferPointer: UnsafeRawBufferPointer(raw))
                return hasher.finalize().withUnsafeBytes { ChainHash(raw: $0, offset: 0) }
            }
        }
        return try result.get()
    }

    /// Whether `change.hash` is the hash of its content (false when the body cannot be encoded).
    public static func isValid(_ change: Change) -> Bool {
        guard let hash = try? hash(previousHash: change.previousHash, epoch: change.epoch, sequence: change.sequence, body: change.body)
        else { return false }
        return hash == change.hash
    }

    /// Checks that `changes` form one valid chain: each hash is valid, sequence numbers are
    /// consecutive in one epoch, and each change chains onto the previous one (the first onto
    /// genesis when its sequence is 1).
    ///
    /// - Returns: the index of the first change that breaks the chain, or nil when all are fine.
    public static func firstBreak(in changes: [Change]) -> Int? {
        for (index, change) in changes.enumerated() {
            guard isValid(change) else { return index }
            if change.sequence == 1 && !change.previousHash.isGenesis { return index }
            if index > 0 {
                let previous = changes[index - 1]
                guard change.epoch == previous.epoch, change.sequence == previous.sequence + 1,
                    change.previousHash == previous.hash
                else { return index }
            }
        }
        return nil
    }
}
