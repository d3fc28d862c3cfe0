import ArgumentParser

@main
struct CrossclearCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crossclear",
        abstract: "Shared clearing for crypto perpetual futures: a deterministic simulator of clearing designs and cluster tooling.",
        discussion: """
            Start with:  crossclear sim oct10
            Then open sim-out/oct10/report.html. See README.md and Docs/ for the design and the file formats.
            """,
        subcommands: [SimCommand.self, CertsCommand.self])
}
