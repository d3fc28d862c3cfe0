import Foundation
import GRDB
import Testing

@testable import CrossclearStore

@Suite("Entries stored as runs: reading, lookups, compaction, migration, corruption")
struct EntryRunTests {
    /// Entries of stream "s" appended in three commits: 0:1...7 (with empty payloads and several
    /// kinds), 0:8...12 then 1:1...4 in one batch, and 1:5 alone.
    private static func appendThreeCommits(to journal: Journal) throws -> [JournalEntry] {
        var writer = ChainWriter(stream: "s")
        let first = (0..<7).map { index in writer.next(kind: Int32(index - 3), payload: index % 3 == 0 ? [] : nil) }
        var second = writer.next(5)
        writer.startEpoch(1)
        second += writer.next(4)
        let third = writer.next()
        #expect(try journal.append(first).allSatisfy { $0 == .appended })
        #expect(try journal.append(second).allSatisfy { $0 == .appended })
        #expect(try journal.append(third) == .appended)
        return first + second + [third]
    }

    /// The number of rows of `entry_run` in a closed journal file.
    private static func runCount(path: String) throws -> Int {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM entry_run") ?? -1 }
    }

    @Test("entries(after:limit:) reads the same entries from runs at every split point and limit")
    func everySplitPoint() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/journal.sqlite"
            let journal = try Journal.open(path: path)
            let all = try Self.appendThreeCommits(to: journal)
            let afters: [JournalPosition?] =
                [nil, JournalPosition(epoch: 0, sequence: 0), JournalPosition(epoch: 0, sequence: 99), JournalPosition(epoch: 1, sequence: 0)]
                + all.map { $0.position }
            for after in afters {
                let expected = all.filter { entry in after.map { entry.position > $0 } ?? true }
                for limit in [1, 2, 3, 5, 8, 100] {
                    let read = try journal.entries(stream: "s", after: after, limit: limit)
                    #expect(read == Array(expected.prefix(limit)), "after \(after.map(\.description) ?? "nil"), limit \(limit)")
                }
            }
            #expect(try journal.entries(stream: "s", after: JournalPosition(epoch: 1, sequence: 5), limit: 10).isEmpty)
            #expect(try journal.entries(stream: "other", after: nil, limit: 10).isEmpty)
            try journal.close()
            // One row per run: 0:1...7, 0:8...12, 1:1...4 and 1:5.
            #expect(try Self.runCount(path: path) == 4)
        }
    }

    @Test("a duplicate or fork of an entry in the middle of a run from an earlier commit is found, also after reopen")
    func lookupsInsideRuns() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/journal.sqlite"
            var journal = try Journal.open(path: path)
            let all = try Self.appendThreeCommits(to: journal)
            for _ in 0..<2 {
                let offers = [all[0], all[3], forked(all[4]), all[6], forked(all[7]), all[9], forked(all[13]), all[15]]
                let outcomes = try journal.append(offers)
                #expect(outcomes == [
                    .duplicate, .duplicate, .fork(existingHash: all[4].hash), .duplicate,
                    .fork(existingHash: all[7].hash), .duplicate, .fork(existingHash: all[13].hash), .duplicate,
                ])
                // Past the end of epoch 0, which has runs up to 0:12.
                var stale = ChainWriter(stream: "s")
                _ = stale.next(12)
                #expect(try journal.append(stale.next()) == .staleEpoch)
                try journal.close()
                journal = try Journal.open(path: path)
            }
            #expect(try journal.entries(stream: "s", after: nil, limit: 100) == all)
            try journal.close()
        }
    }

    @Test("a run is capped at EntryRun.maximumPayloadBytes; lookups and reads cross run boundaries")
    func largeRunsSplit() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/journal.sqlite"
            let journal = try Journal.open(path: path)
            var writer = ChainWriter(stream: "big")
            let entries = (0..<300).map { index in writer.next(payload: [UInt8](repeating: UInt8(index % 256), count: 8_000)) }
            #expect(try journal.append(entries).allSatisfy { $0 == .appended })
            #expect(try journal.append([entries[0], entries[130], entries[131], forked(entries[299])]) == [
                .duplicate, .duplicate, .duplicate, .fork(existingHash: entries[299].hash),
            ])
            #expect(try journal.entries(stream: "big", after: nil, limit: 1_000) == entries)
            #expect(try journal.entries(stream: "big", after: entries[129].position, limit: 3) == Array(entries[130..<133]))
            try journal.close()
            let queue = try DatabaseQueue(path: path)
            let (runs, largest) = try queue.read { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM entry_run") ?? 0,
                 try Int.fetchOne(db, sql: "SELECT max(length(payload)) FROM entry_run") ?? 0)
            }
            try queue.close()
            #expect(runs == 3)
            #expect(largest <= EntryRun.maximumPayloadBytes)
        }
    }

    @Test("compaction through the middle of a run keeps only the run's later entries and counts entries")
    func compactionInsideARun() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/journal.sqlite"
            var journal = try Journal.open(path: path)
            let all = try Self.appendThreeCommits(to: journal)
            try journal.saveSnapshot(stream: "s", epoch: 0, sequence: 4, digest: 4, payload: [4])
            #expect(try journal.compact(stream: "s", through: JournalPosition(epoch: 0, sequence: 9)) == 4)
            #expect(try journal.entries(stream: "s", after: nil, limit: 100) == Array(all[4...]))
            #expect(try journal.entries(stream: "s", after: all[4].position, limit: 2) == Array(all[5..<7]))
            #expect(try journal.append([all[3], all[4], forked(all[5]), all[6]]) == [
                .compacted, .duplicate, .fork(existingHash: all[5].hash), .duplicate,
            ])
            // Nothing more to delete at the same point.
            #expect(try journal.compact(stream: "s", through: JournalPosition(epoch: 0, sequence: 4)) == 0)

            // Through the middle of the second commit's run, across the epoch change, then all.
            try journal.saveSnapshot(stream: "s", epoch: 0, sequence: 10, digest: 10, payload: [10])
            #expect(try journal.compact(stream: "s", through: JournalPosition(epoch: 0, sequence: 10)) == 6)
            #expect(try journal.entries(stream: "s", after: nil, limit: 100) == Array(all[10...]))
            try journal.close()
            journal = try Journal.open(path: path)
            #expect(try journal.entries(stream: "s", after: nil, limit: 100) == Array(all[10...]))
            try journal.saveSnapshot(stream: "s", epoch: 1, sequence: 2, digest: 12, payload: [12])
            #expect(try journal.compact(stream: "s", through: JournalPosition(epoch: 1, sequence: 2)) == 4)
            #expect(try journal.entries(stream: "s", after: nil, limit: 100) == Array(all[14...]))
            #expect(try journal.append(all[15]) == .duplicate)
            try journal.saveSnapshot(stream: "s", epoch: 1, sequence: 5, digest: 15, payload: [15])
            #expect(try journal.compact(stream: "s", through: JournalPosition(epoch: 1, sequence: 5)) == 3)
            #expect(try journal.entries(stream: "s", after: nil, limit: 100).isEmpty)
            try journal.close()
            #expect(try Self.runCount(path: path) == 0)
        }
    }

    @Test("a v2 journal's entries migrate into runs and read back identically")
    func migrationFromV2() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/journal.sqlite"
            var a = ChainWriter(stream: "venue-a")
            var aEntries = a.next(6)
            a.startEpoch(2)
            aEntries += a.next(3)
            var b = ChainWriter(stream: "venue-b")
            // venue-b was compacted through 0:2: its rows start at 0:3.
            let bEntries = Array(b.next(5)[2...])

            let v2 = try DatabaseQueue(path: path)
            try Schema.migrator.migrate(v2, upTo: "v2")
            try v2.write { db in
                for entry in aEntries + bEntries {
                    try db.execute(
                        sql: """
                            INSERT INTO entry (stream, epoch, sequence, kind, payload, previous_hash, hash)
                            VALUES (?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            entry.stream, entry.epoch, entry.sequence, entry.kind, Data(entry.payload),
                            Data(entry.previousHash), Data(entry.hash),
                        ])
                }
                for (name, head, compacted) in [("venue-a", aEntries.last!, Int64?.none), ("venue-b", bEntries.last!, 2)] {
                    try db.execute(
                        sql: """
                            INSERT INTO stream (name, head_epoch, head_sequence, head_hash, compacted_epoch, compacted_sequence)
                            VALUES (?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [name, head.epoch, head.sequence, Data(head.hash), compacted.map { _ in Int64(0) }, compacted])
                }
            }
            try v2.close()

            let journal = try Journal.open(path: path)
            #expect(try journal.entries(stream: "venue-a", after: nil, limit: 100) == aEntries)
            #expect(try journal.entries(stream: "venue-b", after: nil, limit: 100) == bEntries)
            #expect(try journal.append([aEntries[3], forked(aEntries[7]), bEntries[1], a.next()]) == [
                .duplicate, .fork(existingHash: aEntries[7].hash), .duplicate, .appended,
            ])
            try journal.close()
            let queue = try DatabaseQueue(path: path)
            let tables = try queue.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'entry%' ORDER BY name") }
            try queue.close()
            #expect(tables == ["entry_run"])
            // venue-a 0:1...6, 2:1...3 and the appended 2:4; venue-b 0:3...5.
            #expect(try Self.runCount(path: path) == 4)
        }
    }

    @Test(
        "a corrupt run gives a StoreError naming the stream and position, and the journal fails closed",
        arguments: [
            // The first entry's payload length overruns the run.
            "x'01000000ffffff00' || substr(payload, 9)",
            // Bytes after the last entry.
            "payload || x'00'",
            // The first entry's hash cut short: the lengths no longer add up.
            "x'01000000' || x'04000000' || substr(payload, 9)",
        ])
    func corruptRun(damage: String) throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/journal.sqlite"
            var journal = try Journal.open(path: path)
            var writer = ChainWriter(stream: "venue-a")
            let entries = writer.next(5)
            _ = try journal.append(entries)
            try journal.close()
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in try db.execute(sql: "UPDATE entry_run SET payload = CAST(\(damage) AS BLOB)") }
            try queue.close()

            journal = try Journal.open(path: path)
            let readError = try #require(throws: StoreError.self) {
                try journal.entries(stream: "venue-a", after: nil, limit: 10)
            }
            #expect(readError.code == .corrupt)
            #expect(readError.description.contains("stream venue-a, run 0:1...0:5"), "\(readError)")
            let refused = try #require(throws: StoreError.self) { try journal.streams() }
            #expect(refused.code == .closed)
            try journal.close()

            journal = try Journal.open(path: path)
            let appendError = try #require(throws: StoreError.self) { try journal.append(entries[2]) }
            #expect(appendError.code == .corrupt, "\(appendError)")
            #expect(appendError.description.contains("stream venue-a"), "\(appendError)")
            try journal.close()
        }
    }
}
