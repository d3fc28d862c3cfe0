import CrossclearEngine
import CrossclearStore
import CrossclearWire
import Testing

@testable import CrossclearNode

/// A venue node rebuilds itself from its SQLite journal to the same state and the same change chain.
@Suite("Venue journal")
struct VenueJournalTests {
    /// Runs `steps` steps of `venue`, journaling as a node does, applying a credit and a collateral
    /// move (which changes what the venue publishes) after step 3.
    static func runJournaled(_ venue: inout VenueMachine, _ record: VenueJournal, steps: Int, hasher: inout ChainHasher) throws {
        if venue.step == 0 { _ = try record.record(step: 0, bodies: venue.changes(), hasher: &hasher) }
        for _ in 0..<steps {
            if venue.step == 3 { try applyJournaled(&venue, record, hasher: &hasher) }
            venue.advance()
            _ = try record.record(step: venue.step, bodies: venue.changes(), hasher: &hasher)
        }
    }

    /// Applies a credit and a collateral move's credit leg to account 4 and journals them with
    /// their published changes, as a venue node does.
    static func applyJournaled(_ venue: inout VenueMachine, _ record: VenueJournal, hasher: inout ChainHasher) throws {
        let next = venue.lastInstruction + 1
        let instructions = [
            Instruction(id: next, body: .credit(CrossMarginCredit(account: 4, thresholdReduction: Amount(whole: 50)))),
            Instruction(id: next + 1, body: .collateralMove(CollateralMove(
                moveId: 1, fromVenue: "elsewhere", fromAccount: 4, toVenue: venue.venue, toAccount: 4, amount: Amount(whole: 10), leg: .credit))),
        ]
        for instruction in instructions { try venue.apply(instruction) }
        _ = try record.record(instructions: instructions, afterStep: venue.step, changes: venue.changes(), hasher: &hasher)
    }

    @Test("a venue stopped right after applying instructions restores with their effect published")
    func restoreAfterInstructions() async throws {
        try await withTemporaryDirectory { directory in
            let scenario = try MachineTests.scenario()
            var live = try VenueMachine(scenario: scenario, venue: "dydx", design: .sharedFull)
            var hasher = ChainHasher(epoch: 1)
            do {
                let record = VenueJournal(journal: try Journal.open(path: directory + "/venue.sqlite"))
                try Self.runJournaled(&live, record, steps: 3, hasher: &hasher)
                try Self.applyJournaled(&live, record, hasher: &hasher)
                try record.journal.close()
            }
            let record = VenueJournal(journal: try Journal.open(path: directory + "/venue.sqlite"))
            var restored = try VenueMachine(scenario: scenario, venue: "dydx", design: .sharedFull)
            let restoredHasher = try record.restore(&restored)
            #expect(restored.engineDigest == live.engineDigest)
            #expect(restored.published == live.published)
            #expect(restored.lastInstruction == 2)
            #expect(restoredHasher.lastSequence == hasher.lastSequence)
        }
    }

    @Test("restore replays steps and instructions to the live machine's digest and chain head")
    func restore() async throws {
        try await withTemporaryDirectory { directory in
            let scenario = try MachineTests.scenario()
            var live = try VenueMachine(scenario: scenario, venue: "hyperliquid", design: .sharedFull)
            var hasher = ChainHasher(epoch: 1)
            do {
                let record = VenueJournal(journal: try Journal.open(path: directory + "/venue.sqlite"))
                try Self.runJournaled(&live, record, steps: 12, hasher: &hasher)
                try record.journal.close()
            }
            let record = VenueJournal(journal: try Journal.open(path: directory + "/venue.sqlite"))
            var restored = try VenueMachine(scenario: scenario, venue: "hyperliquid", design: .sharedFull)
            let restoredHasher = try record.restore(&restored)
            #expect(restored.engineDigest == live.engineDigest)
            #expect(restored.published == live.published)
            #expect(restored.lastInstruction == 2)
            #expect(restoredHasher.lastSequence == hasher.lastSequence)
            #expect(restoredHasher.lastHash == hasher.lastHash)

            let resent = try record.changes(after: 0, limit: Int.max)
            #expect(resent.count == Int(hasher.lastSequence))
            #expect(ChainHasher.firstBreak(in: resent) == nil)
            var view = MarginBook()
            for change in resent { try view.apply(change.body) }
            #expect(view.digest() == live.published.digest())
        }
    }

    @Test("a journal written for another venue does not replay: the node refuses to start")
    func divergence() async throws {
        try await withTemporaryDirectory { directory in
            let scenario = try MachineTests.scenario()
            var venue = try VenueMachine(scenario: scenario, venue: "binance", design: .sharedFull)
            var hasher = ChainHasher(epoch: 1)
            let record = VenueJournal(journal: try Journal.open(path: directory + "/venue.sqlite"))
            try Self.runJournaled(&venue, record, steps: 2, hasher: &hasher)
            var other = try VenueMachine(scenario: scenario, venue: "dydx", design: .sharedFull)
            #expect(throws: VenueJournalError.self) { _ = try record.restore(&other) }
        }
    }
}
