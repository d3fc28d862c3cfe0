import NIOCore

/// Closes a connection that broke the protocol, after logging why.
///
/// Place it after the frame decoder and encoder. On a ``WireError`` (from decoding or encoding) it
/// calls `log` once with the reason and the peer's address, optionally sends a ``Goodbye`` with
/// the matching ``CloseReason``, and closes the channel. Other errors pass on unchanged. Messages
/// pass through untouched. Only the channel it belongs to is affected.
public final class ProtocolErrorHandler: ChannelInboundHandler, RemovableChannelHandler {
    /// Messages pass through.
    public typealias InboundIn = WireMessage
    /// Messages pass through.
    public typealias InboundOut = WireMessage
    /// The Goodbye sent before closing.
    public typealias OutboundOut = WireMessage

    private let log: (String) -> Void
    private let sendsGoodbye: Bool
    private var closing = false

    /// A handler that reports through `log` (this module does not depend on a logging library).
    ///
    /// - Parameter sendsGoodbye: whether to send a ``Goodbye`` before closing (best effort).
    public init(sendsGoodbye: Bool = true, log: @escaping (String) -> Void) {
        self.log = log
        self.sendsGoodbye = sendsGoodbye
    }

    /// Passes the message on.
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        context.fireChannelRead(data)
    }

    /// Closes the channel on a ``WireError``; forwards anything else.
    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let wireError: WireError
        if let error = error as? WireError {
            wireError = error
        } else if case ByteToMessageDecoderError.dataReceivedInErrorState(let inner, _) = error, let inner = inner as? WireError {
            wireError = inner
        } else {
            context.fireErrorCaught(error)
            return
        }
        guard !closing else { return }
        closing = true
        let peer = context.channel.remoteAddress.map { "\($0)" } ?? "unknown peer"
        log("closing connection to \(peer): \(wireError)")
        if sendsGoodbye {
            let goodbye = Goodbye(reason: wireError.closeReason, detail: Goodbye.sanitizedDetail(wireError.description))
            context.writeAndFlush(Self.wrapOutboundOut(.goodbye(goodbye)), promise: nil)
        }
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ProtocolErrorHandler: Sendable {}
