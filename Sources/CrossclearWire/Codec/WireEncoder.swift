import CrossclearEngine
import NIOCore

/// Writes messages as frames: `u32 length`, `u8 type`, payload (see Docs/protocol.md).
///
/// The encoder checks every rule the decoder checks, so a node never sends a frame its peer would
/// reject: a message that breaks one throws the decoder's ``WireError`` (offsets counted in the
/// frame being written) and leaves the buffer as it was.
public struct WireEncoder: Sendable {
    /// The largest frame body written.
    public let maximumFrameLength: Int

    /// An encoder for `configuration`'s maximum frame length.
    public init(configuration: WireConfiguration = WireConfiguration()) {
        self.maximumFrameLength = configuration.maximumFrameLength
    }

    /// Appends `message` as one frame to `buffer`.
    ///
    /// - Throws: ``WireError`` when the message breaks a rule or its frame would exceed
    ///   ``maximumFrameLength`` (``WireError/frameTooLarge(length:maximum:)``); nothing is appended then.
    public func encode(_ message: WireMessage, into buffer: inout ByteBuffer) throws(WireError) {
        let bodyLength = Self.frameLength(of: message)
        guard bodyLength <= maximumFrameLength else { throw .frameTooLarge(length: bodyLength, maximum: maximumFrameLength) }
        let frameLength = WireProtocol.lengthPrefixSize + bodyLength
        // Written through a raw pointer into exactly `frameLength` reserved bytes: ByteBuffer's
        // generic integer writes cost most of the time in debug builds. If a rule is broken the
        // closure throws and the writer index does not move.
        let result = Result { () throws(WireError) -> Void in
            do {
                try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: frameLength) { raw in
                    var writer = RawWriter(raw: raw, base: 0, type: message.type)
                    writer.u32(UInt32(bodyLength))
                    writer.u8(message.type.rawValue)
                    try MessageWriter.write(message, &writer)
                    precondition(writer.position == frameLength, "frame length mismatch for \(message.type)")
                    return frameLength
                }
            } catch let error as WireError {
                throw error
            } catch {
                preconditionFailure("unexpected error \(error)")
            }
        }
        try result.get()
    }

    /// Appends each message as its own frame (stops at the first failure, keeping the frames before it).
    public func encode(_ messages: some Sequence<WireMessage>, into buffer: inout ByteBuffer) throws(WireError) {
        for message in messages { try encode(message, into: &buffer) }
    }

    /// The frame body length of `message` (type byte plus payload, prefix excluded), computed
    /// without encoding or validating it.
    public static func frameLength(of message: WireMessage) -> Int {
        1 + MessageWriter.payloadLength(of: message)
    }

    /// The canonical payload bytes of a change body (what the chain hash covers after the kind
    /// byte; what a node journals next to ``ChangeBody/kind``). Offsets in errors count from the
    /// payload's first byte.
    public static func payload(of body: ChangeBody) throws(WireError) -> [UInt8] {
        let length = MessageWriter.payloadLength(of: body)
        var failure: WireError?
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { storage, initialized in
            var writer = RawWriter(raw: UnsafeMutableRawBufferPointer(storage), base: 0, type: nil)
            do throws(WireError) {
                try MessageWriter.writePayload(body, &writer)
                precondition(writer.position == length, "payload length mismatch")
                initialized = length
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }
}

// MARK: - Batching

extension ChangeBatch {
    /// Splits `changes` (in order) into batches whose frames fit `maximumFrameLength` and hold at
    /// most ``WireProtocol/maximumBatchCount`` changes. A change too large for any frame travels
    /// alone (and encoding it throws).
    public static func split(_ changes: [Change], maximumFrameLength: Int = WireProtocol.defaultMaximumFrameLength) -> [ChangeBatch] {
        splitByLength(changes, maximumFrameLength: maximumFrameLength, length: MessageWriter.encodedLength(of:))
            .map(ChangeBatch.init(changes:))
    }
}

extension InstructionBatch {
    /// Splits `instructions` (in order) into batches whose frames fit `maximumFrameLength` and hold
    /// at most ``WireProtocol/maximumBatchCount`` instructions.
    public static func split(
        _ instructions: [Instruction], maximumFrameLength: Int = WireProtocol.defaultMaximumFrameLength
    ) -> [InstructionBatch] {
        splitByLength(instructions, maximumFrameLength: maximumFrameLength, length: MessageWriter.encodedLength(of:))
            .map(InstructionBatch.init(instructions:))
    }
}

extension SnapshotPart {
    /// Payload bytes of a part before its accounts: id, epoch, throughSequence, digest (8 each),
    /// part, partCount, the account count (4 each); plus the marks count (4).
    static let headerLength = 8 + 8 + 8 + 8 + 4 + 4 + 4 + 4

    /// Splits a book (accounts ascending by account, marks ascending by asset) into the frames of
    /// one snapshot, in order, each fitting `maximumFrameLength` and the per-part counts; accounts
    /// first, then the marks. An empty book is one part with nothing in it. Encoding throws
    /// (``WireError/countOutOfRange(_:count:allowed:)`` on `SnapshotPart.partCount`) if the book
    /// needs more than ``WireProtocol/maximumSnapshotParts`` frames.
    public static func split(
        snapshotId: UInt64, epoch: UInt64, throughSequence: UInt64, digest: UInt64, accounts: [AccountState], marks: [MarkState],
        maximumFrameLength: Int = WireProtocol.defaultMaximumFrameLength
    ) -> [SnapshotPart] {
        let budget = maximumFrameLength - 1 - headerLength
        var parts: [(accounts: [AccountState], marks: [MarkState])] = []
        var current: (accounts: [AccountState], marks: [MarkState]) = ([], [])
        var used = 0
        func fits(_ length: Int, accounts: Int, marks: Int) -> Bool {
            used + length <= budget && accounts < WireProtocol.maximumSnapshotAccounts && marks < WireProtocol.maximumMarks
        }
        for account in accounts {
            let length = MessageWriter.encodedLength(of: account)
            if !fits(length, accounts: current.accounts.count, marks: 0) && !current.accounts.isEmpty {
                parts.append(current)
                current = ([], [])
                used = 0
            }
            current.accounts.append(account)
            used += length
        }
        for mark in marks {
            if !fits(18, accounts: 0, marks: current.marks.count) && !(current.accounts.isEmpty && current.marks.isEmpty) {
                parts.append(current)
                current = ([], [])
                used = 0
            }
            current.marks.append(mark)
            used += 18
        }
        parts.append(current)
        let count = UInt32(clamping: parts.count)
        return parts.enumerated().map { index, content in
            SnapshotPart(
                snapshotId: snapshotId, epoch: epoch, throughSequence: throughSequence, digest: digest,
                part: UInt32(clamping: index), partCount: count, accounts: content.accounts, marks: content.marks)
        }
    }
}

/// Greedy split: a batch frame is 1 type byte + 4 count bytes + its items.
func splitByLength<Item>(_ items: [Item], maximumFrameLength: Int, length: (Item) -> Int) -> [[Item]] {
    var batches: [[Item]] = []
    var current: [Item] = []
    var currentLength = 5
    for item in items {
        let itemLength = length(item)
        if !current.isEmpty && (currentLength + itemLength > maximumFrameLength || current.count == WireProtocol.maximumBatchCount) {
            batches.append(current)
            current = []
            currentLength = 5
        }
        current.append(item)
        currentLength += itemLength
    }
    if !current.isEmpty { batches.append(current) }
    return batches
}

// MARK: - Writing

/// A big-endian writer into memory reserved for exactly the encoded length (a mismatch is a bug,
/// caught by preconditions); every rule violation names the field and its offset.
struct RawWriter {
    let raw: UnsafeMutableRawBufferPointer
    var position = 0
    /// The offset reported for `raw[0]`.
    let base: Int
    let type: MessageType?
    var item: Int? = nil

    init(raw: UnsafeMutableRawBufferPointer, base: Int, type: MessageType?) {
        self.raw = raw
        self.base = base
        self.type = type
    }

    func location(_ field: StaticString) -> WireLocation {
        WireLocation(messageType: type, field: "\(field)", item: item, offset: base + position)
    }

    @inline(__always) mutating func u8(_ value: UInt8) {
        precondition(position < raw.count, "encoded length mismatch")
        raw[position] = value
        position += 1
    }

    // One concrete function per width: generic code is not specialized in debug builds and
    // looked up metadata on every call.
    @inline(__always) mutating func u16(_ value: UInt16) {
        precondition(position + 2 <= raw.count, "encoded length mismatch")
        raw.storeBytes(of: value.bigEndian, toByteOffset: position, as: UInt16.self)
        position += 2
    }

    @inline(__always) mutating func u32(_ value: UInt32) {
        precondition(position + 4 <= raw.count, "encoded length mismatch")
        raw.storeBytes(of: value.bigEndian, toByteOffset: position, as: UInt32.self)
        position += 4
    }

    @inline(__always) mutating func u64(_ value: UInt64) {
        precondition(position + 8 <= raw.count, "encoded length mismatch")
        raw.storeBytes(of: value.bigEndian, toByteOffset: position, as: UInt64.self)
        position += 8
    }

    @inline(__always)
    mutating func int64(_ value: Int64, _ rule: MagnitudeRule, _ field: StaticString) throws(WireError) {
        guard rule.admits(value) else { throw .valueOutOfRange(location(field), value: Int128(value), allowed: rule.allowed) }
        u64(UInt64(bitPattern: value))
    }

    @inline(__always)
    mutating func position(_ value: UInt64, _ rule: PositionRule, _ field: StaticString) throws(WireError) {
        guard rule.admits(value) else { throw .valueOutOfRange(location(field), value: Int128(value), allowed: rule.allowed) }
        u64(value)
    }

    @inline(__always) mutating func hash(_ hash: ChainHash) {
        u64(hash.word0)
        u64(hash.word1)
        u64(hash.word2)
        u64(hash.word3)
    }

    mutating func count(_ count: Int, _ allowed: ClosedRange<Int>, _ field: StaticString) throws(WireError) {
        guard allowed.contains(count) else { throw .countOutOfRange(location(field), count: count, allowed: allowed) }
        u32(UInt32(count))
    }

    private mutating func stringBytes(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            precondition(position + 2 + bytes.count <= raw.count, "encoded length mismatch")
            u16(UInt16(bytes.count))
            if let source = bytes.baseAddress, let destination = raw.baseAddress, !bytes.isEmpty {
                (destination + position).copyMemory(from: source, byteCount: bytes.count)
            }
            position += bytes.count
        }
    }

    mutating func venue(_ name: String, _ field: StaticString) throws(WireError) {
        let length = name.utf8.count
        guard StringRule.venueName.contains(length) else {
            throw .stringLengthOutOfRange(location(field), length: length, allowed: StringRule.venueName)
        }
        if let problem = venueNameProblem(name.utf8) { throw .invalidString(location(field), reason: problem) }
        stringBytes(name)
    }

    mutating func reason(_ text: String, _ field: StaticString) throws(WireError) {
        let length = text.utf8.count
        guard StringRule.reason.contains(length) else {
            throw .stringLengthOutOfRange(location(field), length: length, allowed: StringRule.reason)
        }
        if let problem = reasonProblem(text) { throw .invalidString(location(field), reason: problem) }
        stringBytes(text)
    }

    mutating func version(_ version: UInt16) throws(WireError) {
        guard WireProtocol.supportedVersions.contains(version) else {
            throw .unsupportedVersion(version, supported: WireProtocol.supportedVersions)
        }
        u16(version)
    }
}

