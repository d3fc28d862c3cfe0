// Reading scenario files: TOML text -> overrides applied -> validated `Scenario`.
//
// Every key the format knows is listed once in `ScenarioSchema`; anything else in a file is an error
// (with a "did you mean" when a known key is close). Every value is range-checked, and every error
// names the file, the line and the field. The field reference is `Docs/scenarios.md`.

import CrossclearEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Loading

extension Scenario {
    /// Reads and validates the scenario file at `path`, after applying `overrides` in order.
    ///
    /// Errors name `path` as given; a price CSV is looked up relative to the scenario file's directory.
    public static func load(path: String, overrides: [ScenarioOverride] = []) throws(ScenarioError) -> Scenario {
        let text: String
        switch readTextFile(atPath: path) {
        case .success(let contents): text = contents
        case .failure(let failure):
            throw ScenarioError(file: path, message: "cannot read scenario file (\(failure.reason))")
        }
        return try parse(text: text, fileName: path, baseDirectory: directoryPart(of: path), overrides: overrides)
    }

    /// Parses and validates scenario text.
    ///
    /// - Parameters:
    ///   - text: The TOML document.
    ///   - fileName: How errors name the document, e.g. "oct10.toml".
    ///   - baseDirectory: Directory against which a relative `price_path.file` is resolved.
    ///   - overrides: `KEY=VALUE` changes applied to the document, in order, before it is validated.
    public static func parse(text: String, fileName: String, baseDirectory: String,
                             overrides: [ScenarioOverride] = []) throws(ScenarioError) -> Scenario {
        var document: TOMLTable
        do {
            document = try TOML.parse(text)
        } catch {
            throw ScenarioError(file: fileName, line: error.line, message: error.message)
        }
        for override in overrides {
            try override.apply(to: &document, fileName: fileName)
        }
        return try ScenarioDecoder(file: fileName, baseDirectory: baseDirectory).decode(document)
    }
}

// MARK: - Overrides

/// One `KEY=VALUE` change applied to a scenario document before it is validated (used by `--sweep`
/// and `--seed`).
///
/// `key` is a dotted path: `seed`, `population.traders`, `clearing.netting_credit_cap`, or, inside an
/// array of tables, the element's `name`/`symbol` or 0-based index then the field:
/// `venue.hyperliquid.buffer_usd`, `asset.BTC.beta`, `asset.0.beta`. `value` is a TOML value literal
/// (`0.5`, `"cex"`, `[1, 2]`); a bare word that is not valid TOML is taken as a string, so
/// `clearing.adl_policy=pnl-pro-rata` works. A field absent from the file is added; a table absent
/// from the file (such as `[clearing]`) is created.
public struct ScenarioOverride: Sendable, Hashable, CustomStringConvertible {
    /// Dotted path of the field.
    public var key: String
    /// TOML value literal, or a bare word taken as a string.
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// Parses `KEY=VALUE` (spaces around either part are ignored; the value may contain `=`).
    public init(parsing text: String) throws(ScenarioError) {
        guard let separator = text.firstIndex(of: "=") else {
            throw ScenarioError(file: "override", message:
                "expected KEY=VALUE (for example population.traders=5000), got \"\(text)\"")
        }
        let key = trimmingSpaces(text[..<separator])
        let value = trimmingSpaces(text[text.index(after: separator)...])
        guard !key.isEmpty, !key.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
            throw ScenarioError(file: "override", message:
                "\"\(text)\": the key must be a dotted path such as clearing.netting_credit_cap")
        }
        guard !value.isEmpty else {
            throw ScenarioError(file: "override", field: key, message: "missing value after \"=\"")
        }
        self.init(key: key, value: value)
    }

    public var description: String { "\(key)=\(value)" }

    /// The value as TOML, with line 0 (it did not come from the file).
    func parsedValue(fileName: String) throws(ScenarioError) -> TOMLValue {
        do {
            return try TOML.parseValue(value).settingLines(to: 0)
        } catch {
            if value.first?.isLetter == true {
                return TOMLValue(.string(value), line: 0)
            }
            throw ScenarioError(file: fileName, field: key, message: "invalid override value \"\(value)\": \(error.message)")
        }
    }

    /// Sets the field in `document`, creating a missing table or field the schema knows.
    func apply(to document: inout TOMLTable, fileName: String) throws(ScenarioError) {
        func failure(_ message: String) -> ScenarioError {
            ScenarioError(file: fileName, field: key, message: "override: " + message)
        }
        let segments = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let first = segments.first else { throw failure("empty key") }
        let value = try parsedValue(fileName: fileName)

        if ScenarioSchema.rootScalarKeys.contains(first) {
            guard segments.count == 1 else { throw failure("\(first) is a single value, not a table") }
            document.setValue(value, forKey: first, keyLine: 0)
        } else if let fields = ScenarioSchema.tableKeys[first] {
            guard segments.count == 2 else {
                throw failure("name one field of [\(first)], for example \(first).\(fields.first ?? "")")
            }
            guard fields.contains(segments[1]) else {
                throw failure(unknownFieldMessage(segments[1], among: fields, prefix: "\(first)."))
            }
            var table = TOMLTable(line: 0)
            if let existing = document[first] {
                guard let existingTable = existing.table, !existing.isArrayOfTables else {
                    throw failure("\(first) in the file is \(existing.typeDescription), not a table")
                }
                table = existingTable
            }
            table.setValue(value, forKey: segments[1], keyLine: 0)
            var updated = document[first] ?? TOMLValue(.table(table), line: 0)
            updated.kind = .table(table)
            document.setValue(updated, forKey: first, keyLine: 0)
        } else if let fields = ScenarioSchema.arrayTableKeys[first] {
            guard segments.count == 3 else {
                let example = first == "asset" ? "asset.BTC.beta" : "venue.hyperliquid.buffer_usd"
                throw failure("select one [[\(first)]] by its name, symbol or 0-based index, for example \(example)")
            }
            guard var array = document[first], var elements = array.array else {
                throw failure("the file has no [[\(first)]] sections")
            }
            let selector = segments[1]
            let index: Int
            if let number = Int(selector), selector.allSatisfy(\.isASCIIDigitForScenario) {
                guard number < elements.count else {
                    throw failure("index \(number) is out of range (the file has \(elements.count) [[\(first)]] sections)")
                }
                index = number
            } else if let found = elements.firstIndex(where: { element in
                element.table?["name"]?.string == selector || element.table?["symbol"]?.string == selector
            }) {
                index = found
            } else {
                let names = elements.compactMap { $0.table?["name"]?.string ?? $0.table?["symbol"]?.string }
                throw failure("no [[\(first)]] has name or symbol \"\(selector)\" (the file has: \(names.joined(separator: ", ")))")
            }
            guard fields.contains(segments[2]) else {
                throw failure(unknownFieldMessage(segments[2], among: fields, prefix: "\(first).\(selector)."))
            }
            guard var table = elements[index].table else {
                throw failure("\(first)[\(index)] is \(elements[index].typeDescription), not a table")
            }
            table.setValue(value, forKey: segments[2], keyLine: 0)
            elements[index].kind = .table(table)
            array.kind = .array(elements)
            document.setValue(array, forKey: first, keyLine: 0)
        } else {
            throw failure(unknownFieldMessage(first, among: ScenarioSchema.rootKeys, prefix: ""))
        }
    }
}

