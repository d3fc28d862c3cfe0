import CrossclearEngine
import Foundation

/// What a venue node reports about itself in `venue-<name>.status.json` (money in micro-dollars,
/// as exact integers).
public struct VenueStatus: Sendable, Hashable, Codable {
    public var venue: String
    public var step: Int
    public var steps: Int
    public var finished: Bool
    /// Changes journaled, and how many of them the clearing node acknowledged.
    public var changes: UInt64
    public var acknowledged: UInt64
    public var connected: Bool
    /// The digest of the margin state it published (the clearing node's view must match it).
    public var publishedDigest: UInt64
    /// Collateral over the published accounts (the clearing node's view must hold the same).
    public var publishedCollateral: Int64
    /// The digest of its whole engine state (what a rebuild from the journal must reproduce).
    public var engineDigest: UInt64
    public var lastInstruction: UInt64
    public var moves: CollateralMoveTotals
    /// Paid to the clearing node's mutual pool, net of what it paid in (shared designs), and the
    /// accounts waiting for the pool's answer.
    public var paidToPool: Int64
    public var awaitingBackstop: Int
    public var conservation: ConservationReport
    public var metrics: OutcomeMetrics

    /// The status of `machine` now.
    public init(machine: VenueMachine, changes: UInt64, acknowledged: UInt64, connected: Bool) {
        let outcome = machine.outcome
        venue = machine.venue
        step = machine.step
        steps = machine.stepCount
        finished = machine.isFinished
        self.changes = changes
        self.acknowledged = acknowledged
        self.connected = connected
        publishedDigest = machine.published.digest()
        publishedCollateral = machine.published.totals().collateral
        engineDigest = outcome.stateDigest
        lastInstruction = machine.lastInstruction
        moves = machine.moves
        paidToPool = machine.paidToPool
        awaitingBackstop = machine.awaitingBackstop
        conservation = outcome.conservation
        metrics = outcome.metrics
    }
}

/// What the clearing node reports in `clearing.status.json`.
public struct ClearingStatus: Sendable, Hashable, Codable {
    /// One venue as the clearing node sees it.
    public struct VenueView: Sendable, Hashable, Codable {
        public var venue: String
        public var connected: Bool
        public var stale: Bool
        public var epoch: UInt64
        public var lastAppliedSequence: UInt64
        /// The digest of the clearing node's view of the venue, and the last digest the venue reported.
        public var viewDigest: UInt64
        public var reportedDigest: UInt64?
        /// Reported digests the view did not match when they arrived (anti-entropy alarms).
        public var digestMismatches: Int
        /// Times the view was replaced by a snapshot of the venue's published book (anti-entropy repairs).
        public var repairs: Int
        public var accounts: Int
        /// Collateral over the venue's accounts, and whether every market's long and short sizes match.
        public var collateral: Int64
        public var balanced: Bool
        public var pendingInstructions: Int
    }

    public var venues: [VenueView]
    public var stalePolicy: String
    /// Credit instructions sent since the node started, and the credit now granted (micro-dollars).
    public var creditsSent: Int
    /// Collateral moves decided since the node started (both legs sent together) and their total.
    public var movesSent: Int
    public var moved: Int64
    public var creditGranted: Int64
    /// The mutual pool (shared designs).
    public var pool: Pool?

    /// The clearing node's mutual pool (money in micro-dollars).
    public struct Pool: Sendable, Hashable, Codable {
        /// Cash held by the clearing node; equity adds the inventory in the views at their marks.
        public var cash: Int64
        public var equity: Int64
        /// Treasury left for assessments, over every venue.
        public var treasuries: Int64
        public var totals: PoolTotals
        /// Backstop requests not yet answered.
        public var pendingRequests: Int
    }
}

extension Encodable {
    /// Writes the value as pretty, key-sorted JSON, replacing the file atomically.
    func writeJSON(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
