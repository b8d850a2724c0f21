import Foundation
import MediaIO
import Testing

@testable import Engine

@Suite struct KeyerTests {
  // Plate (100, 100, 100) everywhere; frame pixels differ by known RGB distances:
  // (100,100,100) → 0; (130,140,100) → √(900+1600) = 50; (110,100,100) → 10; (200,100,100) → 100.
  let plate = RGBImage(width: 4, height: 1, pixels: [UInt8](repeating: 100, count: 12))
  let frame = RGBImage(width: 4, height: 1, pixels: [100, 100, 100, 130, 140, 100, 110, 100, 100, 200, 100, 100])

  @Test func thresholdKeyerIsHard() {
    let m = EmbeddedEngine.matte(frame, plate: plate, settings: EngineSettings(model: .thresholdKeyer, threshold: 40))
    #expect(m.samples == [0, 255, 0, 255])
  }

  @Test func softKeyerRamps() {
    // α = clamp((d − 20) / (80 − 20)): 0, 0.5, 0, 1 → codes 0, 128 (127.5 rounds up), 0, 255.
    let m = EmbeddedEngine.matte(frame, plate: plate, settings: EngineSettings(model: .softKeyer, low: 20, high: 80))
    #expect(m.samples == [0, 128, 0, 255])
  }

  @Test func temporalMedianRecoversAStaticBackground() throws {
    // Five frames of a gray background; a white square crosses it, covering each pixel in at
    // most two frames, so the per-pixel median is the background.
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mattegate-engine-\(UUID().uuidString)")
      .path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/src.mp4"
    let writer = try VideoWriter(
      path: path, width: 32, height: 16, frameRate: 25, encoding: .h264(crf: 0, preset: "ultrafast"))
    for t in 0..<5 {
      var pixels = [UInt8](repeating: 90, count: 32 * 16 * 3)
      for y in 4..<12 { for x in (t * 6)..<(t * 6 + 6) { for c in 0..<3 { pixels[(y * 32 + x) * 3 + c] = 250 } } }
      try writer.append(rgb: RGBImage(width: 32, height: 16, pixels: pixels), alpha: nil)
    }
    try writer.finish()
    let plate = try EmbeddedEngine.temporalMedian(sourcePath: path)
    #expect(plate.pixels.allSatisfy { abs(Int($0) - 90) <= 3 })
  }
}

@Suite struct TemporalMedianTests {
  /// 70 flat frames of value 3·i (lossless). More than 64 frames: the median samples frames
  /// 0, 2, …, 68 (35 of them), whose median is frame 34 → 102; all 70 would give 105.
  @Test func longClipsUseABoundedEvenlySpreadSample() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("median-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    func write(_ frames: Int) throws -> String {
      let path = dir + "/s\(frames).mkv"
      let writer = try VideoWriter(path: path, width: 8, height: 8, frameRate: 25, encoding: .ffv1Gray8)
      for i in 0..<frames {
        try writer.append(
          rgb: nil,
          alpha: GrayImage(width: 8, height: 8, maxValue: 255, samples: .init(repeating: UInt16(3 * i), count: 64)))
      }
      try writer.finish()
      return path
    }
    let long = try EmbeddedEngine.temporalMedian(sourcePath: try write(70))
    #expect(Set(long.pixels) == [102])
    // 21 frames: every frame counts, median frame 10 → 30.
    let short = try EmbeddedEngine.temporalMedian(sourcePath: try write(21))
    #expect(Set(short.pixels) == [30])
  }
}
