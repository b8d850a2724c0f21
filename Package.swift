// swift-tools-version: 6.0
import PackageDescription

let strictSettings: [SwiftSetting] = [
  .enableUpcomingFeature("InternalImportsByDefault"),
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
  name: "mattegate",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "mattegate", targets: ["mattegate"]),
    // The libraries the fuzz harnesses in Fuzz/ (a package of its own) link against.
    .library(name: "MattegateCore", targets: ["MediaIO", "Clips", "Services", "Runner"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
  ],
  targets: [
    .systemLibrary(
      name: "CFFmpeg",
      pkgConfig: "libavformat libavcodec libavutil libswscale",
      providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev"])]
    ),
    .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
    .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
    .target(
      name: "MediaIO",
      dependencies: [
        "CFFmpeg", "CPNG", "CDeflate", "CMatteKernels", .product(name: "ZIPFoundation", package: "ZIPFoundation"),
      ],
      swiftSettings: strictSettings
    ),
    // Grad's separable passes in C, built for the baseline and for AVX2, chosen at run time;
    // the previews' area-average reduction.
    .target(name: "CMatteKernels"),
    .target(name: "MatteMetrics", dependencies: ["CMatteKernels"], swiftSettings: strictSettings),
    .target(
      name: "Clips",
      dependencies: ["MediaIO", "MatteMetrics", .product(name: "Yams", package: "Yams")],
      swiftSettings: strictSettings
    ),
    .target(name: "Engine", dependencies: ["MediaIO"], swiftSettings: strictSettings),
    .target(
      name: "Services",
      dependencies: [
        "Clips", "Engine", "MediaIO", "MatteMetrics", .product(name: "Yams", package: "Yams"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "MultipartKit", package: "multipart-kit"),
      ],
      swiftSettings: strictSettings
    ),
    .target(
      name: "APIServer",
      dependencies: [
        "Engine", "MediaIO", "MatteMetrics", "Services",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        .product(name: "MultipartKit", package: "multipart-kit"),
      ],
      swiftSettings: strictSettings
    ),
    .target(
      name: "Store",
      dependencies: [.product(name: "GRDB", package: "GRDB.swift")],
      swiftSettings: strictSettings
    ),
    .target(name: "Verdict", dependencies: ["MatteMetrics"], swiftSettings: strictSettings),
    .target(
      name: "Report",
      dependencies: ["MediaIO", "MatteMetrics", "Verdict", "Store"],
      swiftSettings: strictSettings
    ),
    .target(
      name: "Runner",
      dependencies: [
        "Clips", "Engine", "MediaIO", "MatteMetrics", "Services", "Store", "Verdict", "Report",
      ],
      swiftSettings: strictSettings
    ),
    .target(
      name: "ReviewServer",
      dependencies: [
        "APIServer", "MatteMetrics", "Report", "Runner", "Store",
        .product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
      ],
      swiftSettings: strictSettings
    ),
    .executableTarget(
      name: "mattegate",
      dependencies: [
        "Runner", "Clips", "Engine", "MediaIO", "MatteMetrics", "APIServer", "ReviewServer", "Verdict", "Report",
        "Store",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: strictSettings
    ),
    .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strictSettings),
    .testTarget(
      name: "RunnerTests",
      dependencies: ["Runner", "Clips", "Engine", "MediaIO", "Report", "Services", "Store", "Verdict", "TestSupport"],
      swiftSettings: strictSettings
    ),
    .testTarget(
      name: "MediaIOTests",
      dependencies: ["MediaIO", "TestSupport", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
      swiftSettings: strictSettings
    ),
    .testTarget(name: "MetricsTests", dependencies: ["MatteMetrics", "CMatteKernels"], swiftSettings: strictSettings),
    .testTarget(
      name: "ClipsTests", dependencies: ["Clips", "MediaIO"], swiftSettings: strictSettings),
    .testTarget(
      name: "EngineTests", dependencies: ["Engine", "MediaIO"], swiftSettings: strictSettings),
    .testTarget(
      name: "ServicesTests", dependencies: ["Services", "MediaIO", "MatteMetrics"], swiftSettings: strictSettings),
    .testTarget(
      name: "APIServerTests",
      dependencies: [
        "APIServer", "Services", "Clips", "MediaIO", "TestSupport",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
      ],
      swiftSettings: strictSettings
    ),
    .testTarget(
      name: "StoreTests", dependencies: ["Store", .product(name: "GRDB", package: "GRDB.swift")],
      swiftSettings: strictSettings),
    .testTarget(name: "VerdictTests", dependencies: ["Verdict"], swiftSettings: strictSettings),
    // The golden structure is read by path (#filePath), not as a bundled resource.
    .testTarget(
      name: "ReportTests", dependencies: ["Report", "Store", "TestSupport"], exclude: ["Golden"],
      swiftSettings: strictSettings),
    .testTarget(
      name: "ReviewServerTests",
      dependencies: [
        "ReviewServer", "APIServer", "MediaIO", "Report", "Store", "TestSupport", "Verdict",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      swiftSettings: strictSettings
    ),
    .testTarget(
      name: "EndToEndTests",
      dependencies: [
        "mattegate", "MediaIO", "Report", "Store", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
      ],
      swiftSettings: strictSettings),
  ]
)
