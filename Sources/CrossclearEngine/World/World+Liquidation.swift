// Liquidation and the default waterfall:
// defaulter's margin -> the venue's own layer (vault or fund, per profile and design) -> the mutual
// pool as buyer of last resort -> capped venue assessments -> ADL.

/// Where an account enters the waterfall (after it, only ADL is left).
enum WaterfallLayer: Int, Comparable {
    /// The venue's own vault or fund (traders' accounts start here).
    case ownLayer
    /// The mutual pool (the venue's own layer itself starts here).
    case pool
    static func < (lhs: WaterfallLayer, rhs: WaterfallLayer) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An account whose remaining positions and deficit go to ADL this step.
struct ADLRequest: Hashable {
    var venue: Int
    var account: Int
}

extension World {
    /// Liquidates every account below its threshold, venue by venue, in account order.
    mutating func liquidateUnderwaterAccounts(into requests: inout [ADLRequest]) {
        for venue in venues.indices {
            for account in Venue.ownAccounts..<venues[venue].accountCount
            where venues[venue].equity[account] < venues[venue].threshold[account] && !isAwaitingBackstop(venue: venue, account: account) {
                liquidate(venue: venue, account: account, into: &requests)
            }
        }
    }

    mutating func liquidate(venue: Int, account: Int, into requests: inout [ADLRequest]) {
        let profile = venues[venue].profile
        if let band = profile.oracleBand, oracleOutsideBand(venue: venue, account: account, band: band) { return }
        let equity = Amount(raw: venues[venue].equity[account])
        let share = liquidationShare(venue: venue, account: account, equity: equity,
                                     maintenance: Amount(raw: venues[venue].maintenance[account]))
        var closed = Amount.zero
        var unfilled = false
        if share.isPositive {
            let gross = venues[venue].grossNotional(account)
            for slot in venues[venue].markets.indices where venues[venue].quantity[slot][account] != 0 {
                let size = Quantity(raw: venues[venue].quantity[slot][account])
                let target = min(size.magnitude, max(Quantity(raw: 1), size.magnitude.scaled(by: share, rounding: .up)))
                let limit = bankruptcyPrice(venue: venue, account: account, slot: slot, equity: equity, gross: gross)
                let walk = walkBook(venue: venue, slot: slot, account: account, size: size.isPositive ? -target : target, limit: limit)
                closed += walk.size.magnitude.value(at: venues[venue].markets[slot].mark, rounding: .down)
                if walk.size.magnitude < target { unfilled = true }
            }
        }
        if closed.isPositive {
            metrics.liquidationCount += 1
            metrics.liquidationNotional += closed
            venues[venue].lastLiquidation[account] = timeSeconds
            let fee = Amount.min(Amount.max(.zero, venues[venue].equityNow(account)),
                                 closed.scaled(by: profile.liquidationFee, rounding: .down))
            payLiquidationFee(fee, venue: venue, account: account)
        }
        let remaining = venues[venue].equityNow(account)
        guard venues[venue].hasPositions(account) else {
            if remaining.isNegative { coverCashDeficit(venue: venue, account: account) }
            return
        }
        var needsBackstop = !remaining.isPositive || (profile.takeoverUnfilled && unfilled)
        if let fraction = profile.takeoverBelowMaintenance,
           remaining < venues[venue].maintenanceNow(account).scaled(by: fraction, rounding: .up) {
            needsBackstop = true
        }
        if needsBackstop { resolve(venue: venue, account: account, from: .ownLayer, into: &requests) }
    }

