// The rules each venue profile follows, after the real venues in mechanics.md section 1.
// Figures are rounded to what the public documentation states; `Docs/engine.md` lists the sources.

/// One tier of a maintenance schedule: from `notionalFloor` on, the maintenance fraction is `maintenance`.
public struct MarginTier: Sendable, Hashable {
    public let notionalFloor: Amount
    public let maintenance: Ratio

    public init(from notionalFloor: Amount, maintenance: Ratio) {
        self.notionalFloor = notionalFloor
        self.maintenance = maintenance
    }
}

/// Margin rules of one market on one venue.
public struct MarketRules: Sendable, Hashable {
    /// Largest leverage a position may be opened with.
    public let maxLeverage: Int64
    /// Maintenance tiers, lowest floor first (the first floor is zero).
    public let tiers: [MarginTier]
    /// Deduction per tier that keeps the requirement continuous in size:
    /// `ded(n) = ded(n-1) + floor(n) * (mmr(n) - mmr(n-1))`.
    public let deductions: [Amount]

    public init(maxLeverage: Int64, tiers: [MarginTier]) {
        precondition(!tiers.isEmpty && tiers[0].notionalFloor == .zero, "tiers start at zero notional")
        self.maxLeverage = maxLeverage
        self.tiers = tiers
        var deductions = [Amount.zero]
        for index in tiers.indices.dropFirst() {
            let step = Ratio(raw: tiers[index].maintenance.raw - tiers[index - 1].maintenance.raw)
            deductions.append(deductions[index - 1] + tiers[index].notionalFloor.scaled(by: step, rounding: .down))
        }
        self.deductions = deductions
    }

    /// Maintenance requirement of a position of this notional: `notional * mmr(n) - ded(n)`, rounded up.
    @inlinable @inline(__always)
    public func maintenance(notional: Amount) -> Amount {
        var tier = 0
        while tier + 1 < tiers.count && notional >= tiers[tier + 1].notionalFloor { tier += 1 }
        return notional.scaled(by: tiers[tier].maintenance, rounding: .up) - deductions[tier]
    }

    /// Initial margin to open a position of this notional: the larger of `notional / maxLeverage` and
    /// 1.5 times its maintenance (so large positions in high-maintenance brackets get less leverage,
    /// as Binance's brackets do, and nothing opens already liquidatable).
    public func initialMargin(notional: Amount) -> Amount {
        Amount.max(notional.scaled(1, over: maxLeverage, rounding: .up), maintenance(notional: notional).scaled(3, over: 2, rounding: .up))
    }

    /// The largest size whose initial margin at `price` fits in `collateral`.
    public func largestSize(collateral: Amount, price: Price) -> Quantity {
        var low: Int64 = 0
        var high = Quantity.worth(collateral.scaled(maxLeverage, over: 1, rounding: .down), at: price, rounding: .down).raw
        while low < high {
            let middle = low + (high - low + 1) / 2
            if initialMargin(notional: Quantity(raw: middle).value(at: price, rounding: .up)) <= collateral {
                low = middle
            } else {
                high = middle - 1
            }
        }
        return Quantity(raw: low)
    }

    /// Hyperliquid-style rules: maintenance is half the initial margin at max leverage, per tier.
    static func halfOfInitial(_ leverages: [(from: Int64, leverage: Int64)]) -> MarketRules {
        MarketRules(
            maxLeverage: leverages[0].leverage,
            tiers: leverages.map { MarginTier(from: Amount(whole: $0.from), maintenance: Ratio(raw: Ratio.unit / (2 * $0.leverage))) })
    }

    /// A single maintenance fraction for every size.
    static func flat(maxLeverage: Int64, maintenanceBasisPoints: Int64) -> MarketRules {
        MarketRules(maxLeverage: maxLeverage, tiers: [MarginTier(from: .zero, maintenance: Ratio(bps: maintenanceBasisPoints))])
    }
}

/// How much of an account a liquidation order closes at once.
public enum LiquidationStyle: Sendable, Hashable {
    /// The whole account in one go (Binance-style, Lighter).
    case whole
    /// Accounts above `threshold` notional go `slice` at a time with `cooldownSeconds` between slices
    /// (Hyperliquid: 20% slices above $100k, 30 s cooldown).
    case sliced(slice: Ratio, threshold: Amount, cooldownSeconds: Int64)
    /// At most `share` of each position per step, at least `minimum` and at most `maximum` notional
    /// per account and step (dYdX: 10% per block, $1k minimum, $100k maximum).
    case perStep(share: Ratio, minimum: Amount, maximum: Amount)
    /// Only what brings the account back above maintenance plus a buffer (Drift).
    case restoreHealth(buffer: Ratio)
}

