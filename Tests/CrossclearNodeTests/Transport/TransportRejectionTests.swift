import CrossclearStore
import CrossclearWire
import Foundation
import Testing

@testable import CrossclearNode

/// Connections the clearing server must refuse, each with a log line naming why, while it keeps
/// serving a good venue; and the stale marking of a silent venue.
@Suite("Transport: rejections and staleness", .timeLimit(.minutes(1)))
struct TransportRejectionTests {
    /// Runs `body` against a running server, then checks that a good venue (venue-b) still gets a Welcome.
    private func withServer(
        _ body: (TransportFixture, ClearingServer, Int, RecordingChangeConsumer) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            let fixture = try TransportFixture(directory: directory)
            let consumer = RecordingChangeConsumer()
            let server = try fixture.server(consumer: consumer)
            let (running, port) = try await start(server)
            try await body(fixture, server, port, consumer)
            let welcome = try await RawVenueClient.with(
                tls: try fixture.cluster.tls(.testVenue("venue-b")), port: port, logger: fixture.venueLogs.logger()
            ) { client in try await client.hello(venue: "venue-b") }
            guard case .welcome = welcome else {
                Issue.record("the server no longer serves a good venue: \(String(describing: welcome))")
                return
            }
            await running.stop()
        }
    }

    @Test("a certificate from another CA is refused at the TLS handshake")
    func foreignCertificate() async throws {
        try await withServer { fixture, _, port, _ in
            let impostor = try TestCluster().credentials(.testVenue("venue-a"))
            let tls = try MutualTLS(
                credentials: NodeCredentials(
                    node: .testVenue("venue-a"), certificate: impostor.certificate, privateKey: impostor.privateKey,
                    caCertificate: fixture.cluster.ca.certificate))
            let answer = try? await RawVenueClient.with(tls: tls, port: port, logger: fixture.venueLogs.logger()) { client in
                try await client.hello(venue: "venue-a")
            }
            #expect(answer == nil)
            #expect(await eventually { fixture.serverLogs.messages(at: .warning).contains { $0.contains("certificate not signed by the cluster CA") } })
        }
    }

    @Test("a Hello naming another venue than the certificate is refused with Goodbye(unauthorized)")
    func helloVenueMismatch() async throws {
        try await withServer { fixture, _, port, _ in
            let answer = try await RawVenueClient.with(
                tls: try fixture.cluster.tls(.testVenue("venue-a")), port: port, logger: fixture.venueLogs.logger()
            ) { client in try await client.hello(venue: "venue-b") }
            guard case .goodbye(let goodbye) = answer else {
                Issue.record("expected a Goodbye, got \(String(describing: answer))")
                return
            }
            #expect(goodbye.reason == .unauthorized)
            #expect(
                fixture.serverLogs.messages(at: .warning).contains {
                    $0.contains("its certificate names venue venue-a but its Hello names venue venue-b")
                })
        }
    }

    @Test("a newer connection of a venue supersedes the older one with Goodbye(superseded)")
    func superseded() async throws {
        try await withServer { fixture, _, port, _ in
            let tls = try fixture.cluster.tls(.testVenue("venue-a"))
            let logger = fixture.venueLogs.logger()
            let answer = try await RawVenueClient.with(tls: tls, port: port, logger: logger) { older in
                _ = try await older.hello(venue: "venue-a")
                let newer = try await RawVenueClient.with(tls: tls, port: port, logger: logger) { newer in
                    try await newer.hello(venue: "venue-a")
                }
                #expect(newer == .welcome(Welcome(epoch: 1, lastApplied: 0, lastAppliedHash: .genesis)))
                return try await older.receive()
            }
            guard case .goodbye(let goodbye) = answer else {
                Issue.record("expected a Goodbye, got \(String(describing: answer))")
                return
            }
            #expect(goodbye.reason == .superseded)
            #expect(fixture.serverLogs.messages(at: .info).contains { $0.contains("supersedes the one from 127.0.0.1:") })
        }
    }

    @Test("a malformed frame closes that connection with Goodbye(protocolError)")
    func malformedFrame() async throws {
        try await withServer { fixture, _, port, _ in
            let answer = try await RawVenueClient.with(
                tls: try fixture.cluster.tls(.testVenue("venue-a")), port: port, logger: fixture.venueLogs.logger()
            ) { client in
                try await client.send(bytes: [0, 0, 0, 2, 0x7F, 0])  // message type 0x7F does not exist
                return try await client.receive()
            }
            guard case .goodbye(let goodbye) = answer else {
                Issue.record("expected a Goodbye, got \(String(describing: answer))")
                return
            }
            #expect(goodbye.reason == .protocolError)
            #expect(
                fixture.serverLogs.messages(at: .warning).contains {
                    $0.hasPrefix("closing connection to ") && $0.hasSuffix("unknown message type 0x7f at byte 4")
                })
        }
    }

    @Test("a replayed sequence with other content is a fork: ResyncRequest(0) and Goodbye(fork)")
    func fork() async throws {
        try await withServer { fixture, server, port, consumer in
            let changes = try chainedChanges(3)
            var other = ChainHasher(epoch: 1)
            _ = try other.append(accountChange(number: 1))
            let forked = try other.append(accountChange(number: 2, collateralOffset: 1))
            let answers = try await RawVenueClient.with(
                tls: try fixture.cluster.tls(.testVenue("venue-a")), port: port, logger: fixture.venueLogs.logger()
            ) { client in
                _ = try await client.hello(venue: "venue-a")
                try await client.send(.changeBatch(ChangeBatch(changes: changes)))
                let ack = try await client.receive()
                try await client.send(.changeBatch(ChangeBatch(changes: [forked])))
                return [ack, try await client.receive(), try await client.receive(), try await client.receive()]
            }
            #expect(answers[0] == .ack(Ack(epoch: 1, upTo: 3)))
            #expect(answers[1] == .ack(Ack(epoch: 1, upTo: 3)))
            guard case .resyncRequest(let resync) = answers[2], case .goodbye(let goodbye) = answers[3] else {
                Issue.record("expected ResyncRequest then Goodbye, got \(answers)")
                return
            }
            #expect(resync.fromSequence == 0)
            #expect(goodbye.reason == .fork)
            #expect(consumer.changes(of: "venue-a") == changes)
            #expect(
                fixture.serverLogs.messages(at: .warning).contains { $0.hasPrefix("venue:venue-a epoch 1: fork at sequence 2") })
            #expect(server.linkStatus().first { $0.venue == "venue-a" }?.lastAppliedSequence == 3)
        }
    }

    @Test("a gap is refused with one ResyncRequest; the resent changes are then applied")
    func gap() async throws {
        try await withServer { fixture, _, port, consumer in
            let changes = try chainedChanges(5)
            let answers = try await RawVenueClient.with(
                tls: try fixture.cluster.tls(.testVenue("venue-a")), port: port, logger: fixture.venueLogs.logger()
            ) { client in
                _ = try await client.hello(venue: "venue-a")
                try await client.send(.changeBatch(ChangeBatch(changes: Array(changes[0...1]))))
                let first = try await client.receive()
                try await client.send(.changeBatch(ChangeBatch(changes: [changes[4]])))
                let second = try await client.receive()
                let resync = try await client.receive()
                try await client.send(.changeBatch(ChangeBatch(changes: Array(changes[2...4]))))
                return [first, second, resync, try await client.receive()]
            }
            #expect(answers[0] == .ack(Ack(epoch: 1, upTo: 2)))
            #expect(answers[1] == .ack(Ack(epoch: 1, upTo: 2)))
            guard case .resyncRequest(let resync) = answers[2] else {
                Issue.record("expected a ResyncRequest, got \(answers)")
                return
            }
            #expect(resync.fromSequence == 3)
            #expect(answers[3] == .ack(Ack(epoch: 1, upTo: 5)))
            #expect(consumer.changes(of: "venue-a") == changes)
            #expect(
                fixture.serverLogs.messages(at: .warning).contains {
                    $0 == "venue:venue-a epoch 1: gap: received sequence 5, expected 3; asking for a resend from 3"
                })
        }
    }

    @Test("a venue that goes silent is marked stale within stale-after, and live again when it speaks")
    func staleness() async throws {
        try await withServer { fixture, server, port, consumer in
            func status() -> VenueLinkStatus? { server.linkStatus().first { $0.venue == "venue-a" } }
            try await RawVenueClient.with(
                tls: try fixture.cluster.tls(.testVenue("venue-a")), port: port, logger: fixture.venueLogs.logger()
            ) { client in
                _ = try await client.hello(venue: "venue-a")
                #expect(await eventually { status()?.connected == true && status()?.stale == false })
                #expect(await eventually { status()?.stale == true })
                #expect(status()?.connected == true)
                #expect(fixture.serverLogs.messages(at: .warning).contains { $0.hasPrefix("venue:venue-a is stale") })
                try await client.send(.heartbeat(Heartbeat(sentAtMillis: 0, lastSequence: 0)))
                #expect(await eventually { status()?.stale == false })
            }
            #expect(consumer.statuses.contains { $0.venue == "venue-a" && $0.stale })
            #expect(await eventually { status()?.connected == false })
        }
    }
}
