// The clearing layer's own mechanisms: cross-venue netting with collateral moves, and sizing the
// mutual pool by stress test (Cover-N).

extension World {
    // MARK: - Netting

    /// For every trader with accounts on several venues and one of them below maintenance: the
    /// portfolio requirement on the trader's net exposure per asset gives a credit of at most
    /// `nettingCreditCap` of (sum of venue requirements - netted requirement). If the trader's total
    /// equity covers the credited total, each venue's threshold is lowered by its share of the credit
    /// and collateral moves from the legs with surplus to the legs short of their threshold (plus a
    /// cushion of a quarter of it, when the surplus allows), as ledger entries on both venues.
    mutating func applyNetting() {
        for trader in traderKind.indices where legStart[trader + 1] - legStart[trader] >= 2 {
            let underMaintenance = (Int(legStart[trader])..<Int(legStart[trader + 1])).contains { leg in
                let (venue, account) = (Int(legVenue[leg]), Int(legAccount[leg]))
                return venues[venue].equity[account] < venues[venue].maintenance[account]
            }
            guard underMaintenance else { continue }
            let legs = legs(of: trader)
            let maintenance = legs.map { venues[$0.venue].maintenance[$0.account] }
            let totalMaintenance = maintenance.reduce(0, +)
            guard totalMaintenance > 0 else { continue }
            let saving = max(0, totalMaintenance - nettedMaintenance(legs).raw)
            let credit = Amount(raw: saving).scaled(by: config.clearing.nettingCreditCap, rounding: .down).raw
            let totalEquity = legs.reduce(Int64(0)) { $0 + venues[$1.venue].equity[$1.account] }
            guard totalEquity >= totalMaintenance - credit else { continue }
            let creditShares = allocate(Amount(raw: credit), weights: maintenance)
            var thresholds: [Int64] = []
            for (index, leg) in legs.enumerated() {
                let threshold = maintenance[index] - creditShares[index].raw
                venues[leg.venue].threshold[leg.account] = threshold
                thresholds.append(threshold)
            }
            rebalance(legs, thresholds: thresholds)
        }
    }

    /// Requirement on the trader's net position per asset, at the strictest rules among the legs.
    func nettedMaintenance(_ legs: [(venue: Int, account: Int)]) -> Amount {
        var total = Amount.zero
        for asset in config.assets.indices {
            var net: Int64 = 0
            var mark: Price?
            var strictest: MarketRules?
            for (venue, account) in legs {
                let slot = venues[venue].slotOfAsset[asset]
                guard slot >= 0, venues[venue].quantity[slot][account] != 0 else { continue }
                net += venues[venue].quantity[slot][account]
                mark = mark ?? venues[venue].markets[slot].mark
                let rules = venues[venue].markets[slot].rules
                if strictest == nil || rules.tiers[0].maintenance > strictest!.tiers[0].maintenance { strictest = rules }
            }
            guard let mark, let strictest, net != 0 else { continue }
            total += strictest.maintenance(notional: Quantity(raw: net).magnitude.value(at: mark, rounding: .up))
        }
        return total
    }

    mutating func rebalance(_ legs: [(venue: Int, account: Int)], thresholds: [Int64]) {
        let equities = legs.map { venues[$0.venue].equity[$0.account] }
        var surplus = zip(equities, thresholds).map { max(0, $0 - $1) }
        let shortfall = zip(equities, thresholds).map { max(0, $1 - $0) }
        let needed = shortfall.reduce(0, +)
        guard needed > 0 else { return }
        let cushionRoom = surplus.reduce(0, +) - needed
        for (index, leg) in legs.enumerated() where shortfall[index] > 0 {
            let cushion = min(Amount(raw: max(0, cushionRoom)).scaled(shortfall[index], over: needed, rounding: .down).raw,
                              thresholds[index] / 4)
            var want = shortfall[index] + cushion
            for (source, from) in legs.enumerated() where want > 0 && surplus[source] > 0 {
                let amount = min(want, surplus[source])
                transfer(Amount(raw: amount), from: .collateral(venue: from.venue, account: from.account),
                         to: .collateral(venue: leg.venue, account: leg.account))
                venues[from.venue].equity[from.account] -= amount
                venues[leg.venue].equity[leg.account] += amount
                surplus[source] -= amount
                want -= amount
                metrics.collateralMoves += 1
                metrics.collateralMoved += Amount(raw: amount)
            }
        }
    }

    // MARK: - Pool sizing

    /// Cover-N: stress every venue's trader accounts with the stress move down and up; a venue's
    /// stress loss is the larger of the two sums of equity shortfalls. The pool's target is the sum
    /// of the N largest venue losses times the multiplier; each venue contributes its share of the
    /// target in proportion to its own stress loss, out of its own layer's capital.
    mutating func sizePool() {
        let move = config.clearing.stressMove
        let losses = venues.map { venue in
            max(stressLoss(venue, shock: Ratio(raw: Ratio.unit - move.raw)), stressLoss(venue, shock: Ratio(raw: Ratio.unit + move.raw)))
        }
        let largest = losses.sorted(by: >).prefix(config.clearing.poolCover).reduce(Amount.zero, +)
        let target = largest.scaled(by: config.clearing.poolMultiplier, rounding: .up)
        let contributions = allocate(target, weights: losses.map(\.raw))
        for venue in venues.indices {
            let ownLayer = LedgerAccount.collateral(venue: venue, account: Venue.ownLayerAccount)
            transfer(Amount.min(contributions[venue], Amount.max(.zero, balance(ownLayer))), from: ownLayer, to: .pool)
        }
    }

    func stressLoss(_ venue: Venue, shock: Ratio) -> Amount {
        var loss = Amount.zero
        for account in Venue.ownAccounts..<venue.accountCount {
            var equity = Amount(raw: venue.collateral[account])
            for slot in venue.markets.indices where venue.quantity[slot][account] != 0 {
                let price = venue.markets[slot].mark.scaled(by: shock, rounding: .down)
                equity += Quantity(raw: venue.quantity[slot][account]).markValue(at: price) - Amount(raw: venue.basis[slot][account])
            }
            if equity.isNegative { loss -= equity }
        }
        return loss
    }
}
