import CrossclearEngine
import Foundation
import Synchronization
import Testing

@testable import CrossclearSimulation

@Suite("Report writers")
struct ReportTests {
    // MARK: - Fixture

    private static func amount(_ text: String) -> Amount {
        Amount(parsing: text) ?? .zero
    }

    private static func samples(pool: [String], adl: [String]) -> [StepSample] {
        zip(pool, adl).enumerated().map { index, values in
            StepSample(timeSeconds: Int64(index * 10), referencePrice: Price(whole: 100_000 - Int64(index) * 5_000),
                       minimumDepth: Ratio(bps: 10_000 - Int64(index) * 3_000), poolEquity: amount(values.0),
                       ownLayersEquity: amount("5000000"), liquidationNotional: Amount(whole: Int64(index) * 1_000_000),
                       takeoverNotional: amount("0.5"), adlNotional: amount(values.1), badDebt: .zero,
                       openInterest: amount("12345678.901234"))
        }
    }

    /// Two designs, three samples each; the second design fails conservation.
    static let report: SimulationReport = {
        var siloed = OutcomeMetrics()
        siloed.liquidationCount = 42
        siloed.liquidationNotional = amount("1234.56")
        siloed.adlCount = 7
        siloed.adlNotional = amount("2500000")
        siloed.adlTraders = 5
        siloed.maxHaircut = Ratio(raw: 123_456_789)
        siloed.overshoot = amount("-0.000001")
        siloed.ptsr = Ratio(parsing: "1.5") ?? .zero
        siloed.hedgers = 10
        siloed.hedgersOneLegged = 4
        siloed.openInterest = [
            VenueOpenInterest(venue: "hyperliquid", startNotional: Amount(whole: 200), endNotional: Amount(whole: 150)),
            VenueOpenInterest(venue: "binance", startNotional: .zero, endNotional: Amount(whole: 1)),
        ]
        var shared = OutcomeMetrics()
        shared.liquidationCount = 40
        shared.poolStart = Amount(whole: 10_000_000)
        shared.poolMinimum = amount("7500000.25")
        shared.poolEnd = Amount(whole: 9_000_000)
        shared.adlTraders = 2
        shared.hedgers = 10
        shared.hedgersOneLegged = 0
        return SimulationReport(
            scenario: "oct10", summary: "Crash <script>alert(\"x\")</script> & \"friends\"\ttab", seed: 42, traders: 1000,
            timeStepSeconds: 10, steps: 3, referenceAsset: "BTC",
            outcomes: [
                DesignOutcome(design: .siloedBackstop, adlPolicy: .venueDefault, metrics: siloed,
                              samples: samples(pool: ["0", "0", "0"], adl: ["0", "1000", "2500000"]),
                              conservation: ConservationReport(ledgerTotal: Amount(whole: 5), netDeposits: Amount(whole: 5),
                                                               unbalancedMarkets: [], negativeProtectedAccounts: []),
                              stateDigest: 0xff),
                DesignOutcome(design: .sharedFull, adlPolicy: .hedgeAware, metrics: shared,
                              samples: samples(pool: ["10000000", "7500000.25", "9000000"], adl: ["0", "0", "0"]),
                              conservation: ConservationReport(ledgerTotal: Amount(whole: 5), netDeposits: Amount(whole: 6),
                                                               unbalancedMarkets: ["hyperliquid/BTC"], negativeProtectedAccounts: []),
                              stateDigest: 0x0123_4567_89ab_cdef),
            ])
    }()

