import Foundation

/// The nodes of a cluster file run as local OS processes of the `crossclear` executable: what the
/// demo and the real-process tests use. Logs go to `<state>/<node>.log` (appended across
/// restarts); status comes from the nodes' status files. Every process it started is killed when
/// it is released.
public final class LocalCluster: @unchecked Sendable {
    public let file: ClusterFile
    public let clusterPath: String
    public let executable: String
    private let paths: NodePaths
    private var processes: [String: Process] = [:]
    private let lock = NSLock()

    /// A cluster of `file` (read from `clusterPath`), run with the `crossclear` at `executable`.
    public init(file: ClusterFile, clusterPath: String, executable: String) {
        self.file = file
        self.clusterPath = clusterPath
        self.executable = executable
        paths = NodePaths(cluster: file)
    }

    deinit { killAll() }

    /// The venue names, in cluster order.
    public var venues: [String] { file.venues.map(\.name) }

    // MARK: - Processes

    /// Starts the clearing node.
    /// `environment` is added to this process's (a test arms a ``Failpoint`` that way).
    public func startClearing(arguments: [String] = [], environment: [String: String] = [:]) throws {
        try start(.clearing, ["clearing", "--cluster", clusterPath] + arguments, environment: environment)
    }

    /// Starts a venue node.
    public func startVenue(_ name: String, arguments: [String] = []) throws {
        try start(.venue(name), ["venue", name, "--cluster", clusterPath] + arguments)
    }

    private func start(_ node: NodeIdentity, _ arguments: [String], environment: [String: String] = [:]) throws {
        try paths.createStateDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let log = logPath(node)
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        lock.withLock { processes[node.name] = process }
    }

    /// Sends `signal` to a node (`clearing` or `venue:<name>`), waits for it to exit and returns its
    /// exit status (nil when it was not running).
    @discardableResult
    public func stop(_ node: NodeIdentity, signal: Int32 = SIGTERM) -> Int32? {
        guard let process = lock.withLock({ processes.removeValue(forKey: node.name) }) else { return nil }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Sends `signal` to a running node without waiting (SIGSTOP and SIGCONT pause and resume it).
    public func send(_ signal: Int32, to node: NodeIdentity) {
        guard let process = lock.withLock({ processes[node.name] }) else { return }
        kill(process.processIdentifier, signal)
    }

    /// Stops every node with `signal`: venues first, then the clearing node. Returns each exit status.
    @discardableResult
    public func stopAll(signal: Int32 = SIGTERM) -> [String: Int32] {
        var statuses: [String: Int32] = [:]
        let nodes = lock.withLock { processes.keys.sorted { $0 != "clearing" && $1 == "clearing" } }
        for name in nodes {
            guard let node = try? NodeIdentity(parsing: name), let status = stop(node, signal: signal) else { continue }
            statuses[name] = status
        }
        return statuses
    }

    /// Kills every node at once (SIGKILL).
    public func killAll() { stopAll(signal: SIGKILL) }

    /// Whether a node started here is still running.
    public func isRunning(_ node: NodeIdentity) -> Bool { lock.withLock { processes[node.name]?.isRunning ?? false } }

    // MARK: - Status

    /// A node's log file.
    public func logPath(_ node: NodeIdentity) -> String { paths.log(of: node) }

    /// A node's log so far.
    public func log(_ node: NodeIdentity) -> String { (try? String(contentsOfFile: logPath(node), encoding: .utf8)) ?? "" }

    /// A venue's last status, if it wrote one.
    public func venueStatus(_ name: String) -> VenueStatus? {
        guard let node = try? NodeIdentity.venue(name) else { return nil }
        return read(paths.status(of: node))
    }

    /// The clearing node's last status, if it wrote one.
    public func clearingStatus() -> ClearingStatus? { read(paths.status(of: .clearing)) }

    private func read<T: Decodable>(_ path: String) -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(T.self, from: data)
    }

    /// Whether every venue finished its scenario, the clearing node applied all of every venue's
    /// changes and acknowledged them, its view matches each venue's digest, no instruction waits
    /// for delivery and no backstop request for an answer.
    public func isQuiet() -> Bool {
        guard let clearing = clearingStatus() else { return false }
        return venues.allSatisfy { name in
            guard let venue = venueStatus(name), let view = clearing.venues.first(where: { $0.venue == name }) else { return false }
            return venue.finished && view.lastAppliedSequence == venue.changes && venue.acknowledged == venue.changes
                && view.viewDigest == venue.publishedDigest && view.pendingInstructions == 0 && view.connected
                && venue.awaitingBackstop == 0
        } && (clearing.pool?.pendingRequests ?? 0) == 0
    }
}
