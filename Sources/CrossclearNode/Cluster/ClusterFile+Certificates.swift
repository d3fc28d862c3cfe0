import Foundation

extension ClusterFile {
    /// What `issueCertificates` did.
    public struct IssuedCertificates: Sendable {
        public var authority: CertificateAuthority
        /// Whether the CA was created now (false: an existing one was loaded).
        public var createdAuthority: Bool
        /// One credential per node, the clearing node first.
        public var nodes: [NodeCredentials]
    }

    /// Loads the cluster's CA from the state directory (creating it when there is none) and issues
    /// a fresh certificate for every node, naming the host it is reached at. Re-running re-issues
    /// the node certificates under the same CA (rotation).
    public func issueCertificates(now: Date = Date()) throws -> IssuedCertificates {
        let existed = FileManager.default.fileExists(atPath: certificates.caCertificatePath)
        let authority = try CertificateAuthority.loadOrCreate(in: certificates, now: now)
        let issued = try nodes.map { node in try authority.issue(node: node.identity, hosts: [node.address.host], now: now) }
        return IssuedCertificates(authority: authority, createdAuthority: !existed, nodes: issued)
    }
}
