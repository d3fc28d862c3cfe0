import Crypto
import Foundation
import X509

/// The cluster's own certificate authority: a P-256 key and a self-signed CA certificate that signs
/// every node certificate of one crossclear cluster.
///
/// Nodes trust this CA and nothing else. Only the place where certificates are issued needs
/// `ca-key.pem`; every node needs `ca.pem`. All cryptography is swift-crypto and swift-certificates:
/// no shell tools are involved.
///
/// ```swift
/// let ca = try CertificateAuthority.create(in: CertificateDirectory(stateDirectory: "/var/crossclear"))
/// try ca.issue(node: .clearing, hosts: ["127.0.0.1", "localhost"])
/// try ca.issue(node: .venue("hyperliquid"), hosts: ["127.0.0.1"])
/// ```
public struct CertificateAuthority: Sendable {
    /// The self-signed CA certificate (`ca.pem`).
    public let certificate: Certificate
    /// The CA's signing key (`ca-key.pem`).
    let privateKey: P256.Signing.PrivateKey
    /// The folder this CA was loaded from or saved to; ``issue(node:hosts:now:validity:)`` writes there.
    /// `nil` for a CA that lives only in memory.
    public let directory: CertificateDirectory?

    /// The default lifetime of a CA certificate: ten years.
    public static let defaultValidity: Duration = .seconds(10 * 365 * 86_400)
    /// The default lifetime of a node certificate: one year.
    public static let defaultNodeValidity: Duration = .seconds(365 * 86_400)
    /// How far before "now" certificates start being valid, to tolerate clocks that differ between hosts.
    public static let clockSkewAllowance: Duration = .seconds(300)

