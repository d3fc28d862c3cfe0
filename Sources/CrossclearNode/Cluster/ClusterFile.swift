import CrossclearEngine
import CrossclearSimulation
import Foundation

/// Where a node listens (the clearing node) or is reached.
public struct NodeAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// One venue node of a cluster.
public struct ClusterVenue: Sendable, Hashable {
    /// The venue's name, as in the scenario and in its certificate (`venue:<name>`).
    public var name: String
    public var profile: VenueProfileKind
    /// Symbols of the assets it lists.
    public var markets: [String]
    public var address: NodeAddress
}

/// A cluster file: the nodes and where they are, the scenario they drive, the clearing design and
/// the state directory (SQLite files, certificates, logs). Format and defaults in `Docs/cluster.md`.
public struct ClusterFile: Sendable {
    /// Cluster name, e.g. "demo".
    public var name: String
    /// The scenario the venues drive, with the cluster's venues (and their profile and market
    /// overrides) in place of the scenario's own.
    public var scenario: Scenario
    public var design: ClearingDesign
    /// Simulated seconds per real second.
    public var speed: Int64
    /// Directory for databases, certificates and logs.
    public var stateDirectory: String
    public var clearing: NodeAddress
    /// What the clearing node does with a stale venue's last state.
    public var stalePolicy: StalePolicy
    /// How often every node sends a heartbeat, and after how long without one a peer is stale.
    public var heartbeat: Duration
    public var staleAfter: Duration
    public var venues: [ClusterVenue]

    /// The certificate directory inside the state directory.
    public var certificates: CertificateDirectory { CertificateDirectory(stateDirectory: stateDirectory) }

    /// Every node of the cluster, the clearing node first.
    public var nodes: [(identity: NodeIdentity, address: NodeAddress)] {
        get throws { [(.clearing, clearing)] + (try venues.map { (try NodeIdentity.venue($0.name), $0.address) }) }
    }

    /// Reads and validates a cluster file; errors name the file, line and field.
    public static func load(path: String) throws(ScenarioError) -> ClusterFile {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ScenarioError(file: path, message: "cannot read cluster file")
        }
        let table: TOMLTable
        do { table = try TOML.parse(text) } catch { throw ScenarioError(file: path, line: error.line, message: error.message) }
        var reader = ClusterReader(file: path)
        return try reader.read(table, baseDirectory: (path as NSString).deletingLastPathComponent)
    }
}

/// Decodes the TOML tables of a cluster file, with precise errors.
private struct ClusterReader {
    let file: String

    static let rootKeys = ["name", "scenario", "set", "design", "seed", "speed", "state_dir", "clearing", "venue"]
    static let clearingKeys = ["host", "port", "stale_policy", "heartbeat_ms", "stale_after_ms"]
    static let venueKeys = ["name", "host", "port", "profile", "markets"]

