// The summary table printed after a run, and the metric rows it shares with the HTML report.

import CrossclearEngine

/// The readable summary printed on stdout after `crossclear sim`: one column per design.
public enum ConsoleTable {
    /// The scenario line and the headline metrics, one column per design in report order, ending
    /// with a newline. Money is rounded for reading ($12.3M); the report files hold exact values.
    public static func render(_ report: SimulationReport) -> String {
        let rows = Comparison.rows(report).filter(\.isHeadline)
        let header = ["metric"] + report.outcomes.map(\.design.rawValue)
        let body = rows.map { [$0.label] + $0.cells.map(\.display) }
        let widths = header.indices.map { column in
            ([header] + body).map { $0[column].count }.max() ?? 0
        }
        func line(_ fields: [String]) -> String {
            fields.enumerated().map { column, text in
                let padding = String(repeating: " ", count: widths[column] - text.count)
                return column == 0 ? text + padding : padding + text
            }.joined(separator: "  ") + "\n"
        }
        var output = "crossclear sim: \(report.scenario) — \(report.summary)\n"
        output += "seed \(report.seed), \(report.traders) traders, \(report.steps) steps of \(report.timeStepSeconds) s, "
            + "reference \(report.referenceAsset)\n\n"
        output += line(header)
        output += line(widths.map { String(repeating: "-", count: $0) })
        for fields in body { output += line(fields) }
        return output
    }
}

// MARK: - Metric rows shared with the HTML report

/// One value of a comparison row.
struct ComparisonCell: Sendable {
    /// Text for reading, e.g. "$12.3M".
    var display: String
    /// The exact value(s) behind `display`.
    var exact: String
    /// The value compared to find the row's best cell; nil when the cell is not comparable.
    var rank: Int64?
    /// For pass/fail rows: whether the check passed.
    var passed: Bool?
}

/// One metric compared across designs, one cell per design in report order.
struct ComparisonRow: Sendable {
    /// Which direction is plainly better for a metric.
    enum Preference: Sendable {
        case lower, higher
    }

    var label: String
    var preference: Preference?
    /// Whether the console summary shows the row (the HTML report shows every row).
    var isHeadline: Bool
    var cells: [ComparisonCell]

    /// Positions of the cells holding the best value. Empty when no direction is obvious, a cell is not
    /// comparable, or every design has the same value.
    var bestColumns: [Int] {
        let ranks = cells.compactMap(\.rank)
        guard let preference, ranks.count == cells.count, let low = ranks.min(), let high = ranks.max(), low != high
        else { return [] }
        let best = preference == .lower ? low : high
        return ranks.indices.filter { ranks[$0] == best }
    }
}

