import CrossclearStore
import CrossclearWire

extension ClearingServer {
    /// The most unacknowledged instructions kept in memory per venue (a disconnected venue's
    /// backlog beyond this is read back from the journal).
    static let retainedInstructions = 262_144

    /// Durably assigns the next ids of `venue` to `bodies` (consecutive, from 1 per venue, never
    /// reused), puts them in the journal outbox, and returns the ids once committed. They are sent
    /// at once when the venue is connected, and after every reconnect until acknowledged.
    ///
    /// - Throws: ``TransportError/unknownVenue(_:)``; a `WireError` for a body the protocol rejects
    ///   (nothing is journaled then); a `StoreError` if the journal fails.
    public func send(_ bodies: [InstructionBody], to venue: String) async throws -> [UInt64] {
        try await send([(venue, bodies)])[0]
    }

    /// Sends instructions to several venues, journaled in **one** transaction together with
    /// `cursors` (the caller's own counters): either every venue's instructions will be delivered
    /// or none was recorded. How both legs of a cross-venue collateral move stay together. Each
    /// venue's instructions of the call are one outbox run (one row). Returns the ids per batch,
    /// in order.
    public func send(_ batches: [(venue: String, bodies: [InstructionBody])], cursors: [String: Int64] = [:]) async throws -> [[UInt64]] {
        for batch in batches where state.withLock({ $0.venues[batch.venue] == nil }) { throw TransportError.unknownVenue(batch.venue) }
        guard batches.contains(where: { !$0.bodies.isEmpty }) || !cursors.isEmpty else { return batches.map { _ in [] } }
        let (ids, enqueued) = try await journal.transaction { transaction -> ([[UInt64]], [String: [Instruction]]) in
            var instructions: [String: [Instruction]] = [:]
            var ids: [[UInt64]] = []
            for (venue, bodies) in batches {
                // Taken out of the dictionary while it grows: one lookup per batch, not per body.
                var run = instructions.removeValue(forKey: venue) ?? []
                let first = try run.last.map { $0.id + 1 } ?? transaction.outboxProgress(destination: venue).enqueued + 1
                run.reserveCapacity(run.count + bodies.count)
                for (offset, body) in bodies.enumerated() { run.append(Instruction(id: first + UInt64(offset), body: body)) }
                ids.append(Array(first..<(first + UInt64(bodies.count))))
                if !run.isEmpty { instructions[venue] = run }
            }
            for venue in instructions.keys.sorted() {
                try transaction.enqueue(try TransportJournal.run(of: instructions[venue] ?? [], venue: venue))
            }
            for name in cursors.keys.sorted() { try transaction.setCursor(name, cursors[name, default: 0]) }
            return (ids, instructions)
        }
        for (venue, run) in enqueued {
            guard let last = run.last?.id else { continue }
            let session = withVenue(venue) { state in
                state.outbox.enqueued = max(state.outbox.enqueued, last)
                state.retained.append(run)
                return state.session
            }
            session?.wakeOutbox()
        }
        return ids
    }

    /// Moves the venue's delivered watermark over the acknowledged `ids` (ascending) that continue
    /// it. The venue applies and acknowledges instructions in id order, so an id past a gap is
    /// left for the resend after the next reconnect (the venue deduplicates by id).
    func markDelivered(_ ids: [UInt64], venue: String) async throws {
        var through = withVenue(venue) { $0.outbox.delivered }
        for id in ids where id > through {
            guard id == through + 1 else { break }
            through = id
        }
        try await markDelivered(upTo: through, venue: venue)
    }

    /// Durably marks delivered every instruction of `venue` with an id up to `watermark` (at most
    /// the last journaled; from an acknowledgement, or the Hello's `lastInstructionAcknowledged`).
    func markDelivered(upTo watermark: UInt64, venue: String) async throws {
        let progress = withVenue(venue) { $0.outbox }
        let through = min(watermark, progress.enqueued)
        guard through > progress.delivered else { return }
        try await journal.transaction { _ = try $0.markDelivered(destination: venue, through: through) }
        withVenue(venue) { state in
            state.outbox.delivered = max(state.outbox.delivered, through)
            state.retained.drop(through: through)
        }
    }

    /// Sends the venue's pending instructions each time the session's outbox is woken, in id
    /// order, each once per connection (the first wake sends everything pending). They come from
    /// the retained instructions when those hold the next one, otherwise from the journal's runs.
    ///
    /// Only instructions already known to the venue's state go out: `send` commits a run to the
    /// journal before it records its last id there, and a run sent (and acknowledged) in between
    /// would never be marked delivered.
    func pumpOutbox(_ session: ClearingSession) async throws {
        var lastSent: UInt64 = 0
        for await _ in session.outboxWakes {
            let (known, retained) = withVenue(session.venue) { state in
                (state.outbox.enqueued, state.retained.elements(after: lastSent, maximumCount: Int.max))
            }
            guard known > lastSent else { continue }
            if let last = retained.last {
                try await write(retained, to: session)
                lastSent = last.id
            }
            guard lastSent < known else { continue }
            for run in try journal.pendingRuns(destination: session.venue) where run.last > lastSent {
                guard run.last <= known else { break }
                try await write(try TransportJournal.instructions(in: run), to: session)
                lastSent = run.last
            }
        }
    }

    /// Writes `instructions` to the session in as few frames as the frame limit allows.
    private func write(_ instructions: [Instruction], to session: ClearingSession) async throws {
        for batch in InstructionBatch.split(instructions, maximumFrameLength: wire.maximumFrameLength) {
            try await session.outbound.write(.instructionBatch(batch))
        }
    }
}
