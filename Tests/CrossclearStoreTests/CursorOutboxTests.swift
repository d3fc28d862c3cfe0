import CrossclearStore
import Foundation
import Testing

@Suite("Cursors and the outbox")
struct CursorOutboxTests {
    @Test("cursors are set in the same transaction as an append and survive reopen")
    func cursorsWithAppend() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/journal.sqlite"
            let journal = try Journal.open(path: path)
            var writer = ChainWriter(stream: "venue-a")
            #expect(try journal.cursor("acknowledged/venue-a") == nil)
            let outcomes = try journal.append(writer.next(5), settingCursors: ["acknowledged/venue-a": 5, "other": -1])
            #expect(outcomes.allSatisfy { $0 == .appended })
            try journal.setCursor("other", 42)

            // Outcome-dependent cursors go through a transaction.
            let next = writer.next()
            try journal.transaction { transaction in
                if try transaction.append(next) == .appended {
                    try transaction.setCursor("acknowledged/venue-a", next.sequence)
                }
            }
            try journal.close()

            let reopened = try Journal.open(path: path)
            #expect(try reopened.cursor("acknowledged/venue-a") == 6)
            #expect(try reopened.cursor("other") == 42)
            #expect(try reopened.last(stream: "venue-a")?.sequence == 6)
            try reopened.close()
        }
    }

    @Test("outbox: runs of consecutive ids per destination, pending in order, a delivery watermark that drops delivered runs, across reopen")
    func outbox() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/journal.sqlite"
            let journal = try Journal.open(path: path)
            let first = OutboxRun(destination: "venue-b", first: 1, last: 3, payload: [1, 2, 3])
            try journal.enqueue(first)
            try journal.enqueue(OutboxRun(destination: "venue-a", first: 1, last: 1, payload: [9]))
            try journal.enqueue(OutboxRun(destination: "venue-b", first: 4, last: 4, payload: [4]))
            for refused in [
                OutboxRun(destination: "venue-b", first: 6, last: 7, payload: []),  // a gap
                OutboxRun(destination: "venue-b", first: 4, last: 4, payload: [4]),  // again
                OutboxRun(destination: "venue-c", first: 1, last: 0, payload: []),  // empty
                OutboxRun(destination: "", first: 1, last: 1, payload: []),
            ] {
                #expect(throws: StoreError.self, "\(refused)") { try journal.enqueue(refused) }
            }
            try journal.close()

            let reopened = try Journal.open(path: path)
            #expect(try reopened.pendingRuns(destination: "venue-b").map(\.first) == [1, 4])
            #expect(try reopened.pendingRuns(destination: "venue-b").first == first)
            #expect(try reopened.outboxProgress(destination: "venue-b") == OutboxProgress(enqueued: 4, delivered: 0))
            #expect(try reopened.pendingRuns(destination: "venue-c").isEmpty)
            #expect(try reopened.markDelivered(destination: "venue-b", through: 2))
            #expect(try reopened.pendingRuns(destination: "venue-b").map(\.first) == [1, 4], "a run partly delivered stays")
            #expect(try reopened.markDelivered(destination: "venue-b", through: 3))
            #expect(try !reopened.markDelivered(destination: "venue-b", through: 2), "the watermark never moves back")
            #expect(try reopened.pendingRuns(destination: "venue-b").map(\.first) == [4])
            #expect(try reopened.markDelivered(destination: "venue-b", through: 99), "clamped to the last enqueued")
            #expect(try !reopened.markDelivered(destination: "venue-c", through: 1), "nothing enqueued there")
            try reopened.close()

            let again = try Journal.open(path: path)
            #expect(try again.pendingRuns(destination: "venue-b").isEmpty)
            #expect(try again.outboxProgress(destination: "venue-b") == OutboxProgress(enqueued: 4, delivered: 4))
            #expect(try again.pendingRuns(destination: "venue-a").map(\.last) == [1])
            try again.enqueue(OutboxRun(destination: "venue-b", first: 5, last: 5, payload: [5]))
            #expect(try again.outboxProgress(destination: "venue-b").pending == 1)
            try again.close()
        }
    }
}
