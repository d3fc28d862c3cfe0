import Testing
@testable import CrossclearEngine

@Suite("Order book depth model")
struct BookTests {
    /// One CEX venue, BTC at $100 with $1,000 of depth per basis point per side, one flat trader.
    static func book(maxWalk: Int64 = 1_000, resilience: Ratio = .zero, sensitivity: Ratio = .zero,
                     minimumDepth: Ratio = .one) -> (world: World, account: Int) {
        var world = WorldBuilder([.cex], depthPerBasisPoint: usd("1000")).with {
            $0.liquidity = LiquidityConfig(volatilitySensitivity: sensitivity, minimumDepth: minimumDepth,
                                           resiliencePerSecond: resilience, maxWalkBasisPoints: maxWalk)
        }.open()
        let trader = world.add(leg(collateral: "100000", size: "0"))
        return (world, world.account(of: trader).account)
    }

    @Test("selling 50 ($5,000) into $1,000/bp moves the price 5 bp and fills at the half-way price")
    func sellFill() {
        let (world, _) = Self.book()
        let walk = world.planWalk(venue: 0, slot: 0, size: qty("-50"), limit: nil)
        #expect(walk.size == qty("-50"))
        #expect(walk.averagePrice == px("99.975"))    // 100 * (1 - 2.5 bp)
        #expect(walk.impactAfter == Ratio(bps: 5))
        let buy = world.planWalk(venue: 0, slot: 0, size: qty("50"), limit: nil)
        #expect(buy.size == qty("50"))
        #expect(buy.averagePrice == px("100.025"))
        #expect(buy.impactAfter == -Ratio(bps: 5))
    }

    @Test("walkBook trades against the book makers and leaves its impact for the next walk")
    func walkTrades() {
        var (world, account) = Self.book()
        let first = world.walkBook(venue: 0, slot: 0, account: account, size: qty("-50"), limit: nil)
        #expect(first.averagePrice == px("99.975"))
        #expect(world.position(venue: 0, account: account) == qty("-50"))
        #expect(world.position(venue: 0, account: Venue.bookAccount) == qty("50"))
        #expect(world.venues[0].basis[0][account] == usd("-4998.75").raw)
        #expect(world.venues[0].markets[0].impact == Ratio(bps: 5))
        // The next 50 start 5 bp down: average 100 * (1 - 5 bp - 2.5 bp).
        let second = world.walkBook(venue: 0, slot: 0, account: account, size: qty("-50"), limit: nil)
        #expect(second.averagePrice == px("99.925"))
        #expect(world.venues[0].markets[0].impact == Ratio(bps: 10))
        expectBalanced(world)
    }

    @Test("a limit stops the walk where the price would cross it")
    func limitStops() {
        let (world, _) = Self.book()
        // Selling down to 99.9 (10 bp) reaches $10,000 = 100 units, averaging 99.95.
        let sell = world.planWalk(venue: 0, slot: 0, size: qty("-500"), limit: px("99.9"))
        #expect(sell.size == qty("-100"))
        #expect(sell.averagePrice == px("99.95"))
        #expect(sell.impactAfter == Ratio(bps: 10))
        // Buying up to 100.2 (20 bp) reaches $20,000 = 200 units, averaging 100.1.
        let buy = world.planWalk(venue: 0, slot: 0, size: qty("1000"), limit: px("100.2"))
        #expect(buy.size == qty("200"))
        #expect(buy.averagePrice == px("100.1"))
        // A limit on the wrong side of the oracle fills nothing.
        let none = world.planWalk(venue: 0, slot: 0, size: qty("-1"), limit: px("101"))
        #expect(none.size == .zero)
        #expect(none.impactAfter == .zero)
    }

    @Test("the maximum walk stops it: nothing rests beyond maxWalk bp from the oracle")
    func maxWalkStops() {
        var (world, account) = Self.book(maxWalk: 20)
        let walk = world.walkBook(venue: 0, slot: 0, account: account, size: qty("-1000"), limit: nil)
        #expect(walk.size == qty("-200"))              // 20 bp * $1,000 = $20,000
        #expect(walk.averagePrice == px("99.9"))
        #expect(world.venues[0].markets[0].impact == Ratio(bps: 20))
        // The sell side is exhausted; the buy side now has 40 bp of room, starting 20 bp down.
        #expect(world.planWalk(venue: 0, slot: 0, size: qty("-1"), limit: nil).size == .zero)
        let buy = world.planWalk(venue: 0, slot: 0, size: qty("100"), limit: nil)
        #expect(buy.size == qty("100"))
        #expect(buy.averagePrice == px("99.85"))       // 100 * (1 - 20 bp + 5 bp)
        #expect(buy.impactAfter == Ratio(bps: 10))
        #expect(world.planWalk(venue: 0, slot: 0, size: qty("1000"), limit: nil).size == qty("400"))
    }

    @Test("impact displaces the mark and decays by the resilience rate each second")
    func impactDecays() {
        var (world, account) = Self.book(resilience: ratio("0.1"))
        world.walkBook(venue: 0, slot: 0, account: account, size: qty("-100"), limit: nil)
        #expect(world.venues[0].markets[0].impact == Ratio(bps: 10))
        #expect(world.venues[0].markets[0].mark == px("100"))  // until the next step

        world.step(px("100"), at: 1)                           // 10 bp * (1 - 0.1)
        #expect(world.venues[0].markets[0].impact == Ratio(bps: 9))
        #expect(world.venues[0].markets[0].mark == px("99.91"))
        #expect(world.venues[0].markets[0].previousMark == px("100"))

        world.step(px("100"), at: 3)                           // 9 bp * (1 - 0.2)
        #expect(world.venues[0].markets[0].impact == ratio("0.00072"))
        #expect(world.venues[0].markets[0].mark == px("99.928"))
        #expect(world.venues[0].markets[0].previousMark == px("99.91"))

        world.step(px("100"), at: 30)                          // fully refilled
        #expect(world.venues[0].markets[0].impact == .zero)
        #expect(world.venues[0].markets[0].mark == px("100"))
        expectBalanced(world)
    }

    @Test("makers withdraw after a fast move: depth = calm * max(minimum, 1 - sensitivity * |move|)")
    func depthWithdraws() {
        var (world, _) = Self.book(sensitivity: ratio("10"), minimumDepth: ratio("0.2"))
        world.step(px("95"), at: 1)                            // a 5% move halves the book
        #expect(world.venues[0].markets[0].depthFactor == ratio("0.5"))
        #expect(world.venues[0].markets[0].depth == usd("500"))
        let walk = world.planWalk(venue: 0, slot: 0, size: qty("-25"), limit: nil)
        // $2,375 into $500/bp moves 4.75 bp: average 95 * (1 - 2.375 bp).
        #expect(walk.averagePrice == px("94.9774375"))
        world.step(px("85.5"), at: 2)                          // 14.5% below the minute-ago price: floor
        #expect(world.venues[0].markets[0].depthFactor == ratio("0.2"))
        world.step(px("85.5"), at: 200)                        // calm again
        #expect(world.venues[0].markets[0].depthFactor == .one)
    }

    @Test("an empty book fills nothing")
    func emptyBook() {
        let world = WorldBuilder([.cex], depthPerBasisPoint: .zero).open()
        let walk = world.planWalk(venue: 0, slot: 0, size: qty("-1"), limit: nil)
        #expect(walk.size == .zero)
        #expect(walk.averagePrice == px("100"))
    }
}
