// The order book depth model. Each market's book holds `depth` USD per basis point on each side
// around the oracle, displaced by `impact`. Walking it moves the price linearly, so a liquidation
// pushes the mark and can set off the next one; impact decays as makers refill (resilience), and
// depth itself shrinks when prices move fast (makers withdraw). Nothing rests beyond `maxWalk`.

/// The result of walking a book: how much would fill and at what average price.
struct BookWalk {
    /// Size that fills (same sign as asked).
    var size: Quantity
    /// Volume-weighted average fill price.
    var averagePrice: Price
    /// The market's impact after the walk.
    var impactAfter: Ratio
}

extension World {
    /// One basis point in `Ratio` units.
    static let basisPoint: Int64 = 100_000

    /// What walking `size` (negative: sell, positive: buy) into a market's book would do, stopping
    /// at `limit` (the worst acceptable price) and at the end of the book.
    func planWalk(venue: Int, slot: Int, size: Quantity, limit: Price?) -> BookWalk {
        let market = venues[venue].markets[slot]
        let oracle = market.oracle
        let depth = market.depth
        let impact = market.impact.raw
        let none = BookWalk(size: .zero, averagePrice: oracle, impactAfter: market.impact)
        guard size.raw != 0, depth.isPositive, oracle.isPositive else { return none }
        let selling = size.isNegative
        let maxWalk = config.liquidity.maxWalkBasisPoints * World.basisPoint
        // How far (as a fraction of the oracle) the price may still move in the walk's direction.
        var room = selling ? maxWalk - impact : maxWalk + impact
        if let limit {
            let limitRatio = narrow(divide(Int128(limit.raw) * Int128(Ratio.unit), by: Int128(oracle.raw), rounding: selling ? .up : .down))
            // Selling: end price oracle*(1 - impact - move) >= limit. Buying: oracle*(1 - impact + move) <= limit.
            let byLimit = selling ? Ratio.unit - limitRatio - impact : limitRatio - Ratio.unit + impact
            room = min(room, byLimit)
        }
        guard room > 0 else { return none }
        // Size the book can take before the room runs out (compared in 128 bits: a deep book's
        // reach can exceed any order, and Int64).
        let reachable = divide(Int128(room) * Int128(depth.raw), by: Int128(World.basisPoint), rounding: .down)
        let largest = divide(reachable * notionalDivisor, by: Int128(oracle.raw), rounding: .down)
        let filled = Quantity(raw: narrow(min(Int128(size.magnitude.raw), largest)))
        guard filled.isPositive else { return none }
        let moved = narrow(divide(Int128(filled.value(at: oracle, rounding: .up).raw) * Int128(World.basisPoint),
                                  by: Int128(depth.raw), rounding: .up))
        // The average fill is half-way along the walk; sellers receive the rounded-down price, buyers pay rounded up.
        let averageOffset = selling ? Ratio.unit - impact - moved / 2 : Ratio.unit - impact + moved / 2
        let average = oracle.scaled(by: Ratio(raw: max(0, averageOffset)), rounding: selling ? .down : .up)
        return BookWalk(size: selling ? -filled : filled, averagePrice: average,
                        impactAfter: Ratio(raw: selling ? impact + moved : impact - moved))
    }

    /// Walks a market's book for `account`, trading against the book makers. Returns what filled.
    @discardableResult
    mutating func walkBook(venue: Int, slot: Int, account: Int, size: Quantity, limit: Price?) -> BookWalk {
        let walk = planWalk(venue: venue, slot: slot, size: size, limit: limit)
        guard walk.size.raw != 0, walk.averagePrice.isPositive else { return walk }
        if walk.size.isNegative {
            trade(venue: venue, slot: slot, buyer: Venue.bookAccount, seller: account, size: walk.size.magnitude, price: walk.averagePrice)
        } else {
            trade(venue: venue, slot: slot, buyer: account, seller: Venue.bookAccount, size: walk.size, price: walk.averagePrice)
        }
        venues[venue].markets[slot].impact = walk.impactAfter
        return walk
    }
}
