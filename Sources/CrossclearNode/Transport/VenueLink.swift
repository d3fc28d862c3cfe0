import CrossclearStore
import CrossclearWire
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A venue node's link to the clearing node: dials it with mutual TLS, sends the venue's journaled
/// changes until they are acknowledged, applies the instructions it receives, and reconnects with
/// backoff until cancelled or shut down gracefully.
///
/// The venue application journals its changes itself, hash-chained (``ChainHasher``), in its own
/// ``Journal`` under ``Configuration/stream``, and then calls ``publish(_:)`` with them (or
/// ``publish(upTo:)`` with their last sequence). The link sends the changes it was given from
/// memory until they are acknowledged and reads anything else from the journal: after a reconnect
/// or a restart it resends everything after the Welcome's `lastApplied`, and after a
/// ResyncRequest everything from its `fromSequence`. An instruction is acknowledged only after
/// ``InstructionConsumer/apply(_:)`` returned.
///
/// The link gives up (``run()`` throws ``TransportError/refused(_:)`` or
/// ``TransportError/forked(_:)``) only when retrying cannot help: the clearing node refused the
/// venue's version, identity or epoch, or the histories forked (restart in a larger epoch).
public final class VenueLink: Service, Sendable {
    /// Settings of a ``VenueLink``.
    public struct Configuration: Sendable {
        /// The venue's name (as in its certificate).
        public var venue: String
        /// The clearing node's host, as its certificate names it (an IP literal or a DNS name).
        public var host: String
        /// The clearing node's port.
        public var port: Int
        /// The venue's epoch: every change sent carries it.
        public var epoch: UInt64
        /// The venue journal's stream holding the changes of ``epoch`` (for example `changes/<epoch>`).
        public var stream: String
        /// How often a Heartbeat is sent.
        public var heartbeatInterval: Duration
        /// The clearing node silent for longer than this: close and reconnect. At least 3 intervals.
        public var staleAfter: Duration
        /// The first wait before reconnecting; doubled after each failed attempt.
        public var initialBackoff: Duration
        /// The longest wait before reconnecting.
        public var maximumBackoff: Duration
        /// The largest frame body accepted or sent.
        public var maximumFrameLength: Int
        /// The most changes sent and not yet acknowledged (the flow-control window).
        public var maximumUnacknowledged: Int
        /// The most published changes kept in memory until acknowledged (the newest ones; older
        /// ones are read back from the journal when sent). 0 reads every change from the journal.
        public var maximumRetained: Int

        /// Creates a configuration; defaults: 250 ms heartbeats, stale after 1 s, backoff 50 ms
        /// doubling to 1 s, 1 MiB frames, 65,536 unacknowledged changes, 262,144 retained changes
        /// (about 50 MB of account changes with one or two positions).
        public init(
            venue: String, host: String, port: Int, epoch: UInt64, stream: String,
            heartbeatInterval: Duration = .milliseconds(250), staleAfter: Duration = .seconds(1),
            initialBackoff: Duration = .milliseconds(50), maximumBackoff: Duration = .seconds(1),
            maximumFrameLength: Int = WireProtocol.defaultMaximumFrameLength, maximumUnacknowledged: Int = 65_536,
            maximumRetained: Int = 262_144
        ) {
            self.venue = venue
            self.host = host
            self.port = port
            self.epoch = epoch
            self.stream = stream
            self.heartbeatInterval = heartbeatInterval
            self.staleAfter = staleAfter
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
            self.maximumFrameLength = maximumFrameLength
            self.maximumUnacknowledged = maximumUnacknowledged
            self.maximumRetained = maximumRetained
        }
    }

    /// The settings this link runs with.
    public let configuration: Configuration

    let wire: WireConfiguration
    let tls: MutualTLS
    let journal: Journal
    let instructions: any InstructionConsumer
    let stateDigest: @Sendable () -> UInt64
    let instructionWatermark: @Sendable () -> UInt64
    let publishedBook: (@Sendable () -> (book: MarginBook, throughSequence: UInt64))?
    let logger: Logger
    let group: any EventLoopGroup
    let state: Mutex<State>

    struct State {
        /// The highest sequence the application published.
        var published: UInt64
        /// The highest sequence the clearing node acknowledged (or reported applied in its Welcome).
        var acknowledged: UInt64 = 0
        /// The last sequence sent on the current connection.
        var sent: UInt64 = 0
        /// Published changes not yet acknowledged, sent from memory.
        var retained: RetainedRun<Change>
        /// Wakes the current connection's sender, while one is welcomed.
        var senderWake: AsyncStream<Void>.Continuation?
        /// When the clearing node was last heard from.
        var lastHeard = ContinuousClock.now
        /// Whether a snapshot answer is being sent (one at a time, so parts never interleave).
        var answeringSnapshot = false
    }

