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
    /// Per venue, per asset index: the margin rules of the venue's profile for the asset's class,
    /// read only where the venue lists the asset (``lists(venue:asset:)``). Not optional, so that
    /// the hot loops read them in place (a copy would retain their tier arrays on every call).
    private let rules: [[MarketRules]]
    /// Per venue, per asset index: the first tier's maintenance rate (raw), which orders the venues'
    /// rules from lenient to strict for netting; `.min` where the venue does not list the asset.
    private let strictness: [[Int64]]
    /// The accounts of each trader, in (venue, account) order; only traders seen on two venues or
    /// more are ever netted.
    private(set) var legsOfTrader = TraderTable<[Leg]>(empty: [])
    /// Traders listed for netting: seen on two venues or more at some point.
    private var listed = TraderSet()
    /// What the machine keeps per (venue, account), in one record so that deciding a trader reads
    /// one place per leg.
    var legStates: LegTable<LegState>
    /// Per netted trader: its net position per asset over its legs, as last computed; nil once one
    /// of its legs changed (marks do not change it: the mark is read when the requirement is).
    private var netPositions = TraderTable<[NetPosition]?>(empty: nil)
    /// Per trader with a collateral move in flight: the report count of each leg when it was
    /// decided (empty: none in flight).
    private var inFlight = TraderTable<[(leg: Leg, version: Int)]>(empty: [])
    /// Per venue, per asset index: the accounts of netted traders holding a position in the asset
    /// there, with their trader (a marks change makes those traders due).
    private var holders: [[[UInt32: UInt32]]]
    /// Traders whose credit may have changed since the last ``decideCredits()``: an account, mark or
    /// stale flag it depends on changed. Every other trader's credit is what was last computed.
    private var creditsDue = TraderSet()
    /// Traders whose collateral moves may have changed since the last ``decideMoves()`` (the same,
    /// plus a changed credit or backstop request).
    private var movesDue = TraderSet()
    /// Per venue: changes consumed, and the position of the last one in the venue's stream.
    private var streamPosition: [MutualPool.RequestPosition]

    // MARK: Mutual pool (shared designs)

    /// The mutual pool; nil under a siloed design.
    public internal(set) var pool: MutualPool?
    /// Backstop requests received and not yet answered, in arrival order.
    var pendingRequests: [PendingRequest] = []
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
        let rules = scenario.venues.map { venue in
            scenario.assets.map { VenueProfile.of(venue.profile).rules(for: $0.config.assetClass) }
        }
        self.rules = rules
        holders = Array(repeating: Array(repeating: [:], count: scenario.assets.count), count: scenario.venues.count)
        legStates = LegTable(venues: scenario.venues.count, empty: LegState())
        strictness = scenario.venues.indices.map { venue in
            scenario.assets.indices.map { asset in
                scenario.venues[venue].markets.contains(scenario.assets[asset].config.symbol) ? rules[venue][asset].tiers[0].maintenance.raw : .min
            }
        }
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
                legStates[leg].version += 1
                legStates[leg].margin = nil
                if legsOfTrader[state.trader].contains(leg) {
                    netPositions[state.trader] = nil
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
                    for (account, trader) in holders[venue][Int(state.asset)] {
                        legStates[Leg(venue: venue, account: account)].margin = nil
                        markDue(trader)
                    }
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
    public var creditGranted: Int64 { legStates.reduce(0) { $0 + ($1.granted ?? 0) } }

    /// Marks a venue stale (heartbeat late) or live again.
    public mutating func setStale(venue: Int, _ isStale: Bool) {
        guard stale[venue] != isStale else { return }
        stale[venue] = isStale
        for trader in listed.members where legsOfTrader[trader].contains(where: { $0.venue == venue }) { markDue(trader) }
    }

    /// The credits that changed since the last call, per venue (venues in order, accounts ascending).
    /// A credit is resent when it moves by more than 1% or starts or stops; the first call states
    /// every leg's credit, zero included (a restarted node does not assume what it granted before).
    /// Only the traders due are recomputed: the others' inputs, hence their credits, are unchanged.
    public mutating func decideCredits() -> [(venue: Int, credits: [CrossMarginCredit])] {
        guard nets else { return [] }
        var byVenue = Array(repeating: [CrossMarginCredit](), count: venues.count)
        var scratch = Scratch()
        for trader in creditsDue.take() {
            let legs = legsOfTrader[trader]
            credits(for: legs, of: trader, scratch: &scratch)
            for (leg, credit) in zip(legs, scratch.credits) {
                if let previous = legStates[leg].granted {
                    let moved = credit == 0 ? previous != 0 : previous == 0 || abs(credit - previous) * 100 > previous
                    guard moved else { continue }
                }
                legStates[leg].granted = credit
                movesDue.insert(trader)
                byVenue[leg.venue].append(CrossMarginCredit(account: leg.account, thresholdReduction: Amount(raw: credit)))
            }
        }
        return byVenue.enumerated().compactMap { venue, credits in
            credits.isEmpty ? nil : (venue, credits.sorted { $0.account < $1.account })
        }
    }

    /// One account's margin in the view (Amount raw).
    struct AccountMargin: Sendable {
        var collateral: Int64
        var equity: Int64
        var maintenance: Int64
        var grossNotional: Int64
    }

    /// An account's margin at its venue's marks in the view; nil while a mark or the rules of one of
    /// its positions are unknown.
    func margin(of state: AccountState, venue: Int) -> AccountMargin? {
        var margin = AccountMargin(collateral: state.collateral.raw, equity: state.collateral.raw, maintenance: 0, grossNotional: 0)
        for position in state.positions {
            let asset = Int(position.asset)
            guard let mark = views[venue].mark(asset: asset)?.mark else { return nil }
            let value = position.quantity.markValue(at: mark)
            guard let maintenance = maintenance(venue: venue, asset: asset, notional: value.magnitude) else { return nil }
            margin.equity += value.raw - position.basis.raw
            margin.maintenance += maintenance
            margin.grossNotional += value.magnitude.raw
        }
        return margin
    }

    /// The maintenance requirement on `notional` of `asset` under `venue`'s rules (Amount raw); nil
    /// where the venue does not list the asset. The rules are read in place: a copy would retain
    /// their tier arrays on every call of the machine's hottest loops.
    private func maintenance(venue: Int, asset: Int, notional: Amount) -> Int64? {
        guard lists(venue: venue, asset: asset) else { return nil }
        return rules[venue][asset].maintenance(notional: notional).raw
    }

    /// Whether `venue` lists `asset`.
    func lists(venue: Int, asset: Int) -> Bool {
        asset >= 0 && asset < strictness[venue].count && strictness[venue][asset] != .min
    }

    /// What the machine keeps per leg.
    struct LegState: Sendable {
        /// How many account states the leg's venue has reported (a move is known to be seen once
        /// both of its accounts have been reported again).
        var version = 0
        /// The credit last granted (Amount raw); nil before the first.
        var granted: Int64?
        /// The leg's margin at the view's marks, as last computed; nil once its account or a mark
        /// of one of its positions changed (or before the first computation).
        var margin: AccountMargin?
        /// Whether the account asked the pool for a backstop (then never chosen as an ADL winner).
        var requested = false
    }

    /// Buffers reused from trader to trader within one decision.
    private struct Scratch {
        var margins: [AccountMargin] = []
        var credits: [Int64] = []
        var surplus: [Int64] = []
        var threshold: [Int64] = []
    }

    /// A trader's net position in one asset over its legs, valued at the mark of the venue of the
    /// first leg holding it, under the venue whose rules for it are the strictest.
    private struct NetPosition: Sendable {
        var asset: Int
        var size: Int64
        var markVenue: Int
        var rulesVenue: Int
    }

    /// Sets `margins` to each leg's margin at its venue's marks (cached per leg until its account or
    /// a mark it depends on changes); false while a leg or a mark is unknown.
    private mutating func legMargins(of legs: [Leg], into margins: inout [AccountMargin]) -> Bool {
        margins.removeAll(keepingCapacity: true)
        for leg in legs {
            if let cached = legStates[leg].margin {
                margins.append(cached)
                continue
            }
            guard let state = views[leg.venue].account(leg.account), let margin = margin(of: state, venue: leg.venue) else { return false }
            legStates[leg].margin = margin
            margins.append(margin)
        }
        return true
    }

    /// The portfolio requirement on `trader`'s net position per asset over its `legs`, at the
    /// strictest rules among the legs and the mark of the first leg holding the asset (Amount raw);
    /// nil while a leg or a mark is unknown.
    private mutating func nettedRequirement(of trader: UInt32, legs: [Leg]) -> Int64? {
        if netPositions[trader] == nil { netPositions[trader] = netPositions(of: legs) }
        guard let nets = netPositions[trader] else { return nil }
        var requirement: Int64 = 0
        for net in nets {
            guard let mark = views[net.markVenue].mark(asset: net.asset)?.mark else { return nil }
            let notional = Quantity(raw: net.size).magnitude.value(at: mark, rounding: .up)
            guard let maintenance = maintenance(venue: net.rulesVenue, asset: net.asset, notional: notional) else { return nil }
            requirement += maintenance
        }
        return requirement
    }

    /// The net position per asset over `legs`, in order of first appearance; nil while a leg is
    /// unknown or holds an asset its venue does not list.
    private func netPositions(of legs: [Leg]) -> [NetPosition]? {
        var nets: [NetPosition] = []
        for leg in legs {
            guard let state = views[leg.venue].account(leg.account) else { return nil }
            for position in state.positions {
                let asset = Int(position.asset)
                guard lists(venue: leg.venue, asset: asset) else { return nil }
                if let index = nets.firstIndex(where: { $0.asset == asset }) {
                    nets[index].size += position.quantity.raw
                    if strictness[leg.venue][asset] > strictness[nets[index].rulesVenue][asset] { nets[index].rulesVenue = leg.venue }
                } else {
                    nets.append(NetPosition(asset: asset, size: position.quantity.raw, markVenue: leg.venue, rulesVenue: leg.venue))
                }
            }
        }
        return nets
    }

    /// Sets `scratch.credits` to the credit of each leg (Amount raw), zero when the trader cannot
    /// be netted now: up to the cap of what netting saves, while the trader's total equity covers
    /// the credited total, split in proportion to the legs' requirements.
    private mutating func credits(for legs: [Leg], of trader: UInt32, scratch: inout Scratch) {
        scratch.credits.removeAll(keepingCapacity: true)
        scratch.credits.append(contentsOf: repeatElement(0, count: legs.count))
        if policy == .withdrawCredit, legs.contains(where: { stale[$0.venue] }) { return }
        guard legMargins(of: legs, into: &scratch.margins), let netted = nettedRequirement(of: trader, legs: legs) else { return }
        var total: Int64 = 0
        var totalEquity: Int64 = 0
        for margin in scratch.margins {
            total += margin.maintenance
            totalEquity += margin.equity
        }
        guard total > 0 else { return }
        let credit = Amount(raw: max(0, total - netted)).scaled(by: creditCap, rounding: .down).raw
        guard credit > 0, totalEquity >= total - credit else { return }
        var assigned: Int64 = 0
        for index in legs.indices.dropLast() {
            scratch.credits[index] = multiplyDivide(credit, scratch.margins[index].maintenance, by: total, rounding: .down)
            assigned += scratch.credits[index]
        }
        scratch.credits[legs.count - 1] = credit - assigned
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
        var scratch = Scratch()
        for trader in movesDue.take() {
            let legs = legsOfTrader[trader]
            if !inFlight[trader].isEmpty {
                guard inFlight[trader].allSatisfy({ legStates[$0.leg].version > $0.version }) else { continue }
                inFlight[trader] = []
            }
            // Never to or from a stale venue, nor for a trader with an account that asked the pool.
            guard !legs.contains(where: { stale[$0.venue] || legStates[$0].requested }),
                  legs.contains(where: { (legStates[$0].granted ?? 0) > 0 }),
                  legMargins(of: legs, into: &scratch.margins)
            else { continue }
            let margins = scratch.margins
            scratch.threshold.removeAll(keepingCapacity: true)
            scratch.surplus.removeAll(keepingCapacity: true)
            for (leg, margin) in zip(legs, margins) {
                let threshold = max(0, margin.maintenance - (legStates[leg].granted ?? 0))
                scratch.threshold.append(threshold)
                scratch.surplus.append(margin.equity - threshold)
            }
            let decided = decisions.count
            for needy in legs.indices where scratch.surplus[needy] < 0 {
                var want = -scratch.surplus[needy] + scratch.threshold[needy] / 4
                for donor in legs.indices where want > 0 && scratch.surplus[donor] > 0 {
                    let amount = min(want, scratch.surplus[donor], margins[donor].collateral)
                    guard amount > 0 else { continue }
                    decisions.append(MoveDecision(from: legs[donor], to: legs[needy], amount: Amount(raw: amount)))
                    scratch.surplus[donor] -= amount
                    want -= amount
                }
            }
            if decisions.count > decided {
                inFlight[trader] = legs.map { ($0, legStates[$0].version) }
            }
        }
        return decisions
    }

    /// Records a new leg of `trader`. From its second leg on the trader is netted: its legs'
    /// positions join the holders.
    private mutating func index(_ leg: Leg, trader: UInt32) {
        var legs = legsOfTrader[trader]
        guard !legs.contains(leg) else { return }
        legs.append(leg)
        legs.sort()
        legsOfTrader[trader] = legs
        legStates[leg].margin = nil
        netPositions[trader] = nil
        if legs.count == 2 {
            // Already listed when a repair (replaceView) had dropped one of its legs.
            listed.insert(trader)
            for each in legs {
                // Its margins were not kept current while the trader was not netted.
                legStates[each].margin = nil
                moveHolder(each, trader: trader, from: [], to: views[each.venue].account(each.account)?.positions ?? [])
            }
        } else if legs.count > 2 {
            moveHolder(leg, trader: trader, from: [], to: views[leg.venue].account(leg.account)?.positions ?? [])
        }
        if legs.count >= 2 { markDue(trader) }
    }

    /// Whether `trader` has legs on two venues or more (and so is netted).
    func isNetted(_ trader: UInt32) -> Bool { legsOfTrader[trader].count >= 2 }

    /// Updates the holders for a leg of `trader` whose positions went from `old` to `new`.
    private mutating func moveHolder(_ leg: Leg, trader: UInt32, from old: [PositionState], to new: [PositionState]) {
        for position in old where Int(position.asset) < holders[leg.venue].count && !new.contains(where: { $0.asset == position.asset }) {
            holders[leg.venue][Int(position.asset)][leg.account] = nil
        }
        for position in new where Int(position.asset) < holders[leg.venue].count {
            holders[leg.venue][Int(position.asset)][leg.account] = trader
        }
    }

    /// Makes every netted trader due and forgets every cached margin: the next decisions recompute
    /// everything, which is what the incremental ones must equal (tests compare the two).
    mutating func markAllDue() {
        legStates.modifyAll { $0.margin = nil }
        netPositions = TraderTable(empty: nil)
        for trader in listed.members { markDue(trader) }
    }

    /// Marks a listed trader's credit and moves to be decided again.
    mutating func markDue(_ trader: UInt32) {
        creditsDue.insert(trader)
        movesDue.insert(trader)
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
        legStates.modifyAll(venue: venue) { $0.margin = nil }
        for trader in legsOfTrader.indicesWhere({ !$0.isEmpty }) {
            let legs = legsOfTrader[trader]
            let kept = legs.filter { $0.venue != venue || book.account($0.account)?.trader == trader }
            guard kept.count != legs.count else { continue }
            legsOfTrader[trader] = kept
            inFlight[trader] = inFlight[trader].filter { kept.contains($0.leg) }
            // The venue holds no such account, so no credit on it to revoke.
            for leg in legs where leg.venue == venue && book.account(leg.account) == nil { legStates[leg].granted = nil }
        }
        for case let state? in book.accounts where state.trader != VenueMachine.venueOwned {
            let leg = Leg(venue: venue, account: state.account)
            legStates[leg].version += 1
            index(leg, trader: state.trader)
        }
        // The snapshot shows what the pool's last ADL cuts did on this venue.
        unconfirmedCuts = unconfirmedCuts.filter { $0.venue != venue }
        holders[venue] = holders[venue].map { _ in [:] }
        for trader in listed.members {
            for leg in legsOfTrader[trader] where leg.venue == venue {
                moveHolder(leg, trader: trader, from: [], to: book.account(leg.account)?.positions ?? [])
            }
            netPositions[trader] = nil
            markDue(trader)
        }
        repairs[venue] += 1
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
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

    /// Applies `change` to every stored value of `venue`, or of every venue.
    mutating func modifyAll(venue: Int? = nil, _ change: (inout Value) -> Void) {
        for index in values.indices where venue == nil || index == venue {
            for account in values[index].indices { change(&values[index][account]) }
        }
    }

    /// Folds every leg's value, venues in order, accounts ascending.
    func reduce<Result>(_ initial: Result, _ next: (Result, Value) -> Result) -> Result {
        values.reduce(initial) { $1.reduce($0, next) }
    }
}

/// A value per trader, in an array indexed by trader number (``MarginBook`` bounds them).
struct TraderTable<Value: Sendable>: Sendable {
    private var values: [Value] = []
    private let empty: Value

    /// A table where every trader holds `empty`.
    init(empty: Value) {
        self.empty = empty
    }

    subscript(trader: UInt32) -> Value {
        get { Int(trader) < values.count ? values[Int(trader)] : empty }
        set {
            let index = Int(trader)
            if index >= values.count { values.append(contentsOf: repeatElement(empty, count: index + 1 - values.count)) }
            values[index] = newValue
        }
    }

    /// The traders whose value satisfies `predicate`, ascending.
    func indicesWhere(_ predicate: (Value) -> Bool) -> [UInt32] {
        values.indices.compactMap { predicate(values[$0]) ? UInt32($0) : nil }
    }
}

/// A set of trader numbers as a bitset (``MarginBook`` bounds them): members come out ascending.
struct TraderSet: Sendable {
    private var words: [UInt64] = []

    mutating func insert(_ trader: UInt32) {
        let word = Int(trader >> 6)
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word + 1 - words.count)) }
        words[word] |= 1 << UInt64(trader & 63)
    }

    /// The members, ascending.
    var members: [UInt32] {
        var members: [UInt32] = []
        for (index, word) in words.enumerated() {
            var bits = word
            while bits != 0 {
                members.append(UInt32(index << 6 + bits.trailingZeroBitCount))
                bits &= bits - 1
            }
        }
        return members
    }

    /// The members, ascending, leaving the set empty.
    mutating func take() -> [UInt32] {
        let taken = members
        for index in words.indices { words[index] = 0 }
        return taken
    }
}