/// The message layouts of Docs/protocol.md, written with validation.
enum MessageWriter {
    static func write(_ message: WireMessage, _ w: inout RawWriter) throws(WireError) {
        switch message {
        case .hello(let hello):
            try w.version(hello.protocolVersion)
            try w.venue(hello.venue, "Hello.venue")
            try w.position(hello.epoch, .any, "Hello.epoch")
            try w.position(hello.lastSequence, .any, "Hello.lastSequence")
            if hello.lastSequence == 0 && !hello.lastHash.isGenesis {
                throw .inconsistent(w.location("Hello.lastHash"), reason: "lastSequence is 0 but lastHash is not genesis")
            }
            w.hash(hello.lastHash)
            try w.position(hello.lastInstructionAcknowledged, .any, "Hello.lastInstructionAcknowledged")
            w.u64(hello.stateDigest)
        case .changeBatch(let batch):
            try w.count(batch.changes.count, CountRule.batch, "ChangeBatch.count")
            for index in batch.changes.indices {
                w.item = index
                try writeChange(batch.changes[index], &w)
            }
        case .instructionAck(let ack):
            try w.count(ack.ids.count, CountRule.batch, "InstructionAck.count")
            for (index, id) in ack.ids.enumerated() {
                w.item = index
                try requireAscending(id, after: index > 0 ? ack.ids[index - 1] : nil, at: w.location("InstructionAck.id"))
                try w.position(id, .positive, "InstructionAck.id")
            }
        case .welcome(let welcome):
            try w.version(welcome.protocolVersion)
            try w.position(welcome.epoch, .any, "Welcome.epoch")
            try w.position(welcome.lastApplied, .any, "Welcome.lastApplied")
            if welcome.lastApplied == 0 && !welcome.lastAppliedHash.isGenesis {
                throw .inconsistent(
                    w.location("Welcome.lastAppliedHash"), reason: "lastApplied is 0 but lastAppliedHash is not genesis")
            }
            w.hash(welcome.lastAppliedHash)
        case .ack(let ack):
            try w.position(ack.epoch, .any, "Ack.epoch")
            try w.position(ack.upTo, .any, "Ack.upTo")
        case .instructionBatch(let batch):
            try w.count(batch.instructions.count, CountRule.batch, "InstructionBatch.count")
            for (index, instruction) in batch.instructions.enumerated() {
                w.item = index
                try requireAscending(instruction.id, after: index > 0 ? batch.instructions[index - 1].id : nil, at: w.location("Instruction.id"))
                try writeInstruction(instruction, &w)
            }
        case .resyncRequest(let request):
            try w.position(request.fromSequence, .any, "ResyncRequest.fromSequence")
            try w.reason(request.reason, "ResyncRequest.reason")
        case .snapshotRequest(let request):
            try w.position(request.snapshotId, .positive, "SnapshotRequest.snapshotId")
            try w.reason(request.reason, "SnapshotRequest.reason")
        case .snapshotPart(let part):
            try writeSnapshotPart(part, &w)
        case .heartbeat(let heartbeat):
            w.u64(heartbeat.sentAtMillis)
            try w.position(heartbeat.lastSequence, .any, "Heartbeat.lastSequence")
        case .goodbye(let goodbye):
            w.u8(goodbye.reason.rawValue)
            try w.reason(goodbye.detail, "Goodbye.detail")
        }
    }

