// `timeseries.csv`: one row per step and design, exact decimals, ready for pandas.

import CrossclearEngine

/// Builds the `timeseries.csv` file of a simulation report.
enum TimeseriesCSV {
    /// The column names, in order.
    static let header = [
        "design", "time_s", "reference_price", "min_depth", "pool_equity", "own_layers_equity",
        "liquidation_notional", "takeover_notional", "adl_notional", "bad_debt", "open_interest",
    ]

    /// The header and one row per sample, grouped by design in report order, then in the recorded
    /// (time) order of the samples.
    static func render(_ report: SimulationReport) -> String {
        var output = CSV.line(header)
        for outcome in report.outcomes {
            for sample in outcome.samples {
                output += CSV.line(row(outcome.design, sample))
            }
        }
        return output
    }

    private static func row(_ design: ClearingDesign, _ sample: StepSample) -> [String] {
        [
            design.rawValue, String(sample.timeSeconds), sample.referencePrice.description, sample.minimumDepth.description,
            sample.poolEquity.description, sample.ownLayersEquity.description, sample.liquidationNotional.description,
            sample.takeoverNotional.description, sample.adlNotional.description, sample.badDebt.description,
            sample.openInterest.description,
        ]
    }
}

/// Comma-separated values as RFC 4180 writes them, with `\n` line ends.
enum CSV {
    /// One line: fields joined by commas, each quoted only when it holds a comma, quote or line break.
    static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\n"
    }

    private static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.map { $0 == "\"" ? "\"\"" : String($0) }.joined() + "\""
    }
}
