import CrossclearStore
import CrossclearWire
import Foundation
import Testing

@testable import CrossclearNode

/// A venue link and the clearing server over real mutual TLS on 127.0.0.1, with real journals.
@Suite("Transport: venue link to clearing server", .timeLimit(.minutes(1)))
struct TransportLinkTests {
    @Test("published changes reach the consumer exactly once, in order, journaled, and acknowledged")
    func changesDelivered() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try TransportFixture(directory: directory)
            let consumer = RecordingChangeConsumer()
            let server = try fixture.server(consumer: consumer)
            let (running, port) = try await start(server)
            let venueJournal = try fixture.venueJournal("venue-a")
            var writer = VenueJournalWriter(journal: venueJournal, epoch: 1)
            let link = try fixture.link(venue: "venue-a", port: port, journal: venueJournal)
            let linking = RunningService { try await link.run() }

            try writer.journal(accountChanges: 10_000)
            let last = try writer.journal(digest: 0xC0FFEE)
            link.publish(upTo: last)

            #expect(await eventually(seconds: 20) { link.lastAcknowledged == 10_001 })
            let received = consumer.changes(of: "venue-a")
            #expect(received.map(\.sequence) == Array(1...10_001))
            #expect(received.allSatisfy { $0.epoch == 1 })
            let head = try fixture.clearingJournal.last(stream: "changes/venue-a/1")
            #expect(head?.sequence == 10_001)
            #expect(head?.hash == received.last?.hash.bytes)
            let status = try #require(server.linkStatus().first { $0.venue == "venue-a" })
            #expect(status.connected && !status.stale && status.epoch == 1 && status.lastAppliedSequence == 10_001)
            #expect(status.lastReportedDigest == 0xC0FFEE)

