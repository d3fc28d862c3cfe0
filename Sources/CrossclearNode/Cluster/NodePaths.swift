import Foundation

/// Where a node keeps its files in the cluster's state directory:
///
/// ```
/// <state>/
///   certs/                        see CertificateDirectory
///   clearing.sqlite               the clearing node's journal (and -wal, -shm: never delete them)
///   venue-<name>.sqlite           a venue node's journal
///   clearing.status.json          each node's status, replaced atomically as it runs
///   venue-<name>.status.json
///   clearing.log, venue-<name>.log  logs, when the demo or a test starts the node
/// ```
public struct NodePaths: Sendable, Hashable {
    /// The state directory.
    public let stateDirectory: String

    /// The layout of `cluster`'s state directory.
    public init(cluster: ClusterFile) {
        stateDirectory = cluster.stateDirectory
    }

    /// A node's SQLite journal.
    public func database(of node: NodeIdentity) -> String { path("\(node.fileSafeName).sqlite") }

    /// A node's log, when the demo or a test runs it (`<node>.log`).
    public func log(of node: NodeIdentity) -> String { path("\(node.fileSafeName).log") }

    /// A node's status file.
    public func status(of node: NodeIdentity) -> String { path("\(node.fileSafeName).status.json") }

    /// Creates the state directory if it is missing.
    public func createStateDirectory() throws {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
    }

    private func path(_ file: String) -> String { (stateDirectory as NSString).appendingPathComponent(file) }
}
