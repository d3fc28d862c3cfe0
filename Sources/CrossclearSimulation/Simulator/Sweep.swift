import CrossclearEngine

/// One axis of a parameter sweep: a scenario key and the values it takes.
public struct SweepAxis: Sendable, Hashable {
    public var key: String
    public var values: [String]

    /// Parses `KEY=V1,V2,...`.
    public init(parsing text: String) throws(ScenarioError) {
        let override = try ScenarioOverride(parsing: text)
        let values = override.value.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmed }
        guard !values.isEmpty, !values.contains(where: \.isEmpty) else {
            throw ScenarioError(file: "--sweep", line: nil, field: override.key,
                                message: "expected KEY=V1,V2,... with no empty value, got \"\(text)\"")
        }
        key = override.key
        self.values = values
    }
}

/// A grid of scenario variants, each run under several designs.
public enum Sweep {
    /// Every combination of the axes' values, in order (the first axis varies slowest).
    public static func combinations(_ axes: [SweepAxis]) -> [[ScenarioOverride]] {
        axes.reduce([[]]) { partial, axis in
            partial.flatMap { prefix in axis.values.map { prefix + [ScenarioOverride(key: axis.key, value: $0)] } }
        }
    }

    /// Loads every variant first (so a bad value fails before anything runs), then runs each
    /// (variant, design) pair on all cores. Rows come back in grid order, designs in the order asked.
    public static func run(scenarioPath: String, overrides: [ScenarioOverride], axes: [SweepAxis], designs: [ClearingDesign],
                           progress: ProgressBar? = nil) throws(ScenarioError) -> [SweepRow] {
        var variants: [(parameters: [ScenarioOverride], scenario: Scenario)] = []
        for combination in combinations(axes) {
            variants.append((combination, try Scenario.load(path: scenarioPath, overrides: overrides + combination)))
        }
        let runs = variants.flatMap { variant in designs.map { (variant.parameters, variant.scenario, $0) } }
        return parallelMap(runs) { parameters, scenario, design in
            let outcome = Simulator.run(scenario, design: design)
            progress?.advance()
            return SweepRow(parameters: parameters.map { ($0.key, $0.value) }, outcome: outcome, seed: scenario.seed)
        }
    }
}

extension String {
    var trimmed: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
