public import Clips
import Engine
import Foundation
public import MatteMetrics
public import MediaIO

/// One arm's configuration (`configs/NAME.yaml`): what is asked of the service.
public struct ArmConfig: Sendable, Equatable {
  public static let outputFormats = ["webm", "mov", "mp4", "gif", "webp", "png_sequence", "pro_bundle", "matte_mp4"]
  public static let alphaFormats: Set<String> = [
    "webm", "mov", "gif", "webp", "png_sequence", "pro_bundle", "matte_mp4",
  ]
  public static let backgroundTypes = ["transparent", "color", "image", "video"]
  public static let fits = ["cover", "contain", "stretch"]
  /// Provider kinds an arm may name (`provider:`); `--provider` is the default for arms that name none.
  public static let providerKinds = ["local", "exec", "http", "removebgvideo", "videobgremover", "replicate"]
  /// The environment variable holding an arm's API key when it names none (`api_key_env:`).
  public static let defaultAPIKeyVariable = "MATTEGATE_API_KEY"

  public var name: String
  public var model: String
  public var outputFormat: String
  public var bgType: String
  public var bgColor: String?
  public var bgImage: String?
  public var fit: String
  /// Whether the service's colour is straight or premultiplied by alpha (`alpha:` in YAML).
  public var alphaAssociation: AlphaAssociation
  /// Whether an output whose size differs from the source may be resampled to the source's
  /// size (`allow_scaling:`); otherwise such an output is an error naming both sizes.
  public var allowScaling: Bool
  /// Engine or provider parameters, by name.
  public var parameters: [String: Double]
  /// The command the `exec` provider runs per clip (`exec.command`), with `{input}`, `{output}`
  /// and `{config}` placeholders, and its time limit in seconds (`exec.timeout`, default 600).
  public var execCommand: String?
  public var execTimeout: Double = 600
  /// `strict_aspect: true`: a background picture whose aspect-ratio class against a clip's
  /// source is `large` refuses the run before anything is submitted; otherwise it warns.
  public var strictAspect = false
  /// `pad_color`: what contain pads with (the API's default, black).
  public var padColor = "#000000"
  /// The arm's own provider kind, base URL, key variable and background URL, when the config
  /// names them (`provider:`, `api_url:`, `api_key_env:`, `bg_image_url:`).
  public var provider: String?
  public var apiURL: String?
  public var apiKeyEnv: String?
  public var bgImageURL: String?
  /// For provider replicate (`replicate:`): `hosted` (Replicate's API) or `cog` (a Cog
  /// container), the input that takes the video, and the model's other inputs as given.
  public var replicateServer = "hosted"
  public var replicateInputField = "input_video"
  public var replicateInput: [String: String] = [:]
  /// The team's own user or project id for this arm's jobs (`owner:`; else `--owner`).
  public var owner: String?
  /// The file it was read from.
  public var file: String

  /// Why `owner` cannot be an owner id (1–128 characters, no control characters), or nil.
  public static func ownerProblem(_ owner: String) -> String? {
    guard !owner.isEmpty, owner.count <= 128,
      !owner.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
    else { return "'\(owner.prefix(40))' is not an owner id (1–128 characters, no control characters)" }
    return nil
  }

  /// A stable hash of the settings (not of comments or key order): stored with every run.
  public var settingsHash: String {
    FileHash.sha256(of: Array(canonicalText.utf8))
  }

