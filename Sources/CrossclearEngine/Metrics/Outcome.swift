// What a run of one clearing design produced: the research metrics of mechanics.md section 3, the
// per-step time series, and the conservation check. Plain values, so reports can be written anywhere.

/// Open interest of one venue at the start and the end of a run, valued at the marks of each time.
public struct VenueOpenInterest: Sendable, Hashable, Codable {
    public var venue: String
    /// Long open interest (equal to short open interest) summed over the venue's markets.
    public var startNotional: Amount
    public var endNotional: Amount

    public init(venue: String, startNotional: Amount, endNotional: Amount) {
        self.venue = venue
        self.startNotional = startNotional
        self.endNotional = endNotional
    }
}

/// The result of checking that money is conserved and positions balance.
public struct ConservationReport: Sendable, Hashable, Codable {
    /// Sum of every ledger account except the external-deposit account (must equal `netDeposits`).
    public var ledgerTotal: Amount
    /// Money that entered from outside (deposits minus withdrawals).
    public var netDeposits: Amount
    /// Markets whose long and short open interest differ, or whose settlement account does not
    /// match its positions' cost basis, as "venue/asset" names. Empty when all balance.
    public var unbalancedMarkets: [String]
    /// Accounts with a negative balance that should never have one (the mutual pool, venue funds).
    public var negativeProtectedAccounts: [String]

    public init(ledgerTotal: Amount, netDeposits: Amount, unbalancedMarkets: [String], negativeProtectedAccounts: [String]) {
        self.ledgerTotal = ledgerTotal
        self.netDeposits = netDeposits
        self.unbalancedMarkets = unbalancedMarkets
        self.negativeProtectedAccounts = negativeProtectedAccounts
    }

    /// True when the ledger sums exactly to net deposits and every market balances.
    public var holds: Bool {
        ledgerTotal == netDeposits && unbalancedMarkets.isEmpty && negativeProtectedAccounts.isEmpty
    }
}

/// The headline numbers of one design's run.
public struct OutcomeMetrics: Sendable, Hashable, Codable {
    // Liquidations.
    /// Book liquidation fills (one per account and step in which a liquidation order traded).
    public var liquidationCount: Int = 0
    /// Notional closed into books by liquidation orders.
    public var liquidationNotional: Amount = .zero
    /// Accounts taken over by a venue's own layer (backstop vault, insurance fund, LLP).
    public var ownLayerTakeovers: Int = 0
    public var ownLayerTakeoverNotional: Amount = .zero
    /// Accounts taken over by the mutual pool as buyer of last resort.
    public var poolTakeovers: Int = 0
    public var poolTakeoverNotional: Amount = .zero
    /// Liquidation fees collected by own layers and the pool.
    public var liquidationFees: Amount = .zero

    // Buffers.
    /// Mutual pool equity (cash plus inventory at mark) at the start, its minimum, and at the end.
    public var poolStart: Amount = .zero
    public var poolMinimum: Amount = .zero
    public var poolEnd: Amount = .zero
    /// Profit or loss of the pool's takeovers and unwinds (end equity minus start, less fees and assessments received).
    public var poolUnwindPnL: Amount = .zero
    /// Sum of the venues' own layers at the start and end.
    public var ownLayersStart: Amount = .zero
    public var ownLayersEnd: Amount = .zero
    /// Paid by venues into the pool under capped assessments.
    public var venueAssessments: Amount = .zero
    /// Losses nobody covered (left with the loss-allocation account).
    public var badDebt: Amount = .zero

    // Netting.
    /// Cross-venue collateral moves made to keep hedged traders solvent on every venue.
    public var collateralMoves: Int = 0
    public var collateralMoved: Amount = .zero

    // ADL.
    /// ADL fills (one per winner position cut).
    public var adlCount: Int = 0
    /// Notional of winners' positions closed by ADL, at mark.
    public var adlNotional: Amount = .zero
    /// Distinct traders with at least one position cut by ADL.
    public var adlTraders: Int = 0
    /// Largest single haircut as a fraction of the winner's equity before it.
    public var maxHaircut: Ratio = .zero
    /// Needed budget `B`: the shortfall ADL had to cover.
    public var neededBudget: Amount = .zero
    /// Production haircut `H`: value taken from winners, measured against the mark.
    public var productionHaircut: Amount = .zero
    /// Overshoot `O = H - B`.
    public var overshoot: Amount = .zero
    /// Mean over ADL rounds (steps with at least $1 of shortfall) of (largest post-ADL winner equity /
    /// the round's shortfall).
    public var ptsr: Ratio = .zero
    /// Mean over ADL rounds of (largest post-ADL winner equity / largest single loser shortfall).
    public var pmr: Ratio = .zero

    // Hedgers.
    /// Traders who started delta-neutral across two venues.
    public var hedgers: Int = 0
    /// Hedgers whose hedge ratio (smaller leg / larger leg) fell below half of its starting value at
    /// some point: a leg closed or cut (liquidated, taken over or ADL'd) while the other stayed open.
    public var hedgersOneLegged: Int = 0

    public var openInterest: [VenueOpenInterest] = []

    public init() {}
}

/// One row of the time series: the state of one design's world after a step.
public struct StepSample: Sendable, Hashable, Codable {
    public var timeSeconds: Int64
    /// Reference (oracle) price of the scenario's first asset.
    public var referencePrice: Price
    /// Lowest book depth factor across venues and markets (1 = calm).
    public var minimumDepth: Ratio
    public var poolEquity: Amount
    public var ownLayersEquity: Amount
    public var liquidationNotional: Amount
    public var takeoverNotional: Amount
    public var adlNotional: Amount
    public var badDebt: Amount
    /// Long open interest summed over all venues and markets, at mark.
    public var openInterest: Amount

    public init(timeSeconds: Int64, referencePrice: Price, minimumDepth: Ratio, poolEquity: Amount, ownLayersEquity: Amount,
                liquidationNotional: Amount, takeoverNotional: Amount, adlNotional: Amount, badDebt: Amount, openInterest: Amount) {
        self.timeSeconds = timeSeconds
        self.referencePrice = referencePrice
        self.minimumDepth = minimumDepth
        self.poolEquity = poolEquity
        self.ownLayersEquity = ownLayersEquity
        self.liquidationNotional = liquidationNotional
        self.takeoverNotional = takeoverNotional
        self.adlNotional = adlNotional
        self.badDebt = badDebt
        self.openInterest = openInterest
    }
}

/// Everything one design's run produced.
public struct DesignOutcome: Sendable, Hashable, Codable {
    public var design: ClearingDesign
    public var adlPolicy: ADLPolicy
    public var metrics: OutcomeMetrics
    public var samples: [StepSample]
    public var conservation: ConservationReport
    /// Digest of the final engine state (equal across runs with the same inputs).
    public var stateDigest: UInt64

    public init(design: ClearingDesign, adlPolicy: ADLPolicy, metrics: OutcomeMetrics, samples: [StepSample],
                conservation: ConservationReport, stateDigest: UInt64) {
        self.design = design
        self.adlPolicy = adlPolicy
        self.metrics = metrics
        self.samples = samples
        self.conservation = conservation
        self.stateDigest = stateDigest
    }
}