// MARK: - Schema

/// Every key the scenario format knows, per table.
private enum ScenarioSchema {
    static let rootScalarKeys = ["name", "description", "seed", "time_step_s", "duration_s"]
    static let rootKeys = rootScalarKeys + ["asset", "venue", "price_path", "liquidity", "oracle", "clearing", "population"]

    static let assetKeys = ["symbol", "class", "start_price", "beta", "wick", "depth_usd_per_bp", "trader_weight"]
    static let venueKeys = ["name", "profile", "markets", "buffer_usd", "buffer_oi_share", "assessment_capacity_usd",
                            "assessment_oi_share", "depth_scale", "trader_weight", "maker_capital_usd"]
    static let crashKeys = ["start_s", "fall_s", "depth", "wick_s", "recovery", "recovery_s"]
    static let csvKeys = ["file"]
    static let pricePathKeys = ["kind"] + crashKeys + csvKeys
    static let liquidityKeys = ["volatility_sensitivity", "minimum_depth", "resilience_per_s", "max_walk_bps",
                                "depth_reference_traders"]
    static let oracleKeys = ["sources", "source_noise_bps", "mark_band_bps"]
    static let clearingKeys = ["netting_credit_cap", "pool_cover", "stress_move", "pool_multiplier", "takeover_discount",
                               "fee_share_to_pool", "unwind_per_s", "unwind_max_slippage_bps", "adl_policy"]
    static let populationKeys = ["traders", "hedger_share", "long_share", "leverage_values", "leverage_weights",
                                 "hedger_leverage_values", "hedger_leverage_weights", "collateral_usd_values",
                                 "collateral_usd_weights", "market_makers_per_venue", "maker_leverage"]

    /// Plain tables and their fields.
    static let tableKeys: [String: [String]] = [
        "price_path": pricePathKeys, "liquidity": liquidityKeys, "oracle": oracleKeys,
        "clearing": clearingKeys, "population": populationKeys,
    ]
    /// Arrays of tables and their fields.
    static let arrayTableKeys: [String: [String]] = ["asset": assetKeys, "venue": venueKeys]

    // MARK: Limits

    static let maximumAssets = 256
    static let maximumVenues = 64
    static let maximumSteps: Int64 = 10_000_000
    static let maximumSeconds: Int64 = 1_000_000_000_000
    static let maximumWeight: Int64 = 1_000_000_000
    static let maximumPrice = Price(whole: 10_000_000)
    static let maximumDepth = Amount(whole: 1_000_000_000_000)
    static let maximumCapital = Amount(whole: 1_000_000_000_000)
    static let maximumCollateral = Amount(whole: 10_000_000_000)
    static let maximumArrayLength = 1_000
}

/// The two kinds of price path.
private enum PricePathKind: String, CaseIterable {
    case crash, csv
}

// MARK: - Decoding

/// Turns a parsed document into a validated `Scenario`.
private struct ScenarioDecoder {
    let file: String
    let baseDirectory: String

    init(file: String, baseDirectory: String) {
        self.file = file
        self.baseDirectory = baseDirectory
    }

    /// An asset before the price path is known (a CSV path may supply the start price).
    struct AssetDraft {
        var fields: FieldReader
        var symbol: String
        var assetClass: AssetClass
        var startPrice: Price?
        var beta: Ratio
        var wick: Ratio
        var depth: Amount
        var traderWeight: Int64
    }

    func decode(_ document: TOMLTable) throws(ScenarioError) -> Scenario {
        let root = try FieldReader(document, path: "", file: file, known: ScenarioSchema.rootKeys)

        guard let name = try root.string("name") else { throw root.missing("name") }
        guard !name.isEmpty else { throw root.invalid("name", "must not be empty") }
        let summary = try root.string("description") ?? ""
        let seed = try root.integer("seed", .atLeast(0)) ?? 1
        let timeStep = try root.integer("time_step_s", .between(1, 3600)) ?? 5
        guard let duration = try root.integer("duration_s", .above(0, atMost: ScenarioSchema.maximumSeconds)) else {
            throw root.missing("duration_s")
        }
        guard duration % timeStep == 0 else {
            throw root.invalid("duration_s", "must be a multiple of time_step_s (\(timeStep)), got \(grouped(duration))")
        }
        guard duration / timeStep <= ScenarioSchema.maximumSteps else {
            throw root.invalid("duration_s", "gives \(grouped(duration / timeStep)) steps of \(timeStep) s; "
                               + "at most \(grouped(ScenarioSchema.maximumSteps)) are allowed")
        }

        let drafts = try decodeAssets(root)
        let venues = try decodeVenues(root, symbols: drafts.map(\.symbol))
        let pricePath = try decodePricePath(root, symbols: drafts.map(\.symbol))
        let assets = try resolveStartPrices(drafts, pricePath: pricePath)

        let liquidity = try optionalTable(root, "liquidity", known: ScenarioSchema.liquidityKeys)
        let depthReference = try liquidity.integer("depth_reference_traders", .between(0, 10_000_000)) ?? 0
        return Scenario(
            name: name, summary: summary, seed: UInt64(seed), timeStepSeconds: timeStep, durationSeconds: duration,
            assets: assets, venues: venues, pricePath: pricePath,
            liquidity: try decodeLiquidity(root), depthReferenceTraders: Int(depthReference), oracle: try decodeOracle(root),
            clearing: try decodeClearing(root, venueCount: venues.count),
            population: try decodePopulation(root, venues: venues))
    }

