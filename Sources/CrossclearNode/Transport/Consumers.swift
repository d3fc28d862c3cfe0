import CrossclearWire

/// Receives the changes the clearing node accepted from its venues.
public protocol ChangeConsumer: Sendable {
    /// Each change of each (venue, epoch) exactly once, in sequence order, after it is durably journaled.
    func consume(venue: String, epoch: UInt64, changes: [Change]) async

    /// A venue's link changed: it connected or disconnected, or became stale or live again. This is
    /// the stale policy hook: a stale venue's last state must be handled by a stated policy, never
    /// read as zero exposure. The default does nothing.
    func linkStatusChanged(_ status: VenueLinkStatus) async

    /// Anti-entropy repair: a snapshot of the venue's published book that the consumer asked for
    /// (``ClearingServer/requestSnapshot(of:reason:)``) arrived whole, in the connection's epoch, with
    /// the digest it states. The consumer's view of the venue must become `snapshot.book` with
    /// `changes` applied in order: the changes of `snapshot.epoch` after
    /// `snapshot.throughSequence` that were already handed to ``consume(venue:epoch:changes:)``
    /// (read back from the journal; empty when the snapshot is ahead of what was delivered). The
    /// changes up to `throughSequence` that arrive later are never handed over: the snapshot holds
    /// them. Called from the same task as ``consume(venue:epoch:changes:)`` for that venue, never
    /// concurrently with it. The default ignores the snapshot (a consumer that requests snapshots
    /// must implement this).
    func restore(venue: String, snapshot: BookSnapshot, followedBy changes: [Change]) async
}

extension ChangeConsumer {
    /// Ignores the change of status.
    public func linkStatusChanged(_ status: VenueLinkStatus) async {}

    /// Ignores the snapshot.
    public func restore(venue: String, snapshot: BookSnapshot, followedBy changes: [Change]) async {}
}

/// Applies the instructions the clearing node sends to a venue.
public protocol InstructionConsumer: Sendable {
    /// Applies the instructions of one received batch in order, each durably or recognised by its id
    /// as already applied (then it does nothing). Returns when every effect is durable (one
    /// transaction for the batch, not one fsync per instruction); the link acknowledges the ids only
    /// after that.
    func apply(_ instructions: [Instruction]) async throws
}

/// What the clearing node knows about one venue's link (``ClearingServer/linkStatus()``).
public struct VenueLinkStatus: Sendable, Hashable {
    /// The venue's name.
    public var venue: String
    /// Whether a connection of the venue has completed its handshake and is open.
    public var connected: Bool
    /// Whether nothing was heard from the venue within the configured stale-after time (also true
    /// before it was ever heard from).
    public var stale: Bool
    /// The venue's current epoch as the clearing node knows it.
    public var epoch: UInt64
    /// The last sequence of ``epoch`` applied and durably journaled (0 when none).
    public var lastAppliedSequence: UInt64
    /// The digest carried by the venue's latest `digest` change, if one arrived.
    public var lastReportedDigest: UInt64?
    /// How many instructions for the venue are journaled in the outbox and not yet acknowledged.
    public var pendingInstructions: Int

    /// Creates a status value.
    public init(
        venue: String, connected: Bool, stale: Bool, epoch: UInt64, lastAppliedSequence: UInt64,
        lastReportedDigest: UInt64?, pendingInstructions: Int
    ) {
        self.venue = venue
        self.connected = connected
        self.stale = stale
        self.epoch = epoch
        self.lastAppliedSequence = lastAppliedSequence
        self.lastReportedDigest = lastReportedDigest
        self.pendingInstructions = pendingInstructions
    }
}