    static func writeChange(_ change: Change, _ w: inout RawWriter) throws(WireError) {
        // hash, then exactly the bytes it covers: previousHash || epoch || sequence || kind || payload.
        w.hash(change.hash)
        let previousAt = w.position
        w.hash(change.previousHash)
        try w.position(change.epoch, .any, "Change.epoch")
        try w.position(change.sequence, .positive, "Change.sequence")
        if change.sequence == 1 && !change.previousHash.isGenesis {
            var at = w
            at.position = previousAt
            throw .inconsistent(at.location("Change.previousHash"), reason: "sequence 1 must chain onto the genesis hash")
        }
        w.u8(change.body.kind)
        try writePayload(change.body, &w)
    }

    static func writePayload(_ body: ChangeBody, _ w: inout RawWriter) throws(WireError) {
        switch body {
        case .account(let state):
            try writeAccount(state, &w)
        case .marks(let marks):
            try writeMarks(marks, CountRule.marks, "MarkState.count", &w)
        case .backstopRequest(let request):
            w.u32(request.account)
            try w.int64(request.deficit.raw, .nonNegative, "BackstopRequest.deficit")
            try writePositions(request.positions, CountRule.offeredPositions, "BackstopRequest.positions", &w)
        case .digest(let digest):
            w.u64(digest)
        }
    }