    // MARK: Assets

    private func decodeAssets(_ root: FieldReader) throws(ScenarioError) -> [AssetDraft] {
        guard let value = root.value("asset") else {
            throw root.missing("asset", "missing: at least one [[asset]] section is required")
        }
        let tables = try root.diagnostics.tables(value, field: "asset", limit: ScenarioSchema.maximumAssets)
        var drafts: [AssetDraft] = []
        var firstUse: [String: String] = [:]
        for (index, table) in tables.enumerated() {
            let fields = try FieldReader(table, path: "asset[\(index)]", file: file, known: ScenarioSchema.assetKeys)
            guard let symbol = try fields.string("symbol") else { throw fields.missing("symbol") }
            guard (1...12).contains(symbol.count), symbol.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }) else {
                throw fields.invalid("symbol", "must be 1 to 12 characters of A-Z and 0-9, got \"\(symbol)\"")
            }
            if let earlier = firstUse[symbol] {
                throw fields.invalid("symbol", "duplicate symbol \"\(symbol)\" (also \(earlier))")
            }
            firstUse[symbol] = "asset[\(index)]" + lineSuffix(fields.value("symbol"))
            guard let assetClass: AssetClass = try fields.choice("class", what: "asset class") else {
                throw fields.missing("class")
            }
            let startPrice = try fields.number("start_price", .above(Price.zero, atMost: ScenarioSchema.maximumPrice))
            let beta = try fields.number("beta", .between(Ratio.zero, Ratio(whole: 5))) ?? .one
            let wick = try fields.number("wick", .between(Ratio.zero, Ratio(bps: 9_900))) ?? .zero
            guard let depth = try fields.number("depth_usd_per_bp", .above(Amount.zero, atMost: ScenarioSchema.maximumDepth)) else {
                throw fields.missing("depth_usd_per_bp")
            }
            let weight = try fields.integer("trader_weight", .between(0, ScenarioSchema.maximumWeight)) ?? 1
            drafts.append(AssetDraft(fields: fields, symbol: symbol, assetClass: assetClass, startPrice: startPrice,
                                     beta: beta, wick: wick, depth: depth, traderWeight: weight))
        }
        if let first = drafts.first, drafts.allSatisfy({ $0.traderWeight == 0 }) {
            throw first.fields.invalid("trader_weight", "every asset has trader_weight 0; at least one must be positive")
        }
        return drafts
    }

    /// Fills start prices from a CSV's time-0 points, or checks that the file's agree with them.
    private func resolveStartPrices(_ drafts: [AssetDraft], pricePath: PricePath) throws(ScenarioError) -> [AssetScenario] {
        var assets: [AssetScenario] = []
        for (index, draft) in drafts.enumerated() {
            let startPrice: Price
            switch pricePath {
            case .crash:
                guard let price = draft.startPrice else { throw draft.fields.missing("start_price") }
                startPrice = price
            case .series(let series):
                guard let first = series.points.first(where: { $0.asset == index && $0.timeSeconds == 0 }) else {
                    throw draft.fields.missing("start_price")
                }
                if let price = draft.startPrice, price != first.price {
                    throw draft.fields.invalid("start_price",
                        "\(grouped(price)) differs from the CSV price at time_s 0 (\(grouped(first.price))); "
                        + "leave start_price out to use the CSV's")
                }
                startPrice = first.price
            }
            let config = AssetConfig(symbol: draft.symbol, assetClass: draft.assetClass, depthPerBasisPoint: draft.depth)
            assets.append(AssetScenario(config: config, startPrice: startPrice, beta: draft.beta, wick: draft.wick,
                                        traderWeight: draft.traderWeight))
        }
        return assets
    }

    // MARK: Venues

    private func decodeVenues(_ root: FieldReader, symbols: [String]) throws(ScenarioError) -> [VenueScenario] {
        guard let value = root.value("venue") else {
            throw root.missing("venue", "missing: at least one [[venue]] section is required")
        }
        let tables = try root.diagnostics.tables(value, field: "venue", limit: ScenarioSchema.maximumVenues)
        var venues: [VenueScenario] = []
        var readers: [FieldReader] = []
        var firstUse: [String: String] = [:]
        for (index, table) in tables.enumerated() {
            let fields = try FieldReader(table, path: "venue[\(index)]", file: file, known: ScenarioSchema.venueKeys)
            guard let name = try fields.string("name") else { throw fields.missing("name") }
            guard (1...32).contains(name.count),
                  name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
                throw fields.invalid("name", "must be 1 to 32 characters of a-z, 0-9 and -, got \"\(name)\"")
            }
            if let earlier = firstUse[name] {
                throw fields.invalid("name", "duplicate venue name \"\(name)\" (also \(earlier))")
            }
            firstUse[name] = "venue[\(index)]" + lineSuffix(fields.value("name"))
            guard let profile: VenueProfileKind = try fields.choice("profile", what: "profile") else {
                throw fields.missing("profile")
            }
            let markets = try decodeMarkets(fields, symbols: symbols)
            let buffer = try fields.number("buffer_usd", .between(Amount.zero, ScenarioSchema.maximumCapital)) ?? .zero
            let bufferShare = try fields.number("buffer_oi_share", .between(Ratio.zero, Ratio.one)) ?? .zero
            let assessment = try fields.number("assessment_capacity_usd",
                                               .between(Amount.zero, ScenarioSchema.maximumCapital)) ?? .zero
            let assessmentShare = try fields.number("assessment_oi_share", .between(Ratio.zero, Ratio.one)) ?? .zero
            let depthScale = try fields.number("depth_scale", .above(Ratio.zero, atMost: Ratio(whole: 100))) ?? .one
            let weight = try fields.integer("trader_weight", .between(0, ScenarioSchema.maximumWeight)) ?? 1
            let makerCapital = try fields.number("maker_capital_usd", .above(Amount.zero, atMost: ScenarioSchema.maximumCapital))
                ?? Amount(whole: 1_000_000_000)
            venues.append(VenueScenario(name: name, profile: profile, markets: markets, buffer: buffer,
                                        bufferShareOfOpenInterest: bufferShare, assessmentCapacity: assessment,
                                        assessmentShareOfOpenInterest: assessmentShare, depthScale: depthScale,
                                        traderWeight: weight, makerCapital: makerCapital))
            readers.append(fields)
        }
        if let first = readers.first, venues.allSatisfy({ $0.traderWeight == 0 }) {
            throw first.invalid("trader_weight", "every venue has trader_weight 0; at least one must be positive")
        }
        return venues
    }

    private func decodeMarkets(_ fields: FieldReader, symbols: [String]) throws(ScenarioError) -> [String] {
        guard let value = fields.value("markets") else { throw fields.missing("markets") }
        let field = fields.field("markets")
        let elements = try fields.diagnostics.array(value, field: field)
        guard !elements.isEmpty else {
            throw fields.diagnostics.error(value, field: field, "must list at least one asset symbol")
        }
        var markets: [String] = []
        for (index, element) in elements.enumerated() {
            let elementField = "\(field)[\(index)]"
            let symbol = try fields.diagnostics.string(element, field: elementField)
            guard symbols.contains(symbol) else {
                var message = "unknown asset \"\(symbol)\" (assets are: \(symbols.joined(separator: ", ")))"
                if let close = closestMatch(to: symbol, among: symbols) { message += "; did you mean \"\(close)\"?" }
                throw fields.diagnostics.error(element, field: elementField, message)
            }
            guard !markets.contains(symbol) else {
                throw fields.diagnostics.error(element, field: elementField, "\"\(symbol)\" is listed twice")
            }
            markets.append(symbol)
        }
        return markets
    }

    // MARK: Price path

    private func decodePricePath(_ root: FieldReader, symbols: [String]) throws(ScenarioError) -> PricePath {
        guard let value = root.value("price_path") else {
            throw root.missing("price_path", "missing: a [price_path] table is required")
        }
        let table = try root.diagnostics.table(value, field: "price_path")
        let fields = try FieldReader(table, path: "price_path", file: file, known: ScenarioSchema.pricePathKeys)
        guard let kind: PricePathKind = try fields.choice("kind", what: "price path kind") else {
            throw fields.missing("kind")
        }
        let foreignKeys = kind == .crash ? ScenarioSchema.csvKeys : ScenarioSchema.crashKeys
        for key in foreignKeys where fields.value(key) != nil {
            let otherKind = kind == .crash ? "csv" : "crash"
            throw fields.invalid(key, "applies only to kind = \"\(otherKind)\" (this path is kind = \"\(kind.rawValue)\")")
        }

        switch kind {
        case .crash:
            let seconds = Bounds<Int64>.between(0, ScenarioSchema.maximumSeconds)
            let start = try fields.integer("start_s", seconds) ?? 0
            guard let fall = try fields.integer("fall_s", .above(0, atMost: ScenarioSchema.maximumSeconds)) else {
                throw fields.missing("fall_s")
            }
            guard let depth = try fields.number("depth", .between(Ratio.zero, Ratio(bps: 9_900))) else {
                throw fields.missing("depth")
            }
            let wickSeconds = try fields.integer("wick_s", seconds) ?? 0
            let recovery = try fields.number("recovery", .between(Ratio.zero, Ratio.one)) ?? .zero
            let recoverySeconds = try fields.integer("recovery_s", seconds) ?? 0
            return .crash(CrashPath(startSeconds: start, fallSeconds: fall, depth: depth, wickSeconds: wickSeconds,
                                    recovery: recovery, recoverySeconds: recoverySeconds))
        case .csv:
            guard let fileValue = fields.value("file"), let name = try fields.string("file") else {
                throw fields.missing("file")
            }
            guard !name.isEmpty else { throw fields.invalid("file", "must name a CSV file") }
            let points = try readPriceCSV(named: name, fileValue: fileValue, field: fields.field("file"), symbols: symbols)
            return .series(PriceSeries(file: name, points: points))
        }
    }

    /// Reads `time_s,symbol,price` rows; errors name the CSV file and its line.
    private func readPriceCSV(named name: String, fileValue: TOMLValue, field: String,
                              symbols: [String]) throws(ScenarioError) -> [PricePoint] {
        let path = joinPath(baseDirectory, name)
        let text: String
        switch readTextFile(atPath: path) {
        case .success(let contents): text = contents
        case .failure(let failure):
            throw ScenarioError(file: file, line: fileValue.line > 0 ? fileValue.line : nil, field: field,
                                message: "cannot read price file \"\(path)\" (\(failure.reason))")
        }
        func failure(_ line: Int?, _ message: String) -> ScenarioError {
            ScenarioError(file: path, line: line, field: field, message: message)
        }

        var points: [PricePoint] = []
        var firstLine: [PointKey: Int] = [:]
        var sawHeader = false
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            let content = trimmingSpaces(rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine)
            if content.isEmpty || content.hasPrefix("#") { continue }
            let columns = content.split(separator: ",", omittingEmptySubsequences: false).map { trimmingSpaces($0) }
            guard sawHeader else {
                guard columns == ["time_s", "symbol", "price"] else {
                    throw failure(lineNumber, "expected the header time_s,symbol,price, found \"\(content)\"")
                }
                sawHeader = true
                continue
            }
            guard columns.count == 3 else {
                throw failure(lineNumber, "expected 3 columns (time_s,symbol,price), found \(columns.count)")
            }
            guard columns[0].allSatisfy(\.isASCIIDigitForScenario), let time = Int64(columns[0]),
                  time <= ScenarioSchema.maximumSeconds else {
                throw failure(lineNumber, "time_s must be a whole number of seconds >= 0, got \"\(columns[0])\"")
            }
            guard let asset = symbols.firstIndex(of: columns[1]) else {
                throw failure(lineNumber, "unknown asset \"\(columns[1])\" (assets are: \(symbols.joined(separator: ", ")))")
            }
            let price: Price
            switch exactNumber(columns[2], as: Price.self) {
            case .success(let parsed): price = parsed
            case .failure(let problem): throw failure(lineNumber, "price: \(problem.reason)")
            }
            let bounds = Bounds<Price>.above(.zero, atMost: ScenarioSchema.maximumPrice)
            guard bounds.contains(price) else {
                throw failure(lineNumber, "price \(bounds.requirement(describe: grouped)), got \(grouped(price))")
            }
            let key = PointKey(time: time, asset: asset)
            if let earlier = firstLine[key] {
                throw failure(lineNumber, "second price for \(columns[1]) at time_s \(time) (first on line \(earlier))")
            }
            firstLine[key] = lineNumber
            points.append(PricePoint(timeSeconds: time, asset: asset, price: price))
        }
        guard sawHeader else { throw failure(nil, "the file is empty; expected the header time_s,symbol,price") }
        for (index, symbol) in symbols.enumerated() where firstLine[PointKey(time: 0, asset: index)] == nil {
            throw failure(nil, "no price for \(symbol) at time_s 0 (every asset needs one)")
        }
        return points.sorted { ($0.timeSeconds, $0.asset) < ($1.timeSeconds, $1.asset) }
    }

    private struct PointKey: Hashable {
        var time: Int64
        var asset: Int
    }

    // MARK: Liquidity, oracle, clearing

    /// The reader of an optional table, or of an empty one when the file leaves it out.
    private func optionalTable(_ root: FieldReader, _ key: String, known: [String]) throws(ScenarioError) -> FieldReader {
        guard let value = root.value(key) else {
            return try FieldReader(TOMLTable(line: 0), path: key, file: file, known: known)
        }
        return try FieldReader(root.diagnostics.table(value, field: key), path: key, file: file, known: known)
    }

    private func decodeLiquidity(_ root: FieldReader) throws(ScenarioError) -> LiquidityConfig {
        let fields = try optionalTable(root, "liquidity", known: ScenarioSchema.liquidityKeys)
        return LiquidityConfig(
            volatilitySensitivity: try fields.number("volatility_sensitivity", .between(Ratio.zero, Ratio(whole: 1000)))
                ?? Ratio(whole: 10),
            minimumDepth: try fields.number("minimum_depth", .between(Ratio.zero, Ratio.one)) ?? Ratio(bps: 200),
            resiliencePerSecond: try fields.number("resilience_per_s", .between(Ratio.zero, Ratio.one)) ?? Ratio(bps: 500),
            maxWalkBasisPoints: try fields.integer("max_walk_bps", .between(1, 10_000)) ?? 2_000)
    }

    private func decodeOracle(_ root: FieldReader) throws(ScenarioError) -> OracleConfig {
        let fields = try optionalTable(root, "oracle", known: ScenarioSchema.oracleKeys)
        return OracleConfig(
            sources: Int(try fields.integer("sources", .between(1, 15)) ?? 3),
            sourceNoiseBasisPoints: try fields.integer("source_noise_bps", .between(0, 1_000)) ?? 5,
            markBandBasisPoints: try fields.integer("mark_band_bps", .between(0, 10_000)) ?? 0)
    }

    private func decodeClearing(_ root: FieldReader, venueCount: Int) throws(ScenarioError) -> ClearingConfig {
        let fields = try optionalTable(root, "clearing", known: ScenarioSchema.clearingKeys)
        var poolCover = Int64(min(2, venueCount))
        if let value = fields.value("pool_cover") {
            poolCover = try fields.diagnostics.integer(value, field: fields.field("pool_cover"), .atLeast(1))
            guard poolCover <= Int64(venueCount) else {
                throw fields.invalid("pool_cover", "must be between 1 and \(venueCount) (the number of venues), got \(poolCover)")
            }
        }
        return ClearingConfig(
            nettingCreditCap: try fields.number("netting_credit_cap", .between(Ratio.zero, Ratio.one)) ?? Ratio(bps: 8_000),
            poolCover: Int(poolCover),
            stressMove: try fields.number("stress_move", .between(Ratio(bps: 100), Ratio(bps: 9_900))) ?? Ratio(bps: 2_500),
            poolMultiplier: try fields.number("pool_multiplier", .between(Ratio.zero, Ratio(whole: 10))) ?? .one,
            takeoverDiscount: try fields.number("takeover_discount", .between(Ratio.zero, Ratio(bps: 5_000))) ?? .zero,
            feeShareToPool: try fields.number("fee_share_to_pool", .between(Ratio.zero, Ratio.one)) ?? Ratio(bps: 5_000),
            unwindPerSecond: try fields.number("unwind_per_s", .between(Ratio.zero, Ratio.one)) ?? Ratio(bps: 100),
            unwindMaxSlippageBasisPoints: try fields.integer("unwind_max_slippage_bps", .between(0, 10_000)) ?? 100,
            adlPolicy: try fields.choice("adl_policy", what: "ADL policy"))
    }

    // MARK: Population

    private func decodePopulation(_ root: FieldReader, venues: [VenueScenario]) throws(ScenarioError) -> Population {
        guard let value = root.value("population") else {
            throw root.missing("population", "missing: a [population] table is required")
        }
        let fields = try FieldReader(root.diagnostics.table(value, field: "population"), path: "population",
                                     file: file, known: ScenarioSchema.populationKeys)
        guard let traders = try fields.integer("traders", .between(0, 10_000_000)) else { throw fields.missing("traders") }
        let hedgerShare = try fields.number("hedger_share", .between(Ratio.zero, Ratio.one)) ?? Ratio(bps: 3_000)
        if hedgerShare.isPositive {
            var listings: [String: Int] = [:]
            for venue in venues {
                for market in venue.markets { listings[market, default: 0] += 1 }
            }
            guard listings.values.contains(where: { $0 >= 2 }) else {
                throw fields.invalid("hedger_share", "hedgers trade one asset on two venues, but no asset is listed on "
                                     + "two venues (list one on a second venue, or set hedger_share = 0)")
            }
        }
        let longShare = try fields.number("long_share", .between(Ratio.zero, Ratio.one)) ?? Ratio(bps: 5_000)

        let leverageBounds = Bounds<Int64>.between(1, 200)
        let diagnostics = fields.diagnostics
        let leverage = try weightedChoice(
            fields, valuesKey: "leverage_values", weightsKey: "leverage_weights",
            defaults: WeightedChoice(values: [1, 2, 3, 5, 10, 20], weights: [10, 15, 25, 25, 15, 10])
        ) { (value: TOMLValue, field: String) throws(ScenarioError) -> Int64 in
            try diagnostics.integer(value, field: field, leverageBounds)
        }
        let hedgerLeverage = try weightedChoice(
            fields, valuesKey: "hedger_leverage_values", weightsKey: "hedger_leverage_weights",
            defaults: WeightedChoice(values: [1, 2, 3, 5], weights: [30, 30, 30, 10])
        ) { (value: TOMLValue, field: String) throws(ScenarioError) -> Int64 in
            try diagnostics.integer(value, field: field, leverageBounds)
        }
        let collateral = try weightedChoice(
            fields, valuesKey: "collateral_usd_values", weightsKey: "collateral_usd_weights",
            defaults: WeightedChoice(values: [Amount(whole: 1_000), Amount(whole: 10_000), Amount(whole: 100_000)],
                                     weights: [60, 30, 10])
        ) { (value: TOMLValue, field: String) throws(ScenarioError) -> Amount in
            try diagnostics.number(value, field: field, .above(Amount.zero, atMost: ScenarioSchema.maximumCollateral))
        }
        let makers = try fields.integer("market_makers_per_venue", .between(1, 1_000)) ?? 10
        let makerLeverage = try fields.integer("maker_leverage", .between(1, 50)) ?? 3
        return Population(traders: Int(traders), hedgerShare: hedgerShare, longShare: longShare, leverage: leverage,
                          hedgerLeverage: hedgerLeverage, collateral: collateral, marketMakersPerVenue: Int(makers),
                          makerLeverage: makerLeverage)
    }

    /// A `*_values` / `*_weights` pair: same length, not empty, weights >= 0 with a positive sum.
    /// Values without weights is an error; weights without values reweight the default values.
    private func weightedChoice<Value: Sendable & Hashable>(
        _ fields: FieldReader, valuesKey: String, weightsKey: String, defaults: WeightedChoice<Value>,
        element: (TOMLValue, String) throws(ScenarioError) -> Value
    ) throws(ScenarioError) -> WeightedChoice<Value> {
        let diagnostics = fields.diagnostics
        let valuesValue = fields.value(valuesKey)
        let weightsValue = fields.value(weightsKey)

        var values = defaults.values
        if let valuesValue {
            let field = fields.field(valuesKey)
            let elements = try diagnostics.array(valuesValue, field: field)
            guard !elements.isEmpty else { throw diagnostics.error(valuesValue, field: field, "must not be empty") }
            guard elements.count <= ScenarioSchema.maximumArrayLength else {
                throw diagnostics.error(valuesValue, field: field,
                                        "has \(elements.count) entries; at most \(ScenarioSchema.maximumArrayLength) are allowed")
            }
            values = []
            for (index, item) in elements.enumerated() {
                values.append(try element(item, "\(field)[\(index)]"))
            }
        }

        guard let weightsValue else {
            if let valuesValue {
                throw ScenarioError(file: file, line: valuesValue.line > 0 ? valuesValue.line : nil,
                                    field: fields.field(weightsKey),
                                    message: "missing: required when \(valuesKey) is given (one weight per value)")
            }
            return defaults
        }
        let field = fields.field(weightsKey)
        let elements = try diagnostics.array(weightsValue, field: field)
        var weights: [Int64] = []
        for (index, item) in elements.enumerated() {
            weights.append(try diagnostics.integer(item, field: "\(field)[\(index)]", .between(0, ScenarioSchema.maximumWeight)))
        }
        guard weights.count == values.count else {
            let source = valuesValue == nil ? "the default \(valuesKey)" : valuesKey
            throw diagnostics.error(weightsValue, field: field,
                                    "has \(weights.count) weights but \(source) has \(values.count) values")
        }
        guard weights.contains(where: { $0 > 0 }) else {
            throw diagnostics.error(weightsValue, field: field, "weights must not all be zero")
        }
        return WeightedChoice(values: values, weights: weights)
    }

    private func lineSuffix(_ value: TOMLValue?) -> String {
        guard let value, value.line > 0 else { return "" }
        return " on line \(value.line)"
    }
}

