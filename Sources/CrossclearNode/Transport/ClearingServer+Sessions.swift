import CrossclearStore
import CrossclearWire
import NIOCore

extension ClearingServer {
    // MARK: - Connections

    /// Serves one accepted connection until it closes: the handshake (protocol.md section 6), then
    /// changes, instruction acknowledgements and heartbeats.
    func serve(_ connection: WirePipeline.Connection, identity: EventLoopFuture<NodeIdentity>) async {
        let peer = WirePipeline.peer(of: connection.channel)
        do {
            try await connection.executeThenClose { inbound, outbound in
                let node = try await WirePipeline.authenticatedPeer(identity, of: connection.channel)
                guard case .venue(let venue) = node.role, state.withLock({ $0.venues[venue] != nil }) else { return }
                var messages = inbound.makeAsyncIterator()
                guard let first = try await messages.next() else { return }
                guard case .hello(let hello) = first else {
                    logger.warning("venue:\(venue) at \(peer) sent \(first.type) before its Hello; closing")
                    try await outbound.write(.goodbye(Goodbye(reason: .handshakeRequired, detail: "the first frame must be a Hello")))
                    return
                }
                guard hello.venue == venue else {
                    logger.warning("refused venue:\(venue) at \(peer): its certificate names venue \(venue) but its Hello names venue \(hello.venue)")
                    let detail = "the certificate names venue \(venue), the Hello names \(hello.venue)"
                    try await outbound.write(.goodbye(Goodbye(reason: .unauthorized, detail: Goodbye.sanitizedDetail(detail))))
                    return
                }
                let session = ClearingSession(venue: venue, epoch: hello.epoch, connection: connection, outbound: outbound)
                await supersede(with: session)
                await closingOnFailure(session, "the session") {
                    if try await admit(hello, session: session) { try await converse(session, messages: &messages) }
                }
                await retire(session)
            }
        } catch {
            logger.debug("connection from \(peer) ended: \(error)")
        }
    }

    /// Makes `session` its venue's current one; closes the previous one with Goodbye(superseded)
    /// and waits until it has stopped.
    private func supersede(with session: ClearingSession) async {
        let previous = withVenue(session.venue) { venue in
            defer { venue.session = session }
            return venue.session
        }
        guard let previous else { return }
        logger.info("venue:\(session.venue): the connection from \(session.peer) supersedes the one from \(previous.peer)")
        let goodbye = Goodbye(reason: .superseded, detail: "a newer connection of this venue completed its handshake")
        try? await previous.outbound.write(.goodbye(goodbye))
        previous.channel.close(promise: nil)
        try? await previous.finished.futureResult.get()
    }

    /// Ends `session`; if it is still its venue's current one, the venue is disconnected.
    private func retire(_ session: ClearingSession) async {
        let status: VenueLinkStatus? = withVenue(session.venue) { venue in
            guard venue.session === session else { return nil }
            venue.session = nil
            return Self.status(session.venue, venue)
        }
        session.end()
        if let status {
            logger.info("venue:\(session.venue) disconnected (\(session.peer))")
            await consumer.linkStatusChanged(status)
        }
    }

