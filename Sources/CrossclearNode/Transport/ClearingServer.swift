import CrossclearStore
import CrossclearWire
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The clearing node's side of the venue links: accepts mutually authenticated venue connections,
/// journals every accepted change before acknowledging it, hands each change exactly once and in
/// order to a ``ChangeConsumer``, and delivers instructions through a durable outbox.
///
/// Guarantees (see Docs/runtime.md):
/// - an `Ack(epoch, upTo)` is sent only after the changes up to `upTo` were committed (WAL +
///   `synchronous = FULL`, group commit through a ``GroupCommitter``);
/// - the consumer sees a change only after that commit, and, after a restart, every journaled change
///   again (``run()`` replays the journal before it listens);
/// - gaps and forks are refused (ResyncRequest), never applied;
/// - instructions are in the outbox before their first send and are resent after every reconnect
///   until acknowledged.
/// - a snapshot the consumer asked for (``requestSnapshot(of:reason:)``) reaches it whole and
///   verified, with exactly the journaled changes after its point that it already had
///   (``ChangeConsumer/restore(venue:snapshot:followedBy:)``); the changes the snapshot holds are
///   never handed over again.
///
/// Run it as a ``Service`` (cancellation or graceful shutdown stops it and closes its connections).
public final class ClearingServer: Service, Sendable {
    /// Settings of a ``ClearingServer``.
    public struct Configuration: Sendable {
        /// The address to listen on.
        public var host: String
        /// The port to listen on; 0 picks a free one (read it back with ``ClearingServer/boundPort``).
        public var port: Int
        /// The venues that may connect (bare names, as in their certificates).
        public var venues: [String]
        /// How often a Heartbeat is sent on each connection.
        public var heartbeatInterval: Duration
        /// A venue heard from less recently than this is stale; at least 3 heartbeat intervals.
        public var staleAfter: Duration
        /// The largest frame body accepted or sent.
        public var maximumFrameLength: Int
        /// A snapshot request unanswered (no part received) for this long no longer blocks a new one.
        public var snapshotRetryAfter: Duration
        /// The most frame bytes one snapshot may take (a larger one is refused).
        public var maximumSnapshotBytes: Int

        /// Creates a configuration; the defaults are 250 ms heartbeats, stale after 1 s, 1 MiB frames,
        /// snapshot requests retried after 10 s, snapshots of at most 1 GiB.
        public init(
            host: String = "127.0.0.1", port: Int, venues: [String], heartbeatInterval: Duration = .milliseconds(250),
            staleAfter: Duration = .seconds(1), maximumFrameLength: Int = WireProtocol.defaultMaximumFrameLength,
            snapshotRetryAfter: Duration = .seconds(10), maximumSnapshotBytes: Int = 1 << 30
        ) {
            self.host = host
            self.port = port
            self.venues = venues
            self.heartbeatInterval = heartbeatInterval
            self.staleAfter = staleAfter
            self.maximumFrameLength = maximumFrameLength
            self.snapshotRetryAfter = snapshotRetryAfter
            self.maximumSnapshotBytes = maximumSnapshotBytes
        }
    }

    /// The settings this server runs with.
    public let configuration: Configuration

    let wire: WireConfiguration
    let tls: MutualTLS
    let journal: Journal
    let committer: GroupCommitter
    let consumer: any ChangeConsumer
    let logger: Logger
    let group: any EventLoopGroup
    let state: Mutex<State>

    struct State {
        var venues: [String: VenueState]
        var boundPort: Int?
        /// The last snapshot request id used (ids are unique within this process).
        var lastSnapshotId: UInt64 = 0
    }

    /// What the server holds in memory about one venue.
    struct VenueState {
        /// Judges each received change; its head is always journaled (restored from the journal).
        var tracker: SequenceTracker
        /// The digest of the latest `digest` change applied.
        var lastDigest: UInt64?
        /// The connection that completed its handshake last, while it is open.
        var session: ClearingSession?
        /// When the last frame of the venue arrived.
        var lastHeard: ContinuousClock.Instant?
        /// Whether the venue is currently considered stale.
        var stale = true
        /// The outbox: the last instruction id journaled (and so free to send), and the watermark
        /// up to which every id was acknowledged.
        var outbox: OutboxProgress
        /// The newest instructions journaled and not yet acknowledged, sent from memory (up to
        /// ``ClearingServer/retainedInstructions``; the journal holds them all).
        var retained = RetainedRun<Instruction>(limit: ClearingServer.retainedInstructions)
        /// The snapshot request outstanding on the current connection (at most one per venue).
        var snapshotRequest: SnapshotRequestState?
        /// After a repair: the consumer's view holds every change of this epoch up to this
        /// sequence (the snapshot's), so those are journaled but not handed over again.
        var repairedThrough: (epoch: UInt64, sequence: UInt64)?
    }

