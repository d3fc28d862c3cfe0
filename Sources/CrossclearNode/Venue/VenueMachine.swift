import CrossclearEngine
import CrossclearSimulation
import CrossclearWire

/// The deterministic core of a venue node: one venue's engine, driven by the cluster's scenario, and
/// the margin-state changes it publishes to the clearing node.
///
/// The venue runs its own margin, liquidation and insurance layer (its profile's vault or fund) and
/// its own ADL, exactly as the simulator's world does for that venue; the clearing node's decisions
/// reach it as instructions (``apply(_:)``). Pure: the same cluster, venue name and inputs
/// (``advance()`` and ``apply(_:)`` in the same order) give the same state and the same changes,
/// which is how a restarted node rebuilds itself from its journal.
public struct VenueMachine: Sendable {
    /// The venue's name in the cluster.
    public let venue: String
    /// The venue's index in the scenario (and in every other node's view of the cluster).
    public let venueIndex: Int
    /// Steps of the scenario, and the simulated seconds between them.
    public let stepCount: Int
    public let timeStepSeconds: Int64
    /// The steps run so far (0 before the first).
    public internal(set) var step = 0
    /// The last instruction id applied (ids are consecutive per venue, from 1).
    public internal(set) var lastInstruction: UInt64 = 0
    /// What this venue has published: the clearing node's view of it must have the same digest.
    public internal(set) var published = MarginBook()
    /// Collateral-move legs applied: how many and how much left this venue (debits) and arrived
    /// (credits), Amount raw. Summed over the venues of a quiet cluster, out equals in.
    public internal(set) var moves = CollateralMoveTotals()

    /// SHA-256 of what the machine was built from (the scenario, the venue's name and the design):
    /// a snapshot is taken up only by a machine built from the same (``VenueMachine+Snapshot``).
    public let fingerprint: [UInt8]

    /// Accounts whose backstop request has been published (and not yet answered).
    var requested: Set<Int> = []
    var world: World
    let prices: PriceModel
    /// The cluster-wide trader number of each trader of this venue's world (index: the world's trader).
    let globalTrader: [UInt32]

    /// Builds the venue's world: opens it at the scenario's first prices, adds the scenario's
    /// traders that hold a leg on this venue, hands the book to market makers and funds the venue's
    /// own layer. Under a siloed design the venue runs exactly as in the simulator's world of that
    /// design; under a shared design its own layer takes the form of its profile (vault or fund), it
    /// pays its pool contribution and treasury to the clearing node's mutual pool, asks that pool to
    /// take over what its own layer cannot absorb (a backstop request), and what the clearing layer
    /// decides reaches it as instructions.
    public init(scenario: Scenario, venue: String, design: ClearingDesign) throws(VenueMachineError) {
        let index = try Self.index(of: venue, in: scenario)
        let population = Simulator.population(scenario)
        let contribution = design.isShared
            ? Simulator.poolFunding(scenario, design: design, traders: population)[index].contribution : nil
        var world = World(config: Self.engineConfig(scenario: scenario, index: index, design: design, poolContribution: contribution))
        let prices = PriceModel(scenario: scenario)
        world.apply(.open(referencePrices: prices.prices(at: 0)))

        var globalTrader: [UInt32] = []
        for (number, trader) in population.enumerated() {
            let legs = trader.legs.filter { $0.venue == index }.map { leg in
                LegSetup(venue: 0, asset: leg.asset, collateral: leg.collateral, quantity: leg.quantity)
            }
            guard !legs.isEmpty else { continue }
            world.apply(.addTrader(TraderSetup(kind: trader.kind, legs: legs)))
            globalTrader.append(UInt32(number))
        }
        // Market makers are numbered after the population, per venue in scenario order.
        let makers = scenario.population.marketMakersPerVenue
        world.apply(.seedMakers(perVenue: makers, leverage: scenario.population.makerLeverage))
        let firstMaker = population.count + index * makers
        globalTrader += (0..<(world.traderCount - globalTrader.count)).map { UInt32(firstMaker + $0) }
        world.apply(.startClearing)
        self.init(scenario: scenario, index: index, design: design, world: world, prices: prices, globalTrader: globalTrader)
    }

    /// A machine of `scenario`'s venue `index` in the state `world` (and nothing published yet).
    init(scenario: Scenario, index: Int, design: ClearingDesign, world: World, prices: PriceModel, globalTrader: [UInt32]) {
        venue = scenario.venues[index].name
        venueIndex = index
        stepCount = max(1, scenario.stepCount)
        timeStepSeconds = scenario.timeStepSeconds
        fingerprint = Self.fingerprint(scenario: scenario, venue: venue, design: design)
        self.world = world
        self.prices = prices
        self.globalTrader = globalTrader
    }

