import CrossclearEngine
import Foundation
import Testing
@testable import CrossclearSimulation

// MARK: - Fixtures

/// A small valid scenario; tests change one line of it and check the error that follows.
private let minimalScenario = """
name = "t"
duration_s = 60

[[asset]]
symbol = "BTC"
class = "btc"
start_price = 100
depth_usd_per_bp = 1000

[[asset]]
symbol = "ETH"
class = "eth"
start_price = 10
depth_usd_per_bp = 500

[[venue]]
name = "a"
profile = "hyperliquid"
markets = ["BTC", "ETH"]

[[venue]]
name = "b"
profile = "cex"
markets = ["BTC"]

[price_path]
kind = "crash"
fall_s = 30
depth = 0.1

[population]
traders = 10
"""

/// `minimalScenario` with `old` replaced by `new` (which must occur exactly once).
private func modifiedScenario(replacing old: String, with new: String) -> String {
    precondition(minimalScenario.components(separatedBy: old).count == 2, "fixture must contain \(old) once")
    return minimalScenario.replacingOccurrences(of: old, with: new)
}

/// 1-based line of the first line of `text` containing `fragment`.
private func line(of fragment: String, in text: String) -> Int? {
    text.components(separatedBy: "\n").firstIndex { $0.contains(fragment) }.map { $0 + 1 }
}

private func load(_ text: String, overrides: [String] = []) throws -> Scenario {
    let parsed = try overrides.map { text throws(ScenarioError) in try ScenarioOverride(parsing: text) }
    return try Scenario.parse(text: text, fileName: "t.toml", baseDirectory: ".", overrides: parsed)
}