    /// Share (0...1) of each position a liquidation order closes now, per the profile's style.
    func liquidationShare(venue: Int, account: Int, equity: Amount, maintenance: Amount) -> Ratio {
        switch venues[venue].profile.liquidation {
        case .whole:
            return .one
        case .sliced(let slice, let threshold, let cooldown):
            if timeSeconds - venues[venue].lastLiquidation[account] < cooldown { return .zero }
            return venues[venue].grossNotional(account) > threshold ? slice : .one
        case .perStep(let share, let minimum, let maximum):
            let gross = venues[venue].grossNotional(account)
            guard gross.isPositive else { return .zero }
            let amount = Amount.min(maximum, Amount.max(minimum, gross.scaled(by: share, rounding: .up)))
            return Ratio(raw: min(Ratio.unit, Ratio.of(amount, gross, rounding: .up).raw))
        case .restoreHealth(let buffer):
            // Closing a share f of every position costs at most f*(fee*N + S), S the slippage of closing
            // everything (impact is linear in size, so a share f slips at most f*S), and leaves
            // (1-f)*M*(1+b) of requirement: f = (M(1+b) - E) / (M(1+b) - fee*N - S).
            guard equity.isPositive, maintenance.isPositive else { return .one }
            let target = maintenance.scaled(by: Ratio(raw: Ratio.unit + buffer.raw), rounding: .up)
            let fees = venues[venue].grossNotional(account).scaled(by: venues[venue].profile.liquidationFee, rounding: .up)
            let denominator = target - fees - closeOutCost(venue: venue, account: account).slippage
            guard denominator.isPositive, equity < target else { return equity < target ? .one : .zero }
            return Ratio(raw: min(Ratio.unit, Ratio.of(target - equity, denominator, rounding: .up).raw))
        }
    }

    /// What closing every position of the account into the books at market would cost against the
    /// mark, and whether the books can absorb all of it.
    func closeOutCost(venue: Int, account: Int) -> (slippage: Amount, fillable: Bool) {
        var slippage = Amount.zero
        var fillable = true
        for slot in venues[venue].markets.indices where venues[venue].quantity[slot][account] != 0 {
            let size = Quantity(raw: venues[venue].quantity[slot][account])
            let walk = planWalk(venue: venue, slot: slot, size: -size, limit: nil)
            let mark = venues[venue].markets[slot].mark
            slippage += walk.size.magnitude.value(at: Price(raw: abs(mark.raw - walk.averagePrice.raw)), rounding: .up)
            if walk.size.magnitude != size.magnitude { fillable = false }
        }
        return (slippage, fillable)
    }

    /// The price at which this position, carrying its notional share of the account's equity,
    /// would be worth exactly zero: the limit of the liquidation order.
    func bankruptcyPrice(venue: Int, account: Int, slot: Int, equity: Amount, gross: Amount) -> Price {
        let size = Quantity(raw: venues[venue].quantity[slot][account])
        let mark = venues[venue].markets[slot].mark
        guard gross.isPositive else { return mark }
        let carried = equity.scaled(venues[venue].notional(account, slot: slot).raw, over: gross.raw, rounding: .down)
        let distance = Price.of(carried, per: size, rounding: .down)
        return Price(raw: max(1, mark.raw - distance.raw))
    }

    /// Drift suspends liquidation while an oracle of the account's markets is far from its TWAP.
    func oracleOutsideBand(venue: Int, account: Int, band: Ratio) -> Bool {
        venues[venue].markets.indices.contains { slot in
            guard venues[venue].quantity[slot][account] != 0 else { return false }
            let market = venues[venue].markets[slot]
            let twap = market.oracleTWAP
            return Ratio.of(Amount(raw: abs(market.oracle.raw - twap.raw)), Amount(raw: twap.raw), rounding: .down) > band
        }
    }

    /// Splits a liquidation fee between the venue's own layer and (shared designs) the mutual pool.
    mutating func payLiquidationFee(_ fee: Amount, venue: Int, account: Int) {
        guard fee.isPositive else { return }
        let toPool = config.design.isShared ? fee.scaled(by: config.clearing.feeShareToPool, rounding: .down) : .zero
        transfer(toPool, from: .collateral(venue: venue, account: account), to: .pool)
        transfer(fee - toPool, from: .collateral(venue: venue, account: account),
                 to: .collateral(venue: venue, account: Venue.ownLayerAccount))
        metrics.liquidationFees += fee
        poolFeesReceived += toPool.raw
    }

