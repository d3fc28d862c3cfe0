// Random small worlds under every clearing design, crashed step by step, with the engine's invariants
// checked after every single event. Each world is drawn from one seed (with the engine's own
// SeededRandom), so a failure names the seed and design that reproduce it exactly:
// `RandomWorld(seed: ..., design: ...).violations()`.

import PropertyBased
import Testing
@testable import CrossclearEngine

/// A random world: 2-3 venues of random profiles, 1-2 assets, 20-200 traders (directional and
/// cross-venue hedgers) plus book makers, random buffers, liquidity, oracles and clearing parameters,
/// and a crash path of 5-40 steps falling up to 60% with noise and a partial recovery.
struct RandomWorld: CustomStringConvertible {
    let seed: UInt64
    let design: ClearingDesign
    var builder: WorldBuilder
    var traders: [TraderSetup] = []
    var makersPerVenue = 0
    var makerLeverage: Int64 = 5
    var path: [(time: Int64, prices: [Price])] = []

    var description: String { "RandomWorld(seed: \(seed), design: .\(design)) [\(builder.venues.map(\.profile.rawValue)), \(builder.assets.count) asset(s), \(traders.count) traders, \(path.count) steps, ADL \(builder.config.adlPolicy.rawValue)]" }

    init(seed: UInt64, design: ClearingDesign) {
        self.seed = seed
        self.design = design
        var random = SeededRandom(seed: seed)
        func ratio(_ low: Int64, _ high: Int64) -> Ratio { Ratio(raw: random.int(in: low...high)) }      // in 1e-9
        func dollars(_ low: Int64, _ high: Int64) -> Amount { Amount(whole: random.int(in: low...high)) }
        func pick<T>(_ values: [T]) -> T { values[Int(random.below(UInt64(values.count)))] }

        let assetClasses = (0..<(1 + Int(random.below(2)))).map { _ in pick(AssetClass.allCases) }
        let profiles = (0..<(2 + Int(random.below(2)))).map { _ in pick(VenueProfileKind.allCases) }
        builder = WorldBuilder(profiles, assets: assetClasses, design: design)
        builder.seed = random.next()
        for asset in builder.assets.indices {
            builder.assets[asset].depthPerBasisPoint = dollars(20, 20_000)
            builder.startPrices[asset] = Price(raw: random.int(in: 100_000_000...5_000_000_000_000))   // $1 .. $50,000
        }
        for venue in builder.venues.indices {
            // Every venue lists asset 0; a second asset is listed with probability 3/4 (and always by venue 0).
            builder.venues[venue].assets = assetClasses.indices.filter { $0 == 0 || venue == 0 || random.below(4) != 0 }
            builder.venues[venue].buffer = random.below(4) == 0 ? .zero : dollars(0, 200_000)
            builder.venues[venue].bufferShareOfOpenInterest = random.below(2) == 0 ? .zero : ratio(0, 50_000_000)
            builder.venues[venue].assessmentCapacity = random.below(3) == 0 ? .zero : dollars(0, 200_000)
            builder.venues[venue].assessmentShareOfOpenInterest = random.below(2) == 0 ? .zero : ratio(0, 20_000_000)
            builder.venues[venue].depthScale = ratio(50_000_000, 2_000_000_000)
            builder.venues[venue].bookCapital = dollars(10_000, 5_000_000)
        }
        builder.liquidity = LiquidityConfig(volatilitySensitivity: ratio(0, 20_000_000_000), minimumDepth: ratio(10_000_000, 1_000_000_000),
                                            resiliencePerSecond: ratio(0, 300_000_000), maxWalkBasisPoints: random.int(in: 20...3_000))
        builder.oracle = OracleConfig(sources: Int(random.int(in: 1...5)), sourceNoiseBasisPoints: random.int(in: 0...50),
                                      markBandBasisPoints: random.below(2) == 0 ? 0 : random.int(in: 10...500))
        let policy: ADLPolicy? = switch design {
        case .sharedFull: random.below(2) == 0 ? nil : .hedgeAware     // shared-full is hedge-aware by definition
        default: random.below(3) == 0 ? nil : pick(ADLPolicy.allCases)
        }
        builder.clearing = ClearingConfig(
            nettingCreditCap: ratio(0, 1_000_000_000), poolCover: Int(random.int(in: 1...3)), stressMove: ratio(20_000_000, 500_000_000),
            poolMultiplier: ratio(0, 2_000_000_000), takeoverDiscount: ratio(0, 50_000_000), feeShareToPool: ratio(0, 1_000_000_000),
            unwindPerSecond: ratio(0, 200_000_000), unwindMaxSlippageBasisPoints: random.int(in: 10...1_000), adlPolicy: policy)

        // Traders.
        let venuesOf = builder.assets.indices.map { asset in builder.venues.indices.filter { builder.venues[$0].assets.contains(asset) } }
        for _ in 0..<random.int(in: 20...200) {
            let asset = Int(random.below(UInt64(builder.assets.count)))
            let price = builder.startPrices[asset]
            let collateral = dollars(50, 50_000)
            if venuesOf[asset].count >= 2 && random.below(10) < 3 {
                var choices = venuesOf[asset]
                let first = choices.remove(at: Int(random.below(UInt64(choices.count))))
                let second = pick(choices)
                let size = Quantity.worth(collateral.scaled(random.int(in: 1...30), over: 1, rounding: .down), at: price, rounding: .down)
                let long = random.below(2) == 0
                traders.append(TraderSetup(kind: .hedger, legs: [
                    LegSetup(venue: first, asset: asset, collateral: collateral, quantity: long ? size : -size),
                    LegSetup(venue: second, asset: asset, collateral: collateral, quantity: long ? -size : size),
                ]))
            } else {
                let size = Quantity.worth(collateral.scaled(random.int(in: 1...60), over: 1, rounding: .down), at: price, rounding: .down)
                traders.append(TraderSetup(kind: .directional, legs: [
                    LegSetup(venue: pick(venuesOf[asset]), asset: asset, collateral: collateral,
                             quantity: random.below(10) < 7 ? size : -size),
                ]))
            }
        }
        makersPerVenue = Int(random.int(in: 0...3))
        makerLeverage = random.int(in: 1...20)

        // A crash: down to `depth` at `bottom`, then back up by `recovery` of the fall, with noise.
        let steps = Int(random.int(in: 5...40))
        let timeStep = random.int(in: 1...30)
        let bottom = Int(random.int(in: 1...Int64(steps)))
        let depths = builder.assets.indices.map { _ in random.int(in: 0...600_000_000) }                 // up to 60%
        let recovery = random.int(in: 0...1_000_000_000)
        for step in 1...steps {
            let prices = builder.assets.indices.map { asset -> Price in
                let depth = depths[asset]
                var fall = step <= bottom
                    ? depth * Int64(step) / Int64(bottom)
                    : depth - depth * recovery / 1_000_000_000 * Int64(step - bottom) / Int64(max(1, steps - bottom))
                fall = min(600_000_000, max(0, fall + random.int(in: -10_000_000...10_000_000)))
                return builder.startPrices[asset].scaled(by: Ratio(raw: Ratio.unit - fall), rounding: .down)
            }
            path.append((Int64(step) * timeStep, prices))
        }
    }

