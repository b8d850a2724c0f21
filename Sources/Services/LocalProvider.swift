public import Clips
public import Engine
import Foundation
import MediaIO

/// The embedded engine, in process: no network, no credits.
public struct LocalProvider: Provider {
  public var name: String { "local" }

  public init() {}

  static let allowedParameters: Set<String> = ["threshold", "low", "high", "crf"]

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
    if let v = config.parameters["threshold"] { s.threshold = v }
    if let v = config.parameters["low"] { s.low = v }
    if let v = config.parameters["high"] { s.high = v }
    if let v = config.parameters["crf"] {
      guard v >= 0, v <= 63, v == v.rounded() else {
        throw ConfigError(file: config.file, field: "engine.crf", message: "must be an integer in 0...63")
      }
      s.crf = Int(v)
    }
    if s.model == .softKeyer && s.high <= s.low {
      throw ConfigError(file: config.file, field: "engine.high", message: "must be greater than engine.low")
    }
    return s
  }

  public func validate(_ config: ArmConfig) throws {
    _ = try Self.settings(for: config)
    guard config.outputFormat == "webm", config.bgType == "transparent" else {
      throw ConfigError(
        file: config.file, field: "output_format",
        message: "the embedded engine writes only output_format webm with bg_type transparent so far")
    }
  }

  public func submit(_ request: JobRequest) async throws -> JobOutcome {
    let started = Date()
    let settings = try Self.settings(for: request.config)
    do {
      _ = try EmbeddedEngine.removeBackground(
        sourcePath: request.sourcePath, cleanPlatePath: request.cleanPlatePath, settings: settings,
        outputPath: request.outputPath)
    } catch {
      throw ProviderError(clipID: request.clipID, arm: request.arm, code: "processing_failed", message: "\(error)")
    }
    let hash = try FileHash.sha256(ofFile: request.outputPath)
    return JobOutcome(
      providerJobID: "local-\(request.idempotencyKey)", outputPath: request.outputPath, outputSHA256: hash,
      serviceVersion: EmbeddedEngine.version, credits: 0, startedAt: started, finishedAt: Date())
  }
}
