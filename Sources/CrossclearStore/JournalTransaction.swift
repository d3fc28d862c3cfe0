import Foundation
import GRDB

/// The journal inside one write transaction (see `Journal.transaction(_:)`): everything done
/// through it commits together, with one fsync, or not at all.
///
/// Use it to make a step atomic, for example: append a venue's batch, advance the cursor of what
/// was acknowledged to it and enqueue the instructions the batch caused. It reads its own writes.
/// It is valid only inside the closure it was given to; never store it.
public struct JournalTransaction {
    let db: Database
    let path: String

    init(db: Database, path: String) {
        self.db = db
        self.path = path
    }

    // MARK: - Streams

    /// Appends `entries` in order and returns one outcome per entry.
    ///
    /// Each entry is judged exactly as if the entries were appended one at a time, in order:
    /// against the journal plus the entries of this batch accepted before it. Accepted entries
    /// are written; rejected ones write nothing and do not stop the batch (a later entry of the
    /// same stream that still chains onto the head is accepted). Entries of several streams may
    /// be mixed.
    public func append(_ entries: [JournalEntry]) throws -> [AppendOutcome] {
        try append(submissions: [entries])
    }

    /// Appends the entries of every submission, in order, as one batch: the same as `append(_:)`
    /// of their concatenation, without building it. One outcome per entry, in the same order.
    func append(submissions: [[JournalEntry]]) throws -> [AppendOutcome] {
        let runs = EntryRunWriter(db: db)

        // Batches are runs of one stream: keep the current stream's state at hand and look the
        // others up (once each) by name only when the stream changes.
        var states: [String: ChainRules.StreamState?] = [:]
        var advanced: Set<String> = []
        var current: (stream: String, state: ChainRules.StreamState?, advanced: Bool)?
        var outcomes: [AppendOutcome] = []
        outcomes.reserveCapacity(submissions.reduce(0) { $0 + $1.count })
        for entries in submissions {
            // Entries are read in place through the buffer (an array subscript copies each one).
            try entries.withUnsafeBufferPointer { buffer in
                for index in buffer.indices {
                    if let reason = ChainRules.formatProblem(buffer[index]) {
                        outcomes.append(.malformed(reason: reason))
                        continue
                    }
                    let stream = buffer[index].stream
                    if current?.stream != stream {
                        if let current { states[current.stream] = .some(current.state) }
                        let state: ChainRules.StreamState?
                        if let known = states[stream] {
                            state = known
                        } else {
                            state = try streamState(stream)
                        }
                        current = (stream, state, advanced.contains(stream))
                    }
                    let state = current!.state
                    let outcome = try ChainRules.judge(buffer[index], state: state) { position in
                        // The lookup reads the table: write what this batch accepted so far first.
                        try runs.flush()
                        return try existingHash(stream: stream, at: position)
                    }
                    if case .appended = outcome {
                        try runs.add(buffer[index])
                        let head = StreamHead(epoch: buffer[index].epoch, sequence: buffer[index].sequence, hash: buffer[index].hash)
                        current!.state = ChainRules.StreamState(head: head, compactedThrough: state?.compactedThrough)
                        if !current!.advanced {
                            advanced.insert(stream)
                            current!.advanced = true
                        }
                    }
                    outcomes.append(outcome)
                }
            }
        }
        try runs.flush()
        if let current { states[current.stream] = .some(current.state) }
        try saveHeads(states, of: advanced)
        return outcomes
    }

    /// Appends one entry; see `append(_:)` for the rules.
    public func append(_ entry: JournalEntry) throws -> AppendOutcome {
        try append([entry])[0]
    }

    /// The stream's last entry, including this transaction's appends.
    public func last(stream: String) throws -> StreamHead? {
        try streamState(stream)?.head
    }

