import CrossclearEngine
import CrossclearSimulation
import CrossclearWire

/// What the clearing node does with the last known state of a venue whose heartbeat is late.
/// Never read as zero exposure: the venue's accounts stay in the view either way.
public enum StalePolicy: String, Sendable, Hashable, CaseIterable {
    /// Revoke every cross-margin credit that depends on a stale venue (the credit to legs on live
    /// venues rests on offsets the stale venue may no longer hold). The default.
    case withdrawCredit = "withdraw-credit"
    /// Keep netting against the stale venue's last reported positions and marks.
    case lastKnown = "last-known"
}

/// The deterministic core of the clearing node: its view of every venue (built from their change
/// streams) and the decisions it sends back.
///
/// Netting: for a trader with accounts on several venues, the portfolio requirement on the net
/// exposure per asset (at the strictest rules among the legs) is below the sum of the venues'
/// requirements; up to `nettingCreditCap` of the difference is granted as cross-margin credit,
/// split over the legs in proportion to their requirement, while the trader's total equity covers
/// the credited total. Pure: the same changes in the same order give the same instructions.
public struct ClearingMachine: Sendable {
    /// The cluster's venues, in scenario order (the index used everywhere below).
    public let venues: [String]
    /// Each venue's margin state as the clearing node knows it.
    public private(set) var views: [MarginBook]
    /// Venues whose heartbeat is late.
    public private(set) var stale: [Bool]
    /// Per venue: digests the venue reported that the view did not match at that point of the stream
    /// (anti-entropy; zero unless something was lost, duplicated or corrupted).
    public private(set) var digestMismatches: [Int]
    /// Per venue: how many times the view was replaced by a snapshot of the venue's published book
    /// (anti-entropy repair, ``replaceView(venue:with:)``).
    public private(set) var repairs: [Int]
    public let policy: StalePolicy

    private let nets: Bool
    private let creditCap: Ratio
    /// Per venue, per asset index: the venue's margin rules (nil where it does not list the asset).
    let rules: [[MarketRules?]]
    /// The accounts of each trader, in (venue, account) order; only traders seen on two venues or
    /// more are ever netted.
    private(set) var legsOfTrader: [UInt32: [Leg]] = [:]
    /// Traders with accounts on several venues, ascending.
    private var multiVenueTraders: [UInt32] = []
    /// The credit last granted per (venue, account), Amount raw; nil before the first.
    private var granted: LegTable<Int64?>
    /// How many account states each leg's venue has reported (a move is known to be seen once both
    /// of its accounts have been reported again).
    private var versions: LegTable<Int>
    /// Traders with a collateral move in flight: the report count of each leg when it was decided.
    private var inFlight: [UInt32: [Leg: Int]] = [:]
    /// Per venue, per asset index: the accounts of netted traders holding a position in the asset
    /// there, with their trader (a marks change makes those traders due).
    private var holders: [[[UInt32: UInt32]]]
    /// Traders whose credit may have changed since the last ``decideCredits()``: an account, mark or
    /// stale flag it depends on changed. Every other trader's credit is what was last computed.
    private var creditsDue: Set<UInt32> = []
    /// Traders whose collateral moves may have changed since the last ``decideMoves()`` (the same,
    /// plus a changed credit or backstop request).
    private var movesDue: Set<UInt32> = []
    /// Counts changes to the views, so that margins computed by ``decideCredits()`` are reused by
    /// ``decideMoves()`` only while the views are as they were.
    private var viewVersion = 0
    /// The margins ``decideCredits()`` computed last, per trader, at `viewVersion` `version`.
    private var roundMargins: (version: Int, byTrader: [UInt32: TraderMargins]) = (-1, [:])
    /// Per venue: changes consumed, and the position of the last one in the venue's stream.
    private var streamPosition: [MutualPool.RequestPosition]

    // MARK: Mutual pool (shared designs)

    /// The mutual pool; nil under a siloed design.
    public internal(set) var pool: MutualPool?
    /// Backstop requests received and not yet answered, in arrival order.
    var pendingRequests: [PendingRequest] = []
    /// Accounts that asked the pool (never chosen as ADL winners).
    var requestedAccounts: Set<Leg> = []
    /// Winners cut by an ADL round whose venue has not reported them since: the pool deleverages
    /// itself again only once the view shows what its last round did.
    var unconfirmedCuts: Set<Leg> = []
    /// The ADL policy of the design, and each venue's own (for `venueDefault`).
    let adlPolicy: ADLPolicy
    let venuePolicies: [ADLPolicy]
    /// Seeds the rotation of a dYdX-style ADL round (with the round number).
    let seed: UInt64

