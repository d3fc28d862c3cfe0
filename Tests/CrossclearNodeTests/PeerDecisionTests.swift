import Crypto
import Foundation
import Testing
import X509

@testable import CrossclearNode

@Suite("Peer decisions without sockets")
struct PeerDecisionTests {
    let cluster: TestCluster
    let hyperliquid = NodeIdentity.testVenue("hyperliquid")
    let dydx = NodeIdentity.testVenue("dydx")
    let binance = NodeIdentity.testVenue("binance")

    init() throws {
        cluster = try TestCluster()
    }

    @Test("a venue named in the cluster is accepted")
    func acceptsNamedVenue() throws {
        let leaf = try cluster.credentials(hyperliquid).certificate
        #expect(PeerAuthorization.anyOf([hyperliquid, dydx]).decide(validatedChain: [leaf]) == .accept(hyperliquid))
        #expect(PeerAuthorization.exactly(hyperliquid).decide(validatedChain: [leaf]) == .accept(hyperliquid))
    }

    @Test("a venue not named is refused with a reason listing what was expected")
    func refusesOtherVenue() throws {
        let leaf = try cluster.credentials(binance).certificate
        let decision = PeerAuthorization.anyOf([hyperliquid, dydx]).decide(validatedChain: [leaf])
        guard case .reject(let rejection) = decision else {
            Issue.record("expected a rejection, got \(decision)")
            return
        }
        #expect(
            rejection.description == "certificate names venue:binance, expected one of venue:hyperliquid, venue:dydx")
        #expect(
            PeerAuthorization.exactly(hyperliquid).decide(validatedChain: [leaf])
                == .reject(.unexpectedNode(binance, expected: .exactly(hyperliquid))))
    }

    @Test("a venue dialing accepts only the clearing node")
    func clientSideRule() throws {
        let clearing = try cluster.credentials(.clearing).certificate
        let venue = try cluster.credentials(binance).certificate
        #expect(PeerAuthorization.clearingNode.decide(validatedChain: [clearing]) == .accept(.clearing))
        let decision = PeerAuthorization.clearingNode.decide(validatedChain: [venue])
        #expect(decision == .reject(.unexpectedNode(binance, expected: .clearingNode)))
        if case .reject(let rejection) = decision {
            #expect(rejection.description == "certificate names venue:binance, expected clearing")
        }
    }

    @Test("no chain, or a certificate naming no node, is refused")
    func refusesUnnamed() throws {
        #expect(PeerAuthorization.clearingNode.decide(validatedChain: nil) == .reject(.noVerifiedCertificate))
        #expect(PeerAuthorization.clearingNode.decide(validatedChain: []) == .reject(.noVerifiedCertificate))
        let unnamed = try makeCertificate(cn: "clearing", uris: [])
        #expect(PeerAuthorization.clearingNode.decide(validatedChain: [unnamed]) == .reject(.noNodeName(.noNodeURI)))
    }

    @Test("an empty rule allows nobody and says so")
    func emptyRule() throws {
        let rule = PeerAuthorization(allowing: [])
        let leaf = try cluster.credentials(hyperliquid).certificate
        #expect(rule.decide(validatedChain: [leaf]) == .reject(.unexpectedNode(hyperliquid, expected: rule)))
        #expect(rule.description == "no node at all")
        #expect(PeerAuthorization(allowing: [dydx, dydx, hyperliquid]).allowedNodes == [dydx, hyperliquid])
    }

    // MARK: - Chain verification

    @Test("a chain from the cluster CA verifies, with the CA at its root")
    func verifiesClusterChain() async throws {
        let leaf = try cluster.credentials(hyperliquid).certificate
        let result = await ClusterTrust.verify(
            chain: [leaf], trusting: cluster.ca.certificate, requiredUsage: .clientAuth)
        let chain = try result.get()
        #expect(chain.leaf == leaf)
        #expect(chain.root == cluster.ca.certificate)
    }

    @Test("a chain from another CA is refused as not signed by the cluster CA")
    func refusesForeignChain() async throws {
        let foreign = try TestCluster().credentials(hyperliquid).certificate
        let result = await ClusterTrust.verify(
            chain: [foreign], trusting: cluster.ca.certificate, requiredUsage: .clientAuth)
        guard case .failure(let rejection) = result, case .notSignedByClusterCA = rejection else {
            Issue.record("expected notSignedByClusterCA, got \(result)")
            return
        }
        #expect(
            rejection.description.hasPrefix(
                "certificate not signed by the cluster CA (issuer: CN=crossclear cluster CA "))

        // Sending the foreign CA along does not help.
        let foreignWithOwnCA = await ClusterTrust.verify(
            chain: [foreign, cluster.ca.certificate], trusting: try TestCluster().ca.certificate,
            requiredUsage: .clientAuth)
        #expect(throws: PeerRejection.self) { try foreignWithOwnCA.get() }
    }

    @Test("an expired certificate is refused as expired")
    func refusesExpired() async throws {
        let longAgo = Date().addingTimeInterval(-400 * 86_400)
        let ca = try CertificateAuthority.generate(now: longAgo)
        let leaf = try ca.issue(node: hyperliquid, hosts: ["127.0.0.1"], now: longAgo, validity: .seconds(86_400))
            .certificate
        let result = await ClusterTrust.verify(chain: [leaf], trusting: ca.certificate, requiredUsage: .clientAuth)
        #expect(throws: PeerRejection.expired(notValidAfter: leaf.notValidAfter)) { try result.get() }
    }

    @Test("an empty chain, or a certificate without the needed key usage, is refused")
    func refusesMissingCertificateOrUsage() async throws {
        let empty = await ClusterTrust.verify(chain: [], trusting: cluster.ca.certificate, requiredUsage: .serverAuth)
        #expect(throws: PeerRejection.noCertificate) { try empty.get() }

        // A CA-signed certificate carrying the node URI but no extended key usage.
        let key = Certificate.PrivateKey(cluster.ca.privateKey)
        let subjectKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let leaf = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: subjectKey.publicKey,
            notValidBefore: Date().addingTimeInterval(-60), notValidAfter: Date().addingTimeInterval(3600),
            issuer: cluster.ca.certificate.subject, subject: try DistinguishedName { CommonName("clearing") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                SubjectAlternativeNames([.uniformResourceIdentifier("crossclear://node/clearing")])
            },
            issuerPrivateKey: key)
        let result = await ClusterTrust.verify(
            chain: [leaf], trusting: cluster.ca.certificate, requiredUsage: .serverAuth)
        #expect(throws: PeerRejection.missingKeyUsage("serverAuth")) { try result.get() }
    }
}