    private init(certificate: Certificate, privateKey: P256.Signing.PrivateKey, directory: CertificateDirectory?) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.directory = directory
    }

    // MARK: - Creating

    /// Generates a new CA in memory (nothing is written).
    ///
    /// The subject is `O=crossclear, CN=crossclear cluster CA <id>`, where `<id>` is the start of the key
    /// identifier, so that two clusters' CAs are told apart in logs. The certificate is a CA with path
    /// length 0 (it signs node certificates only) and may sign certificates and CRLs.
    ///
    /// - Parameters:
    ///   - now: The creation time; validity starts ``clockSkewAllowance`` earlier.
    ///   - validity: How long the CA certificate is valid.
    public static func generate(
        now: Date = Date(), validity: Duration = defaultValidity
    ) throws(CertificateIssueError) -> CertificateAuthority {
        guard validity > .zero else {
            throw CertificateIssueError.invalidValidity("the CA validity must be positive, got \(validity)")
        }
        let key = P256.Signing.PrivateKey()
        let signingKey = Certificate.PrivateKey(key)
        let keyIdentifier = Self.keyIdentifier(of: signingKey.publicKey)
        let idHex = keyIdentifier.prefix(4).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        do {
            let subject = try DistinguishedName {
                OrganizationName("crossclear")
                CommonName("crossclear cluster CA \(idHex)")
            }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(keyIdentifier: keyIdentifier)
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: signingKey.publicKey,
                notValidBefore: now.addingTimeInterval(-Self.clockSkewAllowance.seconds),
                notValidAfter: now.addingTimeInterval(validity.seconds),
                issuer: subject,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: signingKey
            )
            return CertificateAuthority(certificate: certificate, privateKey: key, directory: nil)
        } catch {
            throw CertificateIssueError.signingFailed(String(describing: error))
        }
    }

    /// Generates a new CA and writes `ca.pem` and `ca-key.pem` (mode 0600) into `directory`, creating the
    /// folder (mode 0700) if needed.
    ///
    /// - Throws: ``CertificateFileError`` with ``CertificateFileError/Problem/alreadyExists`` when either file
    ///   exists already (an existing CA is never replaced), or when writing fails;
    ///   ``CertificateIssueError`` when generating fails.
    public static func create(
        in directory: CertificateDirectory, now: Date = Date(), validity: Duration = defaultValidity
    ) throws -> CertificateAuthority {
        for path in [directory.caCertificatePath, directory.caKeyPath]
        where FileManager.default.fileExists(atPath: path) {
            throw CertificateFileError(path: path, problem: .alreadyExists)
        }
        let authority = try generate(now: now, validity: validity)
        return try authority.save(to: directory)
    }

    /// Loads the CA of `directory`, or creates one there when neither `ca.pem` nor `ca-key.pem` exists.
    ///
    /// When only one of the two files exists, this fails (naming the missing file) rather than
    /// replacing half a CA.
    public static func loadOrCreate(in directory: CertificateDirectory, now: Date = Date()) throws
        -> CertificateAuthority
    {
        let fileManager = FileManager.default
        if !fileManager.fileExists(atPath: directory.caCertificatePath),
            !fileManager.fileExists(atPath: directory.caKeyPath)
        {
            return try create(in: directory, now: now)
        }
        return try load(from: directory, now: now)
    }

    /// Writes `ca.pem` and `ca-key.pem` (mode 0600) into `directory`, replacing existing files, and
    /// returns this CA bound to that folder.
    @discardableResult
    public func save(to directory: CertificateDirectory) throws(CertificateFileError) -> CertificateAuthority {
        try PEMFile.createDirectory(directory.path)
        try PEMFile.writePrivateKey(privateKey, to: directory.caKeyPath)
        try PEMFile.writeCertificate(certificate, to: directory.caCertificatePath)
        return CertificateAuthority(certificate: certificate, privateKey: privateKey, directory: directory)
    }

    // MARK: - Loading

    /// Loads `ca.pem` and `ca-key.pem` from `directory`.
    ///
    /// - Throws: ``CertificateFileError`` naming the file and the cause: missing, unreadable, not PEM,
    ///   wrong PEM type, not a CA certificate, not self-signed, expired or not yet valid at `now`,
    ///   key readable by group or others, or key not matching the certificate.
    public static func load(
        from directory: CertificateDirectory, now: Date = Date()
    ) throws(CertificateFileError) -> CertificateAuthority {
        let certificatePath = directory.caCertificatePath
        let certificate = try PEMFile.readCertificate(at: certificatePath)
        try CertificateChecks.requireCertificateAuthority(certificate, path: certificatePath)
        try CertificateChecks.requireValid(certificate, at: now, path: certificatePath)

        let key = try PEMFile.readPrivateKey(at: directory.caKeyPath)
        guard Certificate.PublicKey(key.publicKey) == certificate.publicKey else {
            throw CertificateFileError(
                path: directory.caKeyPath, problem: .keyDoesNotMatchCertificate(certificatePath: certificatePath))
        }
        return CertificateAuthority(certificate: certificate, privateKey: key, directory: directory)
    }

    // MARK: - Issuing

    /// Issues a certificate for `node`, and writes `<file-safe name>.pem` and `<file-safe name>-key.pem`
    /// (mode 0600) into ``directory`` when this CA has one, replacing earlier files (re-issuing is how
    /// node certificates are rotated).
    ///
    /// The certificate has a fresh P-256 key; subject `CN=<node name>`; subject alternative names with a
    /// DNS or IP entry per host plus the node URI `crossclear://node/<name>`; extended key usage
    /// serverAuth and clientAuth (every node may both dial and accept); basicConstraints CA:FALSE.
    /// Its validity is clipped to the CA's.
    ///
    /// - Parameters:
    ///   - node: The node the certificate names.
    ///   - hosts: The names and addresses the node is reached at, such as `127.0.0.1`, `localhost`,
    ///     `10.77.0.3`, `clearing.example`. A client dialing the node checks the host it dialed against
    ///     these. Duplicates are removed; DNS names are lowercased.
    ///   - now: The issue time; validity starts ``clockSkewAllowance`` earlier.
    ///   - validity: How long the certificate is valid.
    /// - Throws: ``CertificateIssueError`` for an invalid host or validity; ``CertificateFileError``
    ///   when writing fails.
    @discardableResult
    public func issue(
        node: NodeIdentity, hosts: [String], now: Date = Date(), validity: Duration = defaultNodeValidity
    ) throws -> NodeCredentials {
        let credentials = try makeCredentials(node: node, hosts: hosts, now: now, validity: validity)
        if let directory {
            try credentials.save(to: directory)
        }
        return credentials
    }

    private func makeCredentials(
        node: NodeIdentity, hosts: [String], now: Date, validity: Duration
    ) throws(CertificateIssueError) -> NodeCredentials {
        guard validity > .zero else {
            throw CertificateIssueError.invalidValidity("the certificate validity must be positive, got \(validity)")
        }
        var names: [GeneralName] = []
        for host in hosts {
            let name = try HostName.generalName(for: host)
            if !names.contains(name) { names.append(name) }
        }
        names.append(.uniformResourceIdentifier(node.uri))

        let notValidBefore = max(
            now.addingTimeInterval(-Self.clockSkewAllowance.seconds), certificate.notValidBefore)
        let notValidAfter = min(now.addingTimeInterval(validity.seconds), certificate.notValidAfter)
        guard notValidBefore < notValidAfter else {
            throw CertificateIssueError.invalidValidity(
                "the CA is not valid at \(now.formatted(.iso8601)) (valid \(certificate.notValidBefore.formatted(.iso8601)) to \(certificate.notValidAfter.formatted(.iso8601)))"
            )
        }

        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let issuerKey = Certificate.PrivateKey(privateKey)
        do {
            let authorityKeyIdentifier =
                try certificate.extensions.subjectKeyIdentifier?.keyIdentifier
                ?? Self.keyIdentifier(of: certificate.publicKey)
            let usage = try ExtendedKeyUsage([.serverAuth, .clientAuth])
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                usage
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(keyIdentifier: Self.keyIdentifier(of: publicKey))
                AuthorityKeyIdentifier(keyIdentifier: authorityKeyIdentifier)
            }
            let leaf = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: publicKey,
                notValidBefore: notValidBefore,
                notValidAfter: notValidAfter,
                issuer: certificate.subject,
                subject: try node.distinguishedName(),
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: issuerKey
            )
            return NodeCredentials(node: node, certificate: leaf, privateKey: key, caCertificate: certificate)
        } catch {
            throw CertificateIssueError.signingFailed(String(describing: error))
        }
    }

    /// A 20-byte key identifier: the start of the SHA-256 of the SubjectPublicKeyInfo.
    static func keyIdentifier(of publicKey: Certificate.PublicKey) -> ArraySlice<UInt8> {
        ArraySlice(SHA256.hash(data: Array(publicKey.subjectPublicKeyInfoBytes)).prefix(20))
    }
}

// MARK: - Helpers

extension Duration {
    /// This duration in seconds, as a `TimeInterval`.
    var seconds: TimeInterval {
        let parts = components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
