import Foundation
import MatteMetrics
import MediaIO
import TestSupport
import Testing

@testable import Runner

@Suite struct StandaloneScoreTests {
  /// Two 4×1 gray frames per folder, by hand:
  /// gt = [0, 0, 255, 255] twice; pred frame 0 = [0, 51, 255, 255] (0.2 off at pixel 1), frame 1 exact.
  /// Frame 0: SAD 0.2 → ÷1000 0.0002; MAD 0.05 → ×1e3 50; MSE 0.01 → 10; dtSSD 0.
  /// Frame 1: everything 0 but dtSSD = √(0.2² / 4) = 0.1 → ×1e2 10.
  @Test func framesMeansAndPooledByHand() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for sub in ["gt", "pred"] {
      try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
    }
    try PNGFile.writeGray8([0, 0, 255, 255], width: 4, height: 1, to: dir + "/gt/0.png")
    try PNGFile.writeGray8([0, 0, 255, 255], width: 4, height: 1, to: dir + "/gt/1.png")
    try PNGFile.writeGray8([0, 51, 255, 255], width: 4, height: 1, to: dir + "/pred/0.png")
    try PNGFile.writeGray8([0, 0, 255, 255], width: 4, height: 1, to: dir + "/pred/1.png")
    let data = try StandaloneScore.run(pred: dir + "/pred", gt: dir + "/gt", regionsDir: nil, motionDir: nil)
    let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    #expect(doc["frames"] as? Int == 2)
    let frames = try #require(doc["per_frame"] as? [[String: Any]])
    func frameValues(_ i: Int) -> [String: Double] {
      ((frames[i]["regions"] as? [String: Any])?["frame"] as? [String: Double]) ?? [:]
    }
    func near(_ a: Double?, _ b: Double) -> Bool { a.map { abs($0 - b) < 1e-9 } ?? false }
    #expect(near(frameValues(0)["sad"], 0.0002) && near(frameValues(0)["mad"], 50) && near(frameValues(0)["mse"], 10))
    #expect(frameValues(0)["dtssd"] == 0)
    #expect(near(frameValues(1)["mad"], 0) && near(frameValues(1)["dtssd"], 10))
    #expect(frameValues(0)["messddt"] == nil)  // no motion fields: not reported, never faked
    let mean = try #require((doc["mean"] as? [String: Any])?["frame"] as? [String: Double])
    #expect(near(mean["mad"], 25) && near(mean["dtssd"], 5))
    let excl = try #require((doc["mean_excl_first"] as? [String: Any])?["frame"] as? [String: Double])
    #expect(near(excl["dtssd"], 10) && near(excl["mad"], 0))
    let pooled = try #require((doc["pooled"] as? [String: Any])?["frame"] as? [String: Double])
    // Total |error| 0.2 over 8 pixels = 0.025 → 25; dtSSD pooled over frame 1: √(0.04 / 4) → 10.
    #expect(near(pooled["mad"], 25) && near(pooled["dtssd"], 10))
    let versions = try #require(doc["metric_versions"] as? [String: String])
    #expect(versions["dtssd"]?.hasPrefix("dtSSD/1:") == true && versions["grad"]?.hasPrefix("Grad/1:") == true)
    #expect(versions["regions"]?.hasPrefix("mattegate-regions/") == true)
  }

  @Test func mismatchedInputsAreClearErrors() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for sub in ["gt", "small", "short", "rgb"] {
      try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
    }
    for i in 0..<2 { try PNGFile.writeGray8([0, 0, 255, 255], width: 4, height: 1, to: dir + "/gt/\(i).png") }
    try PNGFile.writeGray8([0, 255], width: 2, height: 1, to: dir + "/small/0.png")
    try PNGFile.writeGray8([0, 0, 255, 255], width: 4, height: 1, to: dir + "/short/0.png")
    try PNGFile.write(
      RGBImage(width: 4, height: 1, pixels: [0, 0, 0, 9, 0, 0, 255, 255, 255, 255, 255, 255]), to: dir + "/rgb/0.png")
    try PNGFile.write(
      RGBImage(width: 4, height: 1, pixels: [0, 0, 0, 9, 0, 0, 255, 255, 255, 255, 255, 255]), to: dir + "/rgb/1.png")
    func message(_ pred: String) -> String {
      do {
        _ = try StandaloneScore.run(pred: dir + "/" + pred, gt: dir + "/gt", regionsDir: nil, motionDir: nil)
        return "no error"
      } catch { return "\(error)" }
    }
    #expect(message("small").contains("is 2x1 but the ground truth"))
    #expect(message("short").contains("has no frame at 0.040 s (ground-truth frame 1"))
    #expect(message("rgb").contains("RGB with channels that differ (pixel 1,0) where a matte is expected"))
  }
}