    static func writeAccount(_ state: AccountState, _ w: inout RawWriter) throws(WireError) {
        w.u32(state.account)
        w.u32(state.trader)
        try w.int64(state.collateral.raw, .signed, "AccountState.collateral")
        try writePositions(state.positions, CountRule.accountPositions, "AccountState.positions", &w)
    }

    static func writeMarks(_ marks: [MarkState], _ allowed: ClosedRange<Int>, _ field: StaticString, _ w: inout RawWriter) throws(WireError) {
        try w.count(marks.count, allowed, field)
        for index in marks.indices {
            let mark = marks[index]
            try requireAscending(mark.asset, after: index > 0 ? marks[index - 1].asset : nil, at: w.location("MarkState.asset"))
            w.u16(mark.asset)
            try w.int64(mark.oracle.raw, .positive, "MarkState.oracle")
            try w.int64(mark.mark.raw, .positive, "MarkState.mark")
        }
    }

    static func writeSnapshotPart(_ part: SnapshotPart, _ w: inout RawWriter) throws(WireError) {
        try w.position(part.snapshotId, .positive, "SnapshotPart.snapshotId")
        try w.position(part.epoch, .any, "SnapshotPart.epoch")
        try w.position(part.throughSequence, .any, "SnapshotPart.throughSequence")
        w.u64(part.digest)
        let partAt = w
        w.u32(part.part)
        guard CountRule.snapshotParts.contains(Int(part.partCount)) else {
            throw .countOutOfRange(w.location("SnapshotPart.partCount"), count: Int(part.partCount), allowed: CountRule.snapshotParts)
        }
        guard part.part < part.partCount else {
            throw .valueOutOfRange(partAt.location("SnapshotPart.part"), value: Int128(part.part), allowed: "0...\(part.partCount - 1)")
        }
        w.u32(part.partCount)
        try w.count(part.accounts.count, CountRule.snapshotAccounts, "SnapshotPart.accounts")
        for index in part.accounts.indices {
            w.item = index
            let account = part.accounts[index].account
            try requireAscending(account, after: index > 0 ? part.accounts[index - 1].account : nil, at: w.location("AccountState.account"))
            try writeAccount(part.accounts[index], &w)
        }
        w.item = nil
        try writeMarks(part.marks, CountRule.snapshotMarks, "SnapshotPart.marks", &w)
    }