    /// A trader's account on one venue.
    public struct Leg: Hashable, Comparable, Sendable {
        public var venue: Int
        public var account: UInt32
        public static func < (a: Leg, b: Leg) -> Bool { (a.venue, a.account) < (b.venue, b.account) }
    }

    /// A clearing machine for the cluster's scenario (its venues, their profiles and markets); under
    /// a shared design with the mutual pool funded as the simulator's world funds it.
    public init(scenario: Scenario, design: ClearingDesign, policy: StalePolicy) {
        venues = scenario.venues.map(\.name)
        streamPosition = Array(repeating: MutualPool.RequestPosition(epoch: 1, sequence: 0), count: scenario.venues.count)
        if design.isShared {
            pool = MutualPool(funding: Simulator.poolFunding(scenario, design: design, traders: Simulator.population(scenario)))
        }
        adlPolicy = scenario.engineConfig(design: design).adlPolicy
        venuePolicies = scenario.venues.map { VenueProfile.of($0.profile).adlPolicy }
        seed = scenario.seed
        views = Array(repeating: MarginBook(), count: scenario.venues.count)
        stale = Array(repeating: false, count: scenario.venues.count)
        digestMismatches = Array(repeating: 0, count: scenario.venues.count)
        repairs = Array(repeating: 0, count: scenario.venues.count)
        self.policy = policy
        nets = design.nets
        creditCap = scenario.clearing.nettingCreditCap
        rules = scenario.venues.map { venue in
            let profile = VenueProfile.of(venue.profile)
            return scenario.assets.map { asset in
                venue.markets.contains(asset.config.symbol) ? profile.rules(for: asset.config.assetClass) : nil
            }
        }
        holders = Array(repeating: Array(repeating: [:], count: scenario.assets.count), count: scenario.venues.count)
        granted = LegTable(venues: scenario.venues.count, empty: nil)
        versions = LegTable(venues: scenario.venues.count, empty: 0)
    }

    /// Applies a venue's changes to the view (in stream order, each once), checking every digest the
    /// venue reports against the view at that point, and queues its backstop requests. `start` is the
    /// stream position of the first change (default: right after the last one consumed, in epoch 1).
    /// Returns false when a digest did not match.
    @discardableResult
    public mutating func consume(venue: Int, changes: [ChangeBody], startingAt start: MutualPool.RequestPosition? = nil)
        throws(MarginBookError) -> Bool
    {
        var matched = true
        viewVersion += 1
        if let start { streamPosition[venue] = MutualPool.RequestPosition(epoch: start.epoch, sequence: start.sequence - 1) }
        for change in changes {
            streamPosition[venue].sequence += 1
            if case .backstopRequest(let request) = change { queue(request, venue: venue, at: streamPosition[venue]) }
            switch change {
            case .digest(let digest) where digest != views[venue].digest():
                digestMismatches[venue] += 1
                matched = false
            case .account(let state) where state.trader != VenueMachine.venueOwned:
                let previous = views[venue].account(state.account)
                try views[venue].apply(change)
                let leg = Leg(venue: venue, account: state.account)
                unconfirmedCuts.remove(leg)
                versions[leg] += 1
                if legsOfTrader[state.trader]?.contains(leg) == true {
                    guard isNetted(state.trader) else { continue }
                    moveHolder(leg, trader: state.trader, from: previous?.positions ?? [], to: state.positions)
                    markDue(state.trader)
                } else {
                    index(leg, trader: state.trader)
                }
                continue
            case .marks(let states):
                let moved = states.filter { views[venue].mark(asset: Int($0.asset))?.mark != $0.mark }
                try views[venue].apply(change)
                for state in moved where Int(state.asset) < holders[venue].count {
                    for trader in holders[venue][Int(state.asset)].values { markDue(trader) }
                }
                continue
            default:
                break
            }
            try views[venue].apply(change)
        }
        return matched
    }

    /// The credit granted now, over every account (Amount raw).
    public var creditGranted: Int64 { granted.reduce(0) { $0 + ($1 ?? 0) } }

    /// Marks a venue stale (heartbeat late) or live again.
    public mutating func setStale(venue: Int, _ isStale: Bool) {
        guard stale[venue] != isStale else { return }
        stale[venue] = isStale
        for trader in multiVenueTraders where legsOfTrader[trader]?.contains(where: { $0.venue == venue }) == true { markDue(trader) }
    }