// MARK: - Reading fields

/// Converts TOML values into checked scenario values; every error names the file, line and field.
private struct Diagnostics {
    let file: String

    /// An error about `value` (its line; or, for a value an override supplied, no line and a note).
    func error(_ value: TOMLValue, field: String, _ message: String) -> ScenarioError {
        if value.line > 0 {
            return ScenarioError(file: file, line: value.line, field: field, message: message)
        }
        return ScenarioError(file: file, field: field, message: message + " (value set by an override)")
    }

    func string(_ value: TOMLValue, field: String) throws(ScenarioError) -> String {
        guard case .string(let text) = value.kind else {
            throw error(value, field: field, "expected a string, found \(value.typeDescription)")
        }
        return text
    }

    func integer(_ value: TOMLValue, field: String, _ bounds: Bounds<Int64>) throws(ScenarioError) -> Int64 {
        guard case .integer(let number) = value.kind else {
            throw error(value, field: field, "expected an integer, found \(value.typeDescription)")
        }
        guard bounds.contains(number) else {
            throw error(value, field: field, "\(bounds.requirement(describe: grouped)), got \(grouped(number))")
        }
        return number
    }

    /// An exact fixed-point number; integers are accepted wherever a decimal is.
    func number<Number: FixedPointDecimal>(_ value: TOMLValue, field: String,
                                           _ bounds: Bounds<Number>) throws(ScenarioError) -> Number {
        let text: String
        switch value.kind {
        case .integer(let number): text = String(number)
        case .decimal(let source): text = source
        default: throw error(value, field: field, "expected a number, found \(value.typeDescription)")
        }
        switch exactNumber(text, as: Number.self) {
        case .success(let number):
            guard bounds.contains(number) else {
                throw error(value, field: field, "\(bounds.requirement(describe: grouped)), got \(grouped(number))")
            }
            return number
        case .failure(let problem):
            throw error(value, field: field, problem.reason)
        }
    }

