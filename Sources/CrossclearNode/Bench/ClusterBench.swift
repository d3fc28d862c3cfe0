import CrossclearSimulation
import CrossclearStore
import CrossclearWire
import Foundation
import Logging

/// `crossclear bench cluster`: the transport, clearing journal, venue restart and shock-to-instruction
/// paths measured in one process on loopback, four venues over mutual TLS with certificates from a
/// fresh CA in a temporary directory (removed afterwards). Measured, never asserted.
public enum ClusterBench {
    /// The cluster's four venues (as in `cluster/scenarios/oct10.toml`).
    public static let venues = ["hyperliquid", "binance", "dydx", "lighter"]

    /// What to measure and how much.
    public struct Settings: Sendable {
        /// The scenario file (oct10) the restart and shock parts build their venues from.
        public var scenarioPath: String
        /// Seed of the scenario and of the generated account changes.
        public var seed: UInt64 = 42
        /// The scenario's population (`population.traders`).
        public var traders: Int = 100_000
        /// Changes each venue publishes in the ceiling and ingest parts.
        public var changesPerVenue: Int = 250_000
        /// Steps journaled before the venue restart.
        public var restartSteps: Int = 240
        /// The venue that restarts.
        public var restartVenue: String = "hyperliquid"
        /// Steps between the restarting venue's snapshots (as a venue node journals them; 0: none).
        public var snapshotInterval: Int = VenueJournal.defaultSnapshotInterval
        /// Measured shocks per decision mode.
        public var shocks: Int = 200
        /// Which parts to run (1...4).
        public var parts: Set<Int> = [1, 2, 3, 4]

        public init(scenarioPath: String) {
            self.scenarioPath = scenarioPath
        }
    }

    /// One line of the result table.
    public struct Row: Sendable {
        public var part: String
        public var figure: String
        public var target: String
        /// nil: no target.
        public var passed: Bool?
    }

    /// Everything measured, with notes on what dominates.
    public struct Report: Sendable {
        public var settings: Settings
        public var rows: [Row] = []
        public var notes: [String] = []
        public var context: [String] = []

