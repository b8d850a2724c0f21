import Testing

@testable import MatteMetrics

/// The block-sparse scorer against the metrics written out pixel by pixel over the whole frame
/// (dense error maps, a flood fill per Conn threshold, square-window morphology): every region,
/// every metric, on frames that span many 16×8 blocks, with sizes that are not multiples of the
/// block, flat areas where prediction equals truth, noise, soft edges and mixed bit depths.
@Suite struct SparseScoringTests {
  /// A truth with flat 0 and max areas, a soft ramp and a semi-transparent plateau; a
  /// prediction equal to it in places, shifted in others, with noise on a patch.
  static func frames(_ w: Int, _ h: Int, pMax: Int, gMax: Int, seed: UInt64) -> (p: Matte, g: Matte) {
    var rng = SplitMix64(seed: seed)
    var g = [Double](repeating: 0, count: w * h)
    var p = g
    for y in 0..<h {
      for x in 0..<w {
        let ramp = min(max((Double(x) - Double(w) * 0.3) / 4, 0), 1)
        let plateau = (y > h / 2 && x > w / 2 && x < w * 3 / 4) ? 0.5 : ramp
        g[y * w + x] = plateau
        var v = min(max((Double(x) - Double(w) * 0.3 - 1) / 4, 0), 1)
        if y > h / 2 && x > w / 2 && x < w * 3 / 4 { v = 0.45 }
        if y < h / 4 && x > w / 2 { v = min(max(v + rng.uniform(-0.2, 0.2), 0), 1) }
        if x < w / 5 { v = g[y * w + x] }  // identical columns
        p[y * w + x] = v
      }
    }
    return (
      Matte(width: w, height: h, maxValue: pMax, values: p), Matte(width: w, height: h, maxValue: gMax, values: g)
    )
  }

  /// Σ over the region of every dense map: the reference totals.
  static func reference(
    p: Matte, g: Matte, regions: RegionMap, previous: (p: Matte, g: Matte, regions: RegionMap)?,
    motion: MotionField? = nil
  ) -> [RegionKind: [MetricKind: Double]] {
    let conn = connMap(p, g, levels: Conn.referenceLevels(p, g))
    let maps: [MetricKind: [Double]] = [
      .sad: ErrorMaps.absoluteDifference(p, g), .mse: ErrorMaps.squaredDifference(p, g), .grad: Grad.errorMap(p, g),
      .conn: conn,
    ]
    var out: [RegionKind: [MetricKind: Double]] = [:]
    for region in RegionKind.allCases {
      for (metric, map) in maps { out[region, default: [:]][metric] = regions.sum(map, over: region).sum }
      if let previous {
        let dt = TemporalMetrics.dtSSDMap(p: p, previousP: previous.p, g: g, previousG: previous.g)
        out[region, default: [:]][.dtssd] = previous.regions.sum(dt, over: region).sum
        if let motion {
          let map = TemporalMetrics.messddtMap(p: p, previousP: previous.p, g: g, previousG: previous.g, motion: motion)
          out[region, default: [:]][.messddt] = previous.regions.sum(map, over: region).sum
        }
      }
    }
    return out
  }

  static let cases: [(w: Int, h: Int, pMax: Int, gMax: Int)] = [
    (37, 21, 255, 65535), (50, 17, 65535, 65535), (16, 8, 255, 255), (3, 40, 1023, 65535), (33, 9, 65535, 255),
    (1, 1, 255, 255),
  ]

