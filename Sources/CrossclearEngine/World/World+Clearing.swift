// The clearing layer's own mechanisms: cross-venue netting with collateral moves, and sizing the
// mutual pool by stress test (Cover-N).

extension World {
    // MARK: - Netting

    /// For every trader with accounts on several venues and one of them below maintenance: the
    /// portfolio requirement on the trader's net exposure per asset gives a credit of at most
    /// `nettingCreditCap` of (sum of venue requirements - netted requirement). If the trader's total
    /// equity covers the credited total, each venue's threshold is lowered by its share of the credit
    /// (in proportion to its requirement; the last leg takes the rounding remainder) and collateral
    /// moves from the legs with surplus to the legs short of their threshold (plus a cushion of up to
    /// a quarter of it, when the surplus allows), as ledger entries on both venues. Runs for every
    /// credited trader every step, so it allocates nothing.
    mutating func applyNetting() {
        for trader in multiVenueTraders.lazy.map(Int.init) {
            let legs = legRange(of: trader)
            var totalMaintenance: Int64 = 0
            var totalEquity: Int64 = 0
            var underMaintenance = false
            for leg in legs {
                let (venue, account) = self.leg(leg)
                totalMaintenance += venues[venue].maintenance[account]
                totalEquity += venues[venue].equity[account]
                underMaintenance = underMaintenance || venues[venue].equity[account] < venues[venue].maintenance[account]
            }
            guard underMaintenance, totalMaintenance > 0 else { continue }
            let saving = max(0, totalMaintenance - nettedMaintenance(legs: legs).raw)
            let credit = Amount(raw: saving).scaled(by: config.clearing.nettingCreditCap, rounding: .down).raw
            guard totalEquity >= totalMaintenance - credit else { continue }
            var granted: Int64 = 0
            for leg in legs {
                let (venue, account) = self.leg(leg)
                let maintenance = venues[venue].maintenance[account]
                let share = leg == legs.upperBound - 1
                    ? credit - granted : multiplyDivide(credit, maintenance, by: totalMaintenance, rounding: .down)
                granted += share
                venues[venue].threshold[account] = maintenance - share
            }
            rebalance(legs: legs)
        }
    }

    /// Requirement on the trader's net position per asset, at the strictest rules among the legs.
    func nettedMaintenance(legs: Range<Int>) -> Amount {
        var total = Amount.zero
        for leg in legs {
            let (venue, account) = self.leg(leg)
            for slot in venues[venue].markets.indices where venues[venue].quantity[slot][account] != 0 {
                let asset = venues[venue].markets[slot].asset
                // Count each asset once: at the first leg that holds it.
                guard !(legs.lowerBound..<leg).contains(where: { holding(leg: $0, asset: asset) != nil }) else { continue }
                var net: Int64 = 0
                var strictest = venues[venue].markets[slot].rules
                for other in legs {
                    guard let held = holding(leg: other, asset: asset) else { continue }
                    net += held.size
                    let rules = venues[held.venue].markets[held.slot].rules
                    if rules.tiers[0].maintenance > strictest.tiers[0].maintenance { strictest = rules }
                }
                guard net != 0 else { continue }
                let mark = venues[venue].markets[slot].mark
                total += strictest.maintenance(notional: Quantity(raw: net).magnitude.value(at: mark, rounding: .up))
            }
        }
        return total
    }

    /// A leg's position in an asset (signed Quantity raw) and where it sits, if the leg holds one.
    private func holding(leg index: Int, asset: Int) -> (venue: Int, slot: Int, size: Int64)? {
        let (venue, account) = leg(index)
        let slot = venues[venue].slotOfAsset[asset]
        guard slot >= 0, venues[venue].quantity[slot][account] != 0 else { return nil }
        return (venue, slot, venues[venue].quantity[slot][account])
    }

    /// Moves collateral from legs above their threshold to legs below it (plus the cushion).
    private mutating func rebalance(legs: Range<Int>) {
        func state(_ leg: Int) -> (venue: Int, account: Int, surplus: Int64) {
            let (venue, account) = self.leg(leg)
            return (venue, account, venues[venue].equity[account] - venues[venue].threshold[account])
        }
        var needed: Int64 = 0
        var available: Int64 = 0
        for leg in legs {
            let surplus = state(leg).surplus
            if surplus < 0 { needed -= surplus } else { available += surplus }
        }
        guard needed > 0 else { return }
        let cushionRoom = max(0, available - needed)
        for leg in legs where state(leg).surplus < 0 {
            let target = state(leg)
            let shortfall = -target.surplus
            let cushion = min(Amount(raw: cushionRoom).scaled(shortfall, over: needed, rounding: .down).raw,
                              venues[target.venue].threshold[target.account] / 4)
            var want = shortfall + cushion
            for source in legs where want > 0 && state(source).surplus > 0 {
                let from = state(source)
                let amount = min(want, from.surplus)
                transfer(Amount(raw: amount), from: .collateral(venue: from.venue, account: from.account),
                         to: .collateral(venue: target.venue, account: target.account))
                venues[from.venue].equity[from.account] -= amount
                venues[target.venue].equity[target.account] += amount
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
            poolContributions[venue] = Amount.min(contributions[venue], Amount.max(.zero, balance(ownLayer)))
            transfer(poolContributions[venue], from: ownLayer, to: .pool)
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
