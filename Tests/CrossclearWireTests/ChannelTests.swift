import CrossclearEngine
import CrossclearWire
import NIOCore
import NIOEmbedded
import Testing

/// Collects log lines (the channel runs on the test's thread).
final class LogLines {
    var lines: [String] = []
}

/// An active EmbeddedChannel with the wire pipeline.
func makeChannel(log: LogLines, configuration: WireConfiguration = WireConfiguration()) throws -> EmbeddedChannel {
    let channel = EmbeddedChannel()
    try channel.pipeline.syncOperations.addHandlers([
        ByteToMessageHandler(FrameDecoder(configuration: configuration)),
        MessageToByteHandler(FrameEncoder(configuration: configuration)),
        ProtocolErrorHandler { log.lines.append($0) },
    ])
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7_000)).wait()
    return channel
}

func readAllInbound(_ channel: EmbeddedChannel) throws -> [WireMessage] {
    var messages: [WireMessage] = []
    while let message = try channel.readInbound(as: WireMessage.self) { messages.append(message) }
    return messages
}

@Suite("NIO handlers on EmbeddedChannel")
struct ChannelTests {
    func sampleMessages(seed: UInt64) throws -> [WireMessage] {
        var generator = MessageGenerator(seed: seed)
        return try MessageType.allCases.map { try generator.message($0) }
    }

    @Test("a stream of frames split across many reads of random sizes reassembles", arguments: [UInt64(1), 2, 3])
    func splitReads(seed: UInt64) throws {
        let log = LogLines()
        let channel = try makeChannel(log: log)
        let messages = try sampleMessages(seed: seed)
        var bytes = ByteBuffer()
        try WireEncoder().encode(messages, into: &bytes)
        var random = SeededRandom(seed: seed)
        var received: [WireMessage] = []
        while bytes.readableBytes > 0 {
            let size = min(bytes.readableBytes, 1 + Int(random.below(random.below(2) == 0 ? 3 : 200)))
            let chunk = bytes.readSlice(length: size)!
            try channel.writeInbound(chunk)
            received += try readAllInbound(channel)
        }
        #expect(received == messages, "seed \(seed)")
        #expect(log.lines.isEmpty)
        #expect(channel.isActive)
        _ = try channel.finish()
    }

    @Test("one frame delivered one byte at a time")
    func byteByByte() throws {
        let log = LogLines()
        let channel = try makeChannel(log: log)
        var generator = MessageGenerator(seed: 5)
        let message = WireMessage.changeBatch(ChangeBatch(changes: try generator.changes(50)))
        for byte in try frameBytes(message) {
            #expect(try readAllInbound(channel).isEmpty)
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(try readAllInbound(channel) == [message])
        _ = try channel.finish()
    }

    @Test("several frames in one read are all delivered, in order")
    func severalFramesInOneRead() throws {
        let log = LogLines()
        let channel = try makeChannel(log: log)
        let messages = try sampleMessages(seed: 9) + sampleMessages(seed: 10)
        var bytes = ByteBuffer()
        try WireEncoder().encode(messages, into: &bytes)
        try channel.writeInbound(bytes)
        #expect(try readAllInbound(channel) == messages)
        _ = try channel.finish()
    }

    @Test("outbound messages are written as frames, one buffer per message")
    func outbound() throws {
        let log = LogLines()
        let channel = try makeChannel(log: log)
        let messages = try sampleMessages(seed: 12)
        for message in messages { channel.write(message, promise: nil) }
        channel.flush()
        var decoded: [WireMessage] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            decoded += try WireDecoder().decodeFrames(from: &buffer)
            #expect(buffer.readableBytes == 0)
        }
        #expect(decoded == messages)
        _ = try channel.finish()
    }

    @Test("an oversized frame closes the connection, logs why, says Goodbye; another connection is unaffected")
    func oversizedFrameClosesOnlyThatChannel() throws {
        let badLog = LogLines()
        let goodLog = LogLines()
        let bad = try makeChannel(log: badLog)
        let good = try makeChannel(log: goodLog)
        let messages = try sampleMessages(seed: 20)

        // The bad connection: a valid frame, then a prefix announcing 1 MiB + 1 bytes.
        var bytes = ByteBuffer()
        try WireEncoder().encode(messages[0], into: &bytes)
        bytes.writeInteger(UInt32((1 << 20) + 1))
        try bad.writeInbound(bytes)
        #expect(try readAllInbound(bad) == [messages[0]])
        #expect(!bad.isActive)
        #expect(badLog.lines.count == 1)
        #expect(
            badLog.lines.first
                == "closing connection to [IPv4]127.0.0.1:7000: frame too large: the length prefix announces 1048577 bytes, the maximum is 1048576"
        )
        var goodbyeFrame = try #require(try bad.readOutbound(as: ByteBuffer.self))
        let goodbye = try WireDecoder().decodeFrame(from: &goodbyeFrame)
        #expect(goodbye == .goodbye(Goodbye(reason: .protocolError, detail: WireError.frameTooLarge(length: (1 << 20) + 1, maximum: 1 << 20).description)))