/// The error `text` raises (records an issue if it loads).
private func loadError(_ text: String, overrides: [String] = [], baseDirectory: String = ".",
                       sourceLocation: SourceLocation = #_sourceLocation) -> ScenarioError? {
    do {
        let parsed = try overrides.map { text throws(ScenarioError) in try ScenarioOverride(parsing: text) }
        _ = try Scenario.parse(text: text, fileName: "t.toml", baseDirectory: baseDirectory, overrides: parsed)
        Issue.record("expected a scenario error", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// The package root: this file is Tests/CrossclearSimulationTests/ScenarioLoadingTests.swift.
private let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func shippedScenarioPath(_ name: String) -> String {
    packageRoot.appendingPathComponent("cluster/scenarios/\(name).toml").path
}

/// A fresh temporary directory holding the given files.
private func temporaryDirectory(with files: [String: String]) throws -> URL {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("crossclear-scenario-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (name, contents) in files {
        try contents.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    return directory
}

private func ratio(_ text: String) -> Ratio? { Ratio(parsing: text) }

// MARK: - Shipped scenarios

@Suite("Shipped scenarios")
struct ShippedScenarioTests {
    @Test("every shipped scenario loads", arguments: ["oct10", "thin-book", "calm"])
    func loads(name: String) throws {
        let scenario = try Scenario.load(path: shippedScenarioPath(name))
        #expect(scenario.name == name)
        #expect(!scenario.summary.isEmpty)
        #expect(!scenario.assets.isEmpty)
        #expect(scenario.venues.count >= 3)
        #expect(scenario.stepCount > 0)
        // Every venue market resolves to an asset index in the engine configuration.
        let config = scenario.engineConfig(design: .sharedFull)
        #expect(zip(config.venues, scenario.venues).allSatisfy { $0.assets.count == $1.markets.count })
    }

    @Test("oct10 maps every field onto the model")
    func oct10() throws {
        let scenario = try Scenario.load(path: shippedScenarioPath("oct10"))
        #expect(scenario.seed == 42)
        #expect(scenario.timeStepSeconds == 5)
        #expect(scenario.durationSeconds == 3600)
        #expect(scenario.stepCount == 720)
        #expect(scenario.assets.map(\.config.symbol) == ["BTC", "ETH", "SOL", "DOGE", "SUI", "ATOM"])
        #expect(scenario.assets.map(\.config.assetClass) == [.btc, .eth, .sol, .alt, .alt, .alt])
        #expect(scenario.assets.map(\.traderWeight) == [35, 25, 15, 8, 9, 8])
        let btc = scenario.assets[0]
        #expect(btc.startPrice == Price(whole: 121_000))
        #expect(btc.config.depthPerBasisPoint == Amount(whole: 3_000_000))
        #expect(btc.beta == .one)
        #expect(scenario.assets[3].startPrice == Price(parsing: "0.25"))
        #expect(scenario.assets[5].wick == ratio("0.9"))

        #expect(scenario.venues.map(\.name) == ["hyperliquid", "binance", "dydx", "lighter"])
        #expect(scenario.venues.map(\.profile) == [.hyperliquid, .cex, .dydx, .lighter])
        #expect(scenario.venues[1].buffer == .zero)
        #expect(scenario.venues[1].bufferShareOfOpenInterest == ratio("0.03"))
        #expect(scenario.venues[1].assessmentShareOfOpenInterest == ratio("0.01"))
        #expect(scenario.depthReferenceTraders == 20_000)
        #expect(scenario.venues[1].depthScale == Ratio(whole: 2))
        #expect(scenario.venues[2].markets == ["BTC", "ETH", "SOL", "DOGE"])
        #expect(scenario.venues[3].markets == ["BTC", "ETH", "SOL", "SUI"])
        #expect(scenario.venues[0].makerCapital == Amount(whole: 1_000_000_000))

        let expectedPath = CrashPath(startSeconds: 600, fallSeconds: 720, depth: try #require(ratio("0.17")),
                                     wickSeconds: 180, recovery: try #require(ratio("0.6")), recoverySeconds: 1800)
        #expect(scenario.pricePath == .crash(expectedPath))
        #expect(scenario.liquidity == LiquidityConfig(volatilitySensitivity: Ratio(whole: 12),
                                                      minimumDepth: try #require(ratio("0.02")),
                                                      resiliencePerSecond: try #require(ratio("0.03")),
                                                      maxWalkBasisPoints: 3000))
        #expect(scenario.population.traders == 20_000)
        #expect(scenario.population.hedgerShare == ratio("0.35"))
        #expect(scenario.population.longShare == ratio("0.87"))
        #expect(scenario.population.leverage.values == [1, 2, 3, 5, 10, 20, 25, 40])
        #expect(scenario.population.leverage.weights == [8, 10, 15, 20, 22, 12, 8, 5])
        #expect(scenario.population.hedgerLeverage.values == [1, 2, 3, 5, 10])
        #expect(scenario.population.collateral.values.last == Amount(whole: 1_000_000))
        #expect(scenario.population.collateral.weights == [55, 30, 12, 3])
        #expect(scenario.population.marketMakersPerVenue == 10)
        #expect(scenario.population.makerLeverage == 3)
    }

    @Test("thin-book crashes one alt on a thin venue while BTC stays put")
    func thinBook() throws {
        let scenario = try Scenario.load(path: shippedScenarioPath("thin-book"))
        #expect(scenario.assets.map(\.config.symbol) == ["BTC", "VOXEL"])
        #expect(scenario.assets[0].beta == .zero)
        #expect(scenario.assets[1].beta == .one)
        guard case .crash(let crash) = scenario.pricePath else {
            Issue.record("thin-book should use a crash path")
            return
        }
        #expect(crash.depth == ratio("0.85"))
        #expect(crash.fallSeconds == 300)
        #expect(crash.recovery == ratio("0.7"))
        #expect(crash.recoverySeconds == 1200)
        #expect(scenario.venues.map(\.name) == ["thin", "hyperliquid", "drift"])
        #expect(scenario.venues[0].depthScale == ratio("0.2"))
        #expect(scenario.population.traders == 5000)
        #expect(scenario.population.hedgerShare == ratio("0.2"))
        #expect(scenario.durationSeconds == 1800)
    }

    @Test("calm barely moves")
    func calm() throws {
        let scenario = try Scenario.load(path: shippedScenarioPath("calm"))
        #expect(scenario.venues.map(\.profile) == [.hyperliquid, .cex, .drift])
        #expect(scenario.assets.map(\.config.symbol) == ["BTC", "ETH"])
        guard case .crash(let crash) = scenario.pricePath else {
            Issue.record("calm should use a crash path")
            return
        }
        #expect(crash.depth == ratio("0.02"))
        #expect(crash.wickSeconds == 0)
        #expect(scenario.assets.allSatisfy { $0.wick == .zero })
    }
}

// MARK: - Defaults and mapping

@Suite("Scenario loading")
struct ScenarioLoadingTests {
    @Test("absent optional fields take their documented defaults")
    func defaults() throws {
        let scenario = try load(minimalScenario)
        #expect(scenario.summary == "")
        #expect(scenario.seed == 1)
        #expect(scenario.timeStepSeconds == 5)
        #expect(scenario.assets[0].beta == .one)
        #expect(scenario.assets[0].wick == .zero)
        #expect(scenario.assets[0].traderWeight == 1)
        #expect(scenario.venues[0].buffer == .zero)
        #expect(scenario.venues[0].assessmentCapacity == .zero)
        #expect(scenario.venues[0].depthScale == .one)
        #expect(scenario.venues[0].traderWeight == 1)
        #expect(scenario.venues[0].makerCapital == Amount(whole: 1_000_000_000))
        #expect(scenario.pricePath == .crash(CrashPath(startSeconds: 0, fallSeconds: 30, depth: try #require(ratio("0.1")),
                                                       wickSeconds: 0, recovery: .zero, recoverySeconds: 0)))
        #expect(scenario.liquidity == LiquidityConfig(volatilitySensitivity: Ratio(whole: 10),
                                                      minimumDepth: try #require(ratio("0.02")),
                                                      resiliencePerSecond: try #require(ratio("0.05")),
                                                      maxWalkBasisPoints: 2000))
        #expect(scenario.oracle == OracleConfig(sources: 3, sourceNoiseBasisPoints: 5, markBandBasisPoints: 0))
        #expect(scenario.clearing == ClearingConfig(
            nettingCreditCap: try #require(ratio("0.8")), poolCover: 2, stressMove: try #require(ratio("0.25")),
            poolMultiplier: .one, takeoverDiscount: .zero, feeShareToPool: try #require(ratio("0.5")),
            unwindPerSecond: try #require(ratio("0.01")), unwindMaxSlippageBasisPoints: 100, adlPolicy: nil))
        let population = scenario.population
        #expect(population.hedgerShare == ratio("0.3"))
        #expect(population.longShare == ratio("0.5"))
        #expect(population.leverage == WeightedChoice(values: [1, 2, 3, 5, 10, 20], weights: [10, 15, 25, 25, 15, 10]))
        #expect(population.hedgerLeverage == WeightedChoice(values: [1, 2, 3, 5], weights: [30, 30, 30, 10]))
        #expect(population.collateral == WeightedChoice(
            values: [Amount(whole: 1000), Amount(whole: 10_000), Amount(whole: 100_000)], weights: [60, 30, 10]))
        #expect(population.marketMakersPerVenue == 10)
        #expect(population.makerLeverage == 3)
    }

    @Test("integers are accepted where decimals are expected, and decimals stay exact")
    func exactNumbers() throws {
        let text = modifiedScenario(replacing: "start_price = 10\n", with: "start_price = 0.00000001\nbeta = 2\n")
        let scenario = try load(text)
        #expect(scenario.assets[1].startPrice == Price(raw: 1))
        #expect(scenario.assets[1].beta == Ratio(whole: 2))
    }

    @Test("a single venue defaults pool_cover to 1; the ADL policy maps to its enum")
    func clearingDetails() throws {
        var text = modifiedScenario(replacing: "[[venue]]\nname = \"b\"\nprofile = \"cex\"\nmarkets = [\"BTC\"]\n", with: "")
        text += "\nhedger_share = 0\n[clearing]\nadl_policy = \"pnl-pro-rata\"\n"
        let scenario = try load(text)
        #expect(scenario.clearing.poolCover == 1)
        #expect(scenario.clearing.adlPolicy == .pnlProRata)
    }

    @Test("weights alone reweight the default values")
    func weightsAlone() throws {
        let scenario = try load(minimalScenario + "\nhedger_leverage_weights = [1, 1, 1, 1]\n")
        #expect(scenario.population.hedgerLeverage == WeightedChoice(values: [1, 2, 3, 5], weights: [1, 1, 1, 1]))
    }

    // MARK: - Errors

    @Test("an unknown field is an error with a suggestion")
    func unknownFieldWithSuggestion() throws {
        let text = modifiedScenario(replacing: "depth_usd_per_bp = 500", with: "depth_usd_per_bps = 500")
        let error = try #require(loadError(text))
        #expect(error.file == "t.toml")
        #expect(error.line == line(of: "depth_usd_per_bps", in: text))
        #expect(error.field == "asset[1].depth_usd_per_bps")
        #expect(error.message == "unknown field (did you mean \"depth_usd_per_bp\"?)")
    }

    @Test("an unknown table is named, with a suggestion; a far-off name gets none")
    func unknownTable() throws {
        let text = minimalScenario + "\n[clearng]\npool_cover = 1\n"
        let error = try #require(loadError(text))
        #expect(error.line == line(of: "[clearng]", in: text))
        #expect(error.field == "clearng")
        #expect(error.message == "unknown table (did you mean \"clearing\"?)")

        let far = try #require(loadError(minimalScenario + "\nwhatever = 1\n"))
        #expect(far.message == "unknown field")
    }

    @Test("a wrong type names what was expected and what was found")
    func wrongType() throws {
        let text = modifiedScenario(replacing: "duration_s = 60", with: "duration_s = 60\nseed = \"x\"")
        let error = try #require(loadError(text))
        #expect(error.description == "t.toml:3: seed: expected an integer, found a string (\"x\")")

        let decimalForInteger = try #require(loadError(modifiedScenario(replacing: "traders = 10", with: "traders = 10.5")))
        #expect(decimalForInteger.field == "population.traders")
        #expect(decimalForInteger.message == "expected an integer, found a decimal number (10.5)")
    }

    @Test("an out-of-range value states the range and the value")
    func outOfRange() throws {
        let text = modifiedScenario(replacing: "start_price = 10\n", with: "start_price = 10\nbeta = 7.5\n")
        let error = try #require(loadError(text))
        #expect(error.line == line(of: "beta = 7.5", in: text))
        #expect(error.field == "asset[1].beta")
        #expect(error.message == "must be between 0 and 5, got 7.5")

        let big = try #require(loadError(modifiedScenario(replacing: "traders = 10", with: "traders = 20_000_000")))
        #expect(big.message == "must be between 0 and 10_000_000, got 20_000_000")

        let zero = try #require(loadError(modifiedScenario(replacing: "start_price = 100", with: "start_price = 0")))
        #expect(zero.message == "must be > 0 and <= 10_000_000, got 0")
    }

    @Test("more decimal places than the type holds is an error")
    func tooPrecise() throws {
        let error = try #require(loadError(modifiedScenario(replacing: "depth = 0.1", with: "depth = 0.1234567891")))
        #expect(error.field == "price_path.depth")
        #expect(error.message == "0.1234567891 has 10 decimal places; at most 9 are allowed")
    }

    @Test("an unknown profile lists the allowed ones")
    func unknownProfile() throws {
        let text = modifiedScenario(replacing: "profile = \"cex\"", with: "profile = \"cexx\"")
        let error = try #require(loadError(text))
        let expectedLine = try #require(line(of: "cexx", in: text))
        #expect(error.description == "t.toml:\(expectedLine): venue[1].profile: unknown profile \"cexx\" "
                + "(expected one of: hyperliquid, cex, dydx, drift, lighter)")
    }

    @Test("a venue market naming an unknown asset points at the element")
    func unknownMarket() throws {
        let text = modifiedScenario(replacing: "markets = [\"BTC\", \"ETH\"]", with: "markets = [\n  \"BTC\",\n  \"ETHH\",\n]")
        let error = try #require(loadError(text))
        #expect(error.line == line(of: "\"ETHH\"", in: text))
        #expect(error.field == "venue[0].markets[1]")
        #expect(error.message == "unknown asset \"ETHH\" (assets are: BTC, ETH); did you mean \"ETH\"?")
    }

    @Test("exponent notation is rejected with its line")
    func exponent() throws {
        let text = modifiedScenario(replacing: "depth_usd_per_bp = 1000", with: "depth_usd_per_bp = 1e3")
        let error = try #require(loadError(text))
        #expect(error.line == line(of: "1e3", in: text))
        #expect(error.field == nil)
        #expect(error.message.contains("exponent notation is not supported"))
    }

    @Test("a missing required field points at its table; at the root there is no line")
    func missingFields() throws {
        let root = try #require(loadError(modifiedScenario(replacing: "name = \"t\"\n", with: "")))
        #expect(root.description == "t.toml: name: missing required field")

        let text = modifiedScenario(replacing: "class = \"eth\"\n", with: "")
        let asset = try #require(loadError(text))
        #expect(asset.field == "asset[1].class")
        #expect(asset.line == 10)
        #expect(asset.message == "missing required field")

        let noPath = try #require(loadError(modifiedScenario(replacing: "[price_path]\nkind = \"crash\"\nfall_s = 30\ndepth = 0.1\n", with: "")))
        #expect(noPath.field == "price_path")
        #expect(noPath.line == nil)
    }

    @Test("validation rules across fields", arguments: [
        ("duration_s = 60", "duration_s = 62", "duration_s", "must be a multiple of time_step_s (5), got 62"),
        ("symbol = \"ETH\"", "symbol = \"BTC\"", "asset[1].symbol", "duplicate symbol \"BTC\" (also asset[0] on line 5)"),
        ("symbol = \"ETH\"", "symbol = \"eth\"", "asset[1].symbol", "must be 1 to 12 characters of A-Z and 0-9, got \"eth\""),
        ("name = \"b\"", "name = \"B\"", "venue[1].name", "must be 1 to 32 characters of a-z, 0-9 and -, got \"B\""),
        ("markets = [\"BTC\"]", "markets = []", "venue[1].markets", "must list at least one asset symbol"),
        ("markets = [\"BTC\"]", "markets = [\"BTC\", \"BTC\"]", "venue[1].markets[1]", "\"BTC\" is listed twice"),
        ("fall_s = 30", "fall_s = 30\nfile = \"p.csv\"", "price_path.file",
         "applies only to kind = \"csv\" (this path is kind = \"crash\")"),
        ("kind = \"crash\"", "kind = \"crsh\"", "price_path.kind", "unknown price path kind \"crsh\" (expected one of: crash, csv)"),
        ("traders = 10", "traders = 10\nleverage_values = [1, 2]", "population.leverage_weights",
         "missing: required when leverage_values is given (one weight per value)"),
        ("traders = 10", "traders = 10\nleverage_weights = [1, 2]", "population.leverage_weights",
         "has 2 weights but the default leverage_values has 6 values"),
        ("traders = 10", "traders = 10\ncollateral_usd_values = [100, 200]\ncollateral_usd_weights = [0, 0]",
         "population.collateral_usd_weights", "weights must not all be zero"),
        ("traders = 10", "traders = 10\nleverage_values = [1, 500]\nleverage_weights = [1, 1]",
         "population.leverage_values[1]", "must be between 1 and 200, got 500"),
    ])
    func crossFieldRules(old: String, new: String, field: String, message: String) throws {
        let error = try #require(loadError(modifiedScenario(replacing: old, with: new)))
        #expect(error.field == field)
        #expect(error.message == message)
        #expect(error.line != nil)
    }

    @Test("pool_cover cannot exceed the number of venues")
    func poolCover() throws {
        let error = try #require(loadError(minimalScenario + "\n[clearing]\npool_cover = 3\n"))
        #expect(error.field == "clearing.pool_cover")
        #expect(error.message == "must be between 1 and 2 (the number of venues), got 3")
    }

    @Test("hedgers need an asset listed on two venues")
    func hedgersNeedTwoVenues() throws {
        let text = modifiedScenario(replacing: "markets = [\"BTC\"]", with: "markets = [\"ETH\"]")
            .replacingOccurrences(of: "markets = [\"BTC\", \"ETH\"]", with: "markets = [\"BTC\"]")
        let error = try #require(loadError(text))
        #expect(error.field == "population.hedger_share")
        #expect(error.line == line(of: "[population]", in: text))
        #expect(try load(text + "\nhedger_share = 0\n").population.hedgerShare == .zero)
    }

    @Test("a single [asset] table instead of [[asset]] sections is explained")
    func singleTableInsteadOfArray() throws {
        let text = "name = \"t\"\nduration_s = 60\n[asset]\nsymbol = \"BTC\"\n"
        let error = try #require(loadError(text))
        #expect(error.field == "asset")
        #expect(error.message == "expected [[asset]] sections, found a table (write [[asset]], not [asset])")
    }

    @Test("a TOML syntax error keeps its file and line")
    func syntaxError() throws {
        let error = try #require(loadError(modifiedScenario(replacing: "traders = 10", with: "traders = [10")))
        #expect(error.file == "t.toml")
        #expect(error.line == line(of: "traders = [10", in: minimalScenario.replacingOccurrences(of: "traders = 10", with: "traders = [10")))
        #expect(error.field == nil)
        #expect(error.message.contains("unterminated array"))
    }

    @Test("an unreadable file names the path and the system's reason")
    func unreadableFile() throws {
        let path = "/nonexistent-crossclear-dir/oct10.toml"
        #expect(throws: ScenarioError(file: path, message: "cannot read scenario file (No such file or directory)")) {
            try Scenario.load(path: path)
        }
        do {
            _ = try Scenario.load(path: path)
        } catch {
            #expect(error.description == "\(path): cannot read scenario file (No such file or directory)")
        }
    }

    @Test("error descriptions leave out what does not apply")
    func errorDescriptions() {
        #expect(ScenarioError(file: "a.toml", line: 3, field: "seed", message: "bad").description == "a.toml:3: seed: bad")
        #expect(ScenarioError(file: "a.toml", field: "seed", message: "bad").description == "a.toml: seed: bad")
        #expect(ScenarioError(file: "a.toml", line: 3, message: "bad").description == "a.toml:3: bad")
    }
}

