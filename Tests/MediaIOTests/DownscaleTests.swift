import Foundation
import MediaIO
import TestSupport
import Testing

/// Area-average reduction, against means worked out by hand.
struct DownscaleTests {
  @Test func previewSizesKeepTheAspectAndAreEven() {
    #expect(Downscale.size(width: 1920, height: 1080, maxWidth: 320) == PixelSize(width: 320, height: 180))
    // 563 · 320 / 1000 = 180.16 → 180.
    #expect(Downscale.size(width: 1000, height: 563, maxWidth: 320) == PixelSize(width: 320, height: 180))
    // Never wider than the source; odd sides are made even (VP9 4:2:0).
    #expect(Downscale.size(width: 101, height: 51, maxWidth: 320) == PixelSize(width: 100, height: 50))
    #expect(Downscale.size(width: 1, height: 1, maxWidth: 320) == PixelSize(width: 2, height: 2))
  }

  @Test func grayBlocksAreAveragedAndRescaledToEightBits() {
    // 4×2 → 2×1: left block {0, 255, 0, 0} has mean 63.75 → 64; right block all 255.
    let g = GrayImage(width: 4, height: 2, maxValue: 255, samples: [0, 255, 255, 255, 0, 0, 255, 255])
    #expect(Downscale.gray8(g, to: PixelSize(width: 2, height: 1)) == [64, 255])
    // 16-bit: 65535 is 255, 32768 is 127.5 → 128 (half up), 0 is 0.
    let deep = GrayImage(width: 3, height: 1, maxValue: 65535, samples: [65535, 32768, 0])
    #expect(Downscale.gray8(deep, to: PixelSize(width: 3, height: 1)) == [255, 128, 0])
    // 3 → 2 columns: blocks [0, 1) and [1, 3): 30, then (60 + 90) / 2 = 75.
    let odd = GrayImage(width: 3, height: 1, maxValue: 255, samples: [30, 60, 90])
    #expect(Downscale.gray8(odd, to: PixelSize(width: 2, height: 1)) == [30, 75])
    // A source smaller than the output repeats its samples.
    let tiny = GrayImage(width: 1, height: 1, maxValue: 255, samples: [200])
    #expect(Downscale.gray8(tiny, to: PixelSize(width: 2, height: 2)) == [200, 200, 200, 200])
  }

