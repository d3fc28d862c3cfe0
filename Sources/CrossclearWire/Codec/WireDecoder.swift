import CrossclearEngine
import NIOCore

/// Reads frames strictly: any frame that breaks a rule of Docs/protocol.md throws a ``WireError``
/// naming the message type, the field and the byte offset.
public struct WireDecoder: Sendable {
    /// The settings: maximum frame length, receiving role, hash verification.
    public let configuration: WireConfiguration

    /// A decoder with `configuration`.
    public init(configuration: WireConfiguration = WireConfiguration()) {
        self.configuration = configuration
    }

    /// Decodes the frame at `buffer`'s reader index and consumes it, or returns `nil` (consuming
    /// nothing) when the frame is not complete yet.
    ///
    /// The length prefix is judged as soon as its 4 bytes are there, so an oversized frame is
    /// rejected before its body is buffered.
    public func decodeFrame(from buffer: inout ByteBuffer) throws(WireError) -> WireMessage? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        let bodyLength = Int(length)
        guard bodyLength > 0 else { throw .emptyFrame }
        guard bodyLength <= configuration.maximumFrameLength else {
            throw .frameTooLarge(length: bodyLength, maximum: configuration.maximumFrameLength)
        }
        let frameLength = WireProtocol.lengthPrefixSize + bodyLength
        guard buffer.readableBytes >= frameLength else { return nil }
        let result = buffer.withUnsafeReadableBytes { raw in
            Result { () throws(WireError) -> WireMessage in
                try decodeBody(UnsafeRawBufferPointer(rebasing: raw[WireProtocol.lengthPrefixSize..<frameLength]))
            }
        }
        let message = try result.get()
        buffer.moveReaderIndex(forwardBy: frameLength)
        return message
    }

    /// Decodes every complete frame in `buffer`, leaving an incomplete last frame in place.
    public func decodeFrames(from buffer: inout ByteBuffer) throws(WireError) -> [WireMessage] {
        var messages: [WireMessage] = []
        while let message = try decodeFrame(from: &buffer) { messages.append(message) }
        return messages
    }

    /// Decodes a change body from its kind byte and canonical payload bytes (as journaled next to
    /// each other; see ``WireEncoder/payload(of:)``). Offsets in errors count from the payload start.
    public static func changeBody(kind: UInt8, payload: [UInt8]) throws(WireError) -> ChangeBody {
        let result = payload.withUnsafeBytes { raw in
            Result { () throws(WireError) -> ChangeBody in
                var reader = WireReader(raw: raw, position: 0, base: 0, type: nil)
                let body = try MessageReader.readPayload(kind: kind, kindOffset: 0, &reader)
                guard reader.remaining == 0 else {
                    throw .trailingBytes(reader.location("(end of payload)", at: reader.position), count: reader.remaining)
                }
                return body
            }
        }
        return try result.get()
    }

    /// Decodes one frame body: the type byte and its payload (the length prefix already removed).
    func decodeBody(_ raw: UnsafeRawBufferPointer) throws(WireError) -> WireMessage {
        let typeByte = raw[0]
        guard let type = MessageType(rawValue: typeByte) else { throw .unknownMessageType(typeByte) }
        if let receiver = configuration.receiver, type.sender == receiver {
            throw .unexpectedMessage(type, receiver: receiver)
        }
        var reader = WireReader(raw: raw, position: 1, base: WireProtocol.lengthPrefixSize, type: type)
        let message = try MessageReader.read(type, &reader, verifyingHashes: configuration.verifiesChangeHashes)
        guard reader.remaining == 0 else {
            throw .trailingBytes(reader.location("(end of message)", at: reader.position), count: reader.remaining)
        }
        return message
    }
}

