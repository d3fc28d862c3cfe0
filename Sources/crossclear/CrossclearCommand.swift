import ArgumentParser

@main
struct CrossclearCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crossclear",
        abstract: "Shared clearing for crypto perpetual futures: a deterministic simulator of clearing designs and cluster tooling.",
        discussion: """
            Simulator:  crossclear sim oct10   (then open sim-out/oct10/report.html)
            Cluster:    crossclear certs, then crossclear clearing and one crossclear venue NAME per venue,
                        each in its own terminal (all read cluster/demo.toml by default).
            See README.md and Docs/ for the design and the file formats.
            """,
        subcommands: [SimCommand.self, CertsCommand.self, ClearingCommand.self, VenueCommand.self, BenchCommand.self])
}