    func streamState(_ stream: String) throws -> ChainRules.StreamState? {
        let select = try db.cachedStatement(sql: """
            SELECT head_epoch, head_sequence, head_hash, compacted_epoch, compacted_sequence
            FROM stream WHERE name = ?
            """)
        guard let row = try Row.fetchOne(select, arguments: [stream]) else { return nil }
        let head = StreamHead(epoch: row[0], sequence: row[1], hash: [UInt8](row[2] as Data))
        var compacted: JournalPosition?
        if let epoch: Int64 = row[3], let sequence: Int64 = row[4] {
            compacted = JournalPosition(epoch: epoch, sequence: sequence)
        }
        return ChainRules.StreamState(head: head, compactedThrough: compacted)
    }

    private func existingHash(stream: String, at position: JournalPosition) throws -> [UInt8]? {
        try withRun(of: stream, holding: position, operation: "append") { run in
            try run.skip(through: position.sequence - 1)
            let hash = try run.next().map { [UInt8]($0.hash) }
            try run.finish()
            return hash
        } ?? nil
    }

    /// Calls `body` with a reader of the run of `stream` that holds `position`, or returns nil if
    /// no run holds it. The reader points into the row: it is valid only inside `body`.
    private func withRun<T>(
        of stream: String, holding position: JournalPosition, operation: String,
        _ body: (inout EntryRun.Reader) throws -> T
    ) throws -> T? {
        let select = RawStatement(
            try db.cachedStatement(sql: """
                SELECT first, last, previous_hash, payload FROM entry_run
                WHERE stream = ? AND epoch = ? AND first <= ? ORDER BY first DESC LIMIT 1
                """), db: db)
        defer { select.clearBindings() }
        try select.bindCopy(stream, at: 1)
        try select.bind(position.epoch, at: 2)
        try select.bind(position.sequence, at: 3)
        guard try select.next(), select.int64(at: 1) >= position.sequence else { return nil }
        var run = try EntryRun.Reader(
            stream: stream, epoch: position.epoch, first: select.int64(at: 0), last: select.int64(at: 1),
            previousHash: select.blob(at: 2), payload: select.blob(at: 3), path: path, operation: operation)
        return try body(&run)
    }

    private func saveHeads(_ states: [String: ChainRules.StreamState?], of streams: Set<String>) throws {
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO stream (name, head_epoch, head_sequence, head_hash) VALUES (?, ?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET
                head_epoch = excluded.head_epoch,
                head_sequence = excluded.head_sequence,
                head_hash = excluded.head_hash
            """)
        // Sorted so the file's contents never depend on Dictionary order.
        for name in streams.sorted() {
            guard let state = states[name], let state else { continue }
            try upsert.execute(arguments: [name, state.head.epoch, state.head.sequence, Data(state.head.hash)])
        }
    }

    // MARK: - Cursors

    /// Sets the durable cursor `name` to `value` (creating it if needed).
    public func setCursor(_ name: String, _ value: Int64) throws {
        let upsert = try db.cachedStatement(sql: """
            INSERT INTO cursor (name, value) VALUES (?, ?)
            ON CONFLICT (name) DO UPDATE SET value = excluded.value
            """)
        try upsert.execute(arguments: [name, value])
    }

    /// The cursor's value, or nil if it was never set.
    public func cursor(_ name: String) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM cursor WHERE name = ?"), arguments: [name])
    }

    // MARK: - Snapshots

    /// Saves a snapshot; see `Journal.saveSnapshot(stream:epoch:sequence:digest:payload:)`.
    public func saveSnapshot(stream: String, epoch: Int64, sequence: Int64, digest: UInt64, payload: [UInt8]) throws {
        let position = JournalPosition(epoch: epoch, sequence: sequence)
        guard let head = try streamState(stream)?.head else {
            throw StoreError(.invalidArgument, path: path, operation: "saveSnapshot", cause: "stream \(stream) has no entries")
        }
        guard epoch >= 0, sequence >= 1, position <= head.position else {
            throw StoreError(
                .invalidArgument, path: path, operation: "saveSnapshot",
                cause: "snapshot position \(position) of stream \(stream) is not within 0:1...\(head.position)")
        }
        let select = try db.cachedStatement(sql: "SELECT digest FROM snapshot WHERE stream = ? AND epoch = ? AND sequence = ?")
        if let existing = try Int64.fetchOne(select, arguments: [stream, epoch, sequence]) {
            let existingDigest = UInt64(bitPattern: existing)
            guard existingDigest == digest else {
                throw StoreError(
                    .snapshotConflict, path: path, operation: "saveSnapshot",
                    cause: "stream \(stream) at \(position) already has digest \(existingDigest), not \(digest)")
            }
            return
        }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO snapshot (stream, epoch, sequence, digest, payload) VALUES (?, ?, ?, ?, ?)
            """)
        try insert.execute(arguments: [stream, epoch, sequence, Int64(bitPattern: digest), Data(payload)])
    }

