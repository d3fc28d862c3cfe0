import PropertyBased
import Testing
@testable import CrossclearEngine

@Suite("Ledger: trades, realized PnL and exact allocation")
struct LedgerTests {
    /// Two flat traders, A and B, on one venue, each with $1,000 of cash.
    struct Pair {
        var world: World
        var a: Int
        var b: Int

        init(_ builder: WorldBuilder = WorldBuilder([.cex])) {
            world = builder.open()
            a = world.addAccount(leg(collateral: "1000", size: "0")).account
            b = world.addAccount(leg(collateral: "1000", size: "0")).account
        }

        /// `buyer` buys `size` from `seller` at `price`.
        mutating func trade(buyer: Int, seller: Int, size: String, price: String) {
            world.trade(venue: 0, slot: 0, buyer: buyer, seller: seller, size: qty(size), price: px(price))
        }

        func size(_ account: Int) -> Quantity { Quantity(raw: world.venues[0].quantity[0][account]) }
        func basis(_ account: Int) -> Amount { Amount(raw: world.venues[0].basis[0][account]) }
        func cash(_ account: Int) -> Amount { Amount(raw: world.venues[0].collateral[account]) }
        var settlement: Amount { Amount(raw: world.venues[0].settlement[0]) }
    }

    @Test("open, increase, partial reduce, full close: basis and realized PnL by hand")
    func lifecycle() {
        var pair = Pair()
        let (a, b) = (pair.a, pair.b)

        // Open: A buys 2 at 100.
        pair.trade(buyer: a, seller: b, size: "2", price: "100")
        #expect(pair.size(a) == qty("2") && pair.basis(a) == usd("200"))
        #expect(pair.size(b) == qty("-2") && pair.basis(b) == usd("-200"))
        #expect(pair.settlement == .zero)
        expectBalanced(pair.world)

        // Increase: A buys 1 more at 110. Nothing is realized.
        pair.trade(buyer: a, seller: b, size: "1", price: "110")
        #expect(pair.size(a) == qty("3") && pair.basis(a) == usd("310"))
        #expect(pair.size(b) == qty("-3") && pair.basis(b) == usd("-310"))
        #expect(pair.cash(a) == usd("1000") && pair.cash(b) == usd("1000"))
        expectBalanced(pair.world)

        // Partial reduce: A sells 1 at 120. A removes ceil(310/3) = 103.333334 of basis and realizes
        // 120 - 103.333334 = 16.666666; B removes ceil(-310/3) = -103.333333 and realizes -16.666667.
        // The settlement account keeps the unit of rounding: +0.000001 = -sum(basis).
        pair.trade(buyer: b, seller: a, size: "1", price: "120")
        #expect(pair.size(a) == qty("2") && pair.basis(a) == usd("206.666666"))
        #expect(pair.size(b) == qty("-2") && pair.basis(b) == usd("-206.666667"))
        #expect(pair.cash(a) == usd("1016.666666"))
        #expect(pair.cash(b) == usd("983.333333"))
        #expect(pair.settlement == usd("0.000001"))
        expectBalanced(pair.world)

        // Full close: A sells the last 2 at 90. All remaining basis goes; A realizes 180 - 206.666666.
        pair.trade(buyer: b, seller: a, size: "2", price: "90")
        #expect(pair.size(a) == .zero && pair.basis(a) == .zero)
        #expect(pair.size(b) == .zero && pair.basis(b) == .zero)
        // A bought 3 for 310 and sold 3 for 300: exactly -10 over the round trip; B the mirror.
        #expect(pair.cash(a) == usd("990"))
        #expect(pair.cash(b) == usd("1010"))
        #expect(pair.settlement == .zero)
        expectBalanced(pair.world)
    }

    @Test("a fill through zero is a full close then an open, with the notional split by size")
    func flip() {
        var pair = Pair()
        let (a, b) = (pair.a, pair.b)
        pair.trade(buyer: a, seller: b, size: "1", price: "100")
        // A sells 3 at 80: closes 1 (realizes 80 - 100 = -20) and opens a short of 2 for 160.
        pair.trade(buyer: b, seller: a, size: "3", price: "80")
        #expect(pair.size(a) == qty("-2") && pair.basis(a) == usd("-160"))
        #expect(pair.size(b) == qty("2") && pair.basis(b) == usd("160"))
        #expect(pair.cash(a) == usd("980") && pair.cash(b) == usd("1020"))
        expectBalanced(pair.world)

        // A buys 3 at 33.33333334: notional 100.00000002, rounded down to 100.
        pair.trade(buyer: a, seller: b, size: "3", price: "33.33333334")
        // Closing 2 of 3: closing notional = floor(100 * 2 / 3) = 66.666666; opening 1 for 33.333334.
        #expect(pair.size(a) == qty("1") && pair.basis(a) == usd("33.333334"))
        #expect(pair.size(b) == qty("-1") && pair.basis(b) == usd("-33.333334"))
        // A's short of 2 cost -160 and was bought back for 66.666666: +93.333334.
        #expect(pair.cash(a) == usd("1073.333334"))
        #expect(pair.cash(b) == usd("926.666666"))
        expectBalanced(pair.world)
    }

