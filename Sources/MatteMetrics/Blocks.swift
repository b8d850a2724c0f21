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
    guard !m.codes.isEmpty else {
      (self.low, self.high, self.cellLow, self.cellHigh, self.differing) = ([], [], [], [], [])
      return
    }
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

  /// Blocks in which `p` and `g` differ in value at some pixel (p/pMax ≠ g/gMax, tested on
  /// integers): the flags of `p`'s grid compared with `g`, made in the same pass.
  static func differing(_ p: Matte, _ g: Matte) -> [Bool] {
    BlockGrid(p, comparedWith: g).differing
  }
}