    static func writePositions(
        _ positions: [PositionState], _ allowed: ClosedRange<Int>, _ field: StaticString, _ w: inout RawWriter
    ) throws(WireError) {
        try w.count(positions.count, allowed, field)
        for index in positions.indices {
            let position = positions[index]
            try requireAscending(position.asset, after: index > 0 ? positions[index - 1].asset : nil, at: w.location("PositionState.asset"))
            w.u16(position.asset)
            try w.int64(position.quantity.raw, .nonZero, "PositionState.quantity")
            try w.int64(position.basis.raw, .signed, "PositionState.basis")
        }
    }

    static func writeInstruction(_ instruction: Instruction, _ w: inout RawWriter) throws(WireError) {
        try w.position(instruction.id, .positive, "Instruction.id")
        w.u8(instruction.body.kind)
        switch instruction.body {
        case .credit(let credit):
            w.u32(credit.account)
            try w.int64(credit.thresholdReduction.raw, .nonNegative, "CrossMarginCredit.thresholdReduction")
        case .collateralMove(let move):
            try w.position(move.moveId, .positive, "CollateralMove.moveId")
            try w.venue(move.fromVenue, "CollateralMove.fromVenue")
            w.u32(move.fromAccount)
            try w.venue(move.toVenue, "CollateralMove.toVenue")
            if move.fromVenue == move.toVenue && move.fromAccount == move.toAccount {
                throw .inconsistent(w.location("CollateralMove.toAccount"), reason: "source and destination are the same account")
            }
            w.u32(move.toAccount)
            try w.int64(move.amount.raw, .positive, "CollateralMove.amount")
            w.u8(move.leg.rawValue)
        case .backstopFill(let fill):
            w.u32(fill.account)
            try w.position(fill.requestEpoch, .any, "BackstopFill.requestEpoch")
            try w.position(fill.requestSequence, .positive, "BackstopFill.requestSequence")
            try w.count(fill.legs.count, CountRule.offeredPositions, "BackstopFill.legs")
            for index in fill.legs.indices {
                let leg = fill.legs[index]
                try requireAscending(leg.asset, after: index > 0 ? fill.legs[index - 1].asset : nil, at: w.location("BackstopLeg.asset"))
                w.u16(leg.asset)
                try w.int64(leg.quantity.raw, .nonZero, "BackstopLeg.quantity")
                try w.int64(leg.price.raw, .positive, "BackstopLeg.price")
            }
            try w.int64(fill.cash.raw, .signed, "BackstopFill.cash")
        case .adl(let adl):
            try w.position(adl.round, .positive, "ADLInstruction.round")
            w.u32(adl.account)
            w.u16(adl.asset)
            try w.int64(adl.quantity.raw, .nonZero, "ADLInstruction.quantity")
            try w.int64(adl.price.raw, .positive, "ADLInstruction.price")
            try w.int64(adl.haircut.raw, .nonNegative, "ADLInstruction.haircut")
        }
    }

