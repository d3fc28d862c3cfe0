// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "crossclear",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "crossclear", targets: ["crossclear"]),
        .library(name: "CrossclearEngine", targets: ["CrossclearEngine"]),
        .library(name: "CrossclearSimulation", targets: ["CrossclearSimulation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // Pure, deterministic economics: fixed-point money, ledger, venues, clearing. No I/O, no Foundation.
        .target(name: "CrossclearEngine"),
        // Scenario files, the seeded simulator and its reports (files, charts, HTML).
        .target(name: "CrossclearSimulation", dependencies: ["CrossclearEngine"]),
        // The command-line front end: parses arguments and calls the libraries.
        .executableTarget(
            name: "crossclear",
            dependencies: [
                "CrossclearSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "CrossclearEngineTests",
            dependencies: ["CrossclearEngine", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "CrossclearSimulationTests",
            dependencies: ["CrossclearSimulation", .product(name: "PropertyBased", package: "swift-property-based")],
            resources: []
        ),
    ],
    swiftLanguageModes: [.v6]
)
