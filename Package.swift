// swift-tools-version:6.0
import PackageDescription

/// Module graph (dependencies point one way, top to bottom):
///
///   vbackup (executable) -> VBackupCLI -> VBackupAgent -> VBackupDrill -> BackupEngine
///   BackupEngine -> { VBackupStore, LibvirtClient, NBDClient, NBDServer }
///   VBackupAgent -> { VBackupPolicy, ResourceControl, GRDB (job journal), swift-log, swift-metrics,
///                     swift-prometheus, Hummingbird (/metrics) }
///   VBackupStore -> { StorageAdapter, ZstdCodec, VBackupModel, GRDB, Crypto, _CryptoExtras }
///   VBackupCLI -> VBackupPolicy -> Yams (policy files and retention rules: pure, no store)
///   LocalStorage (storage-adapters/local) -> StorageAdapter only
///   S3Storage (storage-adapters/s3) -> StorageAdapter, AsyncHTTPClient, NIO, NIOSSL (a private CA), Crypto (SigV4, MD5)
///   ResourceControl -> Foundation/Glibc only (bandwidth governor, CPU cgroups, PSI, adaptive throttle)
///
/// Each C library is wrapped once: CLibvirt only in LibvirtClient, CNBD only in NBDClient,
/// CZstd only in ZstdCodec. SQLite is reached through GRDB, only from VBackupStore's catalog.
let package = Package(
    name: "vbackup",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vbackup", targets: ["vbackup"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.70.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
    ],
    targets: [
        // C libraries, each behind a module map; only their one wrapper module imports them.
        .systemLibrary(name: "CLibvirt", pkgConfig: "libvirt", providers: [.apt(["libvirt-dev"])]),
        .systemLibrary(name: "CNBD", pkgConfig: "libnbd", providers: [.apt(["libnbd-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),

        .target(name: "VBackupModel"),
        .target(name: "ZstdCodec", dependencies: ["CZstd"]),
        .target(name: "StorageAdapter"),
        .target(
            name: "LocalStorage",
            dependencies: ["StorageAdapter"],
            path: "storage-adapters/local"
        ),
        .target(
            name: "S3Storage",
            dependencies: [
                "StorageAdapter",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "storage-adapters/s3"
        ),
        .target(
            name: "VBackupStore",
            dependencies: [
                "StorageAdapter", "ZstdCodec", "VBackupModel",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(name: "VBackupPolicy", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(name: "ResourceControl"),
        .target(name: "LibvirtClient", dependencies: ["CLibvirt"]),
        .target(name: "NBDClient", dependencies: ["CNBD"]),
        // vbackup's own read-only NBD server (instant restore, drills, mount): protocol only.
        .target(name: "NBDServer"),
        .target(
            name: "BackupEngine",
            dependencies: ["VBackupStore", "VBackupModel", "LibvirtClient", "NBDClient", "NBDServer", "StorageAdapter", "LocalStorage"]
        ),
        // Disaster-recovery drills: a point booted in a sandbox, checked, torn down.
        .target(name: "VBackupDrill", dependencies: ["BackupEngine", "VBackupStore", "VBackupModel", "LibvirtClient"]),
        .target(
            name: "VBackupAgent",
            dependencies: [
                "BackupEngine", "VBackupStore", "VBackupModel", "VBackupPolicy", "LibvirtClient", "ResourceControl",
                "FleetAPI", "FleetClient", "VBackupDrill",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            exclude: ["vbackup-agent.service"]
        ),
        // The central policy server and what agents and the CLI speak to it with.
        .target(name: "FleetAPI"),
        .target(
            name: "FleetDatabase",
            dependencies: [
                "FleetAPI",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "VBackupServer",
            dependencies: [
                "FleetAPI", "FleetDatabase", "VBackupPolicy",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.embedInCode("openapi.yaml")]
        ),
        .target(
            name: "FleetClient",
            dependencies: [
                "FleetAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "VBackupCLI",
            dependencies: [
                "BackupEngine", "VBackupStore", "VBackupModel", "VBackupPolicy", "LocalStorage", "S3Storage", "StorageAdapter", "LibvirtClient",
                "ResourceControl",
                "VBackupAgent", "VBackupServer", "FleetAPI", "FleetClient", "VBackupDrill",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "vbackup", dependencies: ["VBackupCLI"]),
        .executableTarget(
            name: "vbackup-serverbench",
            dependencies: [
                "FleetAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Tests/Benchmarks/ServerBench"
        ),
        .executableTarget(name: "vbackup-storebench", dependencies: ["VBackupStore", "LocalStorage", "VBackupModel"], path: "Tests/Benchmarks/StoreBench"),

        .testTarget(
            name: "VBackupStoreTests",
            dependencies: [
                "VBackupStore", "LocalStorage", "S3Storage", "StorageAdapter", "ZstdCodec", "VBackupModel",
                // NIO: the loopback listener that answers 503 SlowDown for the retry test.
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "VBackupPolicyTests", dependencies: ["VBackupPolicy"]),
        .testTarget(name: "ResourceControlTests", dependencies: ["ResourceControl"]),
        .testTarget(name: "BackupEngineTests", dependencies: ["BackupEngine", "VBackupModel", "VBackupStore"]),
        .testTarget(name: "LibvirtClientTests", dependencies: ["LibvirtClient", "NBDClient"]),
        .testTarget(name: "VBackupDrillTests", dependencies: ["VBackupDrill", "VBackupModel"]),
        .testTarget(name: "NBDServerTests", dependencies: ["NBDServer", "NBDClient"]),
        .testTarget(
            name: "VBackupAgentTests",
            dependencies: [
                "VBackupAgent", "FleetAPI", "FleetClient", "FleetDatabase", "VBackupServer",
                "BackupEngine", "VBackupStore", "LocalStorage", "LibvirtClient",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "FleetServerTests",
            dependencies: [
                "FleetAPI", "FleetDatabase", "VBackupServer", "FleetClient",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
                // NIOCore: ByteBuffer and TimeAmount for the WebDriver client that drives Chromium.
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "vbackup", "BackupEngine", "VBackupStore", "VBackupModel", "LibvirtClient", "LocalStorage", "S3Storage", "StorageAdapter",
                "VBackupAgent", "FleetAPI", "FleetClient", .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
