import CrossclearEngine
import CrossclearSimulation
import CrossclearWire
import Testing

@testable import CrossclearNode

/// The mutual pool across the node machines, without sockets: venue machines and a clearing machine
/// in lockstep (every step's changes consumed, every decision applied before the next step).
@Suite("Mutual pool across node machines")
struct PoolMachineTests {
    /// The venues and the clearing machine of one cluster, run in lockstep.
    struct Lockstep {
        var venues: [VenueMachine]
        var clearing: ClearingMachine
        var nextID: [UInt64]

        init(scenario: Scenario, design: ClearingDesign) throws {
            venues = try scenario.venues.map { try VenueMachine(scenario: scenario, venue: $0.name, design: design) }
            clearing = ClearingMachine(scenario: scenario, design: design, policy: .withdrawCredit)
            nextID = Array(repeating: 1, count: venues.count)
        }

        /// Publishes every venue's changes, takes the clearing node's decisions and applies them.
        mutating func exchange() throws {
            for index in venues.indices { try clearing.consume(venue: index, changes: venues[index].changes()) }
            var bodies = Array(repeating: [InstructionBody](), count: venues.count)
            for decision in clearing.decideCredits() { bodies[decision.venue] += decision.credits.map(InstructionBody.credit) }
            for decision in clearing.decideBackstops() {
                if let fill = decision.fill { bodies[decision.venue].append(.backstopFill(fill)) }
                for (venue, cut) in decision.cuts { bodies[venue].append(.adl(cut)) }
            }
            for (venue, list) in bodies.enumerated() {
                for body in list {
                    try venues[venue].apply(Instruction(id: nextID[venue], body: body))
                    nextID[venue] += 1
                }
            }
        }

        /// Runs the whole scenario, then lets the last answers settle.
        mutating func run() throws {
            try exchange()
            while !venues.allSatisfy(\.isFinished) {
                for index in venues.indices { venues[index].advance() }
                try exchange()
            }
            try exchange()
        }

        /// Money the venues paid to the pool, net.
        var paidToPool: Int64 { venues.reduce(0) { $0 + $1.paidToPool } }
    }

    static func scenario(_ overrides: [String] = []) throws -> Scenario {
        try Scenario.load(path: ClusterFileTests.oct10, overrides: (["population.traders=1500", "duration_s=1200"] + overrides).map {
            try ScenarioOverride(parsing: $0)
        })
    }

    /// A pool with no cash and no assessments behind it: every bankruptcy past a venue's own layer
    /// goes to a coordinated ADL round.
    static let emptyPool = ["clearing.pool_multiplier=0"] + ["hyperliquid", "binance", "dydx", "lighter"].flatMap {
        ["venue.\($0).assessment_capacity_usd=0", "venue.\($0).assessment_oi_share=0"]
    }

    @Test("the pool takes over what the venues' own layers cannot, and the money between venues and pool adds up exactly")
    func poolTakesOver() throws {
        var cluster = try Lockstep(scenario: Self.scenario(), design: .sharedPool)
        let funded = try #require(cluster.clearing.pool)
        #expect(cluster.paidToPool == funded.cash + funded.treasuries.reduce(0, +), "contributions and treasuries deposited")
        try cluster.run()
        let pool = try #require(cluster.clearing.pool)
        #expect(pool.totals.fills > 0, "the crash sends accounts past the venues' own layers")
        #expect(cluster.venues.reduce(0) { $0 + $1.outcome.metrics.poolTakeovers } == pool.totals.fills)
        #expect(cluster.paidToPool == pool.cash + pool.treasuries.reduce(0, +))
        #expect(cluster.clearing.pendingBackstops == 0)
        for venue in cluster.venues {
            #expect(venue.awaitingBackstop == 0, "\(venue.venue)")
            #expect(venue.conservation.holds, "\(venue.venue): \(venue.conservation)")
        }
        for (index, venue) in cluster.venues.enumerated() {
            #expect(cluster.clearing.views[index].digest() == venue.published.digest(), "\(venue.venue)")
        }
    }

    @Test("an empty pool answers with coordinated ADL: every cut applied once, haircuts paid to the pool", arguments: [ClearingDesign.sharedPool, .sharedFull])
    func coordinatedADL(design: ClearingDesign) throws {
        var cluster = try Lockstep(scenario: Self.scenario(Self.emptyPool), design: design)
        #expect(cluster.clearing.pool?.cash == 0)
        try cluster.run()
        let pool = try #require(cluster.clearing.pool)
        #expect(pool.totals.adlRounds > 0)
        #expect(pool.totals.assessed == 0)
        let metrics = cluster.venues.map(\.outcome.metrics)
        #expect(metrics.reduce(0) { $0 + $1.adlCount } == pool.totals.adlCuts)
        #expect(metrics.reduce(0) { $0 + $1.productionHaircut.raw } == pool.totals.haircuts)
        #expect(cluster.paidToPool == pool.cash + pool.treasuries.reduce(0, +))
        #expect(pool.cash >= 0, "the pool never pays out more than it has")
        for venue in cluster.venues {
            #expect(venue.conservation.holds, "\(venue.venue): \(venue.conservation)")
        }
        // Nothing new reported: deciding again takes no round and changes nothing.
        for _ in 0..<3 {
            #expect(cluster.clearing.decideBackstops().isEmpty)
            #expect(cluster.clearing.pool == pool)
        }
    }

