import CrossclearStore
import CrossclearWire
import NIOCore

extension VenueLink {
    /// Reads the clearing node's frames until the connection closes; once welcomed, runs the
    /// change sender and heartbeats beside it. Returns whether the connection was welcomed.
    func converse(
        _ channel: any Channel, _ outbound: NIOAsyncChannelOutboundWriter<WireMessage>,
        _ messages: inout NIOAsyncChannelInboundStream<WireMessage>.AsyncIterator
    ) async throws -> Bool {
        try await withThrowingTaskGroup(of: Void.self) { group in
            defer { group.cancelAll() }
            group.addTask { await self.watchSilence(channel, outbound) }
            var welcomed = false
            while let message = try await messages.next() {
                state.withLock { $0.lastHeard = .now }
                switch message {
                case .welcome(let welcome):
                    guard !welcomed else {
                        logger.warning("venue:\(configuration.venue): a second Welcome; closing")
                        return welcomed
                    }
                    try check(welcome)
                    welcomed = true
                    let wakes = startSending(after: welcome.lastApplied)
                    logger.info(
                        "venue:\(configuration.venue) linked to the clearing node: epoch \(welcome.epoch), it applied up to \(welcome.lastApplied)")
                    group.addTask { await self.closingOnFailure(channel, "sending changes") { try await self.sendChanges(outbound, wakes) } }
                    group.addTask { await self.closingOnFailure(channel, "heartbeats") { try await self.sendHeartbeats(outbound) } }
                case .ack(let ack):
                    guard ack.epoch == configuration.epoch else { continue }
                    let wake = state.withLock { state in
                        state.acknowledged = max(state.acknowledged, ack.upTo)
                        state.retained.drop(through: state.acknowledged)
                        return state.senderWake
                    }
                    wake?.yield()
                case .instructionBatch(let batch):
                    try await apply(batch, outbound)
                case .resyncRequest(let request):
                    resend(from: request)
                case .snapshotRequest(let request):
                    if let answer = snapshotAnswer(to: request) {
                        group.addTask { await self.closingOnFailure(channel, "sending snapshot \(request.snapshotId)") { try await answer(outbound) } }
                    }
                case .heartbeat:
                    continue
                case .goodbye(let goodbye):
                    switch goodbye.reason {
                    case .unsupportedVersion, .unauthorized, .staleEpoch, .fork:
                        throw TransportError.refused(goodbye)
                    default:
                        logger.info("venue:\(configuration.venue): the clearing node closed the link: \(goodbye.reason) (\(goodbye.detail))")
                        return welcomed
                    }
                case .hello, .changeBatch, .instructionAck, .snapshotPart:
                    return welcomed  // the decoder (receiver: venue) never lets these through
                }
            }
            return welcomed
        }
    }

    /// Checks that the Welcome's head is a change this venue journaled; anything else is a fork.
    private func check(_ welcome: Welcome) throws {
        guard welcome.epoch == configuration.epoch else {
            throw TransportError.forked("Welcome for epoch \(welcome.epoch), Hello for \(configuration.epoch)")
        }
        guard welcome.lastApplied > 0 else { return }
        let before = JournalPosition(epoch: Int64(welcome.epoch), sequence: Int64(welcome.lastApplied) - 1)
        let entry = try journal.entries(stream: configuration.stream, after: before, limit: 1).first
        guard let entry, entry.epoch == Int64(welcome.epoch), entry.sequence == Int64(welcome.lastApplied),
            entry.hash == welcome.lastAppliedHash.bytes
        else {
            throw TransportError.forked(
                "the clearing node applied \(welcome.epoch):\(welcome.lastApplied) with hash \(welcome.lastAppliedHash), which this journal does not hold")
        }
    }