  @Test(arguments: cases.indices)
  func sparseScoringEqualsDenseMaps(_ i: Int) {
    let c = Self.cases[i]
    let (p0, g0) = Self.frames(c.w, c.h, pMax: c.pMax, gMax: c.gMax, seed: UInt64(i))
    // Frame t: the scene one pixel to the right, so the motion region and dtSSD have content.
    let (p1raw, g1raw) = Self.frames(c.w + 1, c.h, pMax: c.pMax, gMax: c.gMax, seed: UInt64(i) + 100)
    func crop(_ m: Matte) -> Matte {
      Matte(
        width: c.w, height: c.h, maxValue: m.maxValue,
        codes: (0..<(c.w * c.h)).map { k in m.codes[(k / c.w) * (c.w + 1) + k % c.w + 1] })
    }
    let (p1, g1) = (crop(p1raw), crop(g1raw))
    let truth0 = PreparedTruth(g0)
    let truth1 = PreparedTruth(g1, previous: truth0)
    // Vectors of every kind: fractions, exact halves (rounded away from zero), whole pixels and
    // far past the frame's edges (clamped to it).
    var rng = SplitMix64(seed: UInt64(i) + 7)
    func vector() -> Float {
      switch Int(rng.uniform(0, 4)) {
      case 0: Float(rng.uniform(-3, 3))
      case 1: Float(Int(rng.uniform(-4, 4))) + 0.5
      case 2: Float(Int(rng.uniform(-2, 2)))
      default: rng.uniform(0, 1) < 0.5 ? -1e7 : 3e5
      }
    }
    var dx: [Float] = []
    var dy: [Float] = []
    for _ in 0..<(c.w * c.h) {
      dx.append(vector())
      dy.append(vector())
    }
    let motion = MotionField(width: c.w, height: c.h, dx: dx, dy: dy)
    let got = FrameScorer.score(prediction: p1, truth: truth1, previous: (p0, truth0), motion: motion)
    let want = Self.reference(
      p: p1, g: g1, regions: truth1.regions, previous: (p0, g0, truth0.regions), motion: motion)
    for region in RegionKind.allCases {
      #expect(got.pixels(region) == truth1.regions.support(region))
      #expect(got.pixels(region, .dtssd) == truth0.regions.support(region))
      #expect(got.pixels(region, .messddt) == truth0.regions.support(region))
      for metric in [MetricKind.sad, .mse, .grad, .conn, .dtssd, .messddt] {
        let w = want[region]![metric]!
        let s = got.sum(region, metric)
        #expect(abs(s - w) <= 1e-9 * max(1, abs(w)), "\(c) \(region) \(metric): \(s) vs \(w)")
      }
    }
    #expect(Conn.levels(p1, g1) == Conn.referenceLevels(p1, g1))
  }

  /// Every region's MESSDdt equals the dense map's sum over the previous frame's region (to
  /// 10⁻⁹ relative: the sums are taken in another order), and the frame's is not 0.
  static func expectMESSDdt(_ got: ErrorTotals, equals map: [Double], over regions: RegionMap) {
    for region in RegionKind.allCases {
      let want = regions.sum(map, over: region).sum
      let s = got.sum(region, .messddt)
      #expect(abs(s - want) <= 1e-9 * max(1, abs(want)), "\(region): \(s) vs \(want)")
    }
    #expect(got.sum(.frame, .messddt) > 0)
  }

  /// MESSDdt over the blocks `FrameScorer.motionBlocks` keeps equals the dense map's sum, on
  /// 320×64 frames equal to their truth outside a 40×24 patch that moves 20 pixels (so most
  /// blocks are left out), horizontal vectors up to 20 pixels (several blocks) and vertical ones
  /// up to 2.5, halves included, and one block's vectors far past the frame.
  @Test(arguments: [false, true])
  func messddtOverTheKeptBlocksEqualsTheDenseMap(_ farVectors: Bool) {
    let (w, h) = (320, 64)
    var rng = SplitMix64(seed: farVectors ? 5 : 4)
    func frame(_ shift: Int) -> (p: Matte, g: Matte) {
      var g = [Double](repeating: 0, count: w * h)
      var p = g
      for y in 0..<h {
        for x in 0..<w {
          g[y * w + x] = min(max(Double(x - 60 - shift) / 8, 0), 1)
          p[y * w + x] = g[y * w + x]
          if (50 + shift..<90 + shift).contains(x) && (20..<44).contains(y) {
            p[y * w + x] = min(max(g[y * w + x] + rng.uniform(-0.3, 0.3), 0), 1)
          }
        }
      }
      return (
        Matte(width: w, height: h, maxValue: 65535, values: p), Matte(width: w, height: h, maxValue: 255, values: g)
      )
    }
    let (p0, g0) = frame(0)
    let (p1, g1) = frame(20)
    var dx = (0..<(w * h)).map { _ in Float((rng.uniform(-40, 40)).rounded()) / 2 }
    let dy = (0..<(w * h)).map { _ in Float(rng.uniform(-2.5, 2.5)) }
    if farVectors { for x in 0..<16 { dx[8 * w + x] = 1e6 } }  // block (0, 1)
    let motion = MotionField(width: w, height: h, dx: dx, dy: dy)
    let truth0 = PreparedTruth(g0)
    let truth1 = PreparedTruth(g1, previous: truth0)
    let grid = BlockGrid(p1, comparedWith: g1)
    let kept = FrameScorer.motionBlocks(
      grid: grid, differs: grid.differing, before: BlockGrid(p0, comparedWith: g0).differing,
      boxes: motion.blockBoxes)
    #expect(kept.count < grid.count / 2, "\(kept.count) of \(grid.count) blocks kept")
    #expect(kept.contains(Int32(8 / BlockGrid.blockHeight * grid.columns)) == farVectors)
    let got = FrameScorer.score(prediction: p1, truth: truth1, previous: (p0, truth0), motion: motion)
    let map = TemporalMetrics.messddtMap(p: p1, previousP: p0, g: g1, previousG: g0, motion: motion)
    Self.expectMESSDdt(got, equals: map, over: truth0.regions)
  }

