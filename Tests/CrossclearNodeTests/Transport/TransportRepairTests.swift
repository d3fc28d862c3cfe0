import CrossclearEngine
import CrossclearStore
import CrossclearWire
import Foundation
import NIOCore
import Testing

@testable import CrossclearNode

/// Anti-entropy repair over real mutual TLS on 127.0.0.1: a clearing view corrupted on purpose is
/// caught at the next digest and replaced by a snapshot of the venue's published book; bad
/// snapshots are refused without harming anything else.
@Suite("Transport: anti-entropy repair by snapshot", .timeLimit(.minutes(1)))
struct TransportRepairTests {
    @Test("a snapshot ahead of what the clearing node applied: the view is replaced and the changes it holds are not applied again")
    func snapshotAhead() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try TransportFixture(directory: directory)
            let consumer = RepairingViewConsumer(dropping: ["venue-a@5"])
            let server = try fixture.server(consumer: consumer)
            let (running, port) = try await start(server)
            let venue = BookVenue(journal: try fixture.venueJournal("venue-a"))
            let link = try fixture.link(venue: "venue-a", port: port, app: venue)
            let linking = RunningService { try await link.run() }

            // 1...10 accounts, 11 the digest; 12...15 journaled but not yet published.
            try venue.journal(accounts: 0..<10, collateral: 1_000)
            try venue.journal(accounts: 20..<24, collateral: 5, digest: false)
            link.publish(upTo: 11)

            #expect(await eventually(seconds: 20) { consumer.repairs.count == 1 })
            #expect(consumer.mismatches(of: "venue-a") == [11])
            #expect(consumer.repairs.first == RepairingViewConsumer.Repair(venue: "venue-a", throughSequence: 15, reapplied: []))
            #expect(consumer.digest(of: "venue-a") == venue.digest)

            link.publish(upTo: 15)
            let last = try venue.journal(accounts: 30..<35, collateral: 7)
            link.publish(upTo: last)
            #expect(await eventually(seconds: 20) { link.lastAcknowledged == last })
            #expect(consumer.deliveredAfterRepair(of: "venue-a") == Array(16...last), "12...15 are in the snapshot")
            #expect(consumer.mismatches(of: "venue-a") == [11], "the repaired view matches every later digest")
            #expect(consumer.digest(of: "venue-a") == venue.digest)
            #expect(try fixture.clearingJournal.last(stream: "changes/venue-a/1")?.sequence == Int64(last), "every change is journaled")
            // (Snapshot 1, or 2 when a slow machine made the venue reconnect and the request was renewed.)
            #expect(fixture.serverLogs.messages(at: .notice).contains { $0.hasPrefix("venue:venue-a epoch 1: snapshot ") && $0.contains(" accepted at 15 (1 parts, 14 accounts") })
            #expect(fixture.venueLogs.messages(at: .info).contains { $0.contains(" of the book at 1:15 in 1 parts") })

