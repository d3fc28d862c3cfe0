import CrossclearEngine
import CrossclearSimulation
import CrossclearStore
import CrossclearWire
import Testing

@testable import CrossclearNode

/// A venue node restarts from its latest journaled snapshot: the machine it takes up and replays
/// is exactly the one that journaled, and a snapshot that does not check out never passes silently.
@Suite("Venue snapshots")
struct VenueSnapshotTests {
    /// Every stored property of `value`, as `dump` prints it.
    static func dumped(_ value: some Any) -> String {
        var text = ""
        dump(value, to: &text, maxDepth: .max, maxItems: .max)
        return text
    }

    /// Expects `restored` to be `live` in every field a restart can affect.
    static func expectEqual(_ restored: VenueMachine, _ live: VenueMachine, _ comment: Comment? = nil) {
        #expect(dumped(restored.world) == dumped(live.world), comment)
        #expect(restored.published == live.published, comment)
        #expect(restored.step == live.step, comment)
        #expect(restored.lastInstruction == live.lastInstruction, comment)
        #expect(restored.moves == live.moves, comment)
        #expect(restored.requested == live.requested, comment)
        #expect(restored.globalTrader == live.globalTrader, comment)
        #expect(restored.fingerprint == live.fingerprint, comment)
        #expect(restored.engineDigest == live.engineDigest, comment)
    }

    /// Runs `steps` steps journaling as a node does (a snapshot with every step the journal asks
    /// for), applying the instructions of ``VenueJournalTests/applyJournaled(_:_:hasher:)`` after
    /// each step in `instructionsAfter`.
    static func run(_ venue: inout VenueMachine, _ record: VenueJournal, steps: Int, instructionsAfter: Set<Int>,
                    hasher: inout ChainHasher) throws {
        if venue.step == 0 {
            let bodies = venue.changes()
            _ = try record.record(step: 0, bodies: bodies, hasher: &hasher, snapshotOf: venue)
        }
        for _ in 0..<steps {
            if instructionsAfter.contains(venue.step) { try VenueJournalTests.applyJournaled(&venue, record, hasher: &hasher) }
            venue.advance()
            let bodies = venue.changes()
            _ = try record.record(step: venue.step, bodies: bodies, hasher: &hasher, snapshotOf: venue)
        }
    }

    @Test("every field of a venue machine round-trips through its snapshot, and steps on identically")
    func machineRoundTrip() throws {
        let scenario = try MachineTests.scenario()
        var live = try VenueMachine(scenario: scenario, venue: "hyperliquid", design: .sharedFull)
        #expect(Mirror(reflecting: live).children.count == 13, "a new stored property must be added to VenueMachine+Snapshot.swift")
        _ = live.changes()
        for _ in 0..<30 {
            live.advance()
            _ = live.changes()
        }
        var restored = try VenueMachine(scenario: scenario, venue: "hyperliquid", design: .sharedFull, snapshot: live.snapshot())
        Self.expectEqual(restored, live)
        for _ in 0..<30 {
            live.advance()
            restored.advance()
            #expect(restored.changes() == live.changes())
        }
        Self.expectEqual(restored, live)
    }

    @Test("a restart takes up the latest snapshot, replays only the steps after it, and equals the live machine and a replay from the start")
    func restoreFromSnapshot() async throws {
        try await withTemporaryDirectory { directory in
            let scenario = try MachineTests.scenario()
            var live = try VenueMachine(scenario: scenario, venue: "hyperliquid", design: .sharedFull)
            var hasher = ChainHasher(epoch: 1)
            do {
                let record = VenueJournal(journal: try Journal.open(path: directory + "/venue.sqlite"), snapshotInterval: 4)
                // Instructions before the snapshot of step 4, and after the one of step 12.
                try Self.run(&live, record, steps: 14, instructionsAfter: [3, 13], hasher: &hasher)
                try VenueJournalTests.applyJournaled(&live, record, hasher: &hasher)
                try record.journal.close()
            }
            let record = VenueJournal(journal: try Journal.open(path: directory + "/venue.sqlite"), snapshotInterval: 4)
            let snapshot = try #require(try record.journal.latestSnapshot(stream: VenueJournal.changesStream))
            let restored = try record.restore(scenario: scenario, venue: "hyperliquid", design: .sharedFull)
            #expect(restored.snapshotStep == 12)
            #expect(restored.snapshotRefused == nil)
            #expect(restored.replayedSteps == 2)
            #expect(restored.machine.lastInstruction == 6)
            #expect(restored.hasher.lastSequence == hasher.lastSequence)
            #expect(restored.hasher.lastHash == hasher.lastHash)
            Self.expectEqual(restored.machine, live)
            #expect(snapshot.digest == (try VenueMachine(scenario: scenario, venue: "hyperliquid", design: .sharedFull, snapshot: snapshot.payload)).engineDigest)

            var replayed = try VenueMachine(scenario: scenario, venue: "hyperliquid", design: .sharedFull)
            let replayedHasher = try record.restore(&replayed)
            Self.expectEqual(restored.machine, replayed)
            #expect(replayedHasher.lastHash == hasher.lastHash)

            // Older snapshots were deleted with each new one.
            let older = try record.journal.transaction { try $0.deleteSnapshots(stream: VenueJournal.changesStream, before: snapshot.position) }
            #expect(older == 0)
        }
    }

