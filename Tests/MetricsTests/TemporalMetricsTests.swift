import Testing

@testable import MatteMetrics

@Suite struct TemporalMetricsTests {
  /// 2×2, values in quarters so every step is exact.
  func matte(_ v: [Double]) -> Matte { Matte(width: 2, height: 2, maxValue: 4, values: v) }

  @Test func dtSSDByHand() {
    // p moves 0 → 0.5 at pixel 0 while g stays: difference 0.5 there, 0 elsewhere.
    let map = TemporalMetrics.dtSSDMap(
      p: matte([0.5, 0.5, 1, 0]), previousP: matte([0, 0.5, 1, 0]), g: matte([0, 0, 1, 0]),
      previousG: matte([0, 0, 1, 0]))
    #expect(map == [0.25, 0, 0, 0])
    // Whole frame: √(0.25 / 4) = 0.25. Mask of the first row: √(0.25 / 2) = 0.353553….
    #expect(TemporalMetrics.dtSSD(map: map) == 0.25)
    #expect(abs(TemporalMetrics.dtSSD(map: map, mask: [true, true, false, false])! - 0.125.squareRoot()) < 1e-15)
    #expect(TemporalMetrics.dtSSD(map: map, mask: [false, false, false, false]) == nil)
    // A prediction that changes exactly as the truth does scores 0, whatever its own error.
    let follows = TemporalMetrics.dtSSDMap(
      p: matte([0.75, 0, 0, 0]), previousP: matte([0.5, 0, 0, 0]), g: matte([0.5, 0, 0, 0]),
      previousG: matte([0.25, 0, 0, 0]))
    #expect(TemporalMetrics.dtSSD(map: follows) == 0)
  }