    /// Checks the Hello's epoch and stream head against what was applied, and answers with a
    /// Welcome or a refusal. Returns whether the session may go on.
    private func admit(_ hello: Hello, session: ClearingSession) async throws -> Bool {
        let venue = session.venue
        let tracker = withVenue(venue) { $0.tracker }
        let prefix = "venue:\(venue) at \(session.peer), epoch \(hello.epoch)"
        if hello.epoch < tracker.epoch {
            logger.warning("\(prefix): refused, epoch \(tracker.epoch) was already accepted (a fenced writer)")
            let detail = "epoch \(hello.epoch) is below the accepted epoch \(tracker.epoch)"
            try await session.outbound.write(.goodbye(Goodbye(reason: .staleEpoch, detail: detail)))
            return false
        }
        if hello.epoch == tracker.epoch
            && (hello.lastSequence < tracker.lastSequence
                || (hello.lastSequence == tracker.lastSequence && hello.lastHash != tracker.lastHash))
        {
            let reason = "the venue's head \(hello.lastSequence) is behind or differs from the applied \(tracker.lastSequence)"
            logger.warning("\(prefix): fork at sequence \(hello.lastSequence): \(reason); asking for a restatement in a larger epoch")
            try await session.outbound.write(.resyncRequest(ResyncRequest(fromSequence: 0, reason: reason)))
            try await session.outbound.write(.goodbye(Goodbye(reason: .fork, detail: reason)))
            return false
        }
        if hello.epoch > tracker.epoch {
            let cursor = TransportJournal.epochCursor(venue: venue)
            try await journal.transaction { try $0.setCursor(cursor, Int64(hello.epoch)) }
            withVenue(venue) { _ = $0.tracker.startEpoch(hello.epoch) }
            logger.info("venue:\(venue) starts epoch \(hello.epoch) (was \(tracker.epoch))")
        }
        try await markDelivered(upTo: hello.lastInstructionAcknowledged, venue: venue)
        let head = withVenue(venue) { $0.tracker }
        try await session.outbound.write(
            .welcome(Welcome(epoch: hello.epoch, lastApplied: head.lastSequence, lastAppliedHash: head.lastHash)))
        logger.info("venue:\(venue) connected from \(session.peer): epoch \(hello.epoch), applied up to \(head.lastSequence)")
        await heard(from: venue)
        let status = withVenue(venue) { Self.status(venue, $0) }
        await consumer.linkStatusChanged(status)
        session.wakeOutbox()
        await renewSnapshotRequest(on: session)
        return true
    }

    /// Reads the session's frames until it closes, with heartbeats and the outbox pump running
    /// beside it.
    private func converse(_ session: ClearingSession, messages: inout NIOAsyncChannelInboundStream<WireMessage>.AsyncIterator) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            defer { group.cancelAll() }
            group.addTask { await self.closingOnFailure(session, "instruction outbox") { try await self.pumpOutbox(session) } }
            group.addTask { await self.closingOnFailure(session, "heartbeats") { try await self.sendHeartbeats(session) } }
            var requestedResend: UInt64?
            var snapshots = SnapshotAssembler(maximumBytes: configuration.maximumSnapshotBytes)
            while let message = try await messages.next() {
                await heard(from: session.venue)
                switch message {
                case .changeBatch(let batch):
                    guard try await ingest(batch.changes, session: session, requestedResend: &requestedResend) else { return }
                case .snapshotPart(let part):
                    try await receive(part, session: session, assembler: &snapshots)
                case .instructionAck(let ack):
                    try await markDelivered(ack.ids, venue: session.venue)
                case .heartbeat:
                    continue
                case .goodbye(let goodbye):
                    logger.info("venue:\(session.venue) closed its connection: \(goodbye.reason) (\(goodbye.detail))")
                    return
                case .hello, .welcome, .ack, .instructionBatch, .resyncRequest, .snapshotRequest:
                    logger.warning("venue:\(session.venue) at \(session.peer) sent \(message.type) after its handshake; closing")
                    let goodbye = Goodbye(reason: .handshakeRequired, detail: "unexpected \(message.type) after the handshake")
                    try await session.outbound.write(.goodbye(goodbye))
                    return
                }
            }
        }
    }

    /// Runs `body`; if it fails while the connection is open, logs why and closes the connection.
    private func closingOnFailure(_ session: ClearingSession, _ what: String, _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch {
            guard !Task.isCancelled, session.channel.isActive else { return }
            logger.error("venue:\(session.venue): \(what) failed, closing the connection: \(error)")
            let goodbye = Goodbye(reason: .internalError, detail: Goodbye.sanitizedDetail("\(what) failed"))
            try? await session.outbound.write(.goodbye(goodbye))
            session.channel.close(promise: nil)
        }
    }

    private func sendHeartbeats(_ session: ClearingSession) async throws {
        while true {
            try await Task.sleep(for: configuration.heartbeatInterval)
            let applied = withVenue(session.venue) { $0.tracker.lastSequence }
            try await session.outbound.write(WirePipeline.heartbeat(lastSequence: applied))
        }
    }

    /// Runs `body` on the venue's state. Sessions exist only for configured venues.
    @discardableResult
    func withVenue<T: Sendable>(_ venue: String, _ body: (inout VenueState) -> T) -> T {
        state.withLock { state in
            precondition(state.venues[venue] != nil, "venue \(venue) is not configured")
            // In place: a copy would duplicate the tracker's hash history on every change.
            return body(&state.venues[venue]!)
        }
    }
}
