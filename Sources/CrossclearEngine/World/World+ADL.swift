// Auto-deleveraging: the last layer. The bankrupt positions move at mark to each venue's ADL
// clearing account; winners chosen by the policy close the opposite size against the clearing
// account of their own venue (so a round may span venues), and pay haircuts that cover the
// bankrupt accounts' deficits exactly. What the clearing accounts still hold afterwards goes to the
// pool (shared designs) or the venue's own layer (siloed designs).

/// The bankrupt positions of one asset and side that one policy deleverages together.
struct ADLGroup {
    /// The policy (never `.venueDefault`: that is resolved to the venue's own rule).
    var policy: ADLPolicy
    /// The venue whose rule applies and whose own layer receives any overshoot; -1 for a
    /// cross-venue round under the scenario's policy (overshoot goes to the pool).
    var policyVenue: Int
    /// Venues whose holders may be deleveraged.
    var scope: [Int]
    var asset: Int
    /// Sign of the bankrupt positions (+1 long, -1 short); winners hold the other sign.
    var side: Int64
    /// Total bankrupt size to match (Quantity raw, positive).
    var size: Int64 = 0
    /// Total deficit to cover (Amount raw).
    var deficit: Int64 = 0
    /// Who is owed what: (venue, account, amount raw).
    var claims: [(venue: Int, account: Int, amount: Int64)] = []
}

/// A position that ADL may cut.
struct ADLCandidate {
    var venue: Int
    var account: Int
    var slot: Int
    /// Signed size (Quantity raw).
    var size: Int64
    /// Unrealized PnL of the position (Amount raw).
    var pnl: Int64
    /// Ranking key (higher is cut first), for queue policies.
    var key: Int128 = 0
}

extension World {
    mutating func runADL(_ requests: [ADLRequest]) {
        guard !requests.isEmpty else { return }
        var groups: [ADLGroup] = []
        var groupIndex: [GroupKey: Int] = [:]
        var largestLoser: Int64 = 0
        for request in requests {
            let (venue, account) = (request.venue, request.account)
            var legs: [(slot: Int, size: Int64, notional: Int64)] = []
            for slot in venues[venue].markets.indices where venues[venue].quantity[slot][account] != 0 {
                legs.append((slot, venues[venue].quantity[slot][account], venues[venue].notional(account, slot: slot).raw))
                transferPosition(venue: venue, slot: slot, from: account, to: Venue.adlAccount, price: venues[venue].markets[slot].mark)
            }
            let deficit = max(0, -venues[venue].collateral[account])
            largestLoser = max(largestLoser, deficit)
            guard !legs.isEmpty else {
                coverCashDeficit(venue: venue, account: account)
                continue
            }
            let shares = allocate(Amount(raw: deficit), weights: legs.map(\.notional))
            for (leg, share) in zip(legs, shares) {
                let key = groupKey(venue: venue, asset: venues[venue].markets[leg.slot].asset, side: leg.size.signum())
                let index: Int
                if let existing = groupIndex[key] {
                    index = existing
                } else {
                    index = groups.count
                    groupIndex[key] = index
                    groups.append(makeGroup(key))
                }
                groups[index].size += abs(leg.size)
                groups[index].deficit += share.raw
                groups[index].claims.append((venue, account, share.raw))
            }
        }
        var roundDeficit: Int64 = 0
        var largestWinner: Int64 = 0
        for group in groups.sorted(by: { GroupKey(of: $0) < GroupKey(of: $1) }) {
            roundDeficit += group.deficit
            largestWinner = max(largestWinner, deleverage(group))
        }
        // Fairness ratios are taken over rounds with a real shortfall (at least $1), not rounding dust.
        if roundDeficit >= Amount.unit {
            adlRounds += 1
            ptsrSum += Int128(largestWinner) * Int128(Ratio.unit) / Int128(roundDeficit)
            pmrSum += Int128(largestWinner) * Int128(Ratio.unit) / Int128(max(Amount.unit, largestLoser))
        }
        handOverClearingAccounts()
    }

    // MARK: - Groups

    struct GroupKey: Hashable, Comparable {
        var policyVenue: Int
        var asset: Int
        var side: Int64
        init(policyVenue: Int, asset: Int, side: Int64) {
            self.policyVenue = policyVenue
            self.asset = asset
            self.side = side
        }
        init(of group: ADLGroup) { self.init(policyVenue: group.policyVenue, asset: group.asset, side: group.side) }
        static func < (a: GroupKey, b: GroupKey) -> Bool {
            (a.policyVenue, a.asset, a.side) < (b.policyVenue, b.asset, b.side)
        }
    }