/// The form of a venue's own loss-absorbing layer.
public enum OwnLayerForm: String, Sendable, Hashable, Codable {
    /// A backstop vault: takes over accounts the book cannot absorb and unwinds them gradually.
    case vault
    /// An insurance fund: positions are closed into the book at market and the fund pays the gap.
    case fund
}

/// Everything that makes one venue profile behave like the real venue.
public struct VenueProfile: Sendable, Hashable {
    public let kind: VenueProfileKind
    /// Margin rules per asset class.
    public let rules: [AssetClass: MarketRules]
    public let liquidation: LiquidationStyle
    /// The own layer takes an account over when its equity falls below this fraction of its
    /// maintenance requirement (Hyperliquid 2/3, Lighter C/M); nil: only when bankrupt.
    public let takeoverBelowMaintenance: Ratio?
    /// Whether a liquidation order that the book cannot fill goes to the own layer at once (Binance).
    public let takeoverUnfilled: Bool
    /// Liquidation fee as a fraction of the notional closed, paid from the account's remaining equity.
    public let liquidationFee: Ratio
    /// Liquidation is suspended while the oracle is further than this from its 5-minute TWAP (Drift).
    public let oracleBand: Ratio?
    /// The most the insurance fund pays for one bankruptcy, per asset class (Drift's tier caps).
    public let fundCap: [AssetClass: Amount]
    /// The own layer this venue has in shared designs.
    public let naturalForm: OwnLayerForm
    /// The venue's own ADL rule.
    public let adlPolicy: ADLPolicy

    /// The margin rules of an asset class on this venue (every profile defines all four classes).
    public func rules(for assetClass: AssetClass) -> MarketRules {
        guard let found = rules[assetClass] else { preconditionFailure("profile \(kind) has no rules for \(assetClass)") }
        return found
    }

    /// The profile of a venue kind.
    public static func of(_ kind: VenueProfileKind) -> VenueProfile {
        switch kind {
        case .hyperliquid: hyperliquid
        case .cex: cex
        case .dydx: dydx
        case .drift: drift
        case .lighter: lighter
        }
    }

    /// Hyperliquid: MM = half of IM at max leverage, tiered; 20% slices above $100k; backstop vault
    /// below 2/3 of MM; no clearance fee; ADL by its key at the previous mark.
    public static let hyperliquid = VenueProfile(
        kind: .hyperliquid,
        rules: [
            .btc: .halfOfInitial([(0, 40), (150_000_000, 20)]),
            .eth: .halfOfInitial([(0, 25), (100_000_000, 15)]),
            .sol: .halfOfInitial([(0, 20), (70_000_000, 10)]),
            .alt: .halfOfInitial([(0, 10), (20_000_000, 5)]),
        ],
        liquidation: .sliced(slice: Ratio(bps: 2_000), threshold: Amount(whole: 100_000), cooldownSeconds: 30),
        takeoverBelowMaintenance: Ratio(raw: 666_666_667), takeoverUnfilled: false,
        liquidationFee: .zero, oracleBand: nil, fundCap: [:], naturalForm: .vault, adlPolicy: .hyperliquidQueue)

