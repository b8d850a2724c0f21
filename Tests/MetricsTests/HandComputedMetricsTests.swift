import Testing

@testable import MatteMetrics

/// Values worked out by hand; each comment shows the arithmetic.
@Suite struct HandComputedMetricsTests {
  // maxValue 4 so every value is a multiple of 0.25.
  let g = Matte(
    width: 4, height: 4, maxValue: 4,
    codes: [
      0, 0, 4, 4,
      0, 2, 4, 4,
      0, 0, 2, 4,
      0, 0, 0, 4,
    ])
  let p = Matte(
    width: 4, height: 4, maxValue: 4,
    codes: [
      0, 1, 4, 4,
      0, 2, 3, 4,
      1, 0, 2, 4,
      0, 0, 0, 2,
    ])

  func wholeFrame(_ w: Int, _ h: Int) -> RegionMap {
    RegionMap(width: w, height: h, bits: [UInt8](repeating: RegionKind.frame.bit, count: w * h))
  }

  @Test func sadMadMseOnFourByFour() throws {
    // |p − g| = 0.25, 0.25, 0.25 and 0.5 at four pixels: Σ = 1.25; Σ² = 3·0.0625 + 0.25 = 0.4375.
    let t = FrameScorer.score(prediction: p, truth: g, regions: wholeFrame(4, 4))
    #expect(t.sum(.frame, .sad) == 1.25)
    #expect(t.sum(.frame, .mse) == 0.4375)
    #expect(t.pixels(.frame) == 16)
    #expect(try #require(t.value(.frame, .sad)) == 1.25 / 1000)  // reported ÷1000
    #expect(abs(try #require(t.value(.frame, .mad)) - 78.125) < 1e-12)  // 1.25/16 ×1e3
    #expect(abs(try #require(t.value(.frame, .mse)) - 27.34375) < 1e-12)  // 0.4375/16 ×1e3
  }

  @Test func regionSumsUseTheWholeFrameErrorMap() throws {
    // Only the right column belongs to "hair": errors 0, 0, 0, 0.5 → MAD 0.5/4 = 0.125.
    var bits = [UInt8](repeating: RegionKind.frame.bit, count: 16)
    for y in 0..<4 { bits[y * 4 + 3] |= RegionKind.hair.bit }
    let t = FrameScorer.score(prediction: p, truth: g, regions: RegionMap(width: 4, height: 4, bits: bits))
    #expect(t.pixels(.hair) == 4)
    #expect(abs(try #require(t.value(.hair, .mad)) - 125) < 1e-12)
    #expect(abs(try #require(t.value(.hair, .mse)) - 62.5) < 1e-12)  // 0.25/4 ×1e3
    #expect(t.value(.glass, .mad) == nil)  // no support
  }

  @Test func differentBitDepthsCompareByValue() {
    // 255/255 (8-bit) and 65535/65535 (16-bit) are both 1.0; 0 and 0 are 0.
    let p8 = Matte(width: 2, height: 1, maxValue: 255, codes: [255, 0])
    let g16 = Matte(width: 2, height: 1, maxValue: 65535, codes: [65535, 0])
    #expect(ErrorMaps.absoluteDifference(p8, g16) == [0, 0])
    // 16-bit precision is kept: 1 code in 65535 is an error of 1/65535, not 0.
    let g16b = Matte(width: 2, height: 1, maxValue: 65535, codes: [65534, 0])
    #expect(abs(ErrorMaps.absoluteDifference(p8, g16b)[0] - 1.0 / 65535) < 1e-15)
  }

