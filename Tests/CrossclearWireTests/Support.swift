import CrossclearEngine
import CrossclearWire
import NIOCore
import Testing

/// Seeded generator of valid protocol values (every failing test prints its seed).
struct MessageGenerator {
    var random: SeededRandom

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func chance(_ percent: UInt64) -> Bool { random.below(100) < percent }

    /// A value within the protocol's magnitude bound, often an edge.
    mutating func magnitude(_ range: ClosedRange<Int64>) -> Int64 {
        switch random.below(8) {
        case 0: return range.lowerBound
        case 1: return range.upperBound
        default: return random.int(in: range)
        }
    }

    mutating func signed() -> Int64 { magnitude(-WireProtocol.maximumMagnitude...WireProtocol.maximumMagnitude) }
    mutating func nonNegative() -> Int64 { magnitude(0...WireProtocol.maximumMagnitude) }
    mutating func positive() -> Int64 { magnitude(1...WireProtocol.maximumMagnitude) }
    mutating func nonZero() -> Int64 {
        let value = signed()
        return value == 0 ? 1 : value
    }

    /// An epoch, sequence or id in 0...2^63-1 (often small or the maximum).
    mutating func position(minimum: UInt64 = 0) -> UInt64 {
        switch random.below(6) {
        case 0: return minimum
        case 1: return WireProtocol.maximumPosition
        case 2: return minimum + random.below(1000)
        default: return max(minimum, random.next() >> 1)
        }
    }

    mutating func u32() -> UInt32 { UInt32(truncatingIfNeeded: random.next()) }
    mutating func u16() -> UInt16 { UInt16(truncatingIfNeeded: random.next()) }

