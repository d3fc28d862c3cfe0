import CrossclearWire
import NIOCore

extension VenueLink {
    /// The answer to a snapshot request: a job sending the published book at its current head as
    /// ``SnapshotPart`` frames, or nil (logged) when the venue has no book to give or is already
    /// answering a request on this connection (the clearing node asks again later).
    func snapshotAnswer(
        to request: SnapshotRequest
    ) -> (@Sendable (NIOAsyncChannelOutboundWriter<WireMessage>) async throws -> Void)? {
        let venue = configuration.venue
        guard let publishedBook else {
            logger.warning("venue:\(venue): snapshot \(request.snapshotId) requested (\(request.reason)), but this link has no published book to send")
            return nil
        }
        let busy = state.withLock { state in
            defer { state.answeringSnapshot = true }
            return state.answeringSnapshot
        }
        guard !busy else {
            logger.info("venue:\(venue): snapshot \(request.snapshotId) requested while another is being sent; ignored")
            return nil
        }
        let epoch = configuration.epoch
        let maximumFrameLength = wire.maximumFrameLength
        return { outbound in
            defer { self.state.withLock { $0.answeringSnapshot = false } }
            // The book and the sequence come from one look under the venue's lock: the book holds
            // exactly the changes up to `throughSequence`.
            let (book, through) = publishedBook()
            let snapshot = BookSnapshot(epoch: epoch, throughSequence: through, book: book)
            let parts = snapshot.parts(snapshotId: request.snapshotId, maximumFrameLength: maximumFrameLength)
            self.logger.info(
                "venue:\(venue): sending snapshot \(request.snapshotId) of the book at \(epoch):\(through) in \(parts.count) parts (\(request.reason))")
            for part in parts { try await outbound.write(.snapshotPart(part)) }
        }
    }
}
