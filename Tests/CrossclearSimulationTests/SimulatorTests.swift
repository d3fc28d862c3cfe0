import CrossclearEngine
import Foundation
import Testing

@testable import CrossclearSimulation

/// End-to-end runs of the shipped scenarios (kept small so a debug build runs them in seconds).
@Suite("Simulator")
struct SimulatorTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func shipped(_ name: String, traders: Int) throws -> Scenario {
        try Scenario.load(path: packageRoot.appendingPathComponent("cluster/scenarios/\(name).toml").path,
                          overrides: [ScenarioOverride(key: "population.traders", value: String(traders))])
    }

    @Test("same scenario, design and seed give byte-identical output files")
    func determinism() throws {
        let scenario = try Self.shipped("oct10", traders: 600)
        let directories = (0..<2).map { _ in FileManager.default.temporaryDirectory.appendingPathComponent("crossclear-\(UUID())").path }
        defer { for directory in directories { try? FileManager.default.removeItem(atPath: directory) } }
        var written: [[String]] = []
        for directory in directories {
            let report = Simulator.run(scenario, designs: [.siloedBackstop, .sharedFull])
            written.append(try ReportWriter.write(report, to: directory))
        }
        #expect(written[0].count == written[1].count)
        for (first, second) in zip(written[0], written[1]) {
            let a = try #require(FileManager.default.contents(atPath: first))
            let b = try #require(FileManager.default.contents(atPath: second))
            #expect(a == b, "\(URL(fileURLWithPath: first).lastPathComponent) differs between two runs")
        }
    }

    @Test("shared-full on oct10 ADLs fewer traders and leaves fewer hedgers one-legged than siloed-backstop")
    func sharedClearingProtectsHedgers() throws {
        let scenario = try Self.shipped("oct10", traders: 1_000)
        let report = Simulator.run(scenario, designs: [.siloedBackstop, .sharedFull])
        let siloed = report.outcomes[0].metrics
        let shared = report.outcomes[1].metrics
        print("oct10 (1000 traders) ADL traders: siloed-backstop \(siloed.adlTraders), shared-full \(shared.adlTraders); "
              + "one-legged hedgers: \(siloed.hedgersOneLegged) vs \(shared.hedgersOneLegged) of \(siloed.hedgers)")
        #expect(siloed.adlTraders > 0, "the crash must be severe enough to reach ADL when venues clear alone")
        #expect(shared.adlTraders < siloed.adlTraders)
        #expect(shared.hedgersOneLegged < siloed.hedgersOneLegged)
        for outcome in report.outcomes {
            #expect(outcome.conservation.holds, "\(outcome.design.rawValue): \(outcome.conservation)")
        }
    }

    @Test("every shipped scenario conserves money under every design", arguments: ["oct10", "thin-book", "calm"])
    func shippedScenariosConserve(name: String) throws {
        let scenario = try Self.shipped(name, traders: 300)
        let report = Simulator.run(scenario, designs: ClearingDesign.allCases)
        #expect(report.outcomes.map(\.design) == ClearingDesign.allCases)
        for outcome in report.outcomes {
            #expect(outcome.conservation.holds, "\(name)/\(outcome.design.rawValue): \(outcome.conservation)")
            #expect(outcome.samples.count == scenario.stepCount)
        }
    }

    @Test("a sweep runs every combination under every design, in grid order")
    func sweepGrid() throws {
        let path = Self.packageRoot.appendingPathComponent("cluster/scenarios/calm.toml").path
        let axes = [try SweepAxis(parsing: "seed=1,2"), try SweepAxis(parsing: "clearing.netting_credit_cap=0,0.8")]
        let rows = try Sweep.run(scenarioPath: path, overrides: [ScenarioOverride(key: "population.traders", value: "100")],
                                 axes: axes, designs: [.siloedFund, .sharedFull])
        #expect(rows.count == 8)
        #expect(rows.map { $0.parameters.map(\.value) }.first == ["1", "0"])
        #expect(rows.map(\.outcome.design).prefix(2) == [.siloedFund, .sharedFull])
        let csv = SweepTable.csv(rows)
        let lines = csv.split(separator: "\n")
        #expect(lines.count == 9)
        #expect(lines[0].split(separator: ",").filter { $0 == "seed" }.count == 1, "a swept seed is not repeated as a column")
    }

    @Test("a sweep value that does not fit its field fails before anything runs")
    func sweepRejectsBadValue() throws {
        let path = Self.packageRoot.appendingPathComponent("cluster/scenarios/calm.toml").path
        #expect(throws: ScenarioError.self) {
            try Sweep.run(scenarioPath: path, overrides: [], axes: [try SweepAxis(parsing: "population.hedger_share=0.5,7")],
                          designs: [.sharedFull])
        }
    }

    @Test("the crash path falls linearly, wicks alts at the bottom and recovers")
    func crashPath() throws {
        let scenario = try Self.shipped("oct10", traders: 10)
        let prices = PriceModel(scenario: scenario)
        let btc = scenario.assets[0].startPrice
        #expect(prices.price(asset: 0, at: 0) == btc)
        #expect(prices.price(asset: 0, at: 600) == btc)
        // Half-way down the 12-minute fall: 8.5% below the start for beta 1.
        #expect(prices.price(asset: 0, at: 960) == btc.scaled(by: Ratio(raw: 915_000_000), rounding: .down))
        // At the bottom, ATOM (wick 0.9) touches 10% of its start price.
        let atom = scenario.assets[5]
        #expect(prices.price(asset: 5, at: 1_320) == atom.startPrice.scaled(by: Ratio(raw: 100_000_000), rounding: .down))
        // After the recovery, BTC holds 40% of its 17% fall.
        #expect(prices.price(asset: 0, at: 3_600) == btc.scaled(by: Ratio(raw: 932_000_000), rounding: .down))
    }
}
