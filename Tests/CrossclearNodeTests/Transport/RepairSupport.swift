import CrossclearEngine
import CrossclearStore
import CrossclearWire
import Synchronization
import Testing

@testable import CrossclearNode

// MARK: - A clearing-side consumer that keeps views and repairs them

/// Keeps a ``MarginBook`` view per venue the way the clearing node does, checks every reported
/// digest against it, asks the server for a snapshot on a mismatch and installs the answer.
/// `dropping` corrupts the view on purpose: the change of (venue, sequence) is not applied.
final class RepairingViewConsumer: ChangeConsumer {
    struct Repair: Sendable, Hashable {
        var venue: String
        var throughSequence: UInt64
        var reapplied: [UInt64]
    }

    private struct State {
        var views: [String: MarginBook] = [:]
        var delivered: [String: [UInt64]] = [:]
        var mismatches: [String: [UInt64]] = [:]
        var repairs: [Repair] = []
        var dropping: Set<String>
        var server: ClearingServer?
    }

    private let state: Mutex<State>

    /// Drops the changes named `"<venue>@<sequence>"` in `dropping`.
    init(dropping: Set<String> = []) {
        state = Mutex(State(dropping: dropping))
    }

    func attach(_ server: ClearingServer) { state.withLock { $0.server = server } }

    func consume(venue: String, epoch: UInt64, changes: [Change]) async {
        let (mismatch, server) = state.withLock { state -> (UInt64?, ClearingServer?) in
            var view = state.views[venue] ?? MarginBook()
            var mismatch: UInt64?
            for change in changes {
                state.delivered[venue, default: []].append(change.sequence)
                if case .digest(let digest) = change.body, digest != view.digest() {
                    state.mismatches[venue, default: []].append(change.sequence)
                    mismatch = change.sequence
                }
                if state.dropping.contains("\(venue)@\(change.sequence)") { continue }
                try? view.apply(change.body)
            }
            state.views[venue] = view
            return (mismatch, state.server)
        }
        if let mismatch, let server {
            await server.requestSnapshot(of: venue, reason: "digest at \(epoch):\(mismatch) does not match the view")
        }
    }

    func restore(venue: String, snapshot: BookSnapshot, followedBy changes: [Change]) async {
        state.withLock { state in
            var view = snapshot.book
            for change in changes { try? view.apply(change.body) }
            state.views[venue] = view
            state.repairs.append(Repair(venue: venue, throughSequence: snapshot.throughSequence, reapplied: changes.map(\.sequence)))
            state.delivered[venue, default: []].append(0)  // marks the repair in the delivery record
        }
    }

    func digest(of venue: String) -> UInt64 { state.withLock { ($0.views[venue] ?? MarginBook()).digest() } }
    func mismatches(of venue: String) -> [UInt64] { state.withLock { $0.mismatches[venue] ?? [] } }
    var repairs: [Repair] { state.withLock { $0.repairs } }
    /// The sequences delivered to `consume` after the last repair.
    func deliveredAfterRepair(of venue: String) -> [UInt64] {
        state.withLock { state in
            let all = state.delivered[venue] ?? []
            guard let marker = all.lastIndex(of: 0) else { return all }
            return Array(all[(marker + 1)...])
        }
    }
}

// MARK: - A venue application with a published book

/// Journals hash-chained changes the way a venue node does and keeps the book they publish, with its
/// history, so a test can answer a snapshot request with the book at the head or at an older point.
final class BookVenue: Sendable {
    private struct State {
        var hasher: ChainHasher
        var book = MarginBook()
        var history: [UInt64: MarginBook] = [0: MarginBook()]
        /// Answer snapshot requests with the book at this sequence instead of the head.
        var answerAt: UInt64?
    }

    let journal: Journal
    let stream: String
    /// Whether the book after every change is kept (for ``answer(at:)``; costly for large books).
    let keepsHistory: Bool
    private let state: Mutex<State>

    init(journal: Journal, epoch: UInt64 = 1, keepsHistory: Bool = false) {
        self.journal = journal
        self.keepsHistory = keepsHistory
        stream = "changes/\(epoch)"
        state = Mutex(State(hasher: ChainHasher(epoch: epoch)))
    }

    /// Journals `bodies` (a `nil` body is a digest of the book at that point); returns the last sequence.
    @discardableResult
    func journal(_ bodies: [ChangeBody?]) throws -> UInt64 {
        try state.withLock { state in
            var entries: [JournalEntry] = []
            for given in bodies {
                let body = given ?? .digest(state.book.digest())
                let change = try state.hasher.append(body)
                try state.book.apply(body)
                if keepsHistory { state.history[change.sequence] = state.book }
                entries.append(try TransportJournal.entry(for: change, stream: stream))
            }
            #expect(try journal.append(entries).allSatisfy { $0 == .appended })
            return state.hasher.lastSequence
        }
    }

    /// Puts accounts in the book without journaling them (changes the clearing node never gets).
    func seed(accounts: some Sequence<UInt32>) {
        state.withLock { state in
            for account in accounts { try? state.book.apply(Self.accountChange(account, collateral: 1)) }
        }
    }

    static func accountChange(_ account: UInt32, collateral: Int64) -> ChangeBody {
        .account(
            AccountState(
                account: account, trader: account % 7, collateral: Amount(raw: collateral + Int64(account)),
                positions: [PositionState(asset: UInt16(account % 3), quantity: Quantity(raw: 1 + Int64(account)), basis: Amount(raw: 10))]))
    }

    /// Journals account changes for `accounts` (collateral `collateral`), then a digest.
    @discardableResult
    func journal(accounts: some Sequence<UInt32>, collateral: Int64, digest: Bool = true) throws -> UInt64 {
        let bodies: [ChangeBody?] = accounts.map { Self.accountChange($0, collateral: collateral) }
        return try journal(digest ? bodies + [nil] : bodies)
    }

    func answer(at sequence: UInt64?) { state.withLock { $0.answerAt = sequence } }

    var digest: UInt64 { state.withLock { $0.book.digest() } }

    /// The link's `publishedBook` closure: the book and its sequence, read under one lock.
    var published: (book: MarginBook, throughSequence: UInt64) {
        state.withLock { state in
            if let at = state.answerAt, let book = state.history[at] { return (book, at) }
            return (state.book, state.hasher.lastSequence)
        }
    }
}

extension TransportFixture {
    func server(venues: [String] = ["venue-a", "venue-b"], consumer: RepairingViewConsumer) throws -> ClearingServer {
        let server = try ClearingServer(
            configuration: .init(port: 0, venues: venues, heartbeatInterval: .milliseconds(50), staleAfter: .milliseconds(300)),
            tls: clearingTLS, journal: clearingJournal, consumer: consumer, logger: serverLogs.logger())
        consumer.attach(server)
        return server
    }

    func link(venue: String, port: Int, app: BookVenue) throws -> VenueLink {
        try VenueLink(
            configuration: .init(
                venue: venue, host: "127.0.0.1", port: port, epoch: 1, stream: app.stream,
                heartbeatInterval: .milliseconds(50), staleAfter: .milliseconds(300)),
            tls: try cluster.tls(.testVenue(venue)), journal: app.journal, instructions: RecordingInstructionConsumer(),
            stateDigest: { app.digest }, publishedBook: { app.published }, logger: venueLogs.logger())
    }
}