    // MARK: Lengths (no validation)

    static func payloadLength(of message: WireMessage) -> Int {
        switch message {
        case .hello(let hello): 2 + 2 + hello.venue.utf8.count + 8 + 8 + 32 + 8 + 8
        case .changeBatch(let batch): 4 + batch.changes.reduce(0) { $0 + encodedLength(of: $1) }
        case .instructionAck(let ack): 4 + 8 * ack.ids.count
        case .welcome: 2 + 8 + 8 + 32
        case .ack: 16
        case .instructionBatch(let batch): 4 + batch.instructions.reduce(0) { $0 + encodedLength(of: $1) }
        case .resyncRequest(let request): 8 + 2 + request.reason.utf8.count
        case .snapshotRequest(let request): 8 + 2 + request.reason.utf8.count
        case .snapshotPart(let part): SnapshotPart.headerLength + part.accounts.reduce(0) { $0 + encodedLength(of: $1) } + 18 * part.marks.count
        case .heartbeat: 16
        case .goodbye(let goodbye): 1 + 2 + goodbye.detail.utf8.count
        }
    }

    /// Bytes of one change inside a ChangeBatch.
    static func encodedLength(of change: Change) -> Int { 81 + payloadLength(of: change.body) }

    static func payloadLength(of body: ChangeBody) -> Int {
        switch body {
        case .account(let state): 4 + 4 + 8 + 4 + 18 * state.positions.count
        case .marks(let marks): 4 + 18 * marks.count
        case .backstopRequest(let request): 4 + 8 + 4 + 18 * request.positions.count
        case .digest: 8
        }
    }

    /// Bytes of one account state inside a snapshot part.
    static func encodedLength(of account: AccountState) -> Int { 20 + 18 * account.positions.count }

    /// Bytes of one instruction inside an InstructionBatch.
    static func encodedLength(of instruction: Instruction) -> Int {
        switch instruction.body {
        case .credit: 9 + 12
        case .collateralMove(let move): 9 + 8 + 2 + move.fromVenue.utf8.count + 4 + 2 + move.toVenue.utf8.count + 4 + 8 + 1
        case .backstopFill(let fill): 9 + 4 + 8 + 8 + 4 + 18 * fill.legs.count + 8
        case .adl: 9 + 8 + 4 + 2 + 8 + 8 + 8
        }
    }
}
