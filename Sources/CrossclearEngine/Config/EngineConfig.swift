// The static description of a world: assets, venues, liquidity, oracles and the clearing design.
// Built by the simulator from a scenario file (and by nodes from a cluster file); never changed by events.

/// The real venue whose rules a venue follows (see `Docs/engine.md` and mechanics.md section 1).
public enum VenueProfileKind: String, CaseIterable, Sendable, Hashable, Codable {
    case hyperliquid, cex, dydx, drift, lighter
}

/// Which margin tier table of a profile an asset uses.
public enum AssetClass: String, CaseIterable, Sendable, Hashable, Codable {
    case btc, eth, sol, alt
}

/// How the loss left after every earlier layer is taken from winners.
public enum ADLPolicy: String, CaseIterable, Sendable, Hashable, Codable {
    /// Each venue's own rule (profile default); in shared designs applied across venues per venue.
    case venueDefault = "venue-default"
    /// Queue by `(mark/entry) * (notional/account value)`, filled at the previous mark.
    case hyperliquidQueue = "hyperliquid-queue"
    /// Queue by `PnL% * margin ratio`, filled at the bankruptcy price.
    case binanceQueue = "binance-queue"
    /// Queue by `PnL% * effective leverage` (or `PnL% / effective leverage` when losing), at bankruptcy.
    case bitmexQueue = "bitmex-queue"
    /// No ranking: opposite-side holders from a seeded pseudo-random start, at bankruptcy.
    case dydxRotation = "dydx-rotation"
    /// Every opposite-side holder, in proportion to position size.
    case contractProRata = "contract-pro-rata"
    /// Every opposite-side winner, in proportion to unrealized profit.
    case pnlProRata = "pnl-pro-rata"
    /// Ranks across venues by each trader's net cross-venue profit; cutting one leg of a hedge cuts the other.
    case hedgeAware = "hedge-aware"
}

/// The five clearing designs a scenario can be run under.
public enum ClearingDesign: String, CaseIterable, Sendable, Hashable, Codable {
    /// Each venue alone: a backstop vault takes over what the book cannot absorb, then venue-local ADL.
    case siloedBackstop = "siloed-backstop"
    /// Each venue alone: an insurance fund fed by liquidation fees, then venue-local ADL.
    case siloedFund = "siloed-fund"
    /// Venues keep their own layer and share a mutual pool; no netting; ADL coordinated across venues.
    case sharedPool = "shared-pool"
    /// `shared-pool` plus cross-venue netting with collateral moves.
    case sharedNetting = "shared-netting"
    /// `shared-netting` plus hedge-aware coordinated ADL.
    case sharedFull = "shared-full"

    /// Whether the mutual pool, assessments and cross-venue ADL exist.
    public var isShared: Bool { self != .siloedBackstop && self != .siloedFund }
    /// Whether traders' exposures are netted across venues.
    public var nets: Bool { self == .sharedNetting || self == .sharedFull }
    /// The ADL policy the design uses when the scenario does not name one.
    public var defaultADLPolicy: ADLPolicy { self == .sharedFull ? .hedgeAware : .venueDefault }
}

/// One tradeable underlying.
public struct AssetConfig: Sendable, Hashable, Codable {
    /// Ticker, e.g. "BTC".
    public var symbol: String
    /// Which tier table the profiles use for it.
    public var assetClass: AssetClass
    /// Book depth at calm times at a venue with depth scale 1: USD of resting size per basis point
    /// of distance from the mark, on each side.
    public var depthPerBasisPoint: Amount

    public init(symbol: String, assetClass: AssetClass, depthPerBasisPoint: Amount) {
        self.symbol = symbol
        self.assetClass = assetClass
        self.depthPerBasisPoint = depthPerBasisPoint
    }
}

/// One venue of the world.
public struct VenueConfig: Sendable, Hashable, Codable {
    public var name: String
    public var profile: VenueProfileKind
    /// Indices into `EngineConfig.assets` of the markets this venue lists.
    public var assets: [Int]
    /// The venue's own loss-absorbing capital (backstop vault or insurance fund); in shared designs
    /// its pool contribution is taken out of it.
    public var buffer: Amount
    /// Added to `buffer` when clearing starts: this share of the venue's open interest then (so a
    /// scenario keeps its proportions at any population size).
    public var bufferShareOfOpenInterest: Ratio
    /// The venue operator's committed capital for capped assessments by the mutual pool.
    public var assessmentCapacity: Amount
    /// Added to `assessmentCapacity` when clearing starts: this share of the venue's open interest.
    public var assessmentShareOfOpenInterest: Ratio
    /// Multiplies every asset's book depth on this venue.
    public var depthScale: Ratio
    /// Collateral of the venue's book makers, the counterparty of every book fill.
    public var bookCapital: Amount

    public init(name: String, profile: VenueProfileKind, assets: [Int], buffer: Amount, bufferShareOfOpenInterest: Ratio = .zero,
                assessmentCapacity: Amount, assessmentShareOfOpenInterest: Ratio = .zero, depthScale: Ratio, bookCapital: Amount) {
        self.name = name
        self.profile = profile
        self.assets = assets
        self.buffer = buffer
        self.bufferShareOfOpenInterest = bufferShareOfOpenInterest
        self.assessmentCapacity = assessmentCapacity
        self.assessmentShareOfOpenInterest = assessmentShareOfOpenInterest
        self.depthScale = depthScale
        self.bookCapital = bookCapital
    }
}

