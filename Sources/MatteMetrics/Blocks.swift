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
  private var cellLow: [UInt16]
  private var cellHigh: [UInt16]

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
    let (w, h, cols) = (width, height, columns)
    // Per band of four rows: element-wise minimum and maximum down the band (vectorises), then
    // across each cell's four columns.
    var bandLow = [UInt16](repeating: 0, count: w)
    var bandHigh = [UInt16](repeating: 0, count: w)
    var scratchRow = [UInt16](repeating: 0, count: w)
    let cells = (
      low: UnsafeMutablePointer<UInt16>.allocate(capacity: cc * cr),
      high: UnsafeMutablePointer<UInt16>.allocate(capacity: cc * cr)
    )
    let blocks = (
      low: UnsafeMutablePointer<UInt16>.allocate(capacity: columns * rows),
      high: UnsafeMutablePointer<UInt16>.allocate(capacity: columns * rows)
    )
    defer {
      for p in [cells.low, cells.high, blocks.low, blocks.high] { p.deallocate() }
    }
    blocks.low.initialize(repeating: .max, count: columns * rows)
    blocks.high.initialize(repeating: 0, count: columns * rows)
    var differs = [Bool](repeating: false, count: other == nil ? 0 : columns * rows)
    var xorBand = [UInt16](repeating: 0, count: other == nil ? 0 : w)
    let pm = UInt32(m.maxValue)
    let om = UInt32(other?.maxValue ?? m.maxValue)
    let otherCodes = other?.codes ?? []
    scratchRow.withUnsafeMutableBufferPointer { scratch in
      otherCodes.withUnsafeBufferPointer { oc in
        xorBand.withUnsafeMutableBufferPointer { xb in
          m.codes.withUnsafeBufferPointer { codes in
            bandLow.withUnsafeMutableBufferPointer { bl in
              bandHigh.withUnsafeMutableBufferPointer { bh in
                for cy in 0..<cr {
                  let y0 = cy * 4
                  if other != nil {
                    // Where p and g differ in value, ORed down the band (`accumulateDifference`).
                    let acc = xb.baseAddress!
                    for y in y0..<min(y0 + 4, h) {
                      Self.accumulateDifference(
                        codes.baseAddress! + y * w, oc.baseAddress! + y * w, count: w, pMax: pm, gMax: om, into: acc)
                    }
                    // At the end of a block row, one flag per block.
                    if (y0 + 4) % Self.blockHeight == 0 || y0 + 4 >= h {
                      Self.flagBlocks(acc, width: w, columns: cols, blockRow: y0 / Self.blockHeight, into: &differs)
                      acc.update(repeating: 0, count: w)
                    }
                  }
                  let first = codes.baseAddress! + y0 * w
                  bl.baseAddress!.update(from: first, count: w)
                  bh.baseAddress!.update(from: first, count: w)
                  for y in (y0 + 1)..<min(y0 + 4, h) {
                    let row = codes.baseAddress! + y * w
                    let l = bl.baseAddress!
                    let u = bh.baseAddress!
                    for x in 0..<w { l[x] = min(l[x], row[x]) }
                    for x in 0..<w { u[x] = max(u[x], row[x]) }
                  }
                  // Minimum of each group of four columns: pairs, then pairs of pairs (vectorises);
                  // the cell's value is at its first column. A last, narrower cell is done alone.
                  let whole = w / 4
                  if whole > 0 {
                    Self.foldFours(bl.baseAddress!, count: w, whole: whole, scratch: scratch.baseAddress!, min)
                    Self.foldFours(bh.baseAddress!, count: w, whole: whole, scratch: scratch.baseAddress!, max)
                  }
                  let blockRow = (cy * 4 / Self.blockHeight) * cols
                  let cl = cells.low + cy * cc
                  let ch = cells.high + cy * cc
                  let bL = blocks.low + blockRow
                  let bH = blocks.high + blockRow
                  for cx in 0..<cc {
                    var l = bl[cx * 4]
                    var u = bh[cx * 4]
                    if cx >= whole {
                      // The pair pass already folded x + 1 into x; finish the remaining columns.
                      for x in (cx * 4)..<w {
                        l = min(l, bl[x])
                        u = max(u, bh[x])
                      }
                    }
                    cl[cx] = l
                    ch[cx] = u
                    let b = cx / (Self.blockWidth / 4)
                    bL[b] = min(bL[b], l)
                    bH[b] = max(bH[b], u)
                  }
                }
              }
            }
          }
        }
      }
    }
    self.differing = differs
    self.low = Array(UnsafeBufferPointer(start: blocks.low, count: columns * rows))
    self.high = Array(UnsafeBufferPointer(start: blocks.high, count: columns * rows))
    self.cellLow = Array(UnsafeBufferPointer(start: cells.low, count: cc * cr))
    self.cellHigh = Array(UnsafeBufferPointer(start: cells.high, count: cc * cr))
  }

  /// x[i] = f of x[i…i+3] for every i that starts a whole group of four (pairs into
  /// `scratch`, then pairs of pairs back), and x[i] = f(x[i], x[i + 1]) beyond; out of place
  /// so that both passes vectorise.
  @inline(__always)
  static func foldFours(
    _ x: UnsafeMutablePointer<UInt16>, count w: Int, whole: Int, scratch: UnsafeMutablePointer<UInt16>,
    _ f: (UInt16, UInt16) -> UInt16
  ) {
    let next = x + 1
    for i in 0..<(w - 1) { scratch[i] = f(x[i], next[i]) }
    scratch[w - 1] = x[w - 1]
    let ahead = scratch + 2
    for i in 0..<(whole * 4 - 2) { x[i] = f(scratch[i], ahead[i]) }
    for i in (whole * 4 - 2)..<w { x[i] = scratch[i] }
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
    // each cell row first (six cells per block), then down (four cell rows per block).
    let (cc, cr, cols, rws) = (cellColumns, cellRows, columns, rows)
    let across = Self.blockWidth / 4
    let down = Self.blockHeight / 4
    var e = [Int32](repeating: -1, count: cc * cr)
    var rowsEqual = [Int32](repeating: -1, count: cr * cols)
    var active = [Bool](repeating: false, count: count)
    cellLow.withUnsafeBufferPointer { lo in
      cellHigh.withUnsafeBufferPointer { hi in
        e.withUnsafeMutableBufferPointer { e in
          for i in 0..<(cc * cr) where lo[i] == hi[i] { e[i] = Int32(lo[i]) }
          rowsEqual.withUnsafeMutableBufferPointer { re in
            for cy in 0..<cr {
              let row = e.baseAddress! + cy * cc
              for bx in 0..<cols {
                let first = max(bx * across - 1, 0)
                let last = min(bx * across + across, cc - 1)
                let v = row[first]
                var same = v >= 0
                var x = first + 1
                while same && x <= last {
                  same = row[x] == v
                  x += 1
                }
                re[cy * cols + bx] = same ? v : -1
              }
            }
            active.withUnsafeMutableBufferPointer { act in
              for by in 0..<rws {
                let first = max(by * down - 1, 0)
                let last = min(by * down + down, cr - 1)
                for bx in 0..<cols {
                  let v = re[first * cols + bx]
                  var same = v >= 0
                  var y = first + 1
                  while same && y <= last {
                    same = re[y * cols + bx] == v
                    y += 1
                  }
                  act[by * cols + bx] = !same
                }
              }
            }
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
