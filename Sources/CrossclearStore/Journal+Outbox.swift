import Foundation
import GRDB

/// An instruction waiting in the outbox.
public struct OutboxItem: Sendable, Hashable {
    /// The idempotency id, chosen by the caller and sent with the instruction.
    public var id: String
    /// Where it goes (a node id).
    public var destination: String
    /// The encoded instruction.
    public var payload: [UInt8]

    /// Creates an item.
    public init(id: String, destination: String, payload: [UInt8]) {
        self.id = id
        self.destination = destination
        self.payload = payload
    }
}

/// What `enqueue` did.
public enum EnqueueOutcome: Sendable, Hashable {
    /// The instruction was recorded.
    case enqueued
    /// An instruction with this id, destination and payload was already recorded: no-op.
    case duplicate
    /// An instruction with this id but another destination or payload was already recorded: no-op
    /// (the first one stands), reported because it is a caller bug.
    case conflict
}

extension Journal {
    /// Durably records an instruction to deliver exactly once, before it is sent.
    ///
    /// The protocol: enqueue (persisted), send with `id`, and when the destination acknowledges,
    /// `markDelivered(id:)`. After a restart, resend everything `pending(destination:)`; the
    /// receiver deduplicates by `id`. Enqueueing an id again, even after delivery, is a no-op.
    @discardableResult
    public func enqueue(id: String, destination: String, payload: [UInt8]) throws -> EnqueueOutcome {
        try writing("enqueue") { db in
            try JournalTransaction(db: db, path: path).enqueue(id: id, destination: destination, payload: payload)
        }
    }

    /// The undelivered instructions for `destination`, in enqueue order (at most `limit`).
    public func pending(destination: String, limit: Int = Int.max) throws -> [OutboxItem] {
        guard limit > 0 else { return [] }
        return try reading("pending") { db in
            let select = try db.cachedStatement(sql: """
                SELECT id, payload FROM outbox WHERE destination = ? AND delivered = 0
                ORDER BY position LIMIT ?
                """)
            return try Row.fetchAll(select, arguments: [destination, limit]).map { row in
                OutboxItem(id: row[0], destination: destination, payload: [UInt8](row[1] as Data))
            }
        }
    }

    /// Durably marks the instruction delivered; returns false if the id is unknown or was already
    /// delivered.
    @discardableResult
    public func markDelivered(id: String) throws -> Bool {
        try writing("markDelivered") { db in try JournalTransaction(db: db, path: path).markDelivered(id: id) }
    }
}
