import CrossclearEngine
import CrossclearSimulation
import CrossclearStore
import CrossclearWire
import Foundation
import Logging
import Synchronization

extension ClusterBench {
    struct ShockResult {
        var mode: String
        var count: Int
        var p50: Duration
        var p99: Duration
        var max: Duration
        var initialCredits: Int
        var meanInstructions: Double
        /// Per shock, each stage of its path (sorted per stage): publish to the decision round's
        /// start, deciding, journaling and sending, and from then to the last arrival.
        var stages: [(name: String, sorted: [Duration])] = []
        /// The same decisions taken by a machine alone (consume the shock, decide credits and
        /// moves; no I/O), sorted.
        var alone: [Duration] = []
    }

    /// One marks change and the credits it moves, per venue (from a shadow machine).
    struct Shock {
        var venue: Int
        var body: ChangeBody
        var counts: [Int]
        var total: Int { counts.reduce(0, +) }
    }

    /// Builds the four venues at the scenario's population, feeds their first changes into a
    /// ClearingMachine and takes its first decision (not timed); then, through ``ClearingCore`` as
    /// the clearing node runs it (deciding as soon as a change arrives), publishes marks shocks one at
    /// a time and times each from the venue's publish call to the last instruction it causes
    /// reaching its venue, with each round's decision and send durations.
    static func measureShocks(
        scenario: Scenario, settings: Settings, cluster: BenchCluster, directory: String, logger: Logger,
        progress: @escaping @Sendable (String) -> Void
    ) async throws -> [ShockResult] {
        guard scenario.venues.map(\.name) == venues else {
            throw BenchError("the scenario's venues are \(scenario.venues.map(\.name)), expected \(venues)")
        }
        guard let btc = scenario.assets.firstIndex(where: { $0.config.symbol == "BTC" }) else {
            throw BenchError("the scenario has no BTC")
        }
        var machine = ClearingMachine(scenario: scenario, design: .sharedFull, policy: .withdrawCredit)
        var baseMarks: [MarkState] = []
        for (index, venue) in venues.enumerated() {
            var venueMachine = try VenueMachine(scenario: scenario, venue: venue, design: .sharedFull)
            let changes = venueMachine.changes()
            try machine.consume(venue: index, changes: changes)
            let marks = changes.compactMap { change -> MarkState? in
                guard case .marks(let states) = change else { return nil }
                return states.first { Int($0.asset) == btc }
            }
            guard let mark = marks.first else { throw BenchError("venue \(venue) publishes no BTC mark") }
            baseMarks.append(mark)
        }
        let initialCredits = machine.decideCredits().reduce(0) { $0 + $1.credits.count }
        _ = machine.decideMoves()
        progress("  fed 4 venues into the clearing machine; first decision: \(initialCredits) credits")

        // The shocks and what each one decides, from a shadow of the machine.
        var shadow = machine
        var shocks: [Shock] = []
        var rounds = [Int](repeating: 0, count: venues.count)
        var measured = 0
        var candidate = 0
        var alone: [Duration] = []
        while measured < settings.shocks {
            guard candidate < settings.shocks * 8 else { throw BenchError("too few marks changes move credits") }
            let venue = candidate % venues.count
            candidate += 1
            let factor: Int64 = rounds[venue] % 2 == 0 ? 95 : 100
            rounds[venue] += 1
            let base = baseMarks[venue]
            let body = ChangeBody.marks([MarkState(
                asset: base.asset, oracle: Price(raw: base.oracle.raw / 100 * factor), mark: Price(raw: base.mark.raw / 100 * factor))])
            let started = ContinuousClock.now
            try shadow.consume(venue: venue, changes: [body])
            let credits = shadow.decideCredits()
            let moves = shadow.decideMoves()
            alone.append(.now - started)
            var counts = [Int](repeating: 0, count: venues.count)
            for decision in credits { counts[decision.venue] = decision.credits.count }
            for move in moves {
                counts[move.from.venue] += 1
                counts[move.to.venue] += 1
            }
            let shock = Shock(venue: venue, body: body, counts: counts)
            if shock.total > 0 { measured += 1 }
            shocks.append(shock)
        }

        progress("  ClearingCore: \(shocks.count) shocks ...")
        var result = try await runShocks(
            shocks, mode: "ClearingCore", machine: machine, cluster: cluster, directory: directory + "/0", logger: logger)
        result.initialCredits = initialCredits
        result.alone = alone.sorted()
        return [result]
    }

