/// Lets many producers append concurrently and commits their entries together: each producer is
/// resumed only after the transaction holding its entries committed (and was fsynced).
///
/// How it groups: submissions queue up in arrival order. While no commit is running, the next
/// commit starts at once with whatever is queued (up to `maximumBatchSize` entries, whole
/// submissions only); while a commit runs, new submissions wait and go into the next one. There is
/// no timer: under light load a lone entry commits immediately, under heavy load each fsync
/// carries many entries. Entries are judged in submission order (see `Journal.append(_:)`), so a
/// producer that awaits each `append` keeps its own order.
///
/// A submission that has been accepted always completes, even if the producer's task is cancelled:
/// its entries may already be committed, and the producer must learn the outcome.
public actor GroupCommitter {
    /// The journal written to.
    public nonisolated let journal: Journal
    /// The most entries one commit takes (a larger single submission commits alone).
    public nonisolated let maximumBatchSize: Int

    /// How many commits ran and how many entries they carried.
    public struct Statistics: Sendable, Hashable {
        /// Transactions committed (or failed).
        public var commits = 0
        /// Entries submitted through them.
        public var entries = 0
    }

    /// Counters since creation.
    public private(set) var statistics = Statistics()

    private struct Submission {
        var entries: [JournalEntry]
        var continuation: CheckedContinuation<[AppendOutcome], any Error>
    }

    private var queue: [Submission] = []
    private var isCommitting = false

    /// Creates a committer over `journal`; a `maximumBatchSize` below 1 counts as 1.
    public init(journal: Journal, maximumBatchSize: Int = 1000) {
        self.journal = journal
        self.maximumBatchSize = max(1, maximumBatchSize)
    }

    /// Appends one entry, returning once it is durable (or rejected).
    public func append(_ entry: JournalEntry) async throws -> AppendOutcome {
        try await append([entry])[0]
    }

    /// Appends a producer's entries (kept together, in order, in one commit), returning their
    /// outcomes once that commit is durable.
    ///
    /// - Throws: `StoreError` if the commit failed; then none of the commit's entries were written.
    public func append(_ entries: [JournalEntry]) async throws -> [AppendOutcome] {
        if entries.isEmpty { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            queue.append(Submission(entries: entries, continuation: continuation))
            if !isCommitting {
                isCommitting = true
                Task { await commitQueued() }
            }
        }
    }

    /// Commits queued submissions until the queue is empty. Runs on the actor, but the actor is
    /// free (new submissions queue up) while a commit is in flight.
    private func commitQueued() async {
        while !queue.isEmpty {
            var taken = 1
            var count = queue[0].entries.count
            while taken < queue.count, count + queue[taken].entries.count <= maximumBatchSize {
                count += queue[taken].entries.count
                taken += 1
            }
            let batch = Array(queue.prefix(taken))
            queue.removeFirst(taken)
            statistics.commits += 1
            statistics.entries += count
            do {
                let outcomes = try await journal.append(submissions: batch.map(\.entries))
                var start = 0
                for submission in batch {
                    let end = start + submission.entries.count
                    submission.continuation.resume(returning: Array(outcomes[start..<end]))
                    start = end
                }
            } catch {
                for submission in batch {
                    submission.continuation.resume(throwing: error)
                }
            }
        }
        isCommitting = false
    }
}