    func groupKey(venue: Int, asset: Int, side: Int64) -> GroupKey {
        GroupKey(policyVenue: config.adlPolicy == .venueDefault ? venue : -1, asset: asset, side: side)
    }

    func makeGroup(_ key: GroupKey) -> ADLGroup {
        let listing = venues.indices.filter { venues[$0].slotOfAsset[key.asset] >= 0 }
        let policy = key.policyVenue >= 0 ? venues[key.policyVenue].profile.adlPolicy : config.adlPolicy
        let scope = config.design.isShared ? listing : [key.policyVenue]
        return ADLGroup(policy: policy, policyVenue: key.policyVenue, scope: scope, asset: key.asset, side: key.side)
    }

    // MARK: - One group

    /// Chooses winners, closes their positions, collects haircuts and pays the claims. Returns the
    /// largest equity a deleveraged winner kept.
    mutating func deleverage(_ group: ADLGroup) -> Int64 {
        let candidates = adlCandidates(group)
        let fills = chooseFills(group, candidates)
        let haircuts = haircutsFor(group, candidates, fills)
        var collected: Int64 = 0
        var largestWinner: Int64 = 0
        for (fill, haircut) in zip(fills, haircuts) {
            let winner = candidates[fill.candidate]
            let mark = venues[winner.venue].markets[winner.slot].mark
            let before = venues[winner.venue].equityNow(winner.account)
            let size = Quantity(raw: fill.size)
            if group.side > 0 {
                trade(venue: winner.venue, slot: winner.slot, buyer: winner.account, seller: Venue.adlAccount, size: size, price: mark)
            } else {
                trade(venue: winner.venue, slot: winner.slot, buyer: Venue.adlAccount, seller: winner.account, size: size, price: mark)
            }
            transfer(Amount(raw: haircut), from: .collateral(venue: winner.venue, account: winner.account), to: .adlSettlement)
            collected += haircut
            let trader = Int(venues[winner.venue].owner[winner.account])
            if group.policy == .hedgeAware {
                closeOffsettingLegs(trader: trader, asset: group.asset, side: group.side, cut: fill.size,
                                    of: abs(winner.size), except: winner.venue)
            }
            adlHit[trader] = true
            metrics.adlCount += 1
            metrics.adlNotional += size.value(at: mark, rounding: .down)
            if before.isPositive { metrics.maxHaircut = max(metrics.maxHaircut, Ratio.of(Amount(raw: haircut), before, rounding: .up)) }
            largestWinner = max(largestWinner, venues[winner.venue].equityNow(winner.account).raw)
        }
        metrics.neededBudget += Amount(raw: group.deficit)
        metrics.productionHaircut += Amount(raw: collected)
        var left = collected
        for claim in group.claims {
            let paid = min(claim.amount, left)
            left -= paid
            transfer(Amount(raw: paid), from: .adlSettlement, to: .collateral(venue: claim.venue, account: claim.account))
            if claim.amount > paid {
                transfer(Amount(raw: claim.amount - paid), from: .lossAllocation(venue: claim.venue),
                         to: .collateral(venue: claim.venue, account: claim.account))
                metrics.badDebt += Amount(raw: claim.amount - paid)
            }
        }
        if left > 0 {
            metrics.overshoot += Amount(raw: left)
            let destination: LedgerAccount = group.policyVenue >= 0 && !config.design.isShared
                ? .collateral(venue: group.policyVenue, account: Venue.ownLayerAccount) : .pool
            transfer(Amount(raw: left), from: .adlSettlement, to: destination)
        }
        return largestWinner
    }

    /// Every position of the winners' side in the group's scope, with the policy's key. Holders at a
    /// loss are candidates too (they rank last in queues and can pay no haircut: ADL takes profit
    /// only), except under PnL pro-rata, which is defined over winners.
    func adlCandidates(_ group: ADLGroup) -> [ADLCandidate] {
        var candidates: [ADLCandidate] = []
        let needsProfit = group.policy == .pnlProRata
        for venue in group.scope {
            let slot = venues[venue].slotOfAsset[group.asset]
            guard slot >= 0 else { continue }
            let sizes = venues[venue].quantity[slot]
            for account in Venue.ownAccounts..<sizes.count where sizes[account].signum() == -group.side {
                let pnl = venues[venue].unrealizedPnL(account, slot: slot).raw
                if needsProfit && pnl <= 0 { continue }
                var candidate = ADLCandidate(venue: venue, account: account, slot: slot, size: sizes[account], pnl: pnl)
                candidate.key = adlKey(group.policy, candidate)
                candidates.append(candidate)
            }
        }
        return candidates
    }