    /// The families of invariants, checked by separate tests so that one broken family does not hide another.
    enum Invariant: String, CaseIterable, Sendable {
        /// The ledger sums exactly to net deposits, every market balances (long == short, settlement ==
        /// -sum(basis)), ADL transit and clearing accounts are empty, bad debt == what loss allocation wrote off.
        case balance
        /// `conservation().holds` in full: also no protected account (pool and own layers by equity, treasuries) below zero,
        /// and the pool's equity >= 0 in shared designs.
        case protected
        /// Haircuts against the needed budget (see `check`).
        case haircuts
        /// One-legged tracking is complete; under shared-full, ADL never makes a hedger one-legged.
        case hedgers
    }

    /// Builds the world, runs the crash, and returns every broken invariant of the given families
    /// (empty when all hold). Stops at the first event after which something is broken.
    func violations(_ families: Set<Invariant> = Set(Invariant.allCases)) -> [String] {
        var world = World(config: builder.config)
        world.apply(.open(referencePrices: builder.startPrices))
        for trader in traders { world.apply(.addTrader(trader)) }
        world.apply(.seedMakers(perVenue: makersPerVenue, leverage: makerLeverage))
        world.apply(.startClearing)
        var problems = Self.check(world, before: world, at: "start", families)
        guard problems.isEmpty else { return problems }
        for (index, step) in path.enumerated() {
            let before = world
            world.apply(.step(timeSeconds: step.time, referencePrices: step.prices))
            problems = Self.check(world, before: before, at: "step \(index + 1) (t=\(step.time)s, prices \(step.prices))", families)
            if !problems.isEmpty { return problems }
        }
        let outcome = world.outcome()
        if families.contains(.protected) && !outcome.conservation.holds { problems.append("final outcome: \(outcome.conservation)") }
        if families.contains(.hedgers) && outcome.metrics.hedgersOneLegged != world.oneLegged.filter({ $0 }).count {
            problems.append("final hedgersOneLegged \(outcome.metrics.hedgersOneLegged) != \(world.oneLegged.filter({ $0 }).count)")
        }
        return problems
    }