// MARK: - Overrides

@Suite("Scenario overrides")
struct ScenarioOverrideTests {
    @Test("KEY=VALUE parses; malformed text is an error")
    func parsing() throws {
        let override = try ScenarioOverride(parsing: " clearing.adl_policy = pnl-pro-rata ")
        #expect(override == ScenarioOverride(key: "clearing.adl_policy", value: "pnl-pro-rata"))
        #expect(try ScenarioOverride(parsing: "description=a=b").value == "a=b")
        for bad in ["seed", "=1", "seed=", "a..b=1", ".a=1"] {
            #expect(throws: ScenarioError.self, "\(bad)") { try ScenarioOverride(parsing: bad) }
        }
    }

    @Test("overrides change values, create absent tables and fields, and apply in order")
    func changeValues() throws {
        let scenario = try load(minimalScenario, overrides: [
            "seed=99",
            "population.traders=5000",
            "clearing.netting_credit_cap=0.5",
            "clearing.adl_policy=pnl-pro-rata",
            "venue.a.buffer_usd=1_000_000",
            "venue.1.depth_scale=0.25",
            "asset.BTC.beta=1.5",
            "asset.ETH.wick=0.2",
            "description=a calm day",
            "liquidity.max_walk_bps=100",
            "population.leverage_values=[2, 4]",
            "population.leverage_weights=[1, 3]",
            "seed=100",
        ])
        #expect(scenario.seed == 100)
        #expect(scenario.population.traders == 5000)
        #expect(scenario.clearing.nettingCreditCap == ratio("0.5"))
        #expect(scenario.clearing.adlPolicy == .pnlProRata)
        #expect(scenario.clearing.poolCover == 2)
        #expect(scenario.venues[0].buffer == Amount(whole: 1_000_000))
        #expect(scenario.venues[1].depthScale == ratio("0.25"))
        #expect(scenario.assets[0].beta == ratio("1.5"))
        #expect(scenario.assets[1].wick == ratio("0.2"))
        #expect(scenario.summary == "a calm day")
        #expect(scenario.liquidity.maxWalkBasisPoints == 100)
        #expect(scenario.population.leverage == WeightedChoice(values: [2, 4], weights: [1, 3]))
    }

