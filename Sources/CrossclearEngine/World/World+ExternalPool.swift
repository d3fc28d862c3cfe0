// A venue world whose mutual pool lives at a clearing node (`EngineConfig.externalPool`): it pays
// its contribution out when clearing starts, parks accounts its own layer cannot absorb until the
// pool answers, and applies the pool's backstop fills and ADL cuts as they arrive.

extension World {
    /// Pays each venue's pool contribution (at most what its own layer holds) and its whole
    /// assessment treasury out to the clearing node's pool.
    mutating func payExternalPool(_ pool: ExternalPool) {
        precondition(pool.contributions.count == venues.count, "one pool contribution per venue")
        for venue in venues.indices {
            let ownLayer = LedgerAccount.collateral(venue: venue, account: Venue.ownLayerAccount)
            let contribution = Amount.min(pool.contributions[venue], Amount.max(.zero, balance(ownLayer)))
            let deposit = Amount(raw: treasury[venue])
            transfer(contribution, from: ownLayer, to: .external)
            transfer(deposit, from: .treasury(venue: venue), to: .external)
            paidToPool += contribution.raw + deposit.raw
        }
    }

    /// Whether the account waits for the external pool's answer (and so is left alone meanwhile).
    func isAwaitingBackstop(venue: Int, account: Int) -> Bool {
        config.externalPool != nil && awaitingBackstop.contains(VenueAccount(venue: venue, account: account))
    }

    /// Parks the account until the external pool answers (once: a second ask changes nothing).
    mutating func requestBackstop(venue: Int, account: Int) {
        let waiting = VenueAccount(venue: venue, account: account)
        guard !awaitingBackstop.contains(waiting) else { return }
        awaitingBackstop.append(waiting)
    }

    /// The pool's answer: the named positions (as far as the account still holds them) move to the
    /// venue's pool account at the pool's prices, the cash settles with the pool, and whatever
    /// deficit is left with no position to back it is covered by the own layer, then written off.
    mutating func applyBackstopFill(venue: Int, account: Int, transfers: [PositionTransfer], cash: Amount) {
        awaitingBackstop.removeAll { $0 == VenueAccount(venue: venue, account: account) }
        var taken = Amount.zero
        for item in transfers {
            guard let (slot, size) = heldPart(venue: venue, account: account, of: item) else { continue }
            taken += size.magnitude.value(at: item.price, rounding: .down)
            closeAgainstPool(venue: venue, slot: slot, account: account, size: size, price: item.price)
        }
        settle(cash, from: .external, to: .collateral(venue: venue, account: account))
        paidToPool -= cash.raw
        metrics.poolTakeovers += 1
        metrics.poolTakeoverNotional += taken
        if !venues[venue].hasPositions(account) && venues[venue].collateral[account] < 0 {
            coverCashDeficit(venue: venue, account: account, askingPool: false)
        }
    }

    /// One ADL cut: the account closes the size (as far as it still holds it) against the venue's
    /// pool account at the price, and pays the haircut to the pool.
    mutating func applyADLFill(venue: Int, account: Int, transfer item: PositionTransfer, haircut: Amount) {
        let before = venues[venue].equityNow(account)
        if let (slot, size) = heldPart(venue: venue, account: account, of: item) {
            closeAgainstPool(venue: venue, slot: slot, account: account, size: size, price: item.price)
            metrics.adlNotional += size.magnitude.value(at: item.price, rounding: .down)
        }
        transfer(haircut, from: .collateral(venue: venue, account: account), to: .external)
        paidToPool += haircut.raw
        metrics.adlCount += 1
        metrics.productionHaircut += haircut
        if before.isPositive { metrics.maxHaircut = max(metrics.maxHaircut, Ratio.of(haircut, before, rounding: .up)) }
        let owner = venues[venue].owner[account]
        if owner >= 0 { adlHit[Int(owner)] = true }
    }

    /// The account closes `size` (signed as it holds it) against the venue's pool account at `price`.
    private mutating func closeAgainstPool(venue: Int, slot: Int, account: Int, size: Quantity, price: Price) {
        if size.isPositive {
            trade(venue: venue, slot: slot, buyer: Venue.poolAccount, seller: account, size: size, price: price)
        } else {
            trade(venue: venue, slot: slot, buyer: account, seller: Venue.poolAccount, size: size.magnitude, price: price)
        }
    }

    /// The market and the signed size of `item` the account still holds (same side, at most its
    /// position); nil when it holds none of it.
    private func heldPart(venue: Int, account: Int, of item: PositionTransfer) -> (slot: Int, size: Quantity)? {
        guard config.assets.indices.contains(item.asset) else { return nil }
        let slot = venues[venue].slotOfAsset[item.asset]
        guard slot >= 0 else { return nil }
        let held = venues[venue].quantity[slot][account]
        guard held != 0, held.signum() == item.quantity.raw.signum() else { return nil }
        let size = min(abs(held), item.quantity.magnitude.raw)
        return (slot, Quantity(raw: held > 0 ? size : -size))
    }
}
