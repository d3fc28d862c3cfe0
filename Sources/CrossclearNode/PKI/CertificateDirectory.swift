import Foundation

/// The layout of a node's `certs/` folder (inside its state directory).
///
/// ```
/// certs/
///   ca.pem                      cluster CA certificate (every node)
///   ca-key.pem                  cluster CA private key, 0600 (only where certificates are issued)
///   clearing.pem                clearing node certificate
///   clearing-key.pem            its private key, 0600
///   venue-<name>.pem            a venue's certificate
///   venue-<name>-key.pem        its private key, 0600
/// ```
public struct CertificateDirectory: Hashable, Sendable, CustomStringConvertible {
    /// The folder itself.
    public let path: String

    /// The `certs/` folder at `path`.
    public init(path: String) {
        self.path = path
    }

    /// The `certs/` folder inside a node's state directory.
    public init(stateDirectory: String) {
        self.path = Self.join(stateDirectory, "certs")
    }

    /// The cluster CA certificate: `ca.pem`.
    public var caCertificatePath: String { Self.join(path, "ca.pem") }

    /// The cluster CA private key: `ca-key.pem`.
    public var caKeyPath: String { Self.join(path, "ca-key.pem") }

    /// A node's certificate: `<file-safe name>.pem`.
    public func certificatePath(for node: NodeIdentity) -> String {
        Self.join(path, "\(node.fileSafeName).pem")
    }

    /// A node's private key: `<file-safe name>-key.pem`.
    public func keyPath(for node: NodeIdentity) -> String {
        Self.join(path, "\(node.fileSafeName)-key.pem")
    }

    public var description: String { path }

    private static func join(_ directory: String, _ file: String) -> String {
        directory.hasSuffix("/") ? directory + file : directory + "/" + file
    }
}
