import NIOCore

/// Splits the inbound byte stream into frames and emits one ``WireMessage`` per frame.
///
/// Use it as `ByteToMessageHandler(FrameDecoder(configuration:))`. A frame may arrive in any
/// number of reads and one read may hold many frames. Any ``WireError`` is thrown into the pipeline
/// (where ``ProtocolErrorHandler`` closes the connection); an oversized length prefix is rejected
/// before its body is buffered.
public struct FrameDecoder: ByteToMessageDecoder {
    /// Emits decoded messages.
    public typealias InboundOut = WireMessage

    /// The decoder used for each frame.
    public let decoder: WireDecoder

    /// A frame decoder with `configuration`.
    public init(configuration: WireConfiguration = WireConfiguration()) {
        self.decoder = WireDecoder(configuration: configuration)
    }

    /// Decodes one frame if it is complete.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let message = try decoder.decodeFrame(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(message))
        return .continue
    }

    /// Decodes the complete frames left at the end; a partial frame at end of input is
    /// ``WireError/incompleteFrame(received:expected:)``.
    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while let message = try decoder.decodeFrame(from: &buffer) {
            context.fireChannelRead(Self.wrapInboundOut(message))
        }
        if seenEOF && buffer.readableBytes > 0 {
            let received = buffer.readableBytes
            let expected =
                buffer.getInteger(at: buffer.readerIndex, as: UInt32.self).map { Int($0) + WireProtocol.lengthPrefixSize }
                ?? WireProtocol.lengthPrefixSize
            buffer.moveReaderIndex(forwardBy: received)
            throw WireError.incompleteFrame(received: received, expected: expected)
        }
        return .needMoreData
    }
}

/// Writes each outbound ``WireMessage`` as one frame.
///
/// Use it as `MessageToByteHandler(FrameEncoder(configuration:))`. For throughput, send many
/// changes in one ``ChangeBatch`` (``ChangeBatch/split(_:maximumFrameLength:)`` sizes them) and
/// flush once per batch, not per message. A message that breaks the protocol fails its write with
/// a ``WireError`` (and NIO's handler then refuses further writes: the connection must close).
public struct FrameEncoder: MessageToByteEncoder {
    /// Accepts messages.
    public typealias OutboundIn = WireMessage

    /// The encoder used for each frame.
    public let encoder: WireEncoder

    /// A frame encoder with `configuration`'s maximum frame length.
    public init(configuration: WireConfiguration = WireConfiguration()) {
        self.encoder = WireEncoder(configuration: configuration)
    }

    /// Encodes `data` as one frame into `out`.
    public func encode(data: WireMessage, out: inout ByteBuffer) throws {
        try encoder.encode(data, into: &out)
    }
}