/// `mattegate score`'s inputs: which plane is the matte, and what is refused.
@Suite struct ScoreInputTests {
  func score(_ dir: String, pred: String, gt: String = "gt", regions: String? = nil) -> (
    doc: [String: Any]?, error: String
  ) {
    do {
      let data = try StandaloneScore.run(
        pred: dir + "/" + pred, gt: dir + "/" + gt, regionsDir: regions.map { dir + "/" + $0 }, motionDir: nil)
      return (try JSONSerialization.jsonObject(with: data) as? [String: Any], "")
    } catch { return (nil, "\(error)") }
  }

  func folder(_ dir: String, _ name: String) throws -> String {
    let path = dir + "/" + name
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  @Test func rgbaGivesItsAlphaAndGrayItsValues() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // Ground truth gray [0, 255]; prediction RGBA whose colour is white but alpha [0, 51]:
    // only alpha counts, so MAD = (255 − 51)/255/2 = 0.4 → 400.
    try PNGFile.writeGray8([0, 255], width: 2, height: 1, to: try folder(dir, "gt") + "/0.png")
    let rgba = try folder(dir, "rgba") + "/0.png"
    try Data([255, 255, 255, 0, 255, 255, 255, 51]).write(to: URL(fileURLWithPath: dir + "/rgba.raw"))
    _ = try FFmpegCLI.run([
      "-f", "rawvideo", "-pixel_format", "rgba", "-video_size", "2x1", "-i", dir + "/rgba.raw", "-frames:v", "1",
      rgba,
    ])
    let (doc, error) = score(dir, pred: "rgba")
    #expect(error == "")
    let pooled = (doc?["pooled"] as? [String: Any])?["frame"] as? [String: Any]
    #expect(abs(((pooled?["mad"] as? Double) ?? -1) - 400) < 1e-9)
    // One frame: no temporal pair, so dtSSD has no pooled value (null).
    #expect(pooled?["dtssd"] is NSNull)
    let support = (doc?["support"] as? [String: Any])?["frame"] as? [String: Double]
    #expect(support?["pixels_per_frame"] == 2 && support?["frames"] == 1)
  }

  @Test func emptyFoldersAndBadMasksAreClearErrors() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let gt = try folder(dir, "gt")
    try PNGFile.writeGray8([0, 128, 255, 255], width: 4, height: 1, to: gt + "/0.png")
    _ = try folder(dir, "empty")
    #expect(score(dir, pred: "empty").error.contains("empty"))
    #expect(score(dir, pred: "gt", gt: "empty").error.contains("empty"))
    // A mask of the wrong size names the mask file and both sizes.
    let masks = try folder(dir, "masks")
    try PNGFile.writeGray8([255, 0], width: 2, height: 1, to: masks + "/hair.png")
    let wrong = score(dir, pred: "gt", regions: "masks").error
    #expect(wrong.contains("masks/hair.png: mask is 2x1 but the ground truth is 4x1"))
    // A misspelt region is refused rather than silently ignored.
    try FileManager.default.removeItem(atPath: masks + "/hair.png")
    try PNGFile.writeGray8([255, 0, 0, 0], width: 4, height: 1, to: masks + "/hiar.png")
    #expect(score(dir, pred: "gt", regions: "masks").error.contains("masks/hiar.png: not a region mask"))
    // A correct mask replaces the derived region: hair = pixel 0 only (derived would be the
    // soft pixel 1 and its neighbourhood).
    try FileManager.default.removeItem(atPath: masks + "/hiar.png")
    try PNGFile.writeGray8([255, 0, 0, 0], width: 4, height: 1, to: masks + "/hair.png")
    let doc = score(dir, pred: "gt", regions: "masks").doc
    let hair = (doc?["support"] as? [String: Any])?["hair"] as? [String: Double]
    #expect(hair?["pixels_per_frame"] == 1)
  }
}

/// `mattegate score` for composited outputs and without ground truth, on PNG frames made here.
@Suite struct CompositeAndNoTruthScoreTests {
  let w = 8
  let h = 4

  /// Ground truth: columns 0–3 foreground (α = 1), column 4 half, 5–7 background.
  func alpha(_ x: Int) -> UInt16 { x < 4 ? 255 : x == 4 ? 128 : 0 }