    private static func runShocks(
        _ shocks: [Shock], mode: String, machine: ClearingMachine, cluster: BenchCluster, directory: String, logger: Logger
    ) async throws -> ShockResult {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let clearingJournal = try Journal.open(path: directory + "/clearing.sqlite")
        let timings = DecisionTimings()
        let core = ClearingCore(machine: machine, lastMove: 0, logger: logger, timings: timings)
        let consumer: any ChangeConsumer = core
        let server = try ClearingServer(
            configuration: .init(port: 0, venues: venues), tls: cluster.clearing, journal: clearingJournal, consumer: consumer, logger: logger)
        core.attach(server)
        let (running, port) = try await startServer(server)
        let deciding = BenchService {
            try await core.decideAndSend()
        }

        let arrivals = ArrivalLog()
        var links: [VenueLink] = []
        var journals: [Journal] = []
        var services: [BenchService] = []
        for (index, venue) in venues.enumerated() {
            let journal = try Journal.open(path: directory + "/\(venue).sqlite")
            let link = try benchLink(
                venue: venue, port: port, stream: "changes/1", journal: journal, cluster: cluster,
                instructions: TimingInstructionConsumer(venue: index, log: arrivals), logger: logger)
            journals.append(journal)
            links.append(link)
            services.append(BenchService { try await link.run() })
        }
        try await waitUntil("the venues to connect", timeout: .seconds(30)) { links.allSatisfy(\.isConnected) }

        var hashers = venues.map { _ in ChainHasher(epoch: 1) }
        var latencies: [Duration] = []
        var stages = Array(repeating: [Duration](), count: 4)
        var instructions = 0
        for shock in shocks {
            // The venue journals its change first (as after a step), then publishes it: the clock
            // starts at the publish call.
            let change = try hashers[shock.venue].append(shock.body)
            _ = try await journals[shock.venue].append([try TransportJournal.entry(for: change, stream: "changes/1")])
            let mark = arrivals.count
            let started = ContinuousClock.now
            links[shock.venue].publish(upTo: change.sequence)
            guard shock.total > 0 else {
                try await waitUntil("a shock to be acknowledged", timeout: .seconds(10)) { links[shock.venue].lastAcknowledged >= change.sequence }
                continue
            }
            try await waitUntil("a shock's instructions", timeout: .seconds(10)) {
                arrivals.counts(since: mark, venues: venues.count) == shock.counts
            }
            let arrived = arrivals.last(since: mark)
            latencies.append(arrived - started)
            instructions += shock.total
            if let round = timings.firstRound(startingAt: started) {
                for (stage, duration) in [round.started - started, round.decided - round.started, round.sent - round.decided, arrived - round.sent]
                    .enumerated() { stages[stage].append(duration) }
            }
        }
        for service in services { await service.stop() }
        await deciding.stop()
        await running.stop()

        let sorted = latencies.sorted()
        var result = ShockResult(
            mode: mode, count: sorted.count, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.last ?? .zero,
            initialCredits: 0, meanInstructions: Double(instructions) / Double(max(1, sorted.count)))
        let names = ["publish -> decision start (venue link, ingest commit, view update)", "deciding",
                     "journaling (outbox commit) and handing to the sessions", "sessions -> last arrival (pump, TLS, venue decoding)"]
        result.stages = zip(names, stages).map { ($0, $1.sorted()) }
        return result
    }
}

/// Instruction batches as they reach the venues' links.
final class ArrivalLog: Sendable {
    struct Arrival {
        var venue: Int
        var at: ContinuousClock.Instant
        var count: Int
    }

    private let arrivals = Mutex<[Arrival]>([])

    var count: Int { arrivals.withLock { $0.count } }

    func append(_ arrival: Arrival) { arrivals.withLock { $0.append(arrival) } }

    /// Instructions received per venue since entry `mark`.
    func counts(since mark: Int, venues: Int) -> [Int] {
        arrivals.withLock { arrivals in
            var counts = [Int](repeating: 0, count: venues)
            for arrival in arrivals[mark...] { counts[arrival.venue] += arrival.count }
            return counts
        }
    }

    /// When the last batch since entry `mark` arrived.
    func last(since mark: Int) -> ContinuousClock.Instant {
        arrivals.withLock { $0[mark...].map(\.at).max()! }
    }
}

/// Timestamps each received instruction batch (and applies nothing).
struct TimingInstructionConsumer: InstructionConsumer {
    let venue: Int
    let log: ArrivalLog

    func apply(_ instructions: [Instruction]) async throws {
        log.append(.init(venue: venue, at: .now, count: instructions.count))
    }
}