    /// One of an enumeration's raw values.
    func choice<Choice: CaseIterable & RawRepresentable>(_ value: TOMLValue, field: String,
                                                         what: String) throws(ScenarioError) -> Choice
        where Choice.RawValue == String {
        let text = try string(value, field: field)
        guard let choice = Choice(rawValue: text) else {
            let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw error(value, field: field, "unknown \(what) \"\(text)\" (expected one of: \(allowed))")
        }
        return choice
    }

    func array(_ value: TOMLValue, field: String) throws(ScenarioError) -> [TOMLValue] {
        guard let elements = value.array else {
            throw error(value, field: field, "expected an array, found \(value.typeDescription)")
        }
        return elements
    }

    func table(_ value: TOMLValue, field: String) throws(ScenarioError) -> TOMLTable {
        guard !value.isArrayOfTables, let table = value.table else {
            throw error(value, field: field,
                        "expected a table ([\(field)]), found \(value.typeDescription)"
                        + (value.isArrayOfTables ? " (write [\(field)], not [[\(field)]])" : ""))
        }
        return table
    }

    /// `[[name]]` sections (or an array of inline tables).
    func tables(_ value: TOMLValue, field: String, limit: Int) throws(ScenarioError) -> [TOMLTable] {
        guard let elements = value.array else {
            throw error(value, field: field, "expected [[\(field)]] sections, found \(value.typeDescription)"
                        + (value.table != nil ? " (write [[\(field)]], not [\(field)])" : ""))
        }
        guard !elements.isEmpty else { throw error(value, field: field, "at least one [[\(field)]] is required") }
        guard elements.count <= limit else {
            throw error(value, field: field, "\(elements.count) [[\(field)]] sections; at most \(limit) are allowed")
        }
        var tables: [TOMLTable] = []
        for (index, element) in elements.enumerated() {
            guard let table = element.table else {
                throw error(element, field: "\(field)[\(index)]", "expected a table, found \(element.typeDescription)")
            }
            tables.append(table)
        }
        return tables
    }
}

