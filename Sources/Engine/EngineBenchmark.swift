import Dispatch
import Foundation
import MediaIO

/// `mattegate bench engine`: frames per second of each model at 1920×1080 on one core, the
/// matte alone and the whole job (decode, matte, encode) per output format.
public enum EngineBenchmark {
  public struct Row: Sendable {
    public var name: String
    public var framesPerSecond: Double
  }

  /// Makes a 1080p source of `frames` frames (a textured plate with a soft-edged disc crossing
  /// it, H.264 CRF 18) in a scratch folder, then times every model; `report` gets each row.
  public static func run(frames: Int = 25, repeats: Int = 3, report: (Row) -> Void) throws -> [Row] {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "mattegate-bench-engine-\(UUID().uuidString)"
    )
    .path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (w, h) = (1920, 1080)
    var plate = [UInt8](repeating: 0, count: w * h * 3)
    for y in 0..<h {
      for x in 0..<w {
        let k = (y * w + x) * 3
        plate[k] = UInt8(80 + (x * 7 + y * 3) % 60)
        plate[k + 1] = UInt8(120 + (x * 3 + y * 5) % 50)
        plate[k + 2] = UInt8(100 + (x + y * 11) % 40)
      }
    }
    let plateImage = RGBImage(width: w, height: h, pixels: plate)
    try PNGFile.write(plateImage, to: dir + "/plate.png", compression: .fast)
    let source = dir + "/source.mp4"
    let writer = try VideoWriter(
      path: source, width: w, height: h, frameRate: 25, encoding: .h264(crf: 18, preset: "veryfast"))
    for t in 0..<frames {
      var pixels = plate
      let cx = 300.0 + 50.0 * Double(t)
      let cy = 540.0
      for y in 240..<840 {
        for x in max(0, Int(cx) - 320)..<min(w, Int(cx) + 320) {
          let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
          let a = min(max((300 - d) / 8, 0), 1)
          guard a > 0 else { continue }
          let k = (y * w + x) * 3
          for (c, v) in [(0, 230.0), (1, 190.0), (2, 160.0)] {
            pixels[k + c] = UInt8((a * v + (1 - a) * Double(plate[k + c])).rounded())
          }
        }
      }
      try writer.append(rgb: RGBImage(width: w, height: h, pixels: pixels), alpha: nil)
    }
    try writer.finish()
    var decoded: [RGBImage] = []
    let reader = try VideoReader(path: source, rgb: true, alpha: .none)
    while let f = try reader.nextFrame(), let rgb = f.rgb { decoded.append(rgb) }

    func best(_ body: () throws -> Void) rethrows -> Double {
      var fastest = Double.infinity
      for _ in 0..<max(1, repeats) {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
      }
      return fastest
    }
    var rows: [Row] = []
    for model in KeyerModel.allCases {
      let settings = EngineSettings(model: model)
      let matteSeconds = best {
        for frame in decoded { _ = EmbeddedEngine.matte(frame, plate: plateImage, settings: settings) }
      }
      let row = Row(name: "\(model.rawValue): matte only", framesPerSecond: Double(decoded.count) / matteSeconds)
      rows.append(row)
      report(row)
      for format in TransparentFormat.allCases {
        let out = dir + "/out-\(model.rawValue).\(format == .pngSequence ? "zip" : format.rawValue)"
        let seconds = try best {
          _ = try EmbeddedEngine.removeBackground(
            sourcePath: source, cleanPlatePath: dir + "/plate.png", settings: settings, outputPath: out, format: format)
        }
        let row = Row(
          name: "\(model.rawValue): decode, matte, write \(format.rawValue)",
          framesPerSecond: Double(decoded.count) / seconds)
        rows.append(row)
        report(row)
      }
    }
    return rows
  }
}
