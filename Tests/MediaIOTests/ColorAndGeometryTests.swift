import Foundation
import TestSupport
import Testing

@testable import MediaIO

/// Y′CbCr → R′G′B′ from the published definitions (BT.601 / BT.709 with Kr, Kb), 8-bit codes.
func referenceRGB(y: Int, u: Int, v: Int, kr: Double, kb: Double, fullRange: Bool) -> [Int] {
  let yn = fullRange ? Double(y) / 255 : Double(y - 16) / 219
  let cb = fullRange ? Double(u - 128) / 255 : Double(u - 128) / 224
  let cr = fullRange ? Double(v - 128) / 255 : Double(v - 128) / 224
  let r = yn + 2 * (1 - kr) * cr
  let b = yn + 2 * (1 - kb) * cb
  let g = (yn - kr * r - kb * b) / (1 - kr - kb)
  return [r, g, b].map { max(0, min(255, Int(($0 * 255).rounded()))) }
}

@Suite struct ColorAndGeometryTests {
  /// The stream's matrix and range flags drive YUV → RGB: checked against the formula on the
  /// stored YUV codes (±1 for swscale's fixed point), and the other matrix must not fit.
  @Test(arguments: [("bt709", "pc", 0.2126, 0.0722, true), ("smpte170m", "tv", 0.299, 0.114, false)])
  func yuvToRGBUsesTheStreamsMatrixAndRange(
    space: String, range: String, kr: Double, kb: Double, full: Bool
  ) throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/c.mkv"
    try FFmpegCLI.run([
      "-f", "lavfi", "-i", "testsrc2=s=32x24:r=5:d=0.2,format=yuv444p", "-colorspace", space, "-color_range", range,
      "-c:v", "ffv1", path,
    ])
    let yuv = try FFmpegCLI.raw8(["-i", path], pixelFormat: "yuv444p")
    let n = 32 * 24
    let reader = try VideoReader(path: path, options: ReadOptions(rgb: .eight))
    let rgb = try #require(try reader.nextFrame()?.rgb)
    var worst = 0
    var worstOther = 0
    let (okr, okb) = kr == 0.2126 ? (0.299, 0.114) : (0.2126, 0.0722)
    for i in 0..<n {
      let (y, u, v) = (Int(yuv[i]), Int(yuv[n + i]), Int(yuv[2 * n + i]))
      let expected = referenceRGB(y: y, u: u, v: v, kr: kr, kb: kb, fullRange: full)
      let other = referenceRGB(y: y, u: u, v: v, kr: okr, kb: okb, fullRange: !full)
      for k in 0..<3 {
        worst = max(worst, abs(Int(rgb.pixels[3 * i + k]) - expected[k]))
        worstOther = max(worstOther, abs(Int(rgb.pixels[3 * i + k]) - other[k]))
      }
    }
    #expect(worst <= 1, "largest difference from the \(space)/\(range) formula: \(worst)")
    #expect(worstOther > 8, "the wrong matrix and range would have fitted too (\(worstOther))")
  }

  /// Rotation metadata: the picture is turned as players (and the ffmpeg CLI) show it.
  @Test(arguments: [90, 180, 270])
  func rotationMetadataIsHonoured(degrees: Int) throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let plain = dir + "/plain.mp4"
    let path = dir + "/r.mp4"
    try FFmpegCLI.run([
      "-f", "lavfi", "-i", "testsrc2=s=32x24:r=5:d=0.2,format=yuv444p", "-c:v", "libx264", "-qp", "0", plain,
    ])
    // FFmpeg 5.1 writes the display matrix from the rotate tag when remuxing.
    try FFmpegCLI.run(["-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=\(degrees)", path])
    let reader = try VideoReader(path: path, options: ReadOptions(rgb: .eight))
    #expect(reader.storedSize == PixelSize(width: 32, height: 24))
    #expect(reader.size == (degrees == 180 ? PixelSize(width: 32, height: 24) : PixelSize(width: 24, height: 32)))
    var ours: [UInt8] = []
    while let f = try reader.nextFrame() { ours += f.rgb!.pixels }
    let cli = try FFmpegCLI.raw8(["-i", path], pixelFormat: "rgb24")
    #expect(firstMismatch(ours, cli) == nil)
    // The raw picture without rotation differs: the test would notice a missing turn.
    let unturned = try VideoReader(path: path, options: ReadOptions(rgb: .eight, applyRotation: false))
    #expect(try unturned.nextFrame()?.rgb?.pixels != Array(ours.prefix(32 * 24 * 3)))
  }

  /// Quarter turns by hand on a 3×2 picture:  a b c / d e f.
  @Test func quarterTurnsByHand() {
    let image = GrayImage(width: 3, height: 2, maxValue: 255, samples: [1, 2, 3, 4, 5, 6])
    // Clockwise: the left column (a, d) becomes the top row read right to left: d a / e b / f c.
    #expect(image.turned(.clockwise) == GrayImage(width: 2, height: 3, maxValue: 255, samples: [4, 1, 5, 2, 6, 3]))
    #expect(
      image.turned(.counterClockwise) == GrayImage(width: 2, height: 3, maxValue: 255, samples: [3, 6, 2, 5, 1, 4]))
    #expect(image.turned(.half) == GrayImage(width: 3, height: 2, maxValue: 255, samples: [6, 5, 4, 3, 2, 1]))
    #expect(QuarterTurn(displayMatrixDegrees: -90) == .clockwise)
    #expect(QuarterTurn(displayMatrixDegrees: 90) == .counterClockwise)
    #expect(QuarterTurn(displayMatrixDegrees: 180) == .half)
    #expect(QuarterTurn(displayMatrixDegrees: 45) == nil)
  }

  /// c′ = round(c · aMax / a), clamped; 0 where a = 0.
  @Test func unpremultiplyByHand() {
    var rgb: [UInt8] = [64, 32, 0, 10, 10, 10, 200, 100, 50, 255, 0, 128]
    let alpha = GrayImage(width: 4, height: 1, maxValue: 255, samples: [128, 0, 100, 255])
    Unpremultiply.apply(&rgb, alpha: alpha)
    // 64·255/128 = 127.5 → 128; 32·255/128 = 63.75 → 64; a = 0 → 0; 200·255/100 = 510 → 255;
    // 100·255/100 = 255; 50·255/100 = 127.5 → 128; a = aMax leaves colour alone.
    #expect(rgb == [128, 64, 0, 0, 0, 0, 255, 255, 128, 255, 0, 128])
    // 10-bit alpha against 16-bit colour: 30000 · 1023 / 512 = 59941.4 → 59941.
    var deep: [UInt16] = [30000, 0, 65535]
    Unpremultiply.apply(&deep, alpha: GrayImage(width: 1, height: 1, maxValue: 1023, samples: [512]))
    #expect(deep == [59941, 0, 65535])
  }

  /// A premultiplied output read with `association: .premultiplied` gives straight colour.
  @Test func premultipliedOutputIsReadAsStraight() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/p.png"
    // One colour, R = 0x40 = 64 with alpha 0x80 = 128 (premultiplied: straight R = 128).
    try FFmpegCLI.run(["-f", "lavfi", "-i", "color=c=0x40200080:s=4x4,format=rgba", "-frames:v", "1", path])
    let straight = try #require(try MediaInput.open(path, options: ReadOptions(rgb: .eight)).nextFrame()?.rgb)
    #expect(Array(straight.pixels.prefix(3)) == [64, 32, 0])
    let fixed = try #require(
      try MediaInput.open(path, options: ReadOptions(rgb: .eight, association: .premultiplied)).nextFrame()?.rgb)
    #expect(Array(fixed.pixels.prefix(3)) == [128, 64, 0])
  }

  /// A different output size is an error naming both sizes, unless scaling is allowed.
  @Test func sizeMismatchNamesBothSizesUnlessScalingIsAllowed() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (media, _) = try OutputFormat.movProRes4444.make(in: dir)
    let source = PixelSize(width: 32, height: 24)
    let options = ReadOptions(rgb: .none, alpha: .alphaChannel)
    let error = #expect(throws: MediaError.self) {
      _ = try MediaInput.open(media, options: options, sourceSize: source, allowScaling: false, what: "arm B output")
    }
    #expect(error?.description.contains("arm B output is 64x48 but the source is 32x24") == true)
    #expect(error?.path == media)
    let scaled = try MediaInput.open(media, options: options, sourceSize: source, allowScaling: true)
    let frame = try #require(try scaled.nextFrame())
    #expect(frame.alpha?.width == 32 && frame.alpha?.height == 24 && frame.alpha?.maxValue == 4095)
  }
}

/// The limited-range expansion of matte luma, by the formula round((Y − 16) · 65535 / 219).
@Suite struct RangeExpansionTests {
  @Test func tableAndVectorFormFollowTheFormula() {
    let table = FrameConverter.limitedRangeTable(depth: 8)
    #expect(table[0] == 0 && table[16] == 0 && table[235] == 65535 && table[255] == 65535)
    // (126 − 16) · 65535 / 219 = 32917.3 → 32917; (17 − 16) · 65535 / 219 = 299.2 → 299.
    #expect(table[126] == 32917 && table[17] == 299)
    #expect(FrameConverter.vectorExpansionMatches(table))
    // 10-bit: 64 → 0, 940 → 65535, (502 − 64) · 65535 / 876 = 32767.5 → 32768.
    let ten = FrameConverter.limitedRangeTable(depth: 10)
    #expect(ten[64] == 0 && ten[940] == 65535 && ten[502] == 32768)
  }
}
