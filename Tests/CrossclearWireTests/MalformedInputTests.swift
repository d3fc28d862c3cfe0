import CrossclearEngine
import CrossclearWire
import NIOCore
import Testing

/// Builds frames byte by byte, including ones the encoder refuses to write.
struct FrameBuilder {
    var buffer = ByteBuffer()
    init(type: UInt8) {
        buffer.writeInteger(UInt32(0))
        buffer.writeInteger(type)
    }
    init(_ type: MessageType) { self.init(type: type.rawValue) }
    mutating func u8(_ value: UInt8) { buffer.writeInteger(value) }
    mutating func u16(_ value: UInt16) { buffer.writeInteger(value) }
    mutating func u32(_ value: UInt32) { buffer.writeInteger(value) }
    mutating func u64(_ value: UInt64) { buffer.writeInteger(value) }
    mutating func raw(_ bytes: [UInt8]) { buffer.writeBytes(bytes) }
    mutating func string(_ bytes: [UInt8]) {
        buffer.writeInteger(UInt16(bytes.count))
        buffer.writeBytes(bytes)
    }
    var frame: [UInt8] {
        var bytes = Array(buffer.readableBytesView)
        fixLength(&bytes)
        return bytes
    }
}

func at(_ type: MessageType?, _ field: String, item: Int? = nil, _ offset: Int) -> WireLocation {
    WireLocation(messageType: type, field: field, item: item, offset: offset)
}

@Suite("Strict decoding: each malformed input class is rejected with the right WireError")
struct MalformedInputTests {
    // A heartbeat frame: length(0..3) type(4) sentAtMillis(5..12) lastSequence(13..20).
    let heartbeat = (try? frameBytes(.heartbeat(Heartbeat(sentAtMillis: 1, lastSequence: 2)))) ?? []

    // A batch with one account change: count(5) hash(9) previousHash(41) epoch(73) sequence(81)
    // kind(89) account(90) trader(94) collateral(98) positions count(106) asset(110) quantity(112)
    // basis(120), second position asset(128) quantity(130) basis(138).
    func accountBatch(epoch: UInt64 = 2) throws -> (Change, [UInt8]) {
        var hasher = ChainHasher(epoch: epoch)
        let change = try hasher.append(
            .account(
                AccountState(
                    account: 1, trader: 2, collateral: Amount(raw: -5),
                    positions: [
                        PositionState(asset: 3, quantity: Quantity(raw: 10), basis: Amount(raw: 100)),
                        PositionState(asset: 4, quantity: Quantity(raw: -10), basis: Amount(raw: -100)),
                    ])))
        return (change, try frameBytes(.changeBatch(ChangeBatch(changes: [change]))))
    }

    @Test("frame level: empty, unknown type, oversized (judged from the prefix alone), incomplete")
    func frames() throws {
        #expect(decodingError([0, 0, 0, 0]) == .emptyFrame)
        #expect(decodingError([0, 0, 0, 1, 0x7F]) == .unknownMessageType(0x7F))
        #expect(decodingError([0, 0, 0, 1, 0x00]) == .unknownMessageType(0))
        #expect(decodingError([0x00, 0x10, 0x00, 0x01]) == .frameTooLarge(length: (1 << 20) + 1, maximum: 1 << 20))
        #expect(decodingError([0xFF, 0xFF, 0xFF, 0xFF]) == .frameTooLarge(length: Int(UInt32.max), maximum: 1 << 20))
        let small = WireConfiguration(maximumFrameLength: 1 << 17)
        #expect(decodingError([0x00, 0x02, 0x00, 0x01], configuration: small!) == .frameTooLarge(length: (1 << 17) + 1, maximum: 1 << 17))
        #expect(WireConfiguration(maximumFrameLength: 1_000) == nil)
        #expect(WireConfiguration(maximumFrameLength: 1 << 27) == nil)
        // Not complete yet: nothing is consumed, no error.
        var partial = ByteBuffer(bytes: heartbeat.dropLast())
        #expect(try WireDecoder().decodeFrame(from: &partial) == nil)
        #expect(partial.readableBytes == heartbeat.count - 1)
    }

