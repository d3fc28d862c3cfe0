// `summary.json`: the scenario and every design's metrics, exact, in report order.

import CrossclearEngine

/// Builds the `summary.json` document of a simulation report.
enum SummaryJSON {
    /// The whole document as JSON text.
    static func render(_ report: SimulationReport) -> String {
        JSONWriter.render(document(report))
    }

    /// The document: the scenario fields, then one object per design in report order.
    static func document(_ report: SimulationReport) -> JSONValue {
        .object([
            ("scenario", .string(report.scenario)),
            ("description", .string(report.summary)),
            ("seed", .integer(report.seed)),
            ("traders", .integer(report.traders)),
            ("time_step_s", .integer(report.timeStepSeconds)),
            ("steps", .integer(report.steps)),
            ("reference_asset", .string(report.referenceAsset)),
            ("designs", .array(report.outcomes.map(design))),
        ])
    }

    /// One design's object: its names, its headline metrics, open interest, conservation and digest.
    static func design(_ outcome: DesignOutcome) -> JSONValue {
        let conservation = outcome.conservation
        let members: [(key: String, value: JSONValue)] =
            [("design", .string(outcome.design.rawValue)), ("adl_policy", .string(outcome.adlPolicy.rawValue))]
            + headlineMetrics(outcome.metrics)
            + [
                ("open_interest", .array(outcome.metrics.openInterest.map(openInterest))),
                ("conservation", .object([
                    ("holds", .bool(conservation.holds)),
                    ("ledger_total", .decimal(conservation.ledgerTotal)),
                    ("net_deposits", .decimal(conservation.netDeposits)),
                    ("unbalanced_markets", .array(conservation.unbalancedMarkets.map(JSONValue.string))),
                    ("negative_protected_accounts", .array(conservation.negativeProtectedAccounts.map(JSONValue.string))),
                ])),
                ("state_digest", .string(ExactText.hex(outcome.stateDigest))),
            ]
        return .object(members)
    }

    /// Every scalar metric of a run, grouped as in `summary.json`. The sweep table flattens the same
    /// members into its columns, so both files always carry the same metrics under the same names.
    static func headlineMetrics(_ metrics: OutcomeMetrics) -> [(key: String, value: JSONValue)] {
        [
            ("liquidations", .object([
                ("count", .integer(metrics.liquidationCount)),
                ("notional", .decimal(metrics.liquidationNotional)),
            ])),
            ("takeovers", .object([
                ("own_layer_count", .integer(metrics.ownLayerTakeovers)),
                ("own_layer_notional", .decimal(metrics.ownLayerTakeoverNotional)),
                ("pool_count", .integer(metrics.poolTakeovers)),
                ("pool_notional", .decimal(metrics.poolTakeoverNotional)),
            ])),
            ("liquidation_fees", .decimal(metrics.liquidationFees)),
            ("pool", .object([
                ("start", .decimal(metrics.poolStart)),
                ("minimum", .decimal(metrics.poolMinimum)),
                ("end", .decimal(metrics.poolEnd)),
                ("unwind_pnl", .decimal(metrics.poolUnwindPnL)),
            ])),
            ("own_layers", .object([
                ("start", .decimal(metrics.ownLayersStart)),
                ("end", .decimal(metrics.ownLayersEnd)),
            ])),
            ("venue_assessments", .decimal(metrics.venueAssessments)),
            ("bad_debt", .decimal(metrics.badDebt)),
            ("netting", .object([
                ("collateral_moves", .integer(metrics.collateralMoves)),
                ("collateral_moved", .decimal(metrics.collateralMoved)),
            ])),
            ("adl", .object([
                ("count", .integer(metrics.adlCount)),
                ("notional", .decimal(metrics.adlNotional)),
                ("traders", .integer(metrics.adlTraders)),
                ("max_haircut_pct", .number(ExactText.percent(metrics.maxHaircut))),
                ("needed_budget", .decimal(metrics.neededBudget)),
                ("production_haircut", .decimal(metrics.productionHaircut)),
                ("overshoot", .decimal(metrics.overshoot)),
                ("ptsr", .decimal(metrics.ptsr)),
                ("pmr", .decimal(metrics.pmr)),
            ])),
            ("hedgers", .object([
                ("total", .integer(metrics.hedgers)),
                ("one_legged", .integer(metrics.hedgersOneLegged)),
            ])),
        ]
    }

    private static func openInterest(_ venue: VenueOpenInterest) -> JSONValue {
        .object([
            ("venue", .string(venue.venue)),
            ("start", .decimal(venue.startNotional)),
            ("end", .decimal(venue.endNotional)),
            ("change_pct", ExactText.percentChange(from: venue.startNotional, to: venue.endNotional).map(JSONValue.number) ?? .null),
        ])
    }
}

/// Exact text derived from engine values by integer arithmetic only.
enum ExactText {
    /// `ratio` as a percentage with two decimals, truncated toward zero: 0.123456 gives "12.34".
    static func percent(_ ratio: Ratio) -> String {
        let hundredths = ratio.raw / (Ratio.unit / 10_000)
        let magnitude = hundredths.magnitude
        let fraction = magnitude % 100
        let sign = hundredths < 0 ? "-" : ""
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// The relative change from `start` to `end` as a percentage with two decimals; nil when `start` is zero.
    static func percentChange(from start: Amount, to end: Amount) -> String? {
        guard start != .zero else { return nil }
        return percent(Ratio.of(end - start, start, rounding: .down))
    }

    /// A digest as 16 lowercase hexadecimal digits.
    static func hex(_ digest: UInt64) -> String {
        let digits = String(digest, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
