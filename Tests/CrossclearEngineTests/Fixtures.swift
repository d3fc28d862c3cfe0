// One small world builder for every engine test: a few venues of chosen profiles, one or two assets,
// quiet liquidity and exact single-source oracles by default, so that hand-computed numbers hold.

import Testing
@testable import CrossclearEngine

// MARK: - Exact literals

/// An exact amount from decimal text, e.g. `usd("-12.5")`.
func usd(_ text: String) -> Amount {
    guard let value = Amount(parsing: text) else { preconditionFailure("bad amount literal \(text)") }
    return value
}

/// An exact price from decimal text.
func px(_ text: String) -> Price {
    guard let value = Price(parsing: text) else { preconditionFailure("bad price literal \(text)") }
    return value
}

/// An exact signed size from decimal text.
func qty(_ text: String) -> Quantity {
    guard let value = Quantity(parsing: text) else { preconditionFailure("bad quantity literal \(text)") }
    return value
}

/// An exact ratio from decimal text.
func ratio(_ text: String) -> Ratio {
    guard let value = Ratio(parsing: text) else { preconditionFailure("bad ratio literal \(text)") }
    return value
}

// MARK: - The builder

/// Everything static about a test world. Defaults: one BTC asset at $100 with $10,000 of depth per
/// basis point, books that never thin out and never recover on their own, a single noiseless oracle
/// source without a mark band, and a clearing layer that does not size its pool, charge a takeover
/// discount, route fees to the pool or unwind inventory (tests switch on what they exercise).
struct WorldBuilder {
    var assets: [AssetConfig]
    var venues: [VenueConfig]
    var liquidity = LiquidityConfig(volatilitySensitivity: .zero, minimumDepth: .one, resiliencePerSecond: .zero,
                                    maxWalkBasisPoints: 1_000)
    var oracle = OracleConfig(sources: 1, sourceNoiseBasisPoints: 0, markBandBasisPoints: 0)
    var clearing = ClearingConfig(nettingCreditCap: ratio("0.8"), poolCover: 2, stressMove: ratio("0.2"), poolMultiplier: .zero,
                                  takeoverDiscount: .zero, feeShareToPool: .zero, unwindPerSecond: .zero,
                                  unwindMaxSlippageBasisPoints: 100, adlPolicy: nil)
    var design: ClearingDesign
    var seed: UInt64 = 7
    /// Reference price of each asset when the world opens.
    var startPrices: [Price]

    /// Venues of the given profiles (each listing every asset), assets of the given classes, all at `price`.
    init(_ profiles: [VenueProfileKind], assets classes: [AssetClass] = [.btc], design: ClearingDesign = .siloedFund,
         price: Price = px("100"), depthPerBasisPoint: Amount = usd("10000")) {
        assets = classes.enumerated().map { index, assetClass in
            AssetConfig(symbol: "\(assetClass.rawValue.uppercased())\(index)", assetClass: assetClass, depthPerBasisPoint: depthPerBasisPoint)
        }
        venues = profiles.enumerated().map { index, profile in
            WorldBuilder.venue(profile, name: "\(profile.rawValue)-\(index)", assets: Array(classes.indices))
        }
        self.design = design
        startPrices = Array(repeating: price, count: classes.count)
    }

    /// A venue with no own buffer, no assessment capacity, calm depth and $10M of book capital.
    static func venue(_ profile: VenueProfileKind, name: String, assets: [Int], buffer: Amount = .zero,
                      assessmentCapacity: Amount = .zero) -> VenueConfig {
        VenueConfig(name: name, profile: profile, assets: assets, buffer: buffer, assessmentCapacity: assessmentCapacity,
                    depthScale: .one, bookCapital: usd("10000000"))
    }

    /// A copy changed by `change`.
    func with(_ change: (inout WorldBuilder) -> Void) -> WorldBuilder {
        var copy = self
        change(&copy)
        return copy
    }

    var config: EngineConfig {
        EngineConfig(assets: assets, venues: venues, liquidity: liquidity, oracle: oracle, clearing: clearing,
                     design: design, seed: seed)
    }

