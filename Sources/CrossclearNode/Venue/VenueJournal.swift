import Crypto
import CrossclearEngine
import CrossclearSimulation
import CrossclearStore
import CrossclearWire
import NIOCore

/// A venue node's durable record, in its own SQLite journal:
/// - `changes`: the margin-state changes it published, hash-chained exactly as on the wire (the
///   stream the link sends from, and resends after a reconnect);
/// - `instructions`: every clearing instruction it applied, with the step it was applied after;
/// - the cursor `step`: the last step whose changes are journaled (set in the same transaction);
/// - at step 0 and every ``snapshotInterval`` steps, a snapshot of the whole machine
///   (``VenueMachine/snapshot()``) at the position of that step's last change, in the same
///   transaction (older ones are deleted).
///
/// Together they are the machine's inputs in order, so ``restore(scenario:venue:design:)`` rebuilds
/// the machine to the state it had when it last journaled (from its latest snapshot, replaying only
/// the steps after it), and checks the rebuilt change chain against the journaled one (a mismatch
/// fails closed).
public struct VenueJournal: Sendable {
    /// The stream of published changes.
    public static let changesStream = "changes"
    static let instructionsStream = "instructions"
    static let stepCursor = "step"
    static let instructionKind: Int32 = 1
    /// Steps between snapshots of the machine unless told otherwise.
    public static let defaultSnapshotInterval = 32

    /// The journal itself.
    public let journal: Journal
    /// The epoch of the change stream (one per venue state; a venue that lost its state would
    /// start a new one).
    public let epoch: UInt64
    /// A snapshot of the machine is journaled with step 0 and every step that is a multiple of this (0: never).
    public let snapshotInterval: Int

    /// A venue journal over `journal`.
    public init(journal: Journal, epoch: UInt64 = 1, snapshotInterval: Int = VenueJournal.defaultSnapshotInterval) {
        precondition(snapshotInterval >= 0, "a snapshot interval is not negative")
        self.journal = journal
        self.epoch = epoch
        self.snapshotInterval = snapshotInterval
    }

    /// A machine rebuilt from the journal, and how.
    public struct Restored: Sendable {
        /// The machine, in the state it had when it last journaled.
        public var machine: VenueMachine
        /// The change-chain writer, positioned at the journal's head.
        public var hasher: ChainHasher
        /// The step of the snapshot the machine was taken up from (nil: built from the scenario).
        public var snapshotStep: Int?
        /// Why a snapshot was there but not taken up (the machine was then built and replayed from the start).
        public var snapshotRefused: String?
        /// Steps replayed after the snapshot (or from the start).
        public var replayedSteps: Int
        /// Time to build the machine: from the scenario, or from the snapshot (read, checked, decoded).
        public var build: Duration
        /// Time to replay the journal into it and check the result against the journal's changes.
        public var replay: Duration
    }

    /// Rebuilds the machine of `scenario`'s `venue` under `design` from the journal: takes up the
    /// latest snapshot when there is one taken by a machine built from the same inputs (otherwise
    /// builds the machine from the scenario), replays the journaled steps after it with the
    /// instructions applied between them, and checks the result against the journaled changes
    /// (see ``restore(_:)``).
    ///
    /// - Throws: ``VenueJournalError`` when the journal or its snapshot does not replay to itself
    ///   (corruption or a different cluster file), ``VenueMachineError`` for an unknown venue, or a
    ///   store error.
    public func restore(scenario: Scenario, venue: String, design: ClearingDesign) throws -> Restored {
        let clock = ContinuousClock()
        let start = clock.now
        var refused: String?
        if try journal.cursor(Self.stepCursor) != nil, let snapshot = try journal.latestSnapshot(stream: Self.changesStream) {
            do {
                var machine = try VenueMachine(scenario: scenario, venue: venue, design: design, snapshot: snapshot.payload)
                let built = clock.now
                guard snapshot.epoch == Int64(epoch), machine.engineDigest == snapshot.digest else {
                    throw VenueJournalError.damagedSnapshot(sequence: UInt64(snapshot.sequence), reason: "its state does not have the digest it was saved with")
                }
                let snapshotStep = machine.step
                let hasher = try replay(into: &machine, from: snapshot)
                return Restored(machine: machine, hasher: hasher, snapshotStep: snapshotStep, replayedSteps: machine.step - snapshotStep,
                                build: built - start, replay: clock.now - built)
            } catch VenueSnapshotError.otherOrigin(let why) {
                refused = why
            } catch VenueSnapshotError.damaged(let why) {
                throw VenueJournalError.damagedSnapshot(sequence: UInt64(snapshot.sequence), reason: why)
            }
        }
        var machine = try VenueMachine(scenario: scenario, venue: venue, design: design)
        let built = clock.now
        let hasher = try restore(&machine)
        return Restored(machine: machine, hasher: hasher, snapshotStep: nil, snapshotRefused: refused, replayedSteps: machine.step,
                        build: built - start, replay: clock.now - built)
    }

    /// Rebuilds a freshly built `machine` from the journal, from the start: replays each journaled
    /// step with the instructions applied before it (the engine only: stepping is cheap), rebuilds
    /// what the venue published from the journaled changes (checking their hash chain), and then
    /// checks that the replayed venue has nothing left to publish: its state is exactly what the
    /// journal says it published. Returns the change-chain writer positioned at the journal's head.
    ///
    /// - Throws: ``VenueJournalError`` when the journal does not replay to itself (corruption or a
    ///   different cluster file), or a store error.
    public func restore(_ machine: inout VenueMachine) throws -> ChainHasher {
        precondition(machine.step == 0 && machine.lastInstruction == 0, "restore(_:) takes a machine built from the scenario")
        return try replay(into: &machine, from: nil)
    }