    // MARK: - The waterfall

    /// Passes an account up the waterfall from `start`: the first layer able to absorb it takes it over
    /// (or, for a fund, closes it into the book and pays the gap); otherwise, if it is bankrupt, it
    /// goes to ADL (a solvent account nobody can take stays open).
    mutating func resolve(venue: Int, account: Int, from start: WaterfallLayer, into requests: inout [ADLRequest]) {
        if start <= .ownLayer && account != Venue.ownLayerAccount {
            switch venues[venue].ownLayerForm {
            case .vault:
                let deficit = Amount.max(.zero, -venues[venue].equityNow(account))
                if venues[venue].equityNow(Venue.ownLayerAccount) >= deficit {
                    metrics.ownLayerTakeovers += 1
                    metrics.ownLayerTakeoverNotional += venues[venue].grossNotional(account)
                    takeOver(venue: venue, account: account, taker: Venue.ownLayerAccount,
                             cash: .collateral(venue: venue, account: Venue.ownLayerAccount))
                    return
                }
            case .fund:
                if closeWithFund(venue: venue, account: account) { return }
            }
        }
        if config.design.isShared && start <= .pool && account != Venue.poolAccount {
            if poolTakeOver(venue: venue, account: account) { return }
        }
        if config.externalPool != nil && start <= .pool && account != Venue.poolAccount {
            requestBackstop(venue: venue, account: account)
            return
        }
        // Nobody could take it, but it is not bankrupt: it stays open until the book refills or it is.
        guard venues[venue].equityNow(account).isNegative else { return }
        requests.append(ADLRequest(venue: venue, account: account))
    }

    /// Moves every position of `account` to `taker` at mark and settles the account to exactly zero
    /// against `cash` (the taker pays a deficit, or receives what equity is left).
    mutating func takeOver(venue: Int, account: Int, taker: Int, cash: LedgerAccount) {
        for slot in venues[venue].markets.indices where venues[venue].quantity[slot][account] != 0 {
            transferPosition(venue: venue, slot: slot, from: account, to: taker, price: venues[venue].markets[slot].mark)
        }
        settle(Amount(raw: venues[venue].collateral[account]), from: .collateral(venue: venue, account: account), to: cash)
    }

    /// Fund form: when the book can absorb every position and the fund can pay the projected gap
    /// (within its cap), close into the book at market and pay the gap. Otherwise the fund pays what
    /// it can toward the deficit at mark and the positions go further up the waterfall.
    mutating func closeWithFund(venue: Int, account: Int) -> Bool {
        let fund = LedgerAccount.collateral(venue: venue, account: Venue.ownLayerAccount)
        let available = Amount.min(Amount.max(.zero, venues[venue].equityNow(Venue.ownLayerAccount)),
                                   Amount.max(.zero, balance(fund)))
        let cap = Amount.min(available, fundCap(venue: venue, account: account))
        let closeOut = closeOutCost(venue: venue, account: account)
        let projected = venues[venue].equityNow(account) - closeOut.slippage
        guard closeOut.fillable, Amount.max(.zero, -projected) <= cap else {
            let contribution = Amount.min(cap, Amount.max(.zero, -venues[venue].equityNow(account)))
            transfer(contribution, from: fund, to: .collateral(venue: venue, account: account))
            return false
        }
        metrics.ownLayerTakeovers += 1
        for slot in venues[venue].markets.indices where venues[venue].quantity[slot][account] != 0 {
            let size = Quantity(raw: venues[venue].quantity[slot][account])
            let closed = size.magnitude.value(at: venues[venue].markets[slot].mark, rounding: .down)
            metrics.ownLayerTakeoverNotional += closed
            metrics.liquidationNotional += closed
            walkBook(venue: venue, slot: slot, account: account, size: -size, limit: nil)
        }
        let gap = Amount.max(.zero, -balance(.collateral(venue: venue, account: account)))
        transfer(Amount.min(gap, Amount.max(.zero, balance(fund))), from: fund, to: .collateral(venue: venue, account: account))
        if balance(.collateral(venue: venue, account: account)).isNegative { coverCashDeficit(venue: venue, account: account) }
        return true
    }