    /// A world that has applied `.open` at the start prices (own layers, treasuries and books funded).
    func open() -> World {
        var world = World(config: config)
        world.apply(.open(referencePrices: startPrices))
        return world
    }
}

/// One leg of a new trader.
func leg(venue: Int = 0, asset: Int = 0, collateral: String, size: String) -> LegSetup {
    LegSetup(venue: venue, asset: asset, collateral: usd(collateral), quantity: qty(size))
}

// MARK: - Driving and inspecting a world

extension World {
    /// Adds a trader through the public event and returns its index.
    @discardableResult
    mutating func add(_ kind: TraderKind, _ legs: LegSetup...) -> Int {
        apply(.addTrader(TraderSetup(kind: kind, legs: legs)))
        return traderCount - 1
    }

    /// Adds a directional trader and returns its index.
    @discardableResult
    mutating func add(_ legs: LegSetup...) -> Int {
        apply(.addTrader(TraderSetup(kind: .directional, legs: legs)))
        return traderCount - 1
    }

    /// Adds a one-leg directional trader and returns the (venue, account) of its leg. (Not
    /// `world.account(of: world.add(...))`: Swift reads `world` for the outer call first.)
    mutating func addAccount(_ leg: LegSetup) -> (venue: Int, account: Int) {
        let trader = add(leg)
        return account(of: trader)
    }

    /// The (venue, account) of one leg of a trader.
    func account(of trader: Int, leg: Int = 0) -> (venue: Int, account: Int) {
        legs(of: trader)[leg]
    }

    /// Signed size of a trader's leg in an asset.
    func size(of trader: Int, leg: Int = 0, asset: Int = 0) -> Quantity {
        let (venue, account) = self.account(of: trader, leg: leg)
        return position(venue: venue, account: account, asset: asset)
    }

    /// Cash collateral of a trader's leg.
    func cash(of trader: Int, leg: Int = 0) -> Amount {
        let (venue, account) = self.account(of: trader, leg: leg)
        return Amount(raw: venues[venue].collateral[account])
    }

    /// Equity at mark of a trader's leg.
    func equity(of trader: Int, leg: Int = 0) -> Amount {
        let (venue, account) = self.account(of: trader, leg: leg)
        return venues[venue].equityNow(account)
    }

    /// Signed size of any account in an asset (zero when the venue does not list it).
    func position(venue: Int, account: Int, asset: Int = 0) -> Quantity {
        let slot = venues[venue].slotOfAsset[asset]
        return slot < 0 ? .zero : Quantity(raw: venues[venue].quantity[slot][account])
    }

    /// Steps one second (or to `time`) with every asset at `prices`.
    mutating func step(_ prices: Price..., at time: Int64? = nil) {
        apply(.step(timeSeconds: time ?? timeSeconds + 1, referencePrices: prices))
    }

    /// Puts money into the mutual pool from outside (tests that need a pool of an exact size).
    mutating func fundPool(_ amount: Amount) {
        transfer(amount, from: .external, to: .pool)
    }

    /// Sum of the venues' treasuries.
    var treasuryTotal: Amount { Amount(raw: treasury.reduce(0, +)) }
}

// MARK: - Shared expectations

/// Every market balances (long = short, settlement = -sum(basis)) and the whole ledger is conserved.
func expectBalanced(_ world: World, _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    for venue in world.venues {
        for slot in venue.markets.indices {
            #expect(venue.quantity[slot].reduce(0, +) == 0, "\(venue.config.name) slot \(slot): sizes must sum to zero. \(comment?.rawValue ?? "")",
                    sourceLocation: sourceLocation)
            #expect(venue.settlement[slot] == -venue.basis[slot].reduce(0, +),
                    "\(venue.config.name) slot \(slot): settlement must equal -sum(basis). \(comment?.rawValue ?? "")",
                    sourceLocation: sourceLocation)
        }
    }
    let report = world.conservation()
    #expect(report.holds, "conservation: \(report) \(comment?.rawValue ?? "")", sourceLocation: sourceLocation)
}
