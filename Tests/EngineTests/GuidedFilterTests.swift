import MediaIO
import Testing

@testable import Engine

/// The guided filter and temporal smoothing against values worked out by hand.
@Suite struct GuidedFilterTests {
  @Test func boxMeanUsesTheInFramePartOfTheWindow() {
    // Radius 1 on a 3×1 row: (1+2)/2, (1+2+6)/3, (2+6)/2.
    #expect(GuidedFilter.boxMean([1, 2, 6], width: 3, height: 1, radius: 1) == [1.5, 3, 4])
    // 3×2, radius 1: every window holds its whole column pair or triple of both rows.
    // Columns sums: 1+4 = 5, 2+5 = 7, 3+6 = 9 → (5+7)/4, (5+7+9)/6, (7+9)/4 on both rows.
    let m = GuidedFilter.boxMean([1, 2, 3, 4, 5, 6], width: 3, height: 2, radius: 1)
    #expect(m == [3, 3.5, 4, 3, 3.5, 4])
  }

  @Test func aConstantGuideGivesTheTwiceBoxFilteredInput() {
    // a = 0 everywhere, b = mean(p) = 0, 1/3, 2/3, 1; q = mean(b) = 1/6, 1/3, 2/3, 5/6.
    let q = GuidedFilter.apply(
      input: [0, 0, 1, 1], guide: [0.5, 0.5, 0.5, 0.5], width: 4, height: 1, radius: 1, epsilon: 1e-3)
    let expected: [Float] = [1.0 / 6, 1.0 / 3, 2.0 / 3, 5.0 / 6]
    for (v, e) in zip(q, expected) { #expect(abs(v - e) < 1e-6) }
  }

  @Test func theInputAsItsOwnGuideKeepsAStepEdge() {
    // I = p = 0 0 1 1, r = 1, ε → 0: a = 0, 1, 1, 0 and b = 0, 0, 0, 1; mean(a) = ½, ⅔, ⅔, ½,
    // mean(b) = 0, 0, ⅓, ½; q = 0, 0, ⅔ + ⅓, ½ + ½ = 0, 0, 1, 1.
    let q = GuidedFilter.apply(
      input: [0, 0, 1, 1], guide: [0, 0, 1, 1], width: 4, height: 1, radius: 1, epsilon: 1e-9)
    let expected: [Float] = [0, 0, 1, 1]
    for (v, e) in zip(q, expected) { #expect(abs(v - e) < 1e-5) }
  }

  @Test func temporalSmoothingIsExponential() {
    var smoother = TemporalSmoother(strength: 0.5)
    func frame(_ v: UInt16) -> GrayImage { GrayImage(width: 1, height: 1, maxValue: 255, samples: [v]) }
    // 0 → 0; then ½·1 + ½·0 = 0.5 → 127.5 → 128; then ½·1 + ½·0.5 = 0.75 → 191.25 → 191.
    #expect(smoother.next(frame(0)).samples == [0])
    #expect(smoother.next(frame(255)).samples == [128])
    #expect(smoother.next(frame(255)).samples == [191])
    var off = TemporalSmoother(strength: 0)
    _ = off.next(frame(0))
    #expect(off.next(frame(255)).samples == [255])
  }

  @Test func theRefinedKeyerWritesSixteenBitCodes() {
    let plate = RGBImage(width: 4, height: 1, pixels: [UInt8](repeating: 100, count: 12))
    let frame = RGBImage(width: 4, height: 1, pixels: [100, 100, 100, 100, 100, 100, 250, 250, 250, 250, 250, 250])
    let m = EmbeddedEngine.matte(frame, plate: plate, settings: EngineSettings(model: .refinedKeyer, radius: 1))
    #expect(m.maxValue == 65535)
    // The soft matte is the step 0 0 1 1 and the guide has the same step: the edge stays.
    #expect(m.samples[0] < 700 && m.samples[1] < 700 && m.samples[2] > 64835 && m.samples[3] > 64835)
  }
}
