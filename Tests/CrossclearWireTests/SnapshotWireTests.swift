import CrossclearEngine
import CrossclearWire
import NIOCore
import Testing

/// The anti-entropy messages: SnapshotRequest (clearing to venue) and SnapshotPart (venue to
/// clearing), their splitting to the frame limit and their strict decoding.
@Suite("Snapshot messages: round trips, splitting, strict decoding")
struct SnapshotWireTests {
    /// A part with one account of two positions and one mark.
    /// Layout: length(0) type(4) snapshotId(5) epoch(13) throughSequence(21) digest(29) part(37)
    /// partCount(41) accounts count(45) account(49) trader(53) collateral(57) positions count(65)
    /// asset(69) quantity(71) basis(79), asset(87) quantity(89) basis(97), marks count(105)
    /// asset(109) oracle(111) mark(119); 127 bytes.
    static let part = SnapshotPart(
        snapshotId: 3, epoch: 2, throughSequence: 40, digest: 0xABCD, part: 0, partCount: 2,
        accounts: [
            AccountState(
                account: 5, trader: 9, collateral: Amount(raw: -7),
                positions: [
                    PositionState(asset: 1, quantity: Quantity(raw: 10), basis: Amount(raw: 100)),
                    PositionState(asset: 2, quantity: Quantity(raw: -10), basis: Amount(raw: -100)),
                ])
        ],
        marks: [MarkState(asset: 1, oracle: Price(raw: 5), mark: Price(raw: 6))])

    static func accounts(_ count: Int, positions: Int = 1) -> [AccountState] {
        (0..<count).map { index in
            AccountState(
                account: UInt32(index * 2), trader: UInt32(index), collateral: Amount(raw: Int64(index) * 1_000),
                positions: (0..<positions).map { PositionState(asset: UInt16($0), quantity: Quantity(raw: 1 + Int64(index)), basis: Amount(raw: 5)) })
        }
    }

    @Test("the worked layout: every field where the protocol says, and back")
    func layout() throws {
        let bytes = try frameBytes(.snapshotPart(Self.part))
        #expect(bytes.count == 127)
        #expect(bytes[4] == 0x04)
        #expect(Array(bytes[45..<49]) == [0, 0, 0, 1])
        #expect(Array(bytes[105..<109]) == [0, 0, 0, 1])
        #expect(try decodeOne(bytes) == .snapshotPart(Self.part))
        let request = try frameBytes(.snapshotRequest(SnapshotRequest(snapshotId: 1, reason: "digest 0x1 ≠ 0x2")))
        #expect(request[4] == 0x15)
        #expect(try decodeOne(request) == .snapshotRequest(SnapshotRequest(snapshotId: 1, reason: "digest 0x1 ≠ 0x2")))
    }

