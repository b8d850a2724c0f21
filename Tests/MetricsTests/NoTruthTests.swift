import Testing

@testable import MatteMetrics

/// No-ground-truth measures, by hand on tiny frames.
@Suite struct NoTruthTests {
  func whole(_ w: Int, _ h: Int) -> RegionMap { RegionMap.frameOnly(width: w, height: h) }

  @Test func flickerCountsAlphaChangesOnAStillPicture() {
    // Pixel 0: source gray 0.5 in both frames (still), alpha 0.2 → 0.5: |Δα| = 0.3.
    // Pixel 1: source 0 → 1 (moving), alpha 0 → 1: not flicker, left out.
    let before = Matte(width: 2, height: 1, maxValue: 10, codes: [2, 0])
    let now = Matte(width: 2, height: 1, maxValue: 10, codes: [5, 10])
    let s0 = RGBPicture(width: 2, height: 1, values: [0.5, 0.5, 0.5, 0, 0, 0])
    let s1 = RGBPicture(width: 2, height: 1, values: [0.5, 0.5, 0.5, 1, 1, 1])
    let f = NoTruth.flicker(alpha: now, previousAlpha: before, source: s1, previousSource: s0, regions: whole(2, 1))
    #expect(f[0].pixels == 1 && abs(f[0].sum - 0.3) < 1e-12)
    // A source change of exactly 3/255 in one channel still counts as still: both pixels.
    let s2 = RGBPicture(width: 2, height: 1, values: [0.5, 0.5, 0.5 + 3.0 / 255, 0, 0, 0])
    let g = NoTruth.flicker(alpha: now, previousAlpha: before, source: s2, previousSource: s0, regions: whole(2, 1))
    #expect(g[0].pixels == 2 && abs(g[0].sum - 1.3) < 1e-12)
  }

  @Test func edgeAlignmentIsOneAlongPictureEdgesAndZeroAcrossThem() throws {
    // 4×3: alpha steps 0 → 1 between columns 1 and 2.
    let alpha = Matte(width: 4, height: 3, maxValue: 1, codes: [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1])
    // Luma with the same vertical edge: gradients parallel, |cos| = 1 → 1.
    var same: [Double] = []
    for _ in 0..<3 { same += [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1] }
    let along = NoTruth.edgeAlignment(
      alpha: alpha, source: RGBPicture(width: 4, height: 3, values: same), regions: whole(4, 3))
    #expect(abs(along[0].sum / along[0].weight - 1) < 1e-12)
    // Luma with a horizontal edge (row 2 bright): gradients perpendicular or luma flat → 0.
    let across = RGBPicture(
      width: 4, height: 3, values: Array(repeating: 0, count: 24) + Array(repeating: 1, count: 12))
    let a = NoTruth.edgeAlignment(alpha: alpha, source: across, regions: whole(4, 3))
    #expect(a[0].weight > 0 && abs(a[0].sum) < 1e-12)
  }

  @Test func disagreementIsTheMeanAbsoluteDifferenceBetweenArms() {
    // |0 − 0.25| + |0.5 − 0.5| = 0.25 over 2 pixels → 0.125 (×1e3 125).
    let a = Matte(width: 2, height: 1, maxValue: 4, codes: [0, 2])
    let b = Matte(width: 2, height: 1, maxValue: 4, codes: [1, 2])
    let d = NoTruth.disagreement(a, b, regions: whole(2, 1))
    #expect(d[0].pixels == 2 && abs(d[0].sum - 0.25) < 1e-12)
  }
}
