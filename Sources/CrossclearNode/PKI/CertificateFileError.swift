import Foundation

/// A certificate or key file that cannot be used, with the file's path and the cause.
///
/// The description reads `<path>: <cause>`, for example
/// `/var/crossclear/certs/ca.pem: not a PEM file (no '-----BEGIN ...-----' line)`.
public struct CertificateFileError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong with the file.
    public enum Problem: Hashable, Sendable, CustomStringConvertible {
        /// The file does not exist.
        case missing
        /// The file exists but cannot be read; the detail comes from the operating system.
        case unreadable(String)
        /// The file holds no PEM block at all.
        case notPEM
        /// The file holds a PEM block of another kind (for example a key where a certificate belongs).
        case wrongPEMType(found: String, expected: String)
        /// The PEM block is well formed but its content does not decode (bad DER, not a P-256 key, several blocks...).
        case invalidContent(String)
        /// The private key is not the key of the certificate at `certificatePath`.
        case keyDoesNotMatchCertificate(certificatePath: String)
        /// The certificate was meant to be the cluster CA but is not a CA certificate.
        case notACertificateAuthority
        /// The certificate was not signed by the cluster CA at `caPath`.
        case notSignedByClusterCA(caPath: String)
        /// The certificate expired at `notValidAfter`.
        case expired(notValidAfter: Date)
        /// The certificate is not valid before `notValidBefore`.
        case notYetValid(notValidBefore: Date)
        /// The certificate names another node (or none); `found` describes what it names.
        case namesWrongNode(expected: NodeIdentity, found: String)
        /// A private key file is readable by group or others; it must be mode 0600 (or stricter).
        case insecurePermissions(mode: UInt16)
        /// The file could not be written; the detail comes from the operating system.
        case writeFailed(String)
        /// The file already exists and is not overwritten (a cluster CA is never replaced silently).
        case alreadyExists

        public var description: String {
            switch self {
            case .missing:
                "file is missing"
            case .unreadable(let detail):
                "cannot read file: \(detail)"
            case .notPEM:
                "not a PEM file (no '-----BEGIN ...-----' line)"
            case .wrongPEMType(let found, let expected):
                "PEM block is '\(found)', expected '\(expected)'"
            case .invalidContent(let detail):
                "invalid PEM content: \(detail)"
            case .keyDoesNotMatchCertificate(let certificatePath):
                "private key does not match the certificate \(certificatePath)"
            case .notACertificateAuthority:
                "certificate is not a CA certificate (no basicConstraints CA:TRUE)"
            case .notSignedByClusterCA(let caPath):
                "certificate is not signed by the cluster CA \(caPath)"
            case .expired(let date):
                "certificate expired at \(date.formatted(.iso8601))"
            case .notYetValid(let date):
                "certificate is not valid before \(date.formatted(.iso8601))"
            case .namesWrongNode(let expected, let found):
                "certificate names \(found), expected \(expected)"
            case .insecurePermissions(let mode):
                "private key file has permissions \(String(mode, radix: 8)), expected 600 (readable by owner only)"
            case .writeFailed(let detail):
                "cannot write file: \(detail)"
            case .alreadyExists:
                "file already exists; refusing to overwrite it"
            }
        }
    }

    /// The file concerned.
    public let path: String
    /// What is wrong with it.
    public let problem: Problem

    /// A file error for `path`.
    public init(path: String, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

/// Why a certificate could not be issued.
public enum CertificateIssueError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A host is neither an IP address nor a valid DNS name; `reason` says why.
    case invalidHost(String, reason: String)
    /// The certificate could not be built or signed; the detail comes from swift-certificates.
    case signingFailed(String)
    /// The requested validity is not a positive duration, or ends after the CA expires.
    case invalidValidity(String)

    public var description: String {
        switch self {
        case .invalidHost(let host, let reason): "cannot put host '\(host)' in a certificate: \(reason)"
        case .signingFailed(let detail): "cannot build or sign the certificate: \(detail)"
        case .invalidValidity(let detail): "invalid validity: \(detail)"
        }
    }
}
