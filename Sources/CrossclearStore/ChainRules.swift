/// The rules that decide what happens to an entry offered to a stream: pure functions of the
/// entry, the stream's state and a lookup of journaled hashes (see Docs/store.md, "Chain rules").
enum ChainRules {
    /// What the journal knows about a stream before judging an entry.
    struct StreamState: Sendable, Equatable {
        /// The last entry appended.
        var head: StreamHead
        /// The last position deleted by compaction, if any.
        var compactedThrough: JournalPosition?
    }

    /// Why `entry` breaks the format, or nil if it is well formed.
    static func formatProblem(_ entry: JournalEntry) -> String? {
        if entry.stream.isEmpty { return "empty stream name" }
        if entry.epoch < 0 { return "epoch \(entry.epoch) < 0" }
        if entry.sequence < 1 { return "sequence \(entry.sequence) < 1" }
        if entry.hash.count != JournalEntry.hashLength {
            return "hash has \(entry.hash.count) bytes, expected \(JournalEntry.hashLength)"
        }
        if entry.previousHash.count != JournalEntry.hashLength {
            return "previousHash has \(entry.previousHash.count) bytes, expected \(JournalEntry.hashLength)"
        }
        return nil
    }

    /// Judges a well-formed `entry` against its stream's `state` (nil for a stream never seen).
    ///
    /// - Parameter existingHash: the hash journaled at a position before the head, if any.
    static func judge(
        _ entry: JournalEntry,
        state: StreamState?,
        existingHash: (JournalPosition) throws -> [UInt8]?
    ) rethrows -> AppendOutcome {
        guard let state else {
            // A new stream starts at sequence 1 (in any epoch) and chains onto the genesis hash.
            guard entry.sequence == 1 else { return .gap(expected: 1) }
            guard entry.previousHash == JournalEntry.genesisHash else {
                return .fork(existingHash: JournalEntry.genesisHash)
            }
            return .appended
        }
        let head = state.head
        let position = entry.position
        if position == head.position {
            return entry.hash == head.hash ? .duplicate : .fork(existingHash: head.hash)
        }
        if position < head.position {
            if let compacted = state.compactedThrough, position <= compacted { return .compacted }
            if let existing = try existingHash(position) {
                return existing == entry.hash ? .duplicate : .fork(existingHash: existing)
            }
            // Entries of one epoch are contiguous from 1 and only compaction deletes them, so a
            // missing earlier position lies past the end of an older epoch.
            return .staleEpoch
        }
        // Ahead of the head: the next sequence of the head's epoch, or 1 in a larger epoch.
        let expected = entry.epoch == head.epoch ? head.sequence + 1 : 1
        guard entry.sequence == expected else { return .gap(expected: expected) }
        guard entry.previousHash == head.hash else { return .fork(existingHash: head.hash) }
        return .appended
    }
}
