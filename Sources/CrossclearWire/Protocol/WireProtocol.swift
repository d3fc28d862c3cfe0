// The constants of the crossclear wire protocol, version 1 (see Docs/protocol.md).

/// Fixed parameters of the wire protocol. Everything here is part of the protocol version: both
/// sides must agree on it, so none of it is configuration (the maximum frame length is, see
/// ``WireConfiguration``).
public enum WireProtocol {
    /// The protocol version this implementation speaks.
    public static let version: UInt16 = 1
    /// The versions a Hello or Welcome may carry. Version 1 requires an exact match.
    public static let supportedVersions: ClosedRange<UInt16> = 1...1

    /// Bytes of the length prefix in front of every frame (u32, big-endian).
    public static let lengthPrefixSize = 4
    /// The default largest frame body (message type byte plus payload), in bytes: 1 MiB.
    public static let defaultMaximumFrameLength = 1 << 20
    /// The smallest maximum frame length a node may configure: 128 KiB, enough for the largest
    /// single change or instruction this version allows (a marks change with 4,096 marks).
    public static let smallestMaximumFrameLength = 1 << 17
    /// The largest maximum frame length a node may configure: 64 MiB.
    public static let largestMaximumFrameLength = 1 << 26

    /// The largest magnitude of a money, price or size raw value: 10^18 smallest units
    /// (Amount: 10^12 USD; Price: 10^10 USD per unit; Quantity: 10^10 units).
    public static let maximumMagnitude: Int64 = 1_000_000_000_000_000_000
    /// The largest epoch, sequence number, instruction id, move id or round id: 2^63 - 1, so that
    /// every position fits a signed 64-bit SQLite integer.
    public static let maximumPosition: UInt64 = UInt64(Int64.max)

    /// Bytes of a chain hash (SHA-256).
    public static let hashLength = 32
    /// The longest venue name, in bytes (`a-z`, `0-9`, `-`; the same rule as node identities).
    public static let maximumVenueNameLength = 63
    /// The longest free-text reason (ResyncRequest, Goodbye), in UTF-8 bytes.
    public static let maximumReasonLength = 1024

    /// The most changes in one ChangeBatch, instructions in one InstructionBatch, or ids in one
    /// InstructionAck.
    public static let maximumBatchCount = 65_536
    /// The most positions in one account state, backstop request or backstop fill.
    public static let maximumPositions = 1_024
    /// The most marks in one marks change or snapshot part.
    public static let maximumMarks = 4_096
    /// The most account states in one snapshot part.
    public static let maximumSnapshotAccounts = 65_536
    /// The most frames one snapshot may span.
    public static let maximumSnapshotParts = 65_536
}

/// The two kinds of node that speak the protocol.
public enum WireRole: Sendable, Hashable, CustomStringConvertible {
    /// A venue node (client side of the connection).
    case venue
    /// The clearing node (server side of the connection).
    case clearing

    /// "venue" or "clearing".
    public var description: String {
        switch self {
        case .venue: "venue"
        case .clearing: "clearing"
        }
    }
}

/// Per-connection settings of the codec.
public struct WireConfiguration: Sendable, Hashable {
    /// The largest frame body accepted or produced (type byte plus payload, length prefix excluded).
    public let maximumFrameLength: Int
    /// The role of the node that receives with this configuration: a message only the receiver
    /// itself may send is rejected (``WireError/unexpectedMessage(_:receiver:)``). `nil` accepts
    /// every message type (tools, tests).
    public var receiver: WireRole?
    /// Whether the decoder recomputes every change's SHA-256 from the received bytes and rejects a
    /// mismatch (``WireError/hashMismatch(_:epoch:sequence:)``). On by default; a receiver that
    /// turns it off must call ``ChainHasher/isValid(_:)`` itself.
    public var verifiesChangeHashes: Bool

    /// The default configuration: 1 MiB frames.
    public init(receiver: WireRole? = nil, verifiesChangeHashes: Bool = true) {
        self.maximumFrameLength = WireProtocol.defaultMaximumFrameLength
        self.receiver = receiver
        self.verifiesChangeHashes = verifiesChangeHashes
    }

    /// A configuration with another maximum frame length, or `nil` when it lies outside
    /// ``WireProtocol/smallestMaximumFrameLength`` ... ``WireProtocol/largestMaximumFrameLength``.
    public init?(maximumFrameLength: Int, receiver: WireRole? = nil, verifiesChangeHashes: Bool = true) {
        guard (WireProtocol.smallestMaximumFrameLength...WireProtocol.largestMaximumFrameLength).contains(maximumFrameLength)
        else { return nil }
        self.maximumFrameLength = maximumFrameLength
        self.receiver = receiver
        self.verifiesChangeHashes = verifiesChangeHashes
    }
}
