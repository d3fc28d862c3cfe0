import CrossclearEngine
import CrossclearWire
import Testing

@testable import CrossclearNode

/// The clearing side's snapshot assembly, without sockets: what it takes, what it refuses and why.
@Suite("Transport: snapshot assembly")
struct TransportSnapshotAssemblyTests {
    static func account(_ number: UInt32) -> AccountState {
        AccountState(
            account: number, trader: number % 5, collateral: Amount(raw: Int64(number) * 10),
            positions: [PositionState(asset: 1, quantity: Quantity(raw: 3), basis: Amount(raw: 4))])
    }

    static let book: MarginBook = {
        var book = MarginBook()
        for number in UInt32(0)..<5_000 { try? book.apply(.account(account(number))) }
        try? book.apply(.marks([MarkState(asset: 1, oracle: Price(raw: 7), mark: Price(raw: 8))]))
        return book
    }()

    static func parts(id: UInt64 = 1, epoch: UInt64 = 1, digest: UInt64? = nil) -> [SnapshotPart] {
        let snapshot = BookSnapshot(epoch: epoch, throughSequence: 9, book: book)
        var parts = snapshot.parts(snapshotId: id, maximumFrameLength: 1 << 17)
        if let digest { for index in parts.indices { parts[index].digest = digest } }
        return parts
    }

    func feed(_ parts: [SnapshotPart], expected: UInt64? = 1, epoch: UInt64 = 1) -> [SnapshotAssembler.Verdict] {
        var assembler = SnapshotAssembler(maximumBytes: 1 << 30)
        return parts.map { assembler.accept($0, expected: expected, epoch: epoch) }
    }

    @Test("the parts of a requested snapshot assemble to the venue's book")
    func assembles() {
        let parts = Self.parts()
        #expect(parts.count == 2)
        let verdicts = feed(parts)
        #expect(verdicts == [.incomplete, .complete(BookSnapshot(epoch: 1, throughSequence: 9, book: Self.book), parts: 2)])
    }

    @Test("refused: unsolicited, another epoch, a digest its content does not have; the rest of a refused snapshot is ignored")
    func refusals() {
        let parts = Self.parts()
        #expect(feed(parts, expected: nil) == [.refused(snapshotId: 1, reason: "unsolicited snapshot 1 (none is requested)"), .ignored])
        #expect(feed(parts, expected: 2)[0] == .refused(snapshotId: 1, reason: "unsolicited snapshot 1 (snapshot 2 is requested)"))
        #expect(feed(parts, epoch: 2)[0] == .refused(snapshotId: 1, reason: "snapshot of epoch 1 on a connection of epoch 2"))
        let forged = feed(Self.parts(digest: 42))
        guard case .refused(1, let reason) = forged[1] else {
            Issue.record("expected a refusal, got \(forged)")
            return
        }
        #expect(reason.hasPrefix("the book's digest is 0x") && reason.hasSuffix("the snapshot states 0x000000000000002a"))
    }

    @Test("refused: parts out of order, headers that disagree, accounts not ascending across parts, too many bytes")
    func inconsistentParts() {
        let parts = Self.parts()
        #expect(feed([parts[1]])[0] == .refused(snapshotId: 1, reason: "snapshot 1 starts at part 1"))
        #expect(feed([parts[0], parts[0]])[1] == .refused(snapshotId: 1, reason: "part 0 where part 1 was due"))
        var other = parts[1]
        other.throughSequence = 10
        #expect(
            feed([parts[0], other])[1]
                == .refused(snapshotId: 1, reason: "part 1 states another epoch, sequence, digest or part count than part 0"))
        var overlapping = parts[1]
        overlapping.accounts.insert(Self.account(0), at: 0)
        guard case .refused(1, let reason) = feed([parts[0], overlapping])[1] else {
            Issue.record("expected a refusal")
            return
        }
        #expect(reason.hasPrefix("part 1 starts at account 0, not above account"))
        var small = SnapshotAssembler(maximumBytes: 1_000)
        #expect(small.accept(parts[0], expected: 1, epoch: 1) == .refused(snapshotId: 1, reason: "more than 1000 bytes of frames"))
        #expect(small.accept(parts[1], expected: 1, epoch: 1) == .ignored)
        // After a refused snapshot is over, a new one is taken.
        #expect(small.accept(Self.parts(id: 2)[0], expected: 2, epoch: 1) == .refused(snapshotId: 2, reason: "more than 1000 bytes of frames"))
        var big = SnapshotAssembler(maximumBytes: 1 << 30)
        _ = big.accept(parts[0], expected: 1, epoch: 1)
        big.reset()
        #expect(!big.isReceiving)
    }

    @Test("an account above the largest account number is refused")
    func accountOutOfRange() {
        let huge = SnapshotPart(
            snapshotId: 1, epoch: 1, throughSequence: 1, digest: 0, part: 0, partCount: 1,
            accounts: [Self.account(MarginBook.maximumAccount + 1)], marks: [])
        guard case .refused(1, let reason) = feed([huge])[0] else {
            Issue.record("expected a refusal")
            return
        }
        #expect(reason.contains("above the largest account number"))
    }

    @Test("a trader above the largest trader number is refused, the venue's own accounts are not")
    func traderOutOfRange() throws {
        var book = MarginBook()
        var state = Self.account(7)
        state.trader = MarginBook.maximumTrader + 1
        #expect(throws: MarginBookError.traderOutOfRange(account: 7, trader: MarginBook.maximumTrader + 1)) {
            try book.apply(.account(state))
        }
        #expect(book.account(7) == nil)
        state.trader = VenueMachine.venueOwned
        try book.apply(.account(state))
        #expect(book.account(7) == state)
    }
}