  /// The settings as sorted `key=value` lines.
  public var canonicalText: String {
    var lines = [
      "model=\(model)", "output_format=\(outputFormat)", "bg_type=\(bgType)", "fit=\(fit)",
    ]
    if let bgColor { lines.append("bg_color=\(bgColor)") }
    if let bgImage { lines.append("bg_image=\(bgImage)") }
    if alphaAssociation != .straight { lines.append("alpha=\(alphaAssociation.rawValue)") }
    if allowScaling { lines.append("allow_scaling=true") }
    for (k, v) in parameters.sorted(by: { $0.key < $1.key }) { lines.append("engine.\(k)=\(v)") }
    if strictAspect { lines.append("strict_aspect=true") }
    if padColor != "#000000" { lines.append("pad_color=\(padColor)") }
    if let execCommand { lines.append("exec.command=\(execCommand)") }
    if execCommand != nil { lines.append("exec.timeout=\(execTimeout)") }
    // Where the arm is sent, when the config says (the key's variable name changes no result).
    if let provider { lines.append("provider=\(provider)") }
    if let apiURL { lines.append("api_url=\(apiURL)") }
    if let bgImageURL { lines.append("bg_image_url=\(bgImageURL)") }
    if provider == "replicate" {
      lines.append("replicate.server=\(replicateServer)")
      lines.append("replicate.input_field=\(replicateInputField)")
      for (k, v) in replicateInput.sorted(by: { $0.key < $1.key }) { lines.append("replicate.input.\(k)=\(v)") }
    }
    return lines.joined(separator: "\n")
  }

