import CrossclearEngine
import CrossclearWire
import Crypto
import Testing

@Suite("Hash chain and sequence tracking")
struct ChainTests {
    func body(_ value: UInt64) -> ChangeBody { .digest(value) }

    @Test("genesis: 32 zero bytes, the previousHash of sequence 1 in every epoch")
    func genesis() throws {
        #expect(ChainHash.genesis.bytes == [UInt8](repeating: 0, count: 32))
        var hasher = ChainHasher(epoch: 5)
        let first = try hasher.append(body(1))
        #expect(first.epoch == 5 && first.sequence == 1 && first.previousHash == .genesis)
        let started = hasher.startEpoch(6)
        let startedAgain = hasher.startEpoch(6)
        #expect(started && !startedAgain)
        let next = try hasher.append(body(1))
        #expect(next.sequence == 1 && next.previousHash == .genesis && next.hash != first.hash)
    }

    @Test("the hash is SHA-256(previousHash || epoch || sequence || kind || payload), byte for byte")
    func formula() throws {
        let body = ChangeBody.marks([MarkState(asset: 2, oracle: Price(raw: 3), mark: Price(raw: 4))])
        var hasher = ChainHasher(epoch: 0x0102, lastSequence: 6, lastHash: try ChainHash(bytes: [UInt8](repeating: 0xAB, count: 32)))
        let change = try hasher.append(body)
        var input = [UInt8](repeating: 0xAB, count: 32)
        input += [0, 0, 0, 0, 0, 0, 0x01, 0x02]  // epoch
        input += [0, 0, 0, 0, 0, 0, 0, 7]  // sequence
        input += [2]  // kind: marks
        input += [0, 0, 0, 1, 0, 2] + [0, 0, 0, 0, 0, 0, 0, 3] + [0, 0, 0, 0, 0, 0, 0, 4]  // count, asset, oracle, mark
        #expect(try WireEncoder.payload(of: body) == Array(input[49...]))
        #expect(change.hash.bytes == Array(SHA256.hash(data: input)))
    }

