import CrossclearEngine
import CrossclearStore
import CrossclearWire
import Foundation
import Logging
import NIOCore
import Synchronization

/// A fresh CA and the credentials of the clearing node and the four venues, written to (and loaded
/// back from) `directory`, as `crossclear certs` does for a real cluster.
struct BenchCluster: Sendable {
    let clearing: MutualTLS
    let venues: [String: MutualTLS]

    init(directory: String) throws {
        let certificates = CertificateDirectory(path: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ca = try CertificateAuthority.create(in: certificates)
        let hosts = ["127.0.0.1", "localhost"]
        try ca.issue(node: .clearing, hosts: hosts)
        clearing = try MutualTLS(credentials: NodeCredentials.load(node: .clearing, from: certificates))
        var venues: [String: MutualTLS] = [:]
        for venue in ClusterBench.venues {
            let node = try NodeIdentity.venue(venue)
            try ca.issue(node: node, hosts: hosts)
            venues[venue] = try MutualTLS(credentials: NodeCredentials.load(node: node, from: certificates))
        }
        self.venues = venues
    }

    func tls(_ venue: String) -> MutualTLS { venues[venue]! }
}

/// Hash-chained account changes (1-2 positions each, amounts drawn from the seed), the same for
/// the ceiling and the ingest parts, and their wire frames as a VenueLink sends them.
struct IngestWorkload: Sendable {
    /// As many changes as ``VenueLink`` reads from its journal per send.
    static let readLimit = 16_384
    /// Changes per venue-side journal transaction while preparing.
    static let venueTransaction = 16_384

    let changesPerVenue: Int
    /// Per venue (in ``ClusterBench/venues`` order): its chained changes of epoch 1.
    let changes: [[Change]]
    /// The first venue's frames (the ceiling sends them on all four connections).
    let frames: [ByteBuffer]

    var framesPerVenue: Int { frames.count }
    var bytesPerVenue: Int { frames.reduce(0) { $0 + $1.readableBytes } }

    init(seed: UInt64, changesPerVenue: Int) throws {
        self.changesPerVenue = changesPerVenue
        var changes: [[Change]] = []
        for venue in ClusterBench.venues.indices {
            var random = SeededRandom(seed: seed &+ UInt64(venue) &* 0x9E37_79B9_7F4A_7C15)
            var hasher = ChainHasher(epoch: 1)
            var list: [Change] = []
            list.reserveCapacity(changesPerVenue)
            for number in 0..<changesPerVenue {
                list.append(try hasher.append(Self.accountChange(number: number, random: &random)))
            }
            changes.append(list)
        }
        self.changes = changes
        var frames: [ByteBuffer] = []
        let encoder = WireEncoder()
        var start = 0
        while start < changesPerVenue {
            let chunk = Array(changes[0][start..<min(start + Self.readLimit, changesPerVenue)])
            for batch in ChangeBatch.split(chunk, maximumFrameLength: WireProtocol.defaultMaximumFrameLength) {
                var buffer = ByteBuffer()
                try encoder.encode(.changeBatch(batch), into: &buffer)
                frames.append(buffer)
            }
            start += Self.readLimit
        }
        self.frames = frames
    }

    /// An account of a 25,000-account venue with collateral and 1 or 2 positions, as VenueMachine
    /// publishes them.
    static func accountChange(number: Int, random: inout SeededRandom) -> ChangeBody {
        let positionCount = random.below(3) == 0 ? 2 : 1
        var positions: [PositionState] = []
        var asset = UInt16(random.below(4))
        for _ in 0..<positionCount {
            let quantity = random.int(in: 1_000_000...50_000_000_000) * (random.below(2) == 0 ? -1 : 1)
            let basis = random.int(in: 10_000_000...5_000_000_000_000)
            positions.append(PositionState(asset: asset, quantity: Quantity(raw: quantity), basis: Amount(raw: basis)))
            asset += 1 + UInt16(random.below(2))
        }
        return .account(AccountState(
            account: UInt32(number % 25_000), trader: UInt32(random.below(100_000)),
            collateral: Amount(raw: random.int(in: 100_000_000...10_000_000_000_000)), positions: positions))
    }
}

/// Counts changes handed over by a ``ClearingServer``.
final class CountingChangeConsumer: ChangeConsumer {
    let count = Atomic<Int>(0)

    func consume(venue: String, epoch: UInt64, changes: [Change]) async {
        count.add(changes.count, ordering: .relaxed)
    }
}

/// Applies nothing (the ingest and restart parts send no instructions).
struct DiscardingInstructionConsumer: InstructionConsumer {
    func apply(_ instructions: [Instruction]) async throws {}
}

/// A service running in a task; `stop()` cancels it and waits for it to return.
struct BenchService: Sendable {
    let task: Task<Void, any Error>

    init(_ run: @escaping @Sendable () async throws -> Void) {
        task = Task { try await run() }
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}

/// Polls `condition` every `interval` until it holds; throws after `timeout`.
func waitUntil(
    _ what: String, timeout: Duration = .seconds(120), interval: Duration = .microseconds(200), _ condition: () -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw BenchError("timed out after \(timeout) waiting for \(what)") }
        try await Task.sleep(for: interval)
    }
}

/// Starts `server` and waits until it listens; returns the running service and the port.
func startServer(_ server: ClearingServer) async throws -> (BenchService, Int) {
    let running = BenchService { try await server.run() }
    try await waitUntil("the clearing server to listen", timeout: .seconds(30)) { server.boundPort != nil }
    return (running, server.boundPort!)
}

/// A venue link to 127.0.0.1:`port` with bench settings (defaults as in a venue node).
func benchLink(
    venue: String, port: Int, stream: String, journal: Journal, cluster: BenchCluster,
    instructions: any InstructionConsumer = DiscardingInstructionConsumer(), logger: Logger
) throws -> VenueLink {
    try VenueLink(
        configuration: .init(venue: venue, host: "127.0.0.1", port: port, epoch: 1, stream: stream),
        tls: cluster.tls(venue), journal: journal, instructions: instructions, stateDigest: { 0 }, logger: logger)
}

/// An error ending the benchmark.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