    /// Every invariant of `families`, after one event; `before` is the world before the event.
    static func check(_ world: World, before: World, at moment: String, _ families: Set<Invariant>) -> [String] {
        var problems: [String] = []
        func require(_ condition: Bool, _ message: @autoclosure () -> String) {
            if !condition { problems.append("\(moment): \(message())") }
        }
        let metrics = world.metrics
        let report = world.conservation()

        if families.contains(.balance) {
            require(report.ledgerTotal == report.netDeposits, "ledger \(report.ledgerTotal) != net deposits \(report.netDeposits)")
            require(report.unbalancedMarkets.isEmpty, "unbalanced markets \(report.unbalancedMarkets)")
            for venue in world.venues {
                for slot in venue.markets.indices {
                    let long = venue.quantity[slot].reduce(Int64(0)) { $0 + max(0, $1) }
                    let short = venue.quantity[slot].reduce(Int64(0)) { $0 + min(0, $1) }
                    require(long == -short, "\(venue.config.name)/\(slot): long OI \(long) != short OI \(-short)")
                    require(venue.settlement[slot] == -venue.basis[slot].reduce(0, +), "\(venue.config.name)/\(slot): settlement != -sum(basis)")
                    require(venue.quantity[slot][Venue.adlAccount] == 0, "\(venue.config.name)/\(slot): ADL clearing account holds a position")
                }
                require(venue.collateral[Venue.adlAccount] == 0, "\(venue.config.name): ADL clearing account holds cash")
            }
            require(world.adlSettlement == 0, "ADL settlement holds \(world.adlSettlement)")
            require(-world.lossAllocation.reduce(0, +) == metrics.badDebt.raw,
                    "bad debt \(metrics.badDebt) vs loss allocation \(world.lossAllocation)")
            require(metrics.liquidationNotional >= before.metrics.liquidationNotional && metrics.venueAssessments >= before.metrics.venueAssessments
                    && metrics.adlNotional >= before.metrics.adlNotional && metrics.collateralMoved >= before.metrics.collateralMoved,
                    "a cumulative counter went backwards")
        }

        if families.contains(.protected) {
            require(report.holds, "conservation \(report)")
            if world.config.design.isShared { require(!world.poolEquity.isNegative, "pool equity \(world.poolEquity)") }
            // Loss layers are judged by equity (cash plus inventory at mark), as the waterfall treats them.
            for venue in world.venues {
                require(!venue.equityNow(Venue.ownLayerAccount).isNegative,
                        "\(venue.config.name): own layer equity \(venue.equityNow(Venue.ownLayerAccount)), cash \(Amount(raw: venue.collateral[Venue.ownLayerAccount]))")
            }
            require(world.treasury.allSatisfy { $0 >= 0 }, "a treasury is negative: \(world.treasury)")
        }

        if families.contains(.haircuts) {
            // Per ADL group the engine collects H from winners, pays the claims (their sum is the needed
            // budget B) out of it, writes the unpaid rest off as bad debt and books any excess as
            // overshoot O, so exactly H - O + (bad debt written off by ADL) == B. The metrics do not
            // separate ADL bad debt from bad debt written off elsewhere in the same step (cash deficits of
            // liquidated accounts), so per event this checks the exact bounds 0 <= B - (H - O) <= bad debt
            // of the event, and B == H - O exactly in every event without bad debt.
            let budget = metrics.neededBudget.raw - before.metrics.neededBudget.raw
            let production = metrics.productionHaircut.raw - before.metrics.productionHaircut.raw
            let overshoot = metrics.overshoot.raw - before.metrics.overshoot.raw
            let badDebt = metrics.badDebt.raw - before.metrics.badDebt.raw
            require(budget >= 0 && production >= 0 && overshoot >= 0 && badDebt >= 0,
                    "metrics went backwards: B \(budget) H \(production) O \(overshoot) bad debt \(badDebt)")
            require(production >= overshoot, "overshoot \(overshoot) above the haircuts \(production)")
            let paid = production - overshoot
            require(paid <= budget, "haircuts net of overshoot \(paid) exceed the needed budget \(budget)")
            require(budget - paid <= badDebt, "shortfall \(budget - paid) neither covered by haircuts nor written off (bad debt \(badDebt))")
            if badDebt == 0 { require(paid == budget, "haircuts net of overshoot \(paid) != needed budget \(budget)") }
        }

        if families.contains(.hedgers) {
            for trader in world.traderKind.indices where world.traderKind[trader] == .hedger {
                // A hedger that turns one-legged by the engine's definition during an event is counted.
                if isOneLegged(world, trader) && !isOneLegged(before, trader) {
                    require(world.oneLegged[trader], "hedger \(trader) turned one-legged (\(legSizes(before, trader)) -> \(legSizes(world, trader))) but is not counted")
                }
                // Shared-full: a hedger that becomes one-legged in a step had a leg below its liquidation
                // threshold in that step (so liquidation, not ADL, broke the hedge). The literal form
                // "no hedger hit by ADL is one-legged" is too strong: a hedger one-legged by liquidation
                // may later be ADL'd on the leg it has left.
                if world.config.design == .sharedFull && isOneLegged(world, trader) && !isOneLegged(before, trader) {
                    let liquidated = world.legs(of: trader).contains { world.venues[$0.venue].equity[$0.account] < world.venues[$0.venue].threshold[$0.account] }
                    require(liquidated, "hedger \(trader) became one-legged with no leg below its threshold (ADL hit: \(world.adlHit[trader])): \(legSizes(world, trader)) before \(legSizes(before, trader))")
                }
            }
        }
        return problems
    }

