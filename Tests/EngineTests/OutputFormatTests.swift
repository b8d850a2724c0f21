import Foundation
import MediaIO
import Testing

@testable import Engine

/// The engine's transparent outputs in every format it writes, read back with mattegate's own
/// readers: the alpha is the engine's matte of each frame.
@Suite(.serialized) struct OutputFormatTests {
  @Test(arguments: [TransparentFormat.mov, .pngSequence, .webm])
  func transparentOutputsCarryTheMatte(_ format: TransparentFormat) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("engine-out-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // A gray plate; a bright square moving across it, with a soft-edged ramp column.
    let (w, h) = (32, 16)
    let plate = RGBImage(width: w, height: h, pixels: [UInt8](repeating: 90, count: w * h * 3))
    try PNGFile.write(plate, to: dir + "/plate.png")
    let source = dir + "/source.mp4"
    let writer = try VideoWriter(
      path: source, width: w, height: h, frameRate: 25, encoding: .h264(crf: 0, preset: "ultrafast"))
    for t in 0..<4 {
      var pixels = plate.pixels
      for y in 4..<12 {
        for x in (4 * t)..<(4 * t + 10) {
          for c in 0..<3 { pixels[(y * w + x) * 3 + c] = UInt8(90 + 12 * (x - 4 * t)) }
        }
      }
      try writer.append(rgb: RGBImage(width: w, height: h, pixels: pixels), alpha: nil)
    }
    try writer.finish()
    let settings = EngineSettings(model: .softKeyer, low: 12, high: 70)
    let output = dir + "/out." + (format == .pngSequence ? "zip" : format.rawValue)
    let result = try EmbeddedEngine.removeBackground(
      sourcePath: source, cleanPlatePath: dir + "/plate.png", settings: settings, outputPath: output, format: format)
    #expect(result.frames == 4)
    let decoded = try VideoReader(path: source, rgb: true, alpha: .none)
    let written = try MediaInput.open(output, options: ReadOptions(rgb: .none, alpha: .alphaChannel))
    var frames = 0
    var worst = 0
    while let s = try decoded.nextFrame(), let rgb = s.rgb {
      let expected = EmbeddedEngine.matte(rgb, plate: plate, settings: settings)
      let got = try #require(try written.nextFrame()?.alpha)
      for k in expected.samples.indices {
        // Both to 8-bit codes: the keyer's are 8-bit; a deeper output is rescaled back.
        let g = (Int(got.samples[k]) * 255 + Int(got.maxValue) / 2) / Int(got.maxValue)
        worst = max(worst, abs(g - Int(expected.samples[k])))
      }
      frames += 1
    }
    #expect(frames == 4)
    // PNG and ProRes carry alpha losslessly; VP9 codes it lossy, so allow its small error.
    #expect(worst <= (format == .webm ? 24 : 0), "\(format): largest alpha difference \(worst)")
  }
}