    /// Replays the journal after `snapshot` (from the start without one) into `machine`, which is
    /// in the snapshot's state: the steps after its step, each after the instructions journaled
    /// before it; then rebuilds what the venue published from the changes after the snapshot's
    /// position (checking their hash chain from the snapshot's own change on) and checks that the
    /// machine has nothing left to publish.
    private func replay(into machine: inout VenueMachine, from snapshot: Snapshot?) throws -> ChainHasher {
        guard let lastStep = try journal.cursor(Self.stepCursor).map(Int.init) else { return ChainHasher(epoch: epoch) }
        var pending = try instructions(after: machine.lastInstruction)[...]
        if let snapshot {
            // Journaled with a step, the snapshot holds every instruction applied before that step.
            guard machine.step <= lastStep, (pending.first?.step ?? machine.step) >= machine.step else {
                throw VenueJournalError.damagedSnapshot(
                    sequence: UInt64(snapshot.sequence), reason: "it does not fit the journal's steps and instructions")
            }
        }
        func applyInstructions(through step: Int) throws {
            while let next = pending.first, next.step <= step {
                try machine.apply(next.instruction)
                pending.removeFirst()
            }
        }
        for step in stride(from: machine.step + 1, through: lastStep, by: 1) {
            try applyInstructions(through: step - 1)
            machine.advance()
        }
        try applyInstructions(through: lastStep)

        var published: MarginBook
        var hasher: ChainHasher
        if let snapshot {
            // The snapshot was journaled with the change it stands at: its step's (or batch's) last,
            // the digest of what had been published, which must be the snapshot's own book.
            let sequence = UInt64(snapshot.sequence)
            guard let change = try changes(after: sequence - 1, limit: 1).first, change.sequence == sequence, ChainHasher.isValid(change),
                  case .digest(let digest) = change.body, digest == machine.published.digest()
            else { throw VenueJournalError.damagedSnapshot(sequence: sequence, reason: "it does not match the change journaled at its position") }
            published = machine.published
            hasher = ChainHasher(epoch: epoch, lastSequence: change.sequence, lastHash: change.hash)
        } else {
            published = MarginBook()
            hasher = ChainHasher(epoch: epoch)
        }
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
    /// and returns the changes to send. When `machine` is given (in the state right after it
    /// produced `bodies`) and `step` is a multiple of ``snapshotInterval``, a snapshot of it is
    /// journaled in the same transaction, at the position of the step's last change, and older
    /// snapshots are deleted.
    public func record(step: Int, bodies: [ChangeBody], hasher: inout ChainHasher, snapshotOf machine: VenueMachine? = nil) throws -> [Change] {
        var next = hasher
        let changes = try bodies.map { body throws(WireError) in try next.append(body) }
        let entries = try changeEntries(changes)
        var snapshot: (payload: [UInt8], digest: UInt64)?
        if let machine, isSnapshotStep(step), !changes.isEmpty {
            precondition(machine.step == step, "the snapshot is of the machine at the step journaled")
            snapshot = (machine.snapshot(), machine.engineDigest)
        }
        let epoch = Int64(epoch)
        try journal.transaction { transaction in
            let outcomes = try transaction.append(entries)
            if let refused = outcomes.firstIndex(where: { $0 != .appended }) {
                throw VenueJournalError.refused(sequence: changes[refused].sequence, outcome: "\(outcomes[refused])")
            }
            try transaction.setCursor(Self.stepCursor, Int64(step))
            if let snapshot, let last = changes.last {
                let position = JournalPosition(epoch: epoch, sequence: Int64(last.sequence))
                try transaction.saveSnapshot(stream: Self.changesStream, epoch: position.epoch, sequence: position.sequence,
                                             digest: snapshot.digest, payload: snapshot.payload)
                try transaction.deleteSnapshots(stream: Self.changesStream, before: position)
            }
        }
        hasher = next
        return changes
    }

    /// Whether a snapshot is journaled with `step`.
    public func isSnapshotStep(_ step: Int) -> Bool {
        snapshotInterval > 0 && step % snapshotInterval == 0
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

    /// Every journaled instruction after id `after`, with the step it was applied after, in id order.
    func instructions(after: UInt64 = 0) throws -> [(step: Int, instruction: Instruction)] {
        let decoder = WireDecoder()
        let position = after == 0 ? nil : JournalPosition(epoch: 0, sequence: Int64(after))
        return try journal.entries(stream: Self.instructionsStream, after: position, limit: Int.max).map { entry in
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
    /// The replayed machine differs from what the journal says it published.
    case replayDiverged(step: Int, unpublished: Int)
    /// A journaled change does not chain onto the one before it.
    case brokenChain(sequence: UInt64)
    /// The journal refused an entry (a duplicate, a fork or a malformed entry).
    case refused(sequence: UInt64, outcome: String)
    /// A journaled instruction cannot be decoded.
    case unreadableInstruction(sequence: Int64)
    /// The latest snapshot of the machine does not check out against itself or the journal.
    case damagedSnapshot(sequence: UInt64, reason: String)

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
        case .damagedSnapshot(let sequence, let reason):
            "the journaled snapshot of the venue at change \(sequence) is damaged (\(reason)): refusing to start"
        }
    }
}