    /// The engine's definition, restated: the hedge ratio (smaller leg / larger leg) is below half of
    /// the ratio the hedger started with.
    static func isOneLegged(_ world: World, _ trader: Int) -> Bool {
        let sizes = world.legs(of: trader).map { venue, account in
            abs(world.venues[venue].markets.indices.reduce(Int64(0)) { $0 + world.venues[venue].quantity[$1][account] })
        }
        guard let small = sizes.min(), let large = sizes.max(), large > 0, world.hedgeSmallLeg[trader] > 0 else { return false }
        return 2 * Int128(small) * Int128(world.hedgeLargeLeg[trader]) < Int128(world.hedgeSmallLeg[trader]) * Int128(large)
    }

    static func legSizes(_ world: World, _ trader: Int) -> [String] {
        world.legs(of: trader).map { venue, account in
            "\(world.venues[venue].config.name): \(world.venues[venue].markets.indices.map { Quantity(raw: world.venues[venue].quantity[$0][account]) })"
        }
    }
}

@Suite("Properties of random crashed worlds")
struct PropertyTests {
    static let worlds = 60

    static func check(_ family: RandomWorld.Invariant, design: ClearingDesign, seed: UInt64) {
        let world = RandomWorld(seed: seed, design: design)
        let problems = world.violations([family])
        #expect(problems.isEmpty, "\(world): \(problems.prefix(3))")
    }

