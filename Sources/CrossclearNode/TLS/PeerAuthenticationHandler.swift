import Logging
import NIOCore
import NIOSSL
import NIOTLS
import X509

/// Fired as an inbound user event once the peer's verified certificate names an allowed node.
/// Handlers after ``PeerAuthenticationHandler`` should start talking only after seeing it.
public struct PeerAuthenticated: Hashable, Sendable {
    /// The node at the other end.
    public let node: NodeIdentity
    /// The peer's verified leaf certificate.
    public let certificate: Certificate

    /// An event for `node`, authenticated by `certificate`.
    public init(node: NodeIdentity, certificate: Certificate) {
        self.node = node
        self.certificate = certificate
    }
}

/// Which end of the connection a handler sits on.
public enum ConnectionSide: Hashable, Sendable {
    /// We accepted the connection (the clearing node's listener).
    case server
    /// We dialed the connection (a venue dialing the clearing node).
    case client
}

/// Decides, when the TLS handshake completes, whether the peer is a node this connection may talk to.
///
/// Placed right after the `NIOSSLHandler` (``MutualTLS`` does it). On `TLSUserEvent.handshakeCompleted`
/// it reads the peer's verified certificate chain, takes the node name from it and asks the
/// ``PeerAuthorization`` (``PeerAuthorization/decide(validatedChain:)``, a pure function). Then either:
/// - it fires ``PeerAuthenticated`` down the pipeline (after releasing writes made before that point), or
/// - it logs `rejected connection from <address>: <reason>` (`... to <address>` on the dialing side) at
///   warning level, fails held writes, fires the ``PeerRejection`` as an error, and closes the channel.
///
/// A failed handshake is logged the same way, with the reason found by certificate verification
/// (`certificate not signed by the cluster CA ...`) or read from the TLS error.
///
/// Until the peer is authenticated, inbound data is dropped and outbound writes are held, so nothing is
/// sent to a peer that turns out to be the wrong node. Not thread-safe: use on the channel's event loop.
public final class PeerAuthenticationHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private let side: ConnectionSide
    private let authorization: PeerAuthorization
    private let logger: Logger
    private let dialedHost: String?
    private let verification: PeerVerificationRecord
    private let peerChain: (ChannelHandlerContext) -> [Certificate]?

    private var stateMachine = PeerAuthenticationStateMachine()
    private var heldWrites: [(data: NIOAny, promise: EventLoopPromise<Void>?)] = []
    private var heldBytes = 0
    private var flushHeld = false

    /// The most bytes held back before the peer is authenticated; writes beyond fail with
    /// ``HeldWritesLimitExceeded``. Applications should wait for ``PeerAuthenticated`` before writing.
    public static let maximumHeldBytes = 1 << 20
    private var peerAddress: String = "unknown address"

    /// The authenticated peer, once known.
    public var authenticatedNode: NodeIdentity? {
        if case .authenticated(let node) = stateMachine.state { return node }
        return nil
    }

    /// A handler that reads the verified chain from the pipeline's `NIOSSLHandler`.
    ///
    /// The `NIOSSLHandler` must have been built with a verification callback that returns the validated
    /// chain (as ``MutualTLS`` does); otherwise every peer is refused with
    /// ``PeerRejection/noVerifiedCertificate``.
    ///
    /// - Parameters:
    ///   - side: Whether this end accepted or dialed the connection (used in log lines).
    ///   - authorization: The nodes allowed at the other end.
    ///   - logger: Where acceptances (info) and rejections (warning) are logged.
    ///   - dialedHost: On the client side, the host that was dialed (used to explain hostname mismatches).
    public convenience init(
        side: ConnectionSide, authorization: PeerAuthorization, logger: Logger, dialedHost: String? = nil
    ) {
        self.init(
            side: side, authorization: authorization, logger: logger, dialedHost: dialedHost,
            verification: PeerVerificationRecord(), peerChain: Self.validatedChainFromPipeline)
    }

    init(
        side: ConnectionSide,
        authorization: PeerAuthorization,
        logger: Logger,
        dialedHost: String?,
        verification: PeerVerificationRecord,
        peerChain: @escaping (ChannelHandlerContext) -> [Certificate]?
    ) {
        self.side = side
        self.authorization = authorization
        self.logger = logger
        self.dialedHost = dialedHost
        self.verification = verification
        self.peerChain = peerChain
    }

    static func validatedChainFromPipeline(_ context: ChannelHandlerContext) -> [Certificate]? {
        guard let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLHandler.self) else {
            return nil
        }
        guard let chain = tls.peerValidatedCertificateChain, !chain.isEmpty else {
            return nil
        }
        do {
            return try chain.map { try Certificate(derEncoded: $0.toDERBytes()) }
        } catch {
            return nil
        }
    }

    // MARK: - Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        rememberPeerAddress(context)
    }

    public func channelActive(context: ChannelHandlerContext) {
        rememberPeerAddress(context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if let rejection = stateMachine.channelInactive() {
            logger.info(
                "\(logPrefix) \(peerAddress): \(rejection)",
                metadata: ["peer": "\(peerAddress)", "side": "\(side)"])
            failHeldWrites(rejection)
        }
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        failHeldWrites(ChannelError.ioOnClosedChannel)
    }

    // MARK: - Inbound

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        let chain = peerChain(context)
        let decision = authorization.decide(validatedChain: chain)
        switch stateMachine.handshakeCompleted(decision) {
        case .accept(let node):
            logger.info(
                "authenticated \(node) at \(peerAddress)",
                metadata: ["peer": "\(peerAddress)", "node": "\(node)", "side": "\(side)"])
            // Held writes go out first, so that anything written in response to the events below
            // follows them in order.
            releaseHeldWrites(context: context)
            context.fireUserInboundEventTriggered(event)
            if let leaf = chain?.first {
                context.fireUserInboundEventTriggered(PeerAuthenticated(node: node, certificate: leaf))
            }
        case .reject(let rejection):
            reject(context: context, rejection)
        case .ignore:
            context.fireUserInboundEventTriggered(event)
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if stateMachine.mayRead {
            context.fireChannelRead(data)
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        if stateMachine.mayRead {
            context.fireChannelReadComplete()
        }
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch stateMachine.errorCaught() {
        case .forward:
            if error is BoringSSLError || error is NIOSSLError,
                let alert = Self.alertName(in: String(describing: error)),
                let rejection = stateMachine.peerAlert(.refusedByPeer(alert: alert))
            {
                reject(context: context, rejection)
            } else {
                context.fireErrorCaught(error)
            }
        case .drop:
            logger.debug(
                "after rejecting \(peerAddress): \(error)", metadata: ["peer": "\(peerAddress)", "side": "\(side)"])
        case .handshakeFailed:
            let rejection = verification.rejection ?? Self.explainHandshakeError(error, dialedHost: dialedHost)
            if let rejection = stateMachine.handshakeFailed(rejection) {
                reject(context: context, rejection)
            }
        }
    }

    // MARK: - Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch stateMachine.writeAction {
        case .forward:
            context.write(data, promise: promise)
        case .hold:
            let bytes = unwrapOutboundIn(data).readableBytes
            guard heldBytes + bytes <= Self.maximumHeldBytes else {
                promise?.fail(HeldWritesLimitExceeded(limitBytes: Self.maximumHeldBytes))
                return
            }
            heldBytes += bytes
            heldWrites.append((data, promise))
        case .fail(let rejection):
            promise?.fail(rejection)
        }
    }

    public func flush(context: ChannelHandlerContext) {
        switch stateMachine.writeAction {
        case .forward:
            context.flush()
        case .hold:
            flushHeld = true
        case .fail:
            break
        }
    }

    // MARK: - Actions

    private func reject(context: ChannelHandlerContext, _ rejection: PeerRejection) {
        logger.warning(
            "\(logPrefix) \(peerAddress): \(rejection)",
            metadata: ["peer": "\(peerAddress)", "side": "\(side)"])
        failHeldWrites(rejection)
        context.fireErrorCaught(rejection)
        context.close(promise: nil)
    }

    private func releaseHeldWrites(context: ChannelHandlerContext) {
        let writes = heldWrites
        heldWrites = []
        heldBytes = 0
        for write in writes {
            context.write(write.data, promise: write.promise)
        }
        if flushHeld {
            flushHeld = false
            context.flush()
        }
    }

    private func failHeldWrites(_ error: any Error) {
        let writes = heldWrites
        heldWrites = []
        heldBytes = 0
        flushHeld = false
        for write in writes {
            write.promise?.fail(error)
        }
    }

    private var logPrefix: String {
        switch side {
        case .server: "rejected connection from"
        case .client: "rejected connection to"
        }
    }

    private func rememberPeerAddress(_ context: ChannelHandlerContext) {
        if let address = context.channel.remoteAddress {
            peerAddress = Self.describe(address)
        }
    }

    /// `127.0.0.1:53422` or `[::1]:53422`.
    static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else {
            return "\(address)"
        }
        if case .v6 = address {
            return "[\(ip)]:\(port)"
        }
        return "\(ip):\(port)"
    }

    /// The reason for a failed handshake when certificate verification did not record one. Pure.
    static func explainHandshakeError(_ error: any Error, dialedHost: String?) -> PeerRejection {
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return .hostnameMismatch(host: dialedHost ?? "(unknown)")
        }
        let text = String(describing: error)
        if text.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") {
            return .noCertificate
        }
        if let alert = Self.alertName(in: text) {
            return .refusedByPeer(alert: alert)
        }
        if let nioError = error as? NIOSSLError, case .uncleanShutdown = nioError {
            return .closedDuringHandshake
        }
        return .handshakeFailed(text)
    }

    /// The first BoringSSL alert token in `text`, such as `TLSV1_ALERT_UNKNOWN_CA`.
    static func alertName(in text: String) -> String? {
        let separators: Set<Character> = [" ", ":", ",", "(", ")", "[", "]", "\"", "\n"]
        let tokens = text.split(whereSeparator: { separators.contains($0) })
        return tokens.first(where: { $0.contains("_ALERT_") }).map(String.init)
    }
}

/// A write made before the peer was authenticated did not fit in the bytes
/// ``PeerAuthenticationHandler`` holds back (``PeerAuthenticationHandler/maximumHeldBytes``).
public struct HeldWritesLimitExceeded: Error, Hashable, Sendable, CustomStringConvertible {
    /// The limit that was reached, in bytes.
    public let limitBytes: Int

    public var description: String {
        "more than \(limitBytes) bytes written before the peer was authenticated; wait for PeerAuthenticated"
    }
}

/// Where a connection's verification callback leaves the reason it refused a chain, for the
/// ``PeerAuthenticationHandler`` of the same connection to log. Confined to the channel's event loop.
final class PeerVerificationRecord {
    var rejection: PeerRejection?

    init() {}
}