    /// The credits that changed since the last call, per venue (venues in order, accounts ascending).
    /// A credit is resent when it moves by more than 1% or starts or stops; the first call states
    /// every leg's credit, zero included (a restarted node does not assume what it granted before).
    /// Only the traders due are recomputed: the others' inputs, hence their credits, are unchanged.
    public mutating func decideCredits() -> [(venue: Int, credits: [CrossMarginCredit])] {
        guard nets else { return [] }
        var byVenue = Array(repeating: [CrossMarginCredit](), count: venues.count)
        roundMargins = (viewVersion, [:])
        for trader in Self.take(&creditsDue) {
            let legs = legsOfTrader[trader] ?? []
            let margins = margins(of: legs)
            if let margins { roundMargins.byTrader[trader] = margins }
            let credits = credits(for: legs, margins: margins)
            for (leg, credit) in zip(legs, credits) {
                if let previous = granted[leg] {
                    let moved = credit == 0 ? previous != 0 : previous == 0 || abs(credit - previous) * 100 > previous
                    guard moved else { continue }
                }
                granted[leg] = credit
                movesDue.insert(trader)
                byVenue[leg.venue].append(CrossMarginCredit(account: leg.account, thresholdReduction: Amount(raw: credit)))
            }
        }
        return byVenue.enumerated().compactMap { venue, credits in
            credits.isEmpty ? nil : (venue, credits.sorted { $0.account < $1.account })
        }
    }

    /// One account's margin in the view (Amount raw).
    struct AccountMargin {
        var collateral: Int64
        var equity: Int64
        var maintenance: Int64
        var grossNotional: Int64
    }

    /// An account's margin at its venue's marks in the view; nil while a mark or the rules of one of
    /// its positions are unknown.
    func margin(of state: AccountState, venue: Int) -> AccountMargin? {
        var nets: [NetPosition] = []
        return margin(of: state, venue: venue, netting: &nets)
    }

    /// A trader's net position in one asset over its legs: the mark of the first leg holding it,
    /// and the venue whose rules for it are the strictest.
    private struct NetPosition {
        var asset: Int
        var size: Int64
        var mark: Price
        var rulesVenue: Int
    }

    /// ``margin(of:venue:)``, adding each position to `nets`.
    private func margin(of state: AccountState, venue: Int, netting nets: inout [NetPosition]) -> AccountMargin? {
        var margin = AccountMargin(collateral: state.collateral.raw, equity: state.collateral.raw, maintenance: 0, grossNotional: 0)
        let venueRules = rules[venue]
        for position in state.positions {
            let asset = Int(position.asset)
            guard let mark = views[venue].mark(asset: asset)?.mark, asset < venueRules.count, let rules = venueRules[asset] else { return nil }
            let value = position.quantity.markValue(at: mark)
            margin.equity += value.raw - position.basis.raw
            margin.maintenance += rules.maintenance(notional: value.magnitude).raw
            margin.grossNotional += value.magnitude.raw
            if let index = nets.firstIndex(where: { $0.asset == asset }) {
                nets[index].size += position.quantity.raw
                let strictest = self.rules[nets[index].rulesVenue][asset]!
                if rules.tiers[0].maintenance > strictest.tiers[0].maintenance { nets[index].rulesVenue = venue }
            } else {
                nets.append(NetPosition(asset: asset, size: position.quantity.raw, mark: mark, rulesVenue: venue))
            }
        }
        return margin
    }

    /// Each leg's margin and the portfolio requirement on the trader's net position.
    private typealias TraderMargins = (legs: [AccountMargin], netted: Int64)

    /// Each leg's margin at its venue's marks and the portfolio requirement on the trader's net
    /// position per asset (strictest rules among the legs); nil while a leg or a mark is unknown.
    private func margins(of legs: [Leg]) -> TraderMargins? {
        var result: [AccountMargin] = []
        result.reserveCapacity(legs.count)
        var nets: [NetPosition] = []
        for leg in legs {
            guard let state = views[leg.venue].account(leg.account),
                  let margin = margin(of: state, venue: leg.venue, netting: &nets) else { return nil }
            result.append(margin)
        }
        let netted = nets.reduce(Int64(0)) { sum, net in
            let rules = self.rules[net.rulesVenue][net.asset]!
            return sum + rules.maintenance(notional: Quantity(raw: net.size).magnitude.value(at: net.mark, rounding: .up)).raw
        }
        return (result, netted)
    }

