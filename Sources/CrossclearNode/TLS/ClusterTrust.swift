import Foundation
import X509

/// Verification of a peer's certificate chain against the cluster CA, with a precise reason on failure.
///
/// The decision is swift-certificates' `Verifier` with `RFC5280Policy` and the cluster CA as the only
/// root (signatures, validity dates, basic constraints, name constraints, critical extensions), plus the
/// extended key usage of the peer's side. When it fails, the leaf is examined once more only to name
/// the cause in the log; that examination never turns a failure into a success.
public enum ClusterTrust {
    /// The extended key usage the peer's leaf must carry.
    public enum RequiredUsage: Sendable, Hashable, CustomStringConvertible {
        /// The peer dialed us: its certificate must allow TLS client authentication.
        case clientAuth
        /// We dialed the peer: its certificate must allow TLS server authentication.
        case serverAuth

        var usage: ExtendedKeyUsage.Usage {
            switch self {
            case .clientAuth: .clientAuth
            case .serverAuth: .serverAuth
            }
        }

        public var description: String {
            switch self {
            case .clientAuth: "clientAuth"
            case .serverAuth: "serverAuth"
            }
        }
    }

    /// Verifies `chain` (leaf first, then whatever the peer sent along) against `ca` at the current time.
    ///
    /// - Returns: the validated chain (leaf to CA), or why it is refused.
    public static func verify(
        chain: [Certificate], trusting ca: Certificate, requiredUsage: RequiredUsage
    ) async -> Result<ValidatedCertificateChain, PeerRejection> {
        guard let leaf = chain.first else {
            return .failure(.noCertificate)
        }
        var verifier = Verifier(rootCertificates: CertificateStore([ca])) {
            RFC5280Policy()
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(chain.dropFirst()))
        switch result {
        case .validCertificate(let validated):
            guard hasUsage(leaf, requiredUsage) else {
                return .failure(.missingKeyUsage(requiredUsage.description))
            }
            return .success(validated)
        case .couldNotValidate(let failures):
            return .failure(
                explainFailure(
                    leaf: leaf, ca: ca, now: Date(),
                    policyFailures: failures.map { $0.policyFailureReason.description }))
        }
    }

    /// Names the cause of a chain that did not validate. Pure.
    static func explainFailure(
        leaf: Certificate, ca: Certificate, now: Date, policyFailures: [String]
    ) -> PeerRejection {
        if !CertificateChecks.isSigned(leaf, by: ca) {
            return .notSignedByClusterCA(issuer: leaf.issuer.description)
        }
        if now > leaf.notValidAfter {
            return .expired(notValidAfter: leaf.notValidAfter)
        }
        if now < leaf.notValidBefore {
            return .notYetValid(notValidBefore: leaf.notValidBefore)
        }
        if now > ca.notValidAfter {
            return .invalidChain("the cluster CA certificate expired at \(ca.notValidAfter.formatted(.iso8601))")
        }
        if policyFailures.isEmpty {
            return .invalidChain("the certificate has an unsupported critical extension or no path to the cluster CA")
        }
        return .invalidChain(policyFailures.joined(separator: "; "))
    }

    static func hasUsage(_ certificate: Certificate, _ required: RequiredUsage) -> Bool {
        guard let usages = try? certificate.extensions.extendedKeyUsage else {
            return false
        }
        return usages.contains(required.usage)
    }
}