    @Test("overrides work on a shipped scenario")
    func shippedOverride() throws {
        let overrides = [try ScenarioOverride(parsing: "venue.hyperliquid.buffer_usd=0"),
                         try ScenarioOverride(parsing: "seed=7")]
        let scenario = try Scenario.load(path: shippedScenarioPath("oct10"), overrides: overrides)
        #expect(scenario.venues[0].buffer == .zero)
        #expect(scenario.seed == 7)
    }

    @Test("a bad override key is an error naming the key, with a suggestion", arguments: [
        ("clearing.neting_credit_cap=0.5", "clearing.neting_credit_cap",
         "override: unknown field \"clearing.neting_credit_cap\" (did you mean \"clearing.netting_credit_cap\"?)"),
        ("sede=1", "sede", "override: unknown field \"sede\" (did you mean \"seed\"?)"),
        ("venue.a.bufer_usd=1", "venue.a.bufer_usd",
         "override: unknown field \"venue.a.bufer_usd\" (did you mean \"venue.a.buffer_usd\"?)"),
        ("venue.zzz.buffer_usd=1", "venue.zzz.buffer_usd",
         "override: no [[venue]] has name or symbol \"zzz\" (the file has: a, b)"),
        ("venue.5.buffer_usd=1", "venue.5.buffer_usd",
         "override: index 5 is out of range (the file has 2 [[venue]] sections)"),
        ("venue.buffer_usd=1", "venue.buffer_usd",
         "override: select one [[venue]] by its name, symbol or 0-based index, for example venue.hyperliquid.buffer_usd"),
        ("seed.x=1", "seed.x", "override: seed is a single value, not a table"),
        ("clearing=1", "clearing", "override: name one field of [clearing], for example clearing.netting_credit_cap"),
    ])
    func badKeys(text: String, field: String, message: String) throws {
        let error = try #require(loadError(minimalScenario, overrides: [text]))
        #expect(error.file == "t.toml")
        #expect(error.line == nil)
        #expect(error.field == field)
        #expect(error.message == message)
    }

