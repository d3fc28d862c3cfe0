import ArgumentParser

@main
struct CrossclearCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crossclear",
        abstract: "Shared clearing for crypto perpetual futures: a deterministic simulator of clearing designs and cluster tooling.",
        discussion: """
            Cluster demo:  crossclear demo   (a clearing node and four venues as processes on 127.0.0.1)
            By hand:       crossclear certs, then crossclear clearing and one crossclear venue NAME per
                           venue, each in its own terminal (all read cluster/demo.toml by default).
            Simulator:     crossclear sim oct10   (then open sim-out/oct10/report.html)
            See README.md and Docs/ for the design and the file formats.
            """,
        subcommands: [DemoCommand.self, SimCommand.self, CertsCommand.self, ClearingCommand.self, VenueCommand.self, BenchCommand.self])
}
