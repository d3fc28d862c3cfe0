import CrossclearStore
import Foundation
import Testing

@Suite("GroupCommitter")
struct GroupCommitterTests {
    @Test("8 concurrent producers x 500 entries all land exactly once, in per-producer order")
    func concurrentProducers() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/journal.sqlite"
            let journal = try Journal.open(path: path)
            let committer = GroupCommitter(journal: journal, maximumBatchSize: 256)
            let producers = 8
            let perProducer = 500

            let written = try await withThrowingTaskGroup(of: [JournalEntry].self) { group in
                for producer in 0..<producers {
                    group.addTask {
                        var writer = ChainWriter(stream: "producer-\(producer)")
                        var entries: [JournalEntry] = []
                        for _ in 0..<perProducer {
                            let entry = writer.next()
                            let outcome = try await committer.append(entry)
                            guard outcome == .appended else {
                                throw StoreError(.database, path: path, operation: "test", cause: "outcome \(outcome)")
                            }
                            entries.append(entry)
                        }
                        return entries
                    }
                }
                var all: [String: [JournalEntry]] = [:]
                for try await entries in group {
                    all[entries[0].stream] = entries
                }
                return all
            }
            let statistics = await committer.statistics
            #expect(statistics.entries == producers * perProducer)
            #expect(statistics.commits <= producers * perProducer)
            print("GroupCommitter: \(statistics.entries) entries in \(statistics.commits) commits")
            try journal.close()

            let reopened = try Journal.open(path: path)
            #expect(try reopened.streams().count == producers)
            for (stream, entries) in written {
                #expect(try reopened.entries(stream: stream, after: nil, limit: 10_000) == entries)
            }
            try reopened.close()
        }
    }

    @Test("a producer's batch stays together and in order; rejections come back per entry")
    func batchesAndRejections() async throws {
        try await withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            let committer = GroupCommitter(journal: journal, maximumBatchSize: 4)
            var writer = ChainWriter(stream: "s")
            let entries = writer.next(10)
            // Larger than maximumBatchSize: commits alone, whole.
            #expect(try await committer.append(Array(entries[0..<6])) == Array(repeating: .appended, count: 6))
            #expect(try await committer.append(entries[8]) == .gap(expected: 7))
            #expect(try await committer.append(entries[3]) == .duplicate)
            #expect(try await committer.append([]) == [])
            #expect(try await committer.append(Array(entries[6...])) == Array(repeating: .appended, count: 4))
            #expect(try journal.entries(stream: "s", after: nil, limit: 100) == entries)
            try journal.close()
        }
    }

    @Test("when the journal fails, every producer of the commit gets the StoreError")
    func failurePropagates() async throws {
        try await withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            let committer = GroupCommitter(journal: journal)
            try journal.close()
            var writer = ChainWriter(stream: "s")
            let entry = writer.next()
            await #expect(throws: StoreError.self) { try await committer.append(entry) }
        }
    }
}