    @Test("a bad override value is checked like a file value, without a line")
    func badValues() throws {
        let negative = try #require(loadError(minimalScenario, overrides: ["population.traders=-1"]))
        #expect(negative.line == nil)
        #expect(negative.field == "population.traders")
        #expect(negative.message == "must be between 0 and 10_000_000, got -1 (value set by an override)")

        let exponent = try #require(loadError(minimalScenario, overrides: ["seed=1e3"]))
        #expect(exponent.field == "seed")
        #expect(exponent.message.contains("exponent notation is not supported"))

        let word = try #require(loadError(minimalScenario, overrides: ["clearing.adl_policy=fair"]))
        #expect(word.message.hasPrefix("unknown ADL policy \"fair\""))
    }
}

// MARK: - CSV price paths

@Suite("CSV price paths")
struct PriceCSVTests {
    private static let csvScenario = modifiedScenario(
        replacing: "[price_path]\nkind = \"crash\"\nfall_s = 30\ndepth = 0.1\n",
        with: "[price_path]\nkind = \"csv\"\nfile = \"prices.csv\"\n")
        .replacingOccurrences(of: "start_price = 100\n", with: "")

    private func loadCSV(_ csv: String, scenarioText: String = csvScenario) throws -> Scenario {
        let directory = try temporaryDirectory(with: ["s.toml": scenarioText, "prices.csv": csv])
        defer { try? FileManager.default.removeItem(at: directory) }
        return try Scenario.load(path: directory.appendingPathComponent("s.toml").path)
    }

