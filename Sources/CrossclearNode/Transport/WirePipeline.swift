import CrossclearWire
import Foundation
import Logging
import NIOCore

/// The handlers every transport connection adds after mutual TLS, and small helpers both ends share.
enum WirePipeline {
    /// A connection as async code sees it: decoded messages in, messages out.
    typealias Connection = NIOAsyncChannel<WireMessage, WireMessage>

    /// Adds the identity capture, the frame decoder and encoder and the ``ProtocolErrorHandler``
    /// (which logs a broken frame, says Goodbye and closes that connection only), then wraps the
    /// channel for async use. Call on the channel's event loop, after the TLS handlers.
    ///
    /// - Returns: the connection and the identity of its authenticated peer (failed if the
    ///   connection closes first).
    static func wrap(
        _ channel: any Channel, configuration: WireConfiguration, logger: Logger
    ) throws -> (Connection, EventLoopFuture<NodeIdentity>) {
        let identity = channel.eventLoop.makePromise(of: NodeIdentity.self)
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(PeerIdentityHandler(identity: identity))
        try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(configuration: configuration)))
        try pipeline.addHandler(MessageToByteHandler(FrameEncoder(configuration: configuration)))
        try pipeline.addHandler(ProtocolErrorHandler { logger.warning("\($0)") })
        return (try Connection(wrappingChannelSynchronously: channel), identity.futureResult)
    }

    /// Waits for the peer of `channel` to be authenticated; cancellation closes the connection
    /// (a TLS handshake that never ends must not hold up a shutdown).
    static func authenticatedPeer(_ identity: EventLoopFuture<NodeIdentity>, of channel: any Channel) async throws -> NodeIdentity {
        try await withTaskCancellationHandler {
            try await identity.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// The peer's address for log lines.
    static func peer(of channel: any Channel) -> String {
        channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown address"
    }

    /// A heartbeat stamped with the wall clock (informational only).
    static func heartbeat(lastSequence: UInt64) -> WireMessage {
        .heartbeat(Heartbeat(sentAtMillis: UInt64(max(0, Date().timeIntervalSince1970 * 1000)), lastSequence: lastSequence))
    }

    /// Checks the timing and frame settings shared by both ends.
    static func validate(heartbeatInterval: Duration, staleAfter: Duration, maximumFrameLength: Int, receiver: WireRole)
        throws(TransportError) -> WireConfiguration
    {
        guard heartbeatInterval > .zero else {
            throw .invalidConfiguration("heartbeat interval \(heartbeatInterval) must be positive")
        }
        guard staleAfter >= heartbeatInterval * 3 else {
            throw .invalidConfiguration("stale-after \(staleAfter) must be at least 3 heartbeat intervals (\(heartbeatInterval))")
        }
        guard let configuration = WireConfiguration(maximumFrameLength: maximumFrameLength, receiver: receiver) else {
            throw .invalidConfiguration(
                "maximum frame length \(maximumFrameLength) outside \(WireProtocol.smallestMaximumFrameLength)...\(WireProtocol.largestMaximumFrameLength)")
        }
        return configuration
    }
}

/// Hands the identity named by ``PeerAuthenticated`` to async code, through a promise that fails if
/// the connection closes before the peer is authenticated.
final class PeerIdentityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let identity: EventLoopPromise<NodeIdentity>
    private var completed = false

    init(identity: EventLoopPromise<NodeIdentity>) {
        self.identity = identity
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let authenticated = event as? PeerAuthenticated, !completed {
            completed = true
            identity.succeed(authenticated.node)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failUnlessCompleted()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failUnlessCompleted()
    }

    private func failUnlessCompleted() {
        guard !completed else { return }
        completed = true
        identity.fail(TransportError.closedBeforeAuthentication)
    }
}

@available(*, unavailable)
extension PeerIdentityHandler: Sendable {}
