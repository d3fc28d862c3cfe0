// One venue's state: its markets and its accounts, stored column-wise so that margining a million
// accounts is a few tight loops. Positions carry a cost basis instead of an entry price, which
// keeps the accounting exact: each market's settlement account always holds `-sum(basis)`.

/// The role of an account on a venue. Accounts 0 to 3 of every venue are the venue's own.
public enum AccountRole: Int32, Sendable {
    /// The book's market makers, counterparty of every book fill.
    case book = -1
    /// The venue's own layer: backstop vault or insurance fund.
    case ownLayer = -2
    /// The mutual pool's account on this venue (shared designs).
    case pool = -3
    /// The clearing intermediary of ADL rounds (flat after every round).
    case adlClearing = -4
}

/// Runtime state of one market on one venue.
public struct MarketState: Sendable, Hashable {
    /// Index into `EngineConfig.assets`.
    public let asset: Int
    public let assetClass: AssetClass
    public let rules: MarketRules
    /// Calm book depth in USD per basis point per side (asset depth times venue depth scale).
    public let calmDepth: Amount
    /// The venue's oracle (median of its sources).
    public internal(set) var oracle: Price
    /// Mark used for margin this step: the oracle displaced by the book's impact, within the band.
    public internal(set) var mark: Price
    /// Mark of the previous step (Hyperliquid ADL fills there).
    public internal(set) var previousMark: Price
    /// How far the book has been pushed from the oracle: positive means pushed down by sells.
    public internal(set) var impact: Ratio
    /// Current depth as a fraction of calm depth (makers withdraw under stress).
    public internal(set) var depthFactor: Ratio
    /// Recent oracle prices, oldest first, covering five minutes (for the 60 s move and the TWAP).
    public internal(set) var oracleHistory: [Price]

    /// Book depth now, in USD per basis point per side.
    public var depth: Amount { calmDepth.scaled(by: depthFactor, rounding: .down) }

    /// Time-weighted average of the oracle over the history window.
    public var oracleTWAP: Price {
        Price(raw: oracleHistory.reduce(0) { $0 + $1.raw } / Int64(max(1, oracleHistory.count)))
    }
}

/// A venue: configuration, profile, markets and accounts.
public struct Venue: Sendable {
    public let config: VenueConfig
    public let profile: VenueProfile
    /// The form of the own layer under the world's design.
    public let ownLayerForm: OwnLayerForm
    public internal(set) var markets: [MarketState]
    /// The venue's own random stream (oracle source noise, its ADL rotation), seeded from the world's
    /// seed and the venue's name: a venue draws the same numbers whether it runs alone (a venue node)
    /// or beside others (the simulator).
    var random: SeededRandom
    /// Market slot of each asset of the world, or -1 when the venue does not list it.
    public let slotOfAsset: [Int]

    // MARK: - Accounts, column-wise

    /// Trader index owning each account, or an `AccountRole` raw value for the venue's own accounts.
    public internal(set) var owner: [Int32] = []
    /// Cash collateral (Amount raw) of each account: a ledger account.
    public internal(set) var collateral: [Int64] = []
    /// Signed position size (Quantity raw) per market slot, per account.
    public internal(set) var quantity: [[Int64]]
    /// Cost basis (Amount raw) per market slot, per account: the signed notional paid for the position.
    public internal(set) var basis: [[Int64]]
    /// Settlement account per market slot (Amount raw): a ledger account equal to `-sum(basis)`.
    public internal(set) var settlement: [Int64]
    /// Per market slot: accounts that may hold a position (every holder is listed once; accounts
    /// whose position went back to zero are dropped when margins are next computed).
    var holders: [[Int32]]
    /// Per market slot and account: whether the account is in `holders`.
    var isHolder: [[Bool]]
    /// Per market slot: long open interest (Quantity raw), kept up to date by every fill.
    public internal(set) var longInterest: [Int64]
    /// Time of each account's last liquidation fill (for slice cooldowns).
    var lastLiquidation: [Int64] = []
    /// Cross-margin credit (Amount raw) a clearing node granted each account: lowers its liquidation
    /// threshold until replaced. Zero unless `EngineEvent.crossMarginCredit` set it.
    public internal(set) var credit: [Int64] = []