    /// The index of `venue` in the scenario.
    static func index(of venue: String, in scenario: Scenario) throws(VenueMachineError) -> Int {
        guard let index = scenario.venues.firstIndex(where: { $0.name == venue }) else {
            throw .unknownVenue(venue, known: scenario.venues.map(\.name))
        }
        return index
    }

    /// The one-venue world's configuration: the scenario's for the design, with only this venue;
    /// under a shared design its own layer takes its profile's natural form and pays
    /// `poolContribution` to the clearing node's pool when clearing starts.
    static func engineConfig(scenario: Scenario, index: Int, design: ClearingDesign, poolContribution: Amount?) -> EngineConfig {
        var config = scenario.engineConfig(design: design)
        if design.isShared {
            config.design = VenueProfile.of(config.venues[index].profile).naturalForm == .vault ? .siloedBackstop : .siloedFund
        }
        if let poolContribution { config.externalPool = ExternalPool(contributions: [poolContribution]) }
        config.venues = [config.venues[index]]
        return config
    }

    /// The fingerprint of a machine built from `scenario` for `venue` under `design`.
    static func fingerprint(scenario: Scenario, venue: String, design: ClearingDesign) -> [UInt8] {
        CanonicalFingerprint.of("crossclear venue machine", venue, design, scenario)
    }

    /// Whether every step of the scenario has run.
    public var isFinished: Bool { step >= stepCount }

    /// The simulated time of the last step, in seconds.
    public var timeSeconds: Int64 { Int64(step) * timeStepSeconds }

    /// The changes since the last call (every account and mark the first time), followed by the
    /// digest of the published book. Empty when nothing changed.
    public mutating func changes() -> [ChangeBody] {
        let state = world.venues[0]
        var changes: [ChangeBody] = []
        for account in 0..<state.accountCount {
            let current = accountState(account, of: state)
            if published.account(UInt32(account)) != current { changes.append(.account(current)) }
        }
        let marks = state.markets.map { MarkState(asset: UInt16($0.asset), oracle: $0.oracle, mark: $0.mark) }
            .sorted { $0.asset < $1.asset }
            .filter { published.mark(asset: Int($0.asset)) != $0 }
        if !marks.isEmpty { changes.append(.marks(marks)) }
        for waiting in world.awaitingBackstop where !requested.contains(waiting.account) {
            requested.insert(waiting.account)
            let current = accountState(waiting.account, of: state)
            let deficit = Amount.max(.zero, -state.equityNow(waiting.account))
            changes.append(.backstopRequest(BackstopRequest(account: current.account, deficit: deficit, positions: current.positions)))
        }
        guard !changes.isEmpty else { return [] }
        for change in changes {
            // The book takes whatever this venue produces: its accounts are numbered densely.
            try? published.apply(change)
        }
        changes.append(.digest(published.digest()))
        return changes
    }

    /// Takes `book` as what this venue has published (a restart rebuilds it from the journal).
    /// Every account waiting for the pool asked it before the journal's last step, so each
    /// request counts as published.
    mutating func adopt(published book: MarginBook) {
        published = book
        requested = Set(world.awaitingBackstop.map(\.account))
    }

    /// Runs the next step of the scenario: new reference prices, margin, liquidation, the venue's
    /// own layer and ADL. Does nothing once the scenario is finished.
    public mutating func advance() {
        guard !isFinished else { return }
        step += 1
        let time = Int64(step) * timeStepSeconds
        world.apply(.step(timeSeconds: time, referencePrices: prices.prices(at: time)))
    }

    /// Applies an instruction of the clearing node once: an id at or below ``lastInstruction`` is a
    /// duplicate and changes nothing.
    ///
    /// - Throws: ``VenueMachineError`` for an instruction out of order, naming an account this venue
    ///   does not have, or of a kind this version of the venue does not carry out. Nothing is applied then.
    @discardableResult
    public mutating func apply(_ instruction: Instruction) throws(VenueMachineError) -> Bool {
        guard instruction.id > lastInstruction else { return false }
        guard instruction.id == lastInstruction + 1 else {
            throw .instructionGap(expected: lastInstruction + 1, received: instruction.id)
        }
        switch instruction.body {
        case .credit(let credit):
            guard Int(credit.account) < world.venues[0].accountCount else {
                throw .unknownAccount(credit.account, instruction: instruction.id)
            }
            world.apply(.crossMarginCredit(venue: 0, account: Int(credit.account), amount: credit.thresholdReduction))
        case .collateralMove(let move):
            let isDebit = move.leg == .debit
            let (venueName, account) = isDebit ? (move.fromVenue, move.fromAccount) : (move.toVenue, move.toAccount)
            guard venueName == venue else { throw .wrongVenue(venueName, instruction: instruction.id) }
            guard Int(account) < world.venues[0].accountCount, world.venues[0].isTraderAccount(Int(account)) else {
                throw .unknownAccount(account, instruction: instruction.id)
            }
            world.apply(.collateralTransfer(venue: 0, account: Int(account), amount: isDebit ? -move.amount : move.amount))
            moves.record(leg: move.leg, amount: move.amount)
        case .backstopFill(let fill):
            try requireAccount(fill.account, instruction: instruction.id)
            for leg in fill.legs { try requireAsset(leg.asset, instruction: instruction.id) }
            let transfers = fill.legs.map { PositionTransfer(asset: Int($0.asset), quantity: $0.quantity, price: $0.price) }
            world.apply(.backstopFill(venue: 0, account: Int(fill.account), transfers: transfers, cash: fill.cash))
            requested.remove(Int(fill.account))
        case .adl(let cut):
            try requireAccount(cut.account, instruction: instruction.id)
            try requireAsset(cut.asset, instruction: instruction.id)
            world.apply(.adlFill(venue: 0, account: Int(cut.account),
                                 transfer: PositionTransfer(asset: Int(cut.asset), quantity: cut.quantity, price: cut.price),
                                 haircut: cut.haircut))
        }
        lastInstruction = instruction.id
        return true
    }

