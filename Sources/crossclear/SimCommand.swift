import ArgumentParser
import CrossclearEngine
import CrossclearSimulation
import Foundation

/// `crossclear sim`: run a scenario under one or more clearing designs and write the report.
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run a crash scenario under clearing designs and compare them.",
        discussion: """
            SCENARIO is a scenario file (TOML, see Docs/scenarios.md) or the name of a shipped one in \
            cluster/scenarios (oct10, thin-book, calm). Every design runs the same population and price \
            path from the same seed, on all cores; the same inputs give byte-identical outputs.

            Designs: siloed-backstop, siloed-fund, shared-pool, shared-netting, shared-full (or "all").

            Writes to --out: summary.json, timeseries.csv, chart-*.svg and report.html (open it in a \
            browser); with --sweep, one tidy sweep.csv with a row per (parameter combination, design).

            Examples:
              crossclear sim oct10
              crossclear sim oct10 --design shared-full --design siloed-backstop --seed 7
              crossclear sim oct10 --set population.traders=100000 --out /tmp/oct10-100k
              crossclear sim oct10 --sweep clearing.netting_credit_cap=0,0.4,0.8 --sweep seed=1,2,3
            """)

    @Argument(help: "A scenario file, or the name of a shipped scenario (oct10, thin-book, calm).")
    var scenario: String

    @Option(name: .long, help: "A design to run (repeat for several), or \"all\".")
    var design: [String] = ["all"]

    @Option(name: .long, help: "Seed of every random choice (overrides the scenario's).")
    var seed: UInt64?

    @Option(name: .long, help: "ADL policy for the shared designs (overrides the scenario's): \(ADLPolicy.allCases.map(\.rawValue).joined(separator: ", ")).")
    var adlPolicy: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override one scenario field, e.g. population.traders=100000 (repeatable).", valueName: "key=value"))
    var settings: [String] = []

    @Option(name: .long, help: ArgumentHelp("Sweep a field over values, e.g. clearing.pool_multiplier=0.5,1,2 (repeatable; the grid is every combination).", valueName: "key=v1,v2,..."))
    var sweep: [String] = []

    @Option(name: .long, help: "Output directory (default: sim-out/<scenario>).")
    var out: String?

    @Flag(name: .long, help: "No progress bar.")
    var quiet = false

    func run() throws {
        let path = try resolveScenarioPath(scenario)
        let designs = try parseDesigns(design)
        var overrides = try settings.map { try ScenarioOverride(parsing: $0) }
        if let seed { overrides.append(ScenarioOverride(key: "seed", value: String(seed))) }
        if let adlPolicy {
            guard ADLPolicy(rawValue: adlPolicy) != nil else {
                throw RuntimeError("unknown ADL policy \"\(adlPolicy)\"; expected one of: \(ADLPolicy.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            overrides.append(ScenarioOverride(key: "clearing.adl_policy", value: "\"\(adlPolicy)\""))
        }
        let loaded = try Scenario.load(path: path, overrides: overrides)
        let directory = out ?? "sim-out/\(loaded.name)"
        let started = ContinuousClock.now

        if !sweep.isEmpty {
            let axes = try sweep.map { try SweepAxis(parsing: $0) }
            let runs = Sweep.combinations(axes).count * designs.count
            let bar = quiet ? nil : ProgressBar(total: runs, label: "sweep")
            let rows = try Sweep.run(scenarioPath: path, overrides: overrides, axes: axes, designs: designs, progress: bar)
            bar?.finish()
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let file = directory + "/sweep.csv"
            try SweepTable.csv(rows).write(toFile: file, atomically: true, encoding: .utf8)
            let failed = rows.filter { !$0.outcome.conservation.holds }.count
            print("\(rows.count) runs (\(runs / designs.count) combinations x \(designs.count) designs) in \(elapsed(since: started)); wrote \(file)")
            if failed > 0 { throw RuntimeError("conservation FAILED in \(failed) runs: see the conservation_holds column") }
            return
        }

        let bar = quiet ? nil : ProgressBar(total: designs.count * loaded.stepCount, label: loaded.name)
        let report = Simulator.run(loaded, designs: designs, progress: bar)
        bar?.finish()
        let written = try ReportWriter.write(report, to: directory)
        print(ConsoleTable.render(report))
        print("\(loaded.population.traders) traders, \(loaded.stepCount) steps x \(designs.count) designs in \(elapsed(since: started)); wrote \(written.count) files to \(directory)/ (open report.html)")
        let failed = report.outcomes.filter { !$0.conservation.holds }
        if !failed.isEmpty {
            throw RuntimeError("conservation FAILED for \(failed.map(\.design.rawValue).joined(separator: ", ")); see summary.json")
        }
    }
}

/// A scenario argument is a file, or the name of a shipped scenario under cluster/scenarios.
func resolveScenarioPath(_ argument: String) throws -> String {
    if FileManager.default.fileExists(atPath: argument) { return argument }
    let shipped = "cluster/scenarios/\(argument).toml"
    if FileManager.default.fileExists(atPath: shipped) { return shipped }
    let available = (try? FileManager.default.contentsOfDirectory(atPath: "cluster/scenarios"))?
        .filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }.sorted() ?? []
    throw RuntimeError("no scenario file \"\(argument)\" and no shipped scenario of that name"
        + (available.isEmpty ? " (run from the repository root to use shipped names)" : "; shipped: \(available.joined(separator: ", "))"))
}

func parseDesigns(_ names: [String]) throws -> [ClearingDesign] {
    if names.contains("all") { return ClearingDesign.allCases }
    var designs: [ClearingDesign] = []
    for name in names.flatMap({ $0.split(separator: ",").map(String.init) }) {
        guard let design = ClearingDesign(rawValue: name) else {
            throw RuntimeError("unknown design \"\(name)\"; expected all or one of: \(ClearingDesign.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if !designs.contains(design) { designs.append(design) }
    }
    return designs
}

func elapsed(since start: ContinuousClock.Instant) -> String {
    let duration = ContinuousClock.now - start
    let milliseconds = duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
    return "\(milliseconds / 1_000).\(String(format: "%02d", (milliseconds % 1_000) / 10)) s"
}

/// An operating error that ends the command with a message and a non-zero status.
struct RuntimeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
