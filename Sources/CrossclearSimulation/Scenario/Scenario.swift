import CrossclearEngine

/// A research scenario: the world (assets, venues, liquidity, oracles, clearing parameters), the
/// price path that drives it, the trader population, and the clock. Loaded from a TOML file
/// (`Scenario.load`, field reference in `Docs/scenarios.md`).
public struct Scenario: Sendable, Hashable {
    /// Short name, e.g. "oct10".
    public var name: String
    /// One or two sentences for reports.
    public var summary: String
    /// Seed of every random choice (population, oracle noise, rotations).
    public var seed: UInt64
    /// Simulated seconds per step.
    public var timeStepSeconds: Int64
    /// Simulated seconds in the whole run.
    public var durationSeconds: Int64
    public var assets: [AssetScenario]
    public var venues: [VenueScenario]
    public var pricePath: PricePath
    public var liquidity: LiquidityConfig
    /// When positive, every asset's book depth is given for a population of this many traders and
    /// scales in proportion to `population.traders`, so the scenario behaves alike at any size.
    public var depthReferenceTraders: Int
    public var oracle: OracleConfig
    public var clearing: ClearingConfig
    public var population: Population

    public init(name: String, summary: String, seed: UInt64, timeStepSeconds: Int64, durationSeconds: Int64,
                assets: [AssetScenario], venues: [VenueScenario], pricePath: PricePath, liquidity: LiquidityConfig,
                depthReferenceTraders: Int = 0, oracle: OracleConfig, clearing: ClearingConfig, population: Population) {
        self.name = name
        self.summary = summary
        self.seed = seed
        self.timeStepSeconds = timeStepSeconds
        self.durationSeconds = durationSeconds
        self.assets = assets
        self.venues = venues
        self.pricePath = pricePath
        self.liquidity = liquidity
        self.depthReferenceTraders = depthReferenceTraders
        self.oracle = oracle
        self.clearing = clearing
        self.population = population
    }

    /// Number of steps in a run.
    public var stepCount: Int { Int(durationSeconds / timeStepSeconds) }

    /// The static engine configuration for one clearing design.
    public func engineConfig(design: ClearingDesign) -> EngineConfig {
        let assetIndex = Dictionary(uniqueKeysWithValues: assets.enumerated().map { ($1.config.symbol, $0) })
        return EngineConfig(
            assets: assets.map { asset in
                var config = asset.config
                if depthReferenceTraders > 0 {
                    config.depthPerBasisPoint = config.depthPerBasisPoint.scaled(
                        Int64(population.traders), over: Int64(depthReferenceTraders), rounding: .down)
                }
                return config
            },
            venues: venues.map { venue in
                VenueConfig(name: venue.name, profile: venue.profile,
                            assets: venue.markets.compactMap { assetIndex[$0] },
                            buffer: venue.buffer, bufferShareOfOpenInterest: venue.bufferShareOfOpenInterest,
                            assessmentCapacity: venue.assessmentCapacity,
                            assessmentShareOfOpenInterest: venue.assessmentShareOfOpenInterest,
                            depthScale: venue.depthScale, bookCapital: venue.makerCapital)
            },
            liquidity: liquidity, oracle: oracle, clearing: clearing, design: design, seed: seed)
    }
}

/// An asset of the scenario: its engine configuration plus how it moves and who trades it.
public struct AssetScenario: Sendable, Hashable {
    public var config: AssetConfig
    /// Reference price at time zero.
    public var startPrice: Price
    /// Multiplies the crash depth for this asset (1 = the path's depth).
    public var beta: Ratio
    /// Extra fall during the wick at the bottom of a crash, as a fraction of the start price
    /// (0 = no wick). The price touches `start * (1 - wick)` when that is below the beta-scaled fall.
    public var wick: Ratio
    /// Relative weight of this asset when traders pick what to trade.
    public var traderWeight: Int64

    public init(config: AssetConfig, startPrice: Price, beta: Ratio, wick: Ratio, traderWeight: Int64) {
        self.config = config
        self.startPrice = startPrice
        self.beta = beta
        self.wick = wick
        self.traderWeight = traderWeight
    }
}

/// A venue of the scenario.
public struct VenueScenario: Sendable, Hashable {
    public var name: String
    public var profile: VenueProfileKind
    /// Symbols of the assets this venue lists.
    public var markets: [String]
    /// The venue's own loss-absorbing capital (backstop vault or insurance fund).
    public var buffer: Amount
    /// Added to `buffer` when clearing starts: this share of the venue's open interest.
    public var bufferShareOfOpenInterest: Ratio
    /// The venue operator's committed capital for capped assessments by the mutual pool.
    public var assessmentCapacity: Amount
    /// Added to `assessmentCapacity` when clearing starts: this share of the venue's open interest.
    public var assessmentShareOfOpenInterest: Ratio
    /// Multiplies every asset's book depth on this venue.
    public var depthScale: Ratio
    /// Relative weight of this venue when traders pick where to trade.
    public var traderWeight: Int64
    /// Collateral of the venue's book makers (the counterparty of book fills).
    public var makerCapital: Amount

