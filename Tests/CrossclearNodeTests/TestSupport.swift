import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import CrossclearNode

// MARK: - Temporary directories and event loop groups

/// Runs `body` with a fresh temporary directory, removed afterwards whatever happens.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("crossclear-node-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    do {
        let result = try await body(path)
        try? FileManager.default.removeItem(atPath: path)
        return result
    } catch {
        try? FileManager.default.removeItem(atPath: path)
        throw error
    }
}

/// Runs `body` with a one-thread event loop group, shut down afterwards whatever happens.
func withEventLoopGroup<T>(_ body: (MultiThreadedEventLoopGroup) async throws -> T) async throws -> T {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    do {
        let result = try await body(group)
        try await group.shutdownGracefully()
        return result
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
}

/// Polls `condition` every 10 ms for up to `seconds`; returns whether it became true.
func eventually(seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

// MARK: - Log capture

/// Collects log lines (`LEVEL message`) from loggers made by ``logger(label:)``.
final class LogCapture: Sendable {
    private let storage = Mutex<[(level: Logger.Level, message: String)]>([])

    var messages: [String] { storage.withLock { $0.map(\.message) } }

    func messages(at level: Logger.Level) -> [String] {
        storage.withLock { $0.filter { $0.level == level }.map(\.message) }
    }

    func append(level: Logger.Level, message: String) {
        storage.withLock { $0.append((level, message)) }
    }

    func logger(label: String = "crossclear.node.test") -> Logger {
        Logger(label: label) { _ in CapturingLogHandler(capture: self) }
    }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        capture.append(level: event.level, message: event.message.description)
    }
}

// MARK: - A cluster's worth of credentials

/// A CA in memory and credentials for the usual nodes.
struct TestCluster {
    let ca: CertificateAuthority

    init() throws {
        ca = try CertificateAuthority.generate()
    }

    func credentials(_ node: NodeIdentity, hosts: [String] = ["127.0.0.1", "localhost"]) throws -> NodeCredentials {
        try ca.issue(node: node, hosts: hosts)
    }

    func tls(_ node: NodeIdentity, hosts: [String] = ["127.0.0.1", "localhost"]) throws -> MutualTLS {
        try MutualTLS(credentials: credentials(node, hosts: hosts))
    }
}

extension NodeIdentity {
    /// A venue identity for tests (the names used are valid).
    static func testVenue(_ name: String) -> NodeIdentity {
        do {
            return try .venue(name)
        } catch {
            Issue.record("invalid test venue name \(name): \(error)")
            return .clearing
        }
    }
}

// MARK: - Servers and clients over real sockets

/// Nodes a server saw authenticated, in order.
final class NodeRecorder: Sendable {
    private let storage = Mutex<[NodeIdentity]>([])
    var nodes: [NodeIdentity] { storage.withLock { $0 } }
    func append(_ node: NodeIdentity) { storage.withLock { $0.append(node) } }
}

/// Server application handler: records the authenticated node, answers each read with `echo:` + data.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let recorder: NodeRecorder

    init(recorder: NodeRecorder) {
        self.recorder = recorder
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let authenticated = event as? PeerAuthenticated {
            recorder.append(authenticated.node)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let text = buffer.readString(length: buffer.readableBytes) ?? ""
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "echo:" + text)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

struct TestServer {
    let channel: any Channel
    let port: Int
    let nodes: NodeRecorder
}

func startServer(
    group: any EventLoopGroup, tls: MutualTLS, accepting authorization: PeerAuthorization, logger: Logger
) async throws -> TestServer {
    let recorder = NodeRecorder()
    let channel = try await ServerBootstrap(group: group)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try tls.addServerHandlers(
                    to: channel.pipeline.syncOperations, accepting: authorization, logger: logger)
                try channel.pipeline.syncOperations.addHandler(EchoHandler(recorder: recorder))
            }
        }
        .bind(host: "127.0.0.1", port: 0)
        .get()
    let port = try #require(channel.localAddress?.port)
    return TestServer(channel: channel, port: port, nodes: recorder)
}

/// What a dialing client saw.
struct ClientOutcome: Sendable {
    /// The node the client authenticated, if it did.
    var authenticated: NodeIdentity?
    /// The full reply, when it arrived.
    var reply: String?
    /// Errors that reached the application handler.
    var errors: [String] = []
    /// ``PeerRejection``s among them.
    var rejections: [PeerRejection] = []
    /// The client's local port (the port the server logs).
    var localPort: Int?
}

/// Client application handler: on ``PeerAuthenticated`` sends `message`; finishes when `echo:` + message
/// has arrived or the channel closes.
final class ClientProbe: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let message: String
    private let finished: EventLoopPromise<ClientOutcome>
    private var outcome = ClientOutcome()
    private var received = ""
    private var done = false

    init(message: String, finished: EventLoopPromise<ClientOutcome>) {
        self.message = message
        self.finished = finished
    }

    func channelActive(context: ChannelHandlerContext) {
        outcome.localPort = context.channel.localAddress?.port
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        outcome.localPort = context.channel.localAddress?.port
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let authenticated = event as? PeerAuthenticated {
            outcome.authenticated = authenticated.node
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: message)), promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readString(length: buffer.readableBytes) ?? ""
        if received == "echo:" + message {
            outcome.reply = received
            finish()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        outcome.errors.append(String(describing: error))
        if let rejection = error as? PeerRejection {
            outcome.rejections.append(rejection)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    private func finish() {
        guard !done else { return }
        done = true
        finished.succeed(outcome)
    }
}

/// Dials `host:port` with `tls`, sends `message` once the server is authenticated, and returns what
/// happened (the channel is closed afterwards).
func dial(
    group: any EventLoopGroup,
    tls: MutualTLS,
    host: String = "127.0.0.1",
    port: Int,
    accepting authorization: PeerAuthorization = .clearingNode,
    logger: Logger,
    message: String = "ping"
) async throws -> ClientOutcome {
    let loop = group.next()
    let finished = loop.makePromise(of: ClientOutcome.self)
    let channel: any Channel
    do {
        channel = try await ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try tls.addClientHandlers(
                        to: channel.pipeline.syncOperations, dialing: host, accepting: authorization, logger: logger)
                    try channel.pipeline.syncOperations.addHandler(ClientProbe(message: message, finished: finished))
                }
            }
            .connect(host: host, port: port)
            .get()
    } catch {
        finished.fail(error)
        throw error
    }
    let outcome = try await finished.futureResult.get()
    try? await channel.close()
    return outcome
}
