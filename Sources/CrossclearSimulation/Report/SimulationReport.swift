import CrossclearEngine

/// Everything one `crossclear sim` run produced: the scenario it ran and one outcome per design,
/// in the order the designs were asked for.
public struct SimulationReport: Sendable, Hashable {
    /// Scenario name, e.g. "oct10".
    public var scenario: String
    /// The scenario's one-line description.
    public var summary: String
    public var seed: UInt64
    /// Traders in the population (market makers not included).
    public var traders: Int
    public var timeStepSeconds: Int64
    public var steps: Int
    /// Symbol of the asset whose price the time series records.
    public var referenceAsset: String
    public var outcomes: [DesignOutcome]

    public init(scenario: String, summary: String, seed: UInt64, traders: Int, timeStepSeconds: Int64, steps: Int,
                referenceAsset: String, outcomes: [DesignOutcome]) {
        self.scenario = scenario
        self.summary = summary
        self.seed = seed
        self.traders = traders
        self.timeStepSeconds = timeStepSeconds
        self.steps = steps
        self.referenceAsset = referenceAsset
        self.outcomes = outcomes
    }
}
