import CrossclearEngine
import CrossclearStore
import CrossclearWire
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import CrossclearNode

// MARK: - Consumers that record what they see

/// Records every change the clearing server hands over, and every link status change.
final class RecordingChangeConsumer: ChangeConsumer {
    private let storage = Mutex<(changes: [String: [Change]], statuses: [VenueLinkStatus])>(([:], []))

    func consume(venue: String, epoch: UInt64, changes: [Change]) async {
        storage.withLock { $0.changes[venue, default: []].append(contentsOf: changes) }
    }

    func linkStatusChanged(_ status: VenueLinkStatus) async {
        storage.withLock { $0.statuses.append(status) }
    }

    func changes(of venue: String) -> [Change] { storage.withLock { $0.changes[venue] ?? [] } }
    var statuses: [VenueLinkStatus] { storage.withLock { $0.statuses } }
}

/// Applies instructions at most once per id (the venue's dedup contract), recording every attempt.
/// Ids in `held` stay in `apply` (after being recorded as applied) until `release()`.
final class RecordingInstructionConsumer: InstructionConsumer {
    private struct State {
        var applied: [UInt64] = []
        var attempts: [UInt64] = []
        var held: Set<UInt64> = []
    }
    private let storage = Mutex(State())

    func apply(_ instructions: [Instruction]) async throws {
        for instruction in instructions { try await apply(instruction) }
    }

