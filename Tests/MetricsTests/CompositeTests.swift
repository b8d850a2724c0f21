import Foundation
import Testing

@testable import MatteMetrics

/// Composited outputs, by hand on tiny pictures.
@Suite struct CompositeTests {
  let red = (1.0, 0.0, 0.0)
  let blue = (0.0, 0.0, 1.0)
  /// A 2×1 background: red then blue.
  var redBlue: RGBPicture { RGBPicture(width: 2, height: 1, values: [1, 0, 0, 0, 0, 1]) }

  func pixel(_ p: RGBPicture, _ x: Int, _ y: Int) -> [Double] {
    let o = 3 * (y * p.width + x)
    return Array(p.values[o..<o + 3])
  }

  func near(_ a: [Double], _ b: [Double]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) < 1e-12 } }

  @Test func aspectClassesFollowTheJobAPIPolicy() {
    // Source 16:9 (1.7778). r = |bg − src| / src.
    #expect(AspectMatch(source: (1920, 1080), background: (1280, 720)).match == .exact)  // r = 0
    #expect(AspectMatch(source: (1920, 1080), background: (1910, 1080)).match == .exact)  // r = 0.0052
    let close = AspectMatch(source: (1920, 1080), background: (1700, 1000))  // 1.7: r = 0.04375
    #expect(close.match == .close && abs(close.relativeDifference - 0.04375) < 1e-12)
    #expect(AspectMatch(source: (1920, 1080), background: (1000, 1000)).match == .large)  // r = 0.4375
  }

  @Test func fitsMapPixelCentresByHand() {
    // Stretch 2×1 → 2×2: sx = 1, sy = 2; columns keep their colour.
    let s = Composite.fit(redBlue, width: 2, height: 2, mode: .stretch)
    #expect(near(pixel(s, 0, 0), [1, 0, 0]) && near(pixel(s, 1, 1), [0, 0, 1]))
    // Cover: s = 2, scaled 4×2, offset x −1. Pixel (0, 0): u = (0.5 + 1)/2 − 0.5 = 0.25 →
    // 0.75 red + 0.25 blue; pixel (1, 0): u = 0.75 → 0.25 red + 0.75 blue.
    let c = Composite.fit(redBlue, width: 2, height: 2, mode: .cover)
    #expect(near(pixel(c, 0, 0), [0.75, 0, 0.25]) && near(pixel(c, 1, 1), [0.25, 0, 0.75]))
    // Contain: s = 1, scaled 2×1 at y offset 0.5: row 0 (centre 0.5) is the picture, row 1
    // (centre 1.5, past 0.5 + 1) is padding.
    let pad = (0.2, 0.4, 0.6)
    let k = Composite.fit(redBlue, width: 2, height: 2, mode: .contain, pad: pad)
    #expect(near(pixel(k, 0, 0), [1, 0, 0]) && near(pixel(k, 1, 0), [0, 0, 1]))
    #expect(near(pixel(k, 0, 1), [0.2, 0.4, 0.6]) && near(pixel(k, 1, 1), [0.2, 0.4, 0.6]))
  }

  @Test func referenceFromThePlateEqualsAlphaTimesForeground() {
    // α = [1, 0.5, 0]; F green; B (plate) gray 0.5; B′ blue.
    let alpha = Matte(width: 3, height: 1, maxValue: 2, codes: [2, 1, 0])
    let f = RGBPicture(width: 3, height: 1, color: (0, 1, 0))
    let plate = RGBPicture(width: 3, height: 1, color: (0.5, 0.5, 0.5))
    let bPrime = RGBPicture(width: 3, height: 1, color: blue)
    let source = Composite.reference(alpha: alpha, foreground: f, background: plate)
    // Middle pixel: 0.5·(0, 1, 0) + 0.5·(0.5, 0.5, 0.5) = (0.25, 0.75, 0.25).
    #expect(near(pixel(source, 1, 0), [0.25, 0.75, 0.25]))
    let direct = Composite.reference(alpha: alpha, foreground: f, background: bPrime)
    let fromPlate = Composite.reference(alpha: alpha, source: source, plate: plate, background: bPrime)
    #expect(near(direct.values, fromPlate.values))
    #expect(near(pixel(direct, 1, 0), [0, 0.5, 0.5]) && near(pixel(direct, 2, 0), [0, 0, 1]))
  }

  @Test func mseAndPSNRPerRegionByHand() throws {
    // 2×1, one channel of pixel 1 off by 0.1: Σ = 0.01 over 2 pixels × 3 channels →
    // MSE 0.01/6 = 0.0016667 (×1e3 1.6667), PSNR 10·log10(600) = 27.7815 dB. The
    // transition region holds only pixel 1: MSE 0.01/3, PSNR 10·log10(300).
    let reference = RGBPicture(width: 2, height: 1, values: [0.5, 0.5, 0.5, 0.2, 0.2, 0.2])
    var output = reference
    output.values[4] += 0.1
    let regions = RegionMap(width: 2, height: 1, bits: [1, 3])
    let e = Composite.squaredError(output, reference, regions: regions)
    let frame = e[0]
    #expect(abs(try #require(Composite.mse(sum: frame.sum, pixels: frame.pixels)) - 0.01 / 6 * 1e3) < 1e-9)
    #expect(abs(try #require(Composite.psnr(sum: frame.sum, pixels: frame.pixels)) - 10 * log10(600.0)) < 1e-9)
    #expect(abs(try #require(Composite.psnr(sum: e[1].sum, pixels: e[1].pixels)) - 10 * log10(300.0)) < 1e-9)
    #expect(Composite.mse(sum: e[2].sum, pixels: e[2].pixels) == nil)  // hair: empty
    #expect(Composite.psnr(sum: 0, pixels: 2) == .infinity)
  }

  @Test func theAppliedFitIsDetectedOnPureBackground() throws {
    // A 4×4 canvas for a 2:1 background, so the three fits differ; one foreground pixel.
    var codes = [UInt16](repeating: 0, count: 16)
    codes[5] = 255
    let alpha = Matte(width: 4, height: 4, maxValue: 255, codes: codes)
    for mode in BackgroundFit.allCases {
      let output = Composite.fit(redBlue, width: 4, height: 4, mode: mode)
      let ranked = try #require(Composite.detectFit(output: output, alpha: alpha, background: redBlue))
      #expect(ranked[0].fit == mode && ranked[0].mse == 0, "\(mode): \(ranked)")
      #expect(ranked[1].mse > 0)
    }
    #expect(
      Composite.detectFit(
        output: redBlue, alpha: Matte(width: 2, height: 1, maxValue: 1, codes: [1, 1]), background: redBlue) == nil)
  }
}