/// How books thin out under stress and recover.
public struct LiquidityConfig: Sendable, Hashable, Codable {
    /// How fast makers withdraw: `depth = calm depth * max(minimum, 1 - sensitivity * |move|)`, where
    /// `move` is the oracle's relative change over the last 60 seconds (sensitivity 10: a 5% move
    /// halves the book).
    public var volatilitySensitivity: Ratio
    /// Depth never falls below this fraction of its calm level.
    public var minimumDepth: Ratio
    /// Fraction of the book's price impact that decays every second.
    public var resiliencePerSecond: Ratio
    /// The book holds no liquidity beyond this distance from the oracle, in basis points.
    public var maxWalkBasisPoints: Int64

    public init(volatilitySensitivity: Ratio, minimumDepth: Ratio, resiliencePerSecond: Ratio, maxWalkBasisPoints: Int64) {
        self.volatilitySensitivity = volatilitySensitivity
        self.minimumDepth = minimumDepth
        self.resiliencePerSecond = resiliencePerSecond
        self.maxWalkBasisPoints = maxWalkBasisPoints
    }
}

/// How each venue forms its oracle and mark.
public struct OracleConfig: Sendable, Hashable, Codable {
    /// Number of price sources per venue; with more than one the oracle is their median.
    public var sources: Int
    /// Each source deviates from the reference price by a seeded amount up to this many basis points.
    public var sourceNoiseBasisPoints: Int64
    /// The mark is clamped to within this many basis points of the oracle (0 = no band).
    public var markBandBasisPoints: Int64

    public init(sources: Int, sourceNoiseBasisPoints: Int64, markBandBasisPoints: Int64) {
        self.sources = sources
        self.sourceNoiseBasisPoints = sourceNoiseBasisPoints
        self.markBandBasisPoints = markBandBasisPoints
    }
}

/// Parameters of the clearing layer (used by the shared designs).
public struct ClearingConfig: Sendable, Hashable, Codable {
    /// The cross-venue margin credit is at most this share of (sum of per-venue requirements minus the
    /// requirement on the netted portfolio). Default 0.8, the EU cross-margining cap.
    public var nettingCreditCap: Ratio
    /// The pool is sized to cover the stress losses of this many largest venues (Cover-2 = 2).
    public var poolCover: Int
    /// The stress move of the pool sizing test, as a fraction of price, applied down and up.
    public var stressMove: Ratio
    /// The pool's target is multiplied by this.
    public var poolMultiplier: Ratio
    /// The pool takes a position over at the bankruptcy price worsened by this fraction.
    public var takeoverDiscount: Ratio
    /// Share of every liquidation fee that goes to the mutual pool instead of the venue's own layer.
    public var feeShareToPool: Ratio
    /// Share of its inventory the pool (and any backstop vault) tries to unwind per second.
    public var unwindPerSecond: Ratio
    /// The unwinder never pays more than this much slippage, in basis points from the oracle.
    public var unwindMaxSlippageBasisPoints: Int64
    /// ADL policy; nil means the design's default.
    public var adlPolicy: ADLPolicy?

    public init(nettingCreditCap: Ratio, poolCover: Int, stressMove: Ratio, poolMultiplier: Ratio,
                takeoverDiscount: Ratio, feeShareToPool: Ratio, unwindPerSecond: Ratio,
                unwindMaxSlippageBasisPoints: Int64, adlPolicy: ADLPolicy?) {
        self.nettingCreditCap = nettingCreditCap
        self.poolCover = poolCover
        self.stressMove = stressMove
        self.poolMultiplier = poolMultiplier
        self.takeoverDiscount = takeoverDiscount
        self.feeShareToPool = feeShareToPool
        self.unwindPerSecond = unwindPerSecond
        self.unwindMaxSlippageBasisPoints = unwindMaxSlippageBasisPoints
        self.adlPolicy = adlPolicy
    }
}

/// Everything static about a world.
public struct EngineConfig: Sendable, Hashable, Codable {
    public var assets: [AssetConfig]
    public var venues: [VenueConfig]
    public var liquidity: LiquidityConfig
    public var oracle: OracleConfig
    public var clearing: ClearingConfig
    public var design: ClearingDesign
    /// Seed of every random choice the engine makes (oracle noise, dYdX rotation start).
    public var seed: UInt64
    /// Set when the world is one venue node's venue and the mutual pool lives at the clearing node
    /// (see ``ExternalPool``); nil in the simulator.
    public var externalPool: ExternalPool?

    public init(assets: [AssetConfig], venues: [VenueConfig], liquidity: LiquidityConfig, oracle: OracleConfig,
                clearing: ClearingConfig, design: ClearingDesign, seed: UInt64, externalPool: ExternalPool? = nil) {
        self.externalPool = externalPool
        self.assets = assets
        self.venues = venues
        self.liquidity = liquidity
        self.oracle = oracle
        self.clearing = clearing
        self.design = design
        self.seed = seed
    }

    /// The ADL policy in force. Siloed designs always use each venue's own rule; shared designs use
    /// the scenario's choice, or the design's default.
    public var adlPolicy: ADLPolicy {
        design.isShared ? (clearing.adlPolicy ?? design.defaultADLPolicy) : .venueDefault
    }
}

/// The mutual pool of a shared design run by a clearing node instead of inside the world. The venues
/// then pay their Cover-N contribution and deposit their assessment treasury with the clearing
/// node when clearing starts; an account past the venue's own layer waits for the pool's answer
/// (a ``EngineEvent/backstopFill(venue:account:transfers:cash:)``) instead of going to the pool
/// or to ADL in the world; ADL reaches the venue as ``EngineEvent/adlFill(venue:account:transfer:haircut:)``.
public struct ExternalPool: Sendable, Hashable, Codable {
    /// Per venue of the world: what its own layer pays into the pool when clearing starts (at most
    /// what the own layer holds).
    public var contributions: [Amount]

    public init(contributions: [Amount]) {
        self.contributions = contributions
    }
}
