import Testing
@testable import CrossclearEngine

/// A hedger long 10 BTC at $100 on venue A (with $20) and short 10 on venue B (with $200), both
/// Binance-style (MM 0.4%). At $98 the long leg's equity is 0 and each leg needs 3.92 of maintenance;
/// the netted portfolio is flat and needs nothing.
@Suite("Cross-venue netting")
struct NettingTests {
    static func hedged(_ design: ClearingDesign, cap: String = "0.8", longCash: String = "20", shortCash: String = "200",
                       shortSize: String = "-10", buffer: String = "0") -> (world: World, hedger: Int) {
        var world = WorldBuilder([.cex, .cex], design: design).with {
            $0.clearing.nettingCreditCap = ratio(cap)
            $0.venues[0].buffer = usd(buffer)
        }.open()
        let hedger = world.add(.hedger, leg(venue: 0, collateral: longCash, size: "10"),
                               leg(venue: 1, collateral: shortCash, size: shortSize))
        world.apply(.startClearing)
        return (world, hedger)
    }

    static func threshold(_ world: World, _ trader: Int, leg: Int) -> Amount {
        let (venue, account) = world.account(of: trader, leg: leg)
        return Amount(raw: world.venues[venue].threshold[account])
    }

    static func maintenance(_ world: World, _ trader: Int, leg: Int) -> Amount {
        let (venue, account) = world.account(of: trader, leg: leg)
        return Amount(raw: world.venues[venue].maintenance[account])
    }

    @Test("the netted requirement is taken on the net position at the strictest rules")
    func nettedRequirement() {
        var (world, hedger) = Self.hedged(.sharedNetting)
        #expect(world.nettedMaintenance(legs: world.legRange(of: hedger)) == .zero)
        var partial = WorldBuilder([.cex, .hyperliquid], design: .sharedNetting).open()
        let trader = partial.add(.hedger, leg(venue: 0, collateral: "100", size: "10"), leg(venue: 1, collateral: "100", size: "-4"))
        partial.step(px("98"))
        // Net long 6 at $98 = $588, at Hyperliquid's 1.25% (stricter than 0.4%).
        #expect(partial.nettedMaintenance(legs: partial.legRange(of: trader)) == usd("7.35"))
        world.step(px("100"))
        #expect(world.nettedMaintenance(legs: world.legRange(of: hedger)) == .zero)
    }

    @Test("credit = 0.8 * (sum MM - netted MM) lowers both thresholds; 0.98 moves from the winning leg",
          arguments: [ClearingDesign.sharedNetting, .sharedFull])
    func creditWithCap(_ design: ClearingDesign) {
        var (world, hedger) = Self.hedged(design)
        world.step(px("98"))
        // Sum MM 7.84, netted 0: credit 6.272, 3.136 per leg; thresholds 0.784.
        #expect(Self.maintenance(world, hedger, leg: 0) == usd("3.92"))
        #expect(Self.maintenance(world, hedger, leg: 1) == usd("3.92"))
        #expect(Self.threshold(world, hedger, leg: 0) == usd("0.784"))
        #expect(Self.threshold(world, hedger, leg: 1) == usd("0.784"))
        // The long leg is 0.784 short of its threshold; it gets that plus a cushion of a quarter of it.
        #expect(world.metrics.collateralMoves == 1)
        #expect(world.metrics.collateralMoved == usd("0.98"))
        #expect(world.cash(of: hedger, leg: 0) == usd("20.98"))
        #expect(world.cash(of: hedger, leg: 1) == usd("199.02"))
        // Nothing was liquidated: both legs are whole.
        #expect(world.size(of: hedger, leg: 0) == qty("10") && world.size(of: hedger, leg: 1) == qty("-10"))
        #expect(world.metrics.liquidationCount == 0 && world.metrics.poolTakeovers == 0)
        expectBalanced(world)
    }

    @Test("cap 0: no credit, thresholds stay at maintenance, and collateral still moves to cover it")
    func noCredit() {
        var (world, hedger) = Self.hedged(.sharedNetting, cap: "0")
        world.step(px("98"))
        #expect(Self.threshold(world, hedger, leg: 0) == usd("3.92"))
        #expect(Self.threshold(world, hedger, leg: 1) == usd("3.92"))
        #expect(world.metrics.collateralMoves == 1)
        #expect(world.metrics.collateralMoved == usd("4.9"))     // 3.92 + a 0.98 cushion
        #expect(world.cash(of: hedger, leg: 0) == usd("24.9"))
        #expect(world.size(of: hedger, leg: 0) == qty("10"))
        expectBalanced(world)
    }

    @Test("no netting design: the same long leg is taken over and the hedger is left one-legged",
          arguments: [ClearingDesign.sharedPool, .siloedFund])
    func withoutNetting(_ design: ClearingDesign) {
        var (world, hedger) = Self.hedged(design, buffer: "1000")
        world.step(px("98"))
        #expect(world.metrics.collateralMoves == 0)
        #expect(Self.threshold(world, hedger, leg: 0) == usd("3.92"))
        #expect(world.size(of: hedger, leg: 0) == .zero)
        #expect(world.size(of: hedger, leg: 1) == qty("-10"))
        #expect(world.oneLegged[hedger])
        expectBalanced(world)
    }

    @Test("no credit and no moves while the trader is unhealthy overall")
    func unhealthyOverall() {
        // Long 10 with $10 against a short of only 2 with $10: at $95 the legs are worth -40 and +20.
        var (world, hedger) = Self.hedged(.sharedNetting, longCash: "10", shortCash: "10", shortSize: "-2", buffer: "1000")
        world.step(px("95"))
        #expect(world.metrics.collateralMoves == 0)
        #expect(Self.threshold(world, hedger, leg: 0) == Self.maintenance(world, hedger, leg: 0))
        #expect(Self.threshold(world, hedger, leg: 1) == Self.maintenance(world, hedger, leg: 1))
        #expect(world.cash(of: hedger, leg: 1) == usd("10"), "the short leg's collateral stays on its venue")
        #expect(world.size(of: hedger, leg: 0) == .zero, "the long leg is liquidated on its own")
        expectBalanced(world)
    }

    @Test("healthy traders are left alone: thresholds equal maintenance and nothing moves")
    func healthyUntouched() {
        var (world, hedger) = Self.hedged(.sharedFull, longCash: "100", shortCash: "100")
        world.step(px("98"))
        #expect(Self.threshold(world, hedger, leg: 0) == Self.maintenance(world, hedger, leg: 0))
        #expect(world.metrics.collateralMoves == 0)
        #expect(world.cash(of: hedger, leg: 0) == usd("100") && world.cash(of: hedger, leg: 1) == usd("100"))
    }
}
