import CrossclearEngine
import CrossclearWire
import NIOCore
import Testing

@Suite("Round trips: every message decodes to what was encoded")
struct RoundTripTests {
    @Test("each message type, 200 seeded random values", arguments: MessageType.allCases)
    func everyType(_ type: MessageType) throws {
        for seed in UInt64(0)..<200 {
            var generator = MessageGenerator(seed: seed &+ UInt64(type.rawValue) << 32)
            let message = try generator.message(type)
            let bytes = try frameBytes(message)
            #expect(bytes.count == 4 + WireEncoder.frameLength(of: message), "seed \(seed)")
            let decoded = try decodeOne(bytes)
            #expect(decoded == message, "type \(type), seed \(seed): reproduce with MessageGenerator(seed:)")
        }
    }

    @Test("edge values survive: negative collateral, extreme magnitudes, maximum positions, non-ASCII reasons")
    func edges() throws {
        let bound = WireProtocol.maximumMagnitude
        let account = AccountState(
            account: .max, trader: 0, collateral: Amount(raw: -bound),
            positions: [
                PositionState(asset: 0, quantity: Quantity(raw: -bound), basis: Amount(raw: bound)),
                PositionState(asset: .max, quantity: Quantity(raw: 1), basis: Amount(raw: -1)),
            ])
        var hasher = ChainHasher(epoch: WireProtocol.maximumPosition)
        let changes = [
            try hasher.append(.account(account)),
            try hasher.append(.marks([MarkState(asset: 7, oracle: Price(raw: 1), mark: Price(raw: bound))])),
            try hasher.append(.digest(.max)),
        ]
        let messages: [WireMessage] = [
            .changeBatch(ChangeBatch(changes: changes)),
            .resyncRequest(ResyncRequest(fromSequence: 0, reason: "fork at 12: état divergé 🚨")),
            .goodbye(Goodbye(reason: .normal, detail: String(repeating: "é", count: 512))),
            .ack(Ack(epoch: WireProtocol.maximumPosition, upTo: WireProtocol.maximumPosition)),
            .heartbeat(Heartbeat(sentAtMillis: .max, lastSequence: 0)),
        ]
        for message in messages {
            #expect(try decodeOne(try frameBytes(message)) == message)
        }
    }

    @Test("a change body's canonical payload decodes back and feeds the hash")
    func payloadBytes() throws {
        var generator = MessageGenerator(seed: 7)
        for _ in 0..<200 {
            let body = generator.changeBody()
            let payload = try WireEncoder.payload(of: body)
            #expect(try WireDecoder.changeBody(kind: body.kind, payload: payload) == body)
        }
        #expect(throws: WireError.unknownTag(WireLocation(messageType: nil, field: "Change.kind", item: nil, offset: 0), tag: 9)) {
            try WireDecoder.changeBody(kind: 9, payload: [])
        }
    }

    @Test("100,000 changes in batches of 1,000 round-trip through frames, hashes verified, and chain")
    func hundredThousandChanges() throws {
        var generator = MessageGenerator(seed: 42)
        let changes = try generator.changes(100_000, epoch: 1)
        let encoder = WireEncoder()
        var buffer = ByteBufferAllocator().buffer(capacity: 16 << 20)
        var batches = 0
        for start in stride(from: 0, to: changes.count, by: 1_000) {
            try encoder.encode(.changeBatch(ChangeBatch(changes: Array(changes[start..<(start + 1_000)]))), into: &buffer)
            batches += 1
        }
        #expect(batches == 100)
        let decoder = WireDecoder(configuration: WireConfiguration(receiver: .clearing))
        var decoded: [Change] = []
        decoded.reserveCapacity(changes.count)
        while let message = try decoder.decodeFrame(from: &buffer) {
            guard case .changeBatch(let batch) = message else {
                Issue.record("unexpected \(message.type)")
                return
            }
            decoded += batch.changes
        }
        #expect(buffer.readableBytes == 0)
        #expect(decoded == changes)
        var tracker = SequenceTracker(epoch: 0)
        #expect(decoded.allSatisfy { tracker.accept($0) == .apply })
        #expect(tracker.lastSequence == 100_000 && tracker.lastHash == changes.last?.hash)
    }

    @Test("ChangeBatch.split keeps frames within the maximum and order intact")
    func split() throws {
        var generator = MessageGenerator(seed: 9)
        let changes = try generator.changes(5_000)
        let maximum = WireProtocol.smallestMaximumFrameLength
        let batches = ChangeBatch.split(changes, maximumFrameLength: maximum)
        #expect(batches.count > 1)
        #expect(batches.flatMap(\.changes) == changes)
        let encoder = WireEncoder(configuration: try #require(WireConfiguration(maximumFrameLength: maximum)))
        for batch in batches {
            #expect(WireEncoder.frameLength(of: .changeBatch(batch)) <= maximum)
            #expect(try frameBytes(.changeBatch(batch), encoder: encoder).count <= maximum + 4)
        }
        var instructionGenerator = MessageGenerator(seed: 10)
        let instructions = (1...3_000).map { Instruction(id: UInt64($0), body: instructionGenerator.instructionBody()) }
        let instructionBatches = InstructionBatch.split(instructions, maximumFrameLength: maximum)
        #expect(instructionBatches.flatMap(\.instructions) == instructions)
        #expect(instructionBatches.allSatisfy { WireEncoder.frameLength(of: .instructionBatch($0)) <= maximum })
    }

    @Test("decodeFrames takes every complete frame and leaves a partial one")
    func decodeFrames() throws {
        var generator = MessageGenerator(seed: 11)
        let messages = try MessageType.allCases.map { try generator.message($0) }
        var buffer = ByteBuffer()
        try WireEncoder().encode(messages, into: &buffer)
        buffer.writeBytes([0, 0, 0, 17, 0x21])  // the start of another frame
        #expect(try WireDecoder().decodeFrames(from: &buffer) == messages)
        #expect(buffer.readableBytes == 5)
    }
}