    /// The credit of each leg (Amount raw) given their `margins`, zero when the trader cannot be
    /// netted now.
    private func credits(for legs: [Leg], margins: TraderMargins?) -> [Int64] {
        let none = Array(repeating: Int64(0), count: legs.count)
        if policy == .withdrawCredit, legs.contains(where: { stale[$0.venue] }) { return none }
        guard let (margins, netted) = margins else { return none }
        let total = margins.reduce(0) { $0 + $1.maintenance }
        guard total > 0 else { return none }
        let credit = Amount(raw: max(0, total - netted)).scaled(by: creditCap, rounding: .down).raw
        let totalEquity = margins.reduce(0) { $0 + $1.equity }
        guard credit > 0, totalEquity >= total - credit else { return none }
        var shares = margins.map { multiplyDivide(credit, $0.maintenance, by: total, rounding: .down) }
        shares[shares.count - 1] = credit - shares.dropLast().reduce(0, +)
        return shares
    }

    // MARK: - Collateral moves

    /// The collateral moves due now: for a netted trader (one holding credit) with a leg below its
    /// credited threshold, collateral moves from the legs with surplus (never more than a leg's
    /// cash) to cover the shortfall plus a cushion of a quarter of the threshold, as the
    /// simulator's netting does. Never to or from a stale venue, nor for a trader one of whose
    /// accounts asked the pool for a backstop. A trader's next move waits until
    /// every venue of its last move has reported the accounts again.
    public mutating func decideMoves() -> [MoveDecision] {
        guard nets else { return [] }
        var decisions: [MoveDecision] = []
        for trader in Self.take(&movesDue) {
            let legs = legsOfTrader[trader] ?? []
            if let flight = inFlight[trader] {
                guard flight.allSatisfy({ versions[$0.key] > $0.value }) else { continue }
                inFlight[trader] = nil
            }
            // Never to or from a stale venue, nor for a trader with an account that asked the pool.
            guard !legs.contains(where: { stale[$0.venue] || requestedAccounts.contains($0) }),
                  legs.contains(where: { (granted[$0] ?? 0) > 0 }),
                  let (margins, _) = (roundMargins.version == viewVersion ? roundMargins.byTrader[trader] : nil) ?? margins(of: legs)
            else { continue }
            let threshold = zip(legs, margins).map { max(0, $1.maintenance - (granted[$0] ?? 0)) }
            var surplus = zip(margins, threshold).map { $0.equity - $1 }
            let decided = decisions.count
            for needy in legs.indices where surplus[needy] < 0 {
                var want = -surplus[needy] + threshold[needy] / 4
                for donor in legs.indices where want > 0 && surplus[donor] > 0 {
                    let amount = min(want, surplus[donor], margins[donor].collateral)
                    guard amount > 0 else { continue }
                    decisions.append(MoveDecision(from: legs[donor], to: legs[needy], amount: Amount(raw: amount)))
                    surplus[donor] -= amount
                    want -= amount
                }
            }
            if decisions.count > decided {
                inFlight[trader] = Dictionary(uniqueKeysWithValues: legs.map { ($0, versions[$0]) })
            }
        }
        return decisions
    }

    /// Records a new leg of `trader`. From its second leg on the trader is netted: its legs'
    /// positions join the holders.
    private mutating func index(_ leg: Leg, trader: UInt32) {
        var legs = legsOfTrader[trader] ?? []
        guard !legs.contains(leg) else { return }
        legs.append(leg)
        legs.sort()
        legsOfTrader[trader] = legs
        if legs.count == 2 {
            let position = multiVenueTraders.partitioningIndex { $0 >= trader }
            // Already listed when a repair (replaceView) had dropped one of its legs.
            if multiVenueTraders[safe: position] != trader { multiVenueTraders.insert(trader, at: position) }
            for each in legs { moveHolder(each, trader: trader, from: [], to: views[each.venue].account(each.account)?.positions ?? []) }
        } else if legs.count > 2 {
            moveHolder(leg, trader: trader, from: [], to: views[leg.venue].account(leg.account)?.positions ?? [])
        }
        if legs.count >= 2 { markDue(trader) }
    }

    /// Whether `trader` has legs on two venues or more (and so is netted).
    private func isNetted(_ trader: UInt32) -> Bool { (legsOfTrader[trader]?.count ?? 0) >= 2 }

