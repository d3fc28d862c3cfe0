import CrossclearEngine
import CrossclearSimulation
import CrossclearWire
import Testing

@testable import CrossclearNode

/// The deterministic cores of the nodes, without sockets: a venue's published changes rebuild the
/// clearing node's view of it exactly, and netting credits follow the hedgers.
@Suite("Node machines")
struct MachineTests {
    /// oct10 with a small population, cut to ten minutes.
    static func scenario(traders: Int = 600) throws -> Scenario {
        try Scenario.load(path: ClusterFileTests.oct10, overrides: [
            ScenarioOverride(key: "population.traders", value: "\(traders)"),
            ScenarioOverride(key: "duration_s", value: "600"),
        ])
    }

    /// Runs a venue for `steps` steps, handing every change to `consume`.
    static func run(_ venue: inout VenueMachine, steps: Int, consume: ([ChangeBody]) throws -> Void) rethrows {
        try consume(venue.changes())
        for _ in 0..<steps {
            venue.advance()
            try consume(venue.changes())
        }
    }

    @Test("a venue's changes rebuild the clearing node's view of it to the published digest, every step")
    func viewMatchesPublished() throws {
        let scenario = try Self.scenario()
        for name in scenario.venues.map(\.name) {
            var venue = try VenueMachine(scenario: scenario, venue: name, design: .sharedFull)
            var view = MarginBook()
            try Self.run(&venue, steps: venue.stepCount) { changes in
                for change in changes {
                    if case .digest(let digest) = change { #expect(digest == view.digest(), "\(name)") }
                    try view.apply(change)
                }
            }
            #expect(view == venue.published)
            #expect(view.totals().isBalanced, "\(name): long and short open interest differ")
            let audit = venue.conservation
            #expect(audit.holds, "\(name): \(audit)")
        }
    }

    @Test("a venue machine is deterministic: same inputs, same changes and engine digest")
    func deterministic() throws {
        let scenario = try Self.scenario()
        var first = try VenueMachine(scenario: scenario, venue: "binance", design: .sharedFull)
        var second = try VenueMachine(scenario: scenario, venue: "binance", design: .sharedFull)
        var firstChanges: [[ChangeBody]] = []
        var secondChanges: [[ChangeBody]] = []
        Self.run(&first, steps: 40) { firstChanges.append($0) }
        Self.run(&second, steps: 40) { secondChanges.append($0) }
        #expect(firstChanges == secondChanges)
        #expect(first.engineDigest == second.engineDigest)
    }

    @Test("a book's digest is FNV-1a over each account's and mark's words, each group added as an array")
    func bookDigest() throws {
        var venue = try VenueMachine(scenario: Self.scenario(), venue: "hyperliquid", design: .sharedFull)
        _ = venue.changes()
        for _ in 0..<20 {
            venue.advance()
            _ = venue.changes()
        }
        // The definition the wire and every node share (how the digest was first written).
        var reference = StateDigest()
        for state in venue.published.accounts.compactMap({ $0 }) {
            reference.add([Int64(state.account), Int64(state.trader), state.collateral.raw, Int64(state.positions.count)])
            for position in state.positions { reference.add([Int64(position.asset), position.quantity.raw, position.basis.raw]) }
        }
        for mark in venue.published.marks.compactMap({ $0 }) { reference.add([Int64(mark.asset), mark.oracle.raw, mark.mark.raw]) }
        #expect(venue.published.digest() == reference.value)
        #expect(venue.published.accounts.contains { ($0?.positions.count ?? 0) > 0 })
    }

    @Test("instructions apply once, in order; a gap or an unknown account is refused and changes nothing")
    func instructions() throws {
        var venue = try VenueMachine(scenario: Self.scenario(), venue: "dydx", design: .sharedFull)
        let account: UInt32 = 4  // the first trader account (0 to 3 are the venue's own)
        let credit = Instruction(id: 1, body: .credit(CrossMarginCredit(account: account, thresholdReduction: Amount(whole: 5))))
        #expect(try venue.apply(credit))
        let digest = venue.engineDigest
        #expect(try !venue.apply(credit))
        #expect(venue.engineDigest == digest)
        #expect(throws: VenueMachineError.instructionGap(expected: 2, received: 3)) {
            try venue.apply(Instruction(id: 3, body: credit.body))
        }
        #expect(throws: VenueMachineError.unknownAccount(99_999_999, instruction: 2)) {
            try venue.apply(Instruction(id: 2, body: .credit(CrossMarginCredit(account: 99_999_999, thresholdReduction: .zero))))
        }
        #expect(venue.lastInstruction == 1)
        #expect(venue.engineDigest == digest)
    }

    @Test("the clearing node credits hedgers across venues, and withdraws the credit while a leg's venue is stale")
    func nettingCredits() throws {
        let scenario = try Self.scenario()
        var clearing = ClearingMachine(scenario: scenario, design: .sharedFull, policy: .withdrawCredit)
        for (index, name) in scenario.venues.map(\.name).enumerated() {
            var venue = try VenueMachine(scenario: scenario, venue: name, design: .sharedFull)
            try clearing.consume(venue: index, changes: venue.changes())
        }
        #expect(clearing.digestMismatches == [0, 0, 0, 0])
        let granted = clearing.decideCredits()
        #expect(!granted.isEmpty, "hedgers hold offsetting legs, so some credit is due")
        #expect(clearing.decideCredits().isEmpty, "nothing changed, nothing resent")
        let venue = granted[0].venue
        clearing.setStale(venue: venue, true)
        let withdrawn = clearing.decideCredits()
        let revoked = withdrawn.flatMap(\.credits)
        #expect(!revoked.isEmpty)
        #expect(revoked.allSatisfy { $0.thresholdReduction == .zero })
        clearing.setStale(venue: venue, false)
        #expect(clearing.decideCredits().flatMap(\.credits).count == revoked.count)
    }

    @Test("incremental decisions (only traders whose accounts, marks or stale flags changed) equal full recomputation, round by round")
    func incrementalDecisionsEqualFull() throws {
        let scenario = try Self.scenario(traders: 2_000)
        let names = scenario.venues.map(\.name)
        var venues = try names.map { try VenueMachine(scenario: scenario, venue: $0, design: .sharedFull) }
        var incremental = ClearingMachine(scenario: scenario, design: .sharedFull, policy: .withdrawCredit)
        var full = incremental
        var rounds = 0
        var decided = 0
        func decide() {
            full.markAllDue()
            let credits = (incremental.decideCredits(), full.decideCredits())
            let moves = (incremental.decideMoves(), full.decideMoves())
            #expect(credits.0.map(\.venue) == credits.1.map(\.venue) && credits.0.map(\.credits) == credits.1.map(\.credits), "round \(rounds)")
            #expect(moves.0 == moves.1, "round \(rounds)")
            rounds += 1
            decided += credits.0.reduce(0) { $0 + $1.credits.count } + moves.0.count
        }
        for step in 0..<120 {
            for index in venues.indices {
                if step > 0 { venues[index].advance() }
                let changes = venues[index].changes()
                try incremental.consume(venue: index, changes: changes)
                try full.consume(venue: index, changes: changes)
                decide()
                // A price shock alone (no account changes with it), as in the shock benchmark.
                if step % 10 == 5 {
                    let shocked = ChangeBody.marks(venues[index].published.marks.compactMap { $0 }.map { mark in
                        MarkState(asset: mark.asset, oracle: mark.oracle, mark: Price(raw: mark.mark.raw / 100 * 93))
                    })
                    try incremental.consume(venue: index, changes: [shocked])
                    try full.consume(venue: index, changes: [shocked])
                    decide()
                }
                // Trades alone: one position of some netted traders halves, then is as published again.
                if step % 10 == 7 {
                    let published = venues[index].published.accounts.compactMap { $0 }
                        .filter { incremental.isNetted($0.trader) && !$0.positions.isEmpty }.prefix(100)
                    let halved = published.map { state in
                        var state = state
                        state.positions[0].quantity = Quantity(raw: state.positions[0].quantity.raw / 2)
                        return ChangeBody.account(state)
                    }
                    for changes in [halved, published.map(ChangeBody.account)] {
                        try incremental.consume(venue: index, changes: changes)
                        try full.consume(venue: index, changes: changes)
                        decide()
                    }
                }
            }
            if step == 40 || step == 60 {
                incremental.setStale(venue: 2, step == 40)
                full.setStale(venue: 2, step == 40)
                decide()
            }
            if step == 80 {
                incremental.replaceView(venue: 1, with: venues[1].published)
                full.replaceView(venue: 1, with: venues[1].published)
                decide()
            }
        }
        #expect(decided > 1_000, "the comparison covers many decisions (\(decided))")
    }

    @Test("a collateral move: the debit leg on one venue, the credit leg on the other, each once; a leg for another venue is refused")
    func collateralMove() throws {
        let scenario = try Self.scenario()
        var dydx = try VenueMachine(scenario: scenario, venue: "dydx", design: .sharedFull)
        var binance = try VenueMachine(scenario: scenario, venue: "binance", design: .sharedFull)
        let move = { (leg: CollateralMove.Leg) in
            CollateralMove(moveId: 7, fromVenue: "dydx", fromAccount: 4, toVenue: "binance", toAccount: 5, amount: Amount(whole: 100), leg: leg)
        }
        #expect(throws: VenueMachineError.wrongVenue("binance", instruction: 1)) {
            try dydx.apply(Instruction(id: 1, body: .collateralMove(move(.credit))))
        }
        #expect(try dydx.apply(Instruction(id: 1, body: .collateralMove(move(.debit)))))
        #expect(try !dydx.apply(Instruction(id: 1, body: .collateralMove(move(.debit)))), "applied once")
        #expect(try binance.apply(Instruction(id: 1, body: .collateralMove(move(.credit)))))
        #expect(dydx.moves.debited == Amount(whole: 100).raw && dydx.moves.debits == 1)
        #expect(binance.moves.credited == Amount(whole: 100).raw && binance.moves.credits == 1)
        #expect(dydx.conservation.holds && binance.conservation.holds)
    }

    @Test("a reported digest the view does not match is counted and reported, never passed over")
    func digestMismatch() throws {
        let scenario = try Self.scenario()
        var clearing = ClearingMachine(scenario: scenario, design: .sharedFull, policy: .withdrawCredit)
        var venue = try VenueMachine(scenario: scenario, venue: "binance", design: .sharedFull)
        var changes = venue.changes()
        #expect(try clearing.consume(venue: 1, changes: changes))
        venue.advance()
        changes = venue.changes()
        changes.removeFirst()  // a change lost on the way
        #expect(try !clearing.consume(venue: 1, changes: changes))
        #expect(clearing.digestMismatches == [0, 1, 0, 0])
    }

    /// The metrics a cluster of venue machines and the simulator's world must agree on exactly under
    /// a siloed design (counts and sums; traders hit on two venues count once in the world).
    static func comparable(_ metrics: OutcomeMetrics) -> [String: Int64] {
        ["liquidations": Int64(metrics.liquidationCount), "liquidation notional": metrics.liquidationNotional.raw,
         "liquidation fees": metrics.liquidationFees.raw, "own-layer takeovers": Int64(metrics.ownLayerTakeovers),
         "ADL fills": Int64(metrics.adlCount), "ADL notional": metrics.adlNotional.raw, "bad debt": metrics.badDebt.raw,
         "own layers end": metrics.ownLayersEnd.raw, "own layers start": metrics.ownLayersStart.raw]
    }

    /// Adds two metric tables key by key.
    static func sum(_ a: [String: Int64], _ b: [String: Int64]) -> [String: Int64] { a.merging(b, uniquingKeysWith: +) }

    @Test("under siloed designs the venue machines, each alone, add up exactly to the simulator's world", arguments: [ClearingDesign.siloedFund, .siloedBackstop])
    func matchesSimulator(design: ClearingDesign) throws {
        let scenario = try Self.scenario(traders: 1_500)
        let world = Simulator.run(scenario, design: design)
        var total: [String: Int64] = [:]
        for name in scenario.venues.map(\.name) {
            var venue = try VenueMachine(scenario: scenario, venue: name, design: design)
            while !venue.isFinished { venue.advance() }
            total = Self.sum(total, Self.comparable(venue.outcome.metrics))
        }
        #expect(total == Self.comparable(world.metrics))
    }
}