/// The message layouts of Docs/protocol.md, read with validation.
enum MessageReader {
    static func read(_ type: MessageType, _ r: inout WireReader, verifyingHashes: Bool) throws(WireError) -> WireMessage {
        switch type {
        case .hello:
            let version = try r.readProtocolVersion("Hello.protocolVersion")
            let venue = try r.readVenueName("Hello.venue")
            let epoch = try r.readPosition("Hello.epoch", .any)
            let lastSequence = try r.readPosition("Hello.lastSequence", .any)
            let hashAt = r.position
            let lastHash = try r.readHash("Hello.lastHash")
            if lastSequence == 0 && !lastHash.isGenesis {
                throw .inconsistent(r.location("Hello.lastHash", at: hashAt), reason: "lastSequence is 0 but lastHash is not genesis")
            }
            return .hello(
                Hello(
                    protocolVersion: version, venue: venue, epoch: epoch, lastSequence: lastSequence, lastHash: lastHash,
                    lastInstructionAcknowledged: try r.readPosition("Hello.lastInstructionAcknowledged", .any),
                    stateDigest: try r.readUInt64("Hello.stateDigest")))
        case .changeBatch:
            let count = try r.readCount("ChangeBatch.count", CountRule.batch, elementSize: 89)
            var changes: [Change] = []
            changes.reserveCapacity(count)
            for index in 0..<count {
                r.item = index
                changes.append(try readChange(&r, verifyingHash: verifyingHashes))
            }
            return .changeBatch(ChangeBatch(changes: changes))
        case .instructionAck:
            let count = try r.readCount("InstructionAck.count", CountRule.batch, elementSize: 8)
            var ids: [UInt64] = []
            ids.reserveCapacity(count)
            for index in 0..<count {
                r.item = index
                let at = r.position
                let id = try r.readPosition("InstructionAck.id", .positive)
                try requireAscending(id, after: ids.last, at: r.location("InstructionAck.id", at: at))
                ids.append(id)
            }
            return .instructionAck(InstructionAck(ids: ids))
        case .snapshotPart:
            return .snapshotPart(try readSnapshotPart(&r))
        case .welcome:
            let version = try r.readProtocolVersion("Welcome.protocolVersion")
            let epoch = try r.readPosition("Welcome.epoch", .any)
            let lastApplied = try r.readPosition("Welcome.lastApplied", .any)
            let hashAt = r.position
            let hash = try r.readHash("Welcome.lastAppliedHash")
            if lastApplied == 0 && !hash.isGenesis {
                throw .inconsistent(
                    r.location("Welcome.lastAppliedHash", at: hashAt), reason: "lastApplied is 0 but lastAppliedHash is not genesis")
            }
            return .welcome(Welcome(protocolVersion: version, epoch: epoch, lastApplied: lastApplied, lastAppliedHash: hash))
        case .ack:
            return .ack(Ack(epoch: try r.readPosition("Ack.epoch", .any), upTo: try r.readPosition("Ack.upTo", .any)))
        case .instructionBatch:
            let count = try r.readCount("InstructionBatch.count", CountRule.batch, elementSize: 21)
            var instructions: [Instruction] = []
            instructions.reserveCapacity(count)
            for index in 0..<count {
                r.item = index
                let at = r.position
                let instruction = try readInstruction(&r)
                try requireAscending(instruction.id, after: instructions.last?.id, at: r.location("Instruction.id", at: at))
                instructions.append(instruction)
            }
            return .instructionBatch(InstructionBatch(instructions: instructions))
        case .resyncRequest:
            return .resyncRequest(
                ResyncRequest(
                    fromSequence: try r.readPosition("ResyncRequest.fromSequence", .any),
                    reason: try r.readReason("ResyncRequest.reason")))
        case .snapshotRequest:
            return .snapshotRequest(
                SnapshotRequest(
                    snapshotId: try r.readPosition("SnapshotRequest.snapshotId", .positive),
                    reason: try r.readReason("SnapshotRequest.reason")))
        case .heartbeat:
            return .heartbeat(
                Heartbeat(
                    sentAtMillis: try r.readUInt64("Heartbeat.sentAtMillis"),
                    lastSequence: try r.readPosition("Heartbeat.lastSequence", .any)))
        case .goodbye:
            let at = r.position
            let code = try r.readUInt8("Goodbye.reason")
            guard let reason = CloseReason(rawValue: code) else { throw .unknownTag(r.location("Goodbye.reason", at: at), tag: code) }
            return .goodbye(Goodbye(reason: reason, detail: try r.readReason("Goodbye.detail")))
        }
    }

    static func readChange(_ r: inout WireReader, verifyingHash: Bool) throws(WireError) -> Change {
        let hashAt = r.position
        let hash = try r.readHash("Change.hash")
        // Everything from here to the end of the payload is what the hash covers.
        let coveredFrom = r.position
        let previousHash = try r.readHash("Change.previousHash")
        let epoch = try r.readPosition("Change.epoch", .any)
        let sequence = try r.readPosition("Change.sequence", .positive)
        if sequence == 1 && !previousHash.isGenesis {
            throw .inconsistent(r.location("Change.previousHash", at: coveredFrom), reason: "sequence 1 must chain onto the genesis hash")
        }
        let kindAt = r.position
        let kind = try r.readUInt8("Change.kind")
        let body = try readPayload(kind: kind, kindOffset: kindAt, &r)
        if verifyingHash {
            guard r.sha256(coveredFrom..<r.position) == hash else {
                throw .hashMismatch(r.location("Change.hash", at: hashAt), epoch: epoch, sequence: sequence)
            }
        }
        return Change(epoch: epoch, sequence: sequence, previousHash: previousHash, hash: hash, body: body)
    }