  /// The C kernel equals the Swift reference on random pictures, sizes and depths.
  @Test func theCKernelEqualsTheSwiftReference() {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return state >> 33
    }
    for _ in 0..<40 {
      let (w, h) = (Int(next() % 97) + 1, Int(next() % 61) + 1)
      let maxValue = [255, 1023, 65535][Int(next() % 3)]
      let g = GrayImage(
        width: w, height: h, maxValue: maxValue,
        samples: (0..<(w * h)).map { _ in UInt16(next() % UInt64(maxValue + 1)) })
      let size = PixelSize(width: Int(next() % 40) + 1, height: Int(next() % 30) + 1)
      #expect(Downscale.gray8(g, to: size) == Downscale.gray8Reference(g, to: size), "\(w)x\(h) → \(size)")
    }
  }

  /// Every code of a 16-bit and an 8-bit matte as a constant 6×6 block (a 1080p matte's preview
  /// block), and block sums whose quotient lies just below, at or above each output step: the
  /// kernel's division (a double division where exact) equals the integer definition
  /// (Σ·255 + den/2) / den. A float division instead fails it.
  @Test func blockMeansRoundAsDefinedAtEveryStep() {
    for maxValue in [255, 65535] {
      var wrong: [Int] = []
      for c in 0...maxValue {
        let g = GrayImage(width: 6, height: 6, maxValue: maxValue, samples: [UInt16](repeating: UInt16(c), count: 36))
        let expected = (c * 255 * 2 + maxValue) / (2 * maxValue)
        if Downscale.gray8(g, to: PixelSize(width: 1, height: 1)) != [UInt8(expected)] { wrong.append(c) }
      }
      #expect(wrong.isEmpty, "max \(maxValue): \(wrong.prefix(5))")
    }
    // Block sums whose quotient lies within a few 1/den of each output step (den = 36·65535):
    // one 6×6 block per sum, side by side in one picture.
    let den = 36 * 65535
    var sums: [Int] = []
    for k in 1...255 {
      let s = (k * den - den / 2) / 255
      for d in -3...3 where s + d >= 0 && s + d <= den { sums.append(s + d) }
    }
    let w = 6 * sums.count
    var samples = [UInt16](repeating: 0, count: 6 * w)
    for (b, sum) in sums.enumerated() {
      for i in 0..<36 { samples[(i / 6) * w + 6 * b + i % 6] = UInt16(sum / 36 + (i < sum % 36 ? 1 : 0)) }
    }
    let picture = GrayImage(width: w, height: 6, maxValue: 65535, samples: samples)
    let got = Downscale.gray8(picture, to: PixelSize(width: sums.count, height: 1))
    let expected = sums.map { UInt8((255 * $0 + den / 2) / den) }
    #expect(got == expected, "\(zip(sums, zip(got, expected)).filter { $1.0 != $1.1 }.prefix(5))")
  }

  @Test func rgbChannelsAreAveragedSeparately() {
    // (10, 20, 30) and (11, 21, 31): means 10.5, 20.5, 30.5 → 11, 21, 31 (half up).
    let p = RGBImage(width: 2, height: 1, pixels: [10, 20, 30, 11, 21, 31])
    #expect(Downscale.rgb(p, to: PixelSize(width: 1, height: 1)) == [11, 21, 31])
    let q = RGBImage(width: 2, height: 2, pixels: [0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
    #expect(Downscale.rgb(q, to: PixelSize(width: 1, height: 1)) == [64, 64, 64])
  }
}

/// The preview's colour: 8-bit planes averaged over blocks, and a reader that reduces YUV so.
struct PlaneDownscaleTests {
  @Test func planeBlocksAreTheirMeansRoundedHalfUp() {
    // 4×2 → 2×1: {10, 11, 12, 13} has mean 11.5 → 12; {20, 21, 22, 24} 21.75 → 22.
    let plane: [UInt8] = [10, 11, 20, 21, 12, 13, 22, 24]
    #expect(Downscale.plane8(plane, width: 4, height: 2, to: PixelSize(width: 2, height: 1)) == [12, 22])
    #expect(Downscale.plane8Reference(plane, width: 4, height: 2, to: PixelSize(width: 2, height: 1)) == [12, 22])
    // 3 → 2 columns: blocks [0, 1) and [1, 3): 9, then (100 + 255) / 2 = 177.5 → 178.
    #expect(Downscale.plane8([9, 100, 255], width: 3, height: 1, to: PixelSize(width: 2, height: 1)) == [9, 178])
  }

  @Test func thePlaneKernelEqualsTheSwiftReference() {
    var state: UInt64 = 0x2545_F491_4F6C_DD1D
    func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return state >> 33
    }
    for _ in 0..<60 {
      let (w, h) = (Int(next() % 97) + 1, Int(next() % 61) + 1)
      let plane = (0..<(w * h)).map { _ in UInt8(truncatingIfNeeded: next()) }
      let size = PixelSize(width: Int(next() % UInt64(w)) + 1, height: Int(next() % UInt64(h)) + 1)
      #expect(
        Downscale.plane8(plane, width: w, height: h, to: size)
          == Downscale.plane8Reference(plane, width: w, height: h, to: size), "\(w)x\(h) → \(size)")
    }
  }

  /// Column sums of blocks up to 257 rows are kept in 16 bits (257 · 255 = 65 535), taller ones
  /// in 32: all-255 planes whose blocks are 257, 258 and 600 rows tall reduce to 255 (a 16-bit
  /// sum of 258 rows would wrap), and random planes of tall blocks equal the reference.
  @Test func tallBlocksKeepTheirSums() {
    for rows in [257, 258, 600] {
      let plane = [UInt8](repeating: 255, count: 3 * rows)
      #expect(
        Downscale.plane8(plane, width: 3, height: rows, to: PixelSize(width: 2, height: 1)) == [255, 255],
        "\(rows) rows")
    }
    var state: UInt64 = 0x5851_F42D_4C95_7F2D
    for (w, h, size) in [(7, 700, PixelSize(width: 3, height: 2)), (5, 516, PixelSize(width: 5, height: 2))] {
      let plane = (0..<(w * h)).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 33)
      }
      #expect(
        Downscale.plane8(plane, width: w, height: h, to: size)
          == Downscale.plane8Reference(plane, width: w, height: h, to: size), "\(w)x\(h) → \(size)")
    }
  }

  /// A 192×96 lossless H.264 source of flat 48×48 squares, each its own colour, read at 32×16
  /// (a sixth) with `areaDownscale`: the reduced luma and chroma of a square's middle are means
  /// of constant samples, so those output pixels are exactly the full-size reader's pixel at
  /// the square's centre. The bicubic reduction gives other values.
  @Test func aReaderReducesYUVByBlockMeans() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/squares.mp4"
    let (w, h) = (192, 96)
    let target = PixelSize(width: 32, height: 16)
    let writer = try VideoWriter(
      path: path, width: w, height: h, frameRate: 25, encoding: .h264(crf: 0, preset: "medium"))
    for k in 0..<3 {
      var pixels = [UInt8](repeating: 0, count: w * h * 3)
      for y in 0..<h {
        for x in 0..<w {
          let square = (y / 48) * 4 + x / 48
          for c in 0..<3 { pixels[(y * w + x) * 3 + c] = UInt8((square * 37 + c * 71 + k * 50) % 200 + 30) }
        }
      }
      try writer.append(rgb: RGBImage(width: w, height: h, pixels: pixels), alpha: nil)
    }
    try writer.finish()
    var options = ReadOptions(rgb: .eight, targetSize: target, decoderThreads: 1)
    options.areaDownscale = true
    let small = try VideoReader(path: path, options: options)
    let bicubic = try VideoReader(path: path, options: ReadOptions(rgb: .eight, targetSize: target, decoderThreads: 1))
    let full = try VideoReader(path: path, options: ReadOptions(rgb: .eight, decoderThreads: 1))
    // The writer's RGB → 4:2:0 conversion filters chroma across a square's edges, and the
    // reduced picture's chroma (one sample per 12×12 pixels of the source) is interpolated
    // between neighbouring samples when converted to RGB: the output pixels 3 and 4 of a
    // square's 8 (each way) draw only on chroma from its middle.
    func inside(_ o: Int) -> Bool { [3, 4].contains(o % 8) }
    var frames = 0
    var checked = 0
    var bicubicDiffers = false
    while let f = try small.nextFrame() {
      let want = try #require(try full.nextFrame()?.rgb)
      let other = try #require(try bicubic.nextFrame()?.rgb)
      let got = try #require(f.rgb)
      #expect(got.width == target.width && got.height == target.height)
      var mismatches = 0
      for oy in 0..<target.height {
        for ox in 0..<target.width where inside(ox) && inside(oy) {
          let (cx, cy) = (ox / 8 * 48 + 24, oy / 8 * 48 + 24)
          for c in 0..<3 {
            let v = got.pixels[(oy * target.width + ox) * 3 + c]
            if v != want.pixels[(cy * w + cx) * 3 + c] { mismatches += 1 }
            if other.pixels[(oy * target.width + ox) * 3 + c] != v { bicubicDiffers = true }
            checked += 1
          }
        }
      }
      #expect(mismatches == 0, "frame \(f.index)")
      frames += 1
    }
    #expect(frames == 3 && checked == 3 * 32 * 3)
    #expect(bicubicDiffers)
  }
}
