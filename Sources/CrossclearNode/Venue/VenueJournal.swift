import Crypto
import CrossclearStore
import CrossclearWire
import NIOCore

/// A venue node's durable record, in its own SQLite journal:
/// - `changes`: the margin-state changes it published, hash-chained exactly as on the wire (the
///   stream the link sends from, and resends after a reconnect);
/// - `instructions`: every clearing instruction it applied, with the step it was applied after;
/// - the cursor `step`: the last step whose changes are journaled (set in the same transaction).
///
/// Together they are the machine's inputs in order, so ``restore(_:)`` rebuilds the machine to
/// the state it had when it last journaled, and checks the rebuilt change chain against the
/// journaled one (a mismatch fails closed).
public struct VenueJournal: Sendable {
    /// The stream of published changes.
    public static let changesStream = "changes"
    static let instructionsStream = "instructions"
    static let stepCursor = "step"
    static let instructionKind: Int32 = 1

    /// The journal itself.
    public let journal: Journal
    /// The epoch of the change stream (one per venue state; a venue that lost its state would
    /// start a new one).
    public let epoch: UInt64

    /// A venue journal over `journal`.
    public init(journal: Journal, epoch: UInt64 = 1) {
        self.journal = journal
        self.epoch = epoch
    }

    /// Rebuilds a freshly built `machine` from the journal: replays each journaled step with the
    /// instructions applied before it (the engine only: stepping is cheap), rebuilds what the venue
    /// published from the journaled changes (checking their hash chain), and then checks that the
    /// replayed venue has nothing left to publish: its state is exactly what the journal says it
    /// published. Returns the change-chain writer positioned at the journal's head.
    ///
    /// - Throws: ``VenueJournalError`` when the journal does not replay to itself (corruption or a
    ///   different cluster file), or a store error.
    public func restore(_ machine: inout VenueMachine) throws -> ChainHasher {
        guard let lastStep = try journal.cursor(Self.stepCursor).map(Int.init) else { return ChainHasher(epoch: epoch) }
        var pending = try instructions()[...]
        func applyInstructions(through step: Int) throws {
            while let next = pending.first, next.step <= step {
                try machine.apply(next.instruction)
                pending.removeFirst()
            }
        }
        for step in stride(from: 1, through: lastStep, by: 1) {
            try applyInstructions(through: step - 1)
            machine.advance()
        }
        try applyInstructions(through: lastStep)

        var published = MarginBook()
        var hasher = ChainHasher(epoch: epoch)
        while true {
            let batch = try changes(after: hasher.lastSequence, limit: 16_384)
            guard !batch.isEmpty else { break }
            for change in batch {
                guard change.sequence == hasher.lastSequence + 1, change.previousHash == hasher.lastHash, ChainHasher.isValid(change) else {
                    throw VenueJournalError.brokenChain(sequence: change.sequence)
                }
                try published.apply(change.body)
                hasher = ChainHasher(epoch: epoch, lastSequence: change.sequence, lastHash: change.hash)
            }
        }
        machine.adopt(published: published)
        let unpublished = machine.changes()
        guard unpublished.isEmpty else {
            throw VenueJournalError.replayDiverged(step: lastStep, unpublished: unpublished.count - 1)
        }
        return hasher
    }

    /// Journals the changes of `step` (chained by `hasher`) and the step cursor in one transaction,
    /// and returns the changes to send.
    public func record(step: Int, bodies: [ChangeBody], hasher: inout ChainHasher) throws -> [Change] {
        var next = hasher
        let changes = try bodies.map { body throws(WireError) in try next.append(body) }
        let entries = try changeEntries(changes)
        let outcomes = try journal.append(entries, settingCursors: [Self.stepCursor: Int64(step)])
        if let refused = outcomes.firstIndex(where: { $0 != .appended }) {
            throw VenueJournalError.refused(sequence: changes[refused].sequence, outcome: "\(outcomes[refused])")
        }
        hasher = next
        return changes
    }

