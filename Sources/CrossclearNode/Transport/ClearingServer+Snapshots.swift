import CrossclearStore
import CrossclearWire

extension ClearingServer {
    // MARK: - Anti-entropy repair

    /// Asks `venue`'s current connection for a snapshot of its published book (anti-entropy
    /// repair; the answer goes to ``ChangeConsumer/restore(venue:snapshot:followedBy:)``).
    ///
    /// At most one request per venue is outstanding: none is sent while the current connection has
    /// one that was answered by nothing for less than ``Configuration/snapshotRetryAfter`` (a part
    /// arriving counts as an answer), nor when the venue is not connected. A request whose
    /// connection ended unanswered is sent again on the venue's next connection.
    ///
    /// - Returns: whether a request was sent.
    @discardableResult
    public func requestSnapshot(of venue: String, reason: String) async -> Bool {
        let now = ContinuousClock.now
        let retryAfter = configuration.snapshotRetryAfter
        let request: (session: ClearingSession, id: UInt64)? = state.withLock { state in
            guard let session = state.venues[venue]?.session else { return nil }
            if let outstanding = state.venues[venue]?.snapshotRequest, outstanding.session === session,
                now - outstanding.lastProgress < retryAfter
            {
                return nil
            }
            state.lastSnapshotId += 1
            let id = state.lastSnapshotId
            state.venues[venue]?.snapshotRequest = SnapshotRequestState(id: id, session: session, lastProgress: now, reason: reason)
            return (session, id)
        }
        guard let request else { return false }
        let text = Goodbye.sanitizedDetail(reason)
        do {
            try await request.session.outbound.write(.snapshotRequest(SnapshotRequest(snapshotId: request.id, reason: text)))
        } catch {
            // The connection is going; the request stays, to be sent again on the next one.
            logger.info("venue:\(venue): snapshot request \(request.id) not sent (asking again on the next connection): \(error)")
            return false
        }
        logger.notice("venue:\(venue) epoch \(request.session.epoch): snapshot \(request.id) requested: \(text)")
        return true
    }

    /// After a (re)connection: a request left unanswered by the venue's previous connection is
    /// sent again on this one (the view it was about is still unrepaired).
    func renewSnapshotRequest(on session: ClearingSession) async {
        let reason: String? = withVenue(session.venue) { venueState in
            guard let earlier = venueState.snapshotRequest, earlier.session !== session else { return nil }
            return earlier.reason
        }
        guard let reason else { return }
        await requestSnapshot(of: session.venue, reason: reason)
    }

    /// Takes one part of a snapshot answer on `session` (called by the session's reader, in frame
    /// order with its change batches). A whole, valid snapshot is installed; anything else is
    /// refused with a warning and changes nothing (the connection stays open).
    func receive(_ part: SnapshotPart, session: ClearingSession, assembler: inout SnapshotAssembler) async throws {
        let venue = session.venue
        let expected = withVenue(venue) { venueState in
            venueState.snapshotRequest.flatMap { $0.session === session ? $0.id : nil }
        }
        switch assembler.accept(part, expected: expected, epoch: session.epoch) {
        case .ignored:
            return
        case .incomplete:
            withVenue(venue) { venueState in
                if venueState.snapshotRequest?.id == part.snapshotId { venueState.snapshotRequest?.lastProgress = .now }
            }
        case .refused(let id, let reason):
            withVenue(venue) { if $0.snapshotRequest?.id == id { $0.snapshotRequest = nil } }
            logger.warning("venue:\(venue) epoch \(session.epoch): snapshot \(id) refused: \(reason)")
        case .complete(let snapshot, let parts):
            withVenue(venue) { if $0.snapshotRequest?.id == part.snapshotId { $0.snapshotRequest = nil } }
            try await install(snapshot, id: part.snapshotId, parts: parts, session: session)
        }
    }

    /// Hands a verified snapshot to the consumer with the journaled changes after it that were
    /// already delivered, and stops delivering the ones it holds that were not.
    ///
    /// Ordering: only the session's reader hands this venue's changes to the consumer, and it is
    /// here, between two frames. Every change it accepted was journaled and delivered before it read
    /// the next frame, so the consumer holds exactly the changes up to the tracker's head `applied`
    /// (less those an earlier repair held back, which the new snapshot supersedes). If the snapshot
    /// is behind (`throughSequence` < `applied`), the changes in between are read back from the
    /// journal and re-applied on top of it; if it is ahead, the changes up to `throughSequence` that
    /// arrive later, on this connection or a later one of the epoch, are journaled and acknowledged
    /// but not delivered (``VenueState/repairedThrough``).
    private func install(_ snapshot: BookSnapshot, id: UInt64, parts: Int, session: ClearingSession) async throws {
        let venue = session.venue
        let through = snapshot.throughSequence
        let applied = withVenue(venue) { $0.tracker.lastSequence }
        var following: [Change] = []
        if through < applied {
            let stream = TransportJournal.changeStream(venue: venue, epoch: session.epoch)
            var after = JournalPosition(epoch: Int64(session.epoch), sequence: Int64(through))
            reading: while true {
                let entries = try journal.entries(stream: stream, after: after, limit: 8_192)
                guard let last = entries.last else { break }
                for entry in entries {
                    guard entry.sequence <= Int64(applied) else { break reading }
                    following.append(try TransportJournal.change(from: entry))
                }
                after = last.position
            }
            guard following.count == Int(applied - through), following.first?.sequence == through + 1 else {
                throw TransportError.journalDisagrees(
                    "\(stream) does not hold \(through + 1)...\(applied) for snapshot \(id) (read \(following.count) changes)")
            }
        }
        withVenue(venue) { $0.repairedThrough = (session.epoch, through) }
        let accounts = snapshot.book.accounts.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
        logger.notice(
            "venue:\(venue) epoch \(session.epoch): snapshot \(id) accepted at \(through) (\(parts) parts, \(accounts) accounts, digest \(hexDigest(snapshot.book.digest()))); applied here \(applied), \(following.count) journaled changes re-applied on top")
        await consumer.restore(venue: venue, snapshot: snapshot, followedBy: following)
    }
}
