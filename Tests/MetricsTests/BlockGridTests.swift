import Testing

@testable import MatteMetrics

/// `BlockGrid`'s differing-block flags against the definition checked pixel by pixel on
/// integers (p·gMax ≠ g·pMax), for equal depths, depths where one maximum divides the other
/// (the 16-bit lanes path) and depths where neither does, with codes above their maximum.
@Suite struct BlockGridTests {
  static func brute(_ p: Matte, _ g: Matte, columns: Int, rows: Int) -> [Bool] {
    var flags = [Bool](repeating: false, count: columns * rows)
    for y in 0..<p.height {
      for x in 0..<p.width {
        let k = y * p.width + x
        if Int(p.codes[k]) * g.maxValue != Int(g.codes[k]) * p.maxValue {
          flags[(y / BlockGrid.blockHeight) * columns + x / BlockGrid.blockWidth] = true
        }
      }
    }
    return flags
  }

  /// Each 4×4 cell's and 16×8 block's lowest and highest code against a walk over its pixels,
  /// at sizes with whole blocks only, a narrower last block and cell, a last band of one to
  /// three rows, and a frame narrower than one block; flat stretches and single outliers.
  @Test(arguments: [(64, 32), (53, 29), (7, 3), (35, 10), (16, 9)])
  func lowestAndHighestFollowTheDefinition(_ size: (Int, Int)) {
    let (w, h) = size
    var rng = SplitMix64(seed: UInt64(w * 100 + h))
    var codes = [UInt16](repeating: 0, count: w * h)
    for k in 0..<(w * h) {
      let u = rng.uniform(0, 1)
      codes[k] = u < 0.5 ? 40000 : u < 0.99 ? UInt16(rng.uniform(0, 65535)) : (u < 0.995 ? 0 : 65535)
    }
    let grid = BlockGrid(Matte(width: w, height: h, maxValue: 65535, codes: codes))
    func extremes(_ xs: Range<Int>, _ ys: Range<Int>) -> (UInt16, UInt16) {
      var (l, u) = (UInt16.max, UInt16.min)
      for y in ys {
        for x in xs {
          l = min(l, codes[y * w + x])
          u = max(u, codes[y * w + x])
        }
      }
      return (l, u)
    }
    #expect(grid.cellColumns == (w + 3) / 4 && grid.cellRows == (h + 3) / 4)
    for cy in 0..<grid.cellRows {
      for cx in 0..<grid.cellColumns {
        let (l, u) = extremes((4 * cx)..<min(4 * cx + 4, w), (4 * cy)..<min(4 * cy + 4, h))
        let i = cy * grid.cellColumns + cx
        #expect(grid.cellLow[i] == l && grid.cellHigh[i] == u, "cell \(cx),\(cy)")
      }
    }
    for by in 0..<grid.rows {
      for bx in 0..<grid.columns {
        let (l, u) = extremes(grid.xRange(ofColumn: bx), grid.yRange(ofRow: by))
        let b = by * grid.columns + bx
        #expect(grid.low[b] == l && grid.high[b] == u, "block \(bx),\(by)")
      }
    }
  }

  /// A block's gradient can be non-zero exactly when the codes of the block grown by 4 pixels
  /// (the 9×9 kernel's reach; clipped to the frame) are not all equal: against that walk, on
  /// flat frames with single pixels changed anywhere (inside a block, or only in the ring
  /// around one), at sizes with narrow last blocks.
  @Test(arguments: [(64, 32), (53, 29), (7, 3), (37, 19)])
  func gradientActiveBlocksFollowTheDefinition(_ size: (Int, Int)) {
    let (w, h) = size
    var rng = SplitMix64(seed: UInt64(w * 31 + h))
    for trial in 0..<20 {
      var codes = [UInt16](repeating: trial % 2 == 0 ? 0 : 65535, count: w * h)
      for _ in 0..<(1 + trial / 4) { codes[Int(rng.uniform(0, Double(w * h)))] = 20000 }
      let grid = BlockGrid(Matte(width: w, height: h, maxValue: 65535, codes: codes))
      let active = grid.gradientActive()
      for by in 0..<grid.rows {
        for bx in 0..<grid.columns {
          let xs = grid.xRange(ofColumn: bx)
          let ys = grid.yRange(ofRow: by)
          var seen = Set<UInt16>()
          for y in max(ys.lowerBound - 4, 0)..<min(ys.upperBound + 4, h) {
            for x in max(xs.lowerBound - 4, 0)..<min(xs.upperBound + 4, w) { seen.insert(codes[y * w + x]) }
          }
          #expect(active[by * grid.columns + bx] == (seen.count > 1), "block \(bx),\(by), trial \(trial)")
        }
      }
    }
  }

  @Test(arguments: [(255, 65535), (65535, 255), (255, 255), (1023, 65535), (65535, 1023), (100, 300)])
  func differingBlocksFollowTheDefinition(_ depths: (Int, Int)) {
    let (pm, gm) = depths
    let (w, h) = (53, 29)
    var rng = SplitMix64(seed: UInt64(pm * 7 + gm))
    var p = [UInt16](repeating: 0, count: w * h)
    var g = p
    for k in 0..<(w * h) {
      // Most blocks equal in value (g = p·gm/pm where that is an integer), some pixels not.
      let v = Int(rng.uniform(0, 1) * Double(pm))
      p[k] = UInt16(v)
      g[k] = (v * gm) % pm == 0 ? UInt16(v * gm / pm) : UInt16(min(gm, v * gm / pm))
      let u = rng.uniform(0, 1)
      if u < 0.004 { g[k] = UInt16((Int(g[k]) + 1) % (gm + 1)) }
      // A code above its maximum: its value exceeds 1, so it differs from any truth code.
      if u > 0.998 { p[k] = UInt16(min(pm + 1 + Int(rng.uniform(0, 300)), 65535)) }
    }
    // Whole block rows with no difference at all.
    for k in (16 * w)..<(24 * w) {
      p[k] = 0
      g[k] = 0
    }
    // In an otherwise equal block: a code above its maximum whose product with gMax/pMax wraps
    // past 16 bits onto the truth's code (256·257 = 65792 = 65536 + 256 for 8 against 16 bits).
    if gm % pm == 0 && gm != pm {
      let above = 65535 / (gm / pm) + 1
      p[18 * w + 5] = UInt16(above)
      g[18 * w + 5] = UInt16((above * (gm / pm)) & 0xFFFF)
    }
    let pMatte = Matte(width: w, height: h, maxValue: pm, codes: p)
    let gMatte = Matte(width: w, height: h, maxValue: gm, codes: g)
    let grid = BlockGrid(gMatte)
    let want = Self.brute(pMatte, gMatte, columns: grid.columns, rows: grid.rows)
    #expect(want.contains(true) && want.contains(false))
    #expect(BlockGrid(pMatte, comparedWith: gMatte).differing == want)
    #expect(BlockGrid.differing(pMatte, gMatte) == want)
  }
}
