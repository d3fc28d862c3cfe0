// The tidy CSV of a parameter sweep: one row per run (one parameter combination under one design).

import CrossclearEngine

/// One run of a sweep: the parameter values it used, the design's outcome and the seed.
public struct SweepRow: Sendable {
    /// Parameter names and values, in the order their columns should appear.
    public var parameters: [(key: String, value: String)]
    public var outcome: DesignOutcome
    public var seed: UInt64

    public init(parameters: [(key: String, value: String)], outcome: DesignOutcome, seed: UInt64) {
        self.parameters = parameters
        self.outcome = outcome
        self.seed = seed
    }
}

/// Writes sweep results as one tidy CSV.
public enum SweepTable {
    /// The CSV text: the parameter columns (every key in the order first seen), then `design`,
    /// `adl_policy`, `seed` (unless `seed` is itself a swept parameter), the headline metrics of `summary.json` flattened to snake_case
    /// (`liquidations_count`, `pool_minimum`, `adl_max_haircut_pct`, ...) and `conservation_holds`.
    /// Values are exact decimals; a parameter a row does not set is left empty.
    public static func csv(_ rows: [SweepRow]) -> String {
        var parameterKeys: [String] = []
        for key in rows.flatMap({ $0.parameters.map(\.key) }) where !parameterKeys.contains(key) {
            parameterKeys.append(key)
        }
        let metricKeys = flattened(SummaryJSON.headlineMetrics(OutcomeMetrics())).map(\.key)
        let seedColumn = parameterKeys.contains("seed") ? [String]() : ["seed"]
        var output = CSV.line(parameterKeys + ["design", "adl_policy"] + seedColumn + metricKeys + ["conservation_holds"])
        for row in rows {
            let parameters = parameterKeys.map { key in row.parameters.first { $0.key == key }?.value ?? "" }
            let metrics = flattened(SummaryJSON.headlineMetrics(row.outcome.metrics)).map(\.value)
            let seed = seedColumn.isEmpty ? [String]() : [String(row.seed)]
            output += CSV.line(parameters + [row.outcome.design.rawValue, row.outcome.adlPolicy.rawValue] + seed
                + metrics + [row.outcome.conservation.holds ? "true" : "false"])
        }
        return output
    }

    /// Nested members as `group_key` columns, each value as its exact text (strings unquoted).
    private static func flattened(_ members: [(key: String, value: JSONValue)], prefix: String = "") -> [(key: String, value: String)] {
        members.flatMap { member -> [(key: String, value: String)] in
            let key = prefix + member.key
            switch member.value {
            case .object(let inner): return flattened(inner, prefix: key + "_")
            case .string(let text): return [(key, text)]
            default: return [(key, JSONWriter.compact(member.value))]
            }
        }
    }
}
