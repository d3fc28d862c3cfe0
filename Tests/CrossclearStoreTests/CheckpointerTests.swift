import Foundation
import Testing

@testable import CrossclearStore

@Suite("WAL checkpoints off the writer")
struct CheckpointerTests {
    @Test("entries written past several checkpoint thresholds read back whole after a reopen; a complete checkpoint lets the WAL start over")
    func checkpointsKeepDataAndBoundTheWAL() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/journal.sqlite"
            var writer = ChainWriter(stream: "venue-a")
            var written: [JournalEntry] = []
            let journal = try Journal.open(path: path)
            // 40 commits of 100 entries of 2 KB: about 2,000 WAL pages, twice the threshold.
            for commit in 0..<40 {
                let batch = (0..<100).map { index in
                    writer.next(payload: [UInt8](repeating: UInt8(truncatingIfNeeded: commit &+ index), count: 2_048))
                }
                #expect(try journal.append(batch).allSatisfy { $0 == .appended })
                written += batch
            }
            let frames = try journal.checkpointer.checkpoint()
            #expect(frames.walFrames == frames.checkpointedFrames, "a passive checkpoint with no reader copies the whole WAL")
            let walPath = path + "-wal"
            let walSize = try #require(try FileManager.default.attributesOfItem(atPath: walPath)[.size] as? Int)
            #expect(try journal.append(writer.next()) == .appended)
            let after = try #require(try FileManager.default.attributesOfItem(atPath: walPath)[.size] as? Int)
            #expect(after <= walSize, "the commit after a complete checkpoint writes from the start of the WAL")
            try journal.close()

            let reopened = try Journal.open(path: path)
            let read = try reopened.entries(stream: "venue-a", after: nil, limit: 10_000)
            #expect(read.count == written.count + 1)
            #expect(Array(read.prefix(written.count)) == written)
            try reopened.close()
        }
    }
}
