import Crypto

/// A bounds-checked big-endian reader over the bytes of one frame; every failure names the field
/// and its offset.
struct WireReader {
    let raw: UnsafeRawBufferPointer
    var position: Int
    /// The offset reported for `raw[0]`.
    let base: Int
    let type: MessageType?
    var item: Int? = nil

    init(raw: UnsafeRawBufferPointer, position: Int, base: Int, type: MessageType?) {
        self.raw = raw
        self.position = position
        self.base = base
        self.type = type
    }

    var remaining: Int { raw.count - position }

    func location(_ field: StaticString, at offset: Int) -> WireLocation {
        WireLocation(messageType: type, field: "\(field)", item: item, offset: base + offset)
    }

    @inline(__always)
    func need(_ count: Int, _ field: StaticString) throws(WireError) {
        guard remaining >= count else {
            throw .truncated(location(field, at: position), needed: count, available: remaining)
        }
    }

    /// A big-endian unsigned integer of the type's width.
    @inline(__always)
    mutating func read<Integer: FixedWidthInteger & UnsignedInteger>(_: Integer.Type, _ field: StaticString) throws(WireError) -> Integer {
        let width = MemoryLayout<Integer>.size
        try need(width, field)
        let value = Integer(bigEndian: raw.loadUnaligned(fromByteOffset: position, as: Integer.self))
        position += width
        return value
    }

    @inline(__always)
    mutating func readUInt8(_ field: StaticString) throws(WireError) -> UInt8 { try read(UInt8.self, field) }
    @inline(__always)
    mutating func readUInt16(_ field: StaticString) throws(WireError) -> UInt16 { try read(UInt16.self, field) }
    @inline(__always)
    mutating func readUInt32(_ field: StaticString) throws(WireError) -> UInt32 { try read(UInt32.self, field) }
    @inline(__always)
    mutating func readUInt64(_ field: StaticString) throws(WireError) -> UInt64 { try read(UInt64.self, field) }

    /// A signed raw money, price or size value within `rule`.
    @inline(__always)
    mutating func readInt64(_ field: StaticString, _ rule: MagnitudeRule) throws(WireError) -> Int64 {
        let at = position
        let value = Int64(bitPattern: try readUInt64(field))
        guard rule.admits(value) else {
            throw .valueOutOfRange(location(field, at: at), value: Int128(value), allowed: rule.allowed)
        }
        return value
    }

    /// An epoch, sequence number or id within `rule`.
    @inline(__always)
    mutating func readPosition(_ field: StaticString, _ rule: PositionRule) throws(WireError) -> UInt64 {
        let at = position
        let value = try readUInt64(field)
        guard rule.admits(value) else {
            throw .valueOutOfRange(location(field, at: at), value: Int128(value), allowed: rule.allowed)
        }
        return value
    }

    @inline(__always)
    mutating func readHash(_ field: StaticString) throws(WireError) -> ChainHash {
        try need(WireProtocol.hashLength, field)
        let hash = ChainHash(raw: raw, offset: position)
        position += WireProtocol.hashLength
        return hash
    }

    /// An array count within `allowed`, and no more elements than the frame could still hold.
    mutating func readCount(_ field: StaticString, _ allowed: ClosedRange<Int>, elementSize: Int) throws(WireError) -> Int {
        let at = position
        let count = Int(try readUInt32(field))
        guard allowed.contains(count) else {
            throw .countOutOfRange(location(field, at: at), count: count, allowed: allowed)
        }
        guard count * elementSize <= remaining else {
            throw .truncated(location(field, at: at), needed: count * elementSize, available: remaining)
        }
        return count
    }

    mutating func readProtocolVersion(_ field: StaticString) throws(WireError) -> UInt16 {
        let version = try readUInt16(field)
        guard WireProtocol.supportedVersions.contains(version) else {
            throw .unsupportedVersion(version, supported: WireProtocol.supportedVersions)
        }
        return version
    }

    /// Reads a u16 length and checks it against `allowed`; returns the bytes' range.
    private mutating func readStringBytes(_ field: StaticString, _ allowed: ClosedRange<Int>) throws(WireError) -> Range<Int> {
        let at = position
        let length = Int(try readUInt16(field))
        guard allowed.contains(length) else {
            throw .stringLengthOutOfRange(location(field, at: at), length: length, allowed: allowed)
        }
        try need(length, field)
        defer { position += length }
        return position..<(position + length)
    }

    mutating func readVenueName(_ field: StaticString) throws(WireError) -> String {
        let at = position
        let bytes = UnsafeRawBufferPointer(rebasing: raw[try readStringBytes(field, StringRule.venueName)])
        if let problem = venueNameProblem(bytes) { throw .invalidString(location(field, at: at), reason: problem) }
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func readReason(_ field: StaticString) throws(WireError) -> String {
        let at = position
        let bytes = UnsafeRawBufferPointer(rebasing: raw[try readStringBytes(field, StringRule.reason)])
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .invalidString(location(field, at: at), reason: "not valid UTF-8")
        }
        if let problem = reasonProblem(text) { throw .invalidString(location(field, at: at), reason: problem) }
        return text
    }

    /// SHA-256 over `range` of the frame.
    func sha256(_ range: Range<Int>) -> ChainHash {
        var hasher = SHA256()
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: raw[range]))
        return hasher.finalize().withUnsafeBytes { ChainHash(raw: $0, offset: 0) }
    }
}
