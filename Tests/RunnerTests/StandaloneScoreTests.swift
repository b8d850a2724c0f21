import Foundation
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
