// One step of the clock: prices, margin, cross-venue netting, liquidation, unwinding of taken-over
// inventory, the waterfall for the loss layers themselves, ADL, and the metrics of the step.

extension World {
    /// Loss-layer checks and ADL rounds per step, at most (the second round only ever sees rounding dust).
    static let maximumADLRounds = 4
    /// How often an unwind slice may halve to fit the layer's slippage budget before it waits a step.
    static let unwindHalvings = 8

    mutating func step(timeSeconds: Int64, referencePrices: [Price]) {
        precondition(referencePrices.count == config.assets.count, "one reference price per asset")
        precondition(timeSeconds > self.timeSeconds, "time moves forward")
        let elapsed = timeSeconds - self.timeSeconds
        self.timeSeconds = timeSeconds
        updatePrices(referencePrices, elapsedSeconds: elapsed)
        for venue in venues.indices { venues[venue].computeMargins() }
        if config.design.nets { applyNetting() }
        var requests: [ADLRequest] = []
        liquidateUnderwaterAccounts(into: &requests)
        // Unwind before checking the loss layers, so that slippage paid by a vault or the pool is
        // caught by the waterfall in the same step.
        unwindInventories(elapsedSeconds: elapsed)
        // ADL itself can leave a loss layer short (a partial close at mark may round one unit
        // against it), so the check and ADL repeat until nothing is left to resolve.
        for _ in 0..<World.maximumADLRounds {
            checkLossLayers(into: &requests)
            guard !requests.isEmpty else { break }
            runADL(requests)
            requests.removeAll()
        }
        trackHedgers()
        recordSample(referencePrice: referencePrices[0])
    }

    // MARK: - Prices

    /// Oracle = median of the venue's sources around the reference price; the book's impact decays,
    /// depth follows the last minute's move, and the mark is the displaced oracle within the band.
    mutating func updatePrices(_ referencePrices: [Price], elapsedSeconds: Int64) {
        let oracleConfig = config.oracle
        let liquidity = config.liquidity
        let historyLength = Int(max(2, 300 / elapsedSeconds + 1))
        let minuteBack = Int(max(1, 60 / elapsedSeconds))
        for venue in venues.indices {
            for slot in venues[venue].markets.indices {
                var market = venues[venue].markets[slot]
                let reference = referencePrices[market.asset]
                var quotes: [Int64] = []
                for _ in 0..<oracleConfig.sources {
                    let noise = oracleConfig.sourceNoiseBasisPoints == 0
                        ? 0 : venues[venue].random.int(in: -oracleConfig.sourceNoiseBasisPoints...oracleConfig.sourceNoiseBasisPoints)
                    quotes.append(reference.scaled(by: Ratio(raw: Ratio.unit + noise * World.basisPoint), rounding: .down).raw)
                }
                quotes.sort()
                market.oracle = Price(raw: max(1, quotes[quotes.count / 2]))
                market.previousMark = market.mark

                let decay = min(Ratio.unit, liquidity.resiliencePerSecond.raw * elapsedSeconds)
                market.impact = Ratio(raw: narrow(divide(Int128(market.impact.raw) * Int128(Ratio.unit - decay),
                                                         by: Int128(Ratio.unit), rounding: .down)))

                market.oracleHistory.append(market.oracle)
                if market.oracleHistory.count > historyLength { market.oracleHistory.removeFirst(market.oracleHistory.count - historyLength) }
                let past = market.oracleHistory[max(0, market.oracleHistory.count - 1 - minuteBack)]
                let move = Ratio.of(Amount(raw: abs(market.oracle.raw - past.raw)), Amount(raw: past.raw), rounding: .up)
                let withdrawn = narrow(divide(Int128(move.raw) * Int128(liquidity.volatilitySensitivity.raw), by: Int128(Ratio.unit), rounding: .up))
                market.depthFactor = Ratio(raw: max(liquidity.minimumDepth.raw, Ratio.unit - withdrawn))

                var mark = market.oracle.scaled(by: Ratio(raw: max(0, Ratio.unit - market.impact.raw)), rounding: .down)
                if oracleConfig.markBandBasisPoints > 0 {
                    let band = Ratio(raw: oracleConfig.markBandBasisPoints * World.basisPoint)
                    let low = market.oracle.scaled(by: Ratio(raw: Ratio.unit - band.raw), rounding: .up)
                    let high = market.oracle.scaled(by: Ratio(raw: Ratio.unit + band.raw), rounding: .down)
                    mark = min(max(mark, low), high)
                }
                market.mark = Price(raw: max(1, mark.raw))
                venues[venue].markets[slot] = market
            }
        }
    }

    // MARK: - Loss layers

    /// The mutual pool's equity: its cash plus its inventory on every venue, at mark.
    public var poolEquity: Amount {
        venues.indices.reduce(Amount(raw: poolCash)) { $0 + venues[$1].equityNow(Venue.poolAccount) }
    }

