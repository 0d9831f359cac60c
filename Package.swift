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
        .executable(name: "jobctl", targets: ["jobctl"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // System libraries. Only the backends import them.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CHiredis", pkgConfig: "hiredis", providers: [.apt(["libhiredis-dev"])]),

        // Pure Swift core: model, JSON, shared presentation helpers. No C, no ArgumentParser.
        .target(name: "JobCore", swiftSettings: strictSettings),

        // Backends.
        // Lua/ holds the scripts' sources; scripts/generate-lua.py makes RedisScripts.swift from them.
        .target(
            name: "RedisBackend", dependencies: ["JobCore", "CHiredis"], exclude: ["Lua"], swiftSettings: strictSettings),
        .target(name: "PostgresBackend", dependencies: ["JobCore", "CLibPQ"], swiftSettings: strictSettings),

        // The command line.
        .target(
            name: "JobctlCLI",
            dependencies: [
                "JobCore", "RedisBackend", "PostgresBackend",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(name: "jobctl", dependencies: ["JobctlCLI"], swiftSettings: strictSettings),

        // Tests.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "JobCoreTests", dependencies: ["JobCore"], swiftSettings: strictSettings),
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
