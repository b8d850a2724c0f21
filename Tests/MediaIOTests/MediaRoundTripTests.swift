import Foundation
import MediaIO
import TestSupport
import Testing

/// A 16-bit matte whose codes are all different in the low byte, so truncation to 8 bits shows.
func rampMatte(width: Int, height: Int, frame: Int) -> GrayImage {
  var samples = [UInt16](repeating: 0, count: width * height)
  for i in samples.indices { samples[i] = UInt16((i * 257 + frame * 31 + 7) % 65536) }
  return GrayImage(width: width, height: height, maxValue: 65535, samples: samples)
}

@Suite struct MediaRoundTripTests {
  @Test func ffv1Gray16KeepsEveryBit() throws {
    let dir = try temporaryFolder()
    let path = dir + "/alpha.mkv"
    let writer = try VideoWriter(path: path, width: 16, height: 8, frameRate: 25, encoding: .ffv1Gray16)
    for t in 0..<3 { try writer.append(rgb: nil, alpha: rampMatte(width: 16, height: 8, frame: t)) }
    try writer.finish()

    let reader = try VideoReader(path: path, rgb: false, alpha: .luma)
    for t in 0..<3 {
      let frame = try #require(try reader.nextFrame())
      let alpha = try #require(frame.alpha)
      #expect(alpha.maxValue == 65535)
      #expect(alpha == rampMatte(width: 16, height: 8, frame: t))
      #expect(abs(frame.time - Double(t) / 25) < 1e-9)
    }
    #expect(try reader.nextFrame() == nil)
  }

  @Test func vp9WebMKeepsAlphaThroughLibvpx() throws {
    let dir = try temporaryFolder()
    let path = dir + "/out.webm"
    let w = 64
    let h = 48
    // Left half opaque, right half transparent, a gray picture.
    var alpha = [UInt16](repeating: 0, count: w * h)
    for y in 0..<h { for x in 0..<(w / 2) { alpha[y * w + x] = 255 } }
    let matte = GrayImage(width: w, height: h, maxValue: 255, samples: alpha)
    let rgb = RGBImage(width: w, height: h, pixels: [UInt8](repeating: 128, count: w * h * 3))
    let writer = try VideoWriter(path: path, width: w, height: h, frameRate: 25, encoding: .vp9Alpha(crf: 10))
    for _ in 0..<5 { try writer.append(rgb: rgb, alpha: matte) }
    try writer.finish()

    let reader = try VideoReader(path: path, rgb: true, alpha: .alphaChannel)
    #expect(reader.containerSignalsAlpha)
    #expect(reader.decoderName == "libvpx-vp9")
    var frames = 0
    while let frame = try reader.nextFrame() {
      frames += 1
      let a = try #require(frame.alpha)
      #expect(a.maxValue == 255)
      #expect(a.samples[10 * w + 4] >= 250)  // well inside the opaque half
      #expect(a.samples[10 * w + w - 4] <= 5)  // well inside the transparent half
      let pixel = try #require(frame.rgb).pixels[(10 * w + 4) * 3]
      #expect(abs(Int(pixel) - 128) <= 3)
    }
    #expect(frames == 5)
  }