    @Test("trading with oneself changes nothing")
    func selfTrade() {
        var pair = Pair()
        pair.trade(buyer: pair.a, seller: pair.a, size: "5", price: "100")
        #expect(pair.size(pair.a) == .zero && pair.cash(pair.a) == usd("1000"))
        expectBalanced(pair.world)
    }

    @Test("random trade sequences keep every market balanced and the ledger exact (property)")
    func randomTrades() async {
        await propertyCheck(count: 40, input: Gen.int64(in: 1...1_000_000_000).array(of: 5...40),
                            Gen.int64(in: 1_000_000...50_000_000_000).array(of: 5...40)) { sizes, prices in
            var pair = Pair()
            let accounts = [pair.a, pair.b, Venue.bookAccount]
            for (index, (size, price)) in zip(sizes, prices).enumerated() {
                let buyer = accounts[index % 3]
                let seller = accounts[(index + 1 + Int(size % 2)) % 3]
                pair.world.trade(venue: 0, slot: 0, buyer: buyer, seller: seller, size: Quantity(raw: size), price: Price(raw: price))
                expectBalanced(pair.world, "after trade \(index): size \(size) price \(price)")
            }
        }
    }

    // MARK: - allocate

    @Test("allocate splits exactly and gives leftover units to the largest remainders", arguments: [
        (10, [1, 1, 1], [4, 3, 3]),             // ties go to the lowest index
        (10, [3, 3, 1], [4, 4, 2]),             // exact shares 4.29, 4.29, 1.43: the 0.43 remainder wins
        (100, [1, 2, 3, 4], [10, 20, 30, 40]),  // even
        (7, [0, 0, 0], [3, 2, 2]),              // all-zero weights split evenly
        (5, [0, 5, -3], [0, 5, 0]),             // zero and negative weights get nothing
        (1, [1, 1_000_000], [0, 1]),
        (0, [4, 5], [0, 0]),
    ] as [(Int64, [Int64], [Int64])])
    func allocation(_ total: Int64, _ weights: [Int64], _ expected: [Int64]) {
        #expect(allocate(Amount(raw: total), weights: weights).map(\.raw) == expected)
    }

    @Test("allocate: sums exactly, each share within one unit of its exact share (property)")
    func allocationProperty() async {
        await propertyCheck(count: 200, input: Gen.int64(in: 0...1_000_000_000_000),
                            Gen.int64(in: 0...1_000_000_000).array(of: 1...12)) { total, weights in
            let shares = allocate(Amount(raw: total), weights: weights).map(\.raw)
            #expect(shares.reduce(0, +) == total)
            let weightSum = weights.reduce(Int128(0)) { $0 + Int128($1) }
            guard weightSum > 0 else { return }
            for (share, weight) in zip(shares, weights) {
                let floor = Int128(total) * Int128(weight) / weightSum
                #expect(Int128(share) == floor || Int128(share) == floor + 1, "weights \(weights) total \(total)")
            }
        }
    }

    // MARK: - allocateCapped

    @Test("allocateCapped respects caps and spreads what a capped share cannot take", arguments: [
        (100, [1, 1, 1], [10, 100, 100], [10, 45, 45]),
        (100, [1, 1, 1], [10, 20, 30], [10, 20, 30]),   // caps sum to 60 < 100
        (60, [1, 2, 3], [1_000, 1_000, 1_000], [10, 20, 30]),
        (50, [5, 0, 5], [10, 100, 100], [10, 0, 40]),   // a zero weight only takes once the rest are capped
        (50, [5, 0, 5], [10, 100, 20], [10, 20, 20]),
        (9, [1, 1, 1], [0, 5, 5], [0, 5, 4]),           // zero cap: nothing
    ] as [(Int64, [Int64], [Int64], [Int64])])
    func cappedAllocation(_ total: Int64, _ weights: [Int64], _ caps: [Int64], _ expected: [Int64]) {
        #expect(allocateCapped(total, weights: weights, caps: caps) == expected)
    }

    @Test("allocateCapped: share <= cap and sum == min(total, sum caps) (property)")
    func cappedProperty() async {
        await propertyCheck(count: 200, input: Gen.int64(in: 0...10_000_000),
                            zip(Gen.int64(in: 0...1_000), Gen.int64(in: 0...3_000_000)).array(of: 1...10)) { total, pairs in
            let weights = pairs.map(\.0)
            let caps = pairs.map(\.1)
            let shares = allocateCapped(total, weights: weights, caps: caps)
            #expect(shares.reduce(0, +) == min(total, caps.reduce(0, +)), "weights \(weights) caps \(caps) total \(total)")
            for (share, cap) in zip(shares, caps) {
                #expect(share >= 0 && share <= cap, "weights \(weights) caps \(caps) total \(total)")
            }
        }
    }
}
