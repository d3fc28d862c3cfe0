import ArgumentParser
import CrossclearNode
import Logging
import ServiceLifecycle

/// Options every node command shares.
struct NodeOptions: ParsableArguments {
    @Option(name: .long, help: "The cluster file.")
    var cluster = "cluster/demo.toml"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    /// Loads the cluster file and a logger naming the node; logs go to standard error.
    func start(node: String) throws -> (ClusterFile, Logger) {
        let file = try ClusterFile.load(path: cluster)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        var logger = Logger(label: "crossclear")
        logger[metadataKey: "node"] = "\(node)"
        return (file, logger)
    }

    /// Runs one node service until SIGTERM or SIGINT, then shuts it down gracefully.
    static func run(_ service: some Service, logger: Logger) async throws {
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `crossclear clearing`: the cluster's clearing node.
struct ClearingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clearing",
        abstract: "Run the cluster's clearing node.",
        discussion: """
            Listens at the cluster file's [clearing] address for the venue nodes (mutual TLS: only \
            certificates from the cluster's CA that name one of its venues are accepted; run \
            `crossclear certs` first). Journals every margin-state change to <state_dir>/clearing.sqlite \
            before acknowledging it, keeps a view of every venue, grants cross-margin credit to traders \
            hedged across venues, moves collateral between their legs (both legs or neither), and marks a \
            venue stale when its heartbeat is late (the cluster file's stale_policy says what then). Writes \
            <state_dir>/clearing.status.json as it runs. Stops gracefully on SIGTERM or SIGINT; a \
            restart rebuilds the view from the journal. See Docs/cluster.md.
            """)

    @OptionGroup var options: NodeOptions

    @Option(name: .long, help: "What happens to credit resting on a stale venue: withdraw-credit or last-known (default: the cluster file's [clearing] stale_policy, else withdraw-credit).")
    var stalePolicy: String?

    func run() async throws {
        let policy = try stalePolicy.map { name in
            guard let policy = StalePolicy(rawValue: name) else {
                throw ValidationError("unknown stale policy \"\(name)\"; use one of: \(StalePolicy.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return policy
        }
        let (file, logger) = try options.start(node: "clearing")
        let node = try ClearingNode(settings: ClearingNode.Settings(cluster: file, policy: policy), logger: logger)
        logger.info("clearing node listening", metadata: ["address": "\(file.clearing)", "venues": "\(file.venues.map(\.name))"])
        try await NodeOptions.run(node, logger: logger)
    }
}

/// `crossclear venue NAME`: one venue node.
struct VenueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "venue",
        abstract: "Run one venue node of the cluster.",
        discussion: """
            Runs the venue's engine (its profile's margin, liquidation, insurance layer and ADL) on the \
            cluster scenario's prices and traders, at the cluster's speed, seeded. Journals every step's \
            margin-state changes to <state_dir>/venue-<NAME>.sqlite before sending them to the clearing \
            node over mutual TLS, and applies the clearing node's instructions exactly once. A restart \
            (even after kill -9) rebuilds the venue from its journal and resends what the clearing node \
            has not acknowledged. Writes <state_dir>/venue-<NAME>.status.json as it runs.
            """)

    @Argument(help: "The venue's name, as in the cluster file.")
    var venue: String

    @OptionGroup var options: NodeOptions

    @Option(name: .long, help: "Simulated seconds per real second (default: the cluster file's speed; 0: as fast as possible).")
    var speed: Int64?

    func run() async throws {
        let (file, logger) = try options.start(node: "venue:\(venue)")
        guard file.venues.contains(where: { $0.name == venue }) else {
            throw ValidationError("venue \"\(venue)\" is not in \(options.cluster); its venues: \(file.venues.map(\.name).joined(separator: ", "))")
        }
        let node = try VenueNode(settings: VenueNode.Settings(cluster: file, venue: venue, speed: speed), logger: logger)
        logger.info("venue node starting", metadata: ["clearing": "\(file.clearing)"])
        try await NodeOptions.run(node, logger: logger)
    }
}