  func folder(_ dir: String, _ name: String) throws -> String {
    let path = dir + "/" + name
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  func bytes(_ p: RGBPicture) -> [UInt8] { p.values.map { UInt8(min(max($0 * 255, 0), 255).rounded()) } }

  @Test func compositeAgainstTheConfiguredFitAndTheFitDetected() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let codes = (0..<(w * h)).map { alpha($0 % w) }
    let matte = Matte(width: w, height: h, maxValue: 255, codes: codes)
    // Foreground green, plate gray, background a 4×4 two-colour picture (aspect 1 against 2).
    let f = RGBPicture(width: w, height: h, color: (0, 0.8, 0))
    let plate = RGBPicture(width: w, height: h, color: (0.4, 0.4, 0.4))
    var bgValues: [Double] = []
    for y in 0..<4 { for _ in 0..<4 { bgValues += y < 2 ? [0.9, 0.1, 0.1] : [0.1, 0.1, 0.9] } }
    let background = RGBPicture(width: 4, height: 4, values: bgValues)
    let source = Composite.reference(alpha: matte, foreground: f, background: plate)
    let fitted = Composite.fit(background, width: w, height: h, mode: .contain)
    let output = Composite.reference(alpha: matte, foreground: f, background: fitted)
    for (name, picture) in [("source", source), ("out", output)] {
      for i in 0..<2 {
        try PNGFile.write(
          RGBImage(width: w, height: h, pixels: bytes(picture)), to: try folder(dir, name) + "/\(i).png")
      }
    }
    for i in 0..<2 {
      try PNGFile.writeGray8(codes.map { UInt8($0) }, width: w, height: h, to: try folder(dir, "gt") + "/\(i).png")
    }
    try PNGFile.write(RGBImage(width: w, height: h, pixels: bytes(plate)), to: dir + "/plate.png")
    try PNGFile.write(RGBImage(width: 4, height: 4, pixels: bytes(background)), to: dir + "/bg.png")
    func run(_ fit: BackgroundFit) throws -> [String: Any] {
      let data = try StandaloneScore.composite(
        pred: dir + "/out", gt: dir + "/gt", source: dir + "/source", plate: dir + "/plate.png",
        background: .image(dir + "/bg.png"), fit: fit, pad: (0, 0, 0), regionsDir: nil)
      return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
    let right = try run(.contain)
    let fitInfo = try #require(right["fit"] as? [String: Any])
    #expect(fitInfo["detected"] as? String == "contain")
    #expect((right["aspect"] as? [String: Any])?["match"] as? String == "large")  // r = |1 − 2|/2 = 0.5
    let pooled = try #require((right["composite"] as? [String: Any])?["pooled"] as? [String: Any])
    let frame = try #require(pooled["frame"] as? [String: Any])
    // Only 8-bit rounding separates the output from the reference: ≤ (0.5/255)² ×1e3 = 0.0038.
    #expect(try #require(frame["composite_mse"] as? Double) <= 0.0039)
    let wrong = try run(.cover)
    let wrongFrame = try #require(
      ((wrong["composite"] as? [String: Any])?["pooled"] as? [String: Any])?["frame"] as? [String: Any])
    #expect(try #require(wrongFrame["composite_mse"] as? Double) > 10)
    #expect((wrong["fit"] as? [String: Any])?["detected"] as? String == "contain")
  }

  @Test func noTruthMeasuresAndDisagreementByHand() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // A still source; arm A's alpha steady, arm B's alpha at pixel 0 jumping 0 → 51 in frame 1.
    let still = [UInt8](repeating: 100, count: 2 * 1 * 3)
    for i in 0..<2 {
      try PNGFile.write(RGBImage(width: 2, height: 1, pixels: still), to: try folder(dir, "source") + "/\(i).png")
      try PNGFile.writeGray8([0, 255], width: 2, height: 1, to: try folder(dir, "a") + "/\(i).png")
      try PNGFile.writeGray8([i == 0 ? 0 : 51, 255], width: 2, height: 1, to: try folder(dir, "b") + "/\(i).png")
    }
    let data = try StandaloneScore.noTruth(
      pred: dir + "/b", source: dir + "/source", compare: dir + "/a", regionsDir: nil)
    let doc = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let pooled = try #require(
      ((doc["no_ground_truth"] as? [String: Any])?["pooled"] as? [String: Any])?["frame"] as? [String: Any])
    // Flicker: frame 1 against 0, both pixels still: (0.2 + 0)/2 = 0.1 → 100.
    #expect(abs(try #require(pooled["flicker"] as? Double) - 100) < 1e-9)
    // Disagreement: frame 0 none, frame 1 pixel 0 by 0.2: 0.2 over 4 pixels → 50.
    #expect(abs(try #require(pooled["disagreement"] as? Double) - 50) < 1e-9)
    let review = try #require(doc["review_frames"] as? [[String: Any]])
    #expect(review.first?["index"] as? Int == 1)
    #expect(doc["ground_truth"] is NSNull)
  }
}
