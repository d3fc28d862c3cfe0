import Crypto
import Foundation
import X509

/// What one node needs to take part in mutual TLS: its certificate, its private key, and the cluster
/// CA certificate it trusts.
public struct NodeCredentials: Sendable {
    /// The node the certificate names.
    public let node: NodeIdentity
    /// The node's certificate, signed by the cluster CA.
    public let certificate: Certificate
    /// The node's private key.
    let privateKey: P256.Signing.PrivateKey
    /// The cluster CA certificate: the only trust root.
    public let caCertificate: Certificate

    init(node: NodeIdentity, certificate: Certificate, privateKey: P256.Signing.PrivateKey, caCertificate: Certificate)
    {
        self.node = node
        self.certificate = certificate
        self.privateKey = privateKey
        self.caCertificate = caCertificate
    }

    /// Loads `ca.pem`, `<file-safe name>.pem` and `<file-safe name>-key.pem` from `directory` and checks
    /// that they belong together.
    ///
    /// - Throws: ``CertificateFileError`` naming the file and the cause: missing, unreadable, not PEM,
    ///   wrong PEM type, `ca.pem` not a CA, a certificate expired or not yet valid at `now`, the node
    ///   certificate not signed by `ca.pem` or naming another node, the key readable by group or others
    ///   or not matching the certificate.
    public static func load(
        node: NodeIdentity, from directory: CertificateDirectory, now: Date = Date()
    ) throws(CertificateFileError) -> NodeCredentials {
        let caPath = directory.caCertificatePath
        let caCertificate = try PEMFile.readCertificate(at: caPath)
        try CertificateChecks.requireCertificateAuthority(caCertificate, path: caPath)
        try CertificateChecks.requireValid(caCertificate, at: now, path: caPath)

        let certificatePath = directory.certificatePath(for: node)
        let certificate = try PEMFile.readCertificate(at: certificatePath)
        guard CertificateChecks.isSigned(certificate, by: caCertificate) else {
            throw CertificateFileError(path: certificatePath, problem: .notSignedByClusterCA(caPath: caPath))
        }
        try CertificateChecks.requireValid(certificate, at: now, path: certificatePath)
        let named: NodeIdentity
        do {
            named = try NodeIdentity(certificate: certificate)
        } catch {
            throw CertificateFileError(
                path: certificatePath, problem: .namesWrongNode(expected: node, found: error.description))
        }
        guard named == node else {
            throw CertificateFileError(
                path: certificatePath, problem: .namesWrongNode(expected: node, found: named.name))
        }

        let keyPath = directory.keyPath(for: node)
        let key = try PEMFile.readPrivateKey(at: keyPath)
        guard Certificate.PublicKey(key.publicKey) == certificate.publicKey else {
            throw CertificateFileError(
                path: keyPath, problem: .keyDoesNotMatchCertificate(certificatePath: certificatePath))
        }
        return NodeCredentials(node: node, certificate: certificate, privateKey: key, caCertificate: caCertificate)
    }

    /// Writes the node's certificate and key (mode 0600) into `directory`, replacing earlier files, and
    /// `ca.pem` when the folder has none yet. This is the set of files to copy to the node's host.
    ///
    /// - Throws: ``CertificateFileError``; ``CertificateFileError/Problem/alreadyExists`` when the folder
    ///   holds a different `ca.pem` (this certificate would not be trusted there).
    public func save(to directory: CertificateDirectory) throws(CertificateFileError) {
        try PEMFile.createDirectory(directory.path)
        let caPath = directory.caCertificatePath
        if FileManager.default.fileExists(atPath: caPath) {
            let existing = try PEMFile.readCertificate(at: caPath)
            guard existing == caCertificate else {
                throw CertificateFileError(path: caPath, problem: .alreadyExists)
            }
        } else {
            try PEMFile.writeCertificate(caCertificate, to: caPath)
        }
        try PEMFile.writePrivateKey(privateKey, to: directory.keyPath(for: node))
        try PEMFile.writeCertificate(certificate, to: directory.certificatePath(for: node))
    }

    /// The node's private key as PKCS#8 PEM (handle with care: this is the node's secret).
    public var privateKeyPEM: String { privateKey.pemRepresentation }
}