    /// Updates the holders for a leg of `trader` whose positions went from `old` to `new`.
    private mutating func moveHolder(_ leg: Leg, trader: UInt32, from old: [PositionState], to new: [PositionState]) {
        for position in old where Int(position.asset) < holders[leg.venue].count && !new.contains(where: { $0.asset == position.asset }) {
            holders[leg.venue][Int(position.asset)][leg.account] = nil
        }
        for position in new where Int(position.asset) < holders[leg.venue].count {
            holders[leg.venue][Int(position.asset)][leg.account] = trader
        }
    }

    /// Makes every netted trader due: the next decisions recompute everything, which is what the
    /// incremental ones must equal (tests compare the two).
    mutating func markAllDue() {
        for trader in multiVenueTraders { markDue(trader) }
    }

    /// Marks a listed trader's credit and moves to be decided again.
    mutating func markDue(_ trader: UInt32) {
        creditsDue.insert(trader)
        movesDue.insert(trader)
    }

    /// The traders `due` holds, ascending, and empties it.
    private static func take(_ due: inout Set<UInt32>) -> [UInt32] {
        let traders = due.sorted()
        due.removeAll(keepingCapacity: true)
        return traders
    }

    // MARK: - Repair

    /// Replaces the view of a venue with `book` (a snapshot of what the venue published) and counts
    /// the repair. The traders' legs on the venue are re-indexed from the book: every account in it
    /// counts as reported again (``decideMoves()`` waits for that), and a leg the book does not hold
    /// under the same trader is dropped (with its granted credit when the venue has no such
    /// account). A trader stays listed for netting once it was: with fewer than two legs its credit
    /// comes out zero, so the next ``decideCredits()`` revokes it.
    public mutating func replaceView(venue: Int, with book: MarginBook) {
        views[venue] = book
        viewVersion += 1
        for (trader, legs) in legsOfTrader {
            let kept = legs.filter { $0.venue != venue || book.account($0.account)?.trader == trader }
            guard kept.count != legs.count else { continue }
            legsOfTrader[trader] = kept
            inFlight[trader] = inFlight[trader]?.filter { kept.contains($0.key) }
            // The venue holds no such account, so no credit on it to revoke.
            for leg in legs where leg.venue == venue && book.account(leg.account) == nil { granted[leg] = nil }
        }
        for case let state? in book.accounts where state.trader != VenueMachine.venueOwned {
            let leg = Leg(venue: venue, account: state.account)
            versions[leg] += 1
            index(leg, trader: state.trader)
        }
        // The snapshot shows what the pool's last ADL cuts did on this venue.
        unconfirmedCuts = unconfirmedCuts.filter { $0.venue != venue }
        holders[venue] = holders[venue].map { _ in [:] }
        for trader in multiVenueTraders {
            for leg in legsOfTrader[trader] ?? [] where leg.venue == venue {
                moveHolder(leg, trader: trader, from: [], to: book.account(leg.account)?.positions ?? [])
            }
            markDue(trader)
        }
        repairs[venue] += 1
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }

    /// The first index whose element satisfies `predicate`, for an array partitioned by it.
    func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

/// One cross-venue collateral move the clearing node decided: a debit leg for the source venue and
/// a credit leg for the destination venue, sent together.
public struct MoveDecision: Sendable, Hashable {
    public var from: ClearingMachine.Leg
    public var to: ClearingMachine.Leg
    public var amount: Amount
}

/// A value per (venue, account), in arrays indexed by account number (a venue numbers its accounts
/// densely from 0, and ``MarginBook`` bounds them).
struct LegTable<Value: Sendable>: Sendable {
    private var values: [[Value]]
    private let empty: Value

    /// A table of `venues` venues where every leg holds `empty`.
    init(venues: Int, empty: Value) {
        values = Array(repeating: [], count: venues)
        self.empty = empty
    }

    subscript(leg: ClearingMachine.Leg) -> Value {
        get { Int(leg.account) < values[leg.venue].count ? values[leg.venue][Int(leg.account)] : empty }
        set {
            let index = Int(leg.account)
            if index >= values[leg.venue].count {
                values[leg.venue].append(contentsOf: repeatElement(empty, count: index + 1 - values[leg.venue].count))
            }
            values[leg.venue][index] = newValue
        }
    }

    /// Folds every leg's value, venues in order, accounts ascending.
    func reduce<Result>(_ initial: Result, _ next: (Result, Value) -> Result) -> Result {
        values.reduce(initial) { $1.reduce($0, next) }
    }
}