  /// Reads and validates a config: known keys only, known values, and the format policy
  /// (transparent needs an alpha-capable format; color needs bg_color; image needs bg_image).
  ///
  /// - Throws: `ConfigError` naming the file, the line and the field.
  public static func load(_ path: String) throws(ConfigError) -> ArmConfig {
    let doc = try YAMLMap.load(path)
    try doc.rejectUnknownKeys([
      "name", "description", "model", "output_format", "bg_type", "bg_color", "bg_image", "fit", "engine", "alpha",
      "allow_scaling", "exec", "strict_aspect", "pad_color", "provider", "api_url", "api_key_env", "bg_image_url",
      "owner", "replicate",
    ])
    let name = try doc.requiredString("name")
    let model = try doc.requiredString("model")
    if try doc.string("provider") == "replicate" {
      // Replicate's `owner/name` or `owner/name:version`.
      let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:")
      guard model.count <= 200, model.allSatisfy({ allowed.contains($0) }), !model.hasPrefix("/") else {
        throw doc.error(
          line: doc.line(of: "model"), field: "model", "'\(model.prefix(60))' is not owner/name or owner/name:version")
      }
    } else {
      // The job API's ModelId: ^[a-z0-9][a-z0-9._-]{0,63}$.
      let modelCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
      guard let first = model.first, first.isLetter || first.isNumber, model.count <= 64,
        model.allSatisfy({ modelCharacters.contains($0) })
      else {
        throw doc.error(
          line: doc.line(of: "model"), field: "model",
          "'\(model)' is not a model id: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64"
        )
      }
    }
    let outputFormat = try doc.string("output_format") ?? "webm"
    guard outputFormats.contains(outputFormat) else {
      throw doc.error(
        line: doc.line(of: "output_format"), field: "output_format",
        "'\(outputFormat)' is not one of \(outputFormats.joined(separator: ", "))")
    }
    let bgType = try doc.string("bg_type") ?? "transparent"
    guard backgroundTypes.contains(bgType) else {
      throw doc.error(
        line: doc.line(of: "bg_type"), field: "bg_type",
        "'\(bgType)' is not one of \(backgroundTypes.joined(separator: ", "))")
    }
    if bgType == "transparent" && !alphaFormats.contains(outputFormat) {
      throw doc.error(
        line: doc.line(of: "output_format"), field: "output_format",
        "'\(outputFormat)' cannot carry alpha, so bg_type transparent is impossible (format_incompatible)")
    }
    let bgColor = try doc.string("bg_color")
    if let bgColor {
      let hex = bgColor.dropFirst()
      guard bgColor.hasPrefix("#"), hex.count == 6, hex.allSatisfy(\.isHexDigit) else {
        throw doc.error(line: doc.line(of: "bg_color"), field: "bg_color", "must look like #RRGGBB")
      }
    }
    if bgColor != nil && bgType != "color" {
      throw doc.error(
        line: doc.line(of: "bg_color"), field: "bg_color",
        "belongs to bg_type color, not \(bgType) (conflicting_background)")
    }
    if bgType == "color" && bgColor == nil {
      throw doc.error(line: doc.line(of: "bg_type"), field: "bg_color", "is required when bg_type is color")
    }
    var bgImage = try doc.string("bg_image")
    if let image = bgImage {
      let base = URL(fileURLWithPath: path).deletingLastPathComponent()
      let resolved = image.hasPrefix("/") ? image : base.appendingPathComponent(image).path
      guard FileManager.default.fileExists(atPath: resolved) else {
        throw doc.error(line: doc.line(of: "bg_image"), field: "bg_image", "file '\(image)' not found")
      }
      bgImage = resolved
    }
    if bgType == "image" && bgImage == nil {
      throw doc.error(line: doc.line(of: "bg_type"), field: "bg_image", "is required when bg_type is image")
    }
    if bgImage != nil && bgType != "image" {
      throw doc.error(
        line: doc.line(of: "bg_image"), field: "bg_image",
        "belongs to bg_type image, not \(bgType) (conflicting_background)")
    }
    if let image = bgImage {
      // bg_type image needs a picture: decode it now, before anything is uploaded.
      do {
        guard try MediaInput.open(image, options: ReadOptions(rgb: .eight)).nextFrame()?.rgb != nil else {
          throw MediaError(path: image, reason: "no picture in it")
        }
      } catch {
        throw doc.error(line: doc.line(of: "bg_image"), field: "bg_image", "'\(image)' is not a picture: \(error)")
      }
    }
    if bgType == "video" {
      throw doc.error(
        line: doc.line(of: "bg_type"), field: "bg_type",
        "bg_type video needs a background video, which mattegate configs do not take yet")
    }
    let fit = try doc.string("fit") ?? "cover"
    guard fits.contains(fit) else {
      throw doc.error(line: doc.line(of: "fit"), field: "fit", "'\(fit)' is not one of \(fits.joined(separator: ", "))")
    }
    let alphaText = try doc.string("alpha") ?? "straight"
    guard let association = AlphaAssociation(rawValue: alphaText) else {
      throw doc.error(line: doc.line(of: "alpha"), field: "alpha", "'\(alphaText)' is not straight or premultiplied")
    }
    let allowScaling = try doc.bool("allow_scaling") ?? false
    var parameters: [String: Double] = [:]
    if let engine = try doc.map("engine") {
      for key in engine.keys {
        guard let v = try engine.double(key) else { continue }
        parameters[key] = v
      }
    }
    let strictAspect = try doc.bool("strict_aspect") ?? false
    let padColor = try doc.string("pad_color") ?? "#000000"
    guard padColor.hasPrefix("#"), padColor.count == 7, padColor.dropFirst().allSatisfy(\.isHexDigit) else {
      throw doc.error(line: doc.line(of: "pad_color"), field: "pad_color", "must look like #RRGGBB")
    }
    var config = ArmConfig(
      name: name, model: model, outputFormat: outputFormat, bgType: bgType, bgColor: bgColor,
      bgImage: bgImage, fit: fit, alphaAssociation: association, allowScaling: allowScaling, parameters: parameters,
      file: path)
    config.strictAspect = strictAspect
    config.padColor = padColor
    if let provider = try doc.string("provider") {
      guard providerKinds.contains(provider) else {
        throw doc.error(
          line: doc.line(of: "provider"), field: "provider",
          "'\(provider)' is not a provider (\(providerKinds.joined(separator: ", ")))")
      }
      config.provider = provider
    }
    for (key, isImage) in [("api_url", false), ("bg_image_url", true)] {
      guard let value = try doc.string(key) else { continue }
      guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
        let host = url.host, !host.isEmpty
      else {
        throw doc.error(line: doc.line(of: key), field: key, "'\(value)' is not an http:// or https:// URL with a host")
      }
      if isImage { config.bgImageURL = value } else { config.apiURL = value }
    }
    if let variable = try doc.string("api_key_env") {
      let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
      guard let first = variable.first, !first.isNumber, variable.count <= 128, variable.allSatisfy(allowed.contains)
      else {
        throw doc.error(
          line: doc.line(of: "api_key_env"), field: "api_key_env",
          "'\(variable.prefix(40))' is not an environment variable name (letters, digits, '_', not starting with a digit)"
        )
      }
      config.apiKeyEnv = variable
    }
    if let owner = try doc.string("owner") {
      if let problem = ArmConfig.ownerProblem(owner) {
        throw doc.error(line: doc.line(of: "owner"), field: "owner", problem)
      }
      config.owner = owner
    }
    if config.bgImageURL != nil && bgType != "image" {
      throw doc.error(
        line: doc.line(of: "bg_image_url"), field: "bg_image_url",
        "belongs to bg_type image, not \(bgType) (conflicting_background)")
    }
    if let replicate = try doc.map("replicate") {
      guard config.provider == "replicate" else {
        throw doc.error(line: doc.line(of: "replicate"), field: "replicate", "belongs to provider replicate")
      }
      try replicate.rejectUnknownKeys(["server", "input_field", "input"])
      let server = try replicate.string("server") ?? "hosted"
      guard ["hosted", "cog"].contains(server) else {
        throw replicate.error(
          line: replicate.line(of: "server"), field: "replicate.server", "'\(server)' is not hosted or cog")
      }
      config.replicateServer = server
      config.replicateInputField = try replicate.string("input_field") ?? "input_video"
      if let input = try replicate.map("input") {
        for key in input.keys {
          guard let value = try input.string(key) else { continue }
          config.replicateInput[key] = value
        }
      }
    }
    if let exec = try doc.map("exec") {
      try exec.rejectUnknownKeys(["command", "timeout"])
      guard let command = try exec.string("command"), !command.isEmpty else {
        throw exec.error(line: exec.line(of: "command"), field: "exec.command", "is required in exec")
      }
      for placeholder in ["{input}", "{output}"] where !command.contains(placeholder) {
        throw exec.error(
          line: exec.line(of: "command"), field: "exec.command",
          "must contain \(placeholder) (placeholders: {input}, {output}, {config})")
      }
      config.execCommand = command
      if let timeout = try exec.double("timeout") {
        guard timeout > 0 else {
          throw exec.error(
            line: exec.line(of: "timeout"), field: "exec.timeout", "must be a positive number of seconds")
        }
        config.execTimeout = timeout
      }
    }
    return config
  }
}

