import CMatteKernels

/// Per-block summaries of a frame, so that scoring skips what cannot contribute.
///
/// Mattes are mostly flat (0 in the background, the maximum in the foreground) and a prediction
/// usually equals the truth there. Every metric of a pixel whose prediction equals its truth
/// (now and, for temporal metrics, one frame earlier) is exactly 0, and so is the gradient
/// wherever the 9×9 neighbourhood is constant. Blocks of 16×8 pixels record their lowest and
/// highest code; scoring then visits only blocks that can hold a non-zero term. The skipped
/// terms are 0 by definition, not approximately, so the totals do not depend on the skipping.
struct BlockGrid: Sendable {
  static let blockWidth = 16
  static let blockHeight = 8

  let width: Int
  let height: Int
  let columns: Int
  let rows: Int
  /// Lowest and highest code of every block, row-major.
  private(set) var low: [UInt16]
  private(set) var high: [UInt16]
  /// The same for cells of 4×4 pixels (a block is 4 × 2 cells), which place the gradient's
  /// 4-pixel reach exactly.
  let cellColumns: Int
  let cellRows: Int
  private(set) var cellLow: [UInt16]
  private(set) var cellHigh: [UInt16]

  /// With `init(_:comparedWith:)`: whether each block holds a pixel whose value differs from
  /// the other matte's (empty otherwise).
  private(set) var differing: [Bool] = []

  /// Summarises `m`; with `other` (same size), also finds the blocks where the two differ in
  /// value, in the same pass over `m`.
  init(_ m: Matte, comparedWith other: Matte? = nil) {
    if let other { precondition(other.width == m.width && other.height == m.height, "mattes differ in size") }
    width = m.width
    height = m.height
    columns = (m.width + Self.blockWidth - 1) / Self.blockWidth
    rows = (m.height + Self.blockHeight - 1) / Self.blockHeight
    let cc = (m.width + 3) / 4
    let cr = (m.height + 3) / 4
    cellColumns = cc
    cellRows = cr
    let blocks = columns * rows
    var low = [UInt16](repeating: 0, count: blocks)
    var high = [UInt16](repeating: 0, count: blocks)
    var cellLow = [UInt16](repeating: 0, count: cc * cr)
    var cellHigh = [UInt16](repeating: 0, count: cc * cr)
    var differs = [Bool](repeating: false, count: other == nil ? 0 : blocks)
    // In C (CMatteKernels): a block's columns as one vector, four rows at a time.
    var depths = Self.depths(pMax: UInt32(m.maxValue), gMax: UInt32(other?.maxValue ?? m.maxValue))
    m.codes.withUnsafeBufferPointer { codes in
      (other?.codes ?? []).withUnsafeBufferPointer { otherCodes in
        differs.withUnsafeMutableBufferPointer { flags in
          flags.withMemoryRebound(to: UInt8.self) { flags in
            mg_block_grid(
              codes.baseAddress!, other == nil ? nil : otherCodes.baseAddress!, m.width, m.height, &depths,
              &cellLow, &cellHigh, &low, &high, other == nil ? nil : flags.baseAddress!)
          }
        }
      }
    }
    self.differing = differs
    self.low = low
    self.high = high
    self.cellLow = cellLow
    self.cellHigh = cellHigh
  }

  /// How the kernel tells codes of these maxima apart in value (see `mg_grid_depths`).
  static func depths(pMax pm: UInt32, gMax gm: UInt32) -> mg_grid_depths {
    if pm == gm { return mg_grid_depths(mode: 0, k: 0, limit: 0, pMax: pm, gMax: gm) }
    if gm % pm == 0 {
      let k = gm / pm
      return mg_grid_depths(
        mode: 1, k: UInt16(truncatingIfNeeded: k), limit: UInt16(65535 / k), pMax: pm, gMax: gm)
    }
    if pm % gm == 0 {
      let k = pm / gm
      return mg_grid_depths(
        mode: 2, k: UInt16(truncatingIfNeeded: k), limit: UInt16(65535 / k), pMax: pm, gMax: gm)
    }
    return mg_grid_depths(mode: 3, k: 0, limit: 0, pMax: pm, gMax: gm)
  }

  var count: Int { columns * rows }

  func isConstant(_ b: Int) -> Bool { low[b] == high[b] }

  func xRange(ofColumn bx: Int) -> Range<Int> {
    (bx * Self.blockWidth)..<min((bx + 1) * Self.blockWidth, width)
  }

  func yRange(ofRow by: Int) -> Range<Int> {
    (by * Self.blockHeight)..<min((by + 1) * Self.blockHeight, height)
  }

  /// Lowest and highest code of the whole frame.
  var extremes: (low: UInt16, high: UInt16) {
    (low.min() ?? 0, high.max() ?? 0)
  }

  /// Blocks whose gradient can be non-zero: some block of the 3×3 neighbourhood (the 9×9
  /// kernel reaches 4 pixels, less than a block, into its neighbours) is not constant, or two
  /// of them hold different constants.
  func gradientActive() -> [Bool] {
    // e = a cell's constant, or −1. A block is inactive when every cell within 4 pixels of it
    // (its 4 × 2 cells and a ring of one cell) holds the same constant. Separable: across
    // each cell row first (six cells per block), then down (four cell rows per block); in C.
    var active = [Bool](repeating: false, count: count)
    var scratch = [Int32](repeating: 0, count: cellRows * columns)
    guard count > 0 else { return active }
    cellLow.withUnsafeBufferPointer { lo in
      cellHigh.withUnsafeBufferPointer { hi in
        active.withUnsafeMutableBufferPointer { act in
          act.withMemoryRebound(to: UInt8.self) { act in
            mg_gradient_active(
              lo.baseAddress!, hi.baseAddress!, cellColumns, cellRows, columns, rows, &scratch, act.baseAddress!)
          }
        }
      }
    }
    return active
  }

