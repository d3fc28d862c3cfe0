/// What to do with a change offered to a ``SequenceTracker``.
public enum ChangeVerdict: Sendable, Hashable {
    /// The next change of the stream: apply it (the tracker has advanced).
    case apply
    /// Already applied with the same hash: ignore it (it stays acknowledged).
    case duplicate
    /// Ahead of the stream: apply nothing and ask for a resend from `expected`.
    case gap(expected: UInt64)
    /// The venue's history differs from what was applied: at `sequence` this side holds
    /// `existingHash` (same position with another hash, or a change that does not chain onto it).
    /// Apply nothing more from the stream; ask the venue to restate in a larger epoch.
    case fork(sequence: UInt64, existingHash: ChainHash)
    /// From an epoch older than the stream's current `current`: a fenced writer; ignore it.
    case staleEpoch(current: UInt64)
    /// Already applied, but older than the hashes kept in memory (`oldestRetained` is the oldest
    /// sequence still compared): ignore it, or compare it with the journal.
    case beyondHistory(oldestRetained: UInt64)
}

/// The per-venue stream state of the receiving side: which (epoch, sequence) comes next and which
/// hash it must chain onto. A pure state machine; no I/O, no clock.
///
/// It trusts each change's own hash: the ``FrameDecoder`` verified it (by default), otherwise call
/// ``ChainHasher/isValid(_:)`` first. Rules (Docs/protocol.md, "Sequencing"):
/// - a change of an older epoch is ``ChangeVerdict/staleEpoch(current:)``;
/// - a change of a larger epoch starts that epoch when it is sequence 1 on the genesis hash, else
///   it is a gap (expected 1);
/// - in the current epoch, `lastSequence + 1` chaining onto ``lastHash`` is applied; chaining onto
///   anything else is a fork; beyond it is a gap; at or before `lastSequence` it is a duplicate when
///   the hash matches the one kept, a fork when not.
public struct SequenceTracker: Sendable {
    /// The stream's current epoch.
    public private(set) var epoch: UInt64
    /// The last sequence number applied in ``epoch`` (0 when none).
    public private(set) var lastSequence: UInt64
    /// The hash of that change (genesis when none).
    public private(set) var lastHash: ChainHash
    /// How many recent hashes are kept to judge repeats.
    public let historyLimit: Int
    // Ring of the last `historyLimit` hashes of the epoch, indexed by sequence % historyLimit.
    private var history: [ChainHash]

    /// A stream at the start of `epoch` with nothing applied.
    public init(epoch: UInt64 = 0, historyLimit: Int = 4_096) {
        self.init(epoch: epoch, lastSequence: 0, lastHash: .genesis, historyLimit: historyLimit)
    }

    /// A stream restored from a journal head: `lastSequence` of `epoch` was applied with `lastHash`.
    /// Only that one hash is known until more changes are applied.
    public init(epoch: UInt64, lastSequence: UInt64, lastHash: ChainHash, historyLimit: Int = 4_096) {
        self.epoch = epoch
        self.lastSequence = lastSequence
        self.lastHash = lastSequence == 0 ? .genesis : lastHash
        self.historyLimit = max(1, historyLimit)
        self.history = []
        self.retainedFrom = lastSequence
        if lastSequence > 0 { remember(lastSequence, self.lastHash) }
    }

    // The oldest sequence whose hash is in `history` (when lastSequence > 0).
    private var retainedFrom: UInt64

    /// Judges `change` and, when it is ``ChangeVerdict/apply``, advances the stream.
    public mutating func accept(_ change: Change) -> ChangeVerdict {
        if change.epoch < epoch { return .staleEpoch(current: epoch) }
        if change.epoch > epoch {
            guard change.sequence == 1 else { return .gap(expected: 1) }
            guard change.previousHash.isGenesis else { return .fork(sequence: 0, existingHash: .genesis) }
            startEpoch(change.epoch)
            advance(change)
            return .apply
        }
        if change.sequence == lastSequence &+ 1 {
            guard change.previousHash == lastHash else { return .fork(sequence: lastSequence, existingHash: lastHash) }
            advance(change)
            return .apply
        }
        if change.sequence > lastSequence { return .gap(expected: lastSequence &+ 1) }
        // At or before the head: a repeat, or a different history.
        guard let existing = hash(at: change.sequence) else { return .beyondHistory(oldestRetained: retainedFrom) }
        return existing == change.hash ? .duplicate : .fork(sequence: change.sequence, existingHash: existing)
    }

    /// Moves to a larger epoch with nothing applied (for example when a Hello announces it).
    ///
    /// - Returns: false (and changes nothing) when `newEpoch` is not larger than ``epoch``.
    @discardableResult
    public mutating func startEpoch(_ newEpoch: UInt64) -> Bool {
        guard newEpoch > epoch else { return false }
        epoch = newEpoch
        lastSequence = 0
        lastHash = .genesis
        history.removeAll(keepingCapacity: true)
        retainedFrom = 0
        return true
    }

    /// The hash applied at `sequence` of the current epoch, if it is still kept.
    public func hash(at sequence: UInt64) -> ChainHash? {
        guard sequence >= 1, sequence <= lastSequence, sequence >= retainedFrom, !history.isEmpty else { return nil }
        return history[slot(sequence)]
    }

    private func slot(_ sequence: UInt64) -> Int { Int(sequence % UInt64(historyLimit)) }

    private mutating func advance(_ change: Change) {
        lastSequence = change.sequence
        lastHash = change.hash
        remember(change.sequence, change.hash)
    }

    private mutating func remember(_ sequence: UInt64, _ hash: ChainHash) {
        if history.isEmpty {
            history = Array(repeating: .genesis, count: historyLimit)
            retainedFrom = sequence
        }
        history[slot(sequence)] = hash
        if sequence - retainedFrom >= UInt64(historyLimit) { retainedFrom = sequence - UInt64(historyLimit) + 1 }
    }
}