/// The aspect-ratio policy of semantics.md, checked per clip before anything is submitted.
public struct AspectCheck: Sendable {
  public var clipID: String
  public var arm: String
  public var match: AspectMatch
  /// The background picture's size, and whether it is smaller than the source in either
  /// dimension (the service must upscale it: expect blur).
  public var background: (width: Int, height: Int) = (0, 0)
  public var upscaled = false

  /// Every clip whose class against `config`'s background picture is not exact, or whose
  /// source is larger than the picture in either dimension (an upscaled background). A `large`
  /// one under `strict_aspect` is an error naming the config, the field, the clip and the
  /// figures; the others are warnings for the caller to print.
  public static func check(
    _ config: ArmConfig, arm: String, clips: [(id: String, width: Int, height: Int)]
  ) throws -> [AspectCheck] {
    guard config.bgType == "image", let image = config.bgImage else { return [] }
    let picture = try MediaInput.open(image, options: ReadOptions(rgb: .none))
    var notExact: [AspectCheck] = []
    for clip in clips {
      let match = AspectMatch(
        source: (clip.width, clip.height), background: (picture.size.width, picture.size.height))
      let upscaled = picture.size.width < clip.width || picture.size.height < clip.height
      guard match.match != .exact || upscaled else { continue }
      if match.match == .large && config.strictAspect {
        throw ConfigError(
          file: config.file, clip: clip.id, field: "strict_aspect",
          message:
            "arm \(arm)'s background \(picture.size.width)x\(picture.size.height) against the source \(clip.width)x\(clip.height): "
            + "relative aspect difference \(String(format: "%.3f", match.relativeDifference)) is large (> 0.10); "
            + "strict_aspect refuses it (aspect_ratio_mismatch), nothing was submitted")
      }
      var check = AspectCheck(clipID: clip.id, arm: arm, match: match)
      check.background = (picture.size.width, picture.size.height)
      check.upscaled = upscaled
      notExact.append(check)
    }
    return notExact
  }
}
