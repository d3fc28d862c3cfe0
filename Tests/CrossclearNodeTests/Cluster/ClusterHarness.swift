import CrossclearNode
import Foundation
import Testing

/// A real cluster for a test: a cluster file for oct10 in a temporary directory, certificates from
/// `crossclear certs`, and the nodes run by ``LocalCluster`` from the `crossclear` executable built
/// beside the test bundle, on 127.0.0.1 ports chosen free.
struct ClusterHarness {
    let cluster: LocalCluster
    var statePath: String { cluster.file.stateDirectory }

    /// The `crossclear` executable next to the test bundle (`swift build --build-tests` builds both).
    static var executable: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? CommandLine.arguments[0])
        var directory = bundle.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("crossclear").path), directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("crossclear").path
    }

    /// Writes a cluster file for oct10 with `traders` traders over `durationSeconds` at `speed`,
    /// and issues the certificates.
    init(directory: String, venues: [String], traders: Int, durationSeconds: Int, speed: Int, design: String = "shared-full",
         overrides: [String] = []) throws {
        let path = directory + "/cluster.toml"
        let venueTables = try venues.map { "[[venue]]\nname = \"\($0)\"\nport = \(try Self.freePort())\n" }.joined(separator: "\n")
        try """
            name = "test"
            scenario = "\(ClusterFileTests.oct10)"
            set = [\((["population.traders=\(traders)", "duration_s=\(durationSeconds)"] + overrides).map { "\"\($0)\"" }.joined(separator: ", "))]
            design = "\(design)"
            speed = \(speed)
            state_dir = "\(directory)/state"

            [clearing]
            port = \(try Self.freePort())

            \(venueTables)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let certs = try Self.run(["certs", "--cluster", path])
        guard certs.status == 0 else { throw HarnessError("crossclear certs failed: \(certs.output)") }
        cluster = LocalCluster(file: try ClusterFile.load(path: path), clusterPath: path, executable: Self.executable)
    }

    /// A port free on 127.0.0.1 right now (bound, read back and released).
    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw HarnessError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs `crossclear` to completion and returns its status and output.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// Starts the clearing node and every venue.
    func startAll() throws {
        try cluster.startClearing()
        for venue in cluster.venues { try cluster.startVenue(venue) }
    }

    /// Waits up to two minutes for the cluster to be quiet; records a failed expectation with every
    /// node's status and log tail when it is not. Returns whether it is.
    func expectQuiet(_ when: String = "", sourceLocation: SourceLocation = #_sourceLocation) async -> Bool {
        let quiet = await waitUntilQuiet(seconds: 120)
        #expect(quiet, "the cluster did not converge\(when.isEmpty ? "" : " " + when):\n\(diagnostics())", sourceLocation: sourceLocation)
        return quiet
    }

    /// Polls until the cluster is quiet (``LocalCluster/isQuiet()``) or the deadline passes.
    func waitUntilQuiet(seconds: Double) async -> Bool {
        await poll(seconds: seconds) { cluster.isQuiet() }
    }

    /// Polls until a venue has run at least `step` steps.
    func waitForStep(_ venue: String, _ step: Int, seconds: Double) async -> Bool {
        await poll(seconds: seconds) { (cluster.venueStatus(venue)?.step ?? 0) >= step }
    }

    /// Polls `condition` every 20 ms until it holds or `seconds` pass.
    func poll(seconds: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    /// What a test prints when the cluster did not converge: every node's status and log tail.
    func diagnostics() -> String {
        var lines = ["clearing: \(String(describing: cluster.clearingStatus()))"]
        for name in cluster.venues { lines.append("\(name): \(String(describing: cluster.venueStatus(name)))") }
        for node in [NodeIdentity.clearing] + cluster.venues.compactMap({ try? NodeIdentity.venue($0) }) {
            lines.append("--- \(node.name) log (last 15 lines)")
            lines += cluster.log(node).split(separator: "\n").suffix(15).map(String.init)
        }
        return lines.joined(separator: "\n")
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