    private func csvError(_ csv: String, scenarioText: String = csvScenario) throws -> (ScenarioError, directory: String)? {
        let directory = try temporaryDirectory(with: ["s.toml": scenarioText, "prices.csv": csv])
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            _ = try Scenario.load(path: directory.appendingPathComponent("s.toml").path)
            Issue.record("expected a CSV error")
            return nil
        } catch {
            return (error, directory.path)
        }
    }

    @Test("points load sorted by time then asset index; start prices come from time 0")
    func loadsAndSorts() throws {
        let csv = """
        time_s,symbol,price
        60,ETH,9.5
        0,ETH,10
        60,BTC,95.25
        # a comment
        0,BTC,100

        30, BTC , 98
        """
        let scenario = try loadCSV(csv)
        guard case .series(let series) = scenario.pricePath else {
            Issue.record("expected a series path")
            return
        }
        #expect(series.file == "prices.csv")
        #expect(series.points == [
            PricePoint(timeSeconds: 0, asset: 0, price: Price(whole: 100)),
            PricePoint(timeSeconds: 0, asset: 1, price: Price(whole: 10)),
            PricePoint(timeSeconds: 30, asset: 0, price: Price(whole: 98)),
            PricePoint(timeSeconds: 60, asset: 0, price: try #require(Price(parsing: "95.25"))),
            PricePoint(timeSeconds: 60, asset: 1, price: try #require(Price(parsing: "9.5"))),
        ])
        #expect(scenario.assets[0].startPrice == Price(whole: 100))
        #expect(scenario.assets[1].startPrice == Price(whole: 10))
    }

    @Test("a start price in the file must agree with the CSV")
    func startPriceMustAgree() throws {
        let text = Self.csvScenario.replacingOccurrences(of: "start_price = 10\n", with: "start_price = 11\n")
        let result = try #require(try csvError("time_s,symbol,price\n0,BTC,100\n0,ETH,10\n", scenarioText: text))
        #expect(result.0.field == "asset[1].start_price")
        #expect(result.0.message.hasPrefix("11 differs from the CSV price at time_s 0 (10)"))
        #expect(try loadCSV("time_s,symbol,price\n0,BTC,100\n0,ETH,11\n", scenarioText: text).assets[1].startPrice
                == Price(whole: 11))
    }

    @Test("CSV errors name the CSV file and its line", arguments: [
        ("time,symbol,price\n0,BTC,1\n", 1, "expected the header time_s,symbol,price, found \"time,symbol,price\""),
        ("time_s,symbol,price\n0,BTC,100\n0,XRP,1\n", 3, "unknown asset \"XRP\" (assets are: BTC, ETH)"),
        ("time_s,symbol,price\n0,BTC,1e2\n", 2, "price: 1e2: exponent notation is not supported; write the number out in full"),
        ("time_s,symbol,price\n0,BTC,0\n", 2, "price must be > 0 and <= 10_000_000, got 0"),
        ("time_s,symbol,price\n0,BTC,1.123456789\n", 2, "price: 1.123456789 has 9 decimal places; at most 8 are allowed"),
        ("time_s,symbol,price\n-5,BTC,1\n", 2, "time_s must be a whole number of seconds >= 0, got \"-5\""),
        ("time_s,symbol,price\n0,BTC\n", 2, "expected 3 columns (time_s,symbol,price), found 2"),
        ("time_s,symbol,price\n0,BTC,1\n0,BTC,2\n", 3, "second price for BTC at time_s 0 (first on line 2)"),
    ])
    func csvErrors(csv: String, line: Int, message: String) throws {
        let (error, directory) = try #require(try csvError(csv))
        #expect(error.file == directory + "/prices.csv")
        #expect(error.line == line)
        #expect(error.field == "price_path.file")
        #expect(error.message == message)
    }

    @Test("every asset needs a point at time 0")
    func needsTimeZero() throws {
        let (error, _) = try #require(try csvError("time_s,symbol,price\n0,BTC,100\n5,ETH,10\n"))
        #expect(error.line == nil)
        #expect(error.message == "no price for ETH at time_s 0 (every asset needs one)")
    }

    @Test("a missing CSV file is reported at the scenario's file line")
    func missingCSV() throws {
        let directory = try temporaryDirectory(with: ["s.toml": Self.csvScenario])
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("s.toml").path
        do {
            _ = try Scenario.load(path: path)
            Issue.record("expected an error")
        } catch {
            #expect(error.file == path)
            #expect(error.line == line(of: "file = \"prices.csv\"", in: Self.csvScenario))
            #expect(error.field == "price_path.file")
            #expect(error.message == "cannot read price file \"\(directory.path)/prices.csv\" (No such file or directory)")
        }
    }
}
