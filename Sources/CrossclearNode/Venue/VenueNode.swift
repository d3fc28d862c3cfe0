import CrossclearEngine
import CrossclearSimulation
import CrossclearStore
import CrossclearWire
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A venue node: its ``VenueMachine`` stepped on the cluster's clock, every step's changes journaled
/// before they are sent, and the clearing node's instructions applied once and journaled before
/// they are acknowledged. Runs until the scenario is over and then keeps serving instructions
/// until it is shut down (SIGTERM or SIGINT through the service group).
public final class VenueNode: Service, Sendable {
    /// Everything a venue node needs to start.
    public struct Settings: Sendable {
        public var cluster: ClusterFile
        public var venue: String
        /// Simulated seconds per real second; 0 runs the steps back to back.
        public var speed: Int64

        /// Settings at the cluster file's speed.
        public init(cluster: ClusterFile, venue: String, speed: Int64? = nil) {
            self.cluster = cluster
            self.venue = venue
            self.speed = speed ?? cluster.speed
        }
    }

    public let settings: Settings
    private let core: VenueCore
    private let link: VenueLink
    private let statusPath: String
    private let logger: Logger

    /// Opens (or creates) the venue's journal under the cluster's state directory, rebuilds the
    /// venue from it and prepares the link to the clearing node.
    public init(settings: Settings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        let identity = try NodeIdentity.venue(settings.venue)
        let paths = NodePaths(cluster: settings.cluster)
        try paths.createStateDirectory()
        let journal = try Journal.open(path: paths.database(of: identity))
        let core = try VenueCore(record: VenueJournal(journal: journal), scenario: settings.cluster.scenario, venue: settings.venue,
                                 design: settings.cluster.design, logger: logger)
        self.core = core
        statusPath = paths.status(of: identity)
        let credentials = try NodeCredentials.load(node: identity, from: settings.cluster.certificates)
        let clearing = settings.cluster.clearing
        link = try VenueLink(
            configuration: VenueLink.Configuration(
                venue: settings.venue, host: clearing.host, port: clearing.port, epoch: core.record.epoch,
                stream: VenueJournal.changesStream, heartbeatInterval: settings.cluster.heartbeat,
                staleAfter: settings.cluster.staleAfter),
            tls: try MutualTLS(credentials: credentials), journal: journal, instructions: core,
            stateDigest: { core.publishedDigest }, instructionWatermark: { core.lastInstruction },
            publishedBook: { core.publishedBook },
            logger: logger)
        core.afterApply { [weak self] published in
            self?.link.publish(published)
            try? self?.writeStatus()
        }
    }

    /// Runs the link and the clock until shut down.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.link.run() }
            group.addTask { try await untilShutdown { try await self.runClock() } }
        }
    }

    /// Steps the venue at the cluster's speed, journaling and publishing each step's changes; once
    /// the scenario is over, waits (serving instructions) until shut down.
    private func runClock() async throws {
        let interval = settings.speed > 0 ? Duration.milliseconds(core.timeStepSeconds * 1000 / settings.speed) : .zero
        link.publish(upTo: core.lastSequence)
        try writeStatus()
        var next = ContinuousClock.now
        while !Task.isCancelled {
            guard let changes = try core.step() else {
                logger.info("scenario finished", metadata: ["changes": "\(core.lastSequence)"])
                try writeStatus()
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(1))
                    try writeStatus()
                }
                return
            }
            link.publish(changes)
            try writeStatus()
            next = next.advanced(by: interval)
            if interval > .zero { try await Task.sleep(until: next) } else { await Task.yield() }
        }
    }

    /// Writes the node's status file (replaced atomically): what tests and the demo read. Also
    /// written after every instruction batch is journaled, before it is acknowledged, so a
    /// status read after the clearing node saw the acknowledgement includes the batch.
    private func writeStatus() throws {
        try core.status(acknowledged: link.lastAcknowledged, connected: link.isConnected).writeJSON(to: statusPath)
    }
}

/// The venue's machine and journal behind one lock: the clock steps it, the link applies
/// instructions to it, and every change of state is journaled before anything is sent or
/// acknowledged.
final class VenueCore: InstructionConsumer, Sendable {
    let record: VenueJournal
    let timeStepSeconds: Int64
    private let state: Mutex<State>
    private let logger: Logger
    private let onApplied = Mutex<(@Sendable ([Change]) -> Void)?>(nil)