    // Scratch for the current step, recomputed by `computeMargins`.
    /// Equity at mark of each account.
    var equity: [Int64] = []
    /// Maintenance requirement of each account.
    var maintenance: [Int64] = []
    /// Liquidation threshold of each account (maintenance, less any cross-venue credit).
    var threshold: [Int64] = []

    static let ownAccounts = 4
    /// The last liquidation time of an account never liquidated (long enough ago for any cooldown).
    static let neverLiquidated = Int64.min / 2
    static let bookAccount = 0
    static let ownLayerAccount = 1
    static let poolAccount = 2
    static let adlAccount = 3

    init(config: VenueConfig, assets: [AssetConfig], design: ClearingDesign, seed: UInt64) {
        self.config = config
        var name = StateDigest()
        for byte in config.name.utf8 { name.add(Int64(byte)) }
        random = SeededRandom(seed: seed ^ name.value)
        profile = VenueProfile.of(config.profile)
        ownLayerForm = switch design {
        case .siloedBackstop: .vault
        case .siloedFund: .fund
        case .sharedPool, .sharedNetting, .sharedFull: profile.naturalForm
        }
        var slots = Array(repeating: -1, count: assets.count)
        for (slot, asset) in config.assets.enumerated() { slots[asset] = slot }
        slotOfAsset = slots
        markets = config.assets.map { asset in
            let assetConfig = assets[asset]
            return MarketState(
                asset: asset, assetClass: assetConfig.assetClass, rules: VenueProfile.of(config.profile).rules(for: assetConfig.assetClass),
                calmDepth: assetConfig.depthPerBasisPoint.scaled(by: config.depthScale, rounding: .down),
                oracle: .zero, mark: .zero, previousMark: .zero, impact: .zero, depthFactor: .one, oracleHistory: [])
        }
        quantity = Array(repeating: [], count: config.assets.count)
        basis = Array(repeating: [], count: config.assets.count)
        settlement = Array(repeating: 0, count: config.assets.count)
        holders = Array(repeating: [], count: config.assets.count)
        isHolder = Array(repeating: [], count: config.assets.count)
        longInterest = Array(repeating: 0, count: config.assets.count)
        for role in [AccountRole.book, .ownLayer, .pool, .adlClearing] { _ = addAccount(owner: role.rawValue) }
    }

    /// Number of accounts, the venue's own included.
    public var accountCount: Int { owner.count }

    /// Appends an empty account and returns its index.
    mutating func addAccount(owner role: Int32) -> Int {
        owner.append(role)
        collateral.append(0)
        lastLiquidation.append(Venue.neverLiquidated)
        credit.append(0)
        equity.append(0)
        maintenance.append(0)
        threshold.append(0)
        for slot in markets.indices {
            quantity[slot].append(0)
            basis[slot].append(0)
            isHolder[slot].append(false)
        }
        return owner.count - 1
    }

    /// Whether the account is a trader's (or a market maker's), not one of the venue's own.
    @inlinable public func isTraderAccount(_ account: Int) -> Bool { owner[account] >= 0 }

    /// Whether the account holds any position.
    public func hasPositions(_ account: Int) -> Bool {
        markets.indices.contains { quantity[$0][account] != 0 }
    }

    // MARK: - Valuation

    /// Unrealized PnL of one position at the current mark (valued as a closing trade there would be).
    @inlinable
    public func unrealizedPnL(_ account: Int, slot: Int) -> Amount {
        let size = quantity[slot][account]
        guard size != 0 else { return .zero }
        return Quantity(raw: size).markValue(at: markets[slot].mark) - Amount(raw: basis[slot][account])
    }

