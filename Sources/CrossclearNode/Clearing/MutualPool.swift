import CrossclearEngine
import CrossclearSimulation

/// The clearing node's mutual pool: the buyer of last resort of every venue of a shared design.
///
/// Funded when clearing starts by each venue's Cover-N contribution, with each venue's assessment
/// treasury deposited beside it (both as the simulator's world computes them, so venues and the
/// clearing node agree without asking each other). Its inventory sits in each venue's pool account,
/// which the clearing node sees in its views; its cash is here. Every change of this state is
/// journaled (as ``cursors``) in the same transaction as the instructions it decided.
public struct MutualPool: Sendable, Hashable {
    /// Pool cash held by the clearing node (Amount raw).
    public private(set) var cash: Int64
    /// Per venue: treasury left for assessments (Amount raw).
    public private(set) var treasuries: [Int64]
    /// What the pool has done so far.
    public private(set) var totals = PoolTotals()
    /// Per venue: the (epoch, sequence) of the last backstop request answered; requests are
    /// answered in stream order, so anything at or below it was answered before.
    public private(set) var answered: [RequestPosition]

    /// A position in a venue's change stream.
    public struct RequestPosition: Sendable, Hashable, Comparable {
        public var epoch: UInt64
        public var sequence: UInt64
        public static func < (a: Self, b: Self) -> Bool { (a.epoch, a.sequence) < (b.epoch, b.sequence) }
    }

    /// A pool funded by `funding` (one entry per venue, in cluster order).
    public init(funding: [PoolFunding]) {
        cash = funding.reduce(0) { $0 + $1.contribution.raw }
        treasuries = funding.map(\.treasury.raw)
        answered = Array(repeating: RequestPosition(epoch: 0, sequence: 0), count: funding.count)
    }

    /// Calls assessments for `needed`: every treasury pays in proportion to what it has left, until
    /// `needed` is covered or the treasuries are empty (as the simulator's world does).
    mutating func callAssessments(for needed: Int64) {
        let available = treasuries.reduce(0, +)
        guard needed > 0, available > 0 else { return }
        let shares = allocate(Amount(raw: min(needed, available)), weights: treasuries)
        for (venue, share) in shares.enumerated() {
            treasuries[venue] -= share.raw
            cash += share.raw
            totals.assessed += share.raw
        }
    }

    /// Records a fill paying `paid` (negative: received) to an account, and the ADL round run for
    /// it if the pool could not cover it: its cuts and the haircuts they collect.
    mutating func recordFill(venue: Int, request: RequestPosition, paid: Int64, round: (cuts: Int, haircuts: Int64)?) {
        cash -= paid
        answered[venue] = request
        totals.fills += 1
        totals.paid += paid
        if let round { recordRound(cuts: round.cuts, haircuts: round.haircuts) }
    }

    /// Records an ADL round: its cuts and the haircuts they pay into the pool.
    mutating func recordRound(cuts: Int, haircuts: Int64) {
        cash += haircuts
        totals.haircuts += haircuts
        totals.adlRounds += 1
        totals.adlCuts += cuts
    }

    // MARK: - Persistence

    /// The journal cursors holding this state, by name.
    public func cursors(venues: [String]) -> [String: Int64] {
        var cursors: [String: Int64] = [
            "pool/cash": cash, "pool/fills": Int64(totals.fills), "pool/paid": totals.paid,
            "pool/haircuts": totals.haircuts, "pool/assessed": totals.assessed,
            "pool/adl-rounds": Int64(totals.adlRounds), "pool/adl-cuts": Int64(totals.adlCuts),
        ]
        for (index, venue) in venues.enumerated() {
            cursors["pool/treasury/\(venue)"] = treasuries[index]
            cursors["pool/answered/\(venue)/epoch"] = Int64(answered[index].epoch)
            cursors["pool/answered/\(venue)/sequence"] = Int64(answered[index].sequence)
        }
        return cursors
    }

    /// Restores the state journaled as cursors (`read` returns a cursor's value); nil when the pool
    /// was never journaled (a first start).
    public static func restore(venues: [String], read: (String) throws -> Int64?) throws -> MutualPool? {
        guard let cash = try read("pool/cash") else { return nil }
        var pool = MutualPool(funding: venues.map { _ in PoolFunding(contribution: .zero, treasury: .zero) })
        pool.cash = cash
        pool.totals = PoolTotals(
            fills: Int(try read("pool/fills") ?? 0), paid: try read("pool/paid") ?? 0, haircuts: try read("pool/haircuts") ?? 0,
            assessed: try read("pool/assessed") ?? 0, adlRounds: Int(try read("pool/adl-rounds") ?? 0),
            adlCuts: Int(try read("pool/adl-cuts") ?? 0))
        for (index, venue) in venues.enumerated() {
            pool.treasuries[index] = try read("pool/treasury/\(venue)") ?? 0
            pool.answered[index] = RequestPosition(
                epoch: UInt64(try read("pool/answered/\(venue)/epoch") ?? 0),
                sequence: UInt64(try read("pool/answered/\(venue)/sequence") ?? 0))
        }
        return pool
    }
}

/// What the mutual pool has done (Amount raw for money).
public struct PoolTotals: Sendable, Hashable, Codable {
    /// Backstop requests answered, and the cash paid to the accounts (net of equity taken).
    public var fills = 0
    public var paid: Int64 = 0
    /// Haircuts collected from ADL winners, and assessments called from the treasuries.
    public var haircuts: Int64 = 0
    public var assessed: Int64 = 0
    /// Coordinated ADL rounds (one per request the pool could not cover) and their cuts.
    public var adlRounds = 0
    public var adlCuts = 0
}
