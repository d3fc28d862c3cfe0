import ArgumentParser
import CrossclearEngine
import CrossclearNode
import CrossclearStore
import Foundation

/// `crossclear demo`: the whole cluster on this machine, one process per node, with progress and a
/// summary.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the local cluster demo: a clearing node and every venue as separate processes.",
        discussion: """
            Reads the cluster file (default cluster/demo.toml: the clearing node and four venues on \
            127.0.0.1 driving the oct10 crash), issues certificates if they are missing, starts the \
            clearing node and one venue node per venue as separate processes of this executable, shows \
            progress until every venue has run the scenario and the clearing node has applied all of \
            it, prints a summary, and stops the nodes with SIGTERM. Logs, journals and status files \
            stay in the cluster's state directory. A fresh run replaces the previous run's journals; \
            --resume continues from them instead (what a restart after a crash does). Ctrl-C stops \
            every node. Exit status 1 when a check of the summary fails.
            """)

    @Option(name: .long, help: "The cluster file.")
    var cluster = "cluster/demo.toml"

    @Flag(name: .long, help: "Continue from the journals of the previous run instead of starting fresh.")
    var resume = false

    @Option(name: .long, help: "The longest the demo waits for the cluster, in seconds.")
    var timeout: Int = 900

    func run() async throws {
        let file = try ClusterFile.load(path: cluster)
        let paths = NodePaths(cluster: file)
        let nodes = try [NodeIdentity.clearing] + file.venues.map { try NodeIdentity.venue($0.name) }
        if !resume { try removePreviousRun(nodes, paths: paths) }
        if !nodes.allSatisfy({ FileManager.default.fileExists(atPath: file.certificates.certificatePath(for: $0)) }) {
            _ = try file.issueCertificates()
            print("issued certificates in \(file.certificates.path)")
        }
        let local = LocalCluster(file: file, clusterPath: cluster, executable: try Self.executablePath())
        let interrupt = Self.onInterrupt { local.stopAll() }
        defer { interrupt.cancel() }

        let venues = file.venues.map(\.name).joined(separator: ", ")
        print("cluster \(file.name): clearing node at \(file.clearing) (\(file.design.rawValue)), venues \(venues)")
        print("scenario \(file.scenario.name): \(file.scenario.population.traders) traders, "
              + "\(file.scenario.stepCount) steps of \(file.scenario.timeStepSeconds) s at \(file.speed)x; state in \(file.stateDirectory)")
        try local.startClearing()
        for venue in file.venues { try local.startVenue(venue.name) }

        let started = ContinuousClock.now
        let interactive = isatty(2) != 0
        var lastLine = ""
        while !local.isQuiet() {
            if let dead = nodes.first(where: { !local.isRunning($0) }) {
                local.stopAll()
                throw ValidationError("\(dead.name) exited early; the end of its log (\(local.logPath(dead))):\n"
                    + local.log(dead).split(separator: "\n").suffix(10).joined(separator: "\n"))
            }
            guard ContinuousClock.now - started < .seconds(timeout) else {
                local.stopAll()
                throw ValidationError("the cluster did not finish within \(timeout) s; logs are in \(file.stateDirectory)")
            }
            let line = progressLine(local)
            if line != lastLine {
                // On a terminal the line is rewritten in place; in a log, one line every two seconds.
                FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8))
                lastLine = line
            }
            try await Task.sleep(for: .milliseconds(interactive ? 250 : 2_000))
        }
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        let passed = printSummary(local, elapsed: ContinuousClock.now - started)
        let statuses = local.stopAll()
        print("stopped \(statuses.count) nodes (SIGTERM); logs, journals and status files are in \(file.stateDirectory)")
        if !passed { throw ExitCode(1) }
    }

    /// One line of progress: each venue's step, the changes the clearing node applied, the credit.
    private func progressLine(_ local: LocalCluster) -> String {
        let clearing = local.clearingStatus()
        let venues = local.venues.map { name -> String in
            guard let status = local.venueStatus(name) else { return "\(name) starting" }
            let stale = clearing?.venues.first { $0.venue == name }?.stale == true ? " STALE" : ""
            return "\(name) \(status.step)/\(status.steps)\(stale)"
        }
        let applied = clearing?.venues.reduce(UInt64(0)) { $0 + $1.lastAppliedSequence } ?? 0
        return venues.joined(separator: " | ") + " | applied \(applied) changes, \(clearing?.creditsSent ?? 0) credits"
    }

    /// Prints the per-venue outcome and the cluster checks; returns whether every check passed.
    private func printSummary(_ local: LocalCluster, elapsed: Duration) -> Bool {
        guard let clearing = local.clearingStatus() else { return false }
        print("done in \(elapsed.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1))))")
        print("")
        print(row(["venue", "liquidations", "ADL'd traders", "bad debt USD", "own layer USD (start -> end)", "changes", "conserved", "view = venue"]))
        var passed = true
        for name in local.venues {
            guard let venue = local.venueStatus(name), let view = clearing.venues.first(where: { $0.venue == name }) else { return false }
            let metrics = venue.metrics
            let conserved = venue.conservation.holds && view.balanced
            let matches = view.viewDigest == venue.publishedDigest && view.collateral == venue.publishedCollateral
            passed = passed && conserved && matches
            print(row([name, "\(metrics.liquidationCount)", "\(metrics.adlTraders)", metrics.badDebt.formatted(fractionDigits: 0),
                       "\(metrics.ownLayersStart.formatted(fractionDigits: 0)) -> \(metrics.ownLayersEnd.formatted(fractionDigits: 0))",
                       "\(venue.changes)", conserved ? "yes" : "NO", matches ? "yes" : "NO"]))
        }
        print("")
        print("clearing node: \(clearing.creditsSent) cross-margin credit instructions sent, "
              + "\(Amount(raw: clearing.creditGranted).formatted(fractionDigits: 0)) USD of credit in force, "
              + "\(clearing.movesSent) collateral moves (\(Amount(raw: clearing.moved).formatted(fractionDigits: 0)) USD), "
              + "stale policy \(clearing.stalePolicy)")
        if let pool = clearing.pool {
            let totals = pool.totals
            print("mutual pool: \(totals.fills) backstop fills (\(Amount(raw: totals.paid).formatted(fractionDigits: 0)) USD paid), "
                  + "\(totals.adlRounds) ADL rounds with \(totals.adlCuts) cuts, \(Amount(raw: totals.assessed).formatted(fractionDigits: 0)) USD assessed; "
                  + "equity \(Amount(raw: pool.equity).formatted(fractionDigits: 0)) USD")
            // What the venues paid to the pool, net, is exactly what the clearing node holds for it.
            let paid = local.venues.compactMap { local.venueStatus($0)?.paidToPool }.reduce(0, +)
            let balanced = paid == pool.cash + pool.treasuries
            print("pool ledger: venues paid \(Amount(raw: paid).formatted(fractionDigits: 2)) USD net; the clearing node holds "
                  + "\(Amount(raw: pool.cash + pool.treasuries).formatted(fractionDigits: 2)) USD (cash and treasuries): \(balanced ? "equal" : "DIFFERENT")")
            passed = passed && balanced
        }
        print(passed ? "checks: every venue's ledger conserved and markets balanced; the clearing node's view equals every venue"
                       + (clearing.pool == nil ? "" : "; the pool's ledger matches the venues'")
                     : "checks FAILED: see the rows marked NO")
        return passed
    }

    private func row(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in index == 0 ? cell.padding(toLength: 12, withPad: " ", startingAt: 0) : " | " + cell }.joined()
    }

    /// Removes the previous run's journals, status files and logs, refusing while a node still holds
    /// its journal (a node of this cluster is running).
    private func removePreviousRun(_ nodes: [NodeIdentity], paths: NodePaths) throws {
        for node in nodes {
            let database = paths.database(of: node)
            if FileManager.default.fileExists(atPath: database) {
                do {
                    try Journal.open(path: database, options: .init(integrityCheckOnOpen: false)).close()
                } catch {
                    throw ValidationError("\(database) is in use (\(error)); stop that node first, or pass --resume")
                }
            }
            for suffix in ["", "-wal", "-shm", ".lock"] { try? FileManager.default.removeItem(atPath: database + suffix) }
            try? FileManager.default.removeItem(atPath: paths.status(of: node))
            try? FileManager.default.removeItem(atPath: paths.log(of: node))
        }
    }

    /// This executable, to start the nodes with.
    static func executablePath() throws -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        guard let path = Bundle.main.executablePath else { throw ValidationError("cannot find the crossclear executable") }
        return path
    }

    /// Runs `handler` once on SIGINT (Ctrl-C), then exits with status 130.
    static func onInterrupt(_ handler: @escaping @Sendable () -> Void) -> any DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT)
        source.setEventHandler {
            FileHandle.standardError.write(Data("\ninterrupted: stopping the nodes\n".utf8))
            handler()
            Foundation.exit(130)
        }
        source.resume()
        return source
    }
}
