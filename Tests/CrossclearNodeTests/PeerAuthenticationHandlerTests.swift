import NIOCore
import NIOEmbedded
import NIOSSL
import NIOTLS
import Testing
import X509

@testable import CrossclearNode

/// Records what reaches the end of the pipeline.
final class EventCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    var events: [Any] = []
    var errors: [any Error] = []
    var reads: [String] = []

    var authenticated: [PeerAuthenticated] { events.compactMap { $0 as? PeerAuthenticated } }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        events.append(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        errors.append(error)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        reads.append(buffer.readString(length: buffer.readableBytes) ?? "")
    }
}

@Suite("Peer authentication handler on EmbeddedChannel")
struct PeerAuthenticationHandlerTests {
    let cluster: TestCluster
    let hyperliquid = NodeIdentity.testVenue("hyperliquid")
    let dydx = NodeIdentity.testVenue("dydx")
    let binance = NodeIdentity.testVenue("binance")

    init() throws {
        cluster = try TestCluster()
    }

    /// A channel with the handler (fed `chain` as the verified peer chain) and a collector behind it,
    /// connected to 127.0.0.1:53422.
    func makeChannel(
        side: ConnectionSide, authorization: PeerAuthorization, chain: [Certificate]?, logs: LogCapture,
        record: PeerVerificationRecord = PeerVerificationRecord()
    ) throws -> (EmbeddedChannel, EventCollector) {
        let channel = EmbeddedChannel()
        let collector = EventCollector()
        let handler = PeerAuthenticationHandler(
            side: side, authorization: authorization, logger: logs.logger(), dialedHost: "127.0.0.1",
            verification: record, peerChain: { _ in chain })
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.pipeline.syncOperations.addHandler(collector)
        channel.remoteAddress = try SocketAddress(ipAddress: "127.0.0.1", port: 53422)
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 53422)).wait()
        return (channel, collector)
    }

    @Test("writes wait for authentication, then flow in order; the event carries the node")
    func acceptReleasesWrites() throws {
        let logs = LogCapture()
        let leaf = try cluster.credentials(hyperliquid).certificate
        let (channel, collector) = try makeChannel(
            side: .server, authorization: .anyOf([hyperliquid, dydx]), chain: [leaf], logs: logs)

        channel.writeAndFlush(ByteBuffer(string: "early"), promise: nil)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)

        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "early"))
        #expect(collector.authenticated.map(\.node) == [hyperliquid])
        #expect(collector.authenticated.first?.certificate == leaf)
        #expect(collector.events.contains { ($0 as? TLSUserEvent) == .handshakeCompleted(negotiatedProtocol: nil) })

        try channel.writeInbound(ByteBuffer(string: "hello"))
        #expect(collector.reads == ["hello"])
        #expect(channel.isActive)
        #expect(logs.messages(at: .info) == ["authenticated venue:hyperliquid at 127.0.0.1:53422"])
        _ = try channel.finish()
    }

    @Test("writes held before authentication are bounded")
    func heldWritesBounded() throws {
        let logs = LogCapture()
        let leaf = try cluster.credentials(hyperliquid).certificate
        let (channel, _) = try makeChannel(
            side: .client, authorization: .exactly(hyperliquid), chain: [leaf], logs: logs)
        let limit = PeerAuthenticationHandler.maximumHeldBytes
        let fits = channel.eventLoop.makePromise(of: Void.self)
        channel.write(ByteBuffer(repeating: 1, count: limit), promise: fits)
        let tooMuch = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(ByteBuffer(repeating: 2, count: 1), promise: tooMuch)
        #expect(throws: HeldWritesLimitExceeded(limitBytes: limit)) { try tooMuch.futureResult.wait() }

        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        try fits.futureResult.wait()
        #expect(try channel.readOutbound(as: ByteBuffer.self)?.readableBytes == limit)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        _ = try channel.finish()
    }

    @Test("a certificate naming another venue is refused, logged, and the channel closed")
    func rejectCloses() throws {
        let logs = LogCapture()
        let leaf = try cluster.credentials(binance).certificate
        let (channel, collector) = try makeChannel(
            side: .server, authorization: .anyOf([hyperliquid, dydx]), chain: [leaf], logs: logs)

        let early = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(ByteBuffer(string: "secret"), promise: early)
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))

        #expect(!channel.isActive)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(collector.authenticated.isEmpty)
        #expect(
            logs.messages(at: .warning) == [
                "rejected connection from 127.0.0.1:53422: certificate names venue:binance, expected one of venue:hyperliquid, venue:dydx"
            ])
        #expect(
            collector.errors.compactMap { $0 as? PeerRejection } == [
                .unexpectedNode(binance, expected: .anyOf([hyperliquid, dydx]))
            ])
        #expect(throws: PeerRejection.self) { try early.futureResult.wait() }
    }

    @Test("reads after a rejection are dropped")
    func dropsReadsAfterRejection() throws {
        let logs = LogCapture()
        let (channel, collector) = try makeChannel(
            side: .client, authorization: .clearingNode, chain: nil, logs: logs)
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        channel.pipeline.fireChannelRead(ByteBuffer(string: "late"))
        #expect(collector.reads.isEmpty)
        #expect(
            logs.messages(at: .warning) == [
                "rejected connection to 127.0.0.1:53422: no verified peer certificate after the handshake"
            ])
    }

    @Test("a failed handshake is logged with the reason verification recorded")
    func handshakeFailureUsesVerificationReason() throws {
        let logs = LogCapture()
        let record = PeerVerificationRecord()
        let (channel, collector) = try makeChannel(
            side: .server, authorization: .anyOf([hyperliquid]), chain: nil, logs: logs, record: record)
        record.rejection = .notSignedByClusterCA(issuer: "CN=somebody else")
        channel.pipeline.fireErrorCaught(NIOSSLError.handshakeFailed(.sslError([])))
        #expect(!channel.isActive)
        #expect(
            logs.messages(at: .warning) == [
                "rejected connection from 127.0.0.1:53422: certificate not signed by the cluster CA (issuer: CN=somebody else)"
            ])
        #expect(
            collector.errors.compactMap { $0 as? PeerRejection } == [.notSignedByClusterCA(issuer: "CN=somebody else")])
    }

    @Test("without a recorded reason, the TLS error is explained")
    func explainsTLSErrors() {
        #expect(
            PeerAuthenticationHandler.explainHandshakeError(
                NIOSSLExtraError.failedToValidateHostname, dialedHost: "10.0.0.1")
                == .hostnameMismatch(host: "10.0.0.1"))
        struct FakeBoringError: Error, CustomStringConvertible {
            var description: String {
                "handshakeFailed(sslError([Error: 268436502 error:10000416:SSL routines:OPENSSL_internal:SSLV3_ALERT_CERTIFICATE_UNKNOWN]))"
            }
        }
        #expect(
            PeerAuthenticationHandler.explainHandshakeError(FakeBoringError(), dialedHost: nil)
                == .refusedByPeer(alert: "SSLV3_ALERT_CERTIFICATE_UNKNOWN"))
        #expect(
            PeerAuthenticationHandler.explainHandshakeError(ChannelError.eof, dialedHost: nil)
                == .handshakeFailed("\(ChannelError.eof)"))
    }

    @Test("a connection closed before the handshake fails held writes and is logged at info")
    func closedDuringHandshake() throws {
        let logs = LogCapture()
        let (channel, collector) = try makeChannel(
            side: .server, authorization: .anyOf([hyperliquid]), chain: nil, logs: logs)
        let early = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(ByteBuffer(string: "x"), promise: early)
        try channel.close().wait()
        #expect(throws: PeerRejection.closedDuringHandshake) { try early.futureResult.wait() }
        #expect(
            logs.messages(at: .info) == [
                "rejected connection from 127.0.0.1:53422: connection closed during the TLS handshake"
            ])
        #expect(collector.authenticated.isEmpty)
    }
}
