import CrossclearStore
import CrossclearWire

extension ClearingServer {
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
    /// or none was recorded. How both legs of a cross-venue collateral move stay together. Returns
    /// the ids per batch, in order.
    public func send(_ batches: [(venue: String, bodies: [InstructionBody])], cursors: [String: Int64] = [:]) async throws -> [[UInt64]] {
        for batch in batches where state.withLock({ $0.venues[batch.venue] == nil }) { throw TransportError.unknownVenue(batch.venue) }
        guard batches.contains(where: { !$0.bodies.isEmpty }) || !cursors.isEmpty else { return batches.map { _ in [] } }
        let ids = try await journal.transaction { transaction in
            var result: [[UInt64]] = []
            for (venue, bodies) in batches {
                let cursor = TransportJournal.instructionIDCursor(venue: venue)
                let last = UInt64(try transaction.cursor(cursor) ?? 0)
                var ids: [UInt64] = []
                for (offset, body) in bodies.enumerated() {
                    let id = last + 1 + UInt64(offset)
                    let payload = try TransportJournal.payload(of: Instruction(id: id, body: body))
                    _ = try transaction.enqueue(
                        id: TransportJournal.outboxID(venue: venue, instruction: id), destination: venue, payload: payload)
                    ids.append(id)
                }
                if !bodies.isEmpty { try transaction.setCursor(cursor, Int64(last) + Int64(bodies.count)) }
                result.append(ids)
            }
            for name in cursors.keys.sorted() { try transaction.setCursor(name, cursors[name, default: 0]) }
            return result
        }
        for (batch, batchIDs) in zip(batches, ids) where !batchIDs.isEmpty {
            let session = state.withLock { state in
                state.venues[batch.venue]?.pendingInstructions.formUnion(batchIDs)
                return state.venues[batch.venue]?.session
            }
            session?.wakeOutbox()
        }
        return ids
    }

    /// Marks the given instruction ids of `venue` delivered (those still pending), in one transaction.
    func markDelivered(_ ids: [UInt64], venue: String) async throws {
        let pending = state.withLock { $0.venues[venue]?.pendingInstructions ?? [] }
        let delivered = ids.filter(pending.contains)
        guard !delivered.isEmpty else { return }
        try await journal.transaction { transaction in
            for id in delivered {
                _ = try transaction.markDelivered(id: TransportJournal.outboxID(venue: venue, instruction: id))
            }
        }
        state.withLock { _ = $0.venues[venue]?.pendingInstructions.subtract(delivered) }
    }

    /// Marks delivered every pending instruction of `venue` with an id up to `watermark` (the
    /// Hello's `lastInstructionAcknowledged`).
    func markDelivered(upTo watermark: UInt64, venue: String) async throws {
        let covered = state.withLock { state in
            (state.venues[venue]?.pendingInstructions ?? []).filter { $0 <= watermark }.sorted()
        }
        try await markDelivered(covered, venue: venue)
    }

    /// Sends the venue's pending instructions each time the session's outbox is woken, in id
    /// order, each id once per connection (the first wake sends everything pending).
    ///
    /// Only ids already in the venue's in-memory pending set go out, and only as an unbroken run
    /// from the oldest: `send` commits ids to the journal before it adds them to that set, and an id
    /// sent (and acknowledged) in between would never be marked delivered.
    func pumpOutbox(_ session: ClearingSession) async throws {
        var lastSent: UInt64 = 0
        for await _ in session.outboxWakes {
            let known = state.withLock { $0.venues[session.venue]?.pendingInstructions ?? [] }
            let pending = try journal.pending(destination: session.venue)
            let ordered = try pending.map { item throws(TransportError) in try TransportJournal.instruction(from: item) }
                .sorted { $0.id < $1.id }
            let instructions = ordered.prefix { known.contains($0.id) }.filter { $0.id > lastSent }
            guard let last = instructions.last else { continue }
            for batch in InstructionBatch.split(Array(instructions), maximumFrameLength: wire.maximumFrameLength) {
                try await session.outbound.write(.instructionBatch(batch))
            }
            lastSent = last.id
        }
    }
}
