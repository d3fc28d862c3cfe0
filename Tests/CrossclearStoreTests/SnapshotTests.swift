import CrossclearStore
import Foundation
import Testing

@Suite("Snapshots and compaction")
struct SnapshotTests {
    @Test("compaction deletes entries through the latest snapshot and never past it")
    func compactionStopsAtTheSnapshot() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/journal.sqlite"
            let journal = try Journal.open(path: path)
            var writer = ChainWriter(stream: "venue-a")
            let entries = writer.next(10)
            _ = try journal.append(entries)

            // No snapshot: nothing to compact.
            #expect(try journal.compact(stream: "venue-a", through: JournalPosition(epoch: 0, sequence: 10)) == 0)

            try journal.saveSnapshot(stream: "venue-a", epoch: 0, sequence: 3, digest: 33, payload: [3])
            try journal.saveSnapshot(stream: "venue-a", epoch: 0, sequence: 6, digest: 66, payload: [6])
            #expect(try journal.latestSnapshot(stream: "venue-a") == Snapshot(
                stream: "venue-a", epoch: 0, sequence: 6, digest: 66, payload: [6]))

            // Asked through 9, compacts through 6 (the latest snapshot).
            #expect(try journal.compact(stream: "venue-a", through: JournalPosition(epoch: 0, sequence: 9)) == 6)
            #expect(try journal.entries(stream: "venue-a", after: nil, limit: 100) == Array(entries[6...]))
            // Replay from the snapshot still works.
            #expect(try journal.entries(stream: "venue-a", after: JournalPosition(epoch: 0, sequence: 6), limit: 100) == Array(entries[6...]))
            // A compacted position can no longer be judged; later ones still can.
            #expect(try journal.append(entries[2]) == .compacted)
            #expect(try journal.append(forked(entries[5])) == .compacted)
            #expect(try journal.append(entries[7]) == .duplicate)
            try journal.close()

            // All of it survives reopen; a snapshot at the head lets compaction empty the stream
            // while the head (and so the chain) is kept.
            let reopened = try Journal.open(path: path)
            #expect(try reopened.latestSnapshot(stream: "venue-a")?.sequence == 6)
            try reopened.saveSnapshot(stream: "venue-a", epoch: 0, sequence: 10, digest: 100, payload: [10])
            #expect(try reopened.compact(stream: "venue-a", through: JournalPosition(epoch: 0, sequence: 10)) == 4)
            #expect(try reopened.entries(stream: "venue-a", after: nil, limit: 100).isEmpty)
            #expect(try reopened.last(stream: "venue-a") == StreamHead(epoch: 0, sequence: 10, hash: entries[9].hash))
            #expect(try reopened.append(entries[9]) == .duplicate)
            #expect(try reopened.append(forked(entries[9])) == .fork(existingHash: entries[9].hash))
            let eleventh = writer.next()
            #expect(try reopened.append(eleventh) == .appended)
            try reopened.close()
        }
    }

    @Test("snapshots older than the compaction point are pruned")
    func olderSnapshotsArePruned() throws {
        try withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            var writer = ChainWriter(stream: "s")
            _ = try journal.append(writer.next(10))
            for sequence: Int64 in [2, 4, 8] {
                try journal.saveSnapshot(stream: "s", epoch: 0, sequence: sequence, digest: UInt64(sequence), payload: [])
            }
            #expect(try journal.compact(stream: "s", through: JournalPosition(epoch: 0, sequence: 4)) == 4)
            // Snapshot 2 is gone; 4 (at the compaction point) and 8 remain.
            #expect(throws: Never.self) {
                try journal.saveSnapshot(stream: "s", epoch: 0, sequence: 4, digest: 4, payload: [])
            }
            #expect(try journal.latestSnapshot(stream: "s")?.sequence == 8)
            try journal.close()
        }
    }

    @Test("deleting the snapshots before a position keeps that one, the later ones and every entry")
    func deleteOlderSnapshots() throws {
        try withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            var writer = ChainWriter(stream: "s")
            let entries = writer.next(10)
            _ = try journal.append(entries)
            for sequence: Int64 in [2, 4, 8] {
                try journal.saveSnapshot(stream: "s", epoch: 0, sequence: sequence, digest: UInt64(sequence), payload: [UInt8(sequence)])
            }
            let deleted = try journal.transaction { try $0.deleteSnapshots(stream: "s", before: JournalPosition(epoch: 0, sequence: 8)) }
            #expect(deleted == 2)
            #expect(try journal.latestSnapshot(stream: "s")?.payload == [8])
            #expect(try journal.entries(stream: "s", after: nil, limit: 100) == entries)
            // Snapshot 4 is gone: saving it again with another digest is no conflict.
            #expect(throws: Never.self) { try journal.saveSnapshot(stream: "s", epoch: 0, sequence: 4, digest: 44, payload: []) }
            try journal.close()
        }
    }

    @Test("a snapshot ahead of the journal or contradicting a saved digest is refused")
    func snapshotMisuse() throws {
        try withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            var writer = ChainWriter(stream: "s")
            _ = try journal.append(writer.next(3))

            let ahead = try #require(throws: StoreError.self) {
                try journal.saveSnapshot(stream: "s", epoch: 0, sequence: 4, digest: 1, payload: [])
            }
            #expect(ahead.code == .invalidArgument)
            let unknown = try #require(throws: StoreError.self) {
                try journal.saveSnapshot(stream: "nobody", epoch: 0, sequence: 1, digest: 1, payload: [])
            }
            #expect(unknown.code == .invalidArgument)

            try journal.saveSnapshot(stream: "s", epoch: 0, sequence: 2, digest: .max, payload: [1, 2])
            try journal.saveSnapshot(stream: "s", epoch: 0, sequence: 2, digest: .max, payload: [1, 2])  // idempotent
            let conflict = try #require(throws: StoreError.self) {
                try journal.saveSnapshot(stream: "s", epoch: 0, sequence: 2, digest: 7, payload: [1, 2])
            }
            #expect(conflict.code == .snapshotConflict)
            #expect(try journal.latestSnapshot(stream: "s")?.digest == .max)  // UInt64 round-trips
            // The journal is still usable after refused calls.
            #expect(try journal.append(writer.next()) == .appended)
            try journal.close()
        }
    }
}