    /// The payload of a change of `kind` (whose byte was at `kindOffset`, for errors).
    static func readPayload(kind: UInt8, kindOffset: Int, _ r: inout WireReader) throws(WireError) -> ChangeBody {
        switch kind {
        case 1:
            return .account(try readAccount(&r))
        case 2:
            return .marks(try readMarks(&r, CountRule.marks, "MarkState.count"))
        case 3:
            let account = try r.readUInt32("BackstopRequest.account")
            let deficit = try r.readInt64("BackstopRequest.deficit", .nonNegative)
            let positions = try readPositions(&r, CountRule.offeredPositions, "BackstopRequest.positions")
            return .backstopRequest(BackstopRequest(account: account, deficit: Amount(raw: deficit), positions: positions))
        case 4:
            return .digest(try r.readUInt64("ChangeBody.digest"))
        default:
            throw .unknownTag(r.location("Change.kind", at: kindOffset), tag: kind)
        }
    }

    /// An account state (20 bytes plus 18 per position).
    static func readAccount(_ r: inout WireReader) throws(WireError) -> AccountState {
        let account = try r.readUInt32("AccountState.account")
        let trader = try r.readUInt32("AccountState.trader")
        let collateral = try r.readInt64("AccountState.collateral", .signed)
        let positions = try readPositions(&r, CountRule.accountPositions, "AccountState.positions")
        return AccountState(account: account, trader: trader, collateral: Amount(raw: collateral), positions: positions)
    }

    /// A counted list of marks, strictly ascending by asset.
    static func readMarks(_ r: inout WireReader, _ allowed: ClosedRange<Int>, _ field: StaticString) throws(WireError) -> [MarkState] {
        let count = try r.readCount(field, allowed, elementSize: 18)
        var marks: [MarkState] = []
        marks.reserveCapacity(count)
        for _ in 0..<count {
            let at = r.position
            let asset = try r.readUInt16("MarkState.asset")
            try requireAscending(asset, after: marks.last?.asset, at: r.location("MarkState.asset", at: at))
            let oracle = try r.readInt64("MarkState.oracle", .positive)
            let mark = try r.readInt64("MarkState.mark", .positive)
            marks.append(MarkState(asset: asset, oracle: Price(raw: oracle), mark: Price(raw: mark)))
        }
        return marks
    }

    /// A snapshot part (layout in Docs/protocol.md section 5): the header, then accounts strictly
    /// ascending by account number (item = index among the accounts), then marks.
    static func readSnapshotPart(_ r: inout WireReader) throws(WireError) -> SnapshotPart {
        let snapshotId = try r.readPosition("SnapshotPart.snapshotId", .positive)
        let epoch = try r.readPosition("SnapshotPart.epoch", .any)
        let throughSequence = try r.readPosition("SnapshotPart.throughSequence", .any)
        let digest = try r.readUInt64("SnapshotPart.digest")
        let partAt = r.position
        let part = try r.readUInt32("SnapshotPart.part")
        let countAt = r.position
        let partCount = try r.readUInt32("SnapshotPart.partCount")
        guard CountRule.snapshotParts.contains(Int(partCount)) else {
            throw .countOutOfRange(r.location("SnapshotPart.partCount", at: countAt), count: Int(partCount), allowed: CountRule.snapshotParts)
        }
        guard part < partCount else {
            throw .valueOutOfRange(r.location("SnapshotPart.part", at: partAt), value: Int128(part), allowed: "0...\(partCount - 1)")
        }
        let count = try r.readCount("SnapshotPart.accounts", CountRule.snapshotAccounts, elementSize: 20)
        var accounts: [AccountState] = []
        accounts.reserveCapacity(count)
        for index in 0..<count {
            r.item = index
            let at = r.position
            let account = try readAccount(&r)
            try requireAscending(account.account, after: accounts.last?.account, at: r.location("AccountState.account", at: at))
            accounts.append(account)
        }
        r.item = nil
        let marks = try readMarks(&r, CountRule.snapshotMarks, "SnapshotPart.marks")
        return SnapshotPart(
            snapshotId: snapshotId, epoch: epoch, throughSequence: throughSequence, digest: digest, part: part, partCount: partCount,
            accounts: accounts, marks: marks)
    }