        /// A Markdown table of the figures, then the run's parameters and notes.
        public var markdown: String {
            var lines = ["| part | figure | target | result |", "|---|---|---|---|"]
            for row in rows {
                let verdict = row.passed.map { $0 ? "pass" : "MISS" } ?? "-"
                lines.append("| \(row.part) | \(row.figure) | \(row.target) | \(verdict) |")
            }
            lines.append("")
            lines += context.map { "- " + $0 }
            if !notes.isEmpty {
                lines.append("")
                lines += notes.map { "- " + $0 }
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Runs the selected parts in order; `progress` receives a line as each part starts and ends.
    public static func run(
        _ settings: Settings, logger: Logger, progress: @escaping @Sendable (String) -> Void
    ) async throws -> Report {
        var report = Report(settings: settings)
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("crossclear-bench-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let cluster = try BenchCluster(directory: directory + "/certs")
        report.context = [
            "seed \(settings.seed), \(ProcessInfo.processInfo.activeProcessorCount) cores (\(ProcessInfo.processInfo.processorCount) configured), "
                + "\(settings.traders) traders (oct10), venues \(venues.joined(separator: ", "))",
            "mutual TLS 1.3 on 127.0.0.1 with certificates from a fresh CA in a temporary directory (removed afterwards)",
        ]

        var ceiling: Double?
        if settings.parts.contains(1) || settings.parts.contains(2) {
            let workload = try IngestWorkload(seed: settings.seed, changesPerVenue: settings.changesPerVenue)
            report.context.append(
                "ceiling and ingest: \(settings.changesPerVenue) account changes per venue (x4), 1-2 positions each, "
                    + "\(IngestWorkload.readLimit) changes per read as VenueLink reads them, split into frames of at most "
                    + "\(WireProtocol.defaultMaximumFrameLength) bytes (\(workload.framesPerVenue) frames, "
                    + "\(workload.bytesPerVenue / settings.changesPerVenue) bytes per change on the wire)")
            if settings.parts.contains(1) {
                progress("1/4 raw mutual-TLS ceiling ...")
                let result = try await measureCeiling(cluster: cluster, workload: workload, logger: logger)
                ceiling = result.changesPerSecond
                report.rows.append(Row(part: "1 ceiling", figure: "\(format(result.changesPerSecond)) changes/s, \(format(result.megabytesPerSecond, digits: 0)) MB/s (\(format(result.seconds, digits: 2)) s)", target: "-", passed: nil))
                report.notes.append("ceiling: 4 TLS connections write pre-encoded ChangeBatch frames, the server decodes them (FrameDecoder, hashes verified) and discards them.")
                progress("1/4 done")
            }
            if settings.parts.contains(2) {
                progress("2/4 durable ingest ...")
                let result = try await measureIngest(cluster: cluster, workload: workload, directory: directory + "/ingest", logger: logger)
                let share = ceiling.map { " = \(format(result.changesPerSecond / $0 * 100, digits: 0))% of the ceiling" } ?? ""
                report.rows.append(Row(
                    part: "2 durable ingest", figure: "\(format(result.changesPerSecond)) changes/s (\(format(result.seconds, digits: 2)) s)\(share)",
                    target: ">= 250,000 changes/s", passed: result.changesPerSecond >= 250_000))
                report.notes.append(
                    "ingest: clearing journal \(result.durability); \(result.commits) group commits, \(format(Double(result.entries) / Double(max(1, result.commits)), digits: 0)) changes per commit; "
                        + "changes journaled by the venues before the clock starts (venue-side journaling not measured: \(format(result.venueJournalingRate)) changes/s with 4 venues in parallel, one transaction per \(IngestWorkload.venueTransaction)).")
                progress("2/4 done")
            }
        }
        if settings.parts.contains(3) || settings.parts.contains(4) {
            progress("loading the scenario with \(settings.traders) traders ...")
            let scenario = try Scenario.load(path: settings.scenarioPath, overrides: [
                ScenarioOverride(key: "population.traders", value: String(settings.traders)),
                ScenarioOverride(key: "seed", value: String(settings.seed)),
            ])
            if settings.parts.contains(3) {
                progress("3/4 venue restart and resync ...")
                let result = try await measureRestart(scenario: scenario, settings: settings, cluster: cluster, directory: directory + "/restart", logger: logger, progress: progress)
                let total = result.open + result.build + result.restore + result.resync
                let built = result.snapshotStep.map { "from the snapshot of step \($0)" } ?? "from the scenario"
                report.rows.append(Row(part: "3 restart+resync", figure: "\(ms(total)) total: open \(ms(result.open)) + build \(ms(result.build)) + restore \(ms(result.restore)) + resync \(ms(result.resync))", target: "< 1 s", passed: total < .seconds(1)))
                report.rows.append(Row(part: "3 restart (journal only)", figure: "\(ms(result.restore + result.resync)) (restore + resync, without opening the journal and building the machine)", target: "-", passed: nil))
                report.notes.append(
                    "restart: venue \(settings.restartVenue), \(result.accounts) accounts, \(result.steps) steps journaled, \(result.changes) changes, \(result.instructions) instructions; "
                        + "the resync sends all \(result.changes) changes to a fresh ClearingServer (nothing acknowledged) and includes connect + TLS handshake + Hello/Welcome; "
                        + "open: the venue's journal reopened as a restarted node opens it (lock, WAL, quick_check); "
                        + "build: the machine \(built) ("
                        + (settings.snapshotInterval > 0 ? "snapshot at step 0 and every \(settings.snapshotInterval) steps); " : "no snapshots); ")
                        + "restore replays \(result.replayedSteps) steps (\(ms(result.restore / max(1, result.replayedSteps), digits: 2)) per step, with the check of the journaled changes after the snapshot), and the journal head check passed (digest equal).")
                if let withSnapshot = result.snapshotStepJournaling {
                    report.notes.append(
                        "restart: before it, journaling a step took \(ms(result.stepJournaling, digits: 2)) on average, "
                            + "\(ms(withSnapshot, digits: 2)) with a snapshot (\(format(Double(result.snapshotBytes) / 1_000_000, digits: 1)) MB: encoding, SHA-256 and the write in the step's transaction).")
                }
                if let stoppedBy = result.stoppedBy { report.notes.append("restart: fewer steps than asked: \(stoppedBy)") }
                progress("3/4 done")
            }
            if settings.parts.contains(4) {
                progress("4/4 shock -> instruction latency ...")
                let results = try await measureShocks(scenario: scenario, settings: settings, cluster: cluster, directory: directory + "/shock", logger: logger, progress: progress)
                for result in results {
                    report.rows.append(Row(
                        part: "4 shock -> instruction (\(result.mode))",
                        figure: "p50 \(ms(result.p50, digits: 2)), p99 \(ms(result.p99, digits: 2)), max \(ms(result.max, digits: 2)) over \(result.count) shocks",
                        target: "p99 < 10 ms", passed: result.p99 < .milliseconds(10)))
                }
                if let direct = results.first {
                    report.notes.append(
                        "shock: a BTC marks change on one venue (rotating, 0.95x then back), journaled by the venue before the clock starts; the clock stops when the last instruction of the decision reached its venue's InstructionConsumer. "
                            + "\(direct.initialCredits) credits in the initial restatement (not timed), \(format(direct.meanInstructions, digits: 0)) instructions per shock on average. "
                            + "Per shock, stage by stage: "
                            + direct.stages.map { "\($0.name) p50 \(ms(percentile($0.sorted, 0.5), digits: 2)), p99 \(ms(percentile($0.sorted, 0.99), digits: 2))" }
                            .joined(separator: "; ") + ". "
                            + "The same decisions on a machine alone (consuming the shock, deciding credits and moves; no I/O): "
                            + "p50 \(ms(percentile(direct.alone, 0.5), digits: 2)), p99 \(ms(percentile(direct.alone, 0.99), digits: 2)).")
                }
                progress("4/4 done")
            }
        }
        return report
    }

    // MARK: - Formatting

    static func format(_ value: Double, digits: Int = 0) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.minimumFractionDigits = digits
        formatter.maximumFractionDigits = digits
        formatter.usesGroupingSeparator = true
        formatter.groupingSeparator = ","
        formatter.decimalSeparator = "."
        return formatter.string(from: NSNumber(value: value)) ?? String(value)
    }

    static func ms(_ duration: Duration, digits: Int = 0) -> String {
        format(duration.seconds * 1_000, digits: digits) + " ms"
    }
}

/// A percentile by nearest rank of sorted `values` (`fraction` in 0...1).
func percentile(_ sorted: [Duration], _ fraction: Double) -> Duration {
    guard !sorted.isEmpty else { return .zero }
    let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}
