import Crypto
import CrossclearEngine
import CrossclearSimulation
import CrossclearWire

// A venue machine's whole state as bytes, so that a restart replays only the steps after the last
// snapshot instead of every step from the start (and does not build the venue's world, or the
// simulator's whole world for the pool's funding, at all).
//
// Layout (integers little-endian, see `StateWriter`):
//   "CCVM", format (UInt32), fingerprint (32 bytes: scenario, venue, design),
//   step, last instruction, collateral-move totals, accounts whose backstop request is published,
//   the cluster-wide number of each trader, the pool contribution (shared designs), the world's state,
//   SHA-256 of everything before it (32 bytes).
// What the venue has published is not stored: right after a step's (or an instruction batch's)
// changes are taken, it is exactly the book of the machine's current state (`currentBook()`).

extension VenueMachine {
    static let snapshotMagic: [UInt8] = Array("CCVM".utf8)
    /// Version of the snapshot layout; another version is not taken up (restore replays from the start).
    static let snapshotFormat: UInt32 = 1

    /// The machine's state, to be taken up by ``init(scenario:venue:design:snapshot:)``. Take it only
    /// right after ``changes()`` (what it published must be its current book).
    public func snapshot() -> [UInt8] {
        var writer = StateWriter()
        writer.writeRaw(Self.snapshotMagic)
        writer.write(Self.snapshotFormat)
        writer.writeRaw(fingerprint)
        writer.write(Int64(step))
        writer.write(lastInstruction)
        writer.write([Int64(moves.debits), moves.debited, Int64(moves.credits), moves.credited])
        writer.write(requested.sorted().map { Int64($0) })
        writer.write(globalTrader)
        let contribution = world.config.externalPool?.contributions.first
        writer.write(contribution != nil)
        writer.write(contribution?.raw ?? 0)
        world.encodeState(into: &writer)
        let checksum = Array(SHA256.hash(data: writer.bytes))
        writer.writeRaw(checksum)
        return writer.bytes
    }

    /// The machine a snapshot holds, for `scenario`'s `venue` under `design`.
    ///
    /// - Throws: ``VenueSnapshotError/otherOrigin(_:)`` when the snapshot was taken by a machine built
    ///   from other inputs (or by another layout version); ``VenueSnapshotError/damaged(_:)`` when its
    ///   bytes do not check out.
    public init(scenario: Scenario, venue: String, design: ClearingDesign, snapshot bytes: [UInt8]) throws(VenueSnapshotError) {
        let header = Self.snapshotMagic.count + 4 + 32
        guard bytes.count >= header + 32, Array(bytes[..<Self.snapshotMagic.count]) == Self.snapshotMagic else {
            throw .damaged("not a venue machine snapshot")
        }
        guard Array(SHA256.hash(data: bytes[..<(bytes.count - 32)])) == Array(bytes[(bytes.count - 32)...]) else {
            throw .damaged("its checksum does not match its contents")
        }
        let index: Int
        do { index = try Self.index(of: venue, in: scenario) } catch { throw .otherOrigin("\(error)") }
        var reader = StateReader(bytes, offset: Self.snapshotMagic.count)
        do {
            let format: UInt32 = try reader.read()
            guard format == Self.snapshotFormat else { throw VenueSnapshotError.otherOrigin("layout version \(format), this build reads \(Self.snapshotFormat)") }
            let fingerprint = try reader.readRaw(count: 32)
            guard fingerprint == Self.fingerprint(scenario: scenario, venue: venue, design: design) else {
                throw VenueSnapshotError.otherOrigin("it was taken under another scenario, venue or design")
            }
            let step = Int(try reader.read(Int64.self))
            let lastInstruction: UInt64 = try reader.read()
            let moves: [Int64] = try reader.readArray()
            let requested: [Int64] = try reader.readArray()
            let globalTrader: [UInt32] = try reader.readArray()
            let hasContribution: Bool = try reader.read()
            let contribution = Amount(raw: try reader.read())
            guard moves.count == 4, hasContribution == design.isShared else { throw StateDecodingError.mismatch("the machine's own fields do not fit its design") }
            let config = Self.engineConfig(scenario: scenario, index: index, design: design, poolContribution: hasContribution ? contribution : nil)
            let world = try World(config: config, decoding: &reader)
            guard reader.remaining == 32 else { throw StateDecodingError.invalid("\(reader.remaining - 32) bytes left over", at: reader.offset) }
            guard globalTrader.count == world.traderCount, (0...max(1, scenario.stepCount)).contains(step),
                  requested.allSatisfy({ (0..<world.venues[0].accountCount).contains(Int($0)) })
            else { throw StateDecodingError.mismatch("the machine's own fields do not fit its world") }

            self.init(scenario: scenario, index: index, design: design, world: world, prices: PriceModel(scenario: scenario), globalTrader: globalTrader)
            self.step = step
            self.lastInstruction = lastInstruction
            self.moves = CollateralMoveTotals(debits: Int(moves[0]), debited: moves[1], credits: Int(moves[2]), credited: moves[3])
            self.requested = Set(requested.map(Int.init))
            published = currentBook()
        } catch let error as VenueSnapshotError {
            throw error
        } catch {
            throw .damaged("\(error)")
        }
    }

    /// The book of the machine's current state: every account and every mark, as ``changes()``
    /// publishes them.
    func currentBook() -> MarginBook {
        var book = MarginBook()
        let state = world.venues[0]
        for account in 0..<state.accountCount {
            // The book takes whatever this venue produces: its accounts are numbered densely.
            try? book.apply(.account(accountState(account, of: state)))
        }
        try? book.apply(.marks(state.markets.map { MarkState(asset: UInt16($0.asset), oracle: $0.oracle, mark: $0.mark) }))
        return book
    }
}

/// Why a venue machine snapshot cannot be taken up.
public enum VenueSnapshotError: Error, Sendable, Hashable, CustomStringConvertible {
    /// It was taken by a machine built from other inputs, or written in another layout: not this
    /// machine's to take up (a replay from the start decides whether the journal is).
    case otherOrigin(String)
    /// Its bytes do not check out (checksum, structure): the journal is damaged.
    case damaged(String)

    public var description: String {
        switch self {
        case .otherOrigin(let why): "the snapshot is not this machine's: \(why)"
        case .damaged(let why): "the snapshot is damaged: \(why)"
        }
    }
}
