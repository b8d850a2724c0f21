/// Whole-frame values of single metrics on the raw scale (SAD, Grad, Conn as sums; MSE as a
/// mean; dtSSD as √mean), through the same kernels as `FrameScorer`, for callers and benchmarks
/// that need one metric alone.
public enum WholeFrame {
  /// Σ |p − g| over pixels that differ.
  public static func sad(_ p: Matte, _ g: Matte) -> Double {
    sum(p, g) { d in abs(d) }
  }

  /// mean (p − g)².
  public static func mse(_ p: Matte, _ g: Matte) -> Double {
    sum(p, g) { d in d * d } / Double(p.pixelCount)
  }

  /// Σ (|∇p̂| − |∇ĝ|)².
  public static func grad(_ p: Matte, _ g: Matte) -> Double {
    ErrorMaps.checkSameSize(p, g)
    let pg = BlockGrid(p)
    let gg = BlockGrid(g)
    let mp = SparseMagnitude(p, grid: pg)
    let mg = SparseMagnitude(g, grid: gg)
    var total = 0.0
    for b in 0..<pg.count where mp.offsets[b] >= 0 || mg.offsets[b] >= 0 {
      for y in pg.yRange(ofRow: b / pg.columns) {
        for x in pg.xRange(ofColumn: b % pg.columns) {
          let e = mp.value(block: b, x: x, y: y) - mg.value(block: b, x: x, y: y)
          total += e * e
        }
      }
    }
    return total
  }

  /// Σ |φ(g) − φ(p)|.
  public static func conn(_ p: Matte, _ g: Matte) -> Double {
    ErrorMaps.checkSameSize(p, g)
    let gg = BlockGrid(g)
    // p's grid, with the blocks where p and g differ found in the same pass.
    let pg = BlockGrid(p, comparedWith: g)
    let levels = SegmentLevels(p, g, pGrid: pg, gGrid: gg).levelMap()
    let differs = pg.differing
    var total = 0.0
    for b in 0..<gg.count where differs[b] {
      for y in gg.yRange(ofRow: b / gg.columns) {
        for x in gg.xRange(ofColumn: b % gg.columns) {
          let k = y * p.width + x
          let l = Int(levels[k])
          total += abs(
            Conn.phi(code: Int(g.codes[k]), maxValue: g.maxValue, level: l)
              - Conn.phi(code: Int(p.codes[k]), maxValue: p.maxValue, level: l))
        }
      }
    }
    return total
  }

  /// √(Σ ((p_t − p_{t−1}) − (g_t − g_{t−1}))² / N).
  public static func dtssd(p: Matte, previousP: Matte, g: Matte, previousG: Matte) -> Double {
    ErrorMaps.checkSameSize(p, g)
    ErrorMaps.checkSameSize(previousP, previousG)
    ErrorMaps.checkSameSize(p, previousP)
    let grid = BlockGrid(p, comparedWith: g)
    let now = grid.differing
    let before = BlockGrid.differing(previousP, previousG)
    let (ip, ipp, ig, igp) = (
      1 / Double(p.maxValue), 1 / Double(previousP.maxValue), 1 / Double(g.maxValue), 1 / Double(previousG.maxValue)
    )
    var total = 0.0
    for b in 0..<grid.count where now[b] || before[b] {
      for y in grid.yRange(ofRow: b / grid.columns) {
        for x in grid.xRange(ofColumn: b % grid.columns) {
          let k = y * p.width + x
          let d =
            (Double(p.codes[k]) * ip - Double(previousP.codes[k]) * ipp)
            - (Double(g.codes[k]) * ig - Double(previousG.codes[k]) * igp)
          total += d * d
        }
      }
    }
    return (total / Double(p.pixelCount)).squareRoot()
  }

  /// Σ f(p − g) over the pixels whose values differ (f(0) = 0 for the metrics above).
  private static func sum(_ p: Matte, _ g: Matte, _ f: (Double) -> Double) -> Double {
    ErrorMaps.checkSameSize(p, g)
    let grid = BlockGrid(p, comparedWith: g)
    let differs = grid.differing
    let (ip, ig) = (1 / Double(p.maxValue), 1 / Double(g.maxValue))
    var total = 0.0
    for b in 0..<grid.count where differs[b] {
      for y in grid.yRange(ofRow: b / grid.columns) {
        for x in grid.xRange(ofColumn: b % grid.columns) {
          let k = y * p.width + x
          total += f(Double(p.codes[k]) * ip - Double(g.codes[k]) * ig)
        }
      }
    }
    return total
  }
}