    /// A snapshot request sent and not yet answered or refused.
    struct SnapshotRequestState {
        var id: UInt64
        /// The connection it was sent on: an answer on any other is unsolicited.
        var session: ClearingSession
        /// When it was sent, or its answer's last part arrived.
        var lastProgress: ContinuousClock.Instant
        /// Why it was sent (to ask again on the next connection if this one ends unanswered).
        var reason: String
    }

    /// Creates a server over `journal` (the clearing node's), restoring each venue's stream heads,
    /// epochs and pending instructions from it.
    ///
    /// - Parameters:
    ///   - tls: The clearing node's mutual TLS; only the configured venues are accepted.
    ///   - consumer: Receives every accepted change (and the replay at start) and link status changes.
    ///   - eventLoopGroup: Where connections run.
    /// - Throws: ``TransportError/invalidConfiguration(_:)``, or a `StoreError` reading the journal.
    public init(
        configuration: Configuration, tls: MutualTLS, journal: Journal, consumer: any ChangeConsumer, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.wire = try WirePipeline.validate(
            heartbeatInterval: configuration.heartbeatInterval, staleAfter: configuration.staleAfter,
            maximumFrameLength: configuration.maximumFrameLength, receiver: .clearing)
        for venue in configuration.venues {
            do {
                _ = try NodeIdentity.venue(venue)
            } catch {
                throw TransportError.invalidConfiguration("venue name \(venue): \(error)")
            }
        }
        self.configuration = configuration
        self.tls = tls
        self.journal = journal
        self.committer = GroupCommitter(journal: journal, maximumBatchSize: 16_384)
        self.consumer = consumer
        self.logger = logger
        self.group = eventLoopGroup
        self.state = Mutex(State(venues: try Self.restore(configuration.venues, from: journal), boundPort: nil))
    }

    /// Each venue's tracker at its journaled head (in the largest epoch it announced) and its pending
    /// instructions.
    private static func restore(_ venues: [String], from journal: Journal) throws -> [String: VenueState] {
        var epochs: [String: UInt64] = [:]
        for name in try journal.streams() {
            guard let (venue, epoch) = TransportJournal.parseChangeStream(name) else { continue }
            epochs[venue] = max(epochs[venue] ?? 0, epoch)
        }
        var result: [String: VenueState] = [:]
        for venue in venues {
            let announced = try journal.cursor(TransportJournal.epochCursor(venue: venue)).map { UInt64($0) } ?? 0
            let epoch = max(announced, epochs[venue] ?? 0)
            var tracker = SequenceTracker(epoch: epoch)
            if let head = try journal.last(stream: TransportJournal.changeStream(venue: venue, epoch: epoch)) {
                tracker = SequenceTracker(
                    epoch: epoch, lastSequence: UInt64(head.sequence), lastHash: try ChainHash(bytes: head.hash))
            }
            result[venue] = VenueState(tracker: tracker, outbox: try journal.outboxProgress(destination: venue))
        }
        return result
    }

    // MARK: - Status

    /// The port the server listens on, once ``run()`` has bound it.
    public var boundPort: Int? { state.withLock { $0.boundPort } }

    /// Every configured venue's link, sorted by venue name.
    public func linkStatus() -> [VenueLinkStatus] {
        state.withLock { state in
            state.venues.keys.sorted().compactMap { venue in state.venues[venue].map { Self.status(venue, $0) } }
        }
    }

    static func status(_ venue: String, _ venueState: VenueState) -> VenueLinkStatus {
        VenueLinkStatus(
            venue: venue, connected: venueState.session != nil, stale: venueState.stale,
            epoch: venueState.tracker.epoch, lastAppliedSequence: venueState.tracker.lastSequence,
            lastReportedDigest: venueState.lastDigest, pendingInstructions: Int(venueState.outbox.pending))
    }