    @Test("a restarted venue that journals on takes the next snapshot and restarts from it")
    func restartTwice() async throws {
        try await withTemporaryDirectory { directory in
            let scenario = try MachineTests.scenario()
            var live = try VenueMachine(scenario: scenario, venue: "dydx", design: .sharedFull)
            var hasher = ChainHasher(epoch: 1)
            let path = directory + "/venue.sqlite"
            do {
                let record = VenueJournal(journal: try Journal.open(path: path), snapshotInterval: 5)
                try Self.run(&live, record, steps: 7, instructionsAfter: [6], hasher: &hasher)
                try record.journal.close()
            }
            do {
                let record = VenueJournal(journal: try Journal.open(path: path), snapshotInterval: 5)
                var restored = try record.restore(scenario: scenario, venue: "dydx", design: .sharedFull)
                #expect(restored.snapshotStep == 5)
                try Self.run(&restored.machine, record, steps: 6, instructionsAfter: [], hasher: &restored.hasher)
                for _ in 0..<6 {
                    live.advance()
                    for body in live.changes() { _ = try hasher.append(body) }
                }
                #expect(restored.hasher.lastHash == hasher.lastHash)
                try record.journal.close()
            }
            let record = VenueJournal(journal: try Journal.open(path: path), snapshotInterval: 5)
            let restored = try record.restore(scenario: scenario, venue: "dydx", design: .sharedFull)
            #expect(restored.snapshotStep == 10)
            #expect(restored.replayedSteps == 3)
            Self.expectEqual(restored.machine, live)
        }
    }

    @Test("a damaged snapshot refuses to start")
    func damagedSnapshot() async throws {
        try await withTemporaryDirectory { directory in
            let scenario = try MachineTests.scenario()
            var live = try VenueMachine(scenario: scenario, venue: "binance", design: .sharedFull)
            var hasher = ChainHasher(epoch: 1)
            let record = VenueJournal(journal: try Journal.open(path: directory + "/venue.sqlite"), snapshotInterval: 3)
            try Self.run(&live, record, steps: 4, instructionsAfter: [], hasher: &hasher)
            let snapshot = try #require(try record.journal.latestSnapshot(stream: VenueJournal.changesStream))

            /// Replaces the snapshot with `payload` (and `digest`).
            func replace(payload: [UInt8], digest: UInt64 = snapshot.digest) throws {
                try record.journal.transaction { transaction in
                    try transaction.deleteSnapshots(stream: VenueJournal.changesStream, before: JournalPosition(epoch: 1, sequence: Int64.max))
                    try transaction.saveSnapshot(stream: VenueJournal.changesStream, epoch: snapshot.epoch, sequence: snapshot.sequence,
                                                 digest: digest, payload: payload)
                }
            }
            func expectRefusal(_ comment: Comment) {
                let error = #expect(throws: VenueJournalError.self, comment) {
                    _ = try record.restore(scenario: scenario, venue: "binance", design: .sharedFull)
                }
                if case .damagedSnapshot = error {} else { Issue.record("\(comment): \(String(describing: error))") }
            }

            var flipped = snapshot.payload
            flipped[flipped.count / 2] ^= 0x01
            try replace(payload: flipped)
            expectRefusal("a flipped byte")
            try replace(payload: Array(snapshot.payload.dropLast(100)))
            expectRefusal("a truncated payload")
            try replace(payload: snapshot.payload, digest: snapshot.digest &+ 1)
            expectRefusal("a digest that is not the state's")

            // A snapshot of another step, checksum and all, does not match the change at its position.
            var earlier = try VenueMachine(scenario: scenario, venue: "binance", design: .sharedFull)
            _ = earlier.changes()
            earlier.advance()
            _ = earlier.changes()
            try replace(payload: earlier.snapshot(), digest: earlier.engineDigest)
            expectRefusal("a snapshot of another step")

            try replace(payload: snapshot.payload)
            let restored = try record.restore(scenario: scenario, venue: "binance", design: .sharedFull)
            #expect(restored.snapshotStep == 3)
            Self.expectEqual(restored.machine, live)
        }
    }

    @Test("a snapshot taken under other inputs is not taken up: the restart replays from the start, which decides")
    func otherOrigin() async throws {
        try await withTemporaryDirectory { directory in
            let scenario = try MachineTests.scenario()
            var live = try VenueMachine(scenario: scenario, venue: "binance", design: .sharedFull)
            var hasher = ChainHasher(epoch: 1)
            let record = VenueJournal(journal: try Journal.open(path: directory + "/venue.sqlite"), snapshotInterval: 2)
            try Self.run(&live, record, steps: 5, instructionsAfter: [], hasher: &hasher)

            // Renamed only: the machine does not depend on the name, so the replay from the start succeeds.
            var renamed = scenario
            renamed.name += " (renamed)"
            let restored = try record.restore(scenario: renamed, venue: "binance", design: .sharedFull)
            #expect(restored.snapshotStep == nil)
            #expect(restored.snapshotRefused != nil)
            #expect(restored.replayedSteps == 5)
            #expect(restored.machine.published == live.published)
            #expect(restored.machine.engineDigest == live.engineDigest)

            // Another population: the replay from the start diverges and the node refuses to start.
            let other = try MachineTests.scenario(traders: 700)
            #expect(throws: VenueJournalError.self) { _ = try record.restore(scenario: other, venue: "binance", design: .sharedFull) }
            // Another venue's journal, likewise.
            #expect(throws: VenueJournalError.self) { _ = try record.restore(scenario: scenario, venue: "dydx", design: .sharedFull) }
        }
    }
}
