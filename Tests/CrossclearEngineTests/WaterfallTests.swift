import Testing
@testable import CrossclearEngine

/// One bankruptcy, built by hand: on a Binance-style venue (insurance-fund form) a loser is long 10 at
/// $100 with $100 of collateral and a winner is short against the book; the price gaps to $80, so the
/// loser is $100 under water and its liquidation order (limited at its bankruptcy price, $90) fills
/// nothing. Closing 10 into the $10,000/bp book at $80 would cost 0.0032 of slippage, so the gap
/// to cover is 100.0032 when the fund closes it, or 100 at mark when a layer takes it over.
@Suite("Default waterfall")
struct WaterfallTests {
    struct Bankruptcy {
        var world: World
        var loser: Int
        var winner: Int

        init(_ design: ClearingDesign, fund: String, treasury: String = "0", pool: String = "0",
             winnerCollateral: String = "1000", winnerSize: String = "-10", adlPolicy: ADLPolicy? = nil) {
            let builder = WorldBuilder([.cex], design: design).with {
                $0.venues[0].buffer = usd(fund)
                $0.venues[0].assessmentCapacity = usd(treasury)
                $0.clearing.adlPolicy = adlPolicy
            }
            world = builder.open()
            loser = world.add(leg(collateral: "100", size: "10"))
            winner = world.add(leg(collateral: winnerCollateral, size: winnerSize))
            world.apply(.startClearing)          // pool multiplier 0: the pool starts empty
            world.fundPool(usd(pool))
            world.step(px("80"))
        }

        var fund: Amount { world.balance(.collateral(venue: 0, account: Venue.ownLayerAccount)) }
        var pool: Amount { world.balance(.pool) }
        var metrics: OutcomeMetrics { world.metrics }
    }

    @Test("the own layer absorbs the bankruptcy when it can: the fund closes into the book and pays the gap")
    func ownLayerAbsorbs() {
        let crash = Bankruptcy(.siloedFund, fund: "1000")
        #expect(crash.world.size(of: crash.loser) == .zero)
        #expect(crash.world.cash(of: crash.loser) == .zero)
        #expect(crash.fund == usd("899.9968"))
        #expect(crash.metrics.ownLayerTakeovers == 1)
        #expect(crash.metrics.ownLayerTakeoverNotional == usd("800"))
        #expect(crash.metrics.poolTakeovers == 0 && crash.metrics.adlCount == 0 && crash.metrics.badDebt == .zero)
        #expect(crash.world.size(of: crash.winner) == qty("-10"))
        expectBalanced(crash.world)
    }

    @Test("the same fund absorbs it in a shared design too, leaving the pool untouched")
    func ownLayerFirstWhenShared() {
        let crash = Bankruptcy(.sharedPool, fund: "1000", pool: "500")
        #expect(crash.metrics.ownLayerTakeovers == 1)
        #expect(crash.metrics.poolTakeovers == 0)
        #expect(crash.pool == usd("500"))
        #expect(crash.fund == usd("899.9968"))
        expectBalanced(crash.world)
    }

    @Test("a tiny fund pays what it has, then the pool takes the account over at mark (shared designs)",
          arguments: [ClearingDesign.sharedPool, .sharedNetting, .sharedFull])
    func poolTakesOver(_ design: ClearingDesign) {
        let crash = Bankruptcy(design, fund: "1", pool: "500")
        #expect(crash.fund == .zero)
        #expect(crash.metrics.ownLayerTakeovers == 0)
        #expect(crash.metrics.poolTakeovers == 1)
        #expect(crash.metrics.poolTakeoverNotional == usd("800"))
        #expect(crash.world.size(of: crash.loser) == .zero)
        #expect(crash.world.position(venue: 0, account: Venue.poolAccount) == qty("10"))
        #expect(crash.pool == usd("401"))                 // 500 - (100 - 1)
        #expect(crash.world.poolEquity == usd("401"))     // its inventory was bought at mark
        #expect(crash.metrics.venueAssessments == .zero && crash.metrics.adlCount == 0)
        expectBalanced(crash.world)
    }