            await linking.stop()
            await running.stop()
        }
    }

    @Test("a snapshot behind what the clearing node applied: the journaled changes after it are re-applied on top")
    func snapshotBehind() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try TransportFixture(directory: directory)
            let consumer = RepairingViewConsumer(dropping: ["venue-a@3"])
            let server = try fixture.server(consumer: consumer)
            let (running, port) = try await start(server)
            let venue = BookVenue(journal: try fixture.venueJournal("venue-a"), keepsHistory: true)
            let link = try fixture.link(venue: "venue-a", port: port, app: venue)
            let linking = RunningService { try await link.run() }

            // The venue answers with its book at 8 while the clearing node has applied 11.
            venue.answer(at: 8)
            link.publish(upTo: try venue.journal(accounts: 0..<10, collateral: 1_000))

            #expect(await eventually(seconds: 20) { consumer.repairs.count == 1 })
            #expect(consumer.repairs.first == RepairingViewConsumer.Repair(venue: "venue-a", throughSequence: 8, reapplied: [9, 10, 11]))
            #expect(consumer.digest(of: "venue-a") == venue.digest)

            venue.answer(at: nil)
            let last = try venue.journal(accounts: 40..<45, collateral: 3)
            link.publish(upTo: last)
            #expect(await eventually(seconds: 20) { link.lastAcknowledged == last })
            #expect(consumer.deliveredAfterRepair(of: "venue-a") == Array(12...last))
            #expect(consumer.mismatches(of: "venue-a") == [11])
            #expect(consumer.digest(of: "venue-a") == venue.digest)

            await linking.stop()
            await running.stop()
        }
    }

    @Test("a book of 100,000 accounts travels in several frames and repairs a view that lacks them all")
    func largeBook() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try TransportFixture(directory: directory)
            let consumer = RepairingViewConsumer()
            let server = try fixture.server(consumer: consumer)
            let (running, port) = try await start(server)
            let venue = BookVenue(journal: try fixture.venueJournal("venue-a"))
            let link = try fixture.link(venue: "venue-a", port: port, app: venue)
            let linking = RunningService { try await link.run() }

            // The clearing node has never seen these accounts (as if their changes were lost):
            // the first digest disagrees.
            venue.seed(accounts: 0..<100_000)
            link.publish(upTo: try venue.journal([nil]))
            #expect(await eventually(seconds: 40) { consumer.repairs.count == 1 })
            #expect(consumer.digest(of: "venue-a") == venue.digest)
            let accepted = fixture.serverLogs.messages(at: .notice).first { $0.contains(" accepted at 1 (") } ?? ""
            #expect(accepted.contains("100000 accounts"))
            #expect(!accepted.contains("(1 parts"), "more than one frame: \(accepted)")

            await linking.stop()
            await running.stop()
        }
    }

    @Test("bad snapshots are refused with a log line: unsolicited, wrong digest, out of order, malformed; another venue is unharmed")
    func refusals() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try TransportFixture(directory: directory)
            let consumer = RepairingViewConsumer()
            let server = try fixture.server(consumer: consumer)
            let (running, port) = try await start(server)
            let logger = fixture.venueLogs.logger()
            let tlsB = try fixture.cluster.tls(.testVenue("venue-b"))
            let tlsA = try fixture.cluster.tls(.testVenue("venue-a"))

            try await RawVenueClient.with(tls: tlsB, port: port, logger: logger) { venueB in
                #expect(try await venueB.hello(venue: "venue-b") == .welcome(Welcome(epoch: 1, lastApplied: 0, lastAppliedHash: .genesis)))
                var chainB = ChainHasher(epoch: 1)

                let closing = try await RawVenueClient.with(tls: tlsA, port: port, logger: logger) { (venueA: RawVenueClient) async throws -> Goodbye? in
                    _ = try await venueA.hello(venue: "venue-a")
                    var chain = ChainHasher(epoch: 1)
                    let account = AccountState(account: 1, trader: 2, collateral: Amount(raw: 5), positions: [])
                    var book = MarginBook()
                    try book.apply(.account(account))
                    func part(_ id: UInt64, digest: UInt64, part: UInt32 = 0, of count: UInt32 = 1, accounts: [AccountState] = [account]) -> WireMessage {
                        .snapshotPart(
                            SnapshotPart(
                                snapshotId: id, epoch: 1, throughSequence: 2, digest: digest, part: part, partCount: count,
                                accounts: accounts, marks: []))
                    }

                    // Unsolicited: nothing was requested.
                    try await venueA.send(part(1, digest: book.digest()))
                    #expect(await eventually { fixture.serverLogs.messages(at: .warning).contains { $0.contains("snapshot 1 refused: unsolicited snapshot 1 (none is requested)") } })

                    // A digest the view does not match: the server asks for snapshot 1.
                    try await venueA.send(.changeBatch(ChangeBatch(changes: [try chain.append(.account(account)), try chain.append(.digest(12_345))])))
                    // The request goes out while the batch is handed over, so before its Ack.
                    guard case .snapshotRequest(let first) = try await venueA.receive() else {
                        Issue.record("expected a snapshot request")
                        return nil
                    }
                    #expect(first.snapshotId == 1)
                    #expect(try await venueA.receive() == .ack(Ack(epoch: 1, upTo: 2)))
                    // A snapshot whose content does not hash to its stated digest.
                    try await venueA.send(part(1, digest: book.digest() ^ 1))
                    #expect(await eventually { fixture.serverLogs.messages(at: .warning).contains { $0.contains("snapshot 1 refused: the book's digest is") } })
                    #expect(consumer.repairs.isEmpty)

                    // The next mismatch asks again; parts out of order are refused, the rest of that snapshot ignored.
                    try await venueA.send(.changeBatch(ChangeBatch(changes: [try chain.append(.digest(6_789))])))
                    guard case .snapshotRequest(let second) = try await venueA.receive() else {
                        Issue.record("expected a second snapshot request")
                        return nil
                    }
                    #expect(second.snapshotId == 2)
                    #expect(try await venueA.receive() == .ack(Ack(epoch: 1, upTo: 3)))
                    try await venueA.send(part(2, digest: book.digest(), part: 1, of: 2, accounts: []))
                    #expect(await eventually { fixture.serverLogs.messages(at: .warning).contains { $0.contains("snapshot 2 refused: snapshot 2 starts at part 1") } })

                    // A malformed part (part index beyond its count) closes this connection only.
                    var bytes = try frameBytes(part(3, digest: 0))
                    bytes[40] = 5  // part (payload offset 32, frame offset 37...40) = 5 of 1
                    try await venueA.send(bytes: bytes)
                    while let message = try await venueA.receive() {
                        if case .goodbye(let goodbye) = message { return goodbye }
                    }
                    return nil
                }
                #expect(closing?.reason == .protocolError)
                #expect(
                    await eventually {
                        fixture.serverLogs.messages(at: .warning).contains {
                            $0.hasPrefix("closing connection to ") && $0.contains("SnapshotPart.part at byte 37 is 5, allowed 0...0")
                        }
                    })
                #expect(consumer.repairs.isEmpty)

                // venue-b's connection went on all along.
                try await venueB.send(.changeBatch(ChangeBatch(changes: [try chainB.append(.digest(MarginBook().digest()))])))
                #expect(try await venueB.receive() == .ack(Ack(epoch: 1, upTo: 1)))
                #expect(consumer.mismatches(of: "venue-b").isEmpty)
            }
            await running.stop()
        }
    }
}

/// One message encoded as a frame.
private func frameBytes(_ message: WireMessage) throws -> [UInt8] {
    var buffer = ByteBuffer()
    try WireEncoder().encode(message, into: &buffer)
    return Array(buffer.readableBytesView)
}
