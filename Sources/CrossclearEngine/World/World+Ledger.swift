// The double-entry ledger. Every movement of value is `transfer`: one amount out of one account
// and into another, so the sum of all accounts never changes. Trades move realized PnL between a
// position holder's collateral and the market's settlement account, also through `transfer`.

/// A ledger account.
public enum LedgerAccount: Hashable, Sendable {
    /// The outside world: deposits come from here.
    case external
    /// The mutual pool's cash.
    case pool
    /// Transit of ADL haircuts (zero between rounds).
    case adlSettlement
    /// Losses nobody covered, per venue.
    case lossAllocation(venue: Int)
    /// The venue operator's assessment capital.
    case treasury(venue: Int)
    /// Cash collateral of one account on one venue (traders, makers, own layer, pool inventory, ADL clearing).
    case collateral(venue: Int, account: Int)
    /// Settlement account of one market on one venue (holds `-sum(basis)` of its positions).
    case settlement(venue: Int, slot: Int)
}

extension World {
    /// Moves a non-negative amount from one ledger account to another.
    mutating func transfer(_ amount: Amount, from source: LedgerAccount, to destination: LedgerAccount) {
        precondition(!amount.isNegative, "transfers move non-negative amounts")
        guard amount.raw != 0 else { return }
        adjust(source, by: -amount.raw)
        adjust(destination, by: amount.raw)
    }

    mutating func adjust(_ account: LedgerAccount, by delta: Int64) {
        switch account {
        case .external: external += delta
        case .pool: poolCash += delta
        case .adlSettlement: adlSettlement += delta
        case .lossAllocation(let venue): lossAllocation[venue] += delta
        case .treasury(let venue): treasury[venue] += delta
        case .collateral(let venue, let account): venues[venue].collateral[account] += delta
        case .settlement(let venue, let slot): venues[venue].settlement[slot] += delta
        }
    }

    /// Balance of a ledger account.
    public func balance(_ account: LedgerAccount) -> Amount {
        switch account {
        case .external: Amount(raw: external)
        case .pool: Amount(raw: poolCash)
        case .adlSettlement: Amount(raw: adlSettlement)
        case .lossAllocation(let venue): Amount(raw: lossAllocation[venue])
        case .treasury(let venue): Amount(raw: treasury[venue])
        case .collateral(let venue, let account): Amount(raw: venues[venue].collateral[account])
        case .settlement(let venue, let slot): Amount(raw: venues[venue].settlement[slot])
        }
    }

    /// Moves a signed amount (positive: `from` pays `to`).
    mutating func settle(_ amount: Amount, from source: LedgerAccount, to destination: LedgerAccount) {
        if amount.isNegative { transfer(-amount, from: destination, to: source) } else { transfer(amount, from: source, to: destination) }
    }

    // MARK: - Trades

    /// `buyer` buys `size` (> 0) from `seller` at `price` on one market. Both sides use the same
    /// rounded notional, so long and short open interest and the settlement account stay exact.
    mutating func trade(venue: Int, slot: Int, buyer: Int, seller: Int, size: Quantity, price: Price) {
        precondition(size.isPositive, "trade size must be positive")
        guard buyer != seller else { return }
        let notional = size.value(at: price, rounding: .down)
        applyFill(venue: venue, slot: slot, account: buyer, change: size, notional: notional)
        applyFill(venue: venue, slot: slot, account: seller, change: -size, notional: notional)
    }

    /// Moves a whole position from one account to another at `price`.
    mutating func transferPosition(venue: Int, slot: Int, from source: Int, to destination: Int, price: Price) {
        let size = venues[venue].quantity[slot][source]
        if size > 0 {
            trade(venue: venue, slot: slot, buyer: destination, seller: source, size: Quantity(raw: size), price: price)
        } else if size < 0 {
            trade(venue: venue, slot: slot, buyer: source, seller: destination, size: Quantity(raw: -size), price: price)
        }
    }

    /// One side of a trade: a signed size change bought or sold for `notional`.
    ///
    /// Increasing a position adds `±notional` to its basis. Reducing it removes the matching share of
    /// the basis and realizes `-(sign * notional) - removedBasis` against the settlement account. A
    /// fill that flips the position is a full close followed by an open, with the notional split by size.
    mutating func applyFill(venue: Int, slot: Int, account: Int, change: Quantity, notional: Amount) {
        let owner = venues[venue].owner[account]
        if owner >= 0 && traderKind[Int(owner)] == .hedger { touchedHedgers.append(owner) }
        let before = venues[venue].quantity[slot][account]
        venues[venue].noteFill(slot: slot, account: account, before: before, after: before + change.raw)
        let sign = change.sign
        if before == 0 || before.signum() == sign {
            venues[venue].quantity[slot][account] = before + change.raw
            venues[venue].basis[slot][account] += sign * notional.raw
            return
        }
        let closing = min(change.raw.magnitude, before.magnitude)
        let closingNotional = closing == change.raw.magnitude
            ? notional : notional.scaled(Int64(closing), over: Int64(change.raw.magnitude), rounding: .down)
        let oldBasis = venues[venue].basis[slot][account]
        let removedBasis = closing == before.magnitude
            ? oldBasis
            : narrow(divide(Int128(oldBasis) * Int128(closing), by: Int128(before.magnitude), rounding: .up))
        let realized = Amount(raw: -(sign * closingNotional.raw) - removedBasis)
        venues[venue].basis[slot][account] = oldBasis - removedBasis
        venues[venue].quantity[slot][account] = before + sign * Int64(closing)
        settle(realized, from: .settlement(venue: venue, slot: slot), to: .collateral(venue: venue, account: account))
        let opening = change.raw.magnitude - closing
        if opening > 0 {
            venues[venue].quantity[slot][account] += sign * Int64(opening)
            venues[venue].basis[slot][account] += sign * (notional.raw - closingNotional.raw)
        }
    }
}
