// How ADL ranks the positions it may cut: pure functions of margin figures, shared by the world and
// by a clearing node that ranks positions across venues from its view of them.

/// The margin figures ADL ranks a position by (Amount raw, at mark).
public struct ADLStanding: Sendable, Hashable {
    /// The account's equity and cash collateral.
    public var equity: Int64
    public var wallet: Int64
    /// The account's maintenance requirement and gross notional.
    public var maintenance: Int64
    public var grossNotional: Int64
    /// The position's notional, cost (|basis|) and unrealized profit.
    public var notional: Int64
    public var cost: Int64
    public var pnl: Int64
    /// Hedge-aware ranking only: the owner's net profit and net notional in the asset over all of
    /// their legs, and their total equity.
    public var traderNetPnL: Int64 = 0
    public var traderNetNotional: Int64 = 0
    public var traderEquity: Int64 = 0

    public init(equity: Int64, wallet: Int64, maintenance: Int64, grossNotional: Int64, notional: Int64, cost: Int64, pnl: Int64) {
        self.equity = equity
        self.wallet = wallet
        self.maintenance = maintenance
        self.grossNotional = grossNotional
        self.notional = notional
        self.cost = cost
        self.pnl = pnl
    }
}

/// ADL's ranking rules.
public enum ADLRanking {
    /// The ranking key of a position under a queue policy, scaled by 10^9 (higher is cut first);
    /// 0 for policies that do not rank.
    public static func key(_ policy: ADLPolicy, _ standing: ADLStanding) -> Int128 {
        let scale = Int128(Ratio.unit)
        let equity = Int128(standing.equity)
        let notional = Int128(standing.notional)
        let cost = Int128(standing.cost)
        switch policy {
        case .hyperliquidQueue:
            // (mark / entry) * (notional / account value)
            guard equity > 0, cost > 0 else { return 0 }
            return notional * scale / cost * notional / equity
        case .binanceQueue:
            // max(0, uPnL) / max(1, wallet) * maintenance / (wallet + uPnL)
            let wallet = Int128(standing.wallet)
            let accountPnL = equity - wallet
            guard equity > 0, accountPnL > 0 else { return 0 }
            let pnlPercent = accountPnL * scale / max(Int128(Amount.unit), wallet)
            return pnlPercent * Int128(standing.maintenance) / equity
        case .bitmexQueue:
            // PnL% * effective leverage when winning (candidates here are winners).
            guard equity > 0, cost > 0 else { return 0 }
            let pnlPercent = Int128(standing.pnl) * scale / cost
            return pnlPercent * Int128(standing.grossNotional) / equity
        case .hedgeAware:
            // Net profit over the trader's whole book in this asset, times net leverage: a hedged
            // trader's legs net to nothing and rank last.
            let total = Int128(standing.traderEquity)
            guard standing.traderNetPnL > 0, total > 0 else { return 0 }
            return Int128(standing.traderNetPnL) * scale / total * Int128(standing.traderNetNotional) / total
        case .venueDefault, .dydxRotation, .contractProRata, .pnlProRata:
            return 0
        }
    }

    /// Which positions a round cuts, and by how much, to match `total` (Quantity raw) against
    /// positions of signed `sizes` with their profits and ranking keys: pro-rata by size, a rotation
    /// from a random start (`rotationStart(count)`, drawn only for a rotation over at least one
    /// position; at most 500 holders), or a queue by key. Returns (position index, size cut).
    public static func fills(policy: ADLPolicy, sizes: [Int64], pnl: [Int64], keys: [Int128], total: Int64,
                             rotationStart: (UInt64) -> UInt64) -> [(candidate: Int, size: Int64)] {
        func takeInOrder(_ order: [Int]) -> [(candidate: Int, size: Int64)] {
            var remaining = total
            var fills: [(candidate: Int, size: Int64)] = []
            for index in order where remaining > 0 {
                let take = min(remaining, abs(sizes[index]))
                fills.append((index, take))
                remaining -= take
            }
            return fills
        }
        switch policy {
        case .contractProRata, .pnlProRata:
            let available = sizes.reduce(Int64(0)) { $0 + abs($1) }
            let shares = allocate(Amount(raw: min(total, available)), weights: sizes.map { abs($0) })
            return shares.enumerated().compactMap { $1.raw > 0 ? ($0, min($1.raw, abs(sizes[$0]))) : nil }
        case .dydxRotation:
            guard !sizes.isEmpty else { return [] }
            let start = Int(rotationStart(UInt64(sizes.count)))
            return takeInOrder((0..<min(sizes.count, 500)).map { (start + $0) % sizes.count })
        case .hyperliquidQueue, .binanceQueue, .bitmexQueue, .hedgeAware, .venueDefault:
            return takeInOrder(queueOrder(pnl: pnl, keys: keys))
        }
    }

    /// The most each cut winner pays: never more than the profit on the size cut, nor more than
    /// their equity (ADL takes profit, never principal, so it cannot make a winner liquidatable).
    public static func haircutCaps(cut: [Int64], sizes: [Int64], pnl: [Int64], equity: [Int64]) -> [Int64] {
        cut.indices.map { index in
            let profit = Amount(raw: max(0, pnl[index])).scaled(cut[index], over: abs(sizes[index]), rounding: .down).raw
            return min(max(0, equity[index]), profit)
        }
    }

    /// Haircuts that cover `deficit` exactly as far as the caps allow, in proportion to the size
    /// cut (to profit, under PnL pro-rata).
    public static func haircuts(policy: ADLPolicy, deficit: Int64, cut: [Int64], pnl: [Int64], caps: [Int64]) -> [Int64] {
        allocateCapped(deficit, weights: policy == .pnlProRata ? pnl : cut, caps: caps)
    }

    /// The order a queue cuts in: winners first, by key (highest first), then by profit; holders at
    /// a loss after them; ties in the order given.
    public static func queueOrder(pnl: [Int64], keys: [Int128]) -> [Int] {
        pnl.indices.sorted { a, b in
            if (pnl[a] > 0) != (pnl[b] > 0) { return pnl[a] > 0 }
            if keys[a] != keys[b] { return keys[a] > keys[b] }
            if pnl[a] != pnl[b] { return pnl[a] > pnl[b] }
            return a < b
        }
    }
}
