// swift-tools-version: 6.0
// libFuzzer harnesses, outside the default build: `Fuzz/run` builds them with
// -sanitize=fuzzer,address and runs each for a time budget. See docs/bad-input.md.
import PackageDescription

let package = Package(
  name: "mattegate-fuzz",
  dependencies: [.package(name: "mattegate", path: "..")],
  targets: [
    .target(name: "FuzzSupport"),
    .executableTarget(
      name: "FuzzManifest", dependencies: ["FuzzSupport", .product(name: "MattegateCore", package: "mattegate")]),
    .executableTarget(
      name: "FuzzConfig", dependencies: ["FuzzSupport", .product(name: "MattegateCore", package: "mattegate")]),
    .executableTarget(
      name: "FuzzMedia", dependencies: ["FuzzSupport", .product(name: "MattegateCore", package: "mattegate")]),
    .executableTarget(
      name: "FuzzJobJSON", dependencies: ["FuzzSupport", .product(name: "MattegateCore", package: "mattegate")]),
    .executableTarget(
      name: "FuzzMultipart", dependencies: ["FuzzSupport", .product(name: "MattegateCore", package: "mattegate")]),
    .executableTarget(
      name: "FuzzMotion", dependencies: ["FuzzSupport", .product(name: "MattegateCore", package: "mattegate")]),
  ]
)
