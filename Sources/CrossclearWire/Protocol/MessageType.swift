/// The message type byte that follows a frame's length prefix.
///
/// Venue-to-clearing types are `0x01...0x0F`, clearing-to-venue types `0x11...0x1F`, types either
/// side may send `0x21...0x2F`. Any other value is ``WireError/unknownMessageType(_:)``.
public enum MessageType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// ``Hello``: venue to clearing, first frame of a connection.
    case hello = 0x01
    /// ``ChangeBatch``: venue to clearing.
    case changeBatch = 0x02
    /// ``InstructionAck``: venue to clearing.
    case instructionAck = 0x03
    /// ``SnapshotPart``: venue to clearing, answering a ``SnapshotRequest``.
    case snapshotPart = 0x04
    /// ``Welcome``: clearing to venue, answer to a Hello.
    case welcome = 0x11
    /// ``Ack``: clearing to venue.
    case ack = 0x12
    /// ``InstructionBatch``: clearing to venue.
    case instructionBatch = 0x13
    /// ``ResyncRequest``: clearing to venue.
    case resyncRequest = 0x14
    /// ``SnapshotRequest``: clearing to venue.
    case snapshotRequest = 0x15
    /// ``Heartbeat``: either side.
    case heartbeat = 0x21
    /// ``Goodbye``: either side, last frame before closing.
    case goodbye = 0x22

    /// The only role that may send this type, or `nil` when both may.
    public var sender: WireRole? {
        switch self {
        case .hello, .changeBatch, .instructionAck, .snapshotPart: .venue
        case .welcome, .ack, .instructionBatch, .resyncRequest, .snapshotRequest: .clearing
        case .heartbeat, .goodbye: nil
        }
    }

    /// The name and code, e.g. "ChangeBatch (0x02)".
    public var description: String {
        let name =
            switch self {
            case .hello: "Hello"
            case .changeBatch: "ChangeBatch"
            case .instructionAck: "InstructionAck"
            case .snapshotPart: "SnapshotPart"
            case .welcome: "Welcome"
            case .ack: "Ack"
            case .instructionBatch: "InstructionBatch"
            case .resyncRequest: "ResyncRequest"
            case .snapshotRequest: "SnapshotRequest"
            case .heartbeat: "Heartbeat"
            case .goodbye: "Goodbye"
            }
        return "\(name) (0x\(hex(rawValue)))"
    }
}

/// Two lowercase hex digits.
func hex(_ byte: UInt8) -> String {
    let digits: [Character] = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}
