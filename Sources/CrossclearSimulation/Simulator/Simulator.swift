import CrossclearEngine
import Dispatch
import Synchronization

/// Runs the engine over a scenario: one world per clearing design, fed the same events.
public enum Simulator {
    /// Runs one design and returns its outcome. `onStep` is called after every step (for progress).
    public static func run(_ scenario: Scenario, design: ClearingDesign, onStep: (@Sendable () -> Void)? = nil) -> DesignOutcome {
        run(scenario, design: design, traders: population(scenario), onStep: onStep)
    }

    /// Runs one design on an already drawn population (see `population(_:)`).
    static func run(_ scenario: Scenario, design: ClearingDesign, traders: [TraderSetup],
                    onStep: (@Sendable () -> Void)?) -> DesignOutcome {
        var world = World(config: scenario.engineConfig(design: design))
        setUp(&world, scenario: scenario, traders: traders)
        let prices = PriceModel(scenario: scenario)
        for step in 1...max(1, scenario.stepCount) {
            let time = Int64(step) * scenario.timeStepSeconds
            world.apply(.step(timeSeconds: time, referencePrices: prices.prices(at: time)))
            onStep?()
        }
        return world.outcome()
    }

    /// The scenario's traders, grouped by asset (in drawing order within an asset), so that each
    /// market's positions sit together in every venue's account arrays: margining then streams memory.
    public static func population(_ scenario: Scenario) -> [TraderSetup] {
        var byAsset = Array(repeating: [TraderSetup](), count: scenario.assets.count)
        for trader in PopulationGenerator(scenario: scenario) { byAsset[trader.legs[0].asset].append(trader) }
        return byAsset.flatMap { $0 }
    }

    /// Builds a scenario's world before the clock starts: open the venues, add the traders, hand the
    /// books' inventory to market makers, start clearing.
    public static func setUp(_ world: inout World, scenario: Scenario, traders: [TraderSetup]) {
        world.apply(.open(referencePrices: PriceModel(scenario: scenario).prices(at: 0)))
        for trader in traders { world.apply(.addTrader(trader)) }
        world.apply(.seedMakers(perVenue: scenario.population.marketMakersPerVenue, leverage: scenario.population.makerLeverage))
        world.apply(.startClearing)
    }

    /// How each venue funds the mutual pool of a shared design when clearing starts: its own layer's
    /// Cover-N contribution and its assessment treasury, as in the simulator's world (what a cluster's
    /// venue nodes pay to, and its clearing node holds for, the pool).
    public static func poolFunding(_ scenario: Scenario, design: ClearingDesign, traders: [TraderSetup]) -> [PoolFunding] {
        var world = World(config: scenario.engineConfig(design: design))
        setUp(&world, scenario: scenario, traders: traders)
        return zip(world.poolContributions, world.treasury).map { PoolFunding(contribution: $0, treasury: Amount(raw: $1)) }
    }

    /// Runs several designs on all cores and collects a report, outcomes in the order asked.
    public static func run(_ scenario: Scenario, designs: [ClearingDesign], progress: ProgressBar? = nil) -> SimulationReport {
        let onStep: (@Sendable () -> Void)?
        if let progress { onStep = { progress.advance() } } else { onStep = nil }
        let traders = population(scenario)
        let outcomes = parallelMap(designs, costliestFirst: { $0.nets }) { design in
            run(scenario, design: design, traders: traders, onStep: onStep)
        }
        return SimulationReport(
            scenario: scenario.name, summary: scenario.summary, seed: scenario.seed, traders: scenario.population.traders,
            timeStepSeconds: scenario.timeStepSeconds, steps: scenario.stepCount,
            referenceAsset: scenario.assets.first?.config.symbol ?? "", outcomes: outcomes)
    }
}

/// Maps `items` on all cores; results keep the input order. Items for which `costliestFirst` is
/// true start first, so long runs do not end up queued behind short ones.
func parallelMap<Item: Sendable, Result: Sendable>(_ items: [Item], costliestFirst: (Item) -> Bool = { _ in false },
                                                  _ transform: @Sendable (Item) -> Result) -> [Result] {
    let order = items.indices.filter { costliestFirst(items[$0]) } + items.indices.filter { !costliestFirst(items[$0]) }
    let results = Mutex<[Result?]>(Array(repeating: nil, count: items.count))
    DispatchQueue.concurrentPerform(iterations: items.count) { position in
        let index = order[position]
        let result = transform(items[index])
        results.withLock { $0[index] = result }
    }
    return results.withLock { $0.compactMap { $0 } }
}

/// What one venue puts up for the mutual pool when clearing starts (Amount).
public struct PoolFunding: Sendable, Hashable {
    /// Paid into the pool from the venue's own layer.
    public var contribution: Amount
    /// Committed for assessments the pool may call.
    public var treasury: Amount

    public init(contribution: Amount, treasury: Amount) {
        self.contribution = contribution
        self.treasury = treasury
    }
}