  /// Where only frame t − 1 differs from its truth (frame t equals its own, no motion), every
  /// term is |E′(x)|: the blocks that differed before are kept whatever lies near them, and the
  /// sum equals the dense map's (and is not 0).
  @Test func messddtCountsWhereOnlyTheFrameBeforeDiffers() {
    let (w, h) = (96, 40)
    var rng = SplitMix64(seed: 9)
    let g = Matte(
      width: w, height: h, maxValue: 65535, values: (0..<(w * h)).map { min(max(Double($0 % w - 40) / 10, 0), 1) })
    var before = g.codes
    for y in 10..<20 {
      for x in 30..<50 { before[y * w + x] = UInt16(rng.uniform(0, 65535)) }
    }
    let p0 = Matte(width: w, height: h, maxValue: 65535, codes: before)
    let zero = MotionField.zero(width: w, height: h)
    let truth0 = PreparedTruth(g)
    let truth1 = PreparedTruth(g, previous: truth0)
    let got = FrameScorer.score(prediction: g, truth: truth1, previous: (p0, truth0), motion: zero)
    let map = TemporalMetrics.messddtMap(p: g, previousP: p0, g: g, previousG: g, motion: zero)
    Self.expectMESSDdt(got, equals: map, over: truth0.regions)
  }

  /// Codes above their maximum (values past 1, which no decoder delivers but a matte may hold)
  /// reach every threshold, as the flood fill's integer tests say, at maxima of 255, 1023 and
  /// 65535: the q tables cover every 16-bit code.
  @Test func connLevelsOfCodesAboveTheirMaximum() {
    var rng = SplitMix64(seed: 12)
    let (w, h) = (40, 24)
    for (pm, gm) in [(255, 1023), (1023, 255), (65535, 255)] {
      let p = Matte(
        width: w, height: h, maxValue: pm, codes: (0..<(w * h)).map { _ in UInt16(rng.uniform(0, 65536)) })
      let g = Matte(
        width: w, height: h, maxValue: gm,
        codes: (0..<(w * h)).map { _ in UInt16(rng.uniform(0, Double(min(4 * gm, 65535)))) })
      #expect(p.codes.contains { Int($0) > pm } || g.codes.contains { Int($0) > gm })
      #expect(Conn.levels(p, g) == Conn.referenceLevels(p, g), "maxima \(pm), \(gm)")
    }
  }

  /// |φ(g) − φ(p)| per pixel with the given levels.
  static func connMap(_ p: Matte, _ g: Matte, levels: [UInt8]) -> [Double] {
    (0..<p.pixelCount).map { k in
      abs(
        Conn.phi(code: Int(g.codes[k]), maxValue: g.maxValue, level: Int(levels[k]))
          - Conn.phi(code: Int(p.codes[k]), maxValue: p.maxValue, level: Int(levels[k])))
    }
  }

