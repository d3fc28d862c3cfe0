import CrossclearStore
import CrossclearWire
import Logging
import ServiceLifecycle
import Synchronization

/// The clearing node: accepts the venues over mutual TLS (``ClearingServer``), keeps its view of
/// each in a ``ClearingMachine`` and sends the machine's decisions back as instructions, persisted
/// before they are sent. Writes `clearing.status.json` four times a second.
public final class ClearingNode: Service, Sendable {
    /// Everything a clearing node needs to start.
    public struct Settings: Sendable {
        public var cluster: ClusterFile
        /// The stale policy (default: the cluster file's).
        public var policy: StalePolicy

        public init(cluster: ClusterFile, policy: StalePolicy? = nil) {
            self.cluster = cluster
            self.policy = policy ?? cluster.stalePolicy
        }
    }

    public let settings: Settings
    private let core: ClearingCore
    private let server: ClearingServer
    private let statusPath: String

    /// Opens (or creates) the clearing journal under the cluster's state directory and prepares the server.
    public init(settings: Settings, logger: Logger) throws {
        self.settings = settings
        let paths = NodePaths(cluster: settings.cluster)
        try paths.createStateDirectory()
        let journal = try Journal.open(path: paths.database(of: .clearing))
        var machine = ClearingMachine(scenario: settings.cluster.scenario, design: settings.cluster.design, policy: settings.policy)
        if machine.pool != nil, let pool = try MutualPool.restore(venues: machine.venues, read: { try journal.cursor($0) }) {
            machine.restore(pool: pool)
        }
        let core = ClearingCore(machine: machine, lastMove: UInt64(try journal.cursor(ClearingCore.moveCursor) ?? 0), logger: logger)
        self.core = core
        statusPath = paths.status(of: .clearing)
        let address = settings.cluster.clearing
        server = try ClearingServer(
            configuration: ClearingServer.Configuration(
                host: address.host, port: address.port, venues: settings.cluster.venues.map(\.name),
                heartbeatInterval: settings.cluster.heartbeat, staleAfter: settings.cluster.staleAfter),
            tls: MutualTLS(credentials: NodeCredentials.load(node: .clearing, from: settings.cluster.certificates)),
            journal: journal, consumer: core, logger: logger)
        core.attach(server)
    }

    /// Serves the venues, sends decisions in the order they were taken, and writes the status file,
    /// until shut down.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.server.run() }
            group.addTask { try await untilShutdown { try await self.core.decideAndSend() } }
            group.addTask {
                try await untilShutdown {
                    while !Task.isCancelled {
                        try self.core.status(links: self.server.linkStatus()).writeJSON(to: self.statusPath)
                        try await Task.sleep(for: .milliseconds(250))
                    }
                }
            }
        }
    }
}

/// The clearing machine behind one lock. The server feeds it changes (cheap: the view is
/// updated and marked changed, and the decider woken); one task takes the decisions on the changed
/// view and sends them in order, so the event loops never wait on a decision, a later credit never
/// overtakes an earlier one, and changes arriving while a decision is sent are decided on together.
final class ClearingCore: ChangeConsumer, Sendable {
    /// The journal cursor holding the last collateral-move id.
    static let moveCursor = "moves/last-id"

    private struct State: Sendable {
        var machine: ClearingMachine
        var server: ClearingServer?
        var changed = false
        var creditsSent = 0
        var lastMove: UInt64
        var movesSent = 0
        var moved: Int64 = 0
    }

    private let state: Mutex<State>
    let logger: Logger
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    /// Where each round's decision and send durations go, when someone measures them (benchmarks).
    private let timings: DecisionTimings?