    private func requireAccount(_ account: UInt32, instruction: UInt64) throws(VenueMachineError) {
        guard Int(account) < world.venues[0].accountCount else { throw .unknownAccount(account, instruction: instruction) }
    }

    private func requireAsset(_ asset: UInt16, instruction: UInt64) throws(VenueMachineError) {
        guard Int(asset) < world.config.assets.count, world.venues[0].slotOfAsset[Int(asset)] >= 0 else {
            throw .unlistedAsset(asset, instruction: instruction)
        }
    }

    /// Money this venue paid to the clearing node's mutual pool, net of what it received (Amount raw).
    public var paidToPool: Int64 { world.paidToPool }

    /// Accounts waiting for the pool's answer to their backstop request.
    public var awaitingBackstop: Int { world.awaitingBackstop.count }

    /// The venue's ledger audit: exact conservation, balanced markets, protected layers.
    public var conservation: ConservationReport { world.conservation() }

    /// The digest of the venue's whole engine state (more than the published book: book impact,
    /// random state, ledger accounts outside the accounts).
    public var engineDigest: UInt64 { world.digest() }

    /// The venue's outcome so far (liquidations, ADL, bad debt, the own layer).
    public var outcome: DesignOutcome { world.outcome() }

    func accountState(_ account: Int, of venue: Venue) -> AccountState {
        var positions: [PositionState] = []
        for slot in venue.markets.indices where venue.quantity[slot][account] != 0 {
            positions.append(PositionState(asset: UInt16(venue.markets[slot].asset),
                                           quantity: Quantity(raw: venue.quantity[slot][account]),
                                           basis: Amount(raw: venue.basis[slot][account])))
        }
        positions.sort { $0.asset < $1.asset }
        let owner = venue.owner[account]
        return AccountState(account: UInt32(account), trader: owner >= 0 ? globalTrader[Int(owner)] : Self.venueOwned,
                            collateral: Amount(raw: venue.collateral[account]), positions: positions)
    }

    /// The trader number of the venue's own accounts (book, own layer, pool, ADL clearing).
    public static let venueOwned = UInt32.max
}

/// Why a venue machine cannot start or cannot apply an instruction.
public enum VenueMachineError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownVenue(String, known: [String])
    case instructionGap(expected: UInt64, received: UInt64)
    case unknownAccount(UInt32, instruction: UInt64)
    case unlistedAsset(UInt16, instruction: UInt64)
    case wrongVenue(String, instruction: UInt64)

    public var description: String {
        switch self {
        case .unknownVenue(let venue, let known):
            "venue \"\(venue)\" is not in the cluster (its venues: \(known.joined(separator: ", ")))"
        case .instructionGap(let expected, let received):
            "instruction \(received) arrived before instruction \(expected)"
        case .unknownAccount(let account, let instruction):
            "instruction \(instruction) names account \(account), which this venue does not have"
        case .wrongVenue(let named, let instruction):
            "instruction \(instruction) is a collateral-move leg for venue \(named), not this one"
        case .unlistedAsset(let asset, let instruction):
            "instruction \(instruction) names asset \(asset), which this venue does not list"
        }
    }
}

/// Collateral-move legs a venue applied.
public struct CollateralMoveTotals: Sendable, Hashable, Codable {
    public var debits = 0
    public var debited: Int64 = 0
    public var credits = 0
    public var credited: Int64 = 0

    mutating func record(leg: CollateralMove.Leg, amount: Amount) {
        if leg == .debit {
            debits += 1
            debited += amount.raw
        } else {
            credits += 1
            credited += amount.raw
        }
    }
}
