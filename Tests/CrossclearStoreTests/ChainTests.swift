import CrossclearStore
import Foundation
import Testing

@Suite("Chain rules: what append does with each entry")
struct ChainTests {
    @Test("appended, then the same entry again is a duplicate that writes nothing")
    func appendedAndDuplicate() throws {
        try withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            var writer = ChainWriter(stream: "venue-a")
            let first = writer.next()
            let second = writer.next()
            #expect(try journal.append(first) == .appended)
            #expect(try journal.append(second) == .appended)
            #expect(try journal.append(first) == .duplicate)  // an older one
            #expect(try journal.append(second) == .duplicate)  // the head
            #expect(try journal.entries(stream: "venue-a", after: nil, limit: 10) == [first, second])
            #expect(try journal.last(stream: "venue-a") == StreamHead(epoch: 0, sequence: 2, hash: second.hash))
            try journal.close()
        }
    }

    @Test("an entry ahead of the stream is a gap naming the expected sequence")
    func gap() throws {
        try withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            var writer = ChainWriter(stream: "venue-a")
            let entries = writer.next(4)
            #expect(try journal.append(entries[1]) == .gap(expected: 1))  // a new stream starts at 1
            #expect(try journal.append(entries[0]) == .appended)
            #expect(try journal.append(entries[2]) == .gap(expected: 2))
            #expect(try journal.last(stream: "venue-a")?.sequence == 1)
            try journal.close()
        }
    }

    @Test("same position with another hash, or a previousHash that is not the head's, is a fork")
    func fork() throws {
        try withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            var writer = ChainWriter(stream: "venue-a")
            let entries = writer.next(3)
            _ = try journal.append(Array(entries[0..<2]))

            #expect(try journal.append(forked(entries[0])) == .fork(existingHash: entries[0].hash))
            #expect(try journal.append(forked(entries[1])) == .fork(existingHash: entries[1].hash))
            var badLink = entries[2]
            badLink.previousHash = testHash([Array("someone else's history".utf8)])
            #expect(try journal.append(badLink) == .fork(existingHash: entries[1].hash))
            // A new stream must chain onto the genesis hash.
            var orphanWriter = ChainWriter(stream: "venue-b")
            var orphan = orphanWriter.next()
            orphan.previousHash = entries[0].hash
            #expect(try journal.append(orphan) == .fork(existingHash: JournalEntry.genesisHash))

            #expect(try journal.entries(stream: "venue-a", after: nil, limit: 10) == Array(entries[0..<2]))
            #expect(try journal.streams() == ["venue-a"])
            try journal.close()
        }
    }

    @Test("a new, larger epoch restarts at sequence 1 and chains on; an older epoch is stale")
    func epochs() throws {
        try withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            var writer = ChainWriter(stream: "venue-a", epoch: 1)
            let epochOne = writer.next(3)
            #expect(try journal.append(epochOne) == [.appended, .appended, .appended])

            // A zombie of epoch 1 and a restarted writer of epoch 2 (which lost entry 3).
            var zombie = writer
            var restarted = ChainWriter(stream: "venue-a", epoch: 1)
            _ = restarted.next(3)
            restarted.startEpoch(2)
            let epochTwoFirst = restarted.next()
            var wrongStart = epochTwoFirst
            wrongStart.sequence = 5
            #expect(try journal.append(wrongStart) == .gap(expected: 1))
            #expect(try journal.append(epochTwoFirst) == .appended)
            #expect(try journal.append(restarted.next()) == .appended)

            #expect(try journal.append(zombie.next()) == .staleEpoch)  // 1:4, after the epoch moved on
            #expect(try journal.append(epochOne[2]) == .duplicate)  // a retry of an old entry
            #expect(try journal.append(forked(epochOne[1])) == .fork(existingHash: epochOne[1].hash))

            // A writer that lost acknowledged entries and restarts in a new epoch from its own
            // (shorter) history is detected: its first entry does not chain onto our head.
            var amnesiac = ChainWriter(stream: "venue-a", epoch: 1)
            _ = amnesiac.next(1)
            amnesiac.startEpoch(3)
            #expect(try journal.append(amnesiac.next()) == .fork(existingHash: restarted.previousHash))
            #expect(try journal.last(stream: "venue-a") == StreamHead(epoch: 2, sequence: 2, hash: restarted.previousHash))
            try journal.close()
        }
    }

    @Test("malformed entries are rejected as values, not errors")
    func malformed() throws {
        try withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            var writer = ChainWriter(stream: "venue-a")
            let good = writer.next()
            var shortHash = good
            shortHash.hash = [1, 2, 3]
            var negativeEpoch = good
            negativeEpoch.epoch = -1
            var zeroSequence = good
            zeroSequence.sequence = 0
            var noName = good
            noName.stream = ""
            let outcomes = try journal.append([shortHash, negativeEpoch, zeroSequence, noName, good])
            for outcome in outcomes.prefix(4) {
                guard case .malformed = outcome else {
                    Issue.record("expected .malformed, got \(outcome)")
                    continue
                }
            }
            #expect(outcomes.last == .appended)
            try journal.close()
        }
    }

    @Test("batch rule: each entry is judged as if appended alone, in order; the accepted ones commit")
    func batchWithBadEntriesInTheMiddle() throws {
        try withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            var a = ChainWriter(stream: "venue-a")
            var b = ChainWriter(stream: "venue-b")
            let aEntries = a.next(4)
            let bEntries = b.next(2)
            let batch = [
                aEntries[0], bEntries[0], aEntries[1],
                aEntries[3],  // gap: 3 has not been seen yet
                forked(aEntries[1]),  // fork of an entry appended earlier in this batch
                aEntries[1],  // duplicate of an entry appended earlier in this batch
                aEntries[2], aEntries[3],  // the chain goes on
                bEntries[1],
            ]
            let outcomes = try journal.append(batch)
            #expect(outcomes == [
                .appended, .appended, .appended,
                .gap(expected: 3),
                .fork(existingHash: aEntries[1].hash),
                .duplicate,
                .appended, .appended,
                .appended,
            ])
            #expect(try journal.entries(stream: "venue-a", after: nil, limit: 10) == aEntries)
            #expect(try journal.entries(stream: "venue-b", after: nil, limit: 10) == bEntries)
            try journal.close()
        }
    }

    @Test("a large batch: runs cut by other streams and by lookups of entries appended earlier in the batch, empty payloads")
    func largeBatch() throws {
        try withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            var a = ChainWriter(stream: "venue-a")
            var b = ChainWriter(stream: "venue-b")
            let aEntries = (0..<150).map { index in a.next(payload: index % 7 == 0 ? [] : nil) }
            let bEntries = b.next(70)
            let batch =
                Array(aEntries[0..<100])
                + [aEntries[10], forked(aEntries[20])]  // below the head, appended earlier in this batch
                + bEntries + Array(aEntries[100...])
                + [bEntries[5]]
            let outcomes = try journal.append(batch)
            let expected: [AppendOutcome] =
                Array(repeating: .appended, count: 100)
                + [.duplicate, .fork(existingHash: aEntries[20].hash)]
                + Array(repeating: .appended, count: 120)
                + [.duplicate]
            #expect(outcomes == expected)
            #expect(try journal.entries(stream: "venue-a", after: nil, limit: 1_000) == aEntries)
            #expect(try journal.entries(stream: "venue-b", after: nil, limit: 1_000) == bEntries)
            #expect(try journal.last(stream: "venue-a") == StreamHead(epoch: 0, sequence: 150, hash: aEntries[149].hash))
            try journal.close()
        }
    }

    @Test("entries pages through a stream in (epoch, sequence) order")
    func paging() throws {
        try withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            var writer = ChainWriter(stream: "s")
            var all = writer.next(5)
            writer.startEpoch(1)
            all += writer.next(5)
            _ = try journal.append(all)
            var read: [JournalEntry] = []
            var position: JournalPosition?
            while true {
                let page = try journal.entries(stream: "s", after: position, limit: 3)
                if page.isEmpty { break }
                read += page
                position = page.last?.position
            }
            #expect(read == all)
            #expect(try journal.entries(stream: "s", after: JournalPosition(epoch: 0, sequence: 4), limit: 2) == Array(all[4..<6]))
            try journal.close()
        }
    }

    @Test("nothing of a transaction is visible to readers before it commits")
    func invisibleBeforeCommit() throws {
        try withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            var writer = ChainWriter(stream: "venue-a")
            let entries = writer.next(3)
            let appended = DispatchSemaphore(value: 0)
            let checked = DispatchSemaphore(value: 0)
            let finished = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                _ = try? journal.transaction { transaction in
                    _ = try transaction.append(entries)
                    appended.signal()
                    checked.wait()
                }
                finished.signal()
            }
            appended.wait()
            #expect(try journal.last(stream: "venue-a") == nil)
            #expect(try journal.entries(stream: "venue-a", after: nil, limit: 10).isEmpty)
            checked.signal()
            finished.wait()
            #expect(try journal.entries(stream: "venue-a", after: nil, limit: 10) == entries)
            try journal.close()
        }
    }

    @Test("a transaction whose body throws writes nothing, and the caller's error comes back unchanged")
    func rollback() throws {
        struct Abort: Error, Equatable {}
        try withTemporaryDirectory { directory in
            let journal = try Journal.open(path: directory + "/journal.sqlite")
            var writer = ChainWriter(stream: "venue-a")
            let entries = writer.next(3)
            #expect(throws: Abort()) {
                try journal.transaction { transaction in
                    _ = try transaction.append(entries)
                    try transaction.setCursor("acknowledged/venue-a", 3)
                    try transaction.enqueue(OutboxRun(destination: "venue-a", first: 1, last: 1, payload: [3]))
                    throw Abort()
                }
            }
            #expect(try journal.streams().isEmpty)
            #expect(try journal.cursor("acknowledged/venue-a") == nil)
            #expect(try journal.pendingRuns(destination: "venue-a").isEmpty)
            #expect(try journal.append(entries) == [.appended, .appended, .appended])
            try journal.close()
        }
    }
}
