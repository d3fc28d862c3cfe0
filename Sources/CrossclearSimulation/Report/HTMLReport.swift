// `report.html`: a self-contained page (inline CSS and SVG, no script, no external assets).

import CrossclearEngine

/// Builds the `report.html` page of a simulation report.
enum HTMLReport {
    /// The whole page. Every piece of text from the report is escaped.
    static func render(_ report: SimulationReport, charts: [ReportChart]) -> String {
        var html = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>crossclear: \(Markup.escape(report.scenario))</title>
        <style>
        body { font-family: Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }
        h1 { margin-bottom: 0.2em; }
        .meta { color: #555; }
        table { border-collapse: collapse; margin: 1em 0; }
        th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; }
        th { background: #f4f4f4; }
        td { text-align: right; white-space: nowrap; }
        td.label { text-align: left; }
        th .policy { display: block; font-weight: normal; font-size: 0.85em; color: #555; }
        td.best { background: #dff0d8; font-weight: bold; }
        .ok { color: #1a7f37; }
        .fail { color: #c62828; }
        td.ok { background: #e6f4ea; font-weight: bold; }
        td.fail { background: #fdecea; font-weight: bold; }
        .charts svg { display: block; margin: 1em 0; max-width: 100%; height: auto; border: 1px solid #eee; }
        dt { font-weight: bold; margin-top: 0.5em; }
        dd { margin-left: 1.5em; }
        </style>
        </head>
        <body>
        <h1>crossclear simulation: \(Markup.escape(report.scenario))</h1>
        <p>\(Markup.escape(report.summary))</p>
        <p class="meta">Seed \(report.seed), \(report.traders) traders, \(report.steps) steps of \(report.timeStepSeconds) s, \
        reference asset \(Markup.escape(report.referenceAsset)).</p>

        """
        html += comparisonTable(report)
        html += conservation(report)
        html += "<h2>Charts</h2>\n<div class=\"charts\">\n"
        for chart in charts { html += chart.chart.svg() }
        html += "</div>\n"
        html += howToRead
        return html + "</body>\n</html>\n"
    }

    private static func comparisonTable(_ report: SimulationReport) -> String {
        var html = "<h2>Designs compared</h2>\n"
        html += "<p class=\"meta\">Money rounded for reading; hover a cell for the exact value. "
            + "Highlighted: the best value of a row where better is plain (fewer, less).</p>\n"
        html += "<table>\n<tr><th>Metric</th>"
        for outcome in report.outcomes {
            html += "<th>\(Markup.escape(outcome.design.rawValue))"
                + "<span class=\"policy\">ADL: \(Markup.escape(outcome.adlPolicy.rawValue))</span></th>"
        }
        html += "</tr>\n"
        for row in Comparison.rows(report) {
            let best = row.bestColumns
            html += "<tr><td class=\"label\">\(Markup.escape(row.label))</td>"
            for (column, cell) in row.cells.enumerated() {
                let style = switch cell.passed {
                case true?: " class=\"ok\""
                case false?: " class=\"fail\""
                case nil: best.contains(column) ? " class=\"best\"" : ""
                }
                html += "<td\(style) title=\"\(Markup.escape(cell.exact))\">\(Markup.escape(cell.display))</td>"
            }
            html += "</tr>\n"
        }
        return html + "</table>\n"
    }

    private static func conservation(_ report: SimulationReport) -> String {
        var html = "<h2>Conservation</h2>\n<ul>\n"
        for outcome in report.outcomes {
            let check = outcome.conservation
            let design = Markup.escape(outcome.design.rawValue)
            let balance = "ledger total \(check.ledgerTotal.description) " + (check.ledgerTotal == check.netDeposits ? "=" : "≠")
                + " net deposits \(check.netDeposits.description)"
            var problems: [String] = []
            if !check.unbalancedMarkets.isEmpty {
                problems.append("unbalanced markets: " + check.unbalancedMarkets.joined(separator: ", "))
            }
            if !check.negativeProtectedAccounts.isEmpty {
                problems.append("negative protected accounts: " + check.negativeProtectedAccounts.joined(separator: ", "))
            }
            let verdict = check.holds ? "<span class=\"ok\">holds</span>" : "<span class=\"fail\">FAILED</span>"
            html += "<li><strong>\(design)</strong>: \(verdict) — \(Markup.escape(([balance] + problems).joined(separator: "; ")))</li>\n"
        }
        return html + "</ul>\n"
    }

    /// One line per metric, after mechanics.md section 3.
    private static let howToRead: String = {
        let entries = [
            ("Liquidations", "book liquidation fills, and the notional they closed into order books."),
            ("Own-layer / pool takeovers", "accounts taken over, instead of being dumped into a thin book, by a venue's own layer (backstop vault, insurance fund) or by the mutual pool as buyer of last resort."),
            ("Pool start / minimum / end", "mutual pool equity (cash plus inventory at mark); the minimum shows the deepest draw."),
            ("Pool unwind PnL", "what the pool's takeovers and unwinds gained or lost, apart from fees and assessments received."),
            ("Venue assessments", "paid by venue operators into the pool under capped assessments."),
            ("Bad debt", "losses no layer covered."),
            ("Collateral moves", "cross-venue transfers made by netting to keep hedged traders solvent on every venue."),
            ("ADL fills / notional / traders", "winners' positions cut by auto-deleveraging, their notional at mark, and how many distinct traders were cut."),
            ("Max haircut", "the largest single ADL cut, as a percentage of the winner's equity before it."),
            ("Needed budget B", "the shortfall ADL actually had to cover: the sum of |mark − execution price| × |size| over ADL fills."),
            ("Production haircut H", "the value the policy took from winners, measured against the mark."),
            ("Overshoot O = H - B", "value taken from winners beyond what was needed (Hyperliquid, 10 Oct 2025: $45.0M)."),
            ("PTSR", "mean over ADL rounds of the largest post-ADL winner equity divided by the round's shortfall."),
            ("PMR", "the same ratio, divided by the largest single loser's shortfall instead."),
            ("Hedgers one-legged", "delta-neutral cross-venue traders who had one leg closed while the other stayed open."),
            ("Open interest", "long open interest of each venue at the start and the end, at the marks of each time."),
            ("Conservation", "the ledger sums exactly to net deposits, every market balances, and no protected account went negative."),
        ]
        var html = "<h2>How to read this</h2>\n<dl>\n"
        for (term, meaning) in entries {
            html += "<dt>\(Markup.escape(term))</dt><dd>\(Markup.escape(meaning))</dd>\n"
        }
        return html + "</dl>\n"
    }()
}