  // Conn on a hand-drawn 6×6 case, maxValue 10 (code c is the value c/10).
  //   g:                 p:
  //   0  0  0  0  0  0   0  0  0  0  0  0
  //   0 10 10  0  0  0   0 10 10  0  0  0
  //   0 10 10  0  6  0   0 10  8  0  6  0
  //   0  0  0  0  6  0   0  0  0  0  2  0
  //   0  0  0  0  0  0   0  0  0  0  0  0
  //   0  0  3  0  0  0   0  0  1  0  0  0
  // Ω_i is the 2×2 block for i = 1…8 (4 pixels beat 2 and 1), its three 10/10 pixels for
  // i = 9, 10. So: the three 10/10 pixels never leave (l = 1, d = 0 → φ = 1 for both);
  // (2,2) leaves at i = 9 (l = 0.8): φ_g = 1 − 0.2 = 0.8, φ_p (d = 0 < 0.15) = 1 → 0.2;
  // (4,2) and (4,3) and (2,5) leave at i = 1 (l = 0): (4,2) 0.4 vs 0.4 → 0; (4,3) φ_g = 0.4,
  // φ_p = 0.8 → 0.4; (2,5) φ_g = 0.7, φ_p (d = 0.1 < 0.15) = 1 → 0.3. Zeros: φ = 1 both.
  // Conn = 0.2 + 0.4 + 0.3 = 0.9.
  let connG = Matte(
    width: 6, height: 6, maxValue: 10,
    codes: [
      0, 0, 0, 0, 0, 0,
      0, 10, 10, 0, 0, 0,
      0, 10, 10, 0, 6, 0,
      0, 0, 0, 0, 6, 0,
      0, 0, 0, 0, 0, 0,
      0, 0, 3, 0, 0, 0,
    ])
  let connP = Matte(
    width: 6, height: 6, maxValue: 10,
    codes: [
      0, 0, 0, 0, 0, 0,
      0, 10, 10, 0, 0, 0,
      0, 10, 8, 0, 6, 0,
      0, 0, 0, 0, 2, 0,
      0, 0, 0, 0, 0, 0,
      0, 0, 1, 0, 0, 0,
    ])

  @Test func connOnHandDrawnSixBySix() throws {
    let levels = Conn.levels(connP, connG)
    #expect(levels[1 * 6 + 1] == 10)
    #expect(levels[2 * 6 + 2] == 8)
    #expect(levels[2 * 6 + 4] == 0)
    #expect(levels[5 * 6 + 2] == 0)
    let map = Conn.errorMap(connP, connG)
    #expect(abs(map[2 * 6 + 2] - 0.2) < 1e-12)
    #expect(abs(map[3 * 6 + 4] - 0.4) < 1e-12)
    #expect(abs(map[5 * 6 + 2] - 0.3) < 1e-12)
    #expect(abs(map.reduce(0, +) - 0.9) < 1e-12)
    let t = FrameScorer.score(prediction: connP, truth: connG, regions: wholeFrame(6, 6))
    #expect(abs(try #require(t.value(.frame, .conn)) - 0.0009) < 1e-15)
  }

  @Test func connThresholdComparesIntegerCodes() {
    // α_g = 153/255 is exactly 0.6: it passes i = 6 and leaves at i = 7 (l = 0.6), so
    // φ_g = 1 (d = 0 < 0.15) and φ_p = 1 − (1 − 0.6) = 0.6 → 0.4. Had 153/255 ≥ 0.1·6 failed
    // in floating point, l would be 0.5 and the error 0.5.
    let g = Matte(width: 1, height: 1, maxValue: 255, codes: [153])
    let p = Matte(width: 1, height: 1, maxValue: 255, codes: [255])
    #expect(Conn.levels(p, g) == [6])
    #expect(abs(Conn.errorMap(p, g)[0] - 0.4) < 1e-12)
  }