    private static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("crossclear-report-\(UUID().uuidString)").path
    }

    // MARK: - summary.json

    @Test func summaryIsValidJSONWithExpectedKeysAndExactValues() throws {
        let text = SummaryJSON.render(Self.report)
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let top = try #require(parsed as? [String: Any])
        #expect(Set(top.keys) == ["scenario", "description", "seed", "traders", "time_step_s", "steps", "reference_asset", "designs"])
        #expect(top["description"] as? String == Self.report.summary)
        #expect(top["seed"] as? Int == 42)
        let designs = try #require(top["designs"] as? [[String: Any]])
        #expect(designs.map { $0["design"] as? String } == ["siloed-backstop", "shared-full"])
        #expect(designs.map { $0["adl_policy"] as? String } == ["venue-default", "hedge-aware"])
        #expect(Set(designs[0].keys) == [
            "design", "adl_policy", "liquidations", "takeovers", "liquidation_fees", "pool", "own_layers", "venue_assessments",
            "bad_debt", "netting", "adl", "hedgers", "open_interest", "conservation", "state_digest",
        ])
        let adl = try #require(designs[0]["adl"] as? [String: Any])
        #expect(Set(adl.keys) == ["count", "notional", "traders", "max_haircut_pct", "needed_budget", "production_haircut",
                                  "overshoot", "ptsr", "pmr"])
        #expect(designs[0]["state_digest"] as? String == "00000000000000ff")
        #expect(designs[1]["state_digest"] as? String == "0123456789abcdef")
        let conservation = try #require(designs[1]["conservation"] as? [String: Any])
        #expect(conservation["holds"] as? Bool == false)
        #expect(conservation["unbalanced_markets"] as? [String] == ["hyperliquid/BTC"])

        // Exact decimal text, in the order written.
        #expect(text.contains("\"notional\": 1234.56\n"))
        #expect(text.contains("\"max_haircut_pct\": 12.34,"))
        #expect(text.contains("\"overshoot\": -0.000001,"))
        #expect(text.contains("\"ptsr\": 1.5,"))
        #expect(text.contains("\"minimum\": 7500000.25,"))
        #expect(text.contains("\"change_pct\": -25.00\n"))
        #expect(text.contains("\"change_pct\": null\n"))
        let order = ["\"scenario\"", "\"description\"", "\"seed\"", "\"traders\"", "\"time_step_s\"", "\"steps\"",
                     "\"reference_asset\"", "\"designs\""].compactMap { text.range(of: $0)?.lowerBound }
        #expect(order.count == 8 && order == order.sorted())
    }

    @Test func jsonStringsEscapeQuotesBackslashesAndControlCharacters() throws {
        let original = "a\"b\\c\nd\u{1}e é"
        let text = JSONWriter.render(.array([.string(original)]))
        #expect(text.contains("\\u0001"))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String])
        #expect(parsed == [original])
        #expect(JSONWriter.render(.object([])) == "{}\n")
    }

    // MARK: - timeseries.csv

    @Test func timeseriesHasHeaderAndOneRowPerSampleAndDesign() {
        let lines = TimeseriesCSV.render(Self.report).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "design,time_s,reference_price,min_depth,pool_equity,own_layers_equity,liquidation_notional,"
            + "takeover_notional,adl_notional,bad_debt,open_interest")
        #expect(lines.last == "")
        let rows = lines.dropFirst().dropLast()
        #expect(rows.count == 6)
        #expect(rows.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 11 })
        #expect(rows.map { $0.prefix { $0 != "," } } == ["siloed-backstop", "siloed-backstop", "siloed-backstop",
                                                          "shared-full", "shared-full", "shared-full"])
        #expect(rows.dropFirst(4).first == "shared-full,10,95000,0.7,7500000.25,5000000,1000000,0.5,0,0,12345678.901234")
    }

    // MARK: - Determinism and files

    @Test func sameInputGivesByteIdenticalFiles() throws {
        let first = Self.temporaryDirectory(), second = Self.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: first)
            try? FileManager.default.removeItem(atPath: second)
        }
        let firstPaths = try ReportWriter.write(Self.report, to: first)
        let secondPaths = try ReportWriter.write(Self.report, to: second)
        #expect(firstPaths.map { ($0 as NSString).lastPathComponent } == secondPaths.map { ($0 as NSString).lastPathComponent })
        for (a, b) in zip(firstPaths, secondPaths) {
            #expect(FileManager.default.contents(atPath: a) == FileManager.default.contents(atPath: b), "\(a) differs")
        }
    }

    @Test func reportWriterWritesEveryFileAndReturnsItsPath() throws {
        let directory = Self.temporaryDirectory() + "/nested/out"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let paths = try ReportWriter.write(Self.report, to: directory)
        #expect(paths.map { ($0 as NSString).lastPathComponent } == [
            "summary.json", "timeseries.csv", "chart-pool.svg", "chart-adl.svg", "chart-liquidations.svg",
            "chart-price.svg", "chart-depth.svg", "report.html",
        ])
        for path in paths {
            #expect(path.hasPrefix(directory))
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            #expect(size > 0, "\(path) is empty")
        }
    }

    @Test func reportWriterErrorNamesThePath() throws {
        let file = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        let error = #expect(throws: ReportWriteError.self) { try ReportWriter.write(Self.report, to: file + "/out") }
        #expect(error?.description.contains(file + "/out") == true)
    }

    // MARK: - Charts

    @Test func chartsRenderWithoutNaNForEmptyConstantAndSinglePointSeries() {
        let cases: [[LineChart.Series]] = [
            [],
            [LineChart.Series(name: "empty", color: "#000", points: [])],
            [LineChart.Series(name: "zero", color: "#000", points: [(0, 0), (10, 0), (20, 0)])],
            [LineChart.Series(name: "constant", color: "#000", points: [(5, 42_000), (5, 42_000)])],
            [LineChart.Series(name: "one", color: "#000", points: [(3, -7)])],
            [LineChart.Series(name: "bad", color: "#000", points: [(.nan, 1), (1, .infinity), (2, 3)])],
        ]
        for series in cases {
            for includesZero in [false, true] {
                let svg = LineChart(title: "T", xLabel: "x", yLabel: "y", series: series, yIncludesZero: includesZero).svg()
                #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
                #expect(svg.hasSuffix("</svg>\n"))
                let words = Set(svg.lowercased().split { !$0.isLetter }.map(String.init))
                #expect(words.isDisjoint(with: ["nan", "inf", "infinity"]))
            }
        }
    }

    @Test(arguments: [(0.0, 1.0), (0, 2_500_000), (95_000, 100_000), (0.3, 1), (-12.5, 7), (0.001, 0.003), (0, 1.23e10)])
    func niceScalesHaveFourToSixTicksCoveringTheRange(lower: Double, upper: Double) {
        let scale = NiceScale(covering: [lower, upper], includingZero: false)
        #expect((4...6).contains(scale.ticks.count), "\(scale.ticks)")
        #expect(scale.lower <= lower && scale.upper >= upper)
        let labels = scale.ticks.map(scale.label)
        #expect(Set(labels).count == labels.count, "\(labels)")
    }

    @Test func tickLabelsUseSuffixes() {
        let scale = NiceScale(covering: [0, 2_500_000], includingZero: true)
        #expect(scale.ticks.map(scale.label) == ["0", "0.5M", "1.0M", "1.5M", "2.0M", "2.5M"])
        let thousands = NiceScale(covering: [95_000, 100_000], includingZero: false)
        #expect(thousands.ticks.map(thousands.label) == ["95k", "96k", "97k", "98k", "99k", "100k"])
    }

    @Test func chartsCollapseIdenticalSeriesIntoOne() throws {
        let charts = Charts.all(Self.report)
        let price = try #require(charts.first { $0.fileName == "chart-price.svg" })
        #expect(price.chart.series.map(\.name) == ["all designs"])
        let pool = try #require(charts.first { $0.fileName == "chart-pool.svg" })
        #expect(pool.chart.series.map(\.name) == ["siloed-backstop", "shared-full"])
        #expect(pool.chart.series.map(\.color) == [ClearingDesign.siloedBackstop.chartColor, ClearingDesign.sharedFull.chartColor])
    }

    // MARK: - Display

    @Test func moneyIsShortAndReadable() {
        #expect(DisplayNumber.money(Amount(whole: 12_345_678)) == "$12.3M")
        #expect(DisplayNumber.money(Self.amount("950200")) == "$950.2k")
        #expect(DisplayNumber.money(Amount(whole: 12)) == "$12")
        #expect(DisplayNumber.money(Self.amount("999960")) == "$1.0M")
        #expect(DisplayNumber.money(Self.amount("999.6")) == "$1.0k")
        #expect(DisplayNumber.money(Amount(whole: -1_500)) == "-$1.5k")
        #expect(DisplayNumber.money(Self.amount("-0.2")) == "$0")
        #expect(DisplayNumber.money(Amount(whole: 2_000_000_000)) == "$2.0B")
        #expect(DisplayNumber.fixed(-0.04, digits: 1) == "0.0")
        #expect(DisplayNumber.fixed(.nan, digits: 2) == "0")
        #expect(ExactText.percent(Ratio(raw: -5_000_000)) == "-0.50")
    }

    @Test func htmlEscapesTextAndMarksBestAndConservation() {
        let html = HTMLReport.render(Self.report, charts: Charts.all(Self.report))
        #expect(!html.contains("<script"))
        #expect(html.contains("Crash &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;friends&quot;"))
        #expect(html.contains("<svg"))
        #expect(!html.contains("src=") && !html.contains("href="))
        #expect(html.contains("class=\"fail\""))
        #expect(html.contains("class=\"ok\""))
        // Fewer ADL traders (2) is best: the shared-full cell of that row is highlighted.
        #expect(html.contains("<td class=\"label\">ADL traders</td><td title=\"5\">5</td><td class=\"best\" title=\"2\">2</td>"))
        for term in ["Needed budget B", "Overshoot O = H - B", "PTSR", "PMR"] {
            #expect(html.contains("<dt>\(term)</dt>"))
        }
    }

    @Test func consoleTableShowsEveryDesignAndTheVerdict() {
        let table = ConsoleTable.render(Self.report)
        let lines = table.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("metric") && $0.contains("siloed-backstop") && $0.contains("shared-full") })
        #expect(lines.contains { $0.hasPrefix("Conservation") && $0.contains("OK") && $0.contains("FAILED") })
        #expect(lines.contains { $0.hasPrefix("Hedgers one-legged") && $0.contains("4 of 10") })
        #expect(lines.contains { $0.hasPrefix("Pool minimum") && $0.contains("$7.5M") })
    }

    // MARK: - Sweep table

    @Test func sweepTableHasParameterColumnsThenMetricsAndOneRowPerRun() {
        let rows = Self.report.outcomes.enumerated().map { index, outcome in
            SweepRow(parameters: [("pool_multiplier", index == 0 ? "1" : "2"), ("note", "a,b")], outcome: outcome, seed: 7)
        }
        let lines = SweepTable.csv(rows).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        let header = lines[0].split(separator: ",").map(String.init)
        #expect(Array(header.prefix(5)) == ["pool_multiplier", "note", "design", "adl_policy", "seed"])
        #expect(header.contains("liquidations_count") && header.contains("adl_max_haircut_pct") && header.contains("pool_minimum"))
        #expect(header.last == "conservation_holds")
        #expect(lines[1].hasPrefix("1,\"a,b\",siloed-backstop,venue-default,7,42,1234.56,"))
        #expect(lines[1].hasSuffix(",true"))
        #expect(lines[2].hasSuffix(",false"))
        #expect(SweepTable.csv([]).split(separator: "\n").count == 1)
    }

    // MARK: - Progress

    @Test func progressPrintsPlainLinesAtEachTenthWhenNotATerminal() {
        let lines = Mutex<[String]>([])
        let bar = ProgressBar(total: 20, label: "sweep", isTerminal: false) { text in lines.withLock { $0.append(text) } }
        for _ in 0..<20 { bar.advance() }
        bar.finish()
        bar.finish()
        let written = lines.withLock { $0 }
        #expect(written.count == 10)
        #expect(written.first?.hasPrefix("sweep 10% 2/20 ") == true)
        #expect(written.last?.hasPrefix("sweep 100% 20/20 ") == true)
        #expect(written.allSatisfy { $0.hasSuffix("s\n") })
    }

    @Test func progressRedrawsOneLineOnATerminal() {
        let lines = Mutex<[String]>([])
        let bar = ProgressBar(total: 1000, label: "run", isTerminal: true) { text in lines.withLock { $0.append(text) } }
        for _ in 0..<450 { bar.advance() }
        bar.finish()
        let written = lines.withLock { $0 }
        #expect(written.count >= 2)
        #expect(written.allSatisfy { $0.hasPrefix("\rrun [") })
        #expect(written.last?.hasPrefix("\rrun [####################] 100% 1000/1000 ") == true)
        #expect(written.last?.hasSuffix("s\n") == true)
    }
}
