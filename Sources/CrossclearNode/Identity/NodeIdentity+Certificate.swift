import X509

extension NodeIdentity {
    /// Reads the node a certificate names.
    ///
    /// Strict: the subject alternative names must hold exactly one URI whose scheme is `crossclear`
    /// (compared without case), that URI must be exactly `crossclear://node/<name>` with a valid name,
    /// and the subject must be exactly `CN=<name>`. DNS and IP names are ignored here.
    ///
    /// This does not check who signed the certificate: call it only on a certificate whose chain was
    /// verified against the cluster CA.
    ///
    /// - Throws: ``NodeNameError``.
    public init(certificate: Certificate) throws(NodeNameError) {
        let sans: SubjectAlternativeNames?
        do {
            sans = try certificate.extensions.subjectAlternativeNames
        } catch {
            throw NodeNameError.unreadableExtensions(String(describing: error))
        }
        var claims: [String] = []
        for name in sans ?? SubjectAlternativeNames() {
            if case .uniformResourceIdentifier(let uri) = name, uri.lowercased().hasPrefix("crossclear:") {
                claims.append(uri)
            }
        }
        guard let claim = claims.first else { throw NodeNameError.noNodeURI }
        guard claims.count == 1 else { throw NodeNameError.multipleNodeURIs(claims) }
        let node = try NodeIdentity(uri: claim)

        let expectedSubject: DistinguishedName
        do {
            expectedSubject = try node.distinguishedName()
        } catch {
            throw NodeNameError.subjectMismatch(expected: node.name, found: certificate.subject.description)
        }
        guard certificate.subject == expectedSubject else {
            throw NodeNameError.subjectMismatch(expected: node.name, found: certificate.subject.description)
        }
        self = node
    }

    /// The subject this node's certificate carries: `CN=<name>`.
    func distinguishedName() throws -> DistinguishedName {
        let name = self.name
        return try DistinguishedName {
            CommonName(name)
        }
    }
}