    @Test("truncated payload and trailing bytes name the field and offset")
    func truncatedAndTrailing() {
        var short = Array(heartbeat.dropLast())
        fixLength(&short)
        #expect(decodingError(short) == .truncated(at(.heartbeat, "Heartbeat.lastSequence", 13), needed: 8, available: 7))
        var long = heartbeat + [0xFF]
        fixLength(&long)
        #expect(decodingError(long) == .trailingBytes(at(.heartbeat, "(end of message)", 21), count: 1))
        let error = decodingError(short)
        #expect(error?.description == "truncated: Heartbeat (0x21) Heartbeat.lastSequence at byte 13 needs 8 bytes, 7 left in the frame")
    }

    @Test("protocol version: anything but 1 is refused, in Hello and Welcome")
    func versions() throws {
        var hello = try frameBytes(
            .hello(Hello(venue: "alpha", epoch: 1, lastSequence: 0, lastHash: .genesis, lastInstructionAcknowledged: 0, stateDigest: 0)))
        patch(&hello, at: 5, UInt16(2))
        #expect(decodingError(hello) == .unsupportedVersion(2, supported: 1...1))
        #expect(decodingError(hello)?.closeReason == .unsupportedVersion)
        var welcome = try frameBytes(.welcome(Welcome(epoch: 1, lastApplied: 0, lastAppliedHash: .genesis)))
        patch(&welcome, at: 5, UInt16(0))
        #expect(decodingError(welcome) == .unsupportedVersion(0, supported: 1...1))
    }

    @Test("strings: not UTF-8, too long, control characters, bad venue names")
    func strings() throws {
        var invalid = FrameBuilder(.goodbye)
        invalid.u8(CloseReason.normal.rawValue)
        invalid.string([0xC3, 0x28])
        #expect(decodingError(invalid.frame) == .invalidString(at(.goodbye, "Goodbye.detail", 6), reason: "not valid UTF-8"))

        var tooLong = FrameBuilder(.resyncRequest)
        tooLong.u64(3)
        tooLong.string(Array(repeating: 0x61, count: 1_025))
        #expect(
            decodingError(tooLong.frame)
                == .stringLengthOutOfRange(at(.resyncRequest, "ResyncRequest.reason", 13), length: 1_025, allowed: 0...1_024))

