// The whole clearing world of one design: venues, traders, the clearing layer and the ledger.
// A pure state machine: `apply(_:)` is the only way in, and the same events applied to the same
// initial world always produce the same state, byte for byte (see `digest()`).

/// What kind of participant a trader is.
public enum TraderKind: UInt8, Sendable, Hashable, Codable {
    /// One position on one venue.
    case directional
    /// Long on one venue and short the same size on another, in the same asset.
    case hedger
    /// A market maker holding the opposite of the traders' net position on one venue.
    case maker
}

/// One leg of a new trader: collateral deposited on a venue and a position opened there.
public struct LegSetup: Sendable, Hashable, Codable {
    public var venue: Int
    public var asset: Int
    public var collateral: Amount
    /// Signed size; clamped to what the venue's initial margin allows when opened.
    public var quantity: Quantity

    public init(venue: Int, asset: Int, collateral: Amount, quantity: Quantity) {
        self.venue = venue
        self.asset = asset
        self.collateral = collateral
        self.quantity = quantity
    }
}

/// A trader joining the world with their legs.
public struct TraderSetup: Sendable, Hashable, Codable {
    public var kind: TraderKind
    /// At most one leg per venue.
    public var legs: [LegSetup]

    public init(kind: TraderKind, legs: [LegSetup]) {
        self.kind = kind
        self.legs = legs
    }
}

/// Every input the world accepts. Serializable, so a journal of events replays a world exactly.
public enum EngineEvent: Sendable, Hashable, Codable {
    /// Sets the first reference prices and funds every venue's own layer, treasury and book makers.
    case open(referencePrices: [Price])
    /// Adds a trader: deposits each leg's collateral and opens its position against the book (clamped
    /// to what the venue's initial margin allows).
    case addTrader(TraderSetup)
    /// Hands each venue's book inventory to `perVenue` market makers at `leverage`.
    case seedMakers(perVenue: Int, leverage: Int64)
    /// Funds the open-interest-proportional part of buffers and treasuries, sizes the mutual pool by
    /// stress test (shared designs) and records starting metrics.
    case startClearing
    /// Advances the clock: new reference prices, then margin, liquidation, the waterfall, ADL, unwinds.
    case step(timeSeconds: Int64, referencePrices: [Price])
    /// Sets the cross-margin credit a clearing node grants one account (replacing the previous one):
    /// the account's liquidation threshold is its maintenance less the credit. How a venue node
    /// applies the clearing node's netting decisions; the world's own netting does not use it.
    case crossMarginCredit(venue: Int, account: Int, amount: Amount)
    /// Moves collateral into (`amount` > 0) or out of (`amount` < 0) an account from outside the
    /// venue: how a venue node applies one leg of a clearing node's cross-venue collateral move.
    case collateralTransfer(venue: Int, account: Int, amount: Amount)
    /// The clearing node's mutual pool answers an account waiting for it (``EngineConfig/externalPool``):
    /// the positions named move to the venue's pool account at the given prices and `cash` is paid
    /// to the account (negative: taken from it). A deficit still left afterwards is bad debt.
    case backstopFill(venue: Int, account: Int, transfers: [PositionTransfer], cash: Amount)
    /// One cut of a coordinated ADL round decided by the clearing node: the account closes the size
    /// against the venue's pool account at the price and pays `haircut` to the pool.
    case adlFill(venue: Int, account: Int, transfer: PositionTransfer, haircut: Amount)
}

/// A position handed to or taken from the mutual pool at a price set by the clearing node.
public struct PositionTransfer: Sendable, Hashable, Codable {
    public var asset: Int
    /// Signed as the account holds it (long positive); only what the account still holds moves.
    public var quantity: Quantity
    public var price: Price

    public init(asset: Int, quantity: Quantity, price: Price) {
        self.asset = asset
        self.quantity = quantity
        self.price = price
    }
}

/// An account of one venue of a world.
public struct VenueAccount: Sendable, Hashable, Codable {
    public var venue: Int
    public var account: Int

    public init(venue: Int, account: Int) {
        self.venue = venue
        self.account = account
    }
}

/// The world of one clearing design.
public struct World: Sendable {
    public let config: EngineConfig
    public internal(set) var venues: [Venue]
    public internal(set) var timeSeconds: Int64 = 0
    /// The clearing layer's random stream (ADL rotation across venues); each venue has its own.
    var random: SeededRandom

    // MARK: - Ledger accounts outside the venues (Amount raw)