    // MARK: - Running

    /// Replays the journal to the consumer, then listens until cancelled or shut down gracefully.
    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await self.serve() }
    }

    private func serve() async throws {
        try await replay()
        let tls = self.tls
        let wire = self.wire
        let logger = self.logger
        let authorization = PeerAuthorization.anyOf(configuration.venues.compactMap { try? NodeIdentity.venue($0) })
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try tls.addServerHandlers(to: channel.pipeline.syncOperations, accepting: authorization, logger: logger)
                    return try WirePipeline.wrap(channel, configuration: wire, logger: logger)
                }
            }
        let port = listener.channel.localAddress?.port
        state.withLock { $0.boundPort = port }
        logger.info("clearing server listening on \(configuration.host):\(port ?? configuration.port)")
        await withDiscardingTaskGroup { group in
            group.addTask { await self.watchStaleness() }
            do {
                try await listener.executeThenClose { inbound in
                    for try await (connection, identity) in inbound {
                        group.addTask { await self.serve(connection, identity: identity) }
                    }
                }
            } catch {
                logger.debug("listener ended: \(error)")
            }
            group.cancelAll()
        }
        state.withLock { $0.boundPort = nil }
        logger.info("clearing server stopped")
    }

    /// Hands every journaled change to the consumer, per venue in (epoch, sequence) order.
    private func replay() async throws {
        var streams: [(venue: String, epoch: UInt64, name: String)] = []
        for name in try journal.streams() {
            if let (venue, epoch) = TransportJournal.parseChangeStream(name) { streams.append((venue, epoch, name)) }
        }
        streams.sort { ($0.venue, $0.epoch) < ($1.venue, $1.epoch) }
        var total = 0
        for stream in streams {
            var after: JournalPosition?
            while true {
                let entries = try journal.entries(stream: stream.name, after: after, limit: 8_192)
                guard let last = entries.last else { break }
                let changes = try entries.map { entry throws(TransportError) in try TransportJournal.change(from: entry) }
                if let digest = Self.lastDigest(in: changes) {
                    state.withLock { $0.venues[stream.venue]?.lastDigest = digest }
                }
                await consumer.consume(venue: stream.venue, epoch: stream.epoch, changes: changes)
                total += changes.count
                after = last.position
            }
        }
        logger.info("replayed \(total) journaled changes of \(streams.count) venue epochs")
    }

    static func lastDigest(in changes: [Change]) -> UInt64? {
        for change in changes.reversed() {
            if case .digest(let digest) = change.body { return digest }
        }
        return nil
    }

    // MARK: - Staleness

    /// Re-evaluates every venue's staleness once per heartbeat interval.
    private func watchStaleness() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.heartbeatInterval)
            let now = ContinuousClock.now
            let changed = state.withLock { state in
                var changed: [VenueLinkStatus] = []
                for venue in state.venues.keys.sorted() {
                    guard var venueState = state.venues[venue], !venueState.stale else { continue }
                    guard let heard = venueState.lastHeard, now - heard <= configuration.staleAfter else {
                        venueState.stale = true
                        state.venues[venue] = venueState
                        changed.append(Self.status(venue, venueState))
                        continue
                    }
                }
                return changed
            }
            for status in changed {
                logger.warning(
                    "venue:\(status.venue) is stale: nothing heard for more than \(configuration.staleAfter) (last applied \(status.epoch):\(status.lastAppliedSequence))")
                await consumer.linkStatusChanged(status)
            }
        }
    }

    /// Records that `venue` was heard from now; reports it live again if it was stale.
    func heard(from venue: String) async {
        let now = ContinuousClock.now
        let revived: VenueLinkStatus? = state.withLock { state in
            guard var venueState = state.venues[venue] else { return nil }
            venueState.lastHeard = now
            let wasStale = venueState.stale
            venueState.stale = false
            state.venues[venue] = venueState
            return wasStale ? Self.status(venue, venueState) : nil
        }
        if let revived {
            logger.info("venue:\(venue) is live")
            await consumer.linkStatusChanged(revived)
        }
    }
}
