import CrossclearWire

/// What a ``RetainedRun`` holds: elements numbered consecutively (1, 2, 3...) in one stream.
protocol Sequenced {
    /// The element's number in its stream.
    var sequenceNumber: UInt64 { get }
}

extension Change: Sequenced {
    var sequenceNumber: UInt64 { sequence }
}

extension Instruction: Sequenced {
    var sequenceNumber: UInt64 { id }
}

/// Elements journaled and not yet acknowledged, kept in memory so that they are sent without
/// reading the journal back: a venue link's published changes, the clearing server's outbox.
///
/// A copy of part of the journal, never more: one run of consecutive numbers (the newest at most
/// ``limit`` of those added), and the sender reads from the journal whatever the run does not hold
/// (after a restart, before the run's first element, or past a ``limit`` overflow). Only journaled
/// elements are added, so one sent from here is as durable as one read back from the journal.
struct RetainedRun<Element: Sequenced> {
    /// The most elements held; the oldest go first.
    let limit: Int
    /// The held elements are `elements[start...]`; the ones before `start` are dropped and freed
    /// when they are at least half of the array.
    private var elements: [Element] = []
    private var start = 0

    /// Holds nothing yet; a `limit` below 0 counts as 0.
    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// How many elements are held.
    var count: Int { elements.count - start }

    /// The numbers held, if any.
    var sequences: ClosedRange<UInt64>? {
        guard count > 0 else { return nil }
        return elements[start].sequenceNumber...elements[elements.count - 1].sequenceNumber
    }

    /// Adds newly journaled `added` (consecutive numbers, in order). They extend the run when they
    /// follow its last element; otherwise they replace it (what it held is in the journal).
    mutating func append(_ added: [Element]) {
        guard let first = added.first, limit > 0 else { return }
        if let held = sequences, first.sequenceNumber == held.upperBound + 1 {
            elements.append(contentsOf: added)
        } else {
            elements = added
            start = 0
        }
        if count > limit { start += count - limit }
        compact()
    }

    /// Forgets the elements up to `sequence` (acknowledged: never sent again without a request,
    /// and then read from the journal).
    mutating func drop(through sequence: UInt64) {
        guard let held = sequences, held.lowerBound <= sequence else { return }
        start += Int(min(sequence, held.upperBound) - held.lowerBound) + 1
        compact()
    }

    /// The held elements after `sequence`, at most `maximumCount`, in order; empty unless the
    /// element right after `sequence` is held.
    func elements(after sequence: UInt64, maximumCount: Int) -> [Element] {
        guard let held = sequences, held.contains(sequence + 1), maximumCount > 0 else { return [] }
        let from = start + Int(sequence + 1 - held.lowerBound)
        return Array(elements[from..<(from + min(maximumCount, elements.count - from))])
    }

    /// Frees the dropped elements once they are at least half of the array (amortized O(1)).
    private mutating func compact() {
        if start == elements.count {
            elements = []
            start = 0
        } else if start > 0, start >= elements.count / 2 {
            elements.removeFirst(start)
            start = 0
        }
    }
}
