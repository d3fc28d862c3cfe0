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
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // Pure, deterministic economics: fixed-point money, ledger, venues, clearing. No I/O, no Foundation.
        .target(name: "CrossclearEngine"),
        // Scenario files, the seeded simulator and its reports (files, charts, HTML).
        .target(name: "CrossclearSimulation", dependencies: ["CrossclearEngine"]),
        // Durable journals and snapshots in SQLite (WAL, synchronous=FULL, group commit).
        .target(
            name: "CrossclearStore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                // The SQLite C API GRDB is built on, for binding the journal's hot statements directly.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // The wire protocol between venue and clearing nodes: frames, messages, strict codecs.
        .target(
            name: "CrossclearWire",
            dependencies: [
                "CrossclearEngine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The nodes: cluster files, the local certificate authority, mutually authenticated TLS, and
        // the venue and clearing services that gossip over it and journal to SQLite.
        .target(
            name: "CrossclearNode",
            dependencies: [
                "CrossclearSimulation",
                "CrossclearWire",
                "CrossclearStore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The command-line front end: parses arguments and calls the libraries.
        .executableTarget(
            name: "crossclear",
            dependencies: [
                "CrossclearSimulation",
                "CrossclearNode",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CrossclearEngineTests",
            dependencies: ["CrossclearEngine", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(name: "CrossclearStoreTests", dependencies: ["CrossclearStore", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "CrossclearWireTests",
            dependencies: [
                "CrossclearWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "CrossclearNodeTests",
            dependencies: [
                "CrossclearNode",
                "CrossclearEngine",
                "CrossclearWire",
                "CrossclearStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CrossclearSimulationTests",
            dependencies: ["CrossclearSimulation", .product(name: "PropertyBased", package: "swift-property-based")],
            resources: []
        ),
    ],
    swiftLanguageModes: [.v6]
)
