public import Clips
public import Engine
import Foundation
import MatteMetrics
public import MediaIO

/// The embedded engine, in process: no network, no credits.
public struct LocalProvider: Provider {
  public var name: String { "local" }
  public var identity: String { "local " + EmbeddedEngine.version }

  public init() {}

  static let allowedParameters: Set<String> = ["threshold", "low", "high", "crf", "radius", "epsilon", "smoothing"]

  /// The engine settings a config asks for.
  public static func settings(for config: ArmConfig) throws(ConfigError) -> EngineSettings {
    guard let model = KeyerModel(rawValue: config.model) else {
      throw ConfigError(
        file: config.file, field: "model",
        message:
          "'\(config.model)' is not a model of the embedded engine (models: \(KeyerModel.allCases.map(\.rawValue).joined(separator: ", ")))"
      )
    }
    for key in config.parameters.keys where !allowedParameters.contains(key) {
      throw ConfigError(
        file: config.file, field: "engine.\(key)",
        message: "unknown engine parameter (known: \(allowedParameters.sorted().joined(separator: ", ")))")
    }
    var s = EngineSettings(model: model)
    // Colour distances in 8-bit RGB: 0 up to the cube's diagonal, √3·255 ≈ 441.7.
    for key in ["threshold", "low", "high"] {
      if let v = config.parameters[key], !(v.isFinite && v >= 0 && v <= 442) {
        throw ConfigError(
          file: config.file, field: "engine.\(key)",
          message: "\(v) is not a colour distance (0...442 in 8-bit RGB units)")
      }
    }
    if let v = config.parameters["threshold"] { s.threshold = v }
    if let v = config.parameters["low"] { s.low = v }
    if let v = config.parameters["high"] { s.high = v }
    if let v = config.parameters["crf"] {
      guard v >= 0, v <= 63, v == v.rounded() else {
        throw ConfigError(file: config.file, field: "engine.crf", message: "must be an integer in 0...63")
      }
      s.crf = Int(v)
    }
    if let v = config.parameters["radius"] {
      guard v >= 1, v <= 64, v == v.rounded() else {
        throw ConfigError(file: config.file, field: "engine.radius", message: "must be an integer in 1...64")
      }
      s.radius = Int(v)
    }
    if let v = config.parameters["epsilon"] {
      guard v > 0, v <= 1 else {
        throw ConfigError(file: config.file, field: "engine.epsilon", message: "must be in (0, 1]")
      }
      s.epsilon = v
    }
    if let v = config.parameters["smoothing"] {
      guard v >= 0, v < 1 else {
        throw ConfigError(file: config.file, field: "engine.smoothing", message: "must be in [0, 1)")
      }
      s.smoothing = v
    }
    if s.model != .thresholdKeyer && s.high <= s.low {
      throw ConfigError(file: config.file, field: "engine.high", message: "must be greater than engine.low")
    }
    return s
  }

  public func validate(_ config: ArmConfig) throws {
    _ = try Self.settings(for: config)
    switch (config.outputFormat, config.bgType) {
    case ("webm", "transparent"), ("mov", "transparent"), ("png_sequence", "transparent"), ("mp4", "color"),
      ("mp4", "image"):
      break
    default:
      throw ConfigError(
        file: config.file, field: "output_format",
        message:
          "the embedded engine writes output_format webm, mov or png_sequence with bg_type transparent, or mp4 with bg_type color or image; not \(config.outputFormat) with \(config.bgType)"
      )
    }
  }

  /// The background of a composite config fitted onto a `width`×`height` canvas (bg_color, or
  /// bg_image with the config's fit; padding black), as the engine and the scorer both use it.
  public static func fittedBackground(for config: ArmConfig, width: Int, height: Int) throws -> RGBImage? {
    try fittedBackground(
      bgType: config.bgType, bgColor: config.bgColor, bgImage: config.bgImage, fit: config.fit, width: width,
      height: height)
  }

  /// The same from the settings themselves (the reference server's jobs have no config file).
  public static func fittedBackground(
    bgType: String, bgColor: String?, bgImage: String?, fit: String, width: Int, height: Int
  ) throws -> RGBImage? {
    switch bgType {
    case "color":
      let v = Int(bgColor?.dropFirst() ?? "000000", radix: 16) ?? 0
      let rgb = [UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)]
      return RGBImage(width: width, height: height, pixels: Array((0..<(width * height)).map { _ in rgb }.joined()))
    case "image":
      guard let path = bgImage else { return nil }
      let reader = try MediaInput.open(path, options: ReadOptions(rgb: .eight))
      guard let picture = try reader.nextFrame()?.rgb else {
        throw MediaError(path: path, reason: "has no picture")
      }
      let fitted = Composite.fit(
        RGBPicture(width: picture.width, height: picture.height, bytes: picture.pixels), width: width, height: height,
        mode: BackgroundFit(rawValue: fit) ?? .cover)
      return RGBImage(
        width: width, height: height, pixels: fitted.values.map { UInt8(min(max(($0 * 255).rounded(), 0), 255)) })
    default:
      return nil
    }
  }

  public func submit(_ request: JobRequest) async throws -> JobOutcome {
    let started = Date()
    let settings = try Self.settings(for: request.config)
    do {
      let size = try MediaInput.open(request.sourcePath, options: ReadOptions(rgb: .none)).size
      let composite = try Self.fittedBackground(for: request.config, width: size.width, height: size.height).map {
        CompositeRequest(background: $0)
      }
      _ = try EmbeddedEngine.removeBackground(
        sourcePath: request.sourcePath, cleanPlatePath: request.cleanPlatePath, settings: settings,
        outputPath: request.outputPath, format: TransparentFormat(rawValue: request.config.outputFormat) ?? .webm,
        composite: composite)
    } catch {
      throw ProviderError(clipID: request.clipID, arm: request.arm, code: "processing_failed", message: "\(error)")
    }
    let hash = try FileHash.sha256(ofFile: request.outputPath)
    let finishedAt = Date()
    var outcome = JobOutcome(
      providerJobID: "local-\(request.idempotencyKey)", outputPath: request.outputPath, outputSHA256: hash,
      serviceVersion: EmbeddedEngine.version, credits: 0, startedAt: started, finishedAt: finishedAt)
    outcome.queuedMS = 0
    outcome.processingMS = Int((finishedAt.timeIntervalSince(started) * 1000).rounded())
    return outcome
  }
}