    /// Money from outside: goes negative by every deposit.
    public internal(set) var external: Int64 = 0
    /// Mutual pool cash (its inventory sits in each venue's pool account).
    public internal(set) var poolCash: Int64 = 0
    /// Transit account of ADL rounds: winners' haircuts in, bankrupt accounts' deficits out. Zero between rounds.
    public internal(set) var adlSettlement: Int64 = 0
    /// Per venue: losses nobody covered (goes negative by the bad debt written off).
    public internal(set) var lossAllocation: [Int64]
    /// Per venue: the operator's committed capital for assessments.
    public internal(set) var treasury: [Int64]
    /// Money this world paid to an external pool, net of what it received from it (Amount raw): the
    /// contributions and treasury deposits, ADL haircuts, less backstop fills' cash.
    public internal(set) var paidToPool: Int64 = 0
    /// Per venue: what its own layer paid into the mutual pool when clearing started (shared designs).
    public internal(set) var poolContributions: [Amount]
    /// Accounts waiting for an external pool's backstop fill, in the order they asked.
    public internal(set) var awaitingBackstop: [VenueAccount] = []

    // MARK: - Traders, column-wise

    public internal(set) var traderKind: [TraderKind] = []
    /// Legs of trader `t` are `legVenue[legStart[t]..<legStart[t+1]]` (and `legAccount`).
    var legStart: [Int32] = [0]
    var legVenue: [Int32] = []
    var legAccount: [Int32] = []
    /// Traders hit by ADL at least once.
    var adlHit: [Bool] = []
    /// Hedgers left one-legged at least once.
    var oneLegged: [Bool] = []
    /// Hedgers whose positions changed this step (only they can have become one-legged).
    var touchedHedgers: [Int32] = []
    /// Traders with accounts on several venues (the only ones netting can credit), in joining order.
    var multiVenueTraders: [Int32] = []
    /// Per trader: the smaller and larger leg of a hedger when it joined (Quantity raw; zero for others).
    var hedgeSmallLeg: [Int64] = []
    var hedgeLargeLeg: [Int64] = []

    // MARK: - Metrics

    public internal(set) var metrics = OutcomeMetrics()
    public internal(set) var samples: [StepSample] = []
    var adlRounds: Int64 = 0
    /// Sums of the per-round fairness ratios (Ratio raw, in 128 bits: a ratio can be very large).
    var ptsrSum: Int128 = 0
    var pmrSum: Int128 = 0
    var poolFeesReceived: Int64 = 0
    var poolAssessmentsReceived: Int64 = 0
    var protectedViolations: [String] = []

    /// An empty world of one design.
    public init(config: EngineConfig) {
        self.config = config
        venues = config.venues.map { Venue(config: $0, assets: config.assets, design: config.design, seed: config.seed) }
        random = SeededRandom(seed: config.seed)
        lossAllocation = Array(repeating: 0, count: config.venues.count)
        treasury = Array(repeating: 0, count: config.venues.count)
        poolContributions = Array(repeating: .zero, count: config.venues.count)
    }

    /// Applies one event.
    public mutating func apply(_ event: EngineEvent) {
        switch event {
        case .open(let prices): open(referencePrices: prices)
        case .addTrader(let setup): addTrader(setup)
        case .seedMakers(let perVenue, let leverage): seedMakers(perVenue: perVenue, leverage: leverage)
        case .startClearing: startClearing()
        case .step(let time, let prices): step(timeSeconds: time, referencePrices: prices)
        case .crossMarginCredit(let venue, let account, let amount):
            precondition(!amount.isNegative, "a credit is not negative")
            venues[venue].credit[account] = amount.raw
        case .collateralTransfer(let venue, let account, let amount):
            settle(amount, from: .external, to: .collateral(venue: venue, account: account))
        case .backstopFill(let venue, let account, let transfers, let cash):
            applyBackstopFill(venue: venue, account: account, transfers: transfers, cash: cash)
        case .adlFill(let venue, let account, let transfer, let haircut):
            applyADLFill(venue: venue, account: account, transfer: transfer, haircut: haircut)
        }
    }

    /// Number of traders (market makers included).
    public var traderCount: Int { traderKind.count }

    /// Indices of a trader's legs in `legVenue` and `legAccount`.
    func legRange(of trader: Int) -> Range<Int> { Int(legStart[trader])..<Int(legStart[trader + 1]) }

    /// The venue and account of one leg (an index in `legRange(of:)`).
    @inline(__always)
    func leg(_ index: Int) -> (venue: Int, account: Int) { (Int(legVenue[index]), Int(legAccount[index])) }

    /// The (venue, account) legs of a trader.
    func legs(of trader: Int) -> [(venue: Int, account: Int)] { legRange(of: trader).map(leg) }

    // MARK: - Setting up

    mutating func open(referencePrices: [Price]) {
        precondition(referencePrices.count == config.assets.count, "one reference price per asset")
        for venue in venues.indices {
            for slot in venues[venue].markets.indices {
                let price = referencePrices[venues[venue].markets[slot].asset]
                venues[venue].markets[slot].oracle = price
                venues[venue].markets[slot].mark = price
                venues[venue].markets[slot].previousMark = price
                venues[venue].markets[slot].oracleHistory = [price]
            }
            let config = venues[venue].config
            transfer(config.buffer, from: .external, to: .collateral(venue: venue, account: Venue.ownLayerAccount))
            transfer(config.assessmentCapacity, from: .external, to: .treasury(venue: venue))
            transfer(config.bookCapital, from: .external, to: .collateral(venue: venue, account: Venue.bookAccount))
        }
    }

