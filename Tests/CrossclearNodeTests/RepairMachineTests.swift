import CrossclearEngine
import CrossclearSimulation
import CrossclearWire
import Testing

@testable import CrossclearNode

/// ClearingMachine.replaceView: a corrupted view replaced by the venue's published book behaves
/// exactly like a view that was never corrupted.
@Suite("Node machines: repair")
struct RepairMachineTests {
    @Test("replaceView installs the book, re-indexes the legs (a phantom leg is dropped) and counts the repair")
    func replaceView() throws {
        let scenario = try MachineTests.scenario()
        var clean = ClearingMachine(scenario: scenario, design: .sharedFull, policy: .withdrawCredit)
        var repaired = ClearingMachine(scenario: scenario, design: .sharedFull, policy: .withdrawCredit)
        var venues = try scenario.venues.map { try VenueMachine(scenario: scenario, venue: $0.name, design: .sharedFull) }
        for step in 0..<30 {
            for index in venues.indices {
                if step > 0 { venues[index].advance() }
                let changes = venues[index].changes()
                try clean.consume(venue: index, changes: changes)
                // Venue 1's view loses every other account change.
                var kept = 0
                try repaired.consume(venue: index, changes: changes.filter { change in
                    guard index == 1, case .account = change else { return true }
                    kept += 1
                    return kept % 2 == 0
                })
            }
        }
        // A phantom account for a trader that holds legs elsewhere.
        let trader = try #require(clean.views[0].accounts.compactMap { $0 }.first { $0.trader != VenueMachine.venueOwned }?.trader)
        try repaired.consume(venue: 1, changes: [
            .account(AccountState(account: 900_000, trader: trader, collateral: Amount(whole: 1), positions: []))
        ])
        #expect(repaired.digestMismatches[1] > 0)
        #expect(repaired.views[1] != venues[1].published)

        repaired.replaceView(venue: 1, with: venues[1].published)
        #expect(repaired.views[1] == venues[1].published)
        #expect(repaired.views[1].digest() == clean.views[1].digest())
        #expect(repaired.repairs == [0, 1, 0, 0])
        #expect(clean.repairs == [0, 0, 0, 0])

        // Credits follow the repaired view (the phantom leg is gone): after one round each, both
        // grant the same.
        _ = clean.decideCredits()
        _ = repaired.decideCredits()
        #expect(repaired.creditGranted == clean.creditGranted)
        // And the next step's digests match again.
        let next = venues[1].advancing()
        #expect(try repaired.consume(venue: 1, changes: next))
    }
}

@Suite("Node machines: the clearing core's repair")
struct ClearingCoreRepairTests {
    @Test("a mismatch is logged; a snapshot replaces the view, is logged, re-checked, and counted in the status")
    func coreRepair() async throws {
        let scenario = try MachineTests.scenario()
        let logs = LogCapture()
        let core = ClearingCore(
            machine: ClearingMachine(scenario: scenario, design: .sharedFull, policy: .withdrawCredit), lastMove: 0, logger: logs.logger())
        var venue = try VenueMachine(scenario: scenario, venue: "binance", design: .sharedFull)
        var hasher = ChainHasher(epoch: 1)
        var changes = try venue.changes().map { try hasher.append($0) }
        await core.consume(venue: "binance", epoch: 1, changes: Array(changes.dropFirst()))  // one change lost
        #expect(logs.messages(at: .error).contains("view diverged from the venue's digest"))
        #expect(core.status(links: []).venues[1].digestMismatches == 1)

        // The venue's book at the head, and one more step after it that the core already has.
        let snapshot = BookSnapshot(epoch: 1, throughSequence: hasher.lastSequence, book: venue.published)
        venue.advance()
        changes = try venue.changes().map { try hasher.append($0) }
        await core.consume(venue: "binance", epoch: 1, changes: changes)
        await core.restore(venue: "binance", snapshot: snapshot, followedBy: changes)

        let status = core.status(links: []).venues[1]
        #expect(status.repairs == 1)
        #expect(status.viewDigest == venue.published.digest())
        #expect(status.digestMismatches == 2, "the step after the loss mismatched too; the re-applied one matched")
        let line = try #require(logs.messages(at: .notice).first { $0.hasPrefix("view of binance repaired from snapshot at \(snapshot.throughSequence) (digest 0x") })
        #expect(line.contains("\(changes.count) later changes re-applied"))
    }
}

extension VenueMachine {
    /// Advances one step and returns its changes.
    fileprivate mutating func advancing() -> [ChangeBody] {
        advance()
        return changes()
    }
}
