import ArgumentParser
import CrossclearNode
import Foundation
import Logging

/// `crossclear bench`: measurements (release builds; see Docs/benchmarks.md).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the cluster's transport, journals and decisions (run a release build).",
        subcommands: [ClusterBenchCommand.self])
}

/// `crossclear bench cluster`: four venues and the clearing node in one process on loopback.
struct ClusterBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Ingest ceiling, durable ingest, venue restart and shock-to-instruction latency on loopback.",
        discussion: """
            Runs, in one process over mutual TLS on 127.0.0.1 (a fresh CA in a temporary directory, \
            removed afterwards), four venues (hyperliquid, binance, dydx, lighter) and a clearing \
            server: 1. the raw TLS ceiling for ChangeBatch frames; 2. durable ingest into a WAL + FULL \
            SQLite journal; 3. a venue restart (build, journal replay, resend) at the given population; \
            4. shock-to-instruction latency. Prints a Markdown table. See Docs/benchmarks.md.
            """)

    @Option(name: .long, help: "The scenario (a file, or a shipped name).")
    var scenario = "oct10"

    @Option(name: .long, help: "Seed of the scenario and of the generated changes.")
    var seed: UInt64 = 42

    @Option(name: .long, help: "Traders in the scenario's population.")
    var traders = 100_000

    @Option(name: .long, help: "Changes each venue publishes in parts 1 and 2.")
    var changesPerVenue = 250_000

    @Option(name: .long, help: "Steps the venue journals before its restart (part 3).")
    var restartSteps = 240

    @Option(name: .long, help: "Steps between the restarting venue's snapshots (part 3; 0: none, replay from the start).")
    var snapshotInterval = VenueJournal.defaultSnapshotInterval

    @Option(name: .long, help: "Measured shocks per decision mode (part 4).")
    var shocks = 200

    @Option(name: .long, help: "Parts to run, e.g. 1,2 (default: all).")
    var parts = "1,2,3,4"

    @Option(name: .long, help: "Log level of the servers and links (standard error).")
    var logLevel: Logger.Level = .warning

    func run() async throws {
        var settings = ClusterBench.Settings(scenarioPath: try resolveScenarioPath(scenario))
        settings.seed = seed
        settings.traders = traders
        settings.changesPerVenue = changesPerVenue
        settings.restartSteps = restartSteps
        settings.snapshotInterval = max(0, snapshotInterval)
        settings.shocks = shocks
        settings.parts = Set(parts.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) })
        let level = logLevel
        let logger = Logger(label: "crossclear.bench") { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let started = ContinuousClock.now
        let report = try await ClusterBench.run(settings, logger: logger) { line in
            FileHandle.standardError.write(Data("[\(elapsed(since: started))] \(line)\n".utf8))
        }
        print(report.markdown)
    }
}
