import CrossclearEngine
import CrossclearWire

/// A backstop request received and not yet answered.
struct PendingRequest: Sendable {
    var venue: Int
    var position: MutualPool.RequestPosition
    var request: BackstopRequest
}

/// The clearing node's answer to one backstop request: the fill for the requesting venue and, when
/// the pool could not cover the deficit, the cuts of the ADL round that did, for the venues of the
/// winners. Sent together, in one transaction.
public struct BackstopDecision: Sendable {
    public var venue: Int
    /// The answer to the request; nil for a round in which the pool deleverages its own inventory.
    public var fill: BackstopFill?
    /// The ADL round's cuts, each with its winner's venue; empty when the pool covered the request.
    public var cuts: [(venue: Int, cut: ADLInstruction)]
}

extension ClearingMachine {
    /// The pool's equity: its cash plus its inventory in every venue's pool account, at the view's
    /// marks (Amount raw); 0 without a pool.
    public var poolEquity: Int64 {
        guard let pool else { return 0 }
        return views.indices.reduce(pool.cash) { sum, venue in
            guard let state = views[venue].account(UInt32(Self.poolAccount)) else { return sum }
            return sum + (margin(of: state, venue: venue)?.equity ?? 0)
        }
    }

    /// Backstop requests waiting for an answer.
    public var pendingBackstops: Int { pendingRequests.count }

    /// Replaces the pool with the state journaled before a restart; requests it had answered are
    /// not answered again.
    public mutating func restore(pool restored: MutualPool) {
        pool = restored
        pendingRequests.removeAll { $0.position <= restored.answered[$0.venue] }
    }

    /// Queues a request the pool has not answered yet.
    mutating func queue(_ request: BackstopRequest, venue: Int, at position: MutualPool.RequestPosition) {
        guard let pool, position > pool.answered[venue] else { return }
        pendingRequests.append(PendingRequest(venue: venue, position: position, request: request))
        legStates[Leg(venue: venue, account: request.account)].requested = true
        // No collateral moves for that trader from now on.
        if let trader = views[venue].account(request.account)?.trader, isNetted(trader) { markDue(trader) }
    }

    /// Answers every pending request, in arrival order, as the simulator's waterfall does past a
    /// venue's own layer: the pool takes the account's positions at the view's marks and settles
    /// its equity to zero, calling assessments first when it is short. When even then it cannot
    /// cover the deficit, it pays what it has and a coordinated ADL round across every venue
    /// listing the assets covers the rest: winners close against the pool's account on their own
    /// venue and pay haircuts that sum to the shortfall (as far as their profits allow; what they
    /// cannot cover stays with the venue as bad debt).
    ///
    /// Then, if the pool's own equity is negative, it calls assessments and, if still short,
    /// deleverages its inventory as the simulator's world does (its shortfall split over the venues
    /// holding its positions by gross notional), once the view shows what its previous round did.
    public mutating func decideBackstops() -> [BackstopDecision] {
        guard pool != nil else { return [] }
        let requests = pendingRequests
        pendingRequests.removeAll()
        var decisions: [BackstopDecision] = []
        for request in requests { decisions.append(answer(request)) }
        return decisions + deleveragePool()
    }

