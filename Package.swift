// swift-tools-version:6.2
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "jobctl",
    products: [
        .executable(name: "jobctl", targets: ["jobctl"]),
        // The job model, the worker engine and the analytics, for Swift programs that run or inspect BullMQ jobs;
        // its public declarations are its API (documented in place).
        .library(name: "JobCore", targets: ["JobCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // System libraries. Only the backends import them.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),

        // Pure Swift core: model, JSON, the worker engine, analytics. No C library, no Glibc, no ArgumentParser.
        .target(name: "JobCore", swiftSettings: strictSettings),
        // Handlers that run a job in a process (--exec, --serve): process spawning, pipes and signals.
        .target(name: "JobHandlers", dependencies: ["JobCore"], swiftSettings: strictSettings),
        // The serial executor on a dispatch queue that keeps blocking C client calls off the cooperative pool.
        .target(name: "BlockingIO", swiftSettings: strictSettings),

        // Backends.
        // Lua/ holds the scripts' sources; scripts/generate-lua.py makes RedisScripts.swift from them.
        .target(
            name: "RedisBackend", dependencies: ["JobCore", "BlockingIO", "CHiredis", "COpenSSL"], exclude: ["Lua"],
            swiftSettings: strictSettings),
        .target(
            name: "PostgresBackend", dependencies: ["JobCore", "BlockingIO", "CLibPQ"], swiftSettings: strictSettings),

        // The command line.
        .target(
            name: "JobctlCLI",
            dependencies: [
                "JobCore", "JobHandlers", "RedisBackend", "PostgresBackend",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(name: "jobctl", dependencies: ["JobctlCLI"], swiftSettings: strictSettings),

        // Tests.
        .target(name: "TestSupport", dependencies: ["JobCore"], path: "Tests/TestSupport"),
        .testTarget(name: "JobCoreTests", dependencies: ["JobCore", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(name: "JobHandlersTests", dependencies: ["JobHandlers", "JobCore"], swiftSettings: strictSettings),
        .testTarget(
            name: "RedisBackendTests",
            dependencies: ["RedisBackend", "JobCore", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "PostgresBackendTests",
            dependencies: ["PostgresBackend", "JobCore", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "JobctlCLITests",
            dependencies: [
                "JobctlCLI", "jobctl", "JobCore", "TestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
