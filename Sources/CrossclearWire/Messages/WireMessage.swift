/// Every message of the protocol: what a frame carries.
public enum WireMessage: Sendable, Hashable {
    /// Venue to clearing: the handshake.
    case hello(Hello)
    /// Venue to clearing: margin-state changes.
    case changeBatch(ChangeBatch)
    /// Venue to clearing: instructions applied.
    case instructionAck(InstructionAck)
    /// Venue to clearing: one frame of its published book, answering a snapshot request.
    case snapshotPart(SnapshotPart)
    /// Clearing to venue: the handshake answer.
    case welcome(Welcome)
    /// Clearing to venue: changes applied.
    case ack(Ack)
    /// Clearing to venue: instructions.
    case instructionBatch(InstructionBatch)
    /// Clearing to venue: resend or restate.
    case resyncRequest(ResyncRequest)
    /// Clearing to venue: send your published book (anti-entropy repair).
    case snapshotRequest(SnapshotRequest)
    /// Either side: liveness.
    case heartbeat(Heartbeat)
    /// Either side: closing, and why.
    case goodbye(Goodbye)

    /// The message type byte of this message.
    public var type: MessageType {
        switch self {
        case .hello: .hello
        case .changeBatch: .changeBatch
        case .instructionAck: .instructionAck
        case .snapshotPart: .snapshotPart
        case .welcome: .welcome
        case .ack: .ack
        case .instructionBatch: .instructionBatch
        case .resyncRequest: .resyncRequest
        case .snapshotRequest: .snapshotRequest
        case .heartbeat: .heartbeat
        case .goodbye: .goodbye
        }
    }
}
