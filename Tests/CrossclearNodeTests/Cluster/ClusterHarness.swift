import CrossclearNode
import CrossclearStore
import Foundation
import Testing

/// Runs a real cluster for a test: the `crossclear` binary built beside the test bundle, one OS
/// process per node, on 127.0.0.1 ports chosen free, in a temporary state directory. Every process
/// it started is killed when the harness is torn down.
final class ClusterHarness: @unchecked Sendable {
    let directory: String
    let clusterPath: String
    let venues: [String]
    private var processes: [String: Process] = [:]
    private let lock = NSLock()

    /// The `crossclear` executable next to the test bundle (`swift build --build-tests` builds both).
    static var executable: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? CommandLine.arguments[0])
        var directory = bundle.deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("crossclear").path), directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("crossclear").path
    }

    /// Writes a cluster file for oct10 with `traders` traders over `duration` simulated seconds at
    /// `speed`, and issues the certificates.
    init(directory: String, venues: [String], traders: Int, durationSeconds: Int, speed: Int) throws {
        self.directory = directory
        self.venues = venues
        clusterPath = directory + "/cluster.toml"
        let venueTables = try venues.map { "[[venue]]\nname = \"\($0)\"\nport = \(try Self.freePort())\n" }.joined(separator: "\n")
        let text = """
            name = "test"
            scenario = "\(ClusterFileTests.oct10)"
            set = ["population.traders=\(traders)", "duration_s=\(durationSeconds)"]
            design = "shared-full"
            speed = \(speed)
            state_dir = "\(directory)/state"

            [clearing]
            port = \(try Self.freePort())

            \(venueTables)
            """
        try text.write(toFile: clusterPath, atomically: true, encoding: .utf8)
        let certs = try Self.run(["certs", "--cluster", clusterPath])
        guard certs.status == 0 else { throw HarnessError("crossclear certs failed: \(certs.output)") }
    }

    deinit { killAll() }

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

    // MARK: - Nodes

    /// Starts the clearing node; its log goes to `clearing.log` (appended across restarts).
    func startClearing() throws { try start("clearing", ["clearing", "--cluster", clusterPath]) }

    /// Starts a venue node; its log goes to `venue-<name>.log`.
    func startVenue(_ name: String) throws { try start("venue-\(name)", ["venue", name, "--cluster", clusterPath]) }

    private func start(_ node: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = arguments
        let log = directory + "/\(node).log"
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        lock.withLock { processes[node] = process }
    }

    /// Sends `signal` to a node and waits for it to exit; returns its exit status.
    @discardableResult
    func stop(_ node: String, signal: Int32 = SIGTERM) -> Int32? {
        guard let process = lock.withLock({ processes.removeValue(forKey: node) }) else { return nil }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    func killAll() {
        for node in lock.withLock({ Array(processes.keys) }) { stop(node, signal: SIGKILL) }
    }

    // MARK: - Status

    var statePath: String { directory + "/state" }

    func venueStatus(_ name: String) -> VenueStatus? { read("\(statePath)/venue-\(name).status.json") }
    func clearingStatus() -> ClearingStatus? { read("\(statePath)/clearing.status.json") }

    func log(_ node: String) -> String { (try? String(contentsOfFile: directory + "/\(node).log", encoding: .utf8)) ?? "" }

    private func read<T: Decodable>(_ path: String) -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(T.self, from: data)
    }

    /// Whether every venue finished its scenario, the clearing node applied all of every venue's
    /// changes, its view matches each venue's digest and no instruction waits for delivery.
    func isQuiet() -> Bool {
        guard let clearing = clearingStatus() else { return false }
        return venues.allSatisfy { name in
            guard let venue = venueStatus(name), let view = clearing.venues.first(where: { $0.venue == name }) else { return false }
            return venue.finished && view.lastAppliedSequence == venue.changes && venue.acknowledged == venue.changes
                && view.viewDigest == venue.publishedDigest && view.pendingInstructions == 0 && view.connected
        }
    }

    /// Polls until ``isQuiet()`` or the deadline.
    func waitUntilQuiet(seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if isQuiet() { return true }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return isQuiet()
    }

    /// Polls until a venue has run at least `step` steps.
    func waitForStep(_ venue: String, _ step: Int, seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let status = venueStatus(venue), status.step >= step { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// What a test prints when the cluster did not converge: every node's status and log tail.
    func diagnostics() -> String {
        var lines = ["clearing: \(String(describing: clearingStatus()))"]
        for name in venues { lines.append("\(name): \(String(describing: venueStatus(name)))") }
        for node in ["clearing"] + venues.map({ "venue-\($0)" }) {
            lines.append("--- \(node).log (last 15 lines)")
            lines += log(node).split(separator: "\n").suffix(15).map(String.init)
        }
        return lines.joined(separator: "\n")
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
