import Foundation

/// Why a TLS peer was refused. Its description is the reason logged after
/// `rejected connection from <address>: ` (or `... to <address>: ` on the dialing side).
public enum PeerRejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// The peer presented no certificate.
    case noCertificate
    /// The peer's certificate does not chain to the cluster CA; `issuer` is the issuer it names.
    case notSignedByClusterCA(issuer: String)
    /// The peer's certificate expired at `notValidAfter`.
    case expired(notValidAfter: Date)
    /// The peer's certificate is not valid before `notValidBefore`.
    case notYetValid(notValidBefore: Date)
    /// The peer's certificate lacks the extended key usage its side needs (`clientAuth` to dial,
    /// `serverAuth` to accept).
    case missingKeyUsage(String)
    /// Chain validation failed for another reason; the detail lists the policy failures.
    case invalidChain(String)
    /// The peer's certificate could not be decoded.
    case unreadableCertificate(String)
    /// The handshake completed but no verified certificate was found in the pipeline (a wiring error:
    /// the TLS handler must be built by ``MutualTLS``).
    case noVerifiedCertificate
    /// The verified certificate does not name a crossclear node.
    case noNodeName(NodeNameError)
    /// The verified certificate names a node the authorization rule does not allow.
    case unexpectedNode(NodeIdentity, expected: PeerAuthorization)
    /// The dialed server's certificate does not name the host that was dialed.
    case hostnameMismatch(host: String)
    /// The peer ended the connection with a TLS alert, during the handshake or (TLS 1.3, dialing side)
    /// just after it: usually it refused our certificate.
    case refusedByPeer(alert: String)
    /// The TLS handshake failed for another reason (connection reset, protocol error...).
    case handshakeFailed(String)
    /// The connection closed before the TLS handshake completed.
    case closedDuringHandshake

    public var description: String {
        switch self {
        case .noCertificate:
            "no certificate presented"
        case .notSignedByClusterCA(let issuer):
            "certificate not signed by the cluster CA (issuer: \(issuer))"
        case .expired(let date):
            "certificate expired at \(date.formatted(.iso8601))"
        case .notYetValid(let date):
            "certificate not valid before \(date.formatted(.iso8601))"
        case .missingKeyUsage(let usage):
            "certificate lacks the \(usage) extended key usage"
        case .invalidChain(let detail):
            "certificate chain rejected: \(detail)"
        case .unreadableCertificate(let detail):
            "certificate cannot be decoded: \(detail)"
        case .noVerifiedCertificate:
            "no verified peer certificate after the handshake"
        case .noNodeName(let error):
            "\(error)"
        case .unexpectedNode(let node, let expected):
            "certificate names \(node), expected \(expected)"
        case .hostnameMismatch(let host):
            "certificate does not name the dialed host \(host)"
        case .refusedByPeer(let alert):
            if alert.contains("CERTIFICATE") || alert.contains("UNKNOWN_CA") || alert.contains("ACCESS_DENIED") {
                "peer sent TLS alert \(alert): it refused our certificate"
            } else {
                "peer sent TLS alert \(alert)"
            }
        case .handshakeFailed(let detail):
            "TLS handshake failed: \(detail)"
        case .closedDuringHandshake:
            "connection closed during the TLS handshake"
        }
    }
}