/// One table being read: rejects unknown keys up front, then reads fields by name.
private struct FieldReader {
    let table: TOMLTable
    /// Field path of the table ("" for the root, "venue[1]", "clearing").
    let path: String
    let diagnostics: Diagnostics

    init(_ table: TOMLTable, path: String, file: String, known: [String]) throws(ScenarioError) {
        self.table = table
        self.path = path
        self.diagnostics = Diagnostics(file: file)
        for entry in table.entries where !known.contains(entry.key) {
            let kind = entry.value.table != nil || entry.value.isArrayOfTables ? "table" : "field"
            var message = "unknown \(kind)"
            if let close = closestMatch(to: entry.key, among: known) { message += " (did you mean \"\(close)\"?)" }
            throw ScenarioError(file: file, line: entry.keyLine > 0 ? entry.keyLine : nil, field: field(entry.key),
                                message: message)
        }
    }

    /// Full path of one of this table's fields.
    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func value(_ key: String) -> TOMLValue? { table[key] }

    /// A required field is absent: the error points at the table's header (no line for the root).
    func missing(_ key: String, _ message: String = "missing required field") -> ScenarioError {
        let line = path.isEmpty || table.line <= 0 ? nil : table.line
        return ScenarioError(file: diagnostics.file, line: line, field: field(key), message: message)
    }

