import CrossclearSimulation
import CrossclearStore
import CrossclearWire
import Foundation
import Logging

extension ClusterBench {
    struct RestartResult {
        /// Opening the venue's journal (lock, WAL, `PRAGMA quick_check`, schema).
        var open: Duration
        var build: Duration
        var restore: Duration
        var resync: Duration
        /// The step of the snapshot the restart took up (nil: none, the machine was built and replayed from the start).
        var snapshotStep: Int?
        var replayedSteps: Int
        /// The size of the latest snapshot.
        var snapshotBytes: Int
        /// Mean time to journal a step's changes (``VenueJournal/record(step:bodies:hasher:snapshotOf:)``)
        /// without a snapshot, and with one (nil: no snapshot was taken).
        var stepJournaling: Duration
        var snapshotStepJournaling: Duration?
        var accounts: Int
        var steps: Int
        var changes: UInt64
        var instructions: UInt64
        var stoppedBy: String?
    }

    /// Runs a venue for `restartSteps` steps journaling like ``VenueCore`` (a snapshot of the machine
    /// every ``VenueJournal/snapshotInterval`` steps), then times a restart as ``VenueCore`` does it,
    /// with ``VenueJournal/restore(scenario:venue:design:)``: (b) building the machine (from the
    /// latest snapshot, or from the scenario without one), (a) replaying the steps after it, (c) a
    /// fresh link resending every unacknowledged change to a fresh ClearingServer until acknowledged.
    static func measureRestart(
        scenario: Scenario, settings: Settings, cluster: BenchCluster, directory: String, logger: Logger,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> RestartResult {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let venue = settings.restartVenue
        let venuePath = directory + "/\(venue).sqlite"
        let record = VenueJournal(journal: try Journal.open(path: venuePath), snapshotInterval: settings.snapshotInterval)

        // The venue's life before the restart (not timed).
        var machine = try VenueMachine(scenario: scenario, venue: venue, design: .sharedFull)
        var hasher = ChainHasher(epoch: record.epoch)
        let first = machine.changes()
        _ = try record.record(step: 0, bodies: first, hasher: &hasher, snapshotOf: machine)
        let accounts = machine.published.accounts.count
        var stoppedBy: String?
        // What journaling a step costs the venue, with and without a snapshot (taking the changes not included).
        let clock = ContinuousClock()
        var journaling = (plain: Duration.zero, plainSteps: 0, snapshots: Duration.zero, snapshotSteps: 0)
        while machine.step < settings.restartSteps, !machine.isFinished {
            let before = machine
            machine.advance()
            do {
                let bodies = machine.changes()
                let start = clock.now
                _ = try record.record(step: machine.step, bodies: bodies, hasher: &hasher, snapshotOf: machine)
                if record.isSnapshotStep(machine.step) {
                    journaling.snapshots += clock.now - start
                    journaling.snapshotSteps += 1
                } else {
                    journaling.plain += clock.now - start
                    journaling.plainSteps += 1
                }
            } catch {
                // A step the wire cannot carry: the venue stops journaling there (not the benchmark's to fix).
                stoppedBy = "step \(machine.step) could not be journaled: \(error)"
                machine = before
                break
            }
        }
        progress("  journaled \(machine.step) steps, \(hasher.lastSequence) changes of \(accounts) accounts")
        let snapshotBytes = try record.journal.latestSnapshot(stream: VenueJournal.changesStream)?.payload.count ?? 0
        // The venue stops here (its journal closed, as a killed process's would be).
        try record.journal.close()

        // The clearing node is up and has nothing of this venue (everything is unacknowledged).
        let clearingJournal = try Journal.open(path: directory + "/clearing.sqlite")
        let consumer = CountingChangeConsumer()
        let server = try ClearingServer(
            configuration: .init(port: 0, venues: venues), tls: cluster.clearing, journal: clearingJournal, consumer: consumer, logger: logger)
        let (running, port) = try await startServer(server)

        // The restart, as a venue node does it: open its journal, (b) build, (a) replay, (c) resync.
        let openStart = clock.now
        let venueJournal = try Journal.open(path: venuePath)
        let reopened = VenueJournal(journal: venueJournal, snapshotInterval: settings.snapshotInterval)
        let restoreStart = clock.now
        let restart = try reopened.restore(scenario: scenario, venue: venue, design: .sharedFull)
        let fresh = restart.machine
        let restored = restart.hasher
        let resyncStart = clock.now
        let link = try benchLink(
            venue: venue, port: port, stream: VenueJournal.changesStream, journal: venueJournal, cluster: cluster, logger: logger)
        let head = hasher.lastSequence
        let service = BenchService { try await link.run() }
        try await waitUntil("the resync to be acknowledged") { link.lastAcknowledged >= head }
        let resyncEnd = clock.now
        await service.stop()
        await running.stop()

        guard restored.lastSequence == head, restored.lastHash == hasher.lastHash,
            fresh.published.digest() == machine.published.digest(), fresh.step == machine.step
        else {
            throw BenchError("the restored venue differs from the one that journaled")
        }
        guard consumer.count.load(ordering: .relaxed) == Int(head) else {
            throw BenchError("the clearing server took \(consumer.count.load(ordering: .relaxed)) changes, expected \(head)")
        }
        // The build and the replay add up to the restore call (the rest of it is reading the step cursor).
        let replay = (resyncStart - restoreStart) - restart.build
        return RestartResult(
            open: restoreStart - openStart, build: restart.build, restore: replay, resync: resyncEnd - resyncStart,
            snapshotStep: restart.snapshotStep, replayedSteps: restart.replayedSteps, snapshotBytes: snapshotBytes,
            stepJournaling: journaling.plain / max(1, journaling.plainSteps),
            snapshotStepJournaling: journaling.snapshotSteps > 0 ? journaling.snapshots / journaling.snapshotSteps : nil,
            accounts: accounts, steps: machine.step, changes: head, instructions: fresh.lastInstruction, stoppedBy: stoppedBy)
    }
}