    public init(name: String, profile: VenueProfileKind, markets: [String], buffer: Amount,
                bufferShareOfOpenInterest: Ratio = .zero, assessmentCapacity: Amount,
                assessmentShareOfOpenInterest: Ratio = .zero, depthScale: Ratio, traderWeight: Int64, makerCapital: Amount) {
        self.name = name
        self.profile = profile
        self.markets = markets
        self.buffer = buffer
        self.bufferShareOfOpenInterest = bufferShareOfOpenInterest
        self.assessmentCapacity = assessmentCapacity
        self.assessmentShareOfOpenInterest = assessmentShareOfOpenInterest
        self.depthScale = depthScale
        self.traderWeight = traderWeight
        self.makerCapital = makerCapital
    }
}

/// Where reference prices come from.
public enum PricePath: Sendable, Hashable {
    /// A parametric crash applied to every asset (scaled by its beta and wick).
    case crash(CrashPath)
    /// Prices read from a CSV file (`time_s,symbol,price`), held between points.
    case series(PriceSeries)
}

/// A parametric crash: calm, a fall to the bottom, an optional wick for alts, a partial recovery.
public struct CrashPath: Sendable, Hashable {
    /// Second at which the fall starts.
    public var startSeconds: Int64
    /// Seconds from the start of the fall to the bottom.
    public var fallSeconds: Int64
    /// Fall of an asset with beta 1, as a fraction of its start price.
    public var depth: Ratio
    /// Seconds the alt wick lasts at the bottom (it goes down and back up within this time).
    public var wickSeconds: Int64
    /// Share of the fall recovered by the end of the recovery.
    public var recovery: Ratio
    /// Seconds from the bottom to the end of the recovery.
    public var recoverySeconds: Int64

    public init(startSeconds: Int64, fallSeconds: Int64, depth: Ratio, wickSeconds: Int64, recovery: Ratio, recoverySeconds: Int64) {
        self.startSeconds = startSeconds
        self.fallSeconds = fallSeconds
        self.depth = depth
        self.wickSeconds = wickSeconds
        self.recovery = recovery
        self.recoverySeconds = recoverySeconds
    }
}

/// A price series read from CSV.
public struct PriceSeries: Sendable, Hashable {
    /// The CSV file as named in the scenario (relative to the scenario file).
    public var file: String
    /// Points sorted by time, then by asset index.
    public var points: [PricePoint]

    public init(file: String, points: [PricePoint]) {
        self.file = file
        self.points = points
    }
}

/// One reference price at one time.
public struct PricePoint: Sendable, Hashable {
    public var timeSeconds: Int64
    /// Index into `Scenario.assets`.
    public var asset: Int
    public var price: Price

    public init(timeSeconds: Int64, asset: Int, price: Price) {
        self.timeSeconds = timeSeconds
        self.asset = asset
        self.price = price
    }
}

/// A discrete distribution: `values[i]` is drawn with probability `weights[i] / sum(weights)`.
public struct WeightedChoice<Value: Sendable & Hashable>: Sendable, Hashable {
    public var values: [Value]
    public var weights: [Int64]

    public init(values: [Value], weights: [Int64]) {
        precondition(values.count == weights.count && !values.isEmpty, "a weighted choice needs one weight per value")
        self.values = values
        self.weights = weights
    }
}

/// Who trades, how much and with what leverage.
public struct Population: Sendable, Hashable {
    /// Number of traders (market makers not included).
    public var traders: Int
    /// Share of traders who are delta-neutral across two venues (long on one, short on the other).
    public var hedgerShare: Ratio
    /// Share of directional traders who are long.
    public var longShare: Ratio
    /// Leverage of directional traders' positions.
    public var leverage: WeightedChoice<Int64>
    /// Leverage of each leg of a hedger's positions.
    public var hedgerLeverage: WeightedChoice<Int64>
    /// Collateral per trader; each draw is then jittered uniformly within plus or minus half.
    public var collateral: WeightedChoice<Amount>
    /// Market-maker accounts per venue; together they hold the opposite of the traders' net position.
    public var marketMakersPerVenue: Int
    /// Leverage of market makers' inventory.
    public var makerLeverage: Int64

    public init(traders: Int, hedgerShare: Ratio, longShare: Ratio, leverage: WeightedChoice<Int64>,
                hedgerLeverage: WeightedChoice<Int64>, collateral: WeightedChoice<Amount>,
                marketMakersPerVenue: Int, makerLeverage: Int64) {
        self.traders = traders
        self.hedgerShare = hedgerShare
        self.longShare = longShare
        self.leverage = leverage
        self.hedgerLeverage = hedgerLeverage
        self.collateral = collateral
        self.marketMakersPerVenue = marketMakersPerVenue
        self.makerLeverage = makerLeverage
    }
}
