// Checking and summarizing a world: conservation of money and positions, the final metrics, and a
// digest of the whole state.

extension World {
    /// Sum of every ledger account except `external`.
    public var ledgerTotal: Amount {
        var total = poolCash + adlSettlement + lossAllocation.reduce(0, +) + treasury.reduce(0, +)
        for venue in venues {
            total += venue.collateral.reduce(0, +) + venue.settlement.reduce(0, +)
        }
        return Amount(raw: total)
    }

    /// Checks that the ledger sums exactly to net deposits, that every market's long and short open
    /// interest are equal (and match the running counter), that its settlement account equals
    /// `-sum(basis)`, and that the mutual pool and the venues' own layers (equity: cash plus inventory
    /// at mark, as the waterfall treats them) never ended a step negative.
    public func conservation() -> ConservationReport {
        var unbalanced: [String] = []
        for venue in venues {
            for slot in venue.markets.indices {
                // Summed in 128 bits: partial sums of one side may exceed Int64 before the other cancels them.
                let net = venue.quantity[slot].reduce(Int128(0)) { $0 + Int128($1) }
                let basis = venue.basis[slot].reduce(Int128(0)) { $0 + Int128($1) }
                let long = venue.quantity[slot].reduce(Int128(0)) { $0 + Int128(max(0, $1)) }
                if net != 0 || Int128(venue.settlement[slot]) != -basis || long != Int128(venue.longInterest[slot]) {
                    unbalanced.append("\(venue.config.name)/\(config.assets[venue.markets[slot].asset].symbol)")
                }
            }
        }
        var negative = protectedViolations
        // An external pool is audited by the clearing node that holds it.
        if poolEquity.isNegative && config.externalPool == nil { negative.append("mutual pool") }
        if adlSettlement != 0 { negative.append("ADL settlement not empty") }
        for venue in venues where venue.equityNow(Venue.ownLayerAccount).isNegative {
            negative.append("\(venue.config.name) \(venue.ownLayerForm == .fund ? "insurance fund" : "backstop vault")")
        }
        for (index, balance) in treasury.enumerated() where balance < 0 {
            negative.append("\(venues[index].config.name) treasury")
        }
        return ConservationReport(ledgerTotal: ledgerTotal, netDeposits: Amount(raw: -external),
                                  unbalancedMarkets: unbalanced, negativeProtectedAccounts: negative)
    }

    /// The finished metrics, samples, conservation check and digest of this world.
    public func outcome() -> DesignOutcome {
        var metrics = self.metrics
        metrics.poolEnd = poolEquity
        metrics.poolUnwindPnL = metrics.poolEnd - metrics.poolStart - Amount(raw: poolFeesReceived + poolAssessmentsReceived)
        metrics.ownLayersEnd = ownLayersEquity
        metrics.adlTraders = adlHit.reduce(0) { $0 + ($1 ? 1 : 0) }
        metrics.hedgersOneLegged = oneLegged.reduce(0) { $0 + ($1 ? 1 : 0) }
        if adlRounds > 0 {
            metrics.ptsr = Ratio(raw: Int64(clamping: ptsrSum / Int128(adlRounds)))
            metrics.pmr = Ratio(raw: Int64(clamping: pmrSum / Int128(adlRounds)))
        }
        for index in metrics.openInterest.indices {
            metrics.openInterest[index].endNotional = venues[index].openInterestNotional
        }
        return DesignOutcome(design: config.design, adlPolicy: config.adlPolicy, metrics: metrics, samples: samples,
                             conservation: conservation(), stateDigest: digest())
    }

    /// FNV-1a digest of every balance, position, price and the random state.
    public func digest() -> UInt64 {
        var digest = StateDigest()
        digest.add(timeSeconds)
        digest.add([external, poolCash, adlSettlement])
        if config.externalPool != nil {
            digest.add([paidToPool] + awaitingBackstop.flatMap { [Int64($0.venue), Int64($0.account)] })
        }
        digest.add(lossAllocation)
        digest.add(treasury)
        digest.add(Int64(bitPattern: random.state))
        for venue in venues {
            digest.add(venue.owner.map(Int64.init))
            digest.add(venue.collateral)
            digest.add(venue.settlement)
            digest.add(venue.credit)
            digest.add(Int64(bitPattern: venue.random.state))
            for slot in venue.markets.indices {
                digest.add(venue.quantity[slot])
                digest.add(venue.basis[slot])
                let market = venue.markets[slot]
                digest.add([market.oracle.raw, market.mark.raw, market.previousMark.raw, market.impact.raw, market.depthFactor.raw])
            }
        }
        return digest.value
    }
}
