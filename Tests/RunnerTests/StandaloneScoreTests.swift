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