  @Test func largestComponentIsFourConnectedAndTiesGoToRasterOrder() {
    // Two diagonal pixels are two components under 4-connectivity; two components of size 2:
    // the one whose first pixel comes first in raster order wins.
    let mask: [Bool] = [
      true, false, false, true,
      true, false, false, true,
      false, true, false, false,
    ]
    let omega = Conn.largestComponent(mask, width: 4, height: 3)
    #expect(
      omega == [
        true, false, false, false,
        true, false, false, false,
        false, false, false, false,
      ])
    #expect(Conn.largestComponent([false, false], width: 2, height: 1) == [false, false])
  }

  @Test func gradKernelsMatchThePublishedFactors() {
    let g: [Double] = [0.010716, 0.063906, 0.228819, 0.491881, 0.634818, 0.491881, 0.228819, 0.063906, 0.010716]
    let d: [Double] = [0.043299, 0.193671, 0.462297, 0.496889, 0, -0.496889, -0.462297, -0.193671, -0.043299]
    for k in 0..<9 {
      #expect(abs(Grad.gaussian[k] - g[k]) < 1e-6)
      #expect(abs(Grad.derivative[k] - d[k]) < 1e-6)
    }
  }

  @Test func gradOfAVerticalStepAgainstOneDimensionalSums() throws {
    // ĝ is 0 for x < 6 and 1 for x ≥ 6, constant down the columns; p̂ is all zeros
    // (max == min). Then ∂y = 0 and ∂x(x) = (ΣG)·Σ_k G′_k·step(clamp(x + k − 4)), so
    // Grad = H · Σ_x ∂x(x)², computed here from the published constants alone.
    let w = 12
    let h = 5
    var codes = [UInt16](repeating: 0, count: w * h)
    for y in 0..<h { for x in 6..<w { codes[y * w + x] = 255 } }
    let truth = Matte(width: w, height: h, maxValue: 255, codes: codes)
    let pred = Matte(width: w, height: h, maxValue: 255, codes: [UInt16](repeating: 0, count: w * h))
    let gs: [Double] = [0.010716, 0.063906, 0.228819, 0.491881, 0.634818, 0.491881, 0.228819, 0.063906, 0.010716]
    let ds: [Double] = [0.043299, 0.193671, 0.462297, 0.496889, 0, -0.496889, -0.462297, -0.193671, -0.043299]
    let sumG = gs.reduce(0, +)
    var expected = 0.0
    for x in 0..<w {
      var dx = 0.0
      for k in 0..<9 { dx += ds[k] * (min(max(x + k - 4, 0), w - 1) >= 6 ? 1 : 0) }
      expected += Double(h) * (sumG * dx) * (sumG * dx)
    }
    let got = Grad.errorMap(pred, truth).reduce(0, +)
    #expect(expected > 1)
    #expect(abs(got - expected) / expected < 1e-4)
  }

  @Test func gradIsBlindToGlobalGainButMadIsNot() throws {
    // 0.8·g: codes 0/204 against 0/255 normalise to the same 0/1 plane (trap 3).
    let g = Matte(width: 8, height: 8, maxValue: 255, codes: (0..<64).map { $0 % 8 < 4 ? 0 : 255 })
    let p = Matte(width: 8, height: 8, maxValue: 255, codes: g.codes.map { $0 == 0 ? 0 : 204 })
    let t = FrameScorer.score(prediction: p, truth: g, regions: wholeFrame(8, 8))
    #expect(t.sum(.frame, .grad) == 0)
    #expect(abs(t.sum(.frame, .sad) - 32 * 51.0 / 255) < 1e-9)
  }

  @Test func regionsFromGroundTruth() {
    // One soft pixel in the middle of a 7×7 frame: the transition band dilated by 2 is 5×5.
    var codes = [UInt16](repeating: 0, count: 49)
    codes[3 * 7 + 3] = 128
    let truth = Matte(width: 7, height: 7, maxValue: 255, codes: codes)
    let first = RegionDeriver().regions(truth: truth, previousTruth: nil, hairMask: nil, glassMask: nil)
    #expect(first.support(.frame) == 49)
    #expect(first.support(.transition) == 25)
    #expect(first.support(.motion) == 0)  // frame 0 has no motion
    // The pixel moves one step right: changed pixels (3,3) and (4,3), dilated by 2 → 6×5 = 30.
    var moved = [UInt16](repeating: 0, count: 49)
    moved[3 * 7 + 4] = 128
    let next = RegionDeriver().regions(
      truth: Matte(width: 7, height: 7, maxValue: 255, codes: moved), previousTruth: truth,
      hairMask: nil, glassMask: nil)
    #expect(next.support(.motion) == 25 + 5)
    // A clip's own mask wins over the derived one.
    var hair = [Bool](repeating: false, count: 49)
    hair[0] = true
    let own = RegionDeriver().regions(truth: truth, previousTruth: nil, hairMask: hair, glassMask: nil)
    #expect(own.support(.hair) == 1)
    #expect(own.contains(.hair, at: 0))
  }
}

/// Morphology against its definition: a square (2r+1)² window, pixels outside the frame taken as
/// the nearest border pixel; checked on random masks, every radius 1…3.
@Suite struct MorphologyDefinitionTests {
  func reference(_ m: [Bool], _ w: Int, _ h: Int, _ r: Int, dilate: Bool) -> [Bool] {
    var out = [Bool](repeating: false, count: m.count)
    for y in 0..<h {
      for x in 0..<w {
        var any = false
        var all = true
        for dy in -r...r {
          for dx in -r...r {
            let v = m[min(max(y + dy, 0), h - 1) * w + min(max(x + dx, 0), w - 1)]
            any = any || v
            all = all && v
          }
        }
        out[y * w + x] = dilate ? any : all
      }
    }
    return out
  }

  @Test func dilateAndErodeMatchTheDefinition() {
    var rng = SplitMix64(seed: 11)
    let (w, h) = (37, 23)
    for density in [0.05, 0.5, 0.95] {
      let m = (0..<(w * h)).map { _ in rng.uniform(0, 1) < density }
      for r in 1...3 {
        #expect(Morphology.dilate(m, width: w, height: h, radius: r) == reference(m, w, h, r, dilate: true))
        #expect(Morphology.erode(m, width: w, height: h, radius: r) == reference(m, w, h, r, dilate: false))
      }
    }
  }
}
