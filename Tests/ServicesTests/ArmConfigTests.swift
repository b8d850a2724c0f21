import Clips
import Engine
import Foundation
import MatteMetrics
import MediaIO
import Testing

@testable import Services

func writeConfig(_ text: String) throws -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mattegate-cfg-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  let path = dir.appendingPathComponent("arm.yaml").path
  try text.write(toFile: path, atomically: true, encoding: .utf8)
  return path
}

@Suite struct ArmConfigTests {
  @Test func readsAConfigAndMapsEngineSettings() throws {
    let path = try writeConfig(
      "name: soft\nmodel: soft-keyer\noutput_format: webm\nengine:\n  low: 5\n  high: 50\n  crf: 30\n")
    let config = try ArmConfig.load(path)
    #expect(config.bgType == "transparent")
    #expect(config.fit == "cover")
    let settings = try LocalProvider.settings(for: config)
    #expect(settings == EngineSettings(model: .softKeyer, threshold: 40, low: 5, high: 50, crf: 30))
    try LocalProvider().validate(config)
    // Comments and key order do not change the settings hash; a value does.
    let same = try ArmConfig.load(
      try writeConfig("# x\nmodel: soft-keyer\nname: soft\nengine: {crf: 30, high: 50, low: 5}\n"))
    #expect(same.settingsHash == config.settingsHash)
    let other = try ArmConfig.load(
      try writeConfig("name: soft\nmodel: soft-keyer\nengine: {low: 6, high: 50, crf: 30}\n"))
    #expect(other.settingsHash != config.settingsHash)
  }

  @Test func alphaAssociationAndScalingAreSettingsOfTheConfig() throws {
    let plain = try ArmConfig.load(try writeConfig("name: a\nmodel: soft-keyer\n"))
    #expect(plain.alphaAssociation == .straight && plain.allowScaling == false)
    let set = try ArmConfig.load(
      try writeConfig("name: a\nmodel: soft-keyer\nalpha: premultiplied\nallow_scaling: true\n"))
    #expect(set.alphaAssociation == .premultiplied && set.allowScaling)
    // Both change what is asked of the service, so both change the settings hash.
    #expect(set.settingsHash != plain.settingsHash)
    let path = try writeConfig("name: a\nmodel: soft-keyer\nalpha: associated\n")
    let error = #expect(throws: ConfigError.self) { try ArmConfig.load(path) }
    #expect(
      error?.description.hasPrefix(path + ":3: field 'alpha': 'associated' is not straight or premultiplied") == true)
  }

  @Test func unknownKeyIsAnErrorWithItsLine() throws {
    let path = try writeConfig("name: x\nmodel: soft-keyer\ncolour: red\n")
    let error = #expect(throws: ConfigError.self) { try ArmConfig.load(path) }
    #expect(error?.description.hasPrefix(path + ":3: field 'colour': unknown key") == true)
  }

  @Test func formatPolicy() throws {
    let mp4 = try writeConfig("name: x\nmodel: soft-keyer\noutput_format: mp4\nbg_type: transparent\n")
    #expect(
      (#expect(throws: ConfigError.self) { try ArmConfig.load(mp4) })?.message.contains("format_incompatible") == true)
    let color = try writeConfig("name: x\nmodel: soft-keyer\noutput_format: mp4\nbg_type: color\n")
    #expect((#expect(throws: ConfigError.self) { try ArmConfig.load(color) })?.field == "bg_color")
    let badColor = try writeConfig("name: x\nmodel: soft-keyer\nbg_type: color\nbg_color: green\n")
    #expect((#expect(throws: ConfigError.self) { try ArmConfig.load(badColor) })?.field == "bg_color")
    let image = try writeConfig("name: x\nmodel: soft-keyer\nbg_type: image\nbg_image: nowhere.png\n")
    #expect((#expect(throws: ConfigError.self) { try ArmConfig.load(image) })?.message.contains("not found") == true)
  }

  @Test func theLocalProviderRefusesWhatItCannotDo() throws {
    let model = try ArmConfig.load(try writeConfig("name: x\nmodel: u2net\n"))
    #expect(throws: ConfigError.self) { try LocalProvider().validate(model) }
    // The engine writes webm, mov and png_sequence with alpha; not GIF.
    for format in ["mov", "png_sequence"] {
      let ok = try ArmConfig.load(try writeConfig("name: x\nmodel: soft-keyer\noutput_format: \(format)\n"))
      try LocalProvider().validate(ok)
    }
    let gif = try ArmConfig.load(try writeConfig("name: x\nmodel: soft-keyer\noutput_format: gif\n"))
    #expect(throws: ConfigError.self) { try LocalProvider().validate(gif) }
    let param = try ArmConfig.load(try writeConfig("name: x\nmodel: soft-keyer\nengine: {strength: 3}\n"))
    #expect((#expect(throws: ConfigError.self) { try LocalProvider().validate(param) })?.field == "engine.strength")
    for (key, value) in [("radius", "0"), ("radius", "2.5"), ("epsilon", "0"), ("smoothing", "1")] {
      let bad = try ArmConfig.load(
        try writeConfig("name: x\nmodel: refined-keyer\nengine: {\(key): \(value)}\n"))
      #expect((#expect(throws: ConfigError.self) { try LocalProvider().validate(bad) })?.field == "engine.\(key)")
    }
    let refined = try ArmConfig.load(
      try writeConfig("name: x\nmodel: refined-keyer\nengine: {radius: 3, epsilon: 0.01, smoothing: 0.5}\n"))
    let settings = try LocalProvider.settings(for: refined)
    #expect(settings.model == .refinedKeyer && settings.radius == 3 && settings.epsilon == 0.01)
    #expect(settings.smoothing == 0.5)
  }
}

