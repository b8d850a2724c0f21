import Testing

@testable import MatteMetrics

/// The traps of specs/metrics.md through the scorer that runs use, each worked out by hand.
@Suite struct MetricTrapTests {
  func whole(_ w: Int, _ h: Int) -> RegionMap {
    RegionMap(width: w, height: h, bits: .init(repeating: 1, count: w * h))
  }

  @Test func connTiesGoToTheComponentFirstInRasterOrder() throws {
    // Tenths: g = [0.8, 0, 0, 0.9, 0], p = [1, 0, 0, 1, 0]; q = [8, 0, 0, 9, 0]. For i ≤ 8 the
    // two single pixels tie and pixel 0 (first in raster order) is Ω_i; Ω_9 = {3}.
    // Pixel 0 leaves at i = 9: l = 0.8, φ_g = 1 (d = 0), φ_p = 1 − 0.2 = 0.8 → 0.2.
    // Pixel 3 leaves at i = 1: l = 0, φ_g = 1 − 0.9 = 0.1, φ_p = 0 → 0.1. Conn = 0.3.
    // (Ties to the later pixel would give 0.2 + 0 = 0.2.)
    let g = Matte(width: 5, height: 1, maxValue: 10, codes: [8, 0, 0, 9, 0])
    let p = Matte(width: 5, height: 1, maxValue: 10, codes: [10, 0, 0, 10, 0])
    #expect(Conn.levels(p, g) == [8, 0, 0, 0, 0])
    let t = FrameScorer.score(prediction: p, truth: g, regions: whole(5, 1))
    #expect(abs(t.sum(.frame, .conn) - 0.3) < 1e-12)
  }

  @Test func connNeverTakesTheBackgroundAsTheLargestComponent() throws {
    // 3×3, centre g = 1, p = 0.9, the rest 0. {q ≥ i} = {centre} for i ≤ 9: the centre is Ω_i
    // (the eight background pixels are not a component), leaves at i = 10, l = 0.9:
    // φ_g = 1 (d = 0.1 < 0.15), φ_p = 1 (d = 0) → Conn = 0. Counting the background as the
    // largest component would put l = 0 and give |0 − 0.1| = 0.1.
    var g = [UInt16](repeating: 0, count: 9)
    var p = g
    g[4] = 10
    p[4] = 9
    let gm = Matte(width: 3, height: 3, maxValue: 10, codes: g)
    let pm = Matte(width: 3, height: 3, maxValue: 10, codes: p)
    #expect(Conn.levels(pm, gm)[4] == 9)
    #expect(FrameScorer.score(prediction: pm, truth: gm, regions: whole(3, 3)).sum(.frame, .conn) == 0)
  }

  @Test func sixteenBitCodesKeepTheirLowByte() throws {
    // g = 0x1200, p = 0x12FF of 65535: |p − g| = 255/65535, MAD ×1e3 = 3.891050583657588;
    // an 8-bit reader (high byte only) would see 0x12 twice and report 0.
    let g = Matte(width: 1, height: 1, maxValue: 65535, codes: [0x1200])
    let p = Matte(width: 1, height: 1, maxValue: 65535, codes: [0x12FF])
    let t = FrameScorer.score(prediction: p, truth: g, regions: whole(1, 1))
    #expect(abs(try #require(t.value(.frame, .mad)) - 255.0 / 65535 * 1e3) < 1e-12)
    let d: Double = 255.0 / 65535
    let mse = try #require(t.value(.frame, .mse))
    #expect(abs(mse - d * d * 1e3) < 1e-15)
  }

  @Test func dtSSDCountsAChangeThatOnlyThePreviousFrameHad() throws {
    // 20×10 (several blocks), all 0 except the previous prediction at (18, 9) = 1. Now p = g:
    // ((0 − 1) − (0 − 0))² = 1 over 200 pixels → dtSSD = √(1/200) ×1e2 = 7.0710678118654755.
    let zeros = [UInt16](repeating: 0, count: 200)
    var before = zeros
    before[9 * 20 + 18] = 255
    let g = Matte(width: 20, height: 10, maxValue: 255, codes: zeros)
    let p0 = Matte(width: 20, height: 10, maxValue: 255, codes: before)
    let t0 = PreparedTruth(g)
    let t1 = PreparedTruth(g, previous: t0)
    let s = FrameScorer.score(prediction: g, truth: t1, previous: (p0, t0))
    #expect(abs(try #require(s.value(.frame, .dtssd)) - (1.0 / 200).squareRoot() * 100) < 1e-12)
    #expect(s.value(.frame, .mad) == 0)
    // Without a previous frame (frame 0) there is no temporal value; MESSDdt needs motion.
    let first = FrameScorer.score(prediction: p0, truth: t0)
    #expect(first.value(.frame, .dtssd) == nil && first.value(.frame, .messddt) == nil)
  }

  @Test func anEmptyRegionHasNoValue() throws {
    // No soft pixels: transition, hair and glass are empty, so their values are nil (null in
    // JSON, no row in SQLite) while the frame region still scores.
    let g = Matte(width: 4, height: 1, maxValue: 255, codes: [0, 0, 255, 255])
    let p = Matte(width: 4, height: 1, maxValue: 255, codes: [0, 255, 255, 255])
    let t = FrameScorer.score(prediction: p, truth: PreparedTruth(g))
    #expect(t.pixels(.transition) == 0 && t.value(.transition, .mad) == nil)
    #expect(t.value(.hair, .sad) == nil && t.value(.glass, .conn) == nil)
    #expect(abs(try #require(t.value(.frame, .mad)) - 250) < 1e-12)  // 1/4 ×1e3
  }
}
