import CrossclearEngine
import CrossclearSimulation
import Foundation
import Testing

@testable import CrossclearNode

/// Cluster files: the shipped demo, overrides, precise errors, and certificates for every node.
@Suite("Cluster files")
struct ClusterFileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let oct10 = root + "/cluster/scenarios/oct10.toml"

    /// Writes a cluster file into `directory` and loads it.
    static func load(_ text: String, in directory: String) throws(ScenarioError) -> ClusterFile {
        let path = directory + "/cluster.toml"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return try ClusterFile.load(path: path)
    }

    @Test("the shipped demo names a clearing node and the four oct10 venues with their profiles")
    func demo() throws {
        let cluster = try ClusterFile.load(path: Self.root + "/cluster/demo.toml")
        #expect(cluster.name == "demo")
        #expect(cluster.design == .sharedFull)
        #expect(cluster.speed == 60)
        #expect(cluster.stateDirectory == "state/demo")
        #expect(cluster.stalePolicy == .withdrawCredit)
        #expect(cluster.heartbeat == .milliseconds(250) && cluster.staleAfter == .seconds(1))
        #expect(cluster.clearing == NodeAddress(host: "127.0.0.1", port: 7400))
        #expect(cluster.venues.map(\.name) == ["hyperliquid", "binance", "dydx", "lighter"])
        #expect(cluster.venues.map(\.profile) == [.hyperliquid, .cex, .dydx, .lighter])
        #expect(cluster.venues.map(\.address.port) == [7401, 7402, 7403, 7404])
        #expect(cluster.scenario.name == "oct10")
        #expect(try cluster.nodes.map(\.identity.name) == ["clearing", "venue:hyperliquid", "venue:binance", "venue:dydx", "venue:lighter"])
    }

    @Test("a cluster may run a subset of the scenario's venues, override profile and markets, and add a venue")
    func overrides() async throws {
        try await withTemporaryDirectory { directory in
            let cluster = try Self.load("""
                name = "small"
                scenario = "\(Self.oct10)"
                design = "siloed-fund"
                seed = 9
                state_dir = "\(directory)/state"
                [clearing]
                port = 9000
                [[venue]]
                name = "dydx"
                port = 9001
                markets = ["BTC", "ETH"]
                [[venue]]
                name = "drift"
                profile = "drift"
                markets = ["SOL"]
                port = 9002
                """, in: directory)
            #expect(cluster.scenario.seed == 9)
            #expect(cluster.scenario.venues.map(\.name) == ["dydx", "drift"])
            #expect(cluster.scenario.venues[0].markets == ["BTC", "ETH"])
            #expect(cluster.scenario.venues[1].profile == .drift)
            #expect(cluster.scenario.engineConfig(design: cluster.design).venues.map(\.assets) == [[0, 1], [2]])
        }
    }

    @Test("bad cluster files are refused with the file, line and field", arguments: [
        ("name = \"x\"\nscenario = \"OCT\"\nport = 1\n[clearing]\nport = 7400\n[[venue]]\nname = \"dydx\"\nport = 7401\n", "cluster.toml:3: port: unknown field"),
        ("name = \"x\"\nscenario = \"OCT\"\ndesign = \"shared\"\n[clearing]\nport = 7400\n[[venue]]\nname = \"dydx\"\nport = 7401\n", "cluster.toml:3: design: unknown design \"shared\""),
        ("name = \"x\"\nscenario = \"OCT\"\n[clearing]\nport = 7400\n[[venue]]\nname = \"kraken\"\nport = 7401\n", "cluster.toml:6: venue[0].profile: venue \"kraken\" is not in scenario"),
        ("name = \"x\"\nscenario = \"OCT\"\n[clearing]\nport = 7400\n[[venue]]\nname = \"dydx\"\nport = 7400\n", "cluster.toml:7: venue[0].port: 127.0.0.1:7400 is already used by clearing"),
        ("name = \"x\"\nscenario = \"OCT\"\n[clearing]\nport = 70000\n[[venue]]\nname = \"dydx\"\nport = 7401\n", "cluster.toml:4: clearing.port: 70000 is out of range"),
        ("name = \"x\"\nscenario = \"OCT\"\n[clearing]\nport = 7400\n[[venue]]\nname = \"dydx\"\nport = 7401\nmarkets = [\"XRP\"]\n", "cluster.toml:8: venue[0].markets: \"XRP\" is not an asset of the scenario"),
        ("name = \"x\"\nscenario = \"OCT\"\n[[venue]]\nname = \"dydx\"\nport = 7401\n", "clearing: missing [clearing] table"),
        ("name = \"x\"\nscenario = \"OCT\"\n[clearing]\nport = 7400\nstale_policy = \"zero\"\n[[venue]]\nname = \"dydx\"\nport = 7401\n", "cluster.toml:5: clearing.stale_policy: unknown policy \"zero\""),
        ("name = \"x\"\nscenario = \"OCT\"\n[clearing]\nport = 7400\nheartbeat_ms = 500\nstale_after_ms = 1000\n[[venue]]\nname = \"dydx\"\nport = 7401\n", "cluster.toml:6: clearing.stale_after_ms: must be at least three heartbeats (1500 ms)"),
        ("name = \"x\"\nscenario = \"OCT\"\nset = [\"population\"]\n[clearing]\nport = 7400\n[[venue]]\nname = \"dydx\"\nport = 7401\n", "set: expected KEY=VALUE"),
    ])
    func refusals(text: String, expected: String) async throws {
        try await withTemporaryDirectory { directory in
            let error = #expect(throws: ScenarioError.self) {
                try Self.load(text.replacingOccurrences(of: "OCT", with: Self.oct10), in: directory)
            }
            #expect(error?.description.contains(expected) == true, "\(error?.description ?? "no error")")
        }
    }

    @Test("certs: one CA in the state directory and a loadable certificate for every node; re-running keeps the CA")
    func certificates() async throws {
        try await withTemporaryDirectory { directory in
            let cluster = try Self.load("""
                name = "certs"
                scenario = "\(Self.oct10)"
                state_dir = "\(directory)/state"
                [clearing]
                port = 9100
                [[venue]]
                name = "hyperliquid"
                port = 9101
                [[venue]]
                name = "binance"
                port = 9102
                """, in: directory)
            let first = try cluster.issueCertificates()
            #expect(first.createdAuthority)
            #expect(first.nodes.map(\.node.name) == ["clearing", "venue:hyperliquid", "venue:binance"])
            for (identity, _) in try cluster.nodes {
                let loaded = try NodeCredentials.load(node: identity, from: cluster.certificates)
                #expect(loaded.node == identity)
            }
            let second = try cluster.issueCertificates()
            #expect(!second.createdAuthority)
            #expect(second.authority.certificate == first.authority.certificate)
        }
    }
}
