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

    /// The ranking key of a candidate under a queue policy (see ``ADLRanking/key(_:_:)``).
    func adlKey(_ policy: ADLPolicy, _ candidate: ADLCandidate) -> Int128 {
        let venue = venues[candidate.venue]
        var standing = ADLStanding(
            equity: venue.equity[candidate.account], wallet: venue.collateral[candidate.account],
            maintenance: venue.maintenance[candidate.account], grossNotional: venue.grossNotional(candidate.account).raw,
            notional: venue.notional(candidate.account, slot: candidate.slot).raw,
            cost: abs(venue.basis[candidate.slot][candidate.account]), pnl: candidate.pnl)
        if policy == .hedgeAware { addTraderStanding(&standing, candidate) }
        return ADLRanking.key(policy, standing)
    }

    /// The owner's net profit, net notional in the candidate's asset and total equity over every leg.
    func addTraderStanding(_ standing: inout ADLStanding, _ candidate: ADLCandidate) {
        let trader = Int(venues[candidate.venue].owner[candidate.account])
        let asset = venues[candidate.venue].markets[candidate.slot].asset
        var netSize: Int64 = 0
        for index in legRange(of: trader) {
            let (venue, account) = leg(index)
            standing.traderEquity += venues[venue].equity[account]
            let slot = venues[venue].slotOfAsset[asset]
            guard slot >= 0 else { continue }
            netSize += venues[venue].quantity[slot][account]
            standing.traderNetPnL += venues[venue].unrealizedPnL(account, slot: slot).raw
        }
        let mark = venues[candidate.venue].markets[candidate.slot].mark
        standing.traderNetNotional = Quantity(raw: netSize).magnitude.value(at: mark, rounding: .down).raw
    }

    /// Which candidates are cut, and by how much size (see ``ADLRanking/fills(policy:sizes:pnl:keys:total:rotationStart:)``).
    mutating func chooseFills(_ group: ADLGroup, _ candidates: [ADLCandidate]) -> [(candidate: Int, size: Int64)] {
        // Candidates are listed by (venue, account), the queue's last tie-break.
        ADLRanking.fills(policy: group.policy, sizes: candidates.map(\.size), pnl: candidates.map(\.pnl),
                         keys: candidates.map(\.key), total: group.size) { bound in
            group.policyVenue >= 0 ? venues[group.policyVenue].random.below(bound) : random.below(bound)
        }
    }

    /// Haircuts that cover the group's deficit exactly (as far as winners' profits allow), in
    /// proportion to size cut (or to profit, for PnL pro-rata). Hyperliquid fills at the previous
    /// mark: a winner pays at least the move since then, and the excess is overshoot.
    func haircutsFor(_ group: ADLGroup, _ candidates: [ADLCandidate], _ fills: [(candidate: Int, size: Int64)]) -> [Int64] {
        let winners = fills.map { candidates[$0.candidate] }
        let caps = ADLRanking.haircutCaps(cut: fills.map(\.size), sizes: winners.map(\.size), pnl: winners.map(\.pnl),
                                          equity: winners.map { venues[$0.venue].equityNow($0.account).raw })
        var haircuts = ADLRanking.haircuts(policy: group.policy, deficit: group.deficit, cut: fills.map(\.size),
                                           pnl: winners.map(\.pnl), caps: caps)
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