/// Item 3 of the services issue: the contract's schema and policy, checked before any request.
@Suite struct ConfigPolicyTests {
  func picture(_ w: Int, _ h: Int) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bg-\(UUID().uuidString).png").path
    try PNGFile.write(RGBImage(width: w, height: h, pixels: [UInt8](repeating: 40, count: w * h * 3)), to: path)
    return path
  }

  @Test func schemaViolationsNameTheField() throws {
    let cases: [(String, String)] = [
      ("name: x\nmodel: Soft Keyer\n", "model"),
      ("name: x\nmodel: soft-keyer\nbg_color: '#112233'\n", "bg_color"),
      ("name: x\nmodel: soft-keyer\nbg_type: color\nbg_color: '#112233'\npad_color: red\n", "pad_color"),
      ("name: x\nmodel: soft-keyer\noutput_format: mp4\nbg_type: video\n", "bg_type"),
    ]
    for (yaml, field) in cases {
      let error = try #require(throws: ConfigError.self) { try ArmConfig.load(try writeConfig(yaml)) }
      #expect(error.field == field, "\(yaml): \(error)")
    }
    // bg_image with bg_type transparent conflicts; a bg_image that is not a picture is refused.
    let image = try picture(8, 8)
    let conflicting = try #require(throws: ConfigError.self) {
      try ArmConfig.load(try writeConfig("name: x\nmodel: soft-keyer\nbg_image: \(image)\n"))
    }
    #expect(conflicting.field == "bg_image" && conflicting.message.contains("conflicting_background"))
    let text = FileManager.default.temporaryDirectory.appendingPathComponent("bg-\(UUID().uuidString).png").path
    try Data("not a picture".utf8).write(to: URL(fileURLWithPath: text))
    let notPicture = try #require(throws: ConfigError.self) {
      try ArmConfig.load(
        try writeConfig("name: x\nmodel: soft-keyer\noutput_format: mp4\nbg_type: image\nbg_image: \(text)\n"))
    }
    #expect(notPicture.field == "bg_image" && notPicture.message.contains("not a picture"))
  }

  @Test func theAspectClassWarnsOrRefusesPerConfig() throws {
    // Source 64×36 (16:9). Backgrounds: 96×54 exact, 68×36 close (r = 0.0625), 36×36 large (r = 0.4375).
    let clips = [(id: "c1", width: 64, height: 36)]
    func config(_ w: Int, _ h: Int, strict: Bool) throws -> ArmConfig {
      try ArmConfig.load(
        try writeConfig(
          "name: x\nmodel: soft-keyer\noutput_format: mp4\nbg_type: image\nbg_image: \(try picture(w, h))\n"
            + (strict ? "strict_aspect: true\n" : "")))
    }
    #expect(try AspectCheck.check(try config(96, 54, strict: true), arm: "B", clips: clips).isEmpty)
    let close = try AspectCheck.check(try config(68, 36, strict: true), arm: "B", clips: clips)
    #expect(close.map(\.match.match) == [.close] && abs(close[0].match.relativeDifference - 0.0625) < 1e-9)
    let warned = try AspectCheck.check(try config(36, 36, strict: false), arm: "B", clips: clips)
    #expect(warned.map(\.match.match) == [.large] && abs(warned[0].match.relativeDifference - 0.4375) < 1e-9)
    let refused = try #require(throws: ConfigError.self) {
      try AspectCheck.check(try config(36, 36, strict: true), arm: "B", clips: clips)
    }
    #expect(
      refused.field == "strict_aspect" && refused.clip == "c1" && refused.message.contains("36x36")
        && refused.message.contains("64x36"), "\(refused.message)")
  }
}