    @Test("a pool at negative equity with inventory but no winner to take it records no ADL round and journals nothing")
    func poolWithoutWinnersTakesNoRound() throws {
        let scenario = try Self.scenario(Self.emptyPool)
        let btc = try #require(scenario.assets.firstIndex { $0.config.symbol == "BTC" })
        var machine = ClearingMachine(scenario: scenario, design: .sharedPool, policy: .withdrawCredit)
        let poolBefore = try #require(machine.pool)
        // The pool's account on the first venue holds 1 BTC bought at 60,000 USD, now marked at
        // 50,000, with no cash: -10,000 USD of equity, and nobody on the other side.
        try machine.consume(venue: 0, changes: [
            .marks([MarkState(asset: UInt16(btc), oracle: Price(whole: 50_000), mark: Price(whole: 50_000))]),
            .account(AccountState(account: UInt32(ClearingMachine.poolAccount), trader: VenueMachine.venueOwned,
                                  collateral: .zero, positions: [PositionState(asset: UInt16(btc), quantity: Quantity(whole: 1), basis: Amount(whole: 60_000))])),
        ])
        #expect(machine.poolEquity == Amount(whole: -10_000).raw)
        for _ in 0..<3 {
            #expect(machine.decideBackstops().isEmpty)
            #expect(machine.pool == poolBefore, "no round recorded, nothing for the journal")
        }
    }

    @Test("a clearing machine restarted with its journaled pool and replaying the same changes answers no request twice")
    func restoredPoolSkipsAnswered() throws {
        let scenario = try Self.scenario(Self.emptyPool)
        var cluster = try Lockstep(scenario: scenario, design: .sharedPool)
        var streams = Array(repeating: [ChangeBody](), count: cluster.venues.count)
        func publish() throws {
            for index in cluster.venues.indices {
                let changes = cluster.venues[index].changes()
                streams[index] += changes
                try cluster.clearing.consume(venue: index, changes: changes)
            }
        }
        try publish()
        var answered = 0
        while answered == 0 && !cluster.venues[0].isFinished {
            for index in cluster.venues.indices { cluster.venues[index].advance() }
            try publish()
            answered = cluster.clearing.decideBackstops().count
        }
        #expect(answered > 0)
        let pool = try #require(cluster.clearing.pool)
        let cursors = pool.cursors(venues: cluster.clearing.venues)
        let restoredPool = try #require(try MutualPool.restore(venues: cluster.clearing.venues) { cursors[$0] })
        #expect(restoredPool == pool)

        var restarted = ClearingMachine(scenario: scenario, design: .sharedPool, policy: .withdrawCredit)
        restarted.restore(pool: restoredPool)
        for (index, stream) in streams.enumerated() { try restarted.consume(venue: index, changes: stream) }
        #expect(restarted.pendingBackstops == 0)
        #expect(restarted.decideBackstops().isEmpty)
    }

    @Test("a fill or an ADL cut naming an asset the venue does not list, or an account it does not have, is refused and changes nothing")
    func refusesBadPoolInstructions() throws {
        var venue = try VenueMachine(scenario: Self.scenario(), venue: "dydx", design: .sharedPool)
        let digest = venue.engineDigest
        let fill = BackstopFill(account: 4, requestEpoch: 1, requestSequence: 1,
                                legs: [BackstopLeg(asset: 999, quantity: Quantity(raw: 1), price: Price(raw: 1))], cash: .zero)
        #expect(throws: VenueMachineError.unlistedAsset(999, instruction: 1)) {
            try venue.apply(Instruction(id: 1, body: .backstopFill(fill)))
        }
        let cut = ADLInstruction(round: 1, account: 99_999_999, asset: 0, quantity: Quantity(raw: 1), price: Price(raw: 1), haircut: .zero)
        #expect(throws: VenueMachineError.unknownAccount(99_999_999, instruction: 1)) {
            try venue.apply(Instruction(id: 1, body: .adl(cut)))
        }
        #expect(venue.engineDigest == digest)
        #expect(venue.lastInstruction == 0)
    }
}