    /// The pool's own ADL round when its equity is negative after assessments.
    private mutating func deleveragePool() -> [BackstopDecision] {
        let equity = poolEquity
        guard unconfirmedCuts.isEmpty, equity < 0 else { return [] }
        pool?.callAssessments(for: -equity)
        let shortfall = -poolEquity
        guard shortfall > 0 else { return [] }
        var holdings: [(venue: Int, legs: [BackstopLeg], gross: Int64)] = []
        for venue in views.indices {
            guard let state = views[venue].account(UInt32(Self.poolAccount)) else { continue }
            let legs = state.positions.compactMap { position in
                views[venue].mark(asset: Int(position.asset)).map { BackstopLeg(asset: position.asset, quantity: position.quantity, price: $0.mark) }
            }
            let gross = legs.reduce(Int64(0)) { $0 + $1.quantity.magnitude.value(at: $1.price, rounding: .down).raw }
            if gross > 0 { holdings.append((venue, legs, gross)) }
        }
        guard !holdings.isEmpty else { return [] }
        let number = UInt64((pool?.totals.adlRounds ?? 0) + 1)
        let shares = allocate(Amount(raw: shortfall), weights: holdings.map(\.gross))
        var decisions: [BackstopDecision] = []
        var haircuts: Int64 = 0
        for (holding, share) in zip(holdings, shares) {
            let round = deleverage(holding.legs, requester: holding.venue, shortfall: share.raw, round: number)
            haircuts += round.haircuts
            if !round.cuts.isEmpty { decisions.append(BackstopDecision(venue: holding.venue, fill: nil, cuts: round.cuts)) }
        }
        // No winner on any venue: nothing happened, so no round is recorded (the next decision
        // tries again, once the views show a winner).
        guard !decisions.isEmpty else { return [] }
        pool?.recordRound(cuts: decisions.reduce(0) { $0 + $1.cuts.count }, haircuts: haircuts)
        return decisions
    }

    /// The venues' account number of the pool's account (``Venue``'s layout, as every venue node publishes it).
    static let poolAccount = 2

    private mutating func answer(_ pending: PendingRequest) -> BackstopDecision {
        let venue = pending.venue
        let account = pending.request.account
        var legs: [BackstopLeg] = []
        var equity: Int64 = 0
        if let state = views[venue].account(account) {
            equity = state.collateral.raw
            for position in state.positions {
                guard let mark = views[venue].mark(asset: Int(position.asset))?.mark else { continue }
                legs.append(BackstopLeg(asset: position.asset, quantity: position.quantity, price: mark))
                equity += Self.closingValue(position.quantity, at: mark) - position.basis.raw
            }
        }
        let deficit = max(0, -equity)
        let before = poolEquity
        if before < deficit { pool?.callAssessments(for: deficit - before) }
        let available = poolEquity
        var paid = -equity
        var round: (cuts: [(venue: Int, cut: ADLInstruction)], haircuts: Int64)?
        if available < deficit {
            paid = min(deficit, max(0, min(available, pool?.cash ?? 0)))
            let number = UInt64((pool?.totals.adlRounds ?? 0) + 1)
            round = deleverage(legs, requester: venue, shortfall: deficit - paid, round: number)
            paid += round?.haircuts ?? 0
        }
        pool?.recordFill(venue: venue, request: pending.position, paid: paid,
                         round: round.map { ($0.cuts.count, $0.haircuts) })
        let fill = BackstopFill(account: account, requestEpoch: pending.position.epoch, requestSequence: pending.position.sequence,
                                legs: legs, cash: Amount(raw: paid))
        return BackstopDecision(venue: venue, fill: fill, cuts: round?.cuts ?? [])
    }

    /// What closing `quantity` at `price` realizes before the basis, as a venue's engine rounds a
    /// trade: the notional of the size, rounded down, signed as the position.
    static func closingValue(_ quantity: Quantity, at price: Price) -> Int64 {
        let notional = quantity.magnitude.value(at: price, rounding: .down).raw
        return quantity.isPositive ? notional : -notional
    }

    // MARK: - Coordinated ADL

    /// A position ADL may cut, as the view shows it.
    private struct Candidate {
        var venue: Int
        var account: UInt32
        var size: Int64
        var pnl: Int64
        var equity: Int64
        var mark: Price
        var key: Int128 = 0
    }

