import CrossclearEngine
import Testing

@testable import CrossclearSimulation

private func usd(_ text: String) -> Amount { Amount(parsing: text) ?? .zero }
private func px(_ text: String) -> Price { Price(parsing: text) ?? .zero }
private func ratio(_ text: String) -> Ratio { Ratio(parsing: text) ?? .zero }

/// The simulator is deterministic: same scenario and seed, same outcomes, in parallel or not.
@Suite("Simulator determinism")
struct SimulatorDeterminismTests {
    static let scenario = Scenario(
        name: "determinism", summary: "A small crash built in code.", seed: 2025, timeStepSeconds: 10, durationSeconds: 300,
        assets: [
            AssetScenario(config: AssetConfig(symbol: "BTC", assetClass: .btc, depthPerBasisPoint: usd("20000")),
                          startPrice: px("100000"), beta: .one, wick: .zero, traderWeight: 3),
            AssetScenario(config: AssetConfig(symbol: "ALT", assetClass: .alt, depthPerBasisPoint: usd("500")),
                          startPrice: px("2"), beta: ratio("2"), wick: ratio("0.6"), traderWeight: 1),
        ],
        venues: [
            VenueScenario(name: "hl", profile: .hyperliquid, markets: ["BTC", "ALT"], buffer: usd("500000"),
                          assessmentCapacity: .zero, depthScale: .one, traderWeight: 2, makerCapital: usd("5000000")),
            VenueScenario(name: "cex", profile: .cex, markets: ["BTC", "ALT"], buffer: usd("1000000"),
                          assessmentCapacity: usd("1000000"), depthScale: ratio("2"), traderWeight: 3, makerCapital: usd("10000000")),
            VenueScenario(name: "dydx", profile: .dydx, markets: ["BTC"], buffer: usd("200000"),
                          assessmentCapacity: usd("200000"), depthScale: ratio("0.5"), traderWeight: 1, makerCapital: usd("2000000")),
        ],
        pricePath: .crash(CrashPath(startSeconds: 30, fallSeconds: 120, depth: ratio("0.2"), wickSeconds: 40,
                                    recovery: ratio("0.5"), recoverySeconds: 100)),
        liquidity: LiquidityConfig(volatilitySensitivity: ratio("10"), minimumDepth: ratio("0.05"), resiliencePerSecond: ratio("0.1"),
                                   maxWalkBasisPoints: 1_000),
        oracle: OracleConfig(sources: 3, sourceNoiseBasisPoints: 10, markBandBasisPoints: 100),
        clearing: ClearingConfig(nettingCreditCap: ratio("0.8"), poolCover: 2, stressMove: ratio("0.2"), poolMultiplier: .one,
                                 takeoverDiscount: ratio("0.01"), feeShareToPool: ratio("0.5"), unwindPerSecond: ratio("0.05"),
                                 unwindMaxSlippageBasisPoints: 200, adlPolicy: nil),
        population: Population(
            traders: 400, hedgerShare: ratio("0.3"), longShare: ratio("0.8"),
            leverage: WeightedChoice(values: [3, 10, 25, 50], weights: [3, 4, 2, 1]),
            hedgerLeverage: WeightedChoice(values: [2, 5, 10], weights: [1, 2, 1]),
            collateral: WeightedChoice(values: [usd("1000"), usd("20000"), usd("500000")], weights: [6, 3, 1]),
            marketMakersPerVenue: 3, makerLeverage: 5))

    @Test("the simulator run twice gives identical outcomes", arguments: ClearingDesign.allCases)
    func simulatorRepeats(_ design: ClearingDesign) {
        let first = Simulator.run(Self.scenario, design: design)
        let second = Simulator.run(Self.scenario, design: design)
        #expect(first == second)
        #expect(first.stateDigest == second.stateDigest)
        #expect(first.samples.count == Self.scenario.stepCount)
        #expect(first.conservation.holds, "\(first.conservation)")
    }

    @Test("running all designs in parallel gives the same outcomes as running each alone")
    func parallelMatchesSequential() {
        let report = Simulator.run(Self.scenario, designs: ClearingDesign.allCases)
        #expect(report.outcomes.map(\.design) == ClearingDesign.allCases)
        for outcome in report.outcomes {
            #expect(outcome == Simulator.run(Self.scenario, design: outcome.design))
        }
        // The crash actually stressed the designs.
        #expect(report.outcomes.contains { $0.metrics.liquidationCount > 0 })
    }

    @Test("the population is the same for every design and every run")
    func populationRepeats() {
        #expect(Array(PopulationGenerator(scenario: Self.scenario)) == Array(PopulationGenerator(scenario: Self.scenario)))
        #expect(Array(PopulationGenerator(scenario: Self.scenario)).count == 400)
    }
}