    /// A present field's value is wrong (pointing at its line, or at the table when it is absent).
    func invalid(_ key: String, _ message: String) -> ScenarioError {
        guard let value = value(key) else { return missing(key, message) }
        return diagnostics.error(value, field: field(key), message)
    }

    func string(_ key: String) throws(ScenarioError) -> String? {
        guard let value = value(key) else { return nil }
        return try diagnostics.string(value, field: field(key))
    }

    func integer(_ key: String, _ bounds: Bounds<Int64>) throws(ScenarioError) -> Int64? {
        guard let value = value(key) else { return nil }
        return try diagnostics.integer(value, field: field(key), bounds)
    }

    func number<Number: FixedPointDecimal>(_ key: String, _ bounds: Bounds<Number>) throws(ScenarioError) -> Number? {
        guard let value = value(key) else { return nil }
        return try diagnostics.number(value, field: field(key), bounds)
    }

    func choice<Choice: CaseIterable & RawRepresentable>(_ key: String, what: String) throws(ScenarioError) -> Choice?
        where Choice.RawValue == String {
        guard let value = value(key) else { return nil }
        return try diagnostics.choice(value, field: field(key), what: what)
    }
}

/// An allowed range, with its wording for error messages.
private struct Bounds<Value: Comparable> {
    var lower: Value?
    var lowerIsExclusive = false
    var upper: Value?

    /// `lower ... upper`.
    static func between(_ lower: Value, _ upper: Value) -> Bounds { Bounds(lower: lower, upper: upper) }
    /// `lower ...`.
    static func atLeast(_ lower: Value) -> Bounds { Bounds(lower: lower) }
    /// Greater than `lower`, and at most `upper` if given.
    static func above(_ lower: Value, atMost upper: Value? = nil) -> Bounds {
        Bounds(lower: lower, lowerIsExclusive: true, upper: upper)
    }