    /// Sum of the venues' own layers (vaults or funds), at mark.
    public var ownLayersEquity: Amount {
        venues.reduce(Amount.zero) { $0 + $1.equityNow(Venue.ownLayerAccount) }
    }

    /// After trader liquidations: a vault or fund that fell below zero passes its positions up the
    /// waterfall, and so does the mutual pool (assessments, then ADL).
    mutating func checkLossLayers(into requests: inout [ADLRequest]) {
        for venue in venues.indices where venues[venue].equityNow(Venue.ownLayerAccount).isNegative {
            if config.design.isShared || config.externalPool != nil {
                resolve(venue: venue, account: Venue.ownLayerAccount, from: .pool, into: &requests)
            } else {
                requests.append(ADLRequest(venue: venue, account: Venue.ownLayerAccount))
            }
        }
        guard config.design.isShared else { return }
        if poolEquity.isNegative { callAssessments(for: -poolEquity) }
        guard poolEquity.isNegative else { return }
        // The pool itself is bankrupt: spread its cash over its venue accounts and deleverage them.
        let holders = venues.indices.filter { venues[$0].hasPositions(Venue.poolAccount) }
        guard !holders.isEmpty else {
            writeOffPoolDeficit()
            return
        }
        let cash = Amount(raw: poolCash)
        let shares = allocate(cash.magnitude, weights: holders.map { venues[$0].grossNotional(Venue.poolAccount).raw })
        for (holder, share) in zip(holders, shares) {
            if cash.isNegative {
                transfer(share, from: .collateral(venue: holder, account: Venue.poolAccount), to: .pool)
            } else {
                transfer(share, from: .pool, to: .collateral(venue: holder, account: Venue.poolAccount))
            }
            requests.append(ADLRequest(venue: holder, account: Venue.poolAccount))
        }
    }

    /// A pool with no inventory left and negative equity (nothing to deleverage, no assessment
    /// capacity): the deficit is bad debt, written off against the venues whose pool accounts lost it.
    private mutating func writeOffPoolDeficit() {
        for venue in venues.indices {
            let loss = -balance(.collateral(venue: venue, account: Venue.poolAccount))
            guard loss.isPositive else { continue }
            let written = Amount.min(loss, -poolEquity)
            guard written.isPositive else { return }
            transfer(written, from: .lossAllocation(venue: venue), to: .collateral(venue: venue, account: Venue.poolAccount))
            metrics.badDebt += written
        }
        if poolEquity.isNegative {
            // What is left sits in the pool's own cash (negative): charge it to the first venue.
            let written = -poolEquity
            transfer(written, from: .lossAllocation(venue: 0), to: .pool)
            metrics.badDebt += written
        }
    }

    /// Venues pay into the pool from their treasuries, each in proportion to what it has left, until
    /// `needed` is covered or every treasury is empty.
    mutating func callAssessments(for needed: Amount) {
        let available = treasury.reduce(0, +)
        guard needed.isPositive, available > 0 else { return }
        let total = Amount(raw: min(needed.raw, available))
        let shares = allocate(total, weights: treasury)
        for (venue, share) in shares.enumerated() {
            transfer(share, from: .treasury(venue: venue), to: .pool)
            metrics.venueAssessments += share
            poolAssessmentsReceived += share.raw
        }
    }

    // MARK: - Unwinding taken-over inventory

    /// Vaults unwind on their own venue's book; the pool unwinds its net exposure per asset across
    /// every venue's book in proportion to depth. Neither pays more than the slippage limit.
    mutating func unwindInventories(elapsedSeconds: Int64) {
        let rate = Ratio(raw: min(Ratio.unit, config.clearing.unwindPerSecond.raw * elapsedSeconds))
        guard rate.isPositive else { return }
        // With an external pool, each venue unwinds the pool's inventory on its own book like a vault's.
        let unwinding = config.externalPool != nil ? [Venue.ownLayerAccount, Venue.poolAccount] : [Venue.ownLayerAccount]
        for venue in venues.indices {
            for account in unwinding where !isAwaitingBackstop(venue: venue, account: account) {
                for slot in venues[venue].markets.indices {
                    let size = Quantity(raw: venues[venue].quantity[slot][account])
                    guard size.raw != 0 else { continue }
                    let portion = max(Quantity(raw: 1), size.magnitude.scaled(by: rate, rounding: .up))
                    unwind(venue: venue, slot: slot, account: account, size: size.isPositive ? -portion : portion)
                }
            }
        }
        guard config.design.isShared else { return }
        for asset in config.assets.indices {
            let listing = venues.indices.filter { venues[$0].slotOfAsset[asset] >= 0 }
            let net = listing.reduce(Int64(0)) { $0 + venues[$1].quantity[venues[$1].slotOfAsset[asset]][Venue.poolAccount] }
            guard net != 0 else { continue }
            let portion = max(Quantity(raw: 1), Quantity(raw: net).magnitude.scaled(by: rate, rounding: .up))
            let depths = listing.map { venues[$0].markets[venues[$0].slotOfAsset[asset]].depth.raw }
            guard depths.contains(where: { $0 > 0 }) else { continue }
            let parts = allocate(Amount(raw: portion.raw), weights: depths)
            for (venue, part) in zip(listing, parts) where part.isPositive {
                unwind(venue: venue, slot: venues[venue].slotOfAsset[asset], account: Venue.poolAccount,
                       size: Quantity(raw: net > 0 ? -part.raw : part.raw))
            }
        }
    }