    mutating func hash() -> ChainHash {
        var bytes: [UInt8] = []
        for _ in 0..<4 {
            let word = random.next()
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return (try? ChainHash(bytes: bytes)) ?? .genesis
    }

    mutating func venue() -> String {
        let first = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        let rest = first + ["-"]
        let length = chance(10) ? WireProtocol.maximumVenueNameLength : 1 + Int(random.below(20))
        var name = String(first[Int(random.below(UInt64(first.count)))])
        while name.utf8.count < length { name.append(rest[Int(random.below(UInt64(rest.count)))]) }
        return name
    }

    mutating func reason() -> String {
        let pieces = ["a", "Z", " ", "é", "日本", "🚀", "-", "0", "gap at 17", "ß"]
        var text = ""
        let count = random.below(12)
        for _ in 0..<count { text += pieces[Int(random.below(UInt64(pieces.count)))] }
        return text
    }

    /// Strictly ascending distinct assets.
    mutating func assets(_ count: Int) -> [UInt16] {
        var assets: [UInt16] = []
        var next = UInt16(random.below(100))
        for _ in 0..<count {
            assets.append(next)
            next &+= 1 + UInt16(random.below(50))
            if next <= assets.last ?? 0 { break }
        }
        return assets
    }

    mutating func positions(_ count: Int) -> [PositionState] {
        assets(count).map { PositionState(asset: $0, quantity: Quantity(raw: nonZero()), basis: Amount(raw: signed())) }
    }

    mutating func changeBody() -> ChangeBody {
        switch random.below(4) {
        case 0:
            return .account(
                AccountState(account: u32(), trader: u32(), collateral: Amount(raw: signed()), positions: positions(Int(random.below(6)))))
        case 1:
            return .marks(assets(1 + Int(random.below(6))).map { MarkState(asset: $0, oracle: Price(raw: positive()), mark: Price(raw: positive())) })
        case 2:
            return .backstopRequest(
                BackstopRequest(account: u32(), deficit: Amount(raw: nonNegative()), positions: positions(1 + Int(random.below(4)))))
        default:
            return .digest(random.next())
        }
    }

    mutating func instructionBody() -> InstructionBody {
        switch random.below(4) {
        case 0:
            return .credit(CrossMarginCredit(account: u32(), thresholdReduction: Amount(raw: nonNegative())))
        case 1:
            let from = venue()
            var to = venue()
            if to == from { to += "x" }
            return .collateralMove(
                CollateralMove(
                    moveId: position(minimum: 1), fromVenue: from, fromAccount: u32(), toVenue: to, toAccount: u32(),
                    amount: Amount(raw: positive()), leg: chance(50) ? .debit : .credit))
        case 2:
            let legs = assets(1 + Int(random.below(4))).map { BackstopLeg(asset: $0, quantity: Quantity(raw: nonZero()), price: Price(raw: positive())) }
            return .backstopFill(
                BackstopFill(account: u32(), requestEpoch: position(), requestSequence: position(minimum: 1), legs: legs, cash: Amount(raw: signed())))
        default:
            return .adl(
                ADLInstruction(
                    round: position(minimum: 1), account: u32(), asset: u16(), quantity: Quantity(raw: nonZero()),
                    price: Price(raw: positive()), haircut: Amount(raw: nonNegative())))
        }
    }

    /// `count` chained changes of one epoch.
    mutating func changes(_ count: Int, epoch: UInt64 = 3) throws -> [Change] {
        var hasher = ChainHasher(epoch: epoch)
        return try (0..<count).map { _ in try hasher.append(changeBody()) }
    }

    mutating func message(_ type: MessageType) throws -> WireMessage {
        switch type {
        case .hello:
            let lastSequence = position()
            return .hello(
                Hello(
                    venue: venue(), epoch: position(), lastSequence: lastSequence, lastHash: lastSequence == 0 ? .genesis : hash(),
                    lastInstructionAcknowledged: position(), stateDigest: random.next()))
        case .changeBatch:
            return .changeBatch(ChangeBatch(changes: try changes(1 + Int(random.below(20)), epoch: position())))
        case .instructionAck:
            var id = position(minimum: 1) / 2 + 1
            var ids: [UInt64] = []
            for _ in 0..<(1 + random.below(20)) {
                ids.append(id)
                id += 1 + random.below(5)
            }
            return .instructionAck(InstructionAck(ids: ids))
        case .welcome:
            let lastApplied = position()
            return .welcome(Welcome(epoch: position(), lastApplied: lastApplied, lastAppliedHash: lastApplied == 0 ? .genesis : hash()))
        case .ack:
            return .ack(Ack(epoch: position(), upTo: position()))
        case .instructionBatch:
            var id = 1 + random.below(1_000_000)
            var instructions: [Instruction] = []
            for _ in 0..<(1 + random.below(20)) {
                instructions.append(Instruction(id: id, body: instructionBody()))
                id += 1 + random.below(3)
            }
            return .instructionBatch(InstructionBatch(instructions: instructions))
        case .resyncRequest:
            return .resyncRequest(ResyncRequest(fromSequence: position(), reason: reason()))
        case .snapshotRequest:
            return .snapshotRequest(SnapshotRequest(snapshotId: position(minimum: 1), reason: reason()))
        case .snapshotPart:
            let partCount = 1 + UInt32(random.below(5))
            var accounts: [AccountState] = []
            var account = UInt32(random.below(1_000))
            for _ in 0..<random.below(20) {
                accounts.append(
                    AccountState(account: account, trader: u32(), collateral: Amount(raw: signed()), positions: positions(Int(random.below(4)))))
                account += 1 + UInt32(random.below(100))
            }
            let marks = assets(Int(random.below(6))).map { MarkState(asset: $0, oracle: Price(raw: positive()), mark: Price(raw: positive())) }
            return .snapshotPart(
                SnapshotPart(
                    snapshotId: position(minimum: 1), epoch: position(), throughSequence: position(), digest: random.next(),
                    part: UInt32(random.below(UInt64(partCount))), partCount: partCount, accounts: accounts, marks: marks))
        case .heartbeat:
            return .heartbeat(Heartbeat(sentAtMillis: random.next(), lastSequence: position()))
        case .goodbye:
            let reasons = CloseReason.allCases
            return .goodbye(Goodbye(reason: reasons[Int(random.below(UInt64(reasons.count)))], detail: reason()))
        }
    }
}

/// One message encoded as a frame.
func frameBytes(_ message: WireMessage, encoder: WireEncoder = WireEncoder()) throws -> [UInt8] {
    var buffer = ByteBuffer()
    try encoder.encode(message, into: &buffer)
    return Array(buffer.readableBytesView)
}

/// Decodes exactly one frame from `bytes`, throwing its WireError.
func decodeOne(_ bytes: [UInt8], configuration: WireConfiguration = WireConfiguration()) throws(WireError) -> WireMessage? {
    var buffer = ByteBuffer(bytes: bytes)
    return try WireDecoder(configuration: configuration).decodeFrame(from: &buffer)
}

/// The WireError decoding `bytes` throws, or nil.
func decodingError(_ bytes: [UInt8], configuration: WireConfiguration = WireConfiguration()) -> WireError? {
    do throws(WireError) {
        _ = try decodeOne(bytes, configuration: configuration)
        return nil
    } catch {
        return error
    }
}

/// Overwrites bytes at `offset` with `value` big-endian.
func patch<Integer: FixedWidthInteger>(_ bytes: inout [UInt8], at offset: Int, _ value: Integer) {
    var buffer = ByteBuffer()
    buffer.writeInteger(value)
    for (index, byte) in buffer.readableBytesView.enumerated() { bytes[offset + index] = byte }
}

/// Sets the frame's length prefix to match `bytes`.
func fixLength(_ bytes: inout [UInt8]) {
    patch(&bytes, at: 0, UInt32(bytes.count - 4))
}