/// The rows of the design comparison.
enum Comparison {
    /// Every metric row, in display order; open interest gets one row per venue.
    static func rows(_ report: SimulationReport) -> [ComparisonRow] {
        func row(_ label: String, _ preference: ComparisonRow.Preference?, headline: Bool,
                 _ cell: (DesignOutcome) -> ComparisonCell) -> ComparisonRow {
            ComparisonRow(label: label, preference: preference, isHeadline: headline, cells: report.outcomes.map(cell))
        }
        var venues: [String] = []
        for venue in report.outcomes.flatMap({ $0.metrics.openInterest.map(\.venue) }) where !venues.contains(venue) {
            venues.append(venue)
        }
        return [
            row("Liquidations", .lower, headline: true) { count($0.metrics.liquidationCount) },
            row("Liquidated notional", .lower, headline: true) { money($0.metrics.liquidationNotional) },
            row("Own-layer takeovers", nil, headline: true) { countAndMoney($0.metrics.ownLayerTakeovers, $0.metrics.ownLayerTakeoverNotional) },
            row("Pool takeovers", nil, headline: true) { countAndMoney($0.metrics.poolTakeovers, $0.metrics.poolTakeoverNotional) },
            row("Liquidation fees", nil, headline: false) { money($0.metrics.liquidationFees) },
            row("Pool start", nil, headline: true) { money($0.metrics.poolStart) },
            row("Pool minimum", nil, headline: true) { money($0.metrics.poolMinimum) },
            row("Pool end", nil, headline: true) { money($0.metrics.poolEnd) },
            row("Pool unwind PnL", nil, headline: false) { money($0.metrics.poolUnwindPnL) },
            row("Own layers start", nil, headline: false) { money($0.metrics.ownLayersStart) },
            row("Own layers end", nil, headline: false) { money($0.metrics.ownLayersEnd) },
            row("Venue assessments", nil, headline: false) { money($0.metrics.venueAssessments) },
            row("Bad debt", .lower, headline: true) { money($0.metrics.badDebt) },
            row("Collateral moves", nil, headline: false) { countAndMoney($0.metrics.collateralMoves, $0.metrics.collateralMoved) },
            row("ADL fills", .lower, headline: true) { count($0.metrics.adlCount) },
            row("ADL notional", .lower, headline: true) { money($0.metrics.adlNotional) },
            row("ADL traders", .lower, headline: true) { count($0.metrics.adlTraders) },
            row("Max haircut", .lower, headline: true) { percent($0.metrics.maxHaircut) },
            row("Needed budget B", nil, headline: false) { money($0.metrics.neededBudget) },
            row("Production haircut H", nil, headline: false) { money($0.metrics.productionHaircut) },
            row("Overshoot O = H - B", .lower, headline: true) { money($0.metrics.overshoot) },
            row("PTSR", nil, headline: false) { ratio($0.metrics.ptsr) },
            row("PMR", nil, headline: false) { ratio($0.metrics.pmr) },
            row("Hedgers one-legged", .lower, headline: true) { outcome in
                let metrics = outcome.metrics
                return ComparisonCell(display: "\(metrics.hedgersOneLegged) of \(metrics.hedgers)",
                                      exact: "\(metrics.hedgersOneLegged) of \(metrics.hedgers)", rank: Int64(metrics.hedgersOneLegged))
            },
        ] + venues.map { venue in
            row("Open interest \(venue)", nil, headline: false) { openInterest($0.metrics.openInterest.first { $0.venue == venue }) }
        } + [
            row("Conservation", nil, headline: true) { outcome in
                let holds = outcome.conservation.holds
                return ComparisonCell(display: holds ? "OK" : "FAILED", exact: holds ? "holds" : "fails", passed: holds)
            },
        ]
    }

    private static func count(_ value: Int) -> ComparisonCell {
        ComparisonCell(display: String(value), exact: String(value), rank: Int64(value))
    }

    private static func money(_ amount: Amount) -> ComparisonCell {
        ComparisonCell(display: DisplayNumber.money(amount), exact: amount.description, rank: amount.raw)
    }

    private static func countAndMoney(_ value: Int, _ amount: Amount) -> ComparisonCell {
        ComparisonCell(display: "\(value) (\(DisplayNumber.money(amount)))", exact: "\(value); \(amount.description)")
    }

    private static func percent(_ value: Ratio) -> ComparisonCell {
        ComparisonCell(display: ExactText.percent(value) + "%", exact: value.description, rank: value.raw)
    }

    private static func ratio(_ value: Ratio) -> ComparisonCell {
        ComparisonCell(display: value.formatted(fractionDigits: 3), exact: value.description, rank: value.raw)
    }

    private static func openInterest(_ venue: VenueOpenInterest?) -> ComparisonCell {
        guard let venue else { return ComparisonCell(display: "-", exact: "not listed") }
        let change = ExactText.percentChange(from: venue.startNotional, to: venue.endNotional).map { " (\($0)%)" } ?? ""
        return ComparisonCell(
            display: "\(DisplayNumber.money(venue.startNotional)) → \(DisplayNumber.money(venue.endNotional))\(change)",
            exact: "\(venue.startNotional.description) → \(venue.endNotional.description)")
    }
}