    /// Unwinds `size` of a vault's or the pool's inventory, within the slippage limit and never
    /// paying more slippage (against the mark) than the layer's equity: the slice halves until it fits
    /// (at most `unwindHalvings` times; otherwise the layer waits for the next step).
    mutating func unwind(venue: Int, slot: Int, account: Int, size: Quantity) {
        let market = venues[venue].markets[slot]
        let slippage = Ratio(raw: config.clearing.unwindMaxSlippageBasisPoints * World.basisPoint)
        let limit = size.isNegative
            ? market.oracle.scaled(by: Ratio(raw: Ratio.unit - slippage.raw), rounding: .up)
            : market.oracle.scaled(by: Ratio(raw: Ratio.unit + slippage.raw), rounding: .down)
        // An external pool's equity is known only to the clearing node: its unwinds are bounded by
        // the slippage limit alone.
        let poolBudget = config.externalPool != nil ? Amount(raw: .max) : poolEquity
        let budget = Amount.max(.zero, account == Venue.poolAccount ? poolBudget : venues[venue].equityNow(account))
        var slice = size
        for _ in 0..<World.unwindHalvings {
            let walk = planWalk(venue: venue, slot: slot, size: slice, limit: limit)
            let cost = walk.size.magnitude.value(at: Price(raw: abs(market.mark.raw - walk.averagePrice.raw)), rounding: .up)
            let adverse = slice.isNegative ? walk.averagePrice < market.mark : walk.averagePrice > market.mark
            if !adverse || cost <= budget {
                walkBook(venue: venue, slot: slot, account: account, size: slice, limit: limit)
                return
            }
            // Slippage grows with the square of the size: halving the slice quarters its cost.
            slice = Quantity(raw: slice.raw / 2)
            guard slice.raw != 0, budget.isPositive else { return }
        }
    }

    // MARK: - Hedgers and samples

    /// A hedger is one-legged once its hedge ratio (smaller leg / larger leg) has fallen below half of
    /// what it was when the hedger joined: for an even hedge, once the net exceeds half of the larger
    /// leg. Cutting both legs in proportion keeps the ratio; losing either leg breaks it. Only hedgers
    /// whose positions changed this step are looked at.
    mutating func trackHedgers() {
        let touched = touchedHedgers
        touchedHedgers.removeAll(keepingCapacity: true)
        for trader in touched.lazy.map(Int.init) where !oneLegged[trader] && hedgeSmallLeg[trader] > 0 {
            var small = Int64.max
            var large: Int64 = 0
            for leg in legRange(of: trader) {
                let size = hedgedSize(leg: leg)
                small = min(small, size)
                large = max(large, size)
            }
            // small / large < (initial small / initial large) / 2, without division.
            if large > 0 && 2 * Int128(small) * Int128(hedgeLargeLeg[trader]) < Int128(hedgeSmallLeg[trader]) * Int128(large) {
                oneLegged[trader] = true
            }
        }
    }

    mutating func recordSample(referencePrice: Price) {
        let pool = poolEquity
        metrics.poolMinimum = min(metrics.poolMinimum, pool)
        if pool.isNegative && config.externalPool == nil { protectedViolations.append("mutual pool negative at t=\(timeSeconds)s") }
        // An own layer waiting for the external pool's answer is negative until it arrives.
        for (index, venue) in venues.enumerated() where venue.equityNow(Venue.ownLayerAccount).isNegative
            && !isAwaitingBackstop(venue: index, account: Venue.ownLayerAccount) {
            protectedViolations.append("\(venue.config.name) own layer negative at t=\(timeSeconds)s")
        }
        let minimumDepth = venues.flatMap { $0.markets.map(\.depthFactor) }.min() ?? .one
        samples.append(StepSample(
            timeSeconds: timeSeconds, referencePrice: referencePrice, minimumDepth: minimumDepth,
            poolEquity: pool, ownLayersEquity: ownLayersEquity,
            liquidationNotional: metrics.liquidationNotional,
            takeoverNotional: metrics.ownLayerTakeoverNotional + metrics.poolTakeoverNotional,
            adlNotional: metrics.adlNotional, badDebt: metrics.badDebt,
            openInterest: venues.reduce(Amount.zero) { $0 + $1.openInterestNotional }))
    }
}
