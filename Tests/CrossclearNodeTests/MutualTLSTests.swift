import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Testing

@testable import CrossclearNode

/// Real TLS over real sockets on 127.0.0.1 (port 0, read back). No other address is ever dialed.
@Suite("Mutual TLS over loopback sockets", .timeLimit(.minutes(2)))
struct MutualTLSTests {
    let hyperliquid = NodeIdentity.testVenue("hyperliquid")
    let dydx = NodeIdentity.testVenue("dydx")
    let binance = NodeIdentity.testVenue("binance")

    @Test("a venue with a cluster certificate connects; both ends learn who the other is; bytes flow both ways")
    func venueConnects() async throws {
        let cluster = try TestCluster()
        let serverLogs = LogCapture()
        let clientLogs = LogCapture()
        try await withEventLoopGroup { group in
            let server = try await startServer(
                group: group, tls: try cluster.tls(.clearing), accepting: .anyOf([hyperliquid, dydx]),
                logger: serverLogs.logger())
            let outcome = try await dial(
                group: group, tls: try cluster.tls(hyperliquid), port: server.port, logger: clientLogs.logger())

            #expect(outcome.authenticated == .clearing)
            #expect(outcome.reply == "echo:ping")
            #expect(outcome.errors.isEmpty)
            #expect(server.nodes.nodes == [hyperliquid])
            let clientPort = try #require(outcome.localPort)
            #expect(
                serverLogs.messages(at: .info).contains("authenticated venue:hyperliquid at 127.0.0.1:\(clientPort)"))
            #expect(clientLogs.messages(at: .info).contains("authenticated clearing at 127.0.0.1:\(server.port)"))
            #expect(serverLogs.messages(at: .warning).isEmpty)
            try await server.channel.close()
        }
    }

    @Test("a client whose certificate comes from another CA is refused; the server keeps serving")
    func foreignCARefused() async throws {
        let cluster = try TestCluster()
        let impostor = try TestCluster()  // another CA issuing the very same venue name
        let serverLogs = LogCapture()
        let clientLogs = LogCapture()
        try await withEventLoopGroup { group in
            let server = try await startServer(
                group: group, tls: try cluster.tls(.clearing), accepting: .anyOf([hyperliquid]),
                logger: serverLogs.logger())

            // The impostor's client trusts the real cluster CA (so it gets as far as possible) but presents
            // a certificate from its own CA.
            let impostorCredentials = try impostor.credentials(hyperliquid)
            let impostorTLS = try MutualTLS(
                credentials: NodeCredentials(
                    node: hyperliquid, certificate: impostorCredentials.certificate,
                    privateKey: impostorCredentials.privateKey, caCertificate: cluster.ca.certificate))
            let refused = try await dial(group: group, tls: impostorTLS, port: server.port, logger: clientLogs.logger())

            // Server side the handshake fails. Under TLS 1.3 the client's own handshake completes before the
            // server judges its certificate, so the refusal reaches it as a TLS alert right after.
            #expect(refused.reply == nil)
            #expect(refused.rejections.contains { if case .refusedByPeer = $0 { true } else { false } })
            #expect(
                clientLogs.messages(at: .warning).contains {
                    $0.hasPrefix("rejected connection to 127.0.0.1:\(server.port): peer sent TLS alert ")
                        && $0.hasSuffix("it refused our certificate")
                })
            let clientPort = try #require(refused.localPort)
            let expectedPrefix =
                "rejected connection from 127.0.0.1:\(clientPort): certificate not signed by the cluster CA (issuer: CN=crossclear cluster CA "
            #expect(await eventually { serverLogs.messages(at: .warning).contains { $0.hasPrefix(expectedPrefix) } })
            #expect(server.nodes.nodes.isEmpty)

            // The server still serves a good client.
            let good = try await dial(
                group: group, tls: try cluster.tls(hyperliquid), port: server.port, logger: clientLogs.logger())
            #expect(good.authenticated == .clearing)
            #expect(good.reply == "echo:ping")
            #expect(server.nodes.nodes == [hyperliquid])
            try await server.channel.close()
        }
    }

    @Test("a client naming a venue the server does not accept is refused with the reason logged")
    func wrongVenueRefused() async throws {
        let cluster = try TestCluster()
        let serverLogs = LogCapture()
        let clientLogs = LogCapture()
        try await withEventLoopGroup { group in
            let server = try await startServer(
                group: group, tls: try cluster.tls(.clearing), accepting: .anyOf([hyperliquid, dydx]),
                logger: serverLogs.logger())
            let outcome = try await dial(
                group: group, tls: try cluster.tls(binance), port: server.port, logger: clientLogs.logger())

            #expect(outcome.reply == nil)
            let clientPort = try #require(outcome.localPort)
            let expected =
                "rejected connection from 127.0.0.1:\(clientPort): certificate names venue:binance, expected one of venue:hyperliquid, venue:dydx"
            #expect(await eventually { serverLogs.messages(at: .warning) == [expected] })
            #expect(server.nodes.nodes.isEmpty)
            try await server.channel.close()
        }
    }

    @Test("a venue dialing a server that presents a venue certificate instead of clearing refuses it")
    func clientRefusesNonClearingServer() async throws {
        let cluster = try TestCluster()
        let serverLogs = LogCapture()
        let clientLogs = LogCapture()
        try await withEventLoopGroup { group in
            // A venue's certificate, valid and from the cluster CA, used to impersonate the clearing node.
            let server = try await startServer(
                group: group, tls: try cluster.tls(binance), accepting: .anyOf([hyperliquid]),
                logger: serverLogs.logger())
            let outcome = try await dial(
                group: group, tls: try cluster.tls(hyperliquid), port: server.port, logger: clientLogs.logger(),
                message: "margin state that must not leak")

            #expect(outcome.authenticated == nil)
            #expect(outcome.reply == nil)
            #expect(outcome.rejections == [.unexpectedNode(binance, expected: .clearingNode)])
            #expect(
                clientLogs.messages(at: .warning) == [
                    "rejected connection to 127.0.0.1:\(server.port): certificate names venue:binance, expected clearing"
                ])
            try await server.channel.close()
        }
    }

    @Test("a server whose certificate does not name the dialed host is refused")
    func hostnameChecked() async throws {
        let cluster = try TestCluster()
        let clientLogs = LogCapture()
        try await withEventLoopGroup { group in
            // The certificate names another address only; nothing is ever sent to it.
            let server = try await startServer(
                group: group, tls: try cluster.tls(.clearing, hosts: ["10.77.0.9", "clearing.invalid"]),
                accepting: .anyOf([hyperliquid]), logger: LogCapture().logger())
            let outcome = try await dial(
                group: group, tls: try cluster.tls(hyperliquid), port: server.port, logger: clientLogs.logger())
            #expect(outcome.authenticated == nil)
            #expect(outcome.rejections == [.hostnameMismatch(host: "127.0.0.1")])
            #expect(
                clientLogs.messages(at: .warning) == [
                    "rejected connection to 127.0.0.1:\(server.port): certificate does not name the dialed host 127.0.0.1"
                ])
            try await server.channel.close()
        }
    }

    @Test("a client presenting no certificate is refused")
    func noClientCertificate() async throws {
        let cluster = try TestCluster()
        let serverLogs = LogCapture()
        try await withEventLoopGroup { group in
            let server = try await startServer(
                group: group, tls: try cluster.tls(.clearing), accepting: .anyOf([hyperliquid]),
                logger: serverLogs.logger())
            // A plain TLS client that trusts the cluster CA but has no certificate of its own.
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .certificates([
                try NIOSSLCertificate(
                    bytes: Array(cluster.ca.certificate.serializeAsPEM().pemString.utf8), format: .pem)
            ])
            configuration.certificateVerification = .noHostnameVerification
            let context = try NIOSSLContext(configuration: configuration)
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: context, serverHostname: nil))
                    }
                }
                .connect(host: "127.0.0.1", port: server.port)
                .get()
            #expect(
                await eventually {
                    serverLogs.messages(at: .warning).count == 1
                        && serverLogs.messages(at: .warning)[0].hasPrefix("rejected connection from 127.0.0.1:")
                        && serverLogs.messages(at: .warning)[0].hasSuffix(": no certificate presented")
                })
            try? await channel.closeFuture.get()
            #expect(server.nodes.nodes.isEmpty)
            try await server.channel.close()
        }
    }

    @Test("an expired client certificate is refused as expired")
    func expiredClientRefused() async throws {
        let longAgo = Date().addingTimeInterval(-400 * 86_400)
        let ca = try CertificateAuthority.generate(now: longAgo)
        let serverLogs = LogCapture()
        try await withEventLoopGroup { group in
            let server = try await startServer(
                group: group, tls: try MutualTLS(credentials: ca.issue(node: .clearing, hosts: ["127.0.0.1"])),
                accepting: .anyOf([hyperliquid]), logger: serverLogs.logger())
            let expired = try ca.issue(
                node: hyperliquid, hosts: ["127.0.0.1"], now: longAgo, validity: .seconds(86_400))
            let outcome = try await dial(
                group: group, tls: try MutualTLS(credentials: expired), port: server.port,
                logger: LogCapture().logger())
            #expect(outcome.reply == nil)
            let clientPort = try #require(outcome.localPort)
            #expect(
                await eventually {
                    serverLogs.messages(at: .warning).contains {
                        $0.hasPrefix("rejected connection from 127.0.0.1:\(clientPort): certificate expired at ")
                    }
                })
            #expect(server.nodes.nodes.isEmpty)
            try await server.channel.close()
        }
    }

    @Test("credentials written by the CA and loaded from disk work end to end")
    func loadedCredentials() async throws {
        try await withTemporaryDirectory { state in
            let certs = CertificateDirectory(stateDirectory: state)
            let ca = try CertificateAuthority.create(in: certs)
            try ca.issue(node: .clearing, hosts: ["127.0.0.1", "localhost"])
            try ca.issue(node: hyperliquid, hosts: ["127.0.0.1"])
            let clearingTLS = try MutualTLS(credentials: NodeCredentials.load(node: .clearing, from: certs))
            let venueTLS = try MutualTLS(credentials: NodeCredentials.load(node: hyperliquid, from: certs))
            try await withEventLoopGroup { group in
                let server = try await startServer(
                    group: group, tls: clearingTLS, accepting: .exactly(hyperliquid), logger: LogCapture().logger())
                let outcome = try await dial(
                    group: group, tls: venueTLS, port: server.port, logger: LogCapture().logger())
                #expect(outcome.authenticated == .clearing)
                #expect(outcome.reply == "echo:ping")
                #expect(server.nodes.nodes == [hyperliquid])
                try await server.channel.close()
            }
        }
    }
}