    /// Journals instructions applied after `step` (before the next step) together with the changes
    /// they made to what the venue publishes (chained by `hasher`), in one transaction: a restart
    /// never finds an applied instruction whose effect was not published. Returns the changes to send.
    public func record(instructions: [Instruction], afterStep step: Int, changes bodies: [ChangeBody], hasher: inout ChainHasher) throws -> [Change] {
        guard !instructions.isEmpty else { return [] }
        var next = hasher
        let changes = try bodies.map { body throws(WireError) in try next.append(body) }
        let entries = try instructionEntries(instructions, afterStep: step) + changeEntries(changes)
        let outcomes = try journal.append(entries)
        if let refused = outcomes.indices.first(where: { outcomes[$0] != .appended && !(outcomes[$0] == .duplicate && $0 < instructions.count) }) {
            throw VenueJournalError.refused(sequence: UInt64(entries[refused].sequence), outcome: "\(outcomes[refused])")
        }
        hasher = next
        return changes
    }

    private func changeEntries(_ changes: [Change]) throws -> [JournalEntry] {
        try changes.map { change in
            JournalEntry(stream: Self.changesStream, epoch: Int64(change.epoch), sequence: Int64(change.sequence),
                         kind: Int32(change.body.kind), payload: try WireEncoder.payload(of: change.body),
                         previousHash: change.previousHash.bytes, hash: change.hash.bytes)
        }
    }

    private func instructionEntries(_ instructions: [Instruction], afterStep step: Int) throws -> [JournalEntry] {
        var previous = try journal.last(stream: Self.instructionsStream)?.hash ?? JournalEntry.genesisHash
        let encoder = WireEncoder()
        let entries = try instructions.map { instruction in
            var buffer = ByteBuffer()
            buffer.writeInteger(UInt64(step))
            try encoder.encode(.instructionBatch(InstructionBatch(instructions: [instruction])), into: &buffer)
            let payload = Array(buffer.readableBytesView)
            let hash = Array(SHA256.hash(data: previous + payload))
            defer { previous = hash }
            return JournalEntry(stream: Self.instructionsStream, epoch: 0, sequence: Int64(instruction.id),
                                kind: Self.instructionKind, payload: payload, previousHash: previous, hash: hash)
        }
        return entries
    }

    /// The journaled changes after `sequence`, in order (what the link resends).
    public func changes(after sequence: UInt64, limit: Int) throws -> [Change] {
        try journal.entries(stream: Self.changesStream, after: JournalPosition(epoch: Int64(epoch), sequence: Int64(sequence)), limit: limit)
            .map { entry in
                Change(epoch: UInt64(entry.epoch), sequence: UInt64(entry.sequence),
                       previousHash: try ChainHash(bytes: entry.previousHash), hash: try ChainHash(bytes: entry.hash),
                       body: try WireDecoder.changeBody(kind: UInt8(entry.kind), payload: entry.payload))
            }
    }

    /// Every journaled instruction with the step it was applied after, in id order.
    func instructions() throws -> [(step: Int, instruction: Instruction)] {
        let decoder = WireDecoder()
        return try journal.entries(stream: Self.instructionsStream, after: nil, limit: Int.max).map { entry in
            var buffer = ByteBuffer(bytes: entry.payload)
            guard let step = buffer.readInteger(as: UInt64.self),
                  case .instructionBatch(let batch) = try decoder.decodeFrame(from: &buffer), let instruction = batch.instructions.first
            else { throw VenueJournalError.unreadableInstruction(sequence: entry.sequence) }
            return (Int(step), instruction)
        }
    }
}

/// Why a venue journal cannot be used.
public enum VenueJournalError: Error, Sendable, Hashable, CustomStringConvertible {
    case replayDiverged(step: Int, unpublished: Int)
    case brokenChain(sequence: UInt64)
    case refused(sequence: UInt64, outcome: String)
    case unreadableInstruction(sequence: Int64)

    public var description: String {
        switch self {
        case .replayDiverged(let step, let unpublished):
            "replaying the journal to step \(step) gives a venue that differs from what the journal says it published "
                + "(\(unpublished) accounts or marks differ: a different cluster file or scenario, or a damaged journal): refusing to start"
        case .brokenChain(let sequence):
            "the journaled change \(sequence) does not chain onto the one before it (a damaged journal): refusing to start"
        case .refused(let sequence, let outcome):
            "the journal refused entry \(sequence): \(outcome)"
        case .unreadableInstruction(let sequence):
            "journaled instruction \(sequence) cannot be decoded"
        }
    }
}