    /// The ranking key of a candidate under a queue policy, scaled by 10^9 (higher is cut first).
    func adlKey(_ policy: ADLPolicy, _ candidate: ADLCandidate) -> Int128 {
        let venue = venues[candidate.venue]
        let scale = Int128(Ratio.unit)
        let equity = Int128(venue.equity[candidate.account])
        let notional = Int128(venue.notional(candidate.account, slot: candidate.slot).raw)
        let cost = Int128(abs(venue.basis[candidate.slot][candidate.account]))
        switch policy {
        case .hyperliquidQueue:
            // (mark / entry) * (notional / account value)
            guard equity > 0, cost > 0 else { return 0 }
            return notional * scale / cost * notional / equity
        case .binanceQueue:
            // max(0, uPnL) / max(1, wallet) * maintenance / (wallet + uPnL)
            let wallet = Int128(venue.collateral[candidate.account])
            let accountPnL = equity - wallet
            guard equity > 0, accountPnL > 0 else { return 0 }
            let pnlPercent = accountPnL * scale / max(Int128(Amount.unit), wallet)
            return pnlPercent * Int128(venue.maintenance[candidate.account]) / equity
        case .bitmexQueue:
            // PnL% * effective leverage when winning (candidates here are winners).
            guard equity > 0, cost > 0 else { return 0 }
            let pnlPercent = Int128(candidate.pnl) * scale / cost
            return pnlPercent * Int128(venue.grossNotional(candidate.account).raw) / equity
        case .hedgeAware:
            return hedgeAwareKey(candidate)
        case .venueDefault, .dydxRotation, .contractProRata, .pnlProRata:
            return 0
        }
    }

    /// Net profit over the trader's whole book in this asset, times net leverage: a hedged trader's
    /// legs net to nothing and rank last.
    func hedgeAwareKey(_ candidate: ADLCandidate) -> Int128 {
        let trader = Int(venues[candidate.venue].owner[candidate.account])
        let asset = venues[candidate.venue].markets[candidate.slot].asset
        var netSize: Int64 = 0
        var netPnL: Int64 = 0
        var totalEquity: Int64 = 0
        for index in legRange(of: trader) {
            let (venue, account) = leg(index)
            totalEquity += venues[venue].equity[account]
            let slot = venues[venue].slotOfAsset[asset]
            guard slot >= 0 else { continue }
            netSize += venues[venue].quantity[slot][account]
            netPnL += venues[venue].unrealizedPnL(account, slot: slot).raw
        }
        guard netPnL > 0, totalEquity > 0 else { return 0 }
        let mark = venues[candidate.venue].markets[candidate.slot].mark
        let netNotional = Int128(Quantity(raw: netSize).magnitude.value(at: mark, rounding: .down).raw)
        return Int128(netPnL) * Int128(Ratio.unit) / Int128(totalEquity) * netNotional / Int128(totalEquity)
    }

    /// Which candidates are cut, and by how much size.
    mutating func chooseFills(_ group: ADLGroup, _ candidates: [ADLCandidate]) -> [(candidate: Int, size: Int64)] {
        switch group.policy {
        case .contractProRata, .pnlProRata:
            let available = candidates.reduce(Int64(0)) { $0 + abs($1.size) }
            let total = min(group.size, available)
            let sizes = allocate(Amount(raw: total), weights: candidates.map { abs($0.size) })
            return sizes.enumerated().compactMap { $1.raw > 0 ? ($0, min($1.raw, abs(candidates[$0].size))) : nil }
        case .dydxRotation:
            guard !candidates.isEmpty else { return [] }
            let bound = UInt64(candidates.count)
            let start = Int(group.policyVenue >= 0 ? venues[group.policyVenue].random.below(bound) : random.below(bound))
            let order = (0..<min(candidates.count, 500)).map { (start + $0) % candidates.count }
            return takeInOrder(order, candidates, size: group.size)
        case .hyperliquidQueue, .binanceQueue, .bitmexQueue, .hedgeAware, .venueDefault:
            // Winners first, by key; holders at a loss after them.
            let order = candidates.indices.sorted { a, b in
                let (x, y) = (candidates[a], candidates[b])
                if (x.pnl > 0) != (y.pnl > 0) { return x.pnl > 0 }
                if x.key != y.key { return x.key > y.key }
                if x.pnl != y.pnl { return x.pnl > y.pnl }
                return (x.venue, x.account) < (y.venue, y.account)
            }
            return takeInOrder(order, candidates, size: group.size)
        }
    }

