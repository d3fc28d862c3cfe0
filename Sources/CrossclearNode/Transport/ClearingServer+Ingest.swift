import CrossclearStore
import CrossclearWire

extension ClearingServer {
    /// Why the rest of a ChangeBatch was not applied.
    private enum Refusal {
        /// A change ahead of the stream: resend from `expected`.
        case gap(expected: UInt64, received: UInt64)
        /// A change contradicting what was applied at `sequence`.
        case fork(sequence: UInt64, existingHash: ChainHash, received: Change)
        /// A change of an older epoch than the stream's.
        case staleEpoch(UInt64)
        /// A change of another epoch than the connection's.
        case wrongEpoch(UInt64)
    }

    /// Judges a batch with the venue's ``SequenceTracker``, journals the changes to apply through
    /// the group committer, hands them to the consumer, and only then acknowledges; a gap is
    /// answered with one ResyncRequest per gap, a fork with ResyncRequest(0) and Goodbye(fork).
    ///
    /// - Returns: whether the connection goes on.
    func ingest(_ changes: [Change], session: ClearingSession, requestedResend: inout UInt64?) async throws -> Bool {
        let venue = session.venue
        // Indices of the changes to apply (usually all of them: then the array goes on as it is).
        var accepted: [Int] = []
        accepted.reserveCapacity(changes.count)
        var refusal: Refusal?
        var next = 0
        judging: while next < changes.count {
            // Judge under one lock until a change is refused or lies beyond the tracker's memory
            // (which needs the journal, read outside the lock).
            var older: Int?
            withVenue(venue) { venueState in
                while next < changes.count, refusal == nil, older == nil {
                    let index = next
                    next += 1
                    let epoch = changes[index].epoch
                    guard epoch == session.epoch else {
                        refusal = epoch < session.epoch ? .staleEpoch(epoch) : .wrongEpoch(epoch)
                        return
                    }
                    switch venueState.tracker.accept(changes[index]) {
                    case .apply: accepted.append(index)
                    case .duplicate: continue
                    case .beyondHistory: older = index
                    case let verdict: refusal = Self.refusal(verdict, changes[index])
                    }
                }
            }
            if refusal != nil { break judging }
            if let older {
                switch try journaledVerdict(of: changes[older], venue: venue) {
                case .apply: accepted.append(older)
                case .duplicate, .beyondHistory: continue judging
                case let verdict:
                    refusal = Self.refusal(verdict, changes[older])
                    break judging
                }
            }
        }
        if !accepted.isEmpty {
            try await journalAndDeliver(accepted.count == changes.count ? changes : accepted.map { changes[$0] }, session: session)
            requestedResend = nil
        }
        let applied = withVenue(venue) { $0.tracker.lastSequence }
        try await session.outbound.write(.ack(Ack(epoch: session.epoch, upTo: applied)))

        let prefix = "venue:\(venue) epoch \(session.epoch)"
        switch refusal {
        case nil:
            return true
        case .gap(let expected, let received):
            guard requestedResend != expected else { return true }
            requestedResend = expected
            let reason = "gap: received sequence \(received), expected \(expected)"
            logger.warning("\(prefix): \(reason); asking for a resend from \(expected)")
            try await session.outbound.write(.resyncRequest(ResyncRequest(fromSequence: expected, reason: reason)))
            return true
        case .fork(let sequence, let existingHash, let received):
            let reason = "fork at sequence \(received.sequence): received hash \(received.hash) (previous \(received.previousHash)), applied \(existingHash) at \(sequence)"
            logger.warning("\(prefix): \(reason); asking for a restatement in a larger epoch")
            let detail = Goodbye.sanitizedDetail(reason)
            try await session.outbound.write(.resyncRequest(ResyncRequest(fromSequence: 0, reason: detail)))
            try await session.outbound.write(.goodbye(Goodbye(reason: .fork, detail: detail)))
            return false
        case .staleEpoch(let epoch), .wrongEpoch(let epoch):
            let reason = "a change of epoch \(epoch) on a connection of epoch \(session.epoch)"
            logger.warning("\(prefix): \(reason); closing")
            try await session.outbound.write(.goodbye(Goodbye(reason: .protocolError, detail: reason)))
            return false
        }
    }

    /// The refusal a gap, fork or stale-epoch verdict on `change` leads to.
    private static func refusal(_ verdict: ChangeVerdict, _ change: Change) -> Refusal? {
        switch verdict {
        case .apply, .duplicate, .beyondHistory: nil
        case .gap(let expected): .gap(expected: expected, received: change.sequence)
        case .fork(let sequence, let existingHash): .fork(sequence: sequence, existingHash: existingHash, received: change)
        case .staleEpoch: .staleEpoch(change.epoch)
        }
    }

    /// Commits `changes` to the venue's stream of the session's epoch, records the digest, and hands
    /// the newly journaled ones to the consumer. On any failure the tracker is reloaded from the
    /// journal (it had advanced before the commit) and the error is thrown.
    private func journalAndDeliver(_ changes: [Change], session: ClearingSession) async throws {
        let venue = session.venue
        let stream = TransportJournal.changeStream(venue: venue, epoch: session.epoch)
        var delivered: [Change]
        do {
            let entries = try TransportJournal.entries(for: changes, stream: stream)
            let outcomes = try await committer.append(entries)
            if let refused = outcomes.firstIndex(where: { !$0.isDurable }) {
                throw TransportError.journalDisagrees("\(stream) refused sequence \(changes[refused].sequence): \(outcomes[refused])")
            }
            // Usually every change was appended: hand the array over as it is.
            delivered = outcomes.allSatisfy { $0 == .appended } ? changes : zip(changes, outcomes).filter { $0.1 == .appended }.map(\.0)
        } catch {
            try reloadTracker(venue: venue, epoch: session.epoch)
            throw error
        }
        if let digest = Self.lastDigest(in: delivered) {
            withVenue(venue) { $0.lastDigest = digest }
        }
        // Changes a repair's snapshot already holds are journaled, never handed over again.
        if let repaired = withVenue(venue, { $0.repairedThrough }), repaired.epoch == session.epoch {
            delivered.removeAll { $0.sequence <= repaired.sequence }
        }
        if !delivered.isEmpty {
            await consumer.consume(venue: venue, epoch: session.epoch, changes: delivered)
        }
    }

    /// Judges a change older than the tracker's memory against the journal.
    private func journaledVerdict(of change: Change, venue: String) throws -> ChangeVerdict {
        let stream = TransportJournal.changeStream(venue: venue, epoch: change.epoch)
        let before = JournalPosition(epoch: Int64(change.epoch), sequence: Int64(change.sequence) - 1)
        guard let entry = try journal.entries(stream: stream, after: before, limit: 1).first,
            entry.sequence == Int64(change.sequence)
        else {
            return .fork(sequence: change.sequence, existingHash: .genesis)
        }
        let existing = try ChainHash(bytes: entry.hash)
        return existing == change.hash ? .duplicate : .fork(sequence: change.sequence, existingHash: existing)
    }

    /// Puts the venue's tracker back at the journaled head of `epoch`.
    private func reloadTracker(venue: String, epoch: UInt64) throws {
        let head = try journal.last(stream: TransportJournal.changeStream(venue: venue, epoch: epoch))
        let tracker =
            if let head {
                SequenceTracker(epoch: epoch, lastSequence: UInt64(head.sequence), lastHash: try ChainHash(bytes: head.hash))
            } else {
                SequenceTracker(epoch: epoch)
            }
        withVenue(venue) { $0.tracker = tracker }
    }
}