    @Test("a short pool calls assessments on the venues' treasuries before anything else")
    func assessmentsBeforeADL() {
        let crash = Bankruptcy(.sharedPool, fund: "1", treasury: "200", pool: "30")
        #expect(crash.metrics.venueAssessments == usd("69"))   // 99 needed, 30 in the pool
        #expect(crash.world.treasuryTotal == usd("131"))
        #expect(crash.metrics.poolTakeovers == 1)
        #expect(crash.pool == .zero)
        #expect(crash.metrics.adlCount == 0 && crash.metrics.neededBudget == .zero)
        expectBalanced(crash.world)
    }

    @Test("ADL only once fund, pool and assessments are exhausted; the winner pays exactly the rest")
    func adlLast() {
        let crash = Bankruptcy(.sharedPool, fund: "1", treasury: "20", pool: "30")
        // Every layer before ADL is empty.
        #expect(crash.fund == .zero)
        #expect(crash.world.treasuryTotal == .zero)
        #expect(crash.pool == .zero)
        #expect(crash.metrics.venueAssessments == usd("20"))
        #expect(crash.metrics.poolTakeovers == 0)
        // 100 - 1 (fund) - 30 (pool) - 20 (assessments) = 49 left for the winner (Binance key, at bankruptcy).
        #expect(crash.metrics.adlCount == 1)
        #expect(crash.metrics.neededBudget == usd("49"))
        #expect(crash.metrics.productionHaircut == usd("49"))
        #expect(crash.metrics.overshoot == .zero)
        #expect(crash.metrics.badDebt == .zero)
        #expect(crash.world.size(of: crash.winner) == .zero)
        #expect(crash.world.cash(of: crash.winner) == usd("1151"))   // 1000 + 200 profit - 49
        #expect(crash.world.cash(of: crash.loser) == .zero)
        #expect(crash.world.adlSettlement == 0)
        expectBalanced(crash.world)
    }

    @Test("siloed: after the fund, straight to ADL on the venue (no pool, no assessments)")
    func siloedADL() {
        let crash = Bankruptcy(.siloedFund, fund: "1", treasury: "1000")
        #expect(crash.metrics.venueAssessments == .zero)
        #expect(crash.world.treasuryTotal == usd("1000"))
        #expect(crash.metrics.neededBudget == usd("99"))
        #expect(crash.metrics.productionHaircut == usd("99"))
        #expect(crash.world.cash(of: crash.winner) == usd("1101"))
        expectBalanced(crash.world)
    }

    @Test("bad debt only for what the winners cannot pay")
    func badDebt() {
        // The only winner is short 1 with $5: its profit at $80 is $20 (ADL takes profit, never
        // principal), against a $49 deficit.
        let crash = Bankruptcy(.sharedPool, fund: "1", treasury: "20", pool: "30", winnerCollateral: "5", winnerSize: "-1")
        #expect(crash.metrics.neededBudget == usd("49"))
        #expect(crash.metrics.productionHaircut == usd("20"))
        #expect(crash.metrics.badDebt == usd("29"))
        #expect(crash.world.lossAllocation[0] == -usd("29").raw)
        #expect(crash.world.cash(of: crash.winner) == usd("5"))
        // The 9 units no winner could take went to the pool at mark.
        #expect(crash.world.position(venue: 0, account: Venue.poolAccount) == qty("9"))
        #expect(crash.world.position(venue: 0, account: Venue.adlAccount) == .zero)
        expectBalanced(crash.world)
    }