        var control = FrameBuilder(.goodbye)
        control.u8(CloseReason.normal.rawValue)
        control.string(Array("line\nbreak".utf8))
        #expect(
            decodingError(control.frame)
                == .invalidString(at(.goodbye, "Goodbye.detail", 6), reason: "character 4 is the control character U+A"))

        func hello(venue: [UInt8]) -> [UInt8] {
            var builder = FrameBuilder(.hello)
            builder.u16(1)
            builder.string(venue)
            for _ in 0..<2 { builder.u64(0) }
            builder.raw(Array(repeating: 0, count: 32))
            for _ in 0..<2 { builder.u64(0) }
            return builder.frame
        }
        #expect(try decodeOne(hello(venue: Array("venue-7".utf8))) != nil)
        #expect(
            decodingError(hello(venue: Array("Alpha".utf8)))
                == .invalidString(at(.hello, "Hello.venue", 7), reason: "byte 0 of the name (0x41) is not a-z, 0-9 or an inner -"))
        #expect(decodingError(hello(venue: Array("-a".utf8)))?.description.contains("Hello.venue at byte 7") == true)
        #expect(decodingError(hello(venue: [])) == .stringLengthOutOfRange(at(.hello, "Hello.venue", 7), length: 0, allowed: 1...63))
        #expect(
            decodingError(hello(venue: Array(repeating: 0x61, count: 64)))
                == .stringLengthOutOfRange(at(.hello, "Hello.venue", 7), length: 64, allowed: 1...63))
    }

    @Test("counts: zero, over the limit, or more elements than bytes")
    func counts() throws {
        var empty = FrameBuilder(.changeBatch)
        empty.u32(0)
        #expect(decodingError(empty.frame) == .countOutOfRange(at(.changeBatch, "ChangeBatch.count", 5), count: 0, allowed: 1...65_536))
        var many = FrameBuilder(.instructionAck)
        many.u32(65_537)
        #expect(
            decodingError(many.frame) == .countOutOfRange(at(.instructionAck, "InstructionAck.count", 5), count: 65_537, allowed: 1...65_536))
        var (_, batch) = try accountBatch()
        patch(&batch, at: 5, UInt32(1_000))
        #expect(decodingError(batch) == .truncated(at(.changeBatch, "ChangeBatch.count", 5), needed: 89_000, available: batch.count - 9))
        (_, batch) = try accountBatch()
        patch(&batch, at: 106, UInt32(1_025))
        #expect(
            decodingError(batch)
                == .countOutOfRange(at(.changeBatch, "AccountState.positions", item: 0, 106), count: 1_025, allowed: 0...1_024))
    }

    @Test("values out of range: sequence 0, epoch 2^63, zero or huge quantity, Int64.min collateral, zero price, negative deficit")
    func values() throws {
        func rejected(_ offset: Int, _ value: some FixedWidthInteger, _ field: String, _ allowed: String) throws {
            var (_, batch) = try accountBatch()
            patch(&batch, at: offset, value)
            let expected = WireError.valueOutOfRange(
                at(.changeBatch, field, item: 0, offset), value: Int128(value), allowed: allowed)
            #expect(decodingError(batch) == expected)
        }
        try rejected(81, UInt64(0), "Change.sequence", "1...2^63-1")
        var (_, zeroQuantity) = try accountBatch()
        patch(&zeroQuantity, at: 112, Int64(0))
        #expect(
            decodingError(zeroQuantity)?.description
                == "value out of range: ChangeBatch (0x02) item 0, PositionState.quantity at byte 112 is 0, allowed -10^18...10^18 except 0")
        try rejected(73, UInt64(1) << 63, "Change.epoch", "0...2^63-1")
        try rejected(112, Int64(0), "PositionState.quantity", "-10^18...10^18 except 0")
        try rejected(112, WireProtocol.maximumMagnitude + 1, "PositionState.quantity", "-10^18...10^18 except 0")
        try rejected(130, -WireProtocol.maximumMagnitude - 1, "PositionState.quantity", "-10^18...10^18 except 0")
        try rejected(98, Int64.min, "AccountState.collateral", "-10^18...10^18")
        try rejected(120, Int64.max, "PositionState.basis", "-10^18...10^18")

        var hasher = ChainHasher(epoch: 1)
        let marks = try frameBytes(
            .changeBatch(ChangeBatch(changes: [try hasher.append(.marks([MarkState(asset: 1, oracle: Price(raw: 5), mark: Price(raw: 6))]))])))
        var zeroOracle = marks
        patch(&zeroOracle, at: 96, Int64(0))
        #expect(decodingError(zeroOracle) == .valueOutOfRange(at(.changeBatch, "MarkState.oracle", item: 0, 96), value: 0, allowed: "1...10^18"))
        var negativeMark = marks
        patch(&negativeMark, at: 104, Int64(-1))
        #expect(decodingError(negativeMark) == .valueOutOfRange(at(.changeBatch, "MarkState.mark", item: 0, 104), value: -1, allowed: "1...10^18"))

        hasher = ChainHasher(epoch: 1)
        let request = try frameBytes(
            .changeBatch(
                ChangeBatch(changes: [
                    try hasher.append(
                        .backstopRequest(
                            BackstopRequest(
                                account: 1, deficit: Amount(raw: 0),
                                positions: [PositionState(asset: 1, quantity: Quantity(raw: 1), basis: Amount(raw: 1))])))
                ])))
        var negativeDeficit = request
        patch(&negativeDeficit, at: 94, Int64(-1))
        #expect(
            decodingError(negativeDeficit)
                == .valueOutOfRange(at(.changeBatch, "BackstopRequest.deficit", item: 0, 94), value: -1, allowed: "0...10^18"))
        var tooManyPositions = request
        patch(&tooManyPositions, at: 102, UInt32(1_025))
        #expect(
            decodingError(tooManyPositions)
                == .countOutOfRange(at(.changeBatch, "BackstopRequest.positions", item: 0, 102), count: 1_025, allowed: 0...1_024))

        var heartbeat = self.heartbeat
        patch(&heartbeat, at: 13, UInt64.max)
        #expect(
            decodingError(heartbeat)
                == .valueOutOfRange(at(.heartbeat, "Heartbeat.lastSequence", 13), value: Int128(UInt64.max), allowed: "0...2^63-1"))
    }

    @Test("unknown tags: change kind, instruction kind, leg, close reason")
    func tags() throws {
        var (_, batch) = try accountBatch()
        batch[89] = 9
        #expect(decodingError(batch) == .unknownTag(at(.changeBatch, "Change.kind", item: 0, 89), tag: 9))

        var goodbye = try frameBytes(.goodbye(Goodbye(reason: .fork, detail: "")))
        goodbye[5] = 0
        #expect(decodingError(goodbye) == .unknownTag(at(.goodbye, "Goodbye.reason", 5), tag: 0))

        // InstructionBatch: count(5) id(9) kind(17) payload(18...).
        var credit = try frameBytes(
            .instructionBatch(InstructionBatch(instructions: [Instruction(id: 1, body: .credit(CrossMarginCredit(account: 1, thresholdReduction: .zero)))])))
        credit[17] = 0
        #expect(decodingError(credit) == .unknownTag(at(.instructionBatch, "Instruction.kind", item: 0, 17), tag: 0))

        let move = CollateralMove(moveId: 1, fromVenue: "a", fromAccount: 1, toVenue: "b", toAccount: 1, amount: Amount(raw: 1), leg: .debit)
        var moveBytes = try frameBytes(.instructionBatch(InstructionBatch(instructions: [Instruction(id: 1, body: .collateralMove(move))])))
        // moveId(18) from(26: len, 28: "a") fromAccount(29) to(33: len, 35: "b") toAccount(36) amount(40) leg(48)
        moveBytes[48] = 3
        #expect(decodingError(moveBytes) == .unknownTag(at(.instructionBatch, "CollateralMove.leg", item: 0, 48), tag: 3))
        moveBytes[48] = 1
        moveBytes[35] = UInt8(ascii: "a")
        #expect(
            decodingError(moveBytes)
                == .inconsistent(at(.instructionBatch, "CollateralMove.toAccount", item: 0, 36), reason: "source and destination are the same account"))
    }

    @Test("order: assets and ids must be strictly ascending")
    func ordering() throws {
        var (_, batch) = try accountBatch()
        patch(&batch, at: 128, UInt16(3))
        #expect(decodingError(batch) == .notAscending(at(.changeBatch, "PositionState.asset", item: 0, 128), previous: 3, value: 3))

        var ack = FrameBuilder(.instructionAck)
        ack.u32(2)
        ack.u64(5)
        ack.u64(5)
        #expect(decodingError(ack.frame) == .notAscending(at(.instructionAck, "InstructionAck.id", item: 1, 17), previous: 5, value: 5))
        var zero = FrameBuilder(.instructionAck)
        zero.u32(1)
        zero.u64(0)
        #expect(decodingError(zero.frame) == .valueOutOfRange(at(.instructionAck, "InstructionAck.id", item: 0, 9), value: 0, allowed: "1...2^63-1"))

        let credit = InstructionBody.credit(CrossMarginCredit(account: 1, thresholdReduction: .zero))
        var instructions = try frameBytes(
            .instructionBatch(InstructionBatch(instructions: [Instruction(id: 7, body: credit), Instruction(id: 8, body: credit)])))
        patch(&instructions, at: 30, UInt64(7))  // the second instruction starts at 9 + 21
        #expect(decodingError(instructions) == .notAscending(at(.instructionBatch, "Instruction.id", item: 1, 30), previous: 7, value: 7))
    }

    @Test("hashes: a tampered payload is a hash mismatch; sequence 1 must chain onto genesis; a hash has 32 bytes")
    func hashes() throws {
        let (change, batch) = try accountBatch(epoch: 2)
        var tampered = batch
        patch(&tampered, at: 98, Int64(1_000_000))  // more collateral, still in range
        #expect(decodingError(tampered) == .hashMismatch(at(.changeBatch, "Change.hash", item: 0, 9), epoch: 2, sequence: 1))
        // With verification off the frame decodes, and ChainHasher catches it.
        let lenient = WireConfiguration(verifiesChangeHashes: false)
        guard case .changeBatch(let decoded)? = try decodeOne(tampered, configuration: lenient) else {
            Issue.record("expected a batch")
            return
        }
        #expect(decoded.changes[0] != change)
        #expect(!ChainHasher.isValid(decoded.changes[0]))
        #expect(ChainHasher.isValid(change))

        var forged = batch
        forged[50] ^= 1  // previousHash of sequence 1 no longer genesis
        #expect(
            decodingError(forged)
                == .inconsistent(at(.changeBatch, "Change.previousHash", item: 0, 41), reason: "sequence 1 must chain onto the genesis hash"))

        #expect(throws: WireError.invalidHashLength(31)) { try ChainHash(bytes: [UInt8](repeating: 1, count: 31)) }
        #expect(throws: WireError.invalidHashLength(33)) { try ChainHash(bytes: [UInt8](repeating: 1, count: 33)) }
        let bytes = (0..<32).map { UInt8($0) }
        #expect(try ChainHash(bytes: bytes).bytes == bytes)
        #expect(try ChainHash(bytes: bytes).description.hasPrefix("000102030405"))
    }

    @Test("direction: a node rejects the messages only it would send")
    func direction() throws {
        let welcome = try frameBytes(.welcome(Welcome(epoch: 1, lastApplied: 0, lastAppliedHash: .genesis)))
        #expect(decodingError(welcome, configuration: WireConfiguration(receiver: .clearing)) == .unexpectedMessage(.welcome, receiver: .clearing))
        #expect(decodingError(welcome, configuration: WireConfiguration(receiver: .venue)) == nil)
        let ack = try frameBytes(.instructionAck(InstructionAck(ids: [1])))
        #expect(decodingError(ack, configuration: WireConfiguration(receiver: .venue)) == .unexpectedMessage(.instructionAck, receiver: .venue))
        for receiver in [WireRole.venue, .clearing] {
            #expect(decodingError(heartbeat, configuration: WireConfiguration(receiver: receiver)) == nil)
        }
    }

    @Test("the encoder refuses what the decoder would reject and leaves the buffer untouched")
    func encoderRejects() throws {
        let encoder = WireEncoder()
        var buffer = ByteBuffer()
        try encoder.encode(.heartbeat(Heartbeat(sentAtMillis: 1, lastSequence: 1)), into: &buffer)
        let before = buffer

        func rejects(_ message: WireMessage, _ expected: WireError) {
            #expect(throws: expected) { try encoder.encode(message, into: &buffer) }
            #expect(buffer == before)
        }
        let badMark = ChangeBody.marks([MarkState(asset: 1, oracle: Price(raw: 0), mark: Price(raw: 1))])
        let change = Change(epoch: 1, sequence: 1, previousHash: .genesis, hash: .genesis, body: badMark)
        rejects(
            .changeBatch(ChangeBatch(changes: [change])),
            .valueOutOfRange(at(.changeBatch, "MarkState.oracle", item: 0, 96), value: 0, allowed: "1...10^18"))
        rejects(.changeBatch(ChangeBatch(changes: [])), .countOutOfRange(at(.changeBatch, "ChangeBatch.count", 5), count: 0, allowed: 1...65_536))
        rejects(
            .hello(Hello(protocolVersion: 2, venue: "a", epoch: 0, lastSequence: 0, lastHash: .genesis, lastInstructionAcknowledged: 0, stateDigest: 0)),
            .unsupportedVersion(2, supported: 1...1))
        rejects(
            .hello(Hello(venue: String(repeating: "a", count: 64), epoch: 0, lastSequence: 0, lastHash: .genesis, lastInstructionAcknowledged: 0, stateDigest: 0)),
            .stringLengthOutOfRange(at(.hello, "Hello.venue", 7), length: 64, allowed: 1...63))
        rejects(
            .goodbye(Goodbye(reason: .normal, detail: "tab\there")),
            .invalidString(at(.goodbye, "Goodbye.detail", 6), reason: "character 3 is the control character U+9"))
        rejects(.instructionAck(InstructionAck(ids: [3, 2])), .notAscending(at(.instructionAck, "InstructionAck.id", item: 1, 17), previous: 3, value: 2))

        // A frame over the maximum.
        var generator = MessageGenerator(seed: 3)
        let changes = try generator.changes(3_000)
        let small = WireEncoder(configuration: try #require(WireConfiguration(maximumFrameLength: 1 << 17)))
        let length = WireEncoder.frameLength(of: .changeBatch(ChangeBatch(changes: changes)))
        #expect(throws: WireError.frameTooLarge(length: length, maximum: 1 << 17)) {
            try small.encode(.changeBatch(ChangeBatch(changes: changes)), into: &buffer)
        }
        #expect(buffer == before)

        // ChainHasher refuses to chain a body that cannot be sent.
        var hasher = ChainHasher(epoch: 1)
        #expect(throws: WireError.self) { try hasher.append(badMark) }
        #expect(hasher.lastSequence == 0)
    }

    @Test("Goodbye details are sanitized to what the protocol accepts")
    func sanitizedDetail() throws {
        let detail = Goodbye.sanitizedDetail("a\nb\u{85}" + String(repeating: "é", count: 600))
        #expect(detail.hasPrefix("a b "))
        #expect(detail.utf8.count <= 1_024)
        #expect(try decodeOne(try frameBytes(.goodbye(Goodbye(reason: .protocolError, detail: detail)))) != nil)
    }
}
