import CrossclearWire

/// The changes a venue published that its link has not yet seen acknowledged, kept in memory so
/// that the link sends them without reading its own journal back.
///
/// A copy of part of the journal, never more: one run of consecutive sequences (the newest at most
/// ``limit`` of those published), and the link reads from the journal whatever the run does not
/// hold (after a restart, before the run's first change, or past a ``limit`` overflow). The
/// application publishes only changes it has journaled, so a change sent from here is durable at
/// the venue exactly as one read back from the journal would be.
struct RetainedChanges {
    /// The most changes held; the oldest go first.
    let limit: Int
    /// The held changes are `changes[start...]`; the ones before `start` are dropped and freed
    /// when they are at least half of the array.
    private var changes: [Change] = []
    private var start = 0

    /// Holds nothing yet; a `limit` below 0 counts as 0.
    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// How many changes are held.
    var count: Int { changes.count - start }

    /// The sequences held, if any.
    var sequences: ClosedRange<UInt64>? {
        guard count > 0 else { return nil }
        return changes[start].sequence...changes[changes.count - 1].sequence
    }

    /// Adds newly published `published` (consecutive sequences, in order). They extend the run when
    /// they follow its last change; otherwise they replace it (what it held is in the journal).
    mutating func append(_ published: [Change]) {
        guard let first = published.first, limit > 0 else { return }
        if let held = sequences, first.sequence == held.upperBound + 1 {
            changes.append(contentsOf: published)
        } else {
            changes = published
            start = 0
        }
        if count > limit { start += count - limit }
        compact()
    }

    /// Forgets the changes up to `sequence` (acknowledged: never sent again without a request,
    /// and then read from the journal).
    mutating func drop(through sequence: UInt64) {
        guard let held = sequences, held.lowerBound <= sequence else { return }
        start += Int(min(sequence, held.upperBound) - held.lowerBound) + 1
        compact()
    }

    /// The held changes after `sequence`, at most `maximumCount`, in order; empty unless the
    /// change right after `sequence` is held.
    func changes(after sequence: UInt64, maximumCount: Int) -> [Change] {
        guard let held = sequences, held.contains(sequence + 1), maximumCount > 0 else { return [] }
        let from = start + Int(sequence + 1 - held.lowerBound)
        return Array(changes[from..<min(from + maximumCount, changes.count)])
    }

    /// Frees the dropped changes once they are at least half of the array (amortized O(1)).
    private mutating func compact() {
        if start == changes.count {
            changes = []
            start = 0
        } else if start > 0, start >= changes.count / 2 {
            changes.removeFirst(start)
            start = 0
        }
    }
}