    /// Resets the send position to what the clearing node holds and returns the sender's wakes.
    private func startSending(after lastApplied: UInt64) -> AsyncStream<Void> {
        let (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        state.withLock { state in
            state.sent = lastApplied
            state.acknowledged = lastApplied
            state.retained.drop(through: lastApplied)
            state.senderWake = wake
            state.answeringSnapshot = false  // an answer of an earlier connection ended with it
        }
        wake.yield()
        return wakes
    }

    /// A gap: resend from the requested sequence. A fork (`fromSequence` 0) is logged; the
    /// Goodbye(fork) that follows ends the link.
    private func resend(from request: ResyncRequest) {
        guard request.fromSequence >= 1 else {
            logger.error("venue:\(configuration.venue): the clearing node reports a fork: \(request.reason)")
            return
        }
        logger.info("venue:\(configuration.venue): resending from \(request.fromSequence) (\(request.reason))")
        let wake = state.withLock { state in
            state.sent = min(state.sent, request.fromSequence - 1)
            return state.senderWake
        }
        wake?.yield()
    }

    /// Sends published changes (from memory or the journal), in frame-sized batches, while the
    /// window allows.
    private func sendChanges(_ outbound: NIOAsyncChannelOutboundWriter<WireMessage>, _ wakes: AsyncStream<Void>) async throws {
        for await _ in wakes {
            while let (from, changes) = try nextChanges() {
                for batch in ChangeBatch.split(changes, maximumFrameLength: wire.maximumFrameLength) {
                    try await outbound.write(.changeBatch(batch))
                }
                let last = changes[changes.count - 1].sequence
                // A ResyncRequest may have moved the position meanwhile; it wins.
                state.withLock { state in
                    if state.sent == from { state.sent = last }
                }
            }
        }
    }

    /// The next changes to send and the position they follow, or nil when nothing is published
    /// beyond it or the window is full. They come from the retained run when it holds the
    /// next one, otherwise from the journal (up to the first retained change).
    private func nextChanges() throws -> (UInt64, [Change])? {
        let next = state.withLock { state -> (from: UInt64, limit: UInt64, retained: [Change], firstRetained: UInt64?)? in
            let from = state.sent
            let inFlight = from > state.acknowledged ? from - state.acknowledged : 0
            let window = UInt64(configuration.maximumUnacknowledged)
            guard state.published > from, inFlight < window else { return nil }
            let limit = min(state.published - from, window - inFlight, 16_384)
            let retained = state.retained.elements(after: from, maximumCount: Int(limit))
            return (from, limit, retained, state.retained.sequences?.lowerBound)
        }
        guard let (from, limit, retained, firstRetained) = next else { return nil }
        if !retained.isEmpty { return (from, retained) }
        let unretained = firstRetained.map { $0 > from ? min(limit, $0 - from - 1) : limit } ?? limit
        let after = JournalPosition(epoch: Int64(configuration.epoch), sequence: Int64(from))
        let entries = try journal.entries(stream: configuration.stream, after: after, limit: Int(unretained))
        var changes: [Change] = []
        for entry in entries {
            guard entry.epoch == Int64(configuration.epoch), entry.sequence == Int64(from) + Int64(changes.count) + 1 else { break }
            changes.append(try TransportJournal.change(from: entry))
        }
        return changes.isEmpty ? nil : (from, changes)
    }

    /// Applies the batch (durable when the consumer returns), then acknowledges its ids.
    private func apply(_ batch: InstructionBatch, _ outbound: NIOAsyncChannelOutboundWriter<WireMessage>) async throws {
        try await instructions.apply(batch.instructions)
        try await outbound.write(.instructionAck(InstructionAck(ids: batch.instructions.map(\.id))))
    }

    private func sendHeartbeats(_ outbound: NIOAsyncChannelOutboundWriter<WireMessage>) async throws {
        while true {
            try await Task.sleep(for: configuration.heartbeatInterval)
            let sent = state.withLock { $0.sent }
            try await outbound.write(WirePipeline.heartbeat(lastSequence: sent))
        }
    }

    /// Closes the connection when the clearing node has been silent for longer than stale-after.
    private func watchSilence(_ channel: any Channel, _ outbound: NIOAsyncChannelOutboundWriter<WireMessage>) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.heartbeatInterval)
            let silence = ContinuousClock.now - state.withLock { $0.lastHeard }
            guard silence > configuration.staleAfter, !Task.isCancelled else { continue }
            logger.warning(
                "venue:\(configuration.venue): the clearing node has been silent for \(silence); closing the link to reconnect")
            let goodbye = Goodbye(reason: .heartbeatTimeout, detail: "nothing received for \(silence)")
            try? await outbound.write(.goodbye(goodbye))
            channel.close(promise: nil)
            return
        }
    }

    /// Runs `body`; if it fails while the connection is open, logs why and closes the connection.
    private func closingOnFailure(_ channel: any Channel, _ what: String, _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch {
            guard !Task.isCancelled, channel.isActive else { return }
            logger.error("venue:\(configuration.venue): \(what) failed, closing the link: \(error)")
            channel.close(promise: nil)
        }
    }
}
