import Foundation
import MediaIO
import Testing

@testable import Clips

func makeFolder() throws -> String {
  let path = FileManager.default.temporaryDirectory.appendingPathComponent("mattegate-clips-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

@Suite struct ClipSetManifestTests {
  /// A folder with one small file `a/src.bin` and a manifest built from `clipYAML`.
  func setWithManifest(_ clipYAML: (String) -> String) throws -> String {
    let dir = try makeFolder()
    try FileManager.default.createDirectory(atPath: dir + "/a", withIntermediateDirectories: true)
    try Data("source bytes".utf8).write(to: URL(fileURLWithPath: dir + "/a/src.bin"))
    let hash = try FileHash.sha256(ofFile: dir + "/a/src.bin")
    try ("name: t\nversion: 1\nclips:\n" + clipYAML(hash)).write(
      toFile: dir + "/clipset.yaml", atomically: true, encoding: .utf8)
    return dir
  }

  @Test func loadsAValidSet() throws {
    let dir = try setWithManifest { "  - id: one\n    tags: [hair, crf23]\n    source: a/src.bin\n    sha256: \($0)\n" }
    let set = try ClipSet.load(folder: dir)
    #expect(set.clips.map(\.id) == ["one"])
    #expect(set.clips[0].tags == ["hair", "crf23"])
    #expect(set.manifestSHA256.count == 64)
    // Checked against its hashes (what lets scoring skip the motion archives' CRC-32s), or not.
    #expect(set.hashesVerified)
    let unchecked = try ClipSet.load(folder: dir, verifyHashes: false)
    #expect(!unchecked.hashesVerified)
    #expect(unchecked == set)
  }

  @Test func unknownKeyNamesFileLineClipAndField() throws {
    let dir = try setWithManifest { "  - id: one\n    source: a/src.bin\n    sha256: \($0)\n    colour: red\n" }
    let error = #expect(throws: ConfigError.self) { try ClipSet.load(folder: dir) }
    #expect(error?.line == 7)
    #expect(error?.clip == "one")
    #expect(error?.field == "colour")
    #expect(error?.description.hasPrefix(dir) == true)
    #expect(error?.description.contains("unknown key") == true)
  }

  @Test func hashMismatchIsRefused() throws {
    let dir = try setWithManifest { _ in
      "  - id: one\n    source: a/src.bin\n    sha256: \(String(repeating: "0", count: 64))\n"
    }
    let error = #expect(throws: ConfigError.self) { try ClipSet.load(folder: dir) }
    #expect(error?.message.contains("1 file changed since pinning") == true)
    #expect(error?.message.contains("clip 'one', field source: 'a/src.bin' pinned 000000000000") == true)
  }

  @Test func everyChangedFileIsListed() throws {
    let dir = try setWithManifest {
      "  - id: one\n    source: a/src.bin\n    sha256: \($0)\n    clean_plate: {path: a/plate.png, sha256: \($0)}\n"
        + "  - id: two\n    source: a/src2.bin\n    sha256: SECOND\n"
    }
    // Each clip its own source (one source under two ids is refused on its own).
    try Data("second source".utf8).write(to: URL(fileURLWithPath: dir + "/a/src2.bin"))
    let manifest = try String(contentsOfFile: dir + "/clipset.yaml", encoding: .utf8)
    try manifest.replacingOccurrences(of: "SECOND", with: try FileHash.sha256(ofFile: dir + "/a/src2.bin")).write(
      toFile: dir + "/clipset.yaml", atomically: true, encoding: .utf8)
    try Data("plate".utf8).write(to: URL(fileURLWithPath: dir + "/a/plate.png"))
    #expect(throws: Never.self) { try ClipSet.load(folder: dir, verifyHashes: false) }
    try Data("changed".utf8).write(to: URL(fileURLWithPath: dir + "/a/src.bin"))
    try Data("changed too".utf8).write(to: URL(fileURLWithPath: dir + "/a/src2.bin"))
    let error = #expect(throws: ConfigError.self) { try ClipSet.load(folder: dir) }
    let message = error?.message ?? ""
    // The source of both clips and the plate: three entries, each with its clip and field.
    #expect(message.hasPrefix("3 files changed since pinning"))
    #expect(message.contains("clip 'one', field source") && message.contains("clip 'one', field clean_plate"))
    #expect(message.contains("clip 'two', field source"))
  }

  @Test func optionalFilesBackgroundsAndNoGroundTruth() throws {
    let dir = try setWithManifest {
      "  - id: one\n    tags: [no-gt, motion]\n    source: a/src.bin\n    sha256: \($0)\n    duration: 2.5\n    size: 64x36\n"
        + "    backgrounds:\n      exact: {path: a/src.bin, sha256: \($0)}\n"
    }
    let clip = try ClipSet.load(folder: dir).clips[0]
    #expect(!clip.hasGroundTruth && clip.backgrounds["exact"]?.path == "a/src.bin" && clip.duration == 2.5)
    // A background class outside exact/close/large, a bad size and no-gt with alpha are errors.
    let wrongClass = try setWithManifest {
      "  - id: one\n    source: a/src.bin\n    sha256: \($0)\n    backgrounds:\n      huge: {path: a/src.bin, sha256: \($0)}\n"
    }
    #expect((#expect(throws: ConfigError.self) { try ClipSet.load(folder: wrongClass) })?.field == "huge")
    let badSize = try setWithManifest { "  - id: one\n    source: a/src.bin\n    sha256: \($0)\n    size: big\n" }
    #expect((#expect(throws: ConfigError.self) { try ClipSet.load(folder: badSize) })?.field == "size")
    let conflict = try setWithManifest {
      "  - id: one\n    tags: [no-gt]\n    source: a/src.bin\n    sha256: \($0)\n    alpha: {path: a/src.bin, sha256: \($0)}\n"
    }
    #expect((#expect(throws: ConfigError.self) { try ClipSet.load(folder: conflict) })?.field == "tags")
  }

  @Test func pathsMayNotLeaveTheFolder() throws {
    let dir = try setWithManifest { "  - id: one\n    source: ../outside.bin\n    sha256: \($0)\n" }
    let error = #expect(throws: ConfigError.self) { try ClipSet.load(folder: dir) }
    #expect(error?.message.contains("leaves the clip set folder") == true)
  }

  @Test func missingFileDuplicateIdAndMalformedTag() throws {
    let missing = try setWithManifest { "  - id: one\n    source: a/none.bin\n    sha256: \($0)\n" }
    #expect(
      (#expect(throws: ConfigError.self) { try ClipSet.load(folder: missing) })?.message.contains("not found") == true)
    let duplicate = try setWithManifest {
      "  - id: one\n    source: a/src.bin\n    sha256: \($0)\n  - id: one\n    source: a/src.bin\n    sha256: \($0)\n"
    }
    #expect((#expect(throws: ConfigError.self) { try ClipSet.load(folder: duplicate) })?.message == "duplicate clip id")
    // A tag of the user's own is kept as given; one that is not a tag's shape is refused.
    let own = try setWithManifest {
      "  - id: one\n    tags: [person, studio=2]\n    source: a/src.bin\n    sha256: \($0)\n"
    }
    #expect(try ClipSet.load(folder: own).clips[0].tags == ["person", "studio=2"])
    let tag = try setWithManifest {
      "  - id: one\n    tags: [\"two words\"]\n    source: a/src.bin\n    sha256: \($0)\n"
    }
    let error = #expect(throws: ConfigError.self) { try ClipSet.load(folder: tag) }
    #expect(error?.field == "tags")
    #expect(error?.message.contains("'two words'") == true)
  }

  @Test func missingFolderAndBrokenYAML() throws {
    let error = #expect(throws: ConfigError.self) { try ClipSet.load(folder: "/nonexistent/mattegate") }
    #expect(error?.description == "/nonexistent/mattegate: clip set folder not found")
    let dir = try makeFolder()
    try "name: [unclosed\n".write(toFile: dir + "/clipset.yaml", atomically: true, encoding: .utf8)
    let yamlError = #expect(throws: ConfigError.self) { try ClipSet.load(folder: dir) }
    #expect(yamlError?.message.hasPrefix("not valid YAML") == true)
    #expect(yamlError?.line != nil)
  }
}

@Suite struct SceneRendererTests {
  /// A flat background of (10, 20, 30).
  func flat(_ w: Int, _ h: Int) -> RGBImage {
    RGBImage(width: w, height: h, pixels: (0..<(w * h)).flatMap { _ in [UInt8(10), 20, 30] })
  }

  @Test func halfOpaquePlateauComposesExactly() {
    // A rectangle covering pixels x, y in 2..<6 exactly (edges on pixel boundaries), colour
    // (210, 120, 30), opacity 0.5: inside α = 0.5 and I = 0.5·F + 0.5·B = (110, 70, 30);
    // outside α = 0 and I = B.
    let renderer = SceneRenderer(width: 8, height: 8, supersample: 4, background: flat(8, 8))
    let layer = Layer(
      kind: .glass, color: [210, 120, 30], opacity: 0.5, timeSamples: 1,
      shapesAt: [[.rect(cx: 4, cy: 4, halfW: 2, halfH: 2, angle: 0)]])
    let out = renderer.render([layer])
    #expect(out.alpha16.samples[3 * 8 + 3] == 32768)  // round(0.5 · 65535)
    #expect(Array(out.rgb.pixels[(3 * 8 + 3) * 3..<(3 * 8 + 3) * 3 + 3]) == [110, 70, 30])
    #expect(out.alpha16.samples[0] == 0)
    #expect(Array(out.rgb.pixels[0..<3]) == [10, 20, 30])
    #expect(out.regionCodes.samples[3 * 8 + 3] == RegionMaskCodes.glass)
  }

  @Test func edgeThroughPixelCentresCoversHalf() {
    // An opaque rectangle whose left edge is at x = 2.5: of pixel 2's 4 subsample columns
    // (centres 2.125, 2.375, 2.625, 2.875) two are inside, so α = 0.5.
    let renderer = SceneRenderer(width: 8, height: 4, supersample: 4, background: flat(8, 4))
    let layer = Layer(
      kind: .solid, color: [255, 255, 255], opacity: 1, timeSamples: 1,
      shapesAt: [[.rect(cx: 5.5, cy: 2, halfW: 3, halfH: 4, angle: 0)]])
    let out = renderer.render([layer])
    #expect(out.alpha16.samples[1 * 8 + 2] == 32768)
    #expect(out.alpha16.samples[1 * 8 + 4] == 65535)
    #expect(out.alpha16.samples[1 * 8 + 1] == 0)
  }

  @Test func motionBlurAveragesOverTheShutter() {
    // An opaque 1-pixel-wide bar at x in [t, t + 1) for 4 time samples t = 0, 1, 2, 3: each of
    // pixels 0...3 is covered in one sample of four, so α = 0.25 there.
    let renderer = SceneRenderer(width: 6, height: 2, supersample: 4, background: flat(6, 2))
    let layer = Layer(
      kind: .solid, color: [255, 255, 255], opacity: 1, timeSamples: 4,
      shapesAt: (0..<4).map { t in [.rect(cx: Double(t) + 0.5, cy: 1, halfW: 0.5, halfH: 1, angle: 0)] })
    let out = renderer.render([layer])
    for x in 0..<4 { #expect(out.alpha16.samples[x] == 16384) }  // round(0.25 · 65535)
    #expect(out.alpha16.samples[4] == 0)
  }

  @Test func synthIsDeterministicAndPinsEveryFile() throws {
    let a = try makeFolder()
    let b = try makeFolder()
    let setA = try SyntheticClipSet.generate(preset: .smoke, folder: a, seed: 7, size: (48, 32), frames: 3)
    let setB = try SyntheticClipSet.generate(preset: .smoke, folder: b, seed: 7, size: (48, 32), frames: 3)
    #expect(setA.clips.count == 3)
    #expect(Set(setA.clips.flatMap(\.tags)).isSuperset(of: ["hair", "glass", "motion"]))
    for (ca, cb) in zip(setA.clips, setB.clips) {
      #expect(ca.alpha?.sha256 == cb.alpha?.sha256)
      #expect(ca.regionMasks?.sha256 == cb.regionMasks?.sha256)
      #expect(ca.cleanPlate?.sha256 == cb.cleanPlate?.sha256)
      #expect(ca.foreground?.sha256 == cb.foreground?.sha256 && ca.foreground != nil)
      #expect(ca.motion?.sha256 == cb.motion?.sha256 && ca.motion != nil)
      #expect(ca.backgrounds.keys.sorted() == ["close", "exact", "large"])
      #expect(ca.backgrounds.mapValues(\.sha256) == cb.backgrounds.mapValues(\.sha256))
    }
    let other = try SyntheticClipSet.generate(
      preset: .smoke, folder: try makeFolder(), seed: 8, size: (48, 32), frames: 3)
    #expect(other.clips[0].alpha?.sha256 != setA.clips[0].alpha?.sha256)
    // The ground truth is 16-bit and has soft values.
    let reader = try VideoReader(path: setA.path(of: setA.clips[0].alpha!), rgb: false, alpha: .luma)
    let frame = try #require(try reader.nextFrame()?.alpha)
    #expect(frame.maxValue == 65535)
    #expect(frame.samples.contains { $0 > 0 && $0 < 65535 && $0 % 257 != 0 })
  }
}