    @Test("no bad debt and no ADL when winners are not needed, whatever the design", arguments: ClearingDesign.allCases)
    func calmWorld(_ design: ClearingDesign) {
        var world = WorldBuilder([.cex, .hyperliquid], design: design).open()
        world.add(leg(venue: 0, collateral: "1000", size: "5"))
        world.add(.hedger, leg(venue: 0, collateral: "500", size: "10"), leg(venue: 1, collateral: "500", size: "-10"))
        world.apply(.startClearing)
        for (second, price) in ["99", "98.5", "99.2", "100.1"].enumerated() { world.step(px(price), at: Int64(second + 1)) }
        #expect(world.metrics.liquidationCount == 0 && world.metrics.adlCount == 0 && world.metrics.badDebt == .zero)
        expectBalanced(world)
    }
    // MARK: - Protected accounts

    @Test("the pool is not left below zero after its own ADL (short inventory handed back at mark)")
    func poolAfterItsOwnADL() {
        // Binance-style venue, empty book, no fund: the pool (with $10) takes over a short of 3 whose
        // equity is exactly zero at $110; at $130.00000001 it owes 60.00000003 on it and is bankrupt.
        // Its own ADL finds no winners, writes off 50 as bad debt, and hands the 3 short back to the
        // pool at mark. A short of 3 at 130.00000001 has a basis of -390 (the trade notional, rounded
        // down in size) but is valued at -390.000001 (rounded down): the pool's equity is -0.000001.
        var world = WorldBuilder([.cex], design: .sharedPool, depthPerBasisPoint: .zero).open()
        let short = world.add(leg(collateral: "30", size: "-3"))
        world.apply(.startClearing)
        world.fundPool(usd("10"))
        world.step(px("110"))
        #expect(world.metrics.poolTakeovers == 1 && world.size(of: short) == .zero)
        #expect(world.poolEquity == usd("10"))
        world.step(px("130.00000001"))
        #expect(world.metrics.badDebt == usd("50"))
        #expect(world.position(venue: 0, account: Venue.poolAccount) == qty("-3"))
        #expect(!world.poolEquity.isNegative, "pool equity \(world.poolEquity)")
        #expect(world.conservation().holds, "\(world.conservation())")
    }

    @Test("an insurance fund holding inventory ADL handed it is judged by its equity, which stays positive")
    func fundUnwindingInventory() {
        // Two assets on one Binance-style venue, no fund capital. Longs of 10 in each go bankrupt at $80
        // with nobody on the other side but the book: ADL hands both positions to the fund at mark
        // (cash 0). Next second asset 0 is at $90 (its book is empty, so it is not unwound) and asset 1
        // is still at $80: unwinding 5 of asset 1 into the book realizes 0.0008 of slippage against a
        // basis of $80. The fund's cash is then -0.0008 while its equity (+100 on asset 0) is positive:
        // the waterfall and the audit judge loss layers by equity (cash plus inventory at mark).
        let builder = WorldBuilder([.cex], assets: [.btc, .eth], design: .siloedFund).with {
            $0.assets[0].depthPerBasisPoint = .zero
            $0.clearing.unwindPerSecond = ratio("0.5")
        }
        var world = builder.open()
        world.add(leg(asset: 0, collateral: "100", size: "10"))
        world.add(leg(asset: 1, collateral: "100", size: "10"))
        world.apply(.startClearing)
        world.step(px("80"), px("80"))
        #expect(world.position(venue: 0, account: Venue.ownLayerAccount, asset: 0) == qty("10"))
        #expect(world.position(venue: 0, account: Venue.ownLayerAccount, asset: 1) == qty("10"))
        #expect(world.balance(.collateral(venue: 0, account: Venue.ownLayerAccount)) == .zero)
        world.step(px("90"), px("80"))
        #expect(world.position(venue: 0, account: Venue.ownLayerAccount, asset: 1) == qty("5"))
        #expect(world.venues[0].equityNow(Venue.ownLayerAccount).isPositive)
        #expect(world.balance(.collateral(venue: 0, account: Venue.ownLayerAccount)) == usd("-0.0008"))
        #expect(world.conservation().holds, "\(world.conservation())")
    }
}
