import CrossclearStore
import Foundation
import CrossclearWire
import Logging
import NIOCore
import NIOPosix
import Synchronization

extension ClusterBench {
    struct Throughput {
        var seconds: Double
        var changes: Int
        var bytes: Int
        var changesPerSecond: Double { Double(changes) / seconds }
        var megabytesPerSecond: Double { Double(bytes) / seconds / 1_000_000 }
    }

    // MARK: - 1. The raw mutual-TLS ceiling

    /// Four mutual-TLS connections; each client writes the pre-encoded frames as fast as the
    /// channel takes them; the server decodes every frame and discards it. From the first write to
    /// the last change decoded.
    static func measureCeiling(cluster: BenchCluster, workload: IngestWorkload, logger: Logger) async throws -> Throughput {
        let counter = DecodedCounter(expectedChanges: workload.changesPerVenue * venues.count)
        let configuration = WireConfiguration(maximumFrameLength: WireProtocol.defaultMaximumFrameLength, receiver: .clearing)!
        let authorization = PeerAuthorization.anyOf(try venues.map { try NodeIdentity.venue($0) })
        let clearing = cluster.clearing
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try clearing.addServerHandlers(to: pipeline, accepting: authorization, logger: logger)
                    try pipeline.addHandler(ByteToMessageHandler(FrameDecoder(configuration: configuration)))
                    try pipeline.addHandler(DiscardingHandler(counter: counter))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let port = server.localAddress!.port!

        var connections: [NIOAsyncChannel<ByteBuffer, ByteBuffer>] = []
        for venue in venues {
            let tls = cluster.tls(venue)
            connections.append(try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try tls.addClientHandlers(to: channel.pipeline.syncOperations, dialing: "127.0.0.1", logger: logger)
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                })
        }
        // One heartbeat per connection, so every handshake is done before the clock starts.
        let heartbeat = try {
            var buffer = ByteBuffer()
            try WireEncoder().encode(.heartbeat(Heartbeat(sentAtMillis: 0, lastSequence: 0)), into: &buffer)
            return buffer
        }()
        let frames = workload.frames
        try await withThrowingTaskGroup(of: Void.self) { group in
            for connection in connections {
                group.addTask {
                    try await connection.executeThenClose { _, outbound in
                        try await outbound.write(heartbeat)
                        try await waitUntil("the ceiling's handshakes", timeout: .seconds(30)) { counter.messages.load(ordering: .relaxed) >= venues.count }
                        counter.started.withLock { if $0 == nil { $0 = .now } }
                        try await outbound.write(contentsOf: frames)
                        try await waitUntil("the ceiling's frames to be decoded") { counter.finished.withLock { $0 } != nil }
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = (counter.finished.withLock { $0 }! - counter.started.withLock { $0 }!).seconds
        return Throughput(seconds: seconds, changes: counter.changes.load(ordering: .relaxed), bytes: workload.bytesPerVenue * venues.count)
    }

    // MARK: - 2. Durable ingest

    struct IngestResult {
        var seconds: Double
        var changes: Int
        var commits: Int
        var entries: Int
        var durability: String
        var venueJournalingRate: Double
        var changesPerSecond: Double { Double(changes) / seconds }
    }

    /// A ClearingServer on a real journal, four VenueLinks; every venue's changes are journaled in
    /// its own journal before the clock starts; from the first publish until every venue's last
    /// change is acknowledged.
    static func measureIngest(cluster: BenchCluster, workload: IngestWorkload, directory: String, logger: Logger) async throws -> IngestResult {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let clearingJournal = try Journal.open(path: directory + "/clearing.sqlite")
        let settings = try clearingJournal.durabilitySettings()
        let consumer = CountingChangeConsumer()
        let server = try ClearingServer(
            configuration: .init(port: 0, venues: venues), tls: cluster.clearing, journal: clearingJournal, consumer: consumer, logger: logger)
        let (running, port) = try await startServer(server)
        var links: [VenueLink] = []
        var journals: [Journal] = []
        var services: [BenchService] = []
        for venue in venues {
            let journal = try Journal.open(path: directory + "/\(venue).sqlite")
            let link = try benchLink(venue: venue, port: port, stream: "changes/1", journal: journal, cluster: cluster, logger: logger)
            journals.append(journal)
            links.append(link)
            services.append(BenchService { try await link.run() })
        }
        try await waitUntil("the venues to connect", timeout: .seconds(30)) { links.allSatisfy(\.isConnected) }

        // The venues journal their changes (not timed as ingest).
        let journalStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (journal, changes) in zip(journals, workload.changes) {
                group.addTask {
                    var start = 0
                    while start < changes.count {
                        let slice = changes[start..<min(start + IngestWorkload.venueTransaction, changes.count)]
                        let entries = try slice.map { try TransportJournal.entry(for: $0, stream: "changes/1") }
                        let outcomes = try await journal.append(entries)  // off the cooperative pool
                        guard outcomes.allSatisfy({ $0 == .appended }) else { throw BenchError("venue journal refused a change") }
                        start += IngestWorkload.venueTransaction
                    }
                }
            }
            try await group.waitForAll()
        }
        let venueJournalingRate = Double(workload.changesPerVenue * venues.count) / (ContinuousClock.now - journalStart).seconds

        let last = UInt64(workload.changesPerVenue)
        let started = ContinuousClock.now
        for (link, changes) in zip(links, workload.changes) { link.publish(changes) }
        try await waitUntil("every venue's last change to be acknowledged") { links.allSatisfy { $0.lastAcknowledged >= last } }
        let seconds = (ContinuousClock.now - started).seconds
        let statistics = await server.committer.statistics

        for service in services { await service.stop() }
        await running.stop()
        guard consumer.count.load(ordering: .relaxed) == workload.changesPerVenue * venues.count else {
            throw BenchError("the consumer saw \(consumer.count.load(ordering: .relaxed)) changes, expected \(workload.changesPerVenue * venues.count)")
        }
        return IngestResult(
            seconds: seconds, changes: workload.changesPerVenue * venues.count, commits: statistics.commits, entries: statistics.entries,
            durability: "journal_mode=\(settings.journalMode), synchronous=\(settings.synchronous)\(settings.synchronous == 2 ? " (FULL)" : "")",
            venueJournalingRate: venueJournalingRate)
    }
}

/// What the ceiling's servers decoded, and when the last expected change arrived.
final class DecodedCounter: Sendable {
    let expectedChanges: Int
    let changes = Atomic<Int>(0)
    let messages = Atomic<Int>(0)
    let started = Mutex<ContinuousClock.Instant?>(nil)
    let finished = Mutex<ContinuousClock.Instant?>(nil)

    init(expectedChanges: Int) {
        self.expectedChanges = expectedChanges
    }
}

/// Counts decoded messages and changes, then drops them.
final class DiscardingHandler: ChannelInboundHandler {
    typealias InboundIn = WireMessage

    private let counter: DecodedCounter

    init(counter: DecodedCounter) {
        self.counter = counter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        counter.messages.add(1, ordering: .relaxed)
        guard case .changeBatch(let batch) = Self.unwrapInboundIn(data) else { return }
        let total = counter.changes.add(batch.changes.count, ordering: .relaxed).newValue
        if total >= counter.expectedChanges {
            counter.finished.withLock { if $0 == nil { $0 = .now } }
        }
    }
}

@available(*, unavailable)
extension DiscardingHandler: Sendable {}