    func takeInOrder(_ order: [Int], _ candidates: [ADLCandidate], size: Int64) -> [(candidate: Int, size: Int64)] {
        var remaining = size
        var fills: [(candidate: Int, size: Int64)] = []
        for index in order where remaining > 0 {
            let take = min(remaining, abs(candidates[index].size))
            fills.append((index, take))
            remaining -= take
        }
        return fills
    }

    /// Haircuts that cover the group's deficit exactly (as far as winners' profits allow), in
    /// proportion to size cut (or to profit, for PnL pro-rata). Hyperliquid fills at the previous
    /// mark: a winner pays at least the move since then, and the excess is overshoot.
    func haircutsFor(_ group: ADLGroup, _ candidates: [ADLCandidate], _ fills: [(candidate: Int, size: Int64)]) -> [Int64] {
        // A winner never pays more than the profit on the size cut, nor more than their equity:
        // ADL takes profit, never principal, so it cannot make a winner liquidatable.
        let caps = fills.map { fill -> Int64 in
            let candidate = candidates[fill.candidate]
            let equity = max(0, venues[candidate.venue].equityNow(candidate.account).raw)
            let profit = Amount(raw: max(0, candidate.pnl)).scaled(fill.size, over: abs(candidate.size), rounding: .down).raw
            return min(equity, profit)
        }
        let weights = fills.map { group.policy == .pnlProRata ? candidates[$0.candidate].pnl : $0.size }
        var haircuts = allocateCapped(group.deficit, weights: weights, caps: caps)
        if group.policy == .hyperliquidQueue {
            for (index, fill) in fills.enumerated() {
                let market = venues[candidates[fill.candidate].venue].markets[candidates[fill.candidate].slot]
                let adverse = group.side > 0 ? market.previousMark.raw - market.mark.raw : market.mark.raw - market.previousMark.raw
                guard adverse > 0 else { continue }
                let floor = Quantity(raw: fill.size).value(at: Price(raw: adverse), rounding: .down).raw
                haircuts[index] = max(haircuts[index], min(caps[index], floor))
            }
        }
        return haircuts
    }

    /// Hedge-aware ADL: when `cut` of a winner's leg of size `legSize` is closed, the trader's
    /// offsetting legs on other venues are closed in the same proportion (the pool takes them at
    /// mark), so the hedge keeps its ratio and is never left one-legged.
    mutating func closeOffsettingLegs(trader: Int, asset: Int, side: Int64, cut: Int64, of legSize: Int64, except: Int) {
        for index in legRange(of: trader) {
            let (venue, account) = leg(index)
            guard venue != except else { continue }
            let slot = venues[venue].slotOfAsset[asset]
            guard slot >= 0, venues[venue].quantity[slot][account].signum() == side else { continue }
            let other = abs(venues[venue].quantity[slot][account])
            let take = cut == legSize ? other : min(other, multiplyDivide(other, cut, by: legSize, rounding: .up))
            guard take > 0 else { continue }
            let mark = venues[venue].markets[slot].mark
            if side > 0 {
                trade(venue: venue, slot: slot, buyer: Venue.poolAccount, seller: account, size: Quantity(raw: take), price: mark)
            } else {
                trade(venue: venue, slot: slot, buyer: account, seller: Venue.poolAccount, size: Quantity(raw: take), price: mark)
            }
        }
    }

    /// Whatever the ADL clearing accounts still hold goes to the pool (shared) or the own layer (siloed).
    mutating func handOverClearingAccounts() {
        for venue in venues.indices {
            let holder = config.design.isShared ? Venue.poolAccount : Venue.ownLayerAccount
            let cash: LedgerAccount = config.design.isShared ? .pool : .collateral(venue: venue, account: Venue.ownLayerAccount)
            for slot in venues[venue].markets.indices where venues[venue].quantity[slot][Venue.adlAccount] != 0 {
                transferPosition(venue: venue, slot: slot, from: Venue.adlAccount, to: holder, price: venues[venue].markets[slot].mark)
            }
            // Closing at mark leaves rounding residue of a few micro-dollars: a loss is written off
            // rather than charged to a holder that may have nothing left.
            let residue = balance(.collateral(venue: venue, account: Venue.adlAccount))
            if residue.isNegative {
                transfer(-residue, from: .lossAllocation(venue: venue), to: .collateral(venue: venue, account: Venue.adlAccount))
                metrics.badDebt -= residue
            } else {
                transfer(residue, from: .collateral(venue: venue, account: Venue.adlAccount), to: cash)
            }
        }
    }
}
