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

    @Test("outbox: enqueue, duplicate id, pending in order, markDelivered, across reopen")
    func outbox() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/journal.sqlite"
            let journal = try Journal.open(path: path)
            #expect(try journal.enqueue(id: "adl-1", destination: "venue-b", payload: [1]) == .enqueued)
            #expect(try journal.enqueue(id: "adl-2", destination: "venue-a", payload: [2]) == .enqueued)
            #expect(try journal.enqueue(id: "adl-3", destination: "venue-b", payload: [3]) == .enqueued)
            #expect(try journal.enqueue(id: "adl-1", destination: "venue-b", payload: [1]) == .duplicate)
            #expect(try journal.enqueue(id: "adl-1", destination: "venue-c", payload: [9]) == .conflict)
            try journal.close()

            let reopened = try Journal.open(path: path)
            #expect(try reopened.pending(destination: "venue-b") == [
                OutboxItem(id: "adl-1", destination: "venue-b", payload: [1]),
                OutboxItem(id: "adl-3", destination: "venue-b", payload: [3]),
            ])
            #expect(try reopened.pending(destination: "venue-b", limit: 1).map(\.id) == ["adl-1"])
            #expect(try reopened.pending(destination: "venue-c").isEmpty)
            #expect(try reopened.markDelivered(id: "adl-1"))
            #expect(try !reopened.markDelivered(id: "adl-1"))
            #expect(try !reopened.markDelivered(id: "never-enqueued"))
            try reopened.close()

            let again = try Journal.open(path: path)
            #expect(try again.pending(destination: "venue-b").map(\.id) == ["adl-3"])
            #expect(try again.pending(destination: "venue-a").map(\.id) == ["adl-2"])
            // A delivered id stays known: enqueueing it again is still a no-op.
            #expect(try again.enqueue(id: "adl-1", destination: "venue-b", payload: [1]) == .duplicate)
            #expect(try again.pending(destination: "venue-b").map(\.id) == ["adl-3"])
            try again.close()
        }
    }
}
