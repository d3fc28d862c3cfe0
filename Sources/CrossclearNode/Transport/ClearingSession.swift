import CrossclearWire
import NIOCore

/// One venue connection on the clearing node, from the moment its Hello names the right venue.
///
/// At most one session per venue is current (``ClearingServer/VenueState/session``); a newer one
/// closes the older and waits for ``finished`` before it reads the venue's stream state, so two
/// connections never ingest the same venue's stream at once.
final class ClearingSession: Sendable {
    /// The venue at the other end.
    let venue: String
    /// The epoch of the connection (the Hello's).
    let epoch: UInt64
    /// The peer's address, for log lines.
    let peer: String
    /// The connection's channel (closed to supersede the session).
    let channel: any Channel
    /// Where the session's frames go; shared by its reader, heartbeats and outbox pump.
    let outbound: NIOAsyncChannelOutboundWriter<WireMessage>
    /// One element each time new instructions may be waiting in the outbox.
    let outboxWakes: AsyncStream<Void>
    /// Succeeded when the session has stopped ingesting and sending.
    let finished: EventLoopPromise<Void>
    private let outboxContinuation: AsyncStream<Void>.Continuation

    init(venue: String, epoch: UInt64, connection: WirePipeline.Connection, outbound: NIOAsyncChannelOutboundWriter<WireMessage>) {
        self.venue = venue
        self.epoch = epoch
        self.peer = WirePipeline.peer(of: connection.channel)
        self.channel = connection.channel
        self.outbound = outbound
        let (wakes, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.outboxWakes = wakes
        self.outboxContinuation = continuation
        self.finished = connection.channel.eventLoop.makePromise()
    }

    /// Asks the outbox pump to look for instructions to send.
    func wakeOutbox() { outboxContinuation.yield() }

    /// Marks the session over: the pump stops and a superseding session may proceed.
    func end() {
        outboxContinuation.finish()
        finished.succeed(())
    }
}
