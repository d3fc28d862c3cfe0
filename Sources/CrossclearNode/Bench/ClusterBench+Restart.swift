import CrossclearSimulation
import CrossclearStore
import CrossclearWire
import Foundation
import Logging

extension ClusterBench {
    struct RestartResult {
        var build: Duration
        var restore: Duration
        var resync: Duration
        var accounts: Int
        var steps: Int
        var changes: UInt64
        var instructions: UInt64
        var stoppedBy: String?
    }

    /// Runs a venue for `restartSteps` steps journaling like ``VenueCore``, then times a restart:
    /// (b) building a fresh machine, (a) ``VenueJournal/restore(_:)`` into it, (c) a fresh link
    /// resending every unacknowledged change to a fresh ClearingServer until acknowledged.
    static func measureRestart(
        scenario: Scenario, settings: Settings, cluster: BenchCluster, directory: String, logger: Logger,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> RestartResult {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let venue = settings.restartVenue
        let venueJournal = try Journal.open(path: directory + "/\(venue).sqlite")
        let record = VenueJournal(journal: venueJournal)

        // The venue's life before the restart (not timed).
        var machine = try VenueMachine(scenario: scenario, venue: venue, design: .sharedFull)
        var hasher = ChainHasher(epoch: record.epoch)
        _ = try record.record(step: 0, bodies: machine.changes(), hasher: &hasher)
        let accounts = machine.published.accounts.count
        var stoppedBy: String?
        while machine.step < settings.restartSteps, !machine.isFinished {
            let before = machine
            machine.advance()
            do {
                _ = try record.record(step: machine.step, bodies: machine.changes(), hasher: &hasher)
            } catch {
                // A step the wire cannot carry: the venue stops journaling there (not the benchmark's to fix).
                stoppedBy = "step \(machine.step) could not be journaled: \(error)"
                machine = before
                break
            }
        }
        progress("  journaled \(machine.step) steps, \(hasher.lastSequence) changes of \(accounts) accounts")

        // The clearing node is up and has nothing of this venue (everything is unacknowledged).
        let clearingJournal = try Journal.open(path: directory + "/clearing.sqlite")
        let consumer = CountingChangeConsumer()
        let server = try ClearingServer(
            configuration: .init(port: 0, venues: venues), tls: cluster.clearing, journal: clearingJournal, consumer: consumer, logger: logger)
        let (running, port) = try await startServer(server)

        // The restart: (b) build, (a) restore, (c) resync.
        let clock = ContinuousClock()
        let buildStart = clock.now
        var fresh = try VenueMachine(scenario: scenario, venue: venue, design: .sharedFull)
        let restoreStart = clock.now
        let restored = try record.restore(&fresh)
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
        return RestartResult(
            build: restoreStart - buildStart, restore: resyncStart - restoreStart, resync: resyncEnd - resyncStart,
            accounts: accounts, steps: machine.step, changes: head, instructions: fresh.lastInstruction, stoppedBy: stoppedBy)
    }
}