    @Test("money and positions balance after every step of a random crash, under a random design", .shrinking(false))
    func balance() async {
        await propertyCheck(count: Self.worlds, input: Gen<ClearingDesign>.case, Gen.uint64()) { design, seed in
            Self.check(.balance, design: design, seed: seed)
        }
    }

    @Test("conservation().holds and no protected account goes negative, after every step", .shrinking(false))
    func protectedAccounts() async {
        await propertyCheck(count: Self.worlds, input: Gen<ClearingDesign>.case, Gen.uint64()) { design, seed in
            Self.check(.protected, design: design, seed: seed)
        }
    }

    @Test("haircuts net of overshoot cover exactly the needed budget, less what was written off", .shrinking(false))
    func haircuts() async {
        await propertyCheck(count: Self.worlds, input: Gen<ClearingDesign>.case, Gen.uint64()) { design, seed in
            Self.check(.haircuts, design: design, seed: seed)
        }
    }

    @Test("one-legged hedgers are all counted, and under shared-full only liquidation makes them", .shrinking(false))
    func hedgers() async {
        // Shared-full half of the time: the hedge-aware property only applies there.
        await propertyCheck(count: Self.worlds, input: Gen.bool, Gen<ClearingDesign>.case, Gen.uint64()) { full, design, seed in
            Self.check(.hedgers, design: full ? .sharedFull : design, seed: seed)
        }
    }

    @Test("every family on fixed worlds, per design (a stable regression set)", arguments: ClearingDesign.allCases)
    func fixedWorlds(_ design: ClearingDesign) {
        for index in UInt64(1)...8 {
            for family in RandomWorld.Invariant.allCases {
                Self.check(family, design: design, seed: index &* 0x9E37_79B9_7F4A_7C15)
            }
        }
    }

    @Test("the random worlds really crash: liquidations, takeovers and ADL all happen across designs")
    func worldsAreStressed() {
        var liquidations = 0, adl = 0, poolTakeovers = 0, badDebt = 0, moves = 0
        for design in ClearingDesign.allCases {
            for index in UInt64(1)...6 {
                let random = RandomWorld(seed: index &* 0x9E37_79B9_7F4A_7C15, design: design)
                var world = World(config: random.builder.config)
                world.apply(.open(referencePrices: random.builder.startPrices))
                for trader in random.traders { world.apply(.addTrader(trader)) }
                world.apply(.seedMakers(perVenue: random.makersPerVenue, leverage: random.makerLeverage))
                world.apply(.startClearing)
                for step in random.path { world.apply(.step(timeSeconds: step.time, referencePrices: step.prices)) }
                liquidations += world.metrics.liquidationCount
                adl += world.metrics.adlCount
                poolTakeovers += world.metrics.poolTakeovers
                badDebt += world.metrics.badDebt.isPositive ? 1 : 0
                moves += world.metrics.collateralMoves
            }
        }
        #expect(liquidations > 0 && adl > 0 && poolTakeovers > 0 && badDebt > 0 && moves > 0,
                "liquidations \(liquidations), ADL fills \(adl), pool takeovers \(poolTakeovers), worlds with bad debt \(badDebt), moves \(moves)")
    }
}