  @Test func dtSSDMixesBitDepths() {
    // 16-bit prediction against 8-bit truth: 32768/65535 − 0 against 128/255 − 0.
    let p = Matte(width: 1, height: 1, maxValue: 65535, codes: [32768])
    let p0 = Matte(width: 1, height: 1, maxValue: 65535, codes: [0])
    let g = Matte(width: 1, height: 1, maxValue: 255, codes: [128])
    let g0 = Matte(width: 1, height: 1, maxValue: 255, codes: [0])
    let expected = abs(32768.0 / 65535 - 128.0 / 255)
    #expect(
      abs(TemporalMetrics.dtSSD(map: TemporalMetrics.dtSSDMap(p: p, previousP: p0, g: g, previousG: g0))! - expected)
        < 1e-15)
  }

  /// A 4×1 edge moving one pixel to the right, with the prediction carrying the same error along
  /// the edge: MESSDdt is 0 with the true motion, and zero flow would wrongly penalise it.
  @Test func correctlyMovingEdgeScoresZero() {
    func row(_ v: [Double]) -> Matte { Matte(width: 4, height: 1, maxValue: 4, values: v) }
    let g0 = row([1, 1, 0, 0])
    let g1 = row([1, 1, 1, 0])
    let p0 = row([1, 0.5, 0, 0])  // error 0.5 at the edge pixel 1
    let p1 = row([1, 1, 0.5, 0])  // the same error, now at pixel 2
    let right = MotionField(width: 4, height: 1, dx: [1, 1, 1, 1], dy: [0, 0, 0, 0])
    let moving = TemporalMetrics.messddtMap(p: p1, previousP: p0, g: g1, previousG: g0, motion: right)
    // E_{t−1} = [0, 0.25, 0, 0]; E_t = [0, 0, 0.25, 0]; x + 1 (clamped at 3): E_t at [1, 2, 3, 3].
    #expect(moving == [0, 0, 0, 0])
    #expect(TemporalMetrics.messddt(map: moving) == 0)
    let still = TemporalMetrics.messddtMap(
      p: p1, previousP: p0, g: g1, previousG: g0, motion: .zero(width: 4, height: 1))
    #expect(still == [0, 0.25, 0.25, 0])
    // Mean over the frame ×1e3: 0.5 / 4 · 1000 = 125.
    #expect(TemporalMetrics.messddt(map: still) == 125)
    // Through the scorer: 0 with the true motion, 125 with zero flow, and no value at all
    // without a motion field (never faked).
    let t0 = PreparedTruth(g0, regions: RegionMap.frameOnly(width: 4, height: 1))
    let t1 = PreparedTruth(g1, regions: RegionMap.frameOnly(width: 4, height: 1))
    let withMotion = FrameScorer.score(prediction: p1, truth: t1, previous: (p0, t0), motion: right)
    #expect(withMotion.value(.frame, .messddt) == 0)
    let zeroFlow = FrameScorer.score(
      prediction: p1, truth: t1, previous: (p0, t0), motion: .zero(width: 4, height: 1))
    #expect(zeroFlow.value(.frame, .messddt) == 125)
    #expect(FrameScorer.score(prediction: p1, truth: t1, previous: (p0, t0)).value(.frame, .messddt) == nil)
  }

  @Test func motionIsRoundedToTheNearestPixelAndClamped() {
    func row(_ v: [Double]) -> Matte { Matte(width: 3, height: 1, maxValue: 4, values: v) }
    let g = row([0, 0, 0])
    let p0 = row([0.5, 0, 0])  // E_{t−1} = [0.25, 0, 0]
    let p1 = row([0, 0, 0.5])  // E_t = [0, 0, 0.25]
    // dx 1.6 → 2 (pixel 0 lands on pixel 2: no change); 0.4 → 0; −5 → clamped to pixel 0.
    let field = MotionField(width: 3, height: 1, dx: [1.6, 0.4, -5], dy: [0, 0, 0])
    let map = TemporalMetrics.messddtMap(p: p1, previousP: p0, g: g, previousG: g, motion: field)
    #expect(map == [0, 0, 0])
    // dx 1.4 → 1: pixel 0 lands on pixel 1 (E_t = 0): |0.25 − 0| = 0.25; pixel 2 stays: 0.25.
    let short = MotionField(width: 3, height: 1, dx: [1.4, 0, 0], dy: [0, 0, 0])
    #expect(TemporalMetrics.messddtMap(p: p1, previousP: p0, g: g, previousG: g, motion: short) == [0.25, 0, 0.25])
  }

  /// The scorer's one-pass MESSDdt on the same rows: frame sums 0 (first field) and
  /// 0.25 + 0.25 = 0.5 over 3 pixels, ×1e3 → 166.67 (second); a half rounds away from zero
  /// (dx 0.5 → 1, −0.5 → −1, clamped to pixel 0).
  @Test func theScorerRoundsAndClampsAsTheMap() {
    func row(_ v: [Double]) -> Matte { Matte(width: 3, height: 1, maxValue: 4, values: v) }
    let g = PreparedTruth(row([0, 0, 0]))
    let p0 = row([0.5, 0, 0])
    let p1 = row([0, 0, 0.5])
    func value(_ dx: [Float]) -> Double? {
      FrameScorer.score(
        prediction: p1, truth: g, previous: (p0, g), motion: MotionField(width: 3, height: 1, dx: dx, dy: [0, 0, 0])
      ).value(.frame, .messddt)
    }
    #expect(value([1.6, 0.4, -5]) == 0)
    #expect(abs((value([1.4, 0, 0]) ?? 0) - 0.5 / 3 * 1e3) < 1e-9)
    // 0.5 → 1: pixel 0 lands on pixel 1 (E_t = 0), 0.25; pixel 2 with −0.5 → 1: |0 − 0| = 0.
    #expect(abs((value([0.5, 0, -0.5]) ?? 0) - 0.25 / 3 * 1e3) < 1e-9)
    // 1.5 → 2: pixel 0 lands on pixel 2 (no change): 0; pixel 2 stays: 0.25.
    #expect(abs((value([1.5, 0, 0]) ?? 0) - 0.25 / 3 * 1e3) < 1e-9)
  }

  /// Reading a `.npy` splits the pairs and finds each block's reach in one pass: the same
  /// components and reach as a field built from the arrays, on a frame whose last block row
  /// and column are cut (37×19 on 16×8 blocks).
  @Test func aReadFieldEqualsTheFieldOfItsComponents() throws {
    let (w, h) = (37, 19)
    var state: UInt64 = 7
    func next() -> Float {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Float(Int(state >> 40) % 20_001 - 10_000) / 256
    }
    var dx = (0..<(w * h)).map { _ in next() }
    var dy = (0..<(w * h)).map { _ in next() }
    // Vectors far past the frame, and halves of either sign.
    (dx[5], dy[5]) = (3e9, 0)
    (dx[6], dy[6]) = (0, -3e9)
    (dx[40], dy[40]) = (-2.5, 0)
    (dx[41], dy[41]) = (0, 1.5)
    // The floats just below a half, either sign (the eight-pixel path rounds in float: 0.5 − 2⁻²⁵
    // added to them must not carry to the next integer), and halves at the clamp's reach.
    let belowHalf: [Float] = ([0.5, 1.5, 2.5, 37.5] as [Float]).map { $0.nextDown }
    for (k, v) in belowHalf.enumerated() {
      (dx[3 * w + 2 * k], dy[3 * w + 2 * k]) = (v, -v)
      (dx[3 * w + 2 * k + 1], dy[3 * w + 2 * k + 1]) = (-v, v)
    }
    (dx[4 * w + 17], dy[4 * w + 17]) = (38.5, -38.5)
    (dx[4 * w + 18], dy[4 * w + 18]) = (-0.0, 0.5)
    let built = MotionField(width: w, height: h, dx: dx, dy: dy)
    let read = try MotionField(npy: [UInt8](built.npyData()), width: w, height: h)
    #expect(read == built)
    #expect(read.blockReach == built.blockReach)
    // Each target as the reference map finds it: the vector rounded half away from zero,
    // the pixel clamped to the frame.
    let expected = (0..<(w * h)).map { i in
      let tx = min(max(i % w + Int(Double(dx[i]).rounded()), 0), w - 1)
      let ty = min(max(i / w + Int(Double(dy[i]).rounded()), 0), h - 1)
      return Int32(ty * w + tx)
    }
    #expect(read.targets == expected)
    #expect(built.targets == expected)
    #expect(expected[5] == 36 && expected[6] == 6 && expected[40] == 40 - 3 && expected[41] == 41 + 2 * w)
    #expect(read.blockReach.count == 3 * 3)
    // Block (2, 2) holds pixels 32…36 of rows 16…18: its reach is their largest |dx| or |dy|.
    let corner = (16..<19).flatMap { y in (32..<37).map { x in max(abs(dx[y * w + x]), abs(dy[y * w + x])) } }
    #expect(read.blockReach[8] == corner.max())
    // Read without its components (as scoring reads it): the same targets and reach, no dx, dy.
    let bare = try [UInt8](built.npyData()).withUnsafeBytes {
      try MotionField(npy: $0, width: w, height: h, components: false)
    }
    #expect(bare.dx.isEmpty && bare.dy.isEmpty)
    #expect(bare.targets == expected && bare.blockReach == built.blockReach)
    #expect(bare != built)
    // Each block's box: the lowest and highest x and y of its pixels' targets, from the
    // expected targets; the same from the one-pass read (vector and tail paths) and the build.
    let boxes = (0..<9).flatMap { b -> [Int32] in
      let (bx, by) = (b % 3, b / 3)
      let pixels = (by * 8..<min(by * 8 + 8, h)).flatMap { y in (bx * 16..<min(bx * 16 + 16, w)).map { y * w + $0 } }
      let xs = pixels.map { Int32(Int(expected[$0]) % w) }
      let ys = pixels.map { Int32(Int(expected[$0]) / w) }
      return [xs.min()!, xs.max()!, ys.min()!, ys.max()!]
    }
    #expect(read.blockBoxes == boxes)
    #expect(bare.blockBoxes == boxes)
    #expect(built.blockBoxes == boxes)
  }

  /// Of two vectors that are not finite, the first in row order is named, whichever block
  /// column it lies in.
  @Test func theFirstNonFiniteVectorInRowOrderIsNamed() throws {
    let (w, h) = (40, 12)
    var dx = [Float](repeating: 0.5, count: w * h)
    var dy = dx
    dx[9 * w + 2] = .nan
    dy[1 * w + 20] = .infinity
    dx[1 * w + 35] = -.infinity
    let field = MotionField(width: w, height: h, dx: dx, dy: dy)
    let error = #expect(throws: NpyError.self) {
      _ = try MotionField(npy: [UInt8](field.npyData()), width: w, height: h)
    }
    #expect(error?.reason == "the vector at x 20, y 1 is not finite (0.5, inf)")
    let bare = #expect(throws: NpyError.self) {
      _ = try [UInt8](field.npyData()).withUnsafeBytes {
        try MotionField(npy: $0, width: w, height: h, components: false)
      }
    }
    #expect(bare?.reason == "the vector at x 20, y 1 is not finite (0.5, inf)")
  }

  @Test func aFieldWithANonFiniteVectorIsRefused() throws {
    let field = MotionField(width: 2, height: 2, dx: [0, 0, 0, 0], dy: [0, 0, 0, .nan])
    let error = #expect(throws: NpyError.self) {
      _ = try MotionField(npy: [UInt8](field.npyData()), width: 2, height: 2)
    }
    #expect(error?.reason == "the vector at x 1, y 1 is not finite (0.0, nan)")
  }
}