    mutating func read(_ root: TOMLTable, baseDirectory: String) throws(ScenarioError) -> ClusterFile {
        try rejectUnknown(root, known: Self.rootKeys, path: "")
        let name = try string(root, "name", path: "")
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
            throw error(root["name"], "name", "must be a-z, 0-9 and -, got \"\(name)\"")
        }
        let scenarioPath = resolve(try string(root, "scenario", path: ""), against: baseDirectory)
        var overrides: [ScenarioOverride] = []
        for text in try stringArray(root, "set", path: "", default: []) {
            do { overrides.append(try ScenarioOverride(parsing: text)) } catch { throw self.error(root["set"], "set", error.message) }
        }
        var scenario = try Scenario.load(path: scenarioPath, overrides: overrides)
        if let seed = root["seed"] {
            guard case .integer(let value) = seed.kind, value >= 0 else { throw error(seed, "seed", "must be a non-negative integer") }
            scenario.seed = UInt64(value)
        }
        let designName = try string(root, "design", path: "", default: ClearingDesign.sharedFull.rawValue)
        guard let design = ClearingDesign(rawValue: designName) else {
            throw error(root["design"], "design", "unknown design \"\(designName)\" (expected one of: \(ClearingDesign.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let speed = try integer(root, "speed", path: "", range: 1...10_000, default: 10)
        let stateDirectory = try string(root, "state_dir", path: "", default: "state/\(name)")

        guard let clearingValue = root["clearing"], let clearingTable = clearingValue.table else {
            throw error(root["clearing"], "clearing", "missing [clearing] table with host and port")
        }
        try rejectUnknown(clearingTable, known: Self.clearingKeys, path: "clearing.")
        let clearing = try address(clearingTable, path: "clearing.")
        let policyName = try string(clearingTable, "stale_policy", path: "clearing.", default: StalePolicy.withdrawCredit.rawValue)
        guard let stalePolicy = StalePolicy(rawValue: policyName) else {
            throw error(clearingTable["stale_policy"], "clearing.stale_policy",
                        "unknown policy \"\(policyName)\" (expected one of: \(StalePolicy.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let heartbeat = try integer(clearingTable, "heartbeat_ms", path: "clearing.", range: 10...60_000, default: 250)
        let staleAfter = try integer(clearingTable, "stale_after_ms", path: "clearing.", range: 30...600_000, default: 1_000)
        guard staleAfter >= 3 * heartbeat else {
            throw error(clearingTable["stale_after_ms"], "clearing.stale_after_ms",
                        "must be at least three heartbeats (\(3 * heartbeat) ms), got \(staleAfter) ms")
        }

        guard let venueValues = root["venue"]?.array, !venueValues.isEmpty else {
            throw error(root["venue"], "venue", "at least one [[venue]] is required")
        }
        var venues: [ClusterVenue] = []
        var used: [NodeAddress: String] = [clearing: "clearing"]
        for (index, value) in venueValues.enumerated() {
            let path = "venue[\(index)]."
            guard let table = value.table else { throw error(value, "venue[\(index)]", "must be a table") }
            try rejectUnknown(table, known: Self.venueKeys, path: path)
            let venueName = try string(table, "name", path: path)
            guard (try? NodeIdentity.venue(venueName)) != nil else {
                throw error(table["name"], path + "name", "\"\(venueName)\" is not a valid venue name (a-z, 0-9 and -)")
            }
            guard !venues.contains(where: { $0.name == venueName }) else {
                throw error(table["name"], path + "name", "duplicate venue \"\(venueName)\"")
            }
            let inScenario = scenario.venues.first { $0.name == venueName }
            let profileName = try string(table, "profile", path: path, default: inScenario?.profile.rawValue ?? "")
            guard let profile = VenueProfileKind(rawValue: profileName) else {
                throw error(table["profile"] ?? table["name"], path + "profile", inScenario == nil && table["profile"] == nil
                    ? "venue \"\(venueName)\" is not in scenario \(scenarioPath); give its profile and markets"
                    : "unknown profile \"\(profileName)\" (expected one of: \(VenueProfileKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let markets = try stringArray(table, "markets", path: path, default: inScenario?.markets)
            let symbols = scenario.assets.map(\.config.symbol)
            if let unknown = markets.first(where: { !symbols.contains($0) }) {
                throw error(table["markets"], path + "markets", "\"\(unknown)\" is not an asset of the scenario (\(symbols.joined(separator: ", ")))")
            }
            let venueAddress = try address(table, path: path)
            if let owner = used[venueAddress] {
                throw error(table["port"], path + "port", "\(venueAddress) is already used by \(owner)")
            }
            used[venueAddress] = venueName
            venues.append(ClusterVenue(name: venueName, profile: profile, markets: markets, address: venueAddress))
        }
        scenario.venues = venues.map { node in
            var venue = scenario.venues.first { $0.name == node.name }
                ?? VenueScenario(name: node.name, profile: node.profile, markets: node.markets, buffer: .zero,
                                 assessmentCapacity: .zero, depthScale: .one, traderWeight: 1, makerCapital: Amount(whole: 1_000_000_000))
            venue.profile = node.profile
            venue.markets = node.markets
            return venue
        }
        return ClusterFile(name: name, scenario: scenario, design: design, speed: speed, stateDirectory: stateDirectory,
                           clearing: clearing, stalePolicy: stalePolicy, heartbeat: .milliseconds(heartbeat),
                           staleAfter: .milliseconds(staleAfter), venues: venues)
    }

    // MARK: - Fields

    private func address(_ table: TOMLTable, path: String) throws(ScenarioError) -> NodeAddress {
        let host = try string(table, "host", path: path, default: "127.0.0.1")
        guard (try? HostName.generalName(for: host)) != nil else {
            throw error(table["host"], path + "host", "\"\(host)\" is not an IP address or host name")
        }
        return NodeAddress(host: host, port: Int(try integer(table, "port", path: path, range: 1...65_535, default: nil)))
    }

    private func string(_ table: TOMLTable, _ key: String, path: String, default fallback: String? = nil) throws(ScenarioError) -> String {
        guard let value = table[key] else {
            if let fallback { return fallback }
            throw error(nil, path + key, "missing required field")
        }
        guard let text = value.string else { throw error(value, path + key, "expected a string, got \(value.typeDescription)") }
        return text
    }

    private func stringArray(_ table: TOMLTable, _ key: String, path: String, default fallback: [String]?) throws(ScenarioError) -> [String] {
        guard let value = table[key] else {
            if let fallback { return fallback }
            throw error(nil, path + key, "missing required field")
        }
        guard let elements = value.array, !elements.isEmpty else { throw error(value, path + key, "expected a non-empty array of strings") }
        var texts: [String] = []
        for element in elements {
            guard let text = element.string else { throw error(element, path + key, "expected strings, got \(element.typeDescription)") }
            texts.append(text)
        }
        return texts
    }

    private func integer(_ table: TOMLTable, _ key: String, path: String, range: ClosedRange<Int64>, default fallback: Int64?) throws(ScenarioError) -> Int64 {
        guard let value = table[key] else {
            if let fallback { return fallback }
            throw error(nil, path + key, "missing required field")
        }
        guard case .integer(let number) = value.kind else { throw error(value, path + key, "expected an integer, got \(value.typeDescription)") }
        guard range.contains(number) else { throw error(value, path + key, "\(number) is out of range \(range.lowerBound)...\(range.upperBound)") }
        return number
    }

    private func rejectUnknown(_ table: TOMLTable, known: [String], path: String) throws(ScenarioError) {
        if let entry = table.entries.first(where: { !known.contains($0.key) }) {
            throw ScenarioError(file: file, line: entry.keyLine, field: path + entry.key,
                                message: "unknown field (known: \(known.joined(separator: ", ")))")
        }
    }

    private func error(_ value: TOMLValue?, _ field: String, _ message: String) -> ScenarioError {
        ScenarioError(file: file, line: value.map(\.line).flatMap { $0 > 0 ? $0 : nil }, field: field, message: message)
    }

    private func resolve(_ path: String, against base: String) -> String {
        path.hasPrefix("/") || base.isEmpty ? path : base + "/" + path
    }
}
