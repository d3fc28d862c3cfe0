import CrossclearEngine

/// The scenario's traders, drawn from its seed: the same scenario always yields the same traders,
/// in the same order, so every design faces the same population.
public struct PopulationGenerator: Sequence, IteratorProtocol {
    private let scenario: Scenario
    private let startPrices: [Price]
    /// For each asset, the venues listing it.
    private let venuesOfAsset: [[Int]]
    /// Assets listed on at least two venues (hedgers need two).
    private let hedgeableAssets: [Int]
    private var random: SeededRandom
    private var produced = 0

    public init(scenario: Scenario) {
        self.scenario = scenario
        startPrices = PriceModel(scenario: scenario).prices(at: 0)
        let venuesOfAsset = scenario.assets.map { asset in
            scenario.venues.indices.filter { scenario.venues[$0].markets.contains(asset.config.symbol) }
        }
        self.venuesOfAsset = venuesOfAsset
        hedgeableAssets = venuesOfAsset.indices.filter { venuesOfAsset[$0].count >= 2 }
        // A stream of its own, so the population does not depend on how the engine uses its seed.
        random = SeededRandom(seed: scenario.seed ^ 0x504F_5055_4C41_5445)
    }

    public mutating func next() -> TraderSetup? {
        guard produced < scenario.population.traders else { return nil }
        produced += 1
        let population = scenario.population
        let isHedger = !hedgeableAssets.isEmpty && random.chance(population.hedgerShare)
        let asset = pickAsset(from: isHedger ? hedgeableAssets : Array(scenario.assets.indices))
        let collateral = drawCollateral()
        if isHedger {
            let leverage = draw(population.hedgerLeverage)
            var venues = venuesOfAsset[asset]
            let first = venues.remove(at: pickVenue(venues))
            let second = venues[pickVenue(venues)]
            let perLeg = collateral.scaled(1, over: 2, rounding: .down)
            let size = Quantity.worth(perLeg.scaled(leverage, over: 1, rounding: .down), at: startPrices[asset], rounding: .down)
            let longFirst = random.chance(Ratio(raw: Ratio.unit / 2))
            return TraderSetup(kind: .hedger, legs: [
                LegSetup(venue: first, asset: asset, collateral: perLeg, quantity: longFirst ? size : -size),
                LegSetup(venue: second, asset: asset, collateral: perLeg, quantity: longFirst ? -size : size),
            ])
        }
        let leverage = draw(population.leverage)
        let venue = venuesOfAsset[asset][pickVenue(venuesOfAsset[asset])]
        let size = Quantity.worth(collateral.scaled(leverage, over: 1, rounding: .down), at: startPrices[asset], rounding: .down)
        let long = random.chance(population.longShare)
        return TraderSetup(kind: .directional, legs: [LegSetup(venue: venue, asset: asset, collateral: collateral, quantity: long ? size : -size)])
    }

    private mutating func pickAsset(from candidates: [Int]) -> Int {
        let weights = candidates.map { scenario.assets[$0].traderWeight }
        return candidates[weights.contains { $0 > 0 } ? random.pick(weights: weights) : Int(random.below(UInt64(candidates.count)))]
    }

    private mutating func pickVenue(_ candidates: [Int]) -> Int {
        let weights = candidates.map { scenario.venues[$0].traderWeight }
        return weights.contains { $0 > 0 } ? random.pick(weights: weights) : Int(random.below(UInt64(candidates.count)))
    }

    private mutating func draw<Value>(_ choice: WeightedChoice<Value>) -> Value {
        choice.values[random.pick(weights: choice.weights)]
    }

    /// A collateral tier, jittered uniformly within plus or minus half.
    private mutating func drawCollateral() -> Amount {
        draw(scenario.population.collateral).scaled(random.int(in: 500...1_500), over: 1_000, rounding: .down)
    }
}
