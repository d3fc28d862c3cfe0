// The charts of a simulation report: what each plots and the file it is written to.

import CrossclearEngine

/// One chart of a report and the name of the file it is written to.
struct ReportChart: Sendable {
    var fileName: String
    var chart: LineChart
}

/// Builds the report's charts from the designs' time series.
///
/// The notional and bad-debt fields of `StepSample` are cumulative totals to date (the state of the
/// world after a step), so they are plotted as they are.
enum Charts {
    /// Every chart of the report, in the order the HTML report shows them.
    static func all(_ report: SimulationReport) -> [ReportChart] {
        [
            ReportChart(fileName: "chart-pool.svg", chart: LineChart(
                title: "Mutual pool equity", xLabel: "time (s)", yLabel: "USD",
                series: perDesign(report) { $0.poolEquity.displayValue }, yIncludesZero: true)),
            ReportChart(fileName: "chart-adl.svg", chart: LineChart(
                title: "Cumulative ADL notional", xLabel: "time (s)", yLabel: "USD",
                series: perDesign(report) { $0.adlNotional.displayValue }, yIncludesZero: true)),
            ReportChart(fileName: "chart-liquidations.svg", chart: LineChart(
                title: "Cumulative liquidation + takeover notional", xLabel: "time (s)", yLabel: "USD",
                series: perDesign(report) { ($0.liquidationNotional + $0.takeoverNotional).displayValue }, yIncludesZero: true)),
            ReportChart(fileName: "chart-price.svg", chart: LineChart(
                title: "\(report.referenceAsset) reference price", xLabel: "time (s)", yLabel: "USD",
                series: perDesign(report) { $0.referencePrice.displayValue })),
            ReportChart(fileName: "chart-depth.svg", chart: LineChart(
                title: "Minimum book depth (1 = calm)", xLabel: "time (s)", yLabel: "depth factor",
                series: perDesign(report) { $0.minimumDepth.displayValue }, yIncludesZero: true)),
        ]
    }

    /// One series per design in report order; when every design's series is the same (the scenario's
    /// price path, say), a single series named "all designs", so no line hides another unseen.
    private static func perDesign(_ report: SimulationReport, _ value: (StepSample) -> Double) -> [LineChart.Series] {
        let series = report.outcomes.map { outcome in
            LineChart.Series(name: outcome.design.rawValue, color: outcome.design.chartColor,
                             points: outcome.samples.map { (x: Double($0.timeSeconds), y: value($0)) })
        }
        guard series.count > 1, let first = series.first,
              series.allSatisfy({ $0.points.elementsEqual(first.points) { $0.x == $1.x && $0.y == $1.y } })
        else { return series }
        return [LineChart.Series(name: "all designs", color: "#333333", points: first.points)]
    }
}

extension ClearingDesign {
    /// The design's fixed colour in every chart and table.
    var chartColor: String {
        switch self {
        case .siloedBackstop: "#d62728"
        case .siloedFund: "#ff7f0e"
        case .sharedPool: "#1f77b4"
        case .sharedNetting: "#9467bd"
        case .sharedFull: "#2ca02c"
        }
    }
}
