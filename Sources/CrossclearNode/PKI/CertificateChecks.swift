import Foundation
import X509

/// Checks shared by the loaders, each failing with a ``CertificateFileError`` for a given file.
enum CertificateChecks {
    /// The certificate must carry basicConstraints CA:TRUE and be self-signed.
    static func requireCertificateAuthority(_ certificate: Certificate, path: String) throws(CertificateFileError) {
        let constraints: BasicConstraints?
        do {
            constraints = try certificate.extensions.basicConstraints
        } catch {
            throw CertificateFileError(path: path, problem: .invalidContent(String(describing: error)))
        }
        guard case .isCertificateAuthority = constraints else {
            throw CertificateFileError(path: path, problem: .notACertificateAuthority)
        }
        guard certificate.issuer == certificate.subject,
            certificate.publicKey.isValidSignature(certificate.signature, for: certificate)
        else {
            throw CertificateFileError(path: path, problem: .invalidContent("the CA certificate is not self-signed"))
        }
    }

    /// The certificate must be valid at `now`.
    static func requireValid(_ certificate: Certificate, at now: Date, path: String) throws(CertificateFileError) {
        if now > certificate.notValidAfter {
            throw CertificateFileError(path: path, problem: .expired(notValidAfter: certificate.notValidAfter))
        }
        if now < certificate.notValidBefore {
            throw CertificateFileError(path: path, problem: .notYetValid(notValidBefore: certificate.notValidBefore))
        }
    }

    /// Whether `ca` signed `certificate`: the issuer name matches and the signature verifies with the CA's key.
    static func isSigned(_ certificate: Certificate, by ca: Certificate) -> Bool {
        certificate.issuer == ca.subject && ca.publicKey.isValidSignature(certificate.signature, for: certificate)
    }
}