    /// Creates a link reading changes from `journal`'s ``Configuration/stream``.
    ///
    /// - Parameters:
    ///   - tls: The venue's mutual TLS; only the clearing node is accepted at the other end.
    ///   - instructions: Applies each received instruction durably before it is acknowledged.
    ///   - stateDigest: The venue's state digest now, sent in each Hello.
    ///   - instructionWatermark: The highest id such that every instruction up to it is durably
    ///     applied, sent in each Hello; the clearing node resends every pending id above it. The
    ///     default, 0, has it resend all pending instructions (the consumer deduplicates by id).
    ///   - publishedBook: The book the venue has published and the last sequence it includes,
    ///     taken together (under the venue's lock, so that the book holds exactly the changes up to
    ///     that sequence): the answer to a ``SnapshotRequest``. Without it, requests are refused
    ///     with a log line.
    /// - Throws: ``TransportError/invalidConfiguration(_:)``, or a `StoreError` reading the journal.
    public init(
        configuration: Configuration, tls: MutualTLS, journal: Journal, instructions: any InstructionConsumer,
        stateDigest: @escaping @Sendable () -> UInt64, instructionWatermark: @escaping @Sendable () -> UInt64 = { 0 },
        publishedBook: (@Sendable () -> (book: MarginBook, throughSequence: UInt64))? = nil,
        logger: Logger, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.wire = try WirePipeline.validate(
            heartbeatInterval: configuration.heartbeatInterval, staleAfter: configuration.staleAfter,
            maximumFrameLength: configuration.maximumFrameLength, receiver: .venue)
        guard configuration.initialBackoff > .zero, configuration.maximumBackoff >= configuration.initialBackoff else {
            throw TransportError.invalidConfiguration(
                "backoff \(configuration.initialBackoff)...\(configuration.maximumBackoff) must be positive and ordered")
        }
        guard configuration.maximumUnacknowledged > 0 else {
            throw TransportError.invalidConfiguration("maximum unacknowledged \(configuration.maximumUnacknowledged) must be positive")
        }
        guard configuration.maximumRetained >= 0 else {
            throw TransportError.invalidConfiguration("maximum retained \(configuration.maximumRetained) must not be negative")
        }
        self.configuration = configuration
        self.tls = tls
        self.journal = journal
        self.instructions = instructions
        self.stateDigest = stateDigest
        self.instructionWatermark = instructionWatermark
        self.publishedBook = publishedBook
        self.logger = logger
        self.group = eventLoopGroup
        let head = try journal.last(stream: configuration.stream)
        let published = head.flatMap { $0.epoch == Int64(configuration.epoch) ? UInt64($0.sequence) : nil } ?? 0
        self.state = Mutex(State(published: published, retained: RetainedRun(limit: configuration.maximumRetained)))
    }

    // MARK: - Publishing

    /// Tells the link that the venue journaled its changes up to `sequence` (of the configured
    /// epoch, in the configured stream): the link reads them from the journal and sends them as
    /// soon as it can.
    public func publish(upTo sequence: UInt64) {
        let wake = state.withLock { state in
            state.published = max(state.published, sequence)
            return state.senderWake
        }
        wake?.yield()
    }

    /// Tells the link that the venue journaled `changes` (consecutive sequences of the configured
    /// epoch, in order, exactly as journaled in the configured stream): the link sends them as soon
    /// as it can, from memory (up to ``Configuration/maximumRetained``; the rest from the journal).
    public func publish(_ changes: [Change]) {
        guard let last = changes.last else { return }
        precondition(
            changes.allSatisfy { $0.epoch == configuration.epoch } && last.sequence == changes[0].sequence + UInt64(changes.count - 1),
            "published changes are consecutive changes of the link's epoch")
        let wake = state.withLock { state in
            state.retained.append(changes)
            state.published = max(state.published, last.sequence)
            return state.senderWake
        }
        wake?.yield()
    }

    /// The highest sequence the clearing node has acknowledged as durably journaled.
    public var lastAcknowledged: UInt64 { state.withLock { $0.acknowledged } }

    /// Whether a connection is open and welcomed.
    public var isConnected: Bool { state.withLock { $0.senderWake != nil } }

    // MARK: - Running

    /// Connects and reconnects (with backoff) until cancelled or shut down gracefully.
    ///
    /// - Throws: ``TransportError/refused(_:)`` or ``TransportError/forked(_:)`` when retrying
    ///   cannot help.
    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await self.connectUntilCancelled() }
    }

    private func connectUntilCancelled() async throws {
        var backoff = configuration.initialBackoff
        let clearing = "\(configuration.host):\(configuration.port)"
        while !Task.isCancelled {
            do {
                if try await connectOnce() { backoff = configuration.initialBackoff }
            } catch let error as TransportError {
                switch error {
                case .refused, .forked:
                    logger.error("venue:\(configuration.venue): giving up the link to \(clearing): \(error)")
                    throw error
                default:
                    logger.info("venue:\(configuration.venue): link to \(clearing) failed: \(error)")
                }
            } catch {
                if !Task.isCancelled { logger.info("venue:\(configuration.venue): link to \(clearing) failed: \(error)") }
            }
            guard !Task.isCancelled else { break }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, configuration.maximumBackoff)
        }
    }

    /// One connection, from dialing to close. Returns whether it was welcomed.
    private func connectOnce() async throws -> Bool {
        let tls = self.tls
        let wire = self.wire
        let logger = self.logger
        let host = configuration.host
        let (connection, identity) = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try tls.addClientHandlers(to: channel.pipeline.syncOperations, dialing: host, logger: logger)
                    return try WirePipeline.wrap(channel, configuration: wire, logger: logger)
                }
            }
        defer { state.withLock { $0.senderWake = nil } }
        return try await connection.executeThenClose { inbound, outbound in
            _ = try await WirePipeline.authenticatedPeer(identity, of: connection.channel)
            let head = try streamHead()
            let hello = Hello(
                venue: configuration.venue, epoch: configuration.epoch, lastSequence: head.sequence, lastHash: head.hash,
                lastInstructionAcknowledged: instructionWatermark(), stateDigest: stateDigest())
            try await outbound.write(.hello(hello))
            state.withLock { $0.lastHeard = .now }
            var messages = inbound.makeAsyncIterator()
            return try await converse(connection.channel, outbound, &messages)
        }
    }

    /// The venue journal's head in the configured epoch.
    private func streamHead() throws -> (sequence: UInt64, hash: ChainHash) {
        guard let head = try journal.last(stream: configuration.stream), head.epoch == Int64(configuration.epoch) else {
            return (0, .genesis)
        }
        return (UInt64(head.sequence), try ChainHash(bytes: head.hash))
    }
}