        // Later bytes on the closed connection change nothing and log nothing more.
        _ = try? bad.writeInbound(ByteBuffer(bytes: try frameBytes(messages[1])))
        #expect(badLog.lines.count == 1)

        // The good connection, fed at the same time, decodes everything.
        var goodBytes = ByteBuffer()
        try WireEncoder().encode(messages, into: &goodBytes)
        try good.writeInbound(goodBytes)
        #expect(try readAllInbound(good) == messages)
        #expect(good.isActive)
        #expect(goodLog.lines.isEmpty)
        _ = try good.finish()
    }

    @Test("each malformed class closes the channel with a logged reason", arguments: [
        [UInt8]([0, 0, 0, 0]),  // empty frame
        [0, 0, 0, 1, 0x7F],  // unknown type
        [0, 0, 0, 2, 0x22, 0x00],  // truncated Goodbye
        [0, 0, 0, 5, 0x22, 0x01, 0x00, 0x00, 0xFF],  // trailing byte
        [0, 0, 0, 6, 0x22, 0x01, 0x00, 0x02, 0xC3, 0x28],  // not UTF-8
    ])
    func malformedCloses(bytes: [UInt8]) throws {
        let log = LogLines()
        let channel = try makeChannel(log: log)
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        #expect(!channel.isActive)
        #expect(log.lines.count == 1)
        #expect(log.lines.first?.hasPrefix("closing connection to [IPv4]127.0.0.1:7000: ") == true)
        #expect(try readAllInbound(channel).isEmpty)
    }

    @Test("a wrong protocol version is answered with Goodbye(unsupportedVersion)")
    func versionGoodbye() throws {
        let log = LogLines()
        let channel = try makeChannel(log: log, configuration: WireConfiguration(receiver: .clearing))
        var hello = try frameBytes(
            .hello(Hello(venue: "alpha", epoch: 1, lastSequence: 0, lastHash: .genesis, lastInstructionAcknowledged: 0, stateDigest: 0)))
        patch(&hello, at: 5, UInt16(9))
        try channel.writeInbound(ByteBuffer(bytes: hello))
        #expect(!channel.isActive)
        #expect(log.lines.first?.hasSuffix("unsupported protocol version 9 (supported: 1...1)") == true)
        var frame = try #require(try channel.readOutbound(as: ByteBuffer.self))
        guard case .goodbye(let goodbye)? = try WireDecoder(configuration: WireConfiguration(receiver: .venue)).decodeFrame(from: &frame) else {
            Issue.record("expected a Goodbye")
            return
        }
        #expect(goodbye.reason == .unsupportedVersion)
    }

    @Test("a connection that ends inside a frame is reported")
    func endInsideFrame() throws {
        let log = LogLines()
        let channel = try makeChannel(log: log)
        let frame = try frameBytes(.heartbeat(Heartbeat(sentAtMillis: 1, lastSequence: 1)))
        try channel.writeInbound(ByteBuffer(bytes: frame[0..<10]))
        channel.pipeline.fireChannelInactive()
        #expect(log.lines == ["closing connection to [IPv4]127.0.0.1:7000: connection ended inside a frame: 10 of 21 bytes received"])
    }

    @Test("writing a message that breaks the protocol fails the write and closes the channel")
    func invalidOutbound() throws {
        let log = LogLines()
        let channel = try makeChannel(log: log)
        let bad = WireMessage.instructionAck(InstructionAck(ids: []))
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(bad, promise: promise)
        #expect(throws: WireError.countOutOfRange(at(.instructionAck, "InstructionAck.count", 5), count: 0, allowed: 1...65_536)) {
            try promise.futureResult.wait()
        }
        #expect(!channel.isActive)
        #expect(log.lines.count == 1)
        #expect(log.lines.first?.contains("InstructionAck.count at byte 5") == true)
    }

    @Test("errors that are not WireErrors pass through untouched")
    func otherErrorsPass() throws {
        struct Other: Error, Equatable {}
        let log = LogLines()
        let channel = try makeChannel(log: log)
        channel.pipeline.fireErrorCaught(Other())
        #expect(throws: Other()) { try channel.throwIfErrorCaught() }
        #expect(channel.isActive)
        #expect(log.lines.isEmpty)
        _ = try channel.finish()
    }
}