    /// The stream's snapshot with the greatest position, if any.
    public func latestSnapshot(stream: String) throws -> Snapshot? {
        let select = try db.cachedStatement(sql: """
            SELECT epoch, sequence, digest, payload FROM snapshot WHERE stream = ?
            ORDER BY epoch DESC, sequence DESC LIMIT 1
            """)
        guard let row = try Row.fetchOne(select, arguments: [stream]) else { return nil }
        return Snapshot(
            stream: stream, epoch: row[0], sequence: row[1],
            digest: UInt64(bitPattern: row[2] as Int64), payload: [UInt8](row[3] as Data))
    }

    /// Compacts a stream; see `Journal.compact(stream:through:)`.
    public func compact(stream: String, through position: JournalPosition) throws -> Int {
        guard let snapshot = try latestSnapshot(stream: stream), let state = try streamState(stream) else { return 0 }
        let limit = min(position, snapshot.position)
        var deleted = 0
        // A run holding the limit and later entries keeps only the later ones (copied out of the
        // row before it is rewritten).
        let straddling = try withRun(of: stream, holding: limit, operation: "compact") { run -> (first: Int64, previousHash: [UInt8], payload: [UInt8])? in
            guard run.last > limit.sequence else { return nil }
            try run.skip(through: limit.sequence)
            let kept = (run.first, [UInt8](run.previousHash), [UInt8](run.remaining))
            try run.finish()
            return kept
        } ?? nil
        if let straddling {
            let rewrite = try db.cachedStatement(sql: """
                UPDATE entry_run SET first = ?, previous_hash = ?, payload = ? WHERE stream = ? AND epoch = ? AND first = ?
                """)
            try rewrite.execute(arguments: [
                limit.sequence + 1, Data(straddling.previousHash), Data(straddling.payload), stream, limit.epoch, straddling.first,
            ])
            deleted += Int(limit.sequence - straddling.first + 1)
        }
        // (epoch, first) bounds the index range; (epoch, last) keeps the runs wholly at or before the limit.
        let delete = try db.cachedStatement(sql: """
            DELETE FROM entry_run WHERE stream = ? AND (epoch, first) <= (?, ?) AND (epoch, last) <= (?, ?)
            RETURNING last - first + 1
            """)
        deleted += try Int.fetchAll(delete, arguments: [stream, limit.epoch, limit.sequence, limit.epoch, limit.sequence]).reduce(0, +)
        if state.compactedThrough.map({ $0 < limit }) ?? true {
            let update = try db.cachedStatement(sql: """
                UPDATE stream SET compacted_epoch = ?, compacted_sequence = ? WHERE name = ?
                """)
            try update.execute(arguments: [limit.epoch, limit.sequence, stream])
        }
        // Older snapshots cannot be replayed any more: the entries after them are gone.
        let prune = try db.cachedStatement(sql: "DELETE FROM snapshot WHERE stream = ? AND (epoch, sequence) < (?, ?)")
        try prune.execute(arguments: [stream, limit.epoch, limit.sequence])
        return deleted
    }
}
