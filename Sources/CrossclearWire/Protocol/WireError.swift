/// Where in a frame a decoding or encoding problem was found.
public struct WireLocation: Sendable, Hashable, CustomStringConvertible {
    /// The message being decoded or encoded (`nil` for a bare change or instruction payload).
    public var messageType: MessageType?
    /// The field, as `Type.field` (for example `PositionState.quantity`).
    public var field: String
    /// The index of the change, instruction or id within its batch, when inside one.
    public var item: Int?
    /// Byte offset from the first byte of the frame's length prefix (the message type byte is at
    /// offset 4); for a bare payload, from the payload's first byte.
    public var offset: Int

    /// Creates a location.
    public init(messageType: MessageType?, field: String, item: Int?, offset: Int) {
        self.messageType = messageType
        self.field = field
        self.item = item
        self.offset = offset
    }

    /// For example "ChangeBatch (0x02) item 3, PositionState.quantity at byte 181".
    public var description: String {
        var text = messageType.map { "\($0) " } ?? ""
        if let item { text += "item \(item), " }
        return text + "\(field) at byte \(offset)"
    }
}

/// Everything that makes a frame unacceptable. A receiver that meets one closes that connection
/// with the error's description logged (``ProtocolErrorHandler``); no other connection is affected.
/// The encoder throws the same errors for a message the receiver would reject.
public enum WireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The length prefix is zero: every frame holds at least its message type byte.
    case emptyFrame
    /// The length prefix announces a frame body longer than the configured maximum.
    case frameTooLarge(length: Int, maximum: Int)
    /// The connection ended inside a frame (`received` of `expected` bytes, prefix included).
    case incompleteFrame(received: Int, expected: Int)
    /// The message type byte names no message of this protocol version.
    case unknownMessageType(UInt8)
    /// A known message type that the receiving role never receives (for example a Welcome sent to
    /// the clearing node).
    case unexpectedMessage(MessageType, receiver: WireRole)
    /// A Hello or Welcome carries a protocol version outside the supported range.
    case unsupportedVersion(UInt16, supported: ClosedRange<UInt16>)
    /// The frame ends before a field is complete (`needed` bytes, `available` left).
    case truncated(WireLocation, needed: Int, available: Int)
    /// Bytes remain in the frame after the message's last field.
    case trailingBytes(WireLocation, count: Int)
    /// A number lies outside the range the specification allows for its field.
    case valueOutOfRange(WireLocation, value: Int128, allowed: String)
    /// An array count lies outside the range allowed for its field.
    case countOutOfRange(WireLocation, count: Int, allowed: ClosedRange<Int>)
    /// A string's length in bytes lies outside the range allowed for its field.
    case stringLengthOutOfRange(WireLocation, length: Int, allowed: ClosedRange<Int>)
    /// A string is not valid UTF-8, or contains a character its field forbids.
    case invalidString(WireLocation, reason: String)
    /// A one-byte tag (change kind, instruction kind, leg, close reason) has no meaning.
    case unknownTag(WireLocation, tag: UInt8)
    /// Elements that must be strictly ascending (assets in a list, instruction ids) are not:
    /// `value` follows `previous`.
    case notAscending(WireLocation, previous: Int128, value: Int128)
    /// Fields that are each valid contradict one another (for example a collateral move from an
    /// account to itself).
    case inconsistent(WireLocation, reason: String)
    /// A change's hash is not the SHA-256 of its content: the change was corrupted or tampered with.
    case hashMismatch(WireLocation, epoch: UInt64, sequence: UInt64)
    /// A hash given as bytes is not 32 bytes long.
    case invalidHashLength(Int)

    /// The reason to give the peer in a ``Goodbye`` before closing.
    public var closeReason: CloseReason {
        switch self {
        case .unsupportedVersion: .unsupportedVersion
        default: .protocolError
        }
    }

    /// What went wrong and where (message type, field, byte offset).
    public var description: String {
        switch self {
        case .emptyFrame:
            "empty frame: the length prefix is 0, a frame needs at least its message type byte"
        case .frameTooLarge(let length, let maximum):
            "frame too large: the length prefix announces \(length) bytes, the maximum is \(maximum)"
        case .incompleteFrame(let received, let expected):
            "connection ended inside a frame: \(received) of \(expected) bytes received"
        case .unknownMessageType(let byte):
            "unknown message type 0x\(hex(byte)) at byte 4"
        case .unexpectedMessage(let type, let receiver):
            "unexpected message: \(type) is never sent to a \(receiver) node"
        case .unsupportedVersion(let version, let supported):
            "unsupported protocol version \(version) (supported: \(supported.lowerBound)...\(supported.upperBound))"
        case .truncated(let location, let needed, let available):
            "truncated: \(location) needs \(needed) bytes, \(available) left in the frame"
        case .trailingBytes(let location, let count):
            "trailing bytes: \(count) bytes after the last field of \(location)"
        case .valueOutOfRange(let location, let value, let allowed):
            "value out of range: \(location) is \(value), allowed \(allowed)"
        case .countOutOfRange(let location, let count, let allowed):
            "count out of range: \(location) is \(count), allowed \(allowed.lowerBound)...\(allowed.upperBound)"
        case .stringLengthOutOfRange(let location, let length, let allowed):
            "string length out of range: \(location) has \(length) bytes, allowed \(allowed.lowerBound)...\(allowed.upperBound)"
        case .invalidString(let location, let reason):
            "invalid string: \(location): \(reason)"
        case .unknownTag(let location, let tag):
            "unknown tag: \(location) is 0x\(hex(tag))"
        case .notAscending(let location, let previous, let value):
            "not strictly ascending: \(location) is \(value) after \(previous)"
        case .inconsistent(let location, let reason):
            "inconsistent fields: \(location): \(reason)"
        case .hashMismatch(let location, let epoch, let sequence):
            "hash mismatch: \(location), change \(epoch):\(sequence) does not hash to its hash field"
        case .invalidHashLength(let length):
            "invalid hash length: \(length) bytes, a hash has 32"
        }
    }
}

/// Throws `notAscending` unless `value` is above `previous` (nil: `value` is the first element).
/// Lists of assets and instruction ids are strictly ascending, so each has exactly one encoding.
@inline(__always)
func requireAscending<Key: BinaryInteger>(_ value: Key, after previous: Key?, at location: @autoclosure () -> WireLocation) throws(WireError) {
    if let previous, value <= previous {
        throw .notAscending(location(), previous: Int128(previous), value: Int128(value))
    }
}