    static func readPositions(
        _ r: inout WireReader, _ allowed: ClosedRange<Int>, _ field: StaticString
    ) throws(WireError) -> [PositionState] {
        let count = try r.readCount(field, allowed, elementSize: 18)
        var positions: [PositionState] = []
        positions.reserveCapacity(count)
        for _ in 0..<count {
            let at = r.position
            let asset = try r.readUInt16("PositionState.asset")
            try requireAscending(asset, after: positions.last?.asset, at: r.location("PositionState.asset", at: at))
            let quantity = try r.readInt64("PositionState.quantity", .nonZero)
            let basis = try r.readInt64("PositionState.basis", .signed)
            positions.append(PositionState(asset: asset, quantity: Quantity(raw: quantity), basis: Amount(raw: basis)))
        }
        return positions
    }

    static func readInstruction(_ r: inout WireReader) throws(WireError) -> Instruction {
        let id = try r.readPosition("Instruction.id", .positive)
        let kindAt = r.position
        let kind = try r.readUInt8("Instruction.kind")
        let body: InstructionBody
        switch kind {
        case 1:
            body = .credit(
                CrossMarginCredit(
                    account: try r.readUInt32("CrossMarginCredit.account"),
                    thresholdReduction: Amount(raw: try r.readInt64("CrossMarginCredit.thresholdReduction", .nonNegative))))
        case 2:
            let moveId = try r.readPosition("CollateralMove.moveId", .positive)
            let fromVenue = try r.readVenueName("CollateralMove.fromVenue")
            let fromAccount = try r.readUInt32("CollateralMove.fromAccount")
            let toVenue = try r.readVenueName("CollateralMove.toVenue")
            let toAccountAt = r.position
            let toAccount = try r.readUInt32("CollateralMove.toAccount")
            if fromVenue == toVenue && fromAccount == toAccount {
                throw .inconsistent(
                    r.location("CollateralMove.toAccount", at: toAccountAt), reason: "source and destination are the same account")
            }
            let amount = try r.readInt64("CollateralMove.amount", .positive)
            let legAt = r.position
            let legByte = try r.readUInt8("CollateralMove.leg")
            guard let leg = CollateralMove.Leg(rawValue: legByte) else {
                throw .unknownTag(r.location("CollateralMove.leg", at: legAt), tag: legByte)
            }
            body = .collateralMove(
                CollateralMove(
                    moveId: moveId, fromVenue: fromVenue, fromAccount: fromAccount, toVenue: toVenue, toAccount: toAccount,
                    amount: Amount(raw: amount), leg: leg))
        case 3:
            let account = try r.readUInt32("BackstopFill.account")
            let requestEpoch = try r.readPosition("BackstopFill.requestEpoch", .any)
            let requestSequence = try r.readPosition("BackstopFill.requestSequence", .positive)
            let count = try r.readCount("BackstopFill.legs", CountRule.offeredPositions, elementSize: 18)
            var legs: [BackstopLeg] = []
            legs.reserveCapacity(count)
            for _ in 0..<count {
                let at = r.position
                let asset = try r.readUInt16("BackstopLeg.asset")
                try requireAscending(asset, after: legs.last?.asset, at: r.location("BackstopLeg.asset", at: at))
                let quantity = try r.readInt64("BackstopLeg.quantity", .nonZero)
                let price = try r.readInt64("BackstopLeg.price", .positive)
                legs.append(BackstopLeg(asset: asset, quantity: Quantity(raw: quantity), price: Price(raw: price)))
            }
            let cash = try r.readInt64("BackstopFill.cash", .signed)
            body = .backstopFill(
                BackstopFill(
                    account: account, requestEpoch: requestEpoch, requestSequence: requestSequence, legs: legs, cash: Amount(raw: cash)))
        case 4:
            body = .adl(
                ADLInstruction(
                    round: try r.readPosition("ADLInstruction.round", .positive),
                    account: try r.readUInt32("ADLInstruction.account"),
                    asset: try r.readUInt16("ADLInstruction.asset"),
                    quantity: Quantity(raw: try r.readInt64("ADLInstruction.quantity", .nonZero)),
                    price: Price(raw: try r.readInt64("ADLInstruction.price", .positive)),
                    haircut: Amount(raw: try r.readInt64("ADLInstruction.haircut", .nonNegative))))
        default:
            throw .unknownTag(r.location("Instruction.kind", at: kindAt), tag: kind)
        }
        return Instruction(id: id, body: body)
    }
}
