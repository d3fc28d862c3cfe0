/// The first frame of every connection, venue to clearing: who the venue is and how far its
/// stream and its instruction log have got.
public struct Hello: Sendable, Hashable {
    /// The protocol version the venue speaks; must be in ``WireProtocol/supportedVersions``.
    public var protocolVersion: UInt16
    /// The venue's name (1 to 63 bytes of `a-z`, `0-9`, `-`, not starting with `-`); must match
    /// the venue name in the peer's TLS certificate.
    public var venue: String
    /// The venue's current epoch (0 ... 2^63 - 1). A venue that restarts without its full
    /// acknowledged history moves to a larger epoch.
    public var epoch: UInt64
    /// The sequence number of the venue's last journaled change in `epoch` (0 when none).
    public var lastSequence: UInt64
    /// The hash of that change (``ChainHash/genesis`` when `lastSequence` is 0).
    public var lastHash: ChainHash
    /// The highest instruction id such that the venue has applied every instruction up to it
    /// (0 when none): the clearing node resends every unacknowledged instruction above it.
    public var lastInstructionAcknowledged: UInt64
    /// The venue's current state digest (the same digest as ``ChangeBody/digest(_:)``).
    public var stateDigest: UInt64

    /// Creates a Hello, by default for the current protocol version.
    public init(
        protocolVersion: UInt16 = WireProtocol.version, venue: String, epoch: UInt64, lastSequence: UInt64,
        lastHash: ChainHash, lastInstructionAcknowledged: UInt64, stateDigest: UInt64
    ) {
        self.protocolVersion = protocolVersion
        self.venue = venue
        self.epoch = epoch
        self.lastSequence = lastSequence
        self.lastHash = lastHash
        self.lastInstructionAcknowledged = lastInstructionAcknowledged
        self.stateDigest = stateDigest
    }
}

/// The clearing node's answer to an acceptable Hello: the epoch it accepted and where the venue
/// must resume sending.
public struct Welcome: Sendable, Hashable {
    /// The protocol version of the connection (the Hello's).
    public var protocolVersion: UInt16
    /// The epoch accepted: the Hello's. Every change on this connection must carry it.
    public var epoch: UInt64
    /// The last sequence number of `epoch` the clearing node has applied and journaled (0 when
    /// none): the venue resends from `lastApplied + 1`.
    public var lastApplied: UInt64
    /// The hash of that change (``ChainHash/genesis`` when `lastApplied` is 0). A venue whose own
    /// hash at `lastApplied` differs (or that no longer has that change) has forked and must
    /// reconnect in a larger epoch.
    public var lastAppliedHash: ChainHash

    /// Creates a Welcome, by default for the current protocol version.
    public init(protocolVersion: UInt16 = WireProtocol.version, epoch: UInt64, lastApplied: UInt64, lastAppliedHash: ChainHash) {
        self.protocolVersion = protocolVersion
        self.epoch = epoch
        self.lastApplied = lastApplied
        self.lastAppliedHash = lastAppliedHash
    }
}