    private struct State: Sendable {
        var machine: VenueMachine
        var hasher: ChainHasher
    }

    /// Rebuilds the venue's machine from the journal (from its latest snapshot when it has one),
    /// or builds it from the scenario and journals its first changes on a first start.
    init(record: VenueJournal, scenario: Scenario, venue: String, design: ClearingDesign, logger: Logger) throws {
        let restored = try record.restore(scenario: scenario, venue: venue, design: design)
        var machine = restored.machine
        var hasher = restored.hasher
        if let refused = restored.snapshotRefused {
            logger.warning("journaled snapshot not taken up, replaying from the start", metadata: ["reason": "\(refused)"])
        }
        if hasher.lastSequence == 0 {
            let bodies = machine.changes()
            _ = try record.record(step: 0, bodies: bodies, hasher: &hasher, snapshotOf: machine)
        } else {
            logger.info("restored from journal", metadata: [
                "step": "\(machine.step)", "changes": "\(hasher.lastSequence)", "instructions": "\(machine.lastInstruction)",
                "snapshot": "\(restored.snapshotStep.map { "step \($0)" } ?? "none")", "replayed": "\(restored.replayedSteps) steps",
                "build": "\(restored.build)", "replay": "\(restored.replay)",
            ])
        }
        self.record = record
        self.logger = logger
        timeStepSeconds = machine.timeStepSeconds
        state = Mutex(State(machine: machine, hasher: hasher))
    }

    var lastSequence: UInt64 { state.withLock { $0.hasher.lastSequence } }
    var publishedDigest: UInt64 { state.withLock { $0.machine.published.digest() } }
    /// The published book and the last journaled sequence it includes, taken under one lock.
    var publishedBook: (book: MarginBook, throughSequence: UInt64) { state.withLock { ($0.machine.published, $0.hasher.lastSequence) } }
    var lastInstruction: UInt64 { state.withLock { $0.machine.lastInstruction } }

    /// Runs `action` after every instruction batch is applied and journaled, before it returns,
    /// with the changes the batch published (none when it changed nothing published).
    func afterApply(_ action: @escaping @Sendable ([Change]) -> Void) {
        onApplied.withLock { $0 = action }
    }

    /// Runs and journals the next step; returns its changes, or nil when the scenario is over.
    func step() throws -> [Change]? {
        try state.withLock { state in
            guard !state.machine.isFinished else { return nil }
            state.machine.advance()
            let bodies = state.machine.changes()
            return try record.record(step: state.machine.step, bodies: bodies, hasher: &state.hasher, snapshotOf: state.machine)
        }
    }

    /// Applies instructions once each and journals them, in one transaction, before the link
    /// acknowledges them. An instruction the venue refuses stops the batch there (the ones before it
    /// are applied and journaled).
    func apply(_ instructions: [Instruction]) async throws {
        let (published, refusal) = state.withLock { state -> ([Change], (any Error)?) in
            var applied: [Instruction] = []
            var refusal: (any Error)?
            for instruction in instructions {
                do {
                    if try state.machine.apply(instruction) { applied.append(instruction) }
                } catch {
                    logger.error("instruction refused", metadata: ["id": "\(instruction.id)", "reason": "\(error)"])
                    refusal = error
                    break
                }
            }
            guard !applied.isEmpty else { return ([], refusal) }
            do {
                let changes = try record.record(instructions: applied, afterStep: state.machine.step,
                                                changes: state.machine.changes(), hasher: &state.hasher)
                return (changes, refusal)
            } catch {
                // The machine is ahead of its journal: stop rather than acknowledge what is not durable.
                fatalError("cannot journal applied instructions: \(error)")
            }
        }
        onApplied.withLock { $0 }?(published)
        if let refusal { throw refusal }
    }

    func status(acknowledged: UInt64, connected: Bool) -> VenueStatus {
        state.withLock { state in
            VenueStatus(machine: state.machine, changes: state.hasher.lastSequence, acknowledged: acknowledged, connected: connected)
        }
    }
}