  /// Scoring counts q = 10 as 9 for Conn when no code is above its maximum. A truth at its
  /// maximum inside a rectangle, a prediction there alternating between its maximum and 240/255
  /// (q = 10 and 9, so {q ≥ 10} is many small pieces), with a patch at 0.78 and a soft border:
  /// the folded levels differ from the flood fill's only where both codes are at their maximum,
  /// and the Conn totals equal the flood fill's in every region. With codes above the maximum
  /// the fold would change the total, and scoring does not fold (and Grad, whose table of
  /// normalised codes once stopped at the maximum, reads those codes right).
  @Test func connWithLevelTenFoldedEqualsTheFloodFill() {
    var rng = SplitMix64(seed: 31)
    let (w, h) = (64, 40)
    var gc = [UInt16](repeating: 0, count: w * h)
    var pc = [UInt16](repeating: 0, count: w * h)
    for y in 0..<h {
      for x in 0..<w {
        let inside = x >= 8 && x < 56 && y >= 6 && y < 34
        let border = !inside && x >= 6 && x < 58 && y >= 4 && y < 36
        gc[y * w + x] = inside ? 65535 : border ? 30000 : 0
        pc[y * w + x] =
          inside
          ? (x >= 20 && x < 28 && y >= 12 && y < 20 ? 200 : rng.uniform(0, 1) < 0.5 ? 255 : 240)
          : border ? UInt16(rng.uniform(60, 200)) : 0
      }
    }
    let p = Matte(width: w, height: h, maxValue: 255, codes: pc)
    let g = Matte(width: w, height: h, maxValue: 65535, codes: gc)
    let (pGrid, gGrid) = (BlockGrid(p), BlockGrid(g))
    let foldable = SegmentLevels.levelTenIsUnused(p, g, pGrid: pGrid, gGrid: gGrid)
    #expect(foldable)
    let reference = Conn.referenceLevels(p, g)
    let folded = SegmentLevels(p, g, pGrid: pGrid, gGrid: gGrid, foldTen: true).levelMap()
    let atMaximum = (0..<(w * h)).filter { pc[$0] == 255 && gc[$0] == 65535 }
    #expect(atMaximum.contains { folded[$0] != reference[$0] }, "the fold changes some level at q = 10")
    #expect((0..<(w * h)).allSatisfy { folded[$0] == reference[$0] || atMaximum.contains($0) })
    let truth = PreparedTruth(g)
    let got = FrameScorer.score(prediction: p, truth: truth)
    let want = Self.reference(p: p, g: g, regions: truth.regions, previous: nil)
    for region in RegionKind.allCases {
      let (s, r) = (got.sum(region, .conn), want[region]![.conn]!)
      #expect(abs(s - r) <= 1e-9 * max(1, abs(r)), "\(region): \(s) vs \(r)")
    }
    #expect(got.sum(.frame, .conn) > 0)

    // Codes past the maximum where the truth is at its own: q = 10 with values that differ.
    var past = pc
    for k in atMaximum where k % 3 == 0 { past[k] = 300 }
    let q = Matte(width: w, height: h, maxValue: 255, codes: past)
    let qGrid = BlockGrid(q)
    let pastFoldable = SegmentLevels.levelTenIsUnused(q, g, pGrid: qGrid, gGrid: gGrid)
    #expect(!pastFoldable)
    let pastReference = Conn.referenceLevels(q, g)
    let pastFolded = SegmentLevels(q, g, pGrid: qGrid, gGrid: gGrid, foldTen: true).levelMap()
    #expect(
      Self.connMap(q, g, levels: pastFolded).reduce(0, +) != Self.connMap(q, g, levels: pastReference).reduce(0, +),
      "folding would be wrong here")
    let pastGot = FrameScorer.score(prediction: q, truth: truth)
    let pastWant = Self.reference(p: q, g: g, regions: truth.regions, previous: nil)
    // Grad too: its look-up table of normalised codes must reach the codes past the maximum.
    for region in RegionKind.allCases {
      for metric in [MetricKind.conn, .grad] {
        let (s, r) = (pastGot.sum(region, metric), pastWant[region]![metric]!)
        #expect(abs(s - r) <= 1e-9 * max(1, abs(r)), "past the maximum, \(region) \(metric): \(s) vs \(r)")
      }
    }
  }

  /// A truth whose codes lie above its maximum (values past 1) is neither soft nor glass there:
  /// an 8-bit truth of 1000s has no transition region; one soft code among them has some.
  @Test func regionsOfCodesAboveTheirMaximum() {
    let (w, h) = (32, 16)
    var codes = [UInt16](repeating: 1000, count: w * h)
    let past = PreparedTruth(Matte(width: w, height: h, maxValue: 255, codes: codes))
    #expect(past.regions.support(.transition) == 0 && past.regions.support(.glass) == 0)
    codes[8 * w + 16] = 128
    let soft = PreparedTruth(Matte(width: w, height: h, maxValue: 255, codes: codes))
    #expect(soft.regions.support(.transition) > 0)
  }

  /// The largest component changes hands as the threshold falls. First: A (6×6 at q = 9) is
  /// largest down to 6, B (12×12 at q = 5) overtakes it at 5, and a q = 2 bridge joins them at
  /// 2, so A's pixels are outside at 5, 4 and 3 (l′ = 2), B's keep 5, the bridge's 2, and C
  /// (4×4 at q = 7, never joined) takes 0. Second: B (8×8 at q = 6) overtakes A at 6, and A's
  /// q = 3 ring (A grows to 10×10) takes it back at 3: A's core l′ = 3, the ring's 3, B's 0.
  /// By hand, and equal to the flood fill.
  @Test func connLevelsWhenTheLargestComponentChangesHands() {
    let (w, h) = (40, 24)
    func matte(_ squares: [(x: Int, y: Int, side: Int, code: UInt16)]) -> Matte {
      var codes = [UInt16](repeating: 0, count: w * h)
      for s in squares {
        for y in s.y..<(s.y + s.side) { for x in s.x..<(s.x + s.side) { codes[y * w + x] = s.code } }
      }
      return Matte(width: w, height: h, maxValue: 255, codes: codes)
    }
    // Codes 235, 130, 60, 180, 160 and 80 of 255: q = 9, 5, 2, 7, 6 and 3.
    let first = matte([(2, 2, 6, 235), (20, 4, 12, 130), (2, 16, 4, 180)])
    var bridge = first.codes
    for x in 8..<20 { bridge[4 * w + x] = 60 }
    let one = Matte(width: w, height: h, maxValue: 255, codes: bridge)
    let levels = Conn.levels(one, one)
    #expect(levels == Conn.referenceLevels(one, one))
    #expect(levels[3 * w + 3] == 2 && levels[10 * w + 25] == 5 && levels[4 * w + 12] == 2 && levels[17 * w + 3] == 0)
    let second = matte([(2, 2, 10, 80), (4, 4, 6, 235), (24, 4, 8, 160)])
    let levels2 = Conn.levels(second, second)
    #expect(levels2 == Conn.referenceLevels(second, second))
    #expect(levels2[6 * w + 6] == 3 && levels2[2 * w + 2] == 3 && levels2[6 * w + 26] == 0)
  }

  /// Blocks whose codes vary but whose q does not (an 8-bit output's 250…254 against a truth at
  /// its maximum, and ±2 around 0) are taken whole by the row segments; blocks where either
  /// matte crosses a tenth (codes 25 and 26 of 255: q = 0 and 1) go pixel by pixel. Equal to the
  /// flood fill either way, whichever matte crosses.
  @Test func connLevelsOfBlocksWithinOneTenth() {
    var rng = SplitMix64(seed: 41)
    let (w, h) = (64, 32)
    for crossing in ["none", "truth", "prediction"] {
      var pc = [UInt16](repeating: 0, count: w * h)
      var gc = [UInt16](repeating: 0, count: w * h)
      for y in 0..<h {
        for x in 0..<w {
          let k = y * w + x
          if x >= 8 && x < 56 && y >= 4 && y < 28 {
            gc[k] = 255
            pc[k] = UInt16(rng.uniform(250, 255))
            // A band of crossing codes through the middle, in one matte or the other.
            if y >= 12 && y < 20 && x >= 16 && x < 48 {
              let code = UInt16(rng.uniform(0, 1) < 0.5 ? 25 : 26)
              if crossing == "truth" { gc[k] = code }
              if crossing == "prediction" { pc[k] = code }
            }
          } else {
            pc[k] = UInt16(rng.uniform(0, 3))
          }
        }
      }
      let p = Matte(width: w, height: h, maxValue: 255, codes: pc)
      let g = Matte(width: w, height: h, maxValue: 255, codes: gc)
      let levels = Conn.levels(p, g)
      #expect(levels == Conn.referenceLevels(p, g), "crossing: \(crossing)")
      if crossing != "none" {
        #expect(Set((16..<48).map { levels[15 * w + $0] }).count > 1, "the band holds more than one level")
      }
    }
  }

  /// Many blobs of random sizes and levels, so that the largest changes hands often.
  @Test func connLevelsEqualTheFloodFillOnRandomBlobs() {
    var rng = SplitMix64(seed: 77)
    let (w, h) = (48, 32)
    for round in 0..<40 {
      var codes = [UInt16](repeating: 0, count: w * h)
      for _ in 0..<Int(rng.uniform(3, 14)) {
        let (bw, bh) = (Int(rng.uniform(1, 14)), Int(rng.uniform(1, 10)))
        let (x0, y0) = (Int(rng.uniform(0, Double(w - bw))), Int(rng.uniform(0, Double(h - bh))))
        let code = UInt16(rng.uniform(1, 256))
        for y in y0..<(y0 + bh) { for x in x0..<(x0 + bw) { codes[y * w + x] = code } }
      }
      let g = Matte(width: w, height: h, maxValue: 255, codes: codes)
      let p = Matte(
        width: w, height: h, maxValue: 255,
        codes: codes.map { c in rng.uniform(0, 1) < 0.1 ? UInt16(rng.uniform(0, 256)) : c })
      #expect(Conn.levels(p, g) == Conn.referenceLevels(p, g), "round \(round)")
    }
  }

  @Test func connLevelsEqualTheFloodFillOnRandomMattes() {
    var rng = SplitMix64(seed: 5)
    for (w, h) in [(40, 24), (17, 33), (64, 8)] {
      for density in [0.2, 0.6, 0.95] {
        // Random levels, clustered so components of every size appear.
        let g = Matte(
          width: w, height: h, maxValue: 255,
          codes: (0..<(w * h)).map { _ in rng.uniform(0, 1) < density ? UInt16(rng.uniform(0, 256)) : 0 })
        let p = Matte(
          width: w, height: h, maxValue: 65535,
          codes: g.codes.map { c in UInt16(min(max(Double(c) * 257 + rng.uniform(-9000, 9000), 0), 65535)) })
        #expect(Conn.levels(p, g) == Conn.referenceLevels(p, g), "\(w)x\(h) density \(density)")
      }
    }
    // One matte constant over whole 16×8 blocks (every other block column) where the other
    // varies: such a block is not flat for the segments, whichever of the two is constant.
    for (w, h) in [(48, 24), (37, 19)] {
      let varying = (0..<(w * h)).map { _ in UInt16(rng.uniform(0, 65536)) }
      let blocky = varying.indices.map { k in (k % w / 16) % 2 == 0 ? UInt16(30000) : varying[k] }
      for (pc, gc) in [(blocky, varying), (varying, blocky)] {
        let p = Matte(width: w, height: h, maxValue: 65535, codes: pc)
        let g = Matte(width: w, height: h, maxValue: 65535, codes: gc)
        #expect(Conn.levels(p, g) == Conn.referenceLevels(p, g), "\(w)x\(h), constant blocks")
      }
    }
  }

  /// The regions from byte planes against the definitions of docs/metrics.md written with
  /// square-window morphology on Bool masks.
  @Test func regionsEqualTheirDefinitions() {
    let d = RegionDeriver()
    var (glassSeen, hairSeen) = (0, 0)
    for (i, c) in (Self.cases + Self.cases).enumerated() {
      let (_, g0) = Self.frames(c.w, c.h, pMax: c.pMax, gMax: c.gMax, seed: UInt64(i))
      let (_, g1) = Self.frames(c.w, c.h, pMax: c.pMax, gMax: c.gMax, seed: UInt64(i) + 7)
      // The first pass keeps the frames' flat plateau (glass); the second breaks every third
      // code (thin soft structure everywhere).
      let g = Matte(
        width: c.w, height: c.h, maxValue: g1.maxValue,
        codes: g1.codes.enumerated().map { k, v in i >= Self.cases.count && k % 3 == 0 ? v / 2 : v })
      let got = d.regions(truth: g, previousTruth: g0, hairMask: nil, glassMask: nil)
      let (w, h, n) = (c.w, c.h, c.w * c.h)
      let m = Double(g.maxValue)
      let soft = g.codes.map { $0 > 0 && Int($0) < g.maxValue }
      // Flat plateau: ε < g < 1 − ε and the 5×5 window's range of g (in-frame part) within 10%.
      let flat = (0..<n).map { k -> Bool in
        let v = Double(g.codes[k])
        guard v > 0.05 * m && v < 0.95 * m else { return false }
        let (x, y) = (k % w, k / w)
        var lo = Int.max
        var hi = Int.min
        for yy in max(y - 2, 0)...min(y + 2, h - 1) {
          for xx in max(x - 2, 0)...min(x + 2, w - 1) {
            lo = min(lo, Int(g.codes[yy * w + xx]))
            hi = max(hi, Int(g.codes[yy * w + xx]))
          }
        }
        return Double(hi - lo) <= (0.1 * m).rounded(.down)
      }
      let core = Morphology.erode(flat, width: w, height: h, radius: 2)
      let grown = Morphology.dilate(core, width: w, height: h, radius: 5)
      let glass = (0..<n).map { grown[$0] && g.codes[$0] > 0 }
      let opened = Morphology.open(soft, width: w, height: h, radius: 1)
      let seeds = (0..<n).map { soft[$0] && !opened[$0] && !glass[$0] }
      let hair = zip(Morphology.dilate(seeds, width: w, height: h, radius: 1), glass).map { $0 && !$1 }
      let transition = Morphology.dilate(soft, width: w, height: h, radius: d.transitionRadius)
      let changed = (0..<n).map { Int(g.codes[$0]) * g0.maxValue != Int(g0.codes[$0]) * g.maxValue }
      let motion = Morphology.dilate(changed, width: w, height: h, radius: d.motionRadius)
      for k in 0..<n {
        #expect(got.contains(.frame, at: k))
        #expect(got.contains(.transition, at: k) == transition[k])
        #expect(got.contains(.glass, at: k) == glass[k])
        #expect(got.contains(.hair, at: k) == hair[k])
        #expect(got.contains(.motion, at: k) == motion[k])
      }
      #expect(got.supports() == RegionKind.allCases.map { got.support($0) })
      glassSeen += glass.filter { $0 }.count
      hairSeen += hair.filter { $0 }.count
    }
    #expect(glassSeen > 0 && hairSeen > 0, "the cases must exercise both rules")
  }

  /// With its own hair and glass masks a clip's regions are: frame everywhere, transition and
  /// motion by the derived rules (as without masks), glass exactly the glass mask, hair exactly
  /// the hair mask less glass; with an own motion mask too, motion is that mask.
  @Test func ownHairAndGlassMasksLeaveTransitionAndMotionDerived() {
    var rng = SplitMix64(seed: 13)
    var seen = (transition: 0, motion: 0)
    for (i, c) in (Self.cases + Self.cases).enumerated() {
      let (_, g0) = Self.frames(c.w, c.h, pMax: c.pMax, gMax: c.gMax, seed: UInt64(i))
      let (_, f1) = Self.frames(c.w, c.h, pMax: c.pMax, gMax: c.gMax, seed: UInt64(i) + 5)
      // Every third code halved: the frame changes since frame 0 (a motion region).
      let g1 = Matte(
        width: c.w, height: c.h, maxValue: f1.maxValue, codes: f1.codes.enumerated().map { $0 % 3 == 0 ? $1 / 2 : $1 })
      let codes = (0..<(c.w * c.h)).map { _ in UInt16([0, 64, 128, 192, 32, 96][Int(rng.uniform(0, 6))]) }
      let before = PreparedTruth(g0)
      // The second pass has no frame before it: no motion region at all.
      let previous = i < Self.cases.count ? before : nil
      let derived = PreparedTruth(g1, previous: previous)
      for ownMotion in [UInt16(0), 32] {
        let viaCodes = PreparedTruth(
          g1, previous: previous, maskCodes: codes, hair: 64, glass: 128, motion: ownMotion)
        var masks: [RegionKind: [Bool]] = [.hair: codes.map { $0 & 64 != 0 }, .glass: codes.map { $0 & 128 != 0 }]
        if ownMotion != 0 { masks[.motion] = codes.map { $0 & 32 != 0 } }
        let viaBools = PreparedTruth(g1, previous: previous, masks: masks)
        // Supports counted in one pass over the bits, against each region's own count.
        #expect(viaCodes.support == RegionKind.allCases.map { viaCodes.regions.support($0) })
        for got in [viaCodes.regions, viaBools.regions] {
          for k in 0..<(c.w * c.h) {
            #expect(got.contains(.frame, at: k))
            #expect(got.contains(.transition, at: k) == derived.regions.contains(.transition, at: k), "\(c) \(k)")
            let motion = ownMotion != 0 ? codes[k] & 32 != 0 : derived.regions.contains(.motion, at: k)
            #expect(got.contains(.motion, at: k) == motion, "\(c) \(k)")
            #expect(got.contains(.glass, at: k) == (codes[k] & 128 != 0))
            #expect(got.contains(.hair, at: k) == (codes[k] & 64 != 0 && codes[k] & 128 == 0))
          }
        }
      }
      seen.transition += derived.regions.support(.transition)
      seen.motion += derived.regions.support(.motion)
    }
    #expect(seen.transition > 0 && seen.motion > 0, "the cases must have derived transition and motion")
  }

  /// Own masks carried as bits of one code plane give the same regions as the same masks
  /// passed as `[Bool]`.
  @Test func maskCodesGiveTheRegionsOfBoolMasks() {
    var rng = SplitMix64(seed: 11)
    for (i, c) in Self.cases.enumerated() {
      let (_, g0) = Self.frames(c.w, c.h, pMax: c.pMax, gMax: c.gMax, seed: UInt64(i))
      let (_, g1) = Self.frames(c.w, c.h, pMax: c.pMax, gMax: c.gMax, seed: UInt64(i) + 3)
      // Codes with the hair bit (64), the glass bit (128), both, neither, and an unrelated bit.
      let codes = (0..<(c.w * c.h)).map { _ in UInt16([0, 64, 128, 192, 32, 96][Int(rng.uniform(0, 6))]) }
      let before = PreparedTruth(g0)
      let viaCodes = PreparedTruth(g1, previous: before, maskCodes: codes, hair: 64, glass: 128)
      let viaBools = PreparedTruth(
        g1, previous: before, masks: [.hair: codes.map { $0 & 64 != 0 }, .glass: codes.map { $0 & 128 != 0 }])
      #expect(viaCodes.regions == viaBools.regions, "\(c)")
      #expect(viaCodes.support == viaBools.support, "\(c)")
      // Hair never overlaps glass: code 192 (both bits) counts as glass only.
      #expect(viaCodes.regions.support(.hair) == codes.filter { $0 & 64 != 0 && $0 & 128 == 0 }.count)
      #expect(viaCodes.regions.support(.glass) == codes.filter { $0 & 128 != 0 }.count)
      // Any subset of own regions (a code of 0: derived), motion included.
      for (hair, glass, motion) in [(UInt16(64), UInt16(0), UInt16(0)), (0, 128, 0), (0, 0, 32), (64, 0, 32)] {
        let partial = PreparedTruth(g1, previous: before, maskCodes: codes, hair: hair, glass: glass, motion: motion)
        var masks: [RegionKind: [Bool]] = [:]
        if hair != 0 { masks[.hair] = codes.map { $0 & hair != 0 } }
        if glass != 0 { masks[.glass] = codes.map { $0 & glass != 0 } }
        if motion != 0 { masks[.motion] = codes.map { $0 & motion != 0 } }
        let bools = PreparedTruth(g1, previous: before, masks: masks)
        #expect(partial.regions == bools.regions, "\(c) own \(hair) \(glass) \(motion)")
        if motion != 0 { #expect(partial.regions.support(.motion) == codes.filter { $0 & 32 != 0 }.count) }
        if glass == 0 {
          // Derived glass is the derived rule's, unchanged by an own hair or motion mask.
          let derived = PreparedTruth(g1, previous: before)
          for k in 0..<(c.w * c.h) {
            #expect(partial.regions.contains(.glass, at: k) == derived.regions.contains(.glass, at: k))
          }
        }
      }
    }
  }

  /// Passing the previous frame's differing blocks back changes nothing in the totals.
  @Test func keptBlocksGiveTheSameTotals() {
    for (i, c) in Self.cases.enumerated() {
      let (p0, g0) = Self.frames(c.w, c.h, pMax: c.pMax, gMax: c.gMax, seed: UInt64(i))
      let (p1, g1) = Self.frames(c.w, c.h, pMax: c.pMax, gMax: c.gMax, seed: UInt64(i) + 50)
      let truth0 = PreparedTruth(g0)
      let truth1 = PreparedTruth(g1, previous: truth0)
      let first = FrameScorer.scoreKeepingBlocks(prediction: p0, truth: truth0)
      let kept = FrameScorer.scoreKeepingBlocks(
        prediction: p1, truth: truth1, previous: (p0, truth0), previousBlocks: first.blocks)
      let fresh = FrameScorer.score(prediction: p1, truth: truth1, previous: (p0, truth0))
      #expect(first.totals == FrameScorer.score(prediction: p0, truth: truth0))
      #expect(kept.totals == fresh, "\(c)")
      if i == 0 { #expect(kept.totals.sum(.frame, .dtssd) > 0, "the first case has temporal error to find") }
    }
  }
}