    func contains(_ value: Value) -> Bool {
        if let lower, lowerIsExclusive ? value <= lower : value < lower { return false }
        if let upper, value > upper { return false }
        return true
    }

    /// "must be between 0 and 5", "must be > 0 and <= 10_000_000", "must be >= 0".
    func requirement(describe: (Value) -> String) -> String {
        switch (lower, upper) {
        case let (lower?, upper?):
            lowerIsExclusive ? "must be > \(describe(lower)) and <= \(describe(upper))"
                : "must be between \(describe(lower)) and \(describe(upper))"
        case let (lower?, nil): lowerIsExclusive ? "must be > \(describe(lower))" : "must be >= \(describe(lower))"
        case let (nil, upper?): "must be <= \(describe(upper))"
        case (nil, nil): "is out of range"
        }
    }
}

// MARK: - Exact numbers

/// Why a number's text does not fit a fixed-point type.
private struct NumberProblem: Error {
    var reason: String
}

/// Parses decimal text exactly, explaining a failure (exponent, too many decimals, out of range).
private func exactNumber<Number: FixedPointDecimal>(_ text: String, as type: Number.Type) -> Result<Number, NumberProblem> {
    if let number = Number(parsing: text) { return .success(number) }
    let body = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
    if body.contains(where: { $0 == "e" || $0 == "E" }), body.first?.isASCIIDigitForScenario == true {
        return .failure(NumberProblem(reason: "\(text): exponent notation is not supported; write the number out in full"))
    }
    let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    guard !body.isEmpty, parts.allSatisfy({ $0.allSatisfy { $0.isASCIIDigitForScenario || $0 == "_" } }) else {
        return .failure(NumberProblem(reason: "expected a decimal number, found \"\(text)\""))
    }
    if parts.count == 2, parts[1].filter({ $0 != "_" }).count > Number.decimals {
        return .failure(NumberProblem(reason:
            "\(text) has \(parts[1].filter { $0 != "_" }.count) decimal places; at most \(Number.decimals) are allowed"))
    }
    return .failure(NumberProblem(reason: "\(text) is out of range"))
}

// MARK: - Suggestions

/// "unknown field (did you mean "prefix.close"?)" for overrides.
private func unknownFieldMessage(_ key: String, among known: [String], prefix: String) -> String {
    guard let close = closestMatch(to: key, among: known) else { return "unknown field \"\(prefix)\(key)\"" }
    return "unknown field \"\(prefix)\(key)\" (did you mean \"\(prefix)\(close)\"?)"
}

/// The candidate closest to `word` by edit distance, if within 2 (first one wins a tie).
private func closestMatch(to word: String, among candidates: [String]) -> String? {
    var best: (candidate: String, distance: Int)?
    for candidate in candidates {
        let distance = editDistance(word, candidate)
        if distance <= 2, distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
    }
    return best?.candidate
}

/// Levenshtein distance over Unicode scalars.
private func editDistance(_ lhs: String, _ rhs: String) -> Int {
    let left = Array(lhs.unicodeScalars)
    let right = Array(rhs.unicodeScalars)
    guard !left.isEmpty else { return right.count }
    guard !right.isEmpty else { return left.count }
    var previous = Array(0...right.count)
    var current = Array(repeating: 0, count: right.count + 1)
    for i in 1...left.count {
        current[0] = i
        for j in 1...right.count {
            let substitution = previous[j - 1] + (left[i - 1] == right[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[right.count]
}

// MARK: - Text helpers

/// Groups the whole part of a number's text in thousands with `_` when it has more than 4 digits:
/// "10000000" -> "10_000_000", "-12345.5" -> "-12_345.5".
private func grouped(_ text: String) -> String {
    let negative = text.hasPrefix("-")
    let body = negative ? String(text.dropFirst()) : text
    let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    let whole = Array(parts[0])
    guard whole.count > 4 else { return text }
    var result = ""
    for (index, digit) in whole.enumerated() {
        if index > 0, (whole.count - index) % 3 == 0 { result.append("_") }
        result.append(digit)
    }
    if parts.count == 2 { result += "." + parts[1] }
    return (negative ? "-" : "") + result
}

private func grouped(_ number: Int64) -> String { grouped(String(number)) }
private func grouped<Number: FixedPointDecimal>(_ number: Number) -> String { grouped(number.description) }

private func trimmingSpaces(_ text: Substring) -> String {
    var slice = text
    while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
    while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
    return String(slice)
}

extension Character {
    /// An ASCII digit 0-9.
    fileprivate var isASCIIDigitForScenario: Bool { isASCII && isWholeNumber }
}

// MARK: - Files

/// Why a file could not be read, e.g. "No such file or directory".
private struct FileReadFailure: Error {
    var reason: String
}

/// Largest scenario or price file accepted.
private let maximumFileBytes = 256 << 20

/// Reads a whole UTF-8 text file.
private func readTextFile(atPath path: String) -> Result<String, FileReadFailure> {
    guard let handle = fopen(path, "rb") else {
        return .failure(FileReadFailure(reason: systemErrorMessage(errno)))
    }
    defer { fclose(handle) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, handle) }
        bytes.append(contentsOf: buffer[0..<count])
        guard bytes.count <= maximumFileBytes else {
            return .failure(FileReadFailure(reason: "larger than \(maximumFileBytes >> 20) MiB"))
        }
        if count < buffer.count {
            if ferror(handle) != 0 { return .failure(FileReadFailure(reason: systemErrorMessage(errno))) }
            break
        }
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
        return .failure(FileReadFailure(reason: "not valid UTF-8 text"))
    }
    return .success(text)
}

private func systemErrorMessage(_ code: Int32) -> String {
    guard let message = strerror(code) else { return "error \(code)" }
    return String(cString: message)
}

/// The directory part of a path ("." when it has none).
private func directoryPart(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let directory = String(path[..<slash])
    return directory.isEmpty ? "/" : directory
}

/// `name` resolved against `directory` unless it is absolute.
private func joinPath(_ directory: String, _ name: String) -> String {
    if name.hasPrefix("/") || directory.isEmpty || directory == "." { return name }
    return directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