    /// Binance-style CEX: notional brackets, whole-account liquidation, the insurance fund takes what
    /// the book cannot fill and is fed by clearance fees; ADL by the Binance key at the bankruptcy price.
    public static let cex = VenueProfile(
        kind: .cex,
        rules: [
            .btc: MarketRules(maxLeverage: 125, tiers: [
                MarginTier(from: .zero, maintenance: Ratio(bps: 40)),
                MarginTier(from: Amount(whole: 50_000), maintenance: Ratio(bps: 50)),
                MarginTier(from: Amount(whole: 600_000), maintenance: Ratio(bps: 65)),
                MarginTier(from: Amount(whole: 3_000_000), maintenance: Ratio(bps: 100)),
                MarginTier(from: Amount(whole: 12_000_000), maintenance: Ratio(bps: 200)),
            ]),
            .eth: MarketRules(maxLeverage: 100, tiers: [
                MarginTier(from: .zero, maintenance: Ratio(bps: 50)),
                MarginTier(from: Amount(whole: 50_000), maintenance: Ratio(bps: 65)),
                MarginTier(from: Amount(whole: 600_000), maintenance: Ratio(bps: 100)),
                MarginTier(from: Amount(whole: 6_000_000), maintenance: Ratio(bps: 200)),
            ]),
            .sol: MarketRules(maxLeverage: 75, tiers: [
                MarginTier(from: .zero, maintenance: Ratio(bps: 65)),
                MarginTier(from: Amount(whole: 50_000), maintenance: Ratio(bps: 100)),
                MarginTier(from: Amount(whole: 1_000_000), maintenance: Ratio(bps: 250)),
            ]),
            .alt: MarketRules(maxLeverage: 50, tiers: [
                MarginTier(from: .zero, maintenance: Ratio(bps: 100)),
                MarginTier(from: Amount(whole: 25_000), maintenance: Ratio(bps: 150)),
                MarginTier(from: Amount(whole: 250_000), maintenance: Ratio(bps: 500)),
            ]),
        ],
        liquidation: .whole, takeoverBelowMaintenance: nil, takeoverUnfilled: true,
        liquidationFee: Ratio(bps: 125), oracleBand: nil, fundCap: [:], naturalForm: .fund, adlPolicy: .binanceQueue)

    /// dYdX v4: IMF/MMF per market class, at most 10% of a position per block, fee to the fund
    /// `min(1.5%, surplus)`, deleveraging by seeded rotation at the bankruptcy price.
    public static let dydx = VenueProfile(
        kind: .dydx,
        rules: [
            .btc: .flat(maxLeverage: 50, maintenanceBasisPoints: 120),
            .eth: .flat(maxLeverage: 50, maintenanceBasisPoints: 120),
            .sol: .flat(maxLeverage: 20, maintenanceBasisPoints: 300),
            .alt: .flat(maxLeverage: 5, maintenanceBasisPoints: 1_000),
        ],
        liquidation: .perStep(share: Ratio(bps: 1_000), minimum: Amount(whole: 1_000), maximum: Amount(whole: 100_000)),
        takeoverBelowMaintenance: nil, takeoverUnfilled: false,
        liquidationFee: Ratio(bps: 150), oracleBand: nil, fundCap: [:], naturalForm: .fund, adlPolicy: .dydxRotation)

    /// Drift v2: liquidates only what restores health plus 2%, suspended while the oracle is more than
    /// 10% from its 5-minute TWAP; the fund pays up to a per-tier cap; then contract pro-rata.
    public static let drift = VenueProfile(
        kind: .drift,
        rules: [
            .btc: .flat(maxLeverage: 20, maintenanceBasisPoints: 250),
            .eth: .flat(maxLeverage: 20, maintenanceBasisPoints: 250),
            .sol: .flat(maxLeverage: 20, maintenanceBasisPoints: 300),
            .alt: .flat(maxLeverage: 10, maintenanceBasisPoints: 500),
        ],
        liquidation: .restoreHealth(buffer: Ratio(bps: 200)), takeoverBelowMaintenance: nil, takeoverUnfilled: false,
        liquidationFee: Ratio(bps: 100), oracleBand: Ratio(bps: 1_000),
        fundCap: [.btc: Amount(whole: 100_000_000), .eth: Amount(whole: 100_000_000),
                  .sol: Amount(whole: 1_000_000), .alt: Amount(whole: 100_000)],
        naturalForm: .fund, adlPolicy: .contractProRata)

    /// Lighter: fractions C < M < I; below M the whole account closes at the zero price (for one
    /// position, its bankruptcy price) paying up to 1% to the LLP; below C the LLP takes everything.
    public static let lighter = VenueProfile(
        kind: .lighter,
        rules: [
            .btc: .flat(maxLeverage: 50, maintenanceBasisPoints: 120),
            .eth: .flat(maxLeverage: 50, maintenanceBasisPoints: 120),
            .sol: .flat(maxLeverage: 25, maintenanceBasisPoints: 240),
            .alt: .flat(maxLeverage: 10, maintenanceBasisPoints: 600),
        ],
        liquidation: .whole, takeoverBelowMaintenance: Ratio(raw: 666_666_667), takeoverUnfilled: false,
        liquidationFee: Ratio(bps: 100), oracleBand: nil, fundCap: [:], naturalForm: .vault, adlPolicy: .hyperliquidQueue)
}