    @Test("a large book splits into frames within the limit, in order, that reassemble to it", arguments: [1 << 17, 1 << 20])
    func split(maximumFrameLength: Int) throws {
        let accounts = Self.accounts(30_000, positions: 2)
        let marks = (0..<5_000).map { MarkState(asset: UInt16($0), oracle: Price(raw: 1), mark: Price(raw: 2)) }
        let parts = SnapshotPart.split(
            snapshotId: 1, epoch: 4, throughSequence: 99, digest: 7, accounts: accounts, marks: marks, maximumFrameLength: maximumFrameLength)
        #expect(parts.count > 1)
        let encoder = WireEncoder(configuration: try #require(WireConfiguration(maximumFrameLength: maximumFrameLength)))
        let decoder = WireDecoder(configuration: try #require(WireConfiguration(maximumFrameLength: maximumFrameLength, receiver: .clearing)))
        var buffer = ByteBuffer()
        for part in parts { try encoder.encode(.snapshotPart(part), into: &buffer) }
        let decoded = try decoder.decodeFrames(from: &buffer)
        #expect(buffer.readableBytes == 0)
        var joinedAccounts: [AccountState] = []
        var joinedMarks: [MarkState] = []
        for (index, message) in decoded.enumerated() {
            guard case .snapshotPart(let part) = message else {
                Issue.record("expected a snapshot part")
                return
            }
            #expect(part.part == UInt32(index) && part.partCount == UInt32(parts.count))
            #expect(part.snapshotId == 1 && part.epoch == 4 && part.throughSequence == 99 && part.digest == 7)
            #expect(part.marks.count <= WireProtocol.maximumMarks && part.accounts.count <= WireProtocol.maximumSnapshotAccounts)
            joinedAccounts += part.accounts
            joinedMarks += part.marks
        }
        #expect(joinedAccounts == accounts)
        #expect(joinedMarks == marks)
    }

    @Test("an empty book is one empty part; more than 65,536 parts cannot be encoded")
    func edges() throws {
        let empty = SnapshotPart.split(snapshotId: 1, epoch: 0, throughSequence: 0, digest: 0, accounts: [], marks: [])
        #expect(empty == [SnapshotPart(snapshotId: 1, epoch: 0, throughSequence: 0, digest: 0, part: 0, partCount: 1, accounts: [], marks: [])])
        #expect(try decodeOne(try frameBytes(.snapshotPart(empty[0]))) == .snapshotPart(empty[0]))
        var tooMany = Self.part
        tooMany.partCount = 65_537
        #expect(throws: WireError.countOutOfRange(at(.snapshotPart, "SnapshotPart.partCount", 41), count: 65_537, allowed: 1...65_536)) {
            try frameBytes(.snapshotPart(tooMany))
        }
    }

    @Test("malformed parts are refused with the field and offset")
    func malformedParts() throws {
        let bytes = try frameBytes(.snapshotPart(Self.part))
        func rejected(_ change: (inout [UInt8]) -> Void) -> WireError? {
            var copy = bytes
            change(&copy)
            return decodingError(copy, configuration: WireConfiguration(receiver: .clearing))
        }
        #expect(rejected { patch(&$0, at: 5, UInt64(0)) } == .valueOutOfRange(at(.snapshotPart, "SnapshotPart.snapshotId", 5), value: 0, allowed: "1...2^63-1"))
        #expect(
            rejected { patch(&$0, at: 21, UInt64(1) << 63) }
                == .valueOutOfRange(at(.snapshotPart, "SnapshotPart.throughSequence", 21), value: Int128(UInt64(1) << 63), allowed: "0...2^63-1"))
        #expect(rejected { patch(&$0, at: 37, UInt32(2)) } == .valueOutOfRange(at(.snapshotPart, "SnapshotPart.part", 37), value: 2, allowed: "0...1"))
        #expect(rejected { patch(&$0, at: 41, UInt32(0)) } == .countOutOfRange(at(.snapshotPart, "SnapshotPart.partCount", 41), count: 0, allowed: 1...65_536))
        #expect(
            rejected { patch(&$0, at: 45, UInt32(65_537)) }
                == .countOutOfRange(at(.snapshotPart, "SnapshotPart.accounts", 45), count: 65_537, allowed: 0...65_536))
        #expect(
            rejected { patch(&$0, at: 45, UInt32(5)) }
                == .truncated(at(.snapshotPart, "SnapshotPart.accounts", 45), needed: 100, available: 78))
        #expect(
            rejected { patch(&$0, at: 57, Int64.min) }
                == .valueOutOfRange(at(.snapshotPart, "AccountState.collateral", item: 0, 57), value: Int128(Int64.min), allowed: "-10^18...10^18"))
        #expect(
            rejected { patch(&$0, at: 71, Int64(0)) }
                == .valueOutOfRange(at(.snapshotPart, "PositionState.quantity", item: 0, 71), value: 0, allowed: "-10^18...10^18 except 0"))
        #expect(rejected { patch(&$0, at: 87, UInt16(1)) } == .notAscending(at(.snapshotPart, "PositionState.asset", item: 0, 87), previous: 1, value: 1))
        #expect(
            rejected { patch(&$0, at: 105, UInt32(4_097)) }
                == .countOutOfRange(at(.snapshotPart, "SnapshotPart.marks", 105), count: 4_097, allowed: 0...4_096))
        #expect(rejected { patch(&$0, at: 111, Int64(0)) } == .valueOutOfRange(at(.snapshotPart, "MarkState.oracle", 111), value: 0, allowed: "1...10^18"))
        // Cut inside the last mark (the count no longer fits); one byte too many.
        var short = Array(bytes.dropLast(3))
        fixLength(&short)
        #expect(decodingError(short) == .truncated(at(.snapshotPart, "SnapshotPart.marks", 105), needed: 18, available: 15))
        var long = bytes + [0]
        fixLength(&long)
        #expect(decodingError(long) == .trailingBytes(at(.snapshotPart, "(end of message)", 127), count: 1))
        // Direction: a venue never receives a part, the clearing node never a request.
        #expect(decodingError(bytes, configuration: WireConfiguration(receiver: .venue)) == .unexpectedMessage(.snapshotPart, receiver: .venue))
        let request = try frameBytes(.snapshotRequest(SnapshotRequest(snapshotId: 1, reason: "")))
        #expect(
            decodingError(request, configuration: WireConfiguration(receiver: .clearing)) == .unexpectedMessage(.snapshotRequest, receiver: .clearing))
    }

    @Test("accounts must be strictly ascending within a part")
    func accountOrder() throws {
        var part = Self.part
        part.accounts = Self.accounts(2)
        var bytes = try frameBytes(.snapshotPart(part))
        // The second account (item 1) starts at 49 + 20 + 18 = 87.
        patch(&bytes, at: 87, UInt32(0))
        #expect(decodingError(bytes) == .notAscending(at(.snapshotPart, "AccountState.account", item: 1, 87), previous: 0, value: 0))
        part.accounts.reverse()
        #expect(throws: WireError.notAscending(at(.snapshotPart, "AccountState.account", item: 1, 87), previous: 2, value: 0)) {
            try frameBytes(.snapshotPart(part))
        }
    }

    @Test("malformed requests: id 0, a control character in the reason")
    func malformedRequests() throws {
        var zero = FrameBuilder(.snapshotRequest)
        zero.u64(0)
        zero.string([])
        #expect(decodingError(zero.frame) == .valueOutOfRange(at(.snapshotRequest, "SnapshotRequest.snapshotId", 5), value: 0, allowed: "1...2^63-1"))
        var control = FrameBuilder(.snapshotRequest)
        control.u64(1)
        control.string(Array("a\u{7}".utf8))
        #expect(
            decodingError(control.frame)
                == .invalidString(at(.snapshotRequest, "SnapshotRequest.reason", 13), reason: "character 1 is the control character U+7"))
    }
}