    init(machine: ClearingMachine, lastMove: UInt64, logger: Logger, timings: DecisionTimings? = nil) {
        state = Mutex(State(machine: machine, lastMove: lastMove))
        self.logger = logger
        self.timings = timings
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func attach(_ server: ClearingServer) {
        state.withLock { $0.server = server }
    }

    /// Applies a venue's accepted changes to the view. While the server replays its journal at
    /// start (before it listens) nothing is decided: the first decision after that restates every
    /// credit, since what was granted before the restart is not assumed.
    func consume(venue: String, epoch: UInt64, changes: [Change]) async {
        let diverged = state.withLock { state -> Bool in
            guard let index = state.machine.venues.firstIndex(of: venue) else { return false }
            var diverged = false
            do {
                let start = MutualPool.RequestPosition(epoch: epoch, sequence: changes.first?.sequence ?? 1)
                if try !state.machine.consume(venue: index, changes: changes.map(\.body), startingAt: start) {
                    logger.error("view diverged from the venue's digest", metadata: [
                        "venue": "\(venue)", "epoch": "\(epoch)", "through": "\(changes.last?.sequence ?? 0)"])
                    diverged = true
                }
            } catch {
                logger.error("change refused by the clearing view", metadata: ["venue": "\(venue)", "reason": "\(error)"])
                return false
            }
            state.changed = true
            return diverged
        }
        wake.yield()
        if diverged { await requestRepair(of: venue, epoch: epoch, through: changes.last?.sequence ?? 0) }  // ClearingCore+Repair.swift
    }

    /// The stale policy hook: a venue whose heartbeat is late is marked stale in the view (its last
    /// state stays; the policy decides what credit still rests on it).
    func linkStatusChanged(_ status: VenueLinkStatus) async {
        state.withLock { state in
            guard let index = state.machine.venues.firstIndex(of: status.venue), state.machine.stale[index] != status.stale else { return }
            state.machine.setStale(venue: index, status.stale)
            logger.notice(status.stale ? "venue stale" : "venue live again",
                          metadata: ["venue": "\(status.venue)", "policy": "\(state.machine.policy.rawValue)"])
            state.changed = true
        }
        wake.yield()
    }

    /// Takes decisions on the changed view and sends them, until cancelled. Nothing is decided
    /// while the server replays its journal at start (before it listens): the first decision after
    /// that restates every credit, since what was granted before a restart is not assumed.
    func decideAndSend() async throws {
        let clock = ContinuousClock()
        for await _ in wakes {
            let started = clock.now
            let round = state.withLock { state -> (server: ClearingServer, batches: [(venue: String, bodies: [InstructionBody])],
                                                   cursors: [String: Int64], deleverages: Bool)? in
                guard state.changed, let server = state.server, server.boundPort != nil else { return nil }
                state.changed = false
                var batches = state.machine.decideCredits().map { decision in
                    (venue: state.machine.venues[decision.venue], bodies: decision.credits.map(InstructionBody.credit))
                }
                state.creditsSent += batches.reduce(0) { $0 + $1.bodies.count }
                for move in state.machine.decideMoves() {
                    state.lastMove += 1
                    let from = state.machine.venues[move.from.venue]
                    let to = state.machine.venues[move.to.venue]
                    for leg in [CollateralMove.Leg.debit, .credit] {
                        let body = InstructionBody.collateralMove(CollateralMove(
                            moveId: state.lastMove, fromVenue: from, fromAccount: move.from.account, toVenue: to,
                            toAccount: move.to.account, amount: move.amount, leg: leg))
                        batches.append((leg == .debit ? from : to, [body]))
                    }
                    state.movesSent += 1
                    state.moved += move.amount.raw
                }
                var cursors = [Self.moveCursor: Int64(state.lastMove)]
                let poolBefore = state.machine.pool
                let backstops = state.machine.decideBackstops()
                for decision in backstops {
                    let venue = state.machine.venues[decision.venue]
                    if let fill = decision.fill {
                        batches.append((venue, [.backstopFill(fill)]))
                        logger.notice(decision.cuts.isEmpty ? "backstop fill" : "backstop fill with ADL round", metadata: [
                            "venue": "\(venue)", "account": "\(fill.account)", "request": "\(fill.requestEpoch):\(fill.requestSequence)",
                            "cash": "\(fill.cash)", "cuts": "\(decision.cuts.count)"])
                    } else {
                        logger.notice("pool deleverages its inventory", metadata: ["venue": "\(venue)", "cuts": "\(decision.cuts.count)"])
                    }
                    for (winner, cut) in decision.cuts { batches.append((state.machine.venues[winner], [.adl(cut)])) }
                }
                if let pool = state.machine.pool, pool != poolBefore {
                    cursors.merge(pool.cursors(venues: state.machine.venues)) { $1 }
                }
                let changedPool = state.machine.pool != poolBefore
                return batches.isEmpty && !changedPool ? nil : (server, batches, cursors, backstops.contains { !$0.cuts.isEmpty })
            }
            guard let round else { continue }
            let decided = clock.now
            if round.deleverages { Failpoint.reach(.adlRoundDecided) }
            // Every instruction of the round, both legs of every move and a backstop fill with its
            // ADL cuts included, is journaled in one transaction with the move counter and the
            // pool's state: a decision is recorded whole or not at all, and never taken twice.
            _ = try await round.server.send(round.batches, cursors: round.cursors)
            if round.deleverages { Failpoint.reach(.adlRoundJournaled) }
            timings?.record(DecisionTimings.Round(started: started, decided: decided, sent: clock.now))
        }
    }

    func status(links: [VenueLinkStatus]) -> ClearingStatus {
        state.withLock { state in
            let machine = state.machine
            let views = machine.venues.indices.map { index in
                let link = links.first { $0.venue == machine.venues[index] }
                let view = machine.views[index]
                let totals = view.totals()
                return ClearingStatus.VenueView(
                    venue: machine.venues[index], connected: link?.connected ?? false, stale: machine.stale[index],
                    epoch: link?.epoch ?? 0, lastAppliedSequence: link?.lastAppliedSequence ?? 0,
                    viewDigest: view.digest(), reportedDigest: link?.lastReportedDigest,
                    digestMismatches: machine.digestMismatches[index],
                    repairs: machine.repairs[index],
                    accounts: view.accounts.count, collateral: totals.collateral, balanced: totals.isBalanced,
                    pendingInstructions: link?.pendingInstructions ?? 0)
            }
            return ClearingStatus(venues: views, stalePolicy: machine.policy.rawValue, creditsSent: state.creditsSent,
                                  movesSent: state.movesSent, moved: state.moved,
                                  creditGranted: machine.creditGranted, pool: machine.pool.map { pool in
                                      ClearingStatus.Pool(cash: pool.cash, equity: machine.poolEquity,
                                                          treasuries: pool.treasuries.reduce(0, +), totals: pool.totals,
                                                          pendingRequests: machine.pendingBackstops)
                                  })
        }
    }

    // MARK: - For extensions in other files (ClearingCore+Repair.swift)

    /// Runs `body` on the machine and the attached server under the lock; when `changing`, the view
    /// is marked changed and the decider woken.
    func withMachine<T: Sendable>(changing: Bool, _ body: (inout ClearingMachine, ClearingServer?) -> T) -> T {
        let result = state.withLock { state in
            if changing { state.changed = true }
            return body(&state.machine, state.server)
        }
        if changing { wake.yield() }
        return result
    }
}

/// When each of the clearing node's decision rounds started, was decided, and was journaled and
/// sent (benchmarks).
final class DecisionTimings: Sendable {
    struct Round: Sendable {
        var started: ContinuousClock.Instant
        var decided: ContinuousClock.Instant
        var sent: ContinuousClock.Instant
    }

    private let storage = Mutex<[Round]>([])

    func record(_ round: Round) {
        storage.withLock { $0.append(round) }
    }

    /// The first round that started at `instant` or later.
    func firstRound(startingAt instant: ContinuousClock.Instant) -> Round? {
        storage.withLock { rounds in rounds.first { $0.started >= instant } }
    }
}
