import Foundation
import GRDB

/// Instructions for one destination with consecutive ids, enqueued together and kept as one row.
public struct OutboxRun: Sendable, Hashable {
    /// Where they go (a node id).
    public var destination: String
    /// The first and last instruction ids of the run (the ids are the caller's, 1, 2, 3... per
    /// destination, and are also inside the payload it sends).
    public var first: UInt64
    public var last: UInt64
    /// The encoded instructions, opaque to the journal.
    public var payload: [UInt8]

    /// Creates a run of the ids `first...last`.
    public init(destination: String, first: UInt64, last: UInt64, payload: [UInt8]) {
        self.destination = destination
        self.first = first
        self.last = last
        self.payload = payload
    }
}

/// How far a destination's outbox got.
public struct OutboxProgress: Sendable, Hashable {
    /// The last instruction id enqueued (0 before the first).
    public var enqueued: UInt64
    /// Every id up to this one was delivered (0 before the first).
    public var delivered: UInt64

    /// Creates a progress record.
    public init(enqueued: UInt64, delivered: UInt64) {
        self.enqueued = enqueued
        self.delivered = delivered
    }

    /// The ids enqueued and not yet delivered.
    public var pending: UInt64 { enqueued - delivered }
}

extension Journal {
    /// The undelivered runs for `destination`, in id order (a run may be partly delivered: its
    /// first ids at or below the watermark).
    public func pendingRuns(destination: String) throws -> [OutboxRun] {
        try reading("pendingRuns") { db in try JournalTransaction(db: db, path: path).pendingRuns(destination: destination) }
    }

    /// What was enqueued and delivered for `destination`.
    public func outboxProgress(destination: String) throws -> OutboxProgress {
        try reading("outboxProgress") { db in try JournalTransaction(db: db, path: path).outboxProgress(destination: destination) }
    }

    /// Durably records a run of instructions to deliver exactly once, before any is sent; see
    /// `JournalTransaction.enqueue(_:)`.
    public func enqueue(_ run: OutboxRun) throws {
        try writing("enqueue") { db in try JournalTransaction(db: db, path: path).enqueue(run) }
    }

    /// Durably records that every id of `destination` up to `id` was delivered; see
    /// `JournalTransaction.markDelivered(destination:through:)`.
    @discardableResult
    public func markDelivered(destination: String, through id: UInt64) throws -> Bool {
        try writing("markDelivered") { db in try JournalTransaction(db: db, path: path).markDelivered(destination: destination, through: id) }
    }
}

extension JournalTransaction {
    /// What was enqueued and delivered for `destination`.
    public func outboxProgress(destination: String) throws -> OutboxProgress {
        let select = try db.cachedStatement(sql: "SELECT enqueued, delivered FROM outbox_progress WHERE destination = ?")
        guard let row = try Row.fetchOne(select, arguments: [destination]) else { return OutboxProgress(enqueued: 0, delivered: 0) }
        return OutboxProgress(enqueued: UInt64(row[0] as Int64), delivered: UInt64(row[1] as Int64))
    }

    /// Records a run of instructions to deliver exactly once, before any of them is sent.
    ///
    /// The protocol: enqueue (persisted), send, and when the destination acknowledges,
    /// `markDelivered(destination:through:)`. After a restart, resend every `pendingRuns`; the
    /// receiver deduplicates by id.
    ///
    /// - Throws: `StoreError` `.invalidArgument` unless the run continues the destination's ids
    ///   (`first` is the last id enqueued plus one, `last >= first`) and names a destination.
    public func enqueue(_ run: OutboxRun) throws {
        let progress = try outboxProgress(destination: run.destination)
        guard !run.destination.isEmpty, run.first == progress.enqueued + 1, run.last >= run.first, run.last <= UInt64(Int64.max) else {
            throw StoreError(
                .invalidArgument, path: path, operation: "enqueue",
                cause: "outbox run \(run.first)...\(run.last) for '\(run.destination)' does not continue its ids (last enqueued: \(progress.enqueued))")
        }
        let insert = try db.cachedStatement(sql: "INSERT INTO outbox_run (destination, first, last, payload) VALUES (?, ?, ?, ?)")
        try insert.execute(arguments: [run.destination, Int64(run.first), Int64(run.last), Data(run.payload)])
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO outbox_progress (destination, enqueued, delivered) VALUES (?, ?, 0)
            ON CONFLICT (destination) DO UPDATE SET enqueued = excluded.enqueued
            """)
        try upsert.execute(arguments: [run.destination, Int64(run.last)])
    }

    /// Records that every id of `destination` up to `id` (at most the last enqueued) was delivered,
    /// and drops the runs now wholly delivered. Returns false when the watermark did not move.
    @discardableResult
    public func markDelivered(destination: String, through id: UInt64) throws -> Bool {
        let progress = try outboxProgress(destination: destination)
        let through = min(id, progress.enqueued)
        guard through > progress.delivered else { return false }
        let update = try db.cachedStatement(sql: "UPDATE outbox_progress SET delivered = ? WHERE destination = ?")
        try update.execute(arguments: [Int64(through), destination])
        let delete = try db.cachedStatement(sql: "DELETE FROM outbox_run WHERE destination = ? AND last <= ?")
        try delete.execute(arguments: [destination, Int64(through)])
        return true
    }

    /// The undelivered runs for `destination`, in id order.
    public func pendingRuns(destination: String) throws -> [OutboxRun] {
        let select = try db.cachedStatement(sql: "SELECT first, last, payload FROM outbox_run WHERE destination = ? ORDER BY first")
        return try Row.fetchAll(select, arguments: [destination]).map { row in
            OutboxRun(destination: destination, first: UInt64(row[0] as Int64), last: UInt64(row[1] as Int64), payload: [UInt8](row[2] as Data))
        }
    }
}
