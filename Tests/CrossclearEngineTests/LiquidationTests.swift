import Testing
@testable import CrossclearEngine

@Suite("Liquidation rules per profile")
struct LiquidationTests {
    // MARK: - Bankruptcy price

    @Test("bankruptcy price of a 10x position: entry * (1 -/+ 1/lev)", arguments: [("10", "90"), ("-10", "110")])
    func bankruptcy(_ size: String, _ expected: String) {
        var world = WorldBuilder([.cex]).open()
        let trader = world.add(leg(collateral: "100", size: size))   // $1,000 on $100: 10x
        let (venue, account) = world.account(of: trader)
        let price = world.bankruptcyPrice(venue: venue, account: account, slot: 0,
                                          equity: world.venues[venue].equityNow(account),
                                          gross: world.venues[venue].grossNotional(account))
        #expect(price == px(expected))
    }

    @Test("the bankruptcy price does not move with the mark")
    func bankruptcyAtAnotherMark() {
        var world = WorldBuilder([.cex]).open()
        let trader = world.add(leg(collateral: "100", size: "10"))
        world.step(px("95"))                                          // equity 50, still healthy
        let (venue, account) = world.account(of: trader)
        #expect(world.equity(of: trader) == usd("50"))
        #expect(world.bankruptcyPrice(venue: venue, account: account, slot: 0, equity: usd("50"),
                                      gross: world.venues[venue].grossNotional(account)) == px("90"))
    }

    // MARK: - Liquidation share per profile

    @Test("Binance-style and Lighter close the whole account at once", arguments: [VenueProfileKind.cex, .lighter])
    func whole(_ kind: VenueProfileKind) {
        var world = WorldBuilder([kind]).open()
        let (venue, account) = world.addAccount(leg(collateral: "100000", size: "2000"))
        #expect(world.liquidationShare(venue: venue, account: account, equity: usd("1"), maintenance: usd("2")) == .one)
    }

    @Test("Hyperliquid: 20% slices above $100k of notional, the whole account below")
    func hyperliquidSlices() {
        var world = WorldBuilder([.hyperliquid]).open()
        let large = world.addAccount(leg(collateral: "10000", size: "2000")).account  // $200k
        let small = world.addAccount(leg(collateral: "10000", size: "500")).account   // $50k
        #expect(world.liquidationShare(venue: 0, account: large, equity: .zero, maintenance: .zero) == ratio("0.2"))
        #expect(world.liquidationShare(venue: 0, account: small, equity: .zero, maintenance: .zero) == .one)
        // Within 30 s of the last liquidation fill: nothing; at 30 s: the next slice.
        world.timeSeconds = 100
        world.venues[0].lastLiquidation[large] = 71
        #expect(world.liquidationShare(venue: 0, account: large, equity: .zero, maintenance: .zero) == .zero)
        world.venues[0].lastLiquidation[large] = 70
        #expect(world.liquidationShare(venue: 0, account: large, equity: .zero, maintenance: .zero) == ratio("0.2"))
    }

    @Test("Hyperliquid slices through steps: 20% now, nothing during the 30 s cooldown, 20% after")
    func hyperliquidCooldown() {
        var world = WorldBuilder([.hyperliquid]).with { $0.liquidity.resiliencePerSecond = .one }.open()
        let trader = world.add(leg(collateral: "10000", size: "2000"))  // $200k at 20x; MM 1.25%
        world.step(px("96"), at: 1)        // equity 2,000 < MM 2,400: first slice of 400
        #expect(world.size(of: trader) == qty("1600"))
        #expect(world.metrics.liquidationCount == 1)
        world.step(px("95.9"), at: 2)      // still below MM (1,918), above 2/3 of it: cooldown
        #expect(world.equity(of: trader) < usd("1918"))
        #expect(world.size(of: trader) == qty("1600"))
        #expect(world.metrics.liquidationCount == 1)
        world.step(px("95.9"), at: 31)     // 30 s after the first fill: 20% of 1,600
        #expect(world.size(of: trader) == qty("1280"))
        #expect(world.metrics.liquidationCount == 2)
        expectBalanced(world)
    }

    @Test("dYdX: 10% of the account per step, at least $1k and at most $100k of notional", arguments: [
        ("5000", "500", "0.1"),          // $50k -> $5k
        ("500", "50", "0.2"),            // $5k -> 10% is $500, raised to the $1k minimum
        ("100000", "20000", "0.05"),     // $2M -> 10% is $200k, capped at $100k
        ("100", "5", "1"),               // $500 -> the $1k minimum is more than all of it
    ])
    func dydxShare(_ collateral: String, _ size: String, _ expected: String) {
        var world = WorldBuilder([.dydx]).open()
        let (venue, account) = world.addAccount(leg(collateral: collateral, size: size))
        #expect(world.liquidationShare(venue: venue, account: account, equity: .zero, maintenance: .zero) == ratio(expected))
    }

    @Test("Drift: only the share that restores equity to maintenance plus 2%")
    func driftShare() {
        let world = WorldBuilder([.drift]).open()
        // 1 - 80 / (100 * 1.02) = 1 - 0.784313725 (rounded down) = 0.215686275
        #expect(world.liquidationShare(venue: 0, account: 0, equity: usd("80"), maintenance: usd("100")) == ratio("0.215686275"))
        #expect(world.liquidationShare(venue: 0, account: 0, equity: usd("102"), maintenance: usd("100")) == .zero)
        #expect(world.liquidationShare(venue: 0, account: 0, equity: .zero, maintenance: usd("100")) == .one)
        #expect(world.liquidationShare(venue: 0, account: 0, equity: usd("-5"), maintenance: usd("100")) == .one)
    }

    @Test("Drift: after a restore-health liquidation the account is back above maintenance")
    func driftRestoresHealth() {
        var world = WorldBuilder([.drift]).with { $0.liquidity.resiliencePerSecond = .one }.open()
        let trader = world.add(leg(collateral: "1000", size: "200"))   // $20,000 at 20x; MM 2.5%
        world.step(px("96"), at: 1)                                    // equity 200 < MM 480
        let (venue, account) = world.account(of: trader)
        #expect(world.metrics.liquidationCount == 1)
        #expect(world.size(of: trader) > .zero, "a partial liquidation")
        // What the profile promises: only the size that brings the account back above maintenance.
        #expect(world.venues[venue].equityNow(account) >= world.venues[venue].maintenanceNow(account),
                "equity \(world.venues[venue].equityNow(account)) vs maintenance \(world.venues[venue].maintenanceNow(account))")
        expectBalanced(world)
    }

    // MARK: - Backstop takeover

    @Test("Hyperliquid: the backstop vault takes the account over below 2/3 of maintenance, not above")
    func hyperliquidBackstop() {
        let builder = WorldBuilder([.hyperliquid], design: .siloedBackstop, depthPerBasisPoint: .zero).with {
            $0.venues[0].buffer = usd("1000")
        }
        // Long 1 at $100 with $2.50 (40x): MM 1.25% of notional. The book is empty, so liquidation
        // orders fill nothing and only the takeover rule can act.
        var above = builder.open()
        let first = above.add(leg(collateral: "2.5", size: "1"))
        above.step(px("98.5"))    // equity 1.00 < MM 1.23125, but >= 2/3 of it (0.820834)
        #expect(above.size(of: first) == qty("1"))
        #expect(above.metrics.ownLayerTakeovers == 0)

        var below = builder.open()
        let second = below.add(leg(collateral: "2.5", size: "1"))
        below.step(px("98.2"))    // equity 0.70 < 2/3 of MM 1.2275 (0.818334)
        #expect(below.size(of: second) == .zero)
        #expect(below.cash(of: second) == .zero)
        #expect(below.position(venue: 0, account: Venue.ownLayerAccount) == qty("1"))
        #expect(below.balance(.collateral(venue: 0, account: Venue.ownLayerAccount)) == usd("1000.7"))
        #expect(below.metrics.ownLayerTakeovers == 1)
        #expect(below.metrics.ownLayerTakeoverNotional == usd("98.2"))
        expectBalanced(above)
        expectBalanced(below)
    }

    // MARK: - Drift oracle band

    @Test("Drift suspends liquidation while the oracle is more than 10% from its TWAP")
    func driftOracleBand() {
        var world = WorldBuilder([.drift]).with { $0.venues[0].buffer = usd("100000") }.open()
        let trader = world.add(leg(collateral: "10", size: "2"))       // 20x long
        let account = world.account(of: trader).account
        world.step(px("80"), at: 1)       // TWAP of (100, 80) = 90: 11.1% away
        #expect(world.oracleOutsideBand(venue: 0, account: account, band: ratio("0.1")))
        #expect(world.equity(of: trader) == usd("-30"))
        #expect(world.size(of: trader) == qty("2"), "suspended: nothing closed")
        #expect(world.metrics.liquidationCount == 0 && world.metrics.ownLayerTakeovers == 0)

        world.step(px("80"), at: 2)       // TWAP of (100, 80, 80) = 86.67: 7.7% away
        #expect(!world.oracleOutsideBand(venue: 0, account: account, band: ratio("0.1")))
        #expect(world.size(of: trader) == .zero, "liquidated once the oracle is back in its band")
        #expect(world.metrics.ownLayerTakeovers == 1)
        #expect(world.cash(of: trader) == .zero)
        expectBalanced(world)
    }

    @Test("the same path liquidates at once on a venue without an oracle band")
    func noBandElsewhere() {
        var world = WorldBuilder([.cex]).with { $0.venues[0].buffer = usd("100000") }.open()
        let trader = world.add(leg(collateral: "10", size: "2"))
        world.step(px("80"), at: 1)
        #expect(world.size(of: trader) == .zero)
        expectBalanced(world)
    }
}