    /// One ADL round over the bankrupt `legs`: the shortfall is split over the legs by notional, and
    /// each leg's share is collected from the holders of the other side on every venue listing the
    /// asset, chosen by the design's policy.
    private mutating func deleverage(_ legs: [BackstopLeg], requester: Int, shortfall: Int64, round: UInt64)
        -> (cuts: [(venue: Int, cut: ADLInstruction)], haircuts: Int64)
    {
        let notionals = legs.map { $0.quantity.magnitude.value(at: $0.price, rounding: .down).raw }
        let shares = allocate(Amount(raw: shortfall), weights: notionals)
        let policy = adlPolicy == .venueDefault ? venuePolicies[requester] : adlPolicy
        var cuts: [(venue: Int, cut: ADLInstruction)] = []
        var collected: Int64 = 0
        for (leg, share) in zip(legs, shares) {
            let side = leg.quantity.raw.signum()
            let candidates = adlCandidates(asset: Int(leg.asset), side: side, policy: policy)
            // The rotation's start is drawn from the round number: the same round, the same winners.
            var random = SeededRandom(seed: seed ^ round)
            let fills = ADLRanking.fills(policy: policy, sizes: candidates.map(\.size), pnl: candidates.map(\.pnl),
                                         keys: candidates.map(\.key), total: leg.quantity.magnitude.raw) { random.below($0) }
            let winners = fills.map { candidates[$0.candidate] }
            let caps = ADLRanking.haircutCaps(cut: fills.map(\.size), sizes: winners.map(\.size), pnl: winners.map(\.pnl),
                                              equity: winners.map(\.equity))
            let haircuts = ADLRanking.haircuts(policy: policy, deficit: share.raw, cut: fills.map(\.size),
                                               pnl: winners.map(\.pnl), caps: caps)
            for (fill, haircut) in zip(fills, haircuts) {
                let winner = candidates[fill.candidate]
                let cut = ADLInstruction(round: round, account: winner.account, asset: leg.asset,
                                         quantity: Quantity(raw: winner.size > 0 ? fill.size : -fill.size),
                                         price: winner.mark, haircut: Amount(raw: haircut))
                cuts.append((winner.venue, cut))
                unconfirmedCuts.insert(Leg(venue: winner.venue, account: winner.account))
                collected += haircut
            }
        }
        return (cuts, collected)
    }

    /// Every trader position on the winners' side of `asset` in the views, on every venue listing it
    /// (accounts that asked the pool excluded), with the policy's ranking key.
    private func adlCandidates(asset: Int, side: Int64, policy: ADLPolicy) -> [Candidate] {
        var candidates: [Candidate] = []
        for venue in views.indices where lists(venue: venue, asset: asset) {
            guard let mark = views[venue].mark(asset: asset)?.mark else { continue }
            for state in views[venue].accounts {
                guard let state, state.trader != VenueMachine.venueOwned,
                      let position = state.positions.first(where: { Int($0.asset) == asset }),
                      position.quantity.raw.signum() == -side,
                      !legStates[Leg(venue: venue, account: state.account)].requested,
                      let margin = margin(of: state, venue: venue) else { continue }
                let value = position.quantity.markValue(at: mark).raw
                let pnl = value - position.basis.raw
                if policy == .pnlProRata && pnl <= 0 { continue }
                var candidate = Candidate(venue: venue, account: state.account, size: position.quantity.raw, pnl: pnl,
                                          equity: margin.equity, mark: mark)
                var standing = ADLStanding(
                    equity: margin.equity, wallet: margin.collateral, maintenance: margin.maintenance,
                    grossNotional: margin.grossNotional, notional: abs(value), cost: abs(position.basis.raw), pnl: pnl)
                if policy == .hedgeAware { addTraderStanding(&standing, trader: state.trader, asset: asset, mark: mark) }
                candidate.key = ADLRanking.key(policy, standing)
                candidates.append(candidate)
            }
        }
        return candidates
    }

    /// The owner's net profit, net notional in `asset` and total equity over all of their legs.
    private func addTraderStanding(_ standing: inout ADLStanding, trader: UInt32, asset: Int, mark: Price) {
        var netSize: Int64 = 0
        for leg in legsOfTrader[trader] {
            guard let state = views[leg.venue].account(leg.account), let margin = margin(of: state, venue: leg.venue) else { continue }
            standing.traderEquity += margin.equity
            guard let position = state.positions.first(where: { Int($0.asset) == asset }),
                  let legMark = views[leg.venue].mark(asset: asset)?.mark else { continue }
            netSize += position.quantity.raw
            standing.traderNetPnL += position.quantity.markValue(at: legMark).raw - position.basis.raw
        }
        standing.traderNetNotional = Quantity(raw: netSize).magnitude.value(at: mark, rounding: .down).raw
    }
}