  /// Alpha alone comes from the alpha bitstream through the native vp9 decoder; it must equal,
  /// sample for sample and frame for frame, the alpha plane libvpx-vp9 gives with the colour.
  @Test func vp9AlphaStreamAloneEqualsLibvpxAlphaPlane() throws {
    let dir = try temporaryFolder()
    let path = dir + "/varied.webm"
    let w = 96
    let h = 64
    let writer = try VideoWriter(path: path, width: w, height: h, frameRate: 25, encoding: .vp9Alpha(crf: 30))
    for t in 0..<12 {
      // A moving soft-edged disc over a ramp: every alpha code from 0 to 255 appears.
      var alpha = [UInt16](repeating: 0, count: w * h)
      var pixels = [UInt8](repeating: 0, count: w * h * 3)
      for y in 0..<h {
        for x in 0..<w {
          let d = hypot(Double(x - 20 - 4 * t), Double(y - 32)) - 14
          let disc = max(0, min(1, 0.5 - d / 6))
          alpha[y * w + x] = UInt16((max(disc, Double(x) / Double(w - 1) * 0.6) * 255).rounded())
          for c in 0..<3 { pixels[(y * w + x) * 3 + c] = UInt8((x * 7 + y * 3 + t * 11 + c * 50) % 256) }
        }
      }
      try writer.append(
        rgb: RGBImage(width: w, height: h, pixels: pixels),
        alpha: GrayImage(width: w, height: h, maxValue: 255, samples: alpha))
    }
    try writer.finish()
    let both = try VideoReader(path: path, options: ReadOptions(rgb: .eight, alpha: .alphaChannel))
    let alone = try VideoReader(path: path, options: ReadOptions(rgb: .none, alpha: .alphaChannel))
    #expect(both.decoderName == "libvpx-vp9")
    #expect(alone.decoderName == "vp9 (alpha stream only)")
    var frames = 0
    var distinct = Set<UInt16>()
    while let full = try both.nextFrame() {
      let mine = try #require(try alone.nextFrame())
      #expect(mine.time == full.time && mine.index == full.index)
      let a = try #require(mine.alpha)
      let b = try #require(full.alpha)
      #expect(a.maxValue == b.maxValue && a.width == w && a.height == h)
      let mismatches = zip(a.samples, b.samples).filter { $0 != $1 }.count
      #expect(
        a.samples.count == b.samples.count && mismatches == 0, "frame \(full.index): \(mismatches) samples differ")
      distinct.formUnion(a.samples)
      frames += 1
    }
    #expect(try alone.nextFrame() == nil)
    #expect(frames == 12 && distinct.count > 200)
  }

  @Test func h264WithoutAlphaFailsLoudlyWhenAlphaIsExpected() throws {
    let dir = try temporaryFolder()
    let path = dir + "/src.mp4"
    let rgb = RGBImage(width: 32, height: 32, pixels: [UInt8](repeating: 90, count: 32 * 32 * 3))
    let writer = try VideoWriter(
      path: path, width: 32, height: 32, frameRate: 25, encoding: .h264(crf: 18, preset: "veryfast"))
    for _ in 0..<3 { try writer.append(rgb: rgb, alpha: nil) }
    try writer.finish()
    let reader = try VideoReader(path: path, rgb: true, alpha: .alphaChannel)
    #expect(throws: MediaError.self) { _ = try reader.nextFrame() }
    let plain = try VideoReader(path: path, rgb: true)
    let first = try #require(try plain.nextFrame())
    #expect(abs(Int(try #require(first.rgb).pixels[0]) - 90) <= 2)
    #expect(try plain.countRemainingFrames() == 2)
  }

  @Test func missingAndGarbageFilesGiveErrorsNamingTheFile() throws {
    let dir = try temporaryFolder()
    let missing = dir + "/nope.mp4"
    let error = #expect(throws: MediaError.self) { _ = try VideoReader(path: missing) }
    #expect(error?.description.contains("nope.mp4") == true)
    let garbage = dir + "/text.mp4"
    try Data("this is not a video\n".utf8).write(to: URL(fileURLWithPath: garbage))
    let error2 = #expect(throws: MediaError.self) { _ = try VideoReader(path: garbage) }
    #expect(error2?.path == garbage)
  }

  @Test func pngRoundTripAndHash() throws {
    let dir = try temporaryFolder()
    var pixels = [UInt8](repeating: 0, count: 5 * 3 * 3)
    for i in pixels.indices { pixels[i] = UInt8(i * 5) }
    let image = RGBImage(width: 5, height: 3, pixels: pixels)
    try PNGFile.write(image, to: dir + "/a.png")
    #expect(try PNGFile.readRGB(dir + "/a.png") == image)
    // SHA-256 test vector from FIPS 180-2.
    #expect(
      FileHash.sha256(of: Array("abc".utf8))
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    try Data("abc".utf8).write(to: URL(fileURLWithPath: dir + "/abc.txt"))
    #expect(
      try FileHash.sha256(ofFile: dir + "/abc.txt")
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  }
}