    mutating func addTrader(_ setup: TraderSetup) {
        let trader = Int32(traderKind.count)
        traderKind.append(setup.kind)
        adlHit.append(false)
        oneLegged.append(false)
        for leg in setup.legs {
            let account = venues[leg.venue].addAccount(owner: trader)
            legVenue.append(Int32(leg.venue))
            legAccount.append(Int32(account))
            transfer(leg.collateral, from: .external, to: .collateral(venue: leg.venue, account: account))
            let slot = venues[leg.venue].slotOfAsset[leg.asset]
            precondition(slot >= 0, "venue \(venues[leg.venue].config.name) does not list asset \(leg.asset)")
            let market = venues[leg.venue].markets[slot]
            // Clamp to what the venue's initial margin allows.
            let size = min(leg.quantity.magnitude, market.rules.largestSize(collateral: leg.collateral, price: market.oracle))
            guard size.raw > 0 else { continue }
            if leg.quantity.isPositive {
                trade(venue: leg.venue, slot: slot, buyer: account, seller: Venue.bookAccount, size: size, price: market.oracle)
            } else {
                trade(venue: leg.venue, slot: slot, buyer: Venue.bookAccount, seller: account, size: size, price: market.oracle)
            }
        }
        legStart.append(Int32(legVenue.count))
        if setup.legs.count >= 2 { multiVenueTraders.append(trader) }
        let sizes = legRange(of: Int(trader)).map { hedgedSize(leg: $0) }
        hedgeSmallLeg.append(setup.kind == .hedger ? sizes.min() ?? 0 : 0)
        hedgeLargeLeg.append(setup.kind == .hedger ? sizes.max() ?? 0 : 0)
    }

    /// Size of a leg (Quantity raw, magnitude), summed over the leg's markets.
    func hedgedSize(leg: Int) -> Int64 {
        let (venue, account) = self.leg(leg)
        var size: Int64 = 0
        for slot in venues[venue].markets.indices { size += venues[venue].quantity[slot][account] }
        return abs(size)
    }

        mutating func seedMakers(perVenue: Int, leverage: Int64) {
        guard perVenue > 0 else { return }
        for venue in venues.indices {
            let makers = (0..<perVenue).map { _ in
                let trader = Int32(traderKind.count)
                traderKind.append(.maker)
                adlHit.append(false)
                oneLegged.append(false)
                hedgeSmallLeg.append(0)
                hedgeLargeLeg.append(0)
                let account = venues[venue].addAccount(owner: trader)
                legVenue.append(Int32(venue))
                legAccount.append(Int32(account))
                legStart.append(Int32(legVenue.count))
                return account
            }
            for slot in venues[venue].markets.indices {
                let inventory = venues[venue].quantity[slot][Venue.bookAccount]
                guard inventory != 0 else { continue }
                let price = venues[venue].markets[slot].oracle
                let share = inventory / Int64(perVenue)
                for (index, maker) in makers.enumerated() {
                    let size = index == 0 ? inventory - share * Int64(perVenue - 1) : share
                    guard size != 0 else { continue }
                    let margin = Quantity(raw: size).magnitude.value(at: price, rounding: .up).scaled(1, over: leverage, rounding: .up)
                    transfer(margin, from: .external, to: .collateral(venue: venue, account: maker))
                    if size > 0 {
                        trade(venue: venue, slot: slot, buyer: maker, seller: Venue.bookAccount, size: Quantity(raw: size), price: price)
                    } else {
                        trade(venue: venue, slot: slot, buyer: Venue.bookAccount, seller: maker, size: Quantity(raw: -size), price: price)
                    }
                }
            }
        }
    }

    mutating func startClearing() {
        for venue in venues.indices {
            let openInterest = venues[venue].openInterestNotional
            let config = venues[venue].config
            transfer(openInterest.scaled(by: config.bufferShareOfOpenInterest, rounding: .down),
                     from: .external, to: .collateral(venue: venue, account: Venue.ownLayerAccount))
            transfer(openInterest.scaled(by: config.assessmentShareOfOpenInterest, rounding: .down),
                     from: .external, to: .treasury(venue: venue))
        }
        if config.design.isShared { sizePool() }
        if let pool = config.externalPool { payExternalPool(pool) }
        metrics.hedgers = traderKind.reduce(0) { $0 + ($1 == .hedger ? 1 : 0) }
        metrics.poolStart = poolEquity
        metrics.poolMinimum = metrics.poolStart
        metrics.ownLayersStart = ownLayersEquity
        metrics.openInterest = venues.map {
            VenueOpenInterest(venue: $0.config.name, startNotional: $0.openInterestNotional, endNotional: .zero)
        }
    }
}