  /// Column ranges, per block row, of the runs of blocks that are `seeded` or next to one
  /// (3×3 neighbourhood).
  func spans(near seeded: [Bool]) -> [[Range<Int>]] {
    var near = [Bool](repeating: false, count: count)
    for b in 0..<count where seeded[b] {
      let (bx, by) = (b % columns, b / columns)
      for ny in max(by - 1, 0)...min(by + 1, rows - 1) {
        for nx in max(bx - 1, 0)...min(bx + 1, columns - 1) { near[ny * columns + nx] = true }
      }
    }
    return (0..<rows).map { by in
      var list: [Range<Int>] = []
      var bx = 0
      while bx < columns {
        guard near[by * columns + bx] else {
          bx += 1
          continue
        }
        let start = bx
        while bx < columns && near[by * columns + bx] { bx += 1 }
        list.append((start * Self.blockWidth)..<min(bx * Self.blockWidth, width))
      }
      return list
    }
  }

  /// ORs into `acc` a value that is non-zero exactly where p/pMax ≠ g/gMax: p ⊕ g at equal
  /// depths; when one maximum is a multiple k of the other (8-bit against 16-bit: k = 257), the
  /// shallower code times k against the deeper one on 16 bits (a product past 16 bits, from a
  /// code above its maximum, still counts as a difference); otherwise
  /// p·gMax ⊕ g·pMax on 32 bits, folded to 16. Each loop vectorises (16-bit lanes where it can).
  @inline(__always)
  static func accumulateDifference(
    _ pr: UnsafePointer<UInt16>, _ gr: UnsafePointer<UInt16>, count w: Int, pMax pm: UInt32, gMax gm: UInt32,
    into acc: UnsafeMutablePointer<UInt16>
  ) {
    if pm == gm {
      for x in 0..<w { acc[x] |= pr[x] ^ gr[x] }
    } else if gm % pm == 0 {
      scaledDifference(pr, by: gm / pm, against: gr, count: w, into: acc)
    } else if pm % gm == 0 {
      scaledDifference(gr, by: pm / gm, against: pr, count: w, into: acc)
    } else {
      for x in 0..<w {
        let v = (UInt32(pr[x]) &* gm) ^ (UInt32(gr[x]) &* pm)
        acc[x] |= UInt16(truncatingIfNeeded: v | (v >> 16))
      }
    }
  }

  /// acc |= (a·k mod 2¹⁶) ⊕ b, and all ones where a·k ≥ 2¹⁶ (a > ⌊65535/k⌋): non-zero exactly
  /// where a·k ≠ b, on 16-bit lanes.
  @inline(__always)
  static func scaledDifference(
    _ a: UnsafePointer<UInt16>, by k: UInt32, against b: UnsafePointer<UInt16>, count w: Int,
    into acc: UnsafeMutablePointer<UInt16>
  ) {
    let k16 = UInt16(truncatingIfNeeded: k)
    let limit = UInt16(65535 / k)
    for x in 0..<w {
      acc[x] |= ((a[x] &* k16) ^ b[x]) | (a[x] > limit ? UInt16.max : 0)
    }
  }

  /// One flag per block of block row `blockRow`: whether its columns of `acc` hold a difference.
  @inline(__always)
  static func flagBlocks(
    _ acc: UnsafeMutablePointer<UInt16>, width w: Int, columns: Int, blockRow: Int, into flags: inout [Bool]
  ) {
    for bx in 0..<columns {
      var any: UInt16 = 0
      for x in (bx * blockWidth)..<min((bx + 1) * blockWidth, w) { any |= acc[x] }
      flags[blockRow * columns + bx] = any != 0
    }
  }

  /// Blocks in which `p` and `g` differ in value at some pixel (p/pMax ≠ g/gMax, tested on
  /// integers).
  static func differing(_ p: Matte, _ g: Matte, grid: BlockGrid) -> [Bool] {
    var out = [Bool](repeating: false, count: grid.count)
    let w = p.width
    let pm = UInt32(p.maxValue)
    let gm = UInt32(g.maxValue)
    // Per block row: OR down its rows where p and g differ (`accumulateDifference`), which
    // vectorises, then OR across each block's columns.
    var band = [UInt16](repeating: 0, count: w)
    p.codes.withUnsafeBufferPointer { pc in
      g.codes.withUnsafeBufferPointer { gc in
        band.withUnsafeMutableBufferPointer { bandBuffer in
          let acc = bandBuffer.baseAddress!
          for by in 0..<grid.rows {
            acc.update(repeating: 0, count: w)
            for y in grid.yRange(ofRow: by) {
              accumulateDifference(
                pc.baseAddress! + y * w, gc.baseAddress! + y * w, count: w, pMax: pm, gMax: gm, into: acc)
            }
            flagBlocks(acc, width: w, columns: grid.columns, blockRow: by, into: &out)
          }
        }
      }
    }
    return out
  }
}