    private func apply(_ instruction: Instruction) async throws {
        let mustWait = storage.withLock { state in
            state.attempts.append(instruction.id)
            guard !state.applied.contains(instruction.id) else { return false }
            state.applied.append(instruction.id)
            return state.held.contains(instruction.id)
        }
        guard mustWait else { return }
        while storage.withLock({ $0.held.contains(instruction.id) }) {
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func hold(_ ids: some Sequence<UInt64>) { storage.withLock { $0.held.formUnion(ids) } }
    func release() { storage.withLock { $0.held.removeAll() } }
    var applied: [UInt64] { storage.withLock { $0.applied } }
    var attempts: [UInt64] { storage.withLock { $0.attempts } }
}

// MARK: - Services

/// Runs a service in a task; `stop()` cancels it and waits for it to return.
struct RunningService: Sendable {
    let task: Task<Void, any Error>

    init(_ run: @escaping @Sendable () async throws -> Void) {
        task = Task { try await run() }
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}

/// Starts `server` and returns it running with its bound port.
func start(_ server: ClearingServer) async throws -> (RunningService, Int) {
    let running = RunningService { try await server.run() }
    #expect(await eventually { server.boundPort != nil }, "the server did not start listening")
    return (running, try #require(server.boundPort))
}

// MARK: - A venue's journal

/// Journals hash-chained changes the way a venue application does.
struct VenueJournalWriter {
    let journal: Journal
    let stream: String
    private(set) var hasher: ChainHasher

    init(journal: Journal, epoch: UInt64) {
        self.journal = journal
        self.stream = "changes/\(epoch)"
        self.hasher = ChainHasher(epoch: epoch)
    }

    /// Journals `count` account changes; returns the last sequence.
    @discardableResult
    mutating func journal(accountChanges count: Int) throws -> UInt64 {
        let first = hasher.lastSequence + 1
        return try journal((0..<count).map { accountChange(number: first + UInt64($0)) })
    }

    /// Journals `count` account changes; returns them, as a venue hands them to its link.
    mutating func journaledChanges(accounts count: Int) throws -> [Change] {
        let first = hasher.lastSequence + 1
        return try journal(changes: (0..<count).map { accountChange(number: first + UInt64($0)) })
    }

    /// Journals a digest change; returns its sequence.
    mutating func journal(digest: UInt64) throws -> UInt64 {
        try journal([.digest(digest)])
    }

    private mutating func journal(_ bodies: [ChangeBody]) throws -> UInt64 {
        try journal(changes: bodies)
        return hasher.lastSequence
    }

    @discardableResult
    private mutating func journal(changes bodies: [ChangeBody]) throws -> [Change] {
        let changes = try bodies.map { try hasher.append($0) }
        let outcomes = try journal.append(try changes.map { try TransportJournal.entry(for: $0, stream: stream) })
        #expect(outcomes.allSatisfy { $0 == .appended })
        return changes
    }
}

/// An account change whose content depends on `number`.
func accountChange(number: UInt64, collateralOffset: Int64 = 0) -> ChangeBody {
    let position = PositionState(asset: 1, quantity: Quantity(raw: 100_000_000), basis: Amount(raw: 65_000_000_000))
    return .account(
        AccountState(
            account: UInt32(number % 1_000), trader: 7, collateral: Amount(raw: Int64(number) * 1_000 + collateralOffset),
            positions: [position]))
}

/// `count` chained changes of `epoch` from sequence 1.
func chainedChanges(_ count: Int, epoch: UInt64 = 1) throws -> [Change] {
    var hasher = ChainHasher(epoch: epoch)
    return try (1...count).map { try hasher.append(accountChange(number: UInt64($0))) }
}

// MARK: - A hand-driven venue client

/// A venue client speaking raw frames over mutual TLS, for driving the server into corner cases.
final class RawVenueClient {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var received = ByteBuffer()
    private let decoder = WireDecoder(configuration: WireConfiguration(receiver: .venue))

    private init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    /// Dials 127.0.0.1:`port` with `tls` and runs `body` with the client; closes afterwards.
    static func with<T: Sendable>(
        tls: MutualTLS, port: Int, logger: Logger, _ body: (RawVenueClient) async throws -> T
    ) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try tls.addClientHandlers(to: channel.pipeline.syncOperations, dialing: "127.0.0.1", logger: logger)
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(RawVenueClient(inbound: inbound, outbound: outbound))
        }
    }

    func send(_ message: WireMessage) async throws {
        var buffer = ByteBuffer()
        try WireEncoder().encode(message, into: &buffer)
        try await outbound.write(buffer)
    }

    func send(bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// The next message other than a heartbeat, or nil once the connection is closed.
    func receive() async throws -> WireMessage? {
        while true {
            if let message = try decoder.decodeFrame(from: &received) {
                if case .heartbeat = message { continue }
                return message
            }
            guard var more = try await inbound.next() else { return nil }
            received.writeBuffer(&more)
        }
    }

    /// Sends a Hello for `venue` with nothing journaled and returns the answer.
    func hello(venue: String, epoch: UInt64 = 1) async throws -> WireMessage? {
        try await send(
            .hello(Hello(venue: venue, epoch: epoch, lastSequence: 0, lastHash: .genesis, lastInstructionAcknowledged: 0, stateDigest: 0)))
        return try await receive()
    }
}

/// A fixture: a CA, the clearing node's TLS, and journals in a temporary directory.
struct TransportFixture {
    let cluster: TestCluster
    let directory: String
    let clearingJournal: Journal
    let clearingTLS: MutualTLS
    let serverLogs = LogCapture()
    let venueLogs = LogCapture()

    init(directory: String) throws {
        self.cluster = try TestCluster()
        self.directory = directory
        self.clearingJournal = try Journal.open(path: directory + "/clearing.sqlite")
        self.clearingTLS = try cluster.tls(.clearing)
    }

    func server(
        venues: [String] = ["venue-a", "venue-b"], port: Int = 0, consumer: RecordingChangeConsumer,
        heartbeatInterval: Duration = .milliseconds(50), staleAfter: Duration = .milliseconds(300)
    ) throws -> ClearingServer {
        try ClearingServer(
            configuration: .init(port: port, venues: venues, heartbeatInterval: heartbeatInterval, staleAfter: staleAfter),
            tls: clearingTLS, journal: clearingJournal, consumer: consumer, logger: serverLogs.logger())
    }

    func venueJournal(_ venue: String) throws -> Journal {
        try Journal.open(path: directory + "/\(venue).sqlite")
    }

    func link(
        venue: String, port: Int, journal: Journal, epoch: UInt64 = 1, instructions: RecordingInstructionConsumer = .init(),
        maximumRetained: Int = 262_144
    ) throws -> VenueLink {
        try VenueLink(
            configuration: .init(
                venue: venue, host: "127.0.0.1", port: port, epoch: epoch, stream: "changes/\(epoch)",
                heartbeatInterval: .milliseconds(50), staleAfter: .milliseconds(300), maximumRetained: maximumRetained),
            tls: try cluster.tls(.testVenue(venue)), journal: journal, instructions: instructions, stateDigest: { 42 },
            logger: venueLogs.logger())
    }
}
