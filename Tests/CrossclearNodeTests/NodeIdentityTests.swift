import Crypto
import Foundation
import Testing
import X509

@testable import CrossclearNode

@Suite("Node names")
struct NodeIdentityTests {
    @Test(
        "clearing and venue names parse and print back",
        arguments: ["clearing", "venue:hyperliquid", "venue:dydx-v4", "venue:0x"])
    func roundTrip(text: String) throws {
        let node = try NodeIdentity(parsing: text)
        #expect(node.name == text)
        #expect(node.description == text)
        #expect(try NodeIdentity(uri: node.uri) == node)
        #expect(node.uri == "crossclear://node/" + text)
    }

    @Test(
        "malformed names are refused",
        arguments: [
            "", "Clearing", "clearing ", "venue:", "venue:Binance", "venue:bin_ance", "venue:-x", "venue:a:b",
            "venue: x", "venue:é", "venue", "VENUE:x", "node:x", "venue:" + String(repeating: "a", count: 64),
        ])
    func malformed(text: String) {
        #expect(throws: NodeNameError.self) { try NodeIdentity(parsing: text) }
    }

    @Test(
        "URIs must use the exact prefix",
        arguments: [
            "crossclear://node", "CROSSCLEAR://node/clearing", "crossclear://nodes/clearing", "https://node/clearing",
            "crossclear://node/venue:X",
        ])
    func malformedURI(uri: String) {
        #expect(throws: NodeNameError.self) { try NodeIdentity(uri: uri) }
    }

    @Test("file-safe names are distinct and never 'ca'")
    func fileSafeNames() throws {
        #expect(NodeIdentity.clearing.fileSafeName == "clearing")
        #expect(try NodeIdentity.venue("hyperliquid").fileSafeName == "venue-hyperliquid")
        #expect(try NodeIdentity.venue("ca").fileSafeName == "venue-ca")
    }

    @Test("the clearing node sorts first, venues by name")
    func ordering() throws {
        let nodes = [try NodeIdentity.venue("okx"), .clearing, try NodeIdentity.venue("binance")]
        #expect(nodes.sorted().map(\.name) == ["clearing", "venue:binance", "venue:okx"])
    }

    @Test("an issued certificate names its node in the SAN URI and the CN")
    func certificateCarriesName() throws {
        let ca = try CertificateAuthority.generate()
        let node = try NodeIdentity.venue("hyperliquid")
        let credentials = try ca.issue(node: node, hosts: ["127.0.0.1", "localhost", "::1"])
        #expect(try NodeIdentity(certificate: credentials.certificate) == node)

        let sans = try #require(try credentials.certificate.extensions.subjectAlternativeNames)
        #expect(sans.contains(.uniformResourceIdentifier("crossclear://node/venue:hyperliquid")))
        #expect(sans.contains(.dnsName("localhost")))
        #expect(sans.count == 4)
        #expect(credentials.certificate.subject.description == "CN=venue:hyperliquid")

        let usage = try #require(try credentials.certificate.extensions.extendedKeyUsage)
        #expect(usage.contains(.clientAuth))
        #expect(usage.contains(.serverAuth))
        #expect(try credentials.certificate.extensions.basicConstraints == .notCertificateAuthority)
    }

    @Test("a certificate with no node URI, two node URIs or a mismatched CN names no node")
    func strictCertificateParsing() throws {
        #expect(throws: NodeNameError.noNodeURI) {
            try NodeIdentity(certificate: makeCertificate(cn: "clearing", uris: []))
        }
        #expect(throws: NodeNameError.multipleNodeURIs(["crossclear://node/clearing", "crossclear://node/venue:x"])) {
            try NodeIdentity(
                certificate: makeCertificate(
                    cn: "clearing", uris: ["crossclear://node/clearing", "crossclear://node/venue:x"]))
        }
        #expect(throws: NodeNameError.self) {
            try NodeIdentity(certificate: makeCertificate(cn: "venue:binance", uris: ["crossclear://node/clearing"]))
        }
        #expect(throws: NodeNameError.self) {
            try NodeIdentity(certificate: makeCertificate(cn: "clearing", uris: ["crossclear://node/Clearing"]))
        }
        // Other URIs are ignored.
        #expect(
            try NodeIdentity(
                certificate: makeCertificate(
                    cn: "clearing", uris: ["https://example.com", "crossclear://node/clearing"]))
                == .clearing)
    }

    @Test(
        "invalid hosts are refused when issuing",
        arguments: ["", "exa mple.com", "*.example.com", "-bad.example", "a..b", "[::1]"])
    func invalidHosts(host: String) throws {
        let ca = try CertificateAuthority.generate()
        #expect(throws: CertificateIssueError.self) { try ca.issue(node: .clearing, hosts: [host]) }
    }
}

/// A self-signed certificate with the given CN and URIs, to test name extraction on odd certificates.
func makeCertificate(cn: String, uris: [String]) throws -> Certificate {
    let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
    let name = try DistinguishedName { CommonName(cn) }
    let extensions = try Certificate.Extensions {
        SubjectAlternativeNames(uris.map { .uniformResourceIdentifier($0) })
    }
    return try Certificate(
        version: .v3, serialNumber: .init(), publicKey: key.publicKey,
        notValidBefore: Date().addingTimeInterval(-60), notValidAfter: Date().addingTimeInterval(3600),
        issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
        issuerPrivateKey: key)
}
