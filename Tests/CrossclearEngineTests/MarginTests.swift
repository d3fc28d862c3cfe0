import Testing
@testable import CrossclearEngine

@Suite("Maintenance margin per profile")
struct MarginTests {
    // MARK: - Hyperliquid tiers

    static let hyperliquidBTC = VenueProfile.hyperliquid.rules(for: .btc)

    @Test("Hyperliquid BTC: 40x -> 1.25% up to $150M, then 20x -> 2.5% less 1.875M")
    func hyperliquidBTCTiers() {
        let rules = Self.hyperliquidBTC
        #expect(rules.maxLeverage == 40)
        #expect(rules.tiers.map(\.maintenance) == [ratio("0.0125"), ratio("0.025")])
        #expect(rules.tiers.map(\.notionalFloor) == [.zero, usd("150000000")])
        // ded(1) = 150M * (2.5% - 1.25%) = 1.875M
        #expect(rules.deductions == [.zero, usd("1875000")])
        #expect(rules.maintenance(notional: usd("100000")) == usd("1250"))
        #expect(rules.maintenance(notional: usd("100000000")) == usd("1250000"))
        #expect(rules.maintenance(notional: usd("200000000")) == usd("3125000"))  // 5M - 1.875M
    }

    @Test("Hyperliquid BTC maintenance is continuous at the $150M boundary")
    func hyperliquidContinuity() {
        let rules = Self.hyperliquidBTC
        let below = rules.maintenance(notional: usd("149999999.999999"))  // 1,874,999.9999999875 rounded up
        let at = rules.maintenance(notional: usd("150000000"))            // 3.75M - 1.875M
        let above = rules.maintenance(notional: usd("150000000.000001"))  // + 0.000000025, rounded up
        #expect(below == usd("1875000"))
        #expect(at == usd("1875000"))
        #expect(above == usd("1875000.000001"))
        // Monotone across the boundary, within one micro-dollar per micro-dollar of notional.
        #expect(below <= at && at <= above)
    }

    @Test("Hyperliquid maintenance is half the initial margin at max leverage, per asset class", arguments: [
        (AssetClass.btc, 40, "0.0125"), (.eth, 25, "0.02"), (.sol, 20, "0.025"), (.alt, 10, "0.05"),
    ] as [(AssetClass, Int64, String)])
    func hyperliquidHalfOfInitial(_ assetClass: AssetClass, _ leverage: Int64, _ fraction: String) {
        let rules = VenueProfile.hyperliquid.rules(for: assetClass)
        #expect(rules.maxLeverage == leverage)
        #expect(rules.tiers[0].maintenance == ratio(fraction))
        #expect(rules.tiers[0].maintenance.raw * 2 * leverage == Ratio.unit)
    }

    // MARK: - Binance-style brackets

    @Test("Binance BTC brackets: notional * rate - cumulative deduction", arguments: [
        ("10000", "40"),          // 0.40%, no deduction
        ("50000", "200"),         // 0.50% - 50 = 250 - 50
        ("100000", "450"),        // 0.50% - 50
        ("1000000", "5550"),      // 0.65% - (50 + 600k * 0.15%) = 6500 - 950
        ("5000000", "38550"),     // 1.00% - (950 + 3M * 0.35%) = 50000 - 11450
        ("20000000", "268550"),   // 2.00% - (11450 + 12M * 1%) = 400000 - 131450
    ])
    func binanceBrackets(_ notional: String, _ expected: String) {
        #expect(VenueProfile.cex.rules(for: .btc).maintenance(notional: usd(notional)) == usd(expected))
    }

    @Test("Binance brackets are continuous at every floor")
    func binanceContinuity() {
        for assetClass in AssetClass.allCases {
            let rules = VenueProfile.cex.rules(for: assetClass)
            for tier in rules.tiers.dropFirst() {
                let below = rules.maintenance(notional: tier.notionalFloor - Amount(raw: 1))
                let at = rules.maintenance(notional: tier.notionalFloor)
                #expect(at.raw - below.raw >= 0 && at.raw - below.raw <= 1, "\(assetClass) at \(tier.notionalFloor)")
            }
        }
    }

    // MARK: - Flat profiles

    @Test("dYdX, Drift and Lighter are flat fractions of notional", arguments: [
        (VenueProfileKind.dydx, AssetClass.btc, "1200"), (.dydx, .sol, "3000"), (.dydx, .alt, "10000"),
        (.drift, .btc, "2500"), (.drift, .sol, "3000"), (.drift, .alt, "5000"),
        (.lighter, .btc, "1200"), (.lighter, .sol, "2400"), (.lighter, .alt, "6000"),
    ] as [(VenueProfileKind, AssetClass, String)])
    func flat(_ kind: VenueProfileKind, _ assetClass: AssetClass, _ expected: String) {
        let rules = VenueProfile.of(kind).rules(for: assetClass)
        #expect(rules.tiers.count == 1)
        #expect(rules.maintenance(notional: usd("100000")) == usd(expected))
        // Flat: ten times the notional is ten times the requirement, even at $500M.
        #expect(rules.maintenance(notional: usd("500000000")) == Amount(raw: usd(expected).raw * 5_000))
    }

    @Test("Maintenance rounds up (in the clearing layer's favour)")
    func roundsUp() {
        // 1.2% of $0.000001 is 0.000000012: owed, so rounded up to one micro-dollar.
        #expect(VenueProfile.dydx.rules(for: .btc).maintenance(notional: Amount(raw: 1)) == Amount(raw: 1))
        #expect(VenueProfile.dydx.rules(for: .btc).maintenance(notional: .zero) == .zero)
    }

    // MARK: - On a venue

    @Test("A venue's maintenance and equity follow its profile at mark", arguments: VenueProfileKind.allCases)
    func venueMaintenance(_ kind: VenueProfileKind) {
        var world = WorldBuilder([kind]).open()
        let trader = world.add(leg(collateral: "1000", size: "-10"))  // short $1,000 at $100
        world.step(px("90"))
        let (venue, account) = world.account(of: trader)
        let expected = VenueProfile.of(kind).rules(for: .btc).maintenance(notional: usd("900"))
        #expect(world.venues[venue].maintenanceNow(account) == expected)
        #expect(world.venues[venue].maintenance[account] == expected.raw)
        #expect(world.venues[venue].equityNow(account) == usd("1100"))
        #expect(world.venues[venue].grossNotional(account) == usd("900"))
    }

    @Test("Opening size is clamped to the venue's maximum leverage")
    func leverageClamp() {
        var world = WorldBuilder([.dydx], assets: [.alt]).open()       // dYdX alts: 5x
        let trader = world.add(leg(collateral: "100", size: "50"))     // asks for 50x
        #expect(world.size(of: trader) == qty("5"))                    // $500 = 5 * $100
        var hyperliquid = WorldBuilder([.hyperliquid]).open()          // 40x
        let other = hyperliquid.add(leg(collateral: "100", size: "-100"))
        #expect(hyperliquid.size(of: other) == qty("-40"))
    }

    @Test("every profile defines margin rules for every asset class, opening within maintenance")
    func everyProfileCoversEveryClass() {
        for kind in VenueProfileKind.allCases {
            let profile = VenueProfile.of(kind)
            #expect(profile.kind == kind)
            for assetClass in AssetClass.allCases {
                #expect(profile.rules[assetClass] != nil, "\(kind) \(assetClass)")
                let rules = profile.rules(for: assetClass)
                let notional = Amount(whole: 1_000_000)
                #expect(rules.initialMargin(notional: notional) > rules.maintenance(notional: notional), "\(kind) \(assetClass)")
            }
        }
    }
}