    @Test("a valid chain is applied in order and validates")
    func validChain() throws {
        var generator = MessageGenerator(seed: 1)
        let changes = try generator.changes(500, epoch: 4)
        #expect(ChainHasher.firstBreak(in: changes) == nil)
        var tracker = SequenceTracker()
        for change in changes { #expect(tracker.accept(change) == .apply) }
        #expect(tracker.epoch == 4 && tracker.lastSequence == 500 && tracker.lastHash == changes[499].hash)
    }

    @Test("a tampered payload is detected")
    func tampered() throws {
        var generator = MessageGenerator(seed: 2)
        var changes = try generator.changes(10)
        #expect(ChainHasher.isValid(changes[4]))
        changes[4].body = .digest(12_345)
        #expect(!ChainHasher.isValid(changes[4]))
        #expect(ChainHasher.firstBreak(in: changes) == 4)
        var relinked = try generator.changes(10)
        relinked[6].previousHash = relinked[4].hash  // valid hash of its own content, wrong link
        relinked[6].hash = try ChainHasher.hash(
            previousHash: relinked[6].previousHash, epoch: relinked[6].epoch, sequence: 7, body: relinked[6].body)
        #expect(ChainHasher.firstBreak(in: relinked) == 6)
    }

    @Test("fork: same sequence with another hash, or a change that does not chain onto the head")
    func fork() throws {
        var venue = ChainHasher(epoch: 1)
        let original = try (1...5).map { try venue.append(body($0)) }
        var tracker = SequenceTracker(epoch: 1)
        for change in original { #expect(tracker.accept(change) == .apply) }

        // The venue lost its last two changes (power loss) and rewrote sequence 4 and 5 differently.
        var rewritten = ChainHasher(epoch: 1, lastSequence: 3, lastHash: original[2].hash)
        let other4 = try rewritten.append(body(40))
        let other5 = try rewritten.append(body(50))
        #expect(tracker.accept(other4) == .fork(sequence: 4, existingHash: original[3].hash))
        #expect(tracker.accept(other5) == .fork(sequence: 5, existingHash: original[4].hash))
        // ... and its sequence 6 chains onto its own 5, not onto ours.
        let other6 = try rewritten.append(body(60))
        #expect(tracker.accept(other6) == .fork(sequence: 5, existingHash: original[4].hash))
        #expect(tracker.lastSequence == 5)
    }

    @Test("gap: a change ahead of the stream names the expected sequence and applies nothing")
    func gap() throws {
        var venue = ChainHasher(epoch: 1)
        let changes = try (1...6).map { try venue.append(body($0)) }
        var tracker = SequenceTracker(epoch: 1)
        #expect(tracker.accept(changes[1]) == .gap(expected: 1))
        #expect(tracker.accept(changes[0]) == .apply)
        #expect(tracker.accept(changes[3]) == .gap(expected: 2))
        #expect(tracker.accept(changes[5]) == .gap(expected: 2))
        for change in changes[1...] { #expect(tracker.accept(change) == .apply) }
    }

    @Test("duplicate: a repeat of an applied change is ignored; too old to compare is reported")
    func duplicate() throws {
        var venue = ChainHasher(epoch: 1)
        let changes = try (1...20).map { try venue.append(body($0)) }
        var tracker = SequenceTracker(epoch: 1, historyLimit: 8)
        for change in changes { #expect(tracker.accept(change) == .apply) }
        #expect(tracker.accept(changes[19]) == .duplicate)
        #expect(tracker.accept(changes[12]) == .duplicate)
        #expect(tracker.hash(at: 13) == changes[12].hash)
        #expect(tracker.accept(changes[11]) == .beyondHistory(oldestRetained: 13))
        #expect(tracker.hash(at: 12) == nil)
        #expect(tracker.lastSequence == 20)

        // Restored from a journal head: only the head's hash is known.
        var restored = SequenceTracker(epoch: 1, lastSequence: 20, lastHash: changes[19].hash)
        #expect(restored.accept(changes[19]) == .duplicate)
        #expect(restored.accept(changes[3]) == .beyondHistory(oldestRetained: 20))
        let next = try venue.append(body(21))
        #expect(restored.accept(next) == .apply)
    }

    @Test("new epoch: starts at 1 on genesis; an older epoch is stale; a later epoch not at 1 is a gap")
    func newEpoch() throws {
        var venue = ChainHasher(epoch: 1)
        let old = try (1...3).map { try venue.append(body($0)) }
        var tracker = SequenceTracker(epoch: 1)
        for change in old { #expect(tracker.accept(change) == .apply) }

        venue.startEpoch(2)
        let fresh = try (1...3).map { try venue.append(body($0 + 100)) }
        #expect(tracker.accept(fresh[1]) == .gap(expected: 1))
        #expect(tracker.accept(fresh[0]) == .apply)
        #expect(tracker.epoch == 2 && tracker.lastSequence == 1)
        #expect(tracker.accept(old[2]) == .staleEpoch(current: 2))
        #expect(tracker.accept(fresh[1]) == .apply)

        // startEpoch from a Hello: nothing applied yet in the new epoch.
        let started = tracker.startEpoch(7)
        let startedAgain = tracker.startEpoch(7)
        #expect(started && !startedAgain)
        #expect(tracker.lastSequence == 0 && tracker.lastHash == .genesis)
        #expect(tracker.accept(fresh[2]) == .staleEpoch(current: 7))
        var seventh = ChainHasher(epoch: 7)
        #expect(tracker.accept(try seventh.append(body(1))) == .apply)
    }
}

@Suite("Test vector of Docs/protocol.md (computed independently with Python's hashlib)")
struct TestVectorTests {
    func hexBytes(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    @Test("a one-change batch carrying a digest, byte for byte")
    func digestBatch() throws {
        let frame = hexBytes(
            "0000005e0200000001608ccb0ec4ca3e2b7bd0a9061477efda546acbcd528b6abd2aa95799b05924f5"
                + "0000000000000000000000000000000000000000000000000000000000000000"
                + "00000000000000010000000000000001040123456789abcdef")
        var hasher = ChainHasher(epoch: 1)
        let change = try hasher.append(.digest(0x0123_4567_89AB_CDEF))
        #expect(change.hash.description == "608ccb0ec4ca3e2b7bd0a9061477efda546acbcd528b6abd2aa95799b05924f5")
        #expect(try frameBytes(.changeBatch(ChangeBatch(changes: [change]))) == frame)
        #expect(try decodeOne(frame) == .changeBatch(ChangeBatch(changes: [change])))
    }
}
