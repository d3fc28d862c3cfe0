import ArgumentParser

@main
struct CrossclearCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crossclear",
        abstract: "Shared clearing for crypto perpetual futures: simulator and cluster nodes.")
}