    /// Notional of one position at the current mark.
    @inlinable
    public func notional(_ account: Int, slot: Int) -> Amount {
        Quantity(raw: quantity[slot][account]).magnitude.value(at: markets[slot].mark, rounding: .down)
    }

    /// Equity at mark: collateral plus unrealized PnL of every position.
    public func equityNow(_ account: Int) -> Amount {
        var total = Amount(raw: collateral[account])
        for slot in markets.indices where quantity[slot][account] != 0 { total += unrealizedPnL(account, slot: slot) }
        return total
    }

    /// Maintenance requirement at mark, summed over positions (cross margin).
    public func maintenanceNow(_ account: Int) -> Amount {
        var total = Amount.zero
        for slot in markets.indices where quantity[slot][account] != 0 {
            total += markets[slot].rules.maintenance(notional: notional(account, slot: slot))
        }
        return total
    }

    /// Total notional at mark over the account's positions.
    public func grossNotional(_ account: Int) -> Amount {
        markets.indices.reduce(Amount.zero) { $0 + notional(account, slot: $1) }
    }

    /// Records a position change: keeps `holders` and `longInterest` current.
    mutating func noteFill(slot: Int, account: Int, before: Int64, after: Int64) {
        longInterest[slot] += max(0, after) - max(0, before)
        if after != 0 && !isHolder[slot][account] {
            isHolder[slot][account] = true
            holders[slot].append(Int32(account))
        }
    }

    /// Recomputes equity, maintenance and the threshold (maintenance less any granted credit, never
    /// below zero) of every account, visiting
    /// only the holders of each market (and dropping those whose position is gone). The hottest
    /// loop of the simulator, so it works on buffers directly.
    mutating func computeMargins() {
        var equity: [Int64] = []
        var maintenance: [Int64] = []
        swap(&equity, &self.equity)
        swap(&maintenance, &self.maintenance)
        defer {
            swap(&equity, &self.equity)
            swap(&maintenance, &self.maintenance)
        }
        equity.withUnsafeMutableBufferPointer { equity in
            maintenance.withUnsafeMutableBufferPointer { maintenance in
                collateral.withUnsafeBufferPointer { collateral in
                    for account in collateral.indices {
                        equity[account] = collateral[account]
                        maintenance[account] = 0
                    }
                }
                for slot in markets.indices {
                    let mark = markets[slot].mark
                    let rules = markets[slot].rules
                    var listed: [Int32] = []
                    swap(&listed, &holders[slot])
                    var kept = 0
                    quantity[slot].withUnsafeBufferPointer { sizes in
                        basis[slot].withUnsafeBufferPointer { bases in
                            for index in listed.indices {
                                let account = Int(listed[index])
                                let size = sizes[account]
                                guard size != 0 else {
                                    isHolder[slot][account] = false
                                    continue
                                }
                                listed[kept] = Int32(account)
                                kept += 1
                                let value = Quantity(raw: size).markValue(at: mark)
                                equity[account] += value.raw - bases[account]
                                maintenance[account] += rules.maintenance(notional: value.magnitude).raw
                            }
                        }
                    }
                    listed.removeLast(listed.count - kept)
                    swap(&listed, &holders[slot])
                }
            }
        }
        threshold.withUnsafeMutableBufferPointer { threshold in
            maintenance.withUnsafeBufferPointer { maintenance in
                credit.withUnsafeBufferPointer { credit in
                    for account in maintenance.indices { threshold[account] = max(0, maintenance[account] - credit[account]) }
                }
            }
        }
    }

    /// Long open interest of a market (equal to short open interest).
    public func longOpenInterest(slot: Int) -> Quantity { Quantity(raw: longInterest[slot]) }

    /// Long open interest summed over markets, at mark.
    public var openInterestNotional: Amount {
        markets.indices.reduce(Amount.zero) { $0 + longOpenInterest(slot: $1).value(at: markets[$1].mark, rounding: .down) }
    }
}