    /// The most the fund pays for this account's bankruptcy (Drift caps per market tier; others: no cap).
    func fundCap(venue: Int, account: Int) -> Amount {
        let caps = venues[venue].profile.fundCap
        guard !caps.isEmpty else { return Amount(raw: Int64.max) }
        let largest = venues[venue].markets.indices.max { venues[venue].notional(account, slot: $0) < venues[venue].notional(account, slot: $1) }
        guard let slot = largest else { return .zero }
        return caps[venues[venue].markets[slot].assetClass] ?? .zero
    }

    /// The mutual pool buys the account's positions at the bankruptcy price (worsened by the takeover
    /// discount, paid by the venue's own layer when it can), calling assessments if it is short.
    /// When even that is not enough it pays what it has toward the deficit and returns false.
    mutating func poolTakeOver(venue: Int, account: Int) -> Bool {
        let deficit = Amount.max(.zero, -venues[venue].equityNow(account))
        let gross = venues[venue].grossNotional(account)
        if poolEquity < deficit { callAssessments(for: deficit - poolEquity) }
        guard poolEquity >= deficit else {
            let contribution = Amount.min(deficit, Amount.max(.zero, Amount.min(poolEquity, Amount(raw: poolCash))))
            transfer(contribution, from: .pool, to: .collateral(venue: venue, account: account))
            return false
        }
        metrics.poolTakeovers += 1
        metrics.poolTakeoverNotional += gross
        takeOver(venue: venue, account: account, taker: Venue.poolAccount, cash: .pool)
        let discount = gross.scaled(by: config.clearing.takeoverDiscount, rounding: .down)
        let ownLayer = LedgerAccount.collateral(venue: venue, account: Venue.ownLayerAccount)
        transfer(Amount.min(discount, Amount.max(.zero, balance(ownLayer))), from: ownLayer, to: .pool)
        return true
    }

    /// An account with no positions and negative cash: its own layer (if a fund), the pool, then
    /// the loss-allocation account (bad debt) cover it. With an external pool the account asks it
    /// instead (unless `askingPool` is false: the pool has answered already).
    mutating func coverCashDeficit(venue: Int, account: Int, askingPool: Bool = true) {
        let target = LedgerAccount.collateral(venue: venue, account: account)
        var deficit = -balance(target)
        guard deficit.isPositive else { return }
        let ownLayer = LedgerAccount.collateral(venue: venue, account: Venue.ownLayerAccount)
        if account != Venue.ownLayerAccount {
            let paid = Amount.min(deficit, Amount.max(.zero, Amount.min(balance(ownLayer), venues[venue].equityNow(Venue.ownLayerAccount))))
            transfer(paid, from: ownLayer, to: target)
            deficit -= paid
        }
        if config.externalPool != nil && askingPool && deficit.isPositive {
            requestBackstop(venue: venue, account: account)
            return
        }
        if config.design.isShared && deficit.isPositive {
            if poolEquity < deficit { callAssessments(for: deficit - poolEquity) }
            let paid = Amount.min(deficit, Amount.max(.zero, Amount.min(poolEquity, Amount(raw: poolCash))))
            transfer(paid, from: .pool, to: target)
            deficit -= paid
        }
        if deficit.isPositive {
            transfer(deficit, from: .lossAllocation(venue: venue), to: target)
            metrics.badDebt += deficit
        }
    }
}