            await linking.stop()
            await running.stop()
        }
    }

    @Test("a restarted server replays its journal once; the venue resends only what was not acknowledged")
    func serverRestart() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try TransportFixture(directory: directory)
            let firstConsumer = RecordingChangeConsumer()
            let (firstRun, port) = try await start(try fixture.server(consumer: firstConsumer))
            let venueJournal = try fixture.venueJournal("venue-a")
            var writer = VenueJournalWriter(journal: venueJournal, epoch: 1)
            let link = try fixture.link(venue: "venue-a", port: port, journal: venueJournal)
            let linking = RunningService { try await link.run() }
            link.publish(upTo: try writer.journal(accountChanges: 3_000))
            #expect(await eventually(seconds: 20) { link.lastAcknowledged == 3_000 })
            await firstRun.stop()

            // Written while the clearing node is down.
            link.publish(upTo: try writer.journal(accountChanges: 2_000))
            let secondConsumer = RecordingChangeConsumer()
            let second = try fixture.server(port: port, consumer: secondConsumer)
            let secondRun = RunningService { try await second.run() }

            #expect(await eventually(seconds: 20) { link.lastAcknowledged == 5_000 })
            #expect(firstConsumer.changes(of: "venue-a").map(\.sequence) == Array(1...3_000))
            #expect(secondConsumer.changes(of: "venue-a").map(\.sequence) == Array(1...5_000))
            #expect(fixture.venueLogs.messages.contains { $0.hasSuffix("it applied up to 3000") })
            #expect(try fixture.clearingJournal.last(stream: "changes/venue-a/1")?.sequence == 5_000)

            await linking.stop()
            await secondRun.stop()
        }
    }

    @Test(
        "changes published with their values are sent from memory, and after a server restart resent from memory and the journal",
        arguments: [262_144, 500, 0])
    func changesPublishedFromMemory(maximumRetained: Int) async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try TransportFixture(directory: directory)
            let firstConsumer = RecordingChangeConsumer()
            let (firstRun, port) = try await start(try fixture.server(consumer: firstConsumer))
            let venueJournal = try fixture.venueJournal("venue-a")
            var writer = VenueJournalWriter(journal: venueJournal, epoch: 1)
            let link = try fixture.link(venue: "venue-a", port: port, journal: venueJournal, maximumRetained: maximumRetained)
            let linking = RunningService { try await link.run() }
            var published = try writer.journaledChanges(accounts: 3_000)
            link.publish(published)
            #expect(await eventually(seconds: 20) { link.lastAcknowledged == 3_000 })
            await firstRun.stop()

            // Published while the clearing node is down, in two calls, and one more by sequence only.
            for count in [1_500, 499] {
                let changes = try writer.journaledChanges(accounts: count)
                link.publish(changes)
                published += changes
            }
            let last = try writer.journal(digest: 0xBEEF)
            link.publish(upTo: last)
            let secondConsumer = RecordingChangeConsumer()
            let second = try fixture.server(port: port, consumer: secondConsumer)
            let secondRun = RunningService { try await second.run() }

            #expect(await eventually(seconds: 20) { link.lastAcknowledged == 5_000 })
            #expect(firstConsumer.changes(of: "venue-a") == Array(published.prefix(3_000)))
            let received = secondConsumer.changes(of: "venue-a")
            #expect(received.map(\.sequence) == Array(1...5_000))
            #expect(Array(received.prefix(4_999)) == published)
            let journaled = try fixture.clearingJournal.entries(stream: "changes/venue-a/1", after: nil, limit: 10_000)
            #expect(journaled.map(\.hash) == received.map(\.hash.bytes))

            await linking.stop()
            await secondRun.stop()
        }
    }

    @Test("instructions queued while the venue is away arrive once it connects; a restart before the ack resends them, and the venue ignores the repeats")
    func instructionsDelivered() async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try TransportFixture(directory: directory)
            let server = try fixture.server(consumer: RecordingChangeConsumer())
            let (firstRun, port) = try await start(server)
            let bodies = (1...100).map { InstructionBody.credit(CrossMarginCredit(account: UInt32($0), thresholdReduction: .init(raw: 5))) }
            #expect(try await server.send(bodies, to: "venue-a") == Array(1...100))
            #expect(server.linkStatus().first { $0.venue == "venue-a" }?.pendingInstructions == 100)

            let instructions = RecordingInstructionConsumer()
            let link = try fixture.link(venue: "venue-a", port: port, journal: try fixture.venueJournal("venue-a"), instructions: instructions)
            let linking = RunningService { try await link.run() }
            #expect(await eventually { server.linkStatus().first { $0.venue == "venue-a" }?.pendingInstructions == 0 })
            #expect(instructions.applied == Array(1...100))

            // The venue applies 101...110 but the server stops before their acknowledgement.
            instructions.hold(101...110)
            #expect(try await server.send(Array(bodies.prefix(10)), to: "venue-a") == Array(101...110))
            #expect(await eventually { instructions.attempts.contains(101) })
            await firstRun.stop()
            let second = try fixture.server(port: port, consumer: RecordingChangeConsumer())
            #expect(second.linkStatus().first { $0.venue == "venue-a" }?.pendingInstructions == 10)
            let secondRun = RunningService { try await second.run() }
            instructions.release()

            // The link reconnects with backoff (at most 1 s) once its held apply returns; a loaded
            // machine (a CI run beside builds) has taken longer than the 5 s default here.
            #expect(await eventually(seconds: 30) { second.linkStatus().first { $0.venue == "venue-a" }?.pendingInstructions == 0 })
            #expect(instructions.applied == Array(1...110))
            #expect(instructions.attempts.filter { $0 > 100 }.count > 10, "the restarted server resent the unacknowledged ids")
            #expect(try await second.send(Array(bodies.prefix(1)), to: "venue-a") == [111])
            // Several batches for one venue in one call, an empty one among them: consecutive ids.
            let batches: [(venue: String, bodies: [InstructionBody])] = [("venue-a", []), ("venue-a", Array(bodies.prefix(2))), ("venue-a", Array(bodies.prefix(1)))]
            #expect(try await second.send(batches) == [[], [112, 113], [114]])
            #expect(await eventually { instructions.applied == Array(1...114) })

            await linking.stop()
            await secondRun.stop()
        }
    }
}
