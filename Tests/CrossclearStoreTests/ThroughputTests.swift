import CrossclearStore
import Foundation
import Testing

/// Throughput measurements, not assertions: run with CROSSCLEAR_STORE_BENCH=1.
@Suite(
    "Throughput (CROSSCLEAR_STORE_BENCH=1)",
    .enabled(if: ProcessInfo.processInfo.environment["CROSSCLEAR_STORE_BENCH"] != nil),
    .serialized
)
struct ThroughputTests {
    @Test("batches of 1000 entries, WAL + synchronous FULL")
    func batchesOfAThousand() throws {
        try withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            var writer = ChainWriter(stream: "venue-a")
            let batches = (0..<50).map { _ in
                (0..<1000).map { _ in writer.next(payload: [UInt8](repeating: 0x5a, count: 200)) }
            }
            let clock = ContinuousClock()
            let elapsed = try clock.measure {
                for batch in batches {
                    _ = try journal.append(batch)
                }
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("append: 50 batches x 1000 entries (200-byte payloads) in \(elapsed): \(Int(50_000 / seconds)) entries/s, \(Int(50 / seconds)) commits/s")
            try journal.close()
        }
    }

    @Test("one entry per commit, WAL + synchronous FULL")
    func singleEntryCommits() throws {
        try withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            var writer = ChainWriter(stream: "venue-a")
            let entries = (0..<500).map { _ in writer.next(payload: [UInt8](repeating: 0x5a, count: 200)) }
            let clock = ContinuousClock()
            let elapsed = try clock.measure {
                for entry in entries {
                    _ = try journal.append(entry)
                }
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("append: 500 single-entry commits in \(elapsed): \(Int(500 / seconds)) commits/s")
            try journal.close()
        }
    }

    @Test("GroupCommitter, 8 producers x 2000 single entries")
    func groupCommitter() async throws {
        try await withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            let committer = GroupCommitter(journal: journal)
            // Hashing in the test helper is slow in debug builds: prepare the entries first.
            let streams = (0..<8).map { producer in
                var writer = ChainWriter(stream: "producer-\(producer)")
                return (0..<2000).map { _ in writer.next(payload: [UInt8](repeating: 0x5a, count: 200)) }
            }
            let clock = ContinuousClock()
            let elapsed = try await clock.measure {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for entries in streams {
                        group.addTask {
                            for entry in entries {
                                _ = try await committer.append(entry)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let statistics = await committer.statistics
            print("GroupCommitter: 16000 entries in \(elapsed): \(Int(16_000 / seconds)) entries/s, \(statistics.commits) commits (mean \(statistics.entries / max(1, statistics.commits)) entries/commit)")
            try journal.close()
        }
    }
}
