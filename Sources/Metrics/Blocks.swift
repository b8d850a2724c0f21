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

  init(_ m: Matte) {
    width = m.width
    height = m.height
    columns = (m.width + Self.blockWidth - 1) / Self.blockWidth
    rows = (m.height + Self.blockHeight - 1) / Self.blockHeight
    let cc = (m.width + 3) / 4
    let cr = (m.height + 3) / 4
    cellColumns = cc
    cellRows = cr
    var cellLow = [UInt16](repeating: .max, count: cc * cr)
    var cellHigh = [UInt16](repeating: 0, count: cc * cr)
    let (w, h) = (width, height)
    m.codes.withUnsafeBufferPointer { codes in
      cellLow.withUnsafeMutableBufferPointer { lo in
        cellHigh.withUnsafeMutableBufferPointer { hi in
          for cy in 0..<cr {
            let ys = (cy * 4)..<min(cy * 4 + 4, h)
            var cx = 0
            // Four cells at a time: element-wise over the rows, then lanes in groups of four.
            while cx * 4 + 16 <= w {
              var lv = SIMD16<UInt16>(repeating: .max)
              var uv = SIMD16<UInt16>(repeating: 0)
              for y in ys {
                let v = UnsafeRawPointer(codes.baseAddress! + y * w + cx * 4).loadUnaligned(as: SIMD16<UInt16>.self)
                lv = pointwiseMin(lv, v)
                uv = pointwiseMax(uv, v)
              }
              let l8 = pointwiseMin(lv.evenHalf, lv.oddHalf)
              let u8 = pointwiseMax(uv.evenHalf, uv.oddHalf)
              let l4 = pointwiseMin(l8.evenHalf, l8.oddHalf)
              let u4 = pointwiseMax(u8.evenHalf, u8.oddHalf)
              for q in 0..<4 {
                lo[cy * cc + cx + q] = l4[q]
                hi[cy * cc + cx + q] = u4[q]
              }
              cx += 4
            }
            while cx < cc {
              var l: UInt16 = .max
              var u: UInt16 = 0
              for y in ys {
                for x in (cx * 4)..<min(cx * 4 + 4, w) {
                  l = min(l, codes[y * w + x])
                  u = max(u, codes[y * w + x])
                }
              }
              lo[cy * cc + cx] = l
              hi[cy * cc + cx] = u
              cx += 1
            }
          }
        }
      }
    }
    var low = [UInt16](repeating: .max, count: columns * rows)
    var high = [UInt16](repeating: 0, count: columns * rows)
    let cellsAcross = Self.blockWidth / 4
    let cellsDown = Self.blockHeight / 4
    for cy in 0..<cr {
      for cx in 0..<cc {
        let b = (cy / cellsDown) * columns + cx / cellsAcross
        low[b] = min(low[b], cellLow[cy * cc + cx])
        high[b] = max(high[b], cellHigh[cy * cc + cx])
      }
    }
    self.low = low
    self.high = high
    self.cellLow = cellLow
    self.cellHigh = cellHigh
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
    let (cc, cr) = (cellColumns, cellRows)
    let across = Self.blockWidth / 4
    let down = Self.blockHeight / 4
    let e = (0..<(cc * cr)).map { cellLow[$0] == cellHigh[$0] ? Int32(cellLow[$0]) : -1 }
    var rowsEqual = [Int32](repeating: -1, count: cr * columns)
    for cy in 0..<cr {
      for bx in 0..<columns {
        let lo = max(bx * across - 1, 0)
        let hi = min(bx * across + across, cc - 1)
        let v = e[cy * cc + lo]
        var same = v >= 0
        var x = lo + 1
        while same && x <= hi {
          same = e[cy * cc + x] == v
          x += 1
        }
        rowsEqual[cy * columns + bx] = same ? v : -1
      }
    }
    var active = [Bool](repeating: false, count: count)
    for by in 0..<rows {
      let lo = max(by * down - 1, 0)
      let hi = min(by * down + down, cr - 1)
      for bx in 0..<columns {
        let v = rowsEqual[lo * columns + bx]
        var same = v >= 0
        var y = lo + 1
        while same && y <= hi {
          same = rowsEqual[y * columns + bx] == v
          y += 1
        }
        active[by * columns + bx] = !same
      }
    }
    return active
  }

  /// Blocks in which `p` and `g` differ in value at some pixel (p/pMax ≠ g/gMax, tested on
  /// integers).
  static func differing(_ p: Matte, _ g: Matte, grid: BlockGrid) -> [Bool] {
    var out = [Bool](repeating: false, count: grid.count)
    let w = p.width
    let pm = UInt32(p.maxValue)
    let gm = UInt32(g.maxValue)
    p.codes.withUnsafeBufferPointer { pc in
      g.codes.withUnsafeBufferPointer { gc in
        for y in 0..<p.height {
          let pr = pc.baseAddress! + y * w
          let gr = gc.baseAddress! + y * w
          let base = (y / blockHeight) * grid.columns
          for bx in 0..<grid.columns where !out[base + bx] {
            let x0 = bx * blockWidth
            let x1 = min(x0 + blockWidth, w)
            if pm == gm && x1 - x0 == blockWidth {
              let a = UnsafeRawPointer(pr + x0).loadUnaligned(as: SIMD16<UInt16>.self)
              let b = UnsafeRawPointer(gr + x0).loadUnaligned(as: SIMD16<UInt16>.self)
              if any(a .!= b) { out[base + bx] = true }
              continue
            }
            var any: UInt32 = 0
            for x in x0..<x1 { any |= (UInt32(pr[x]) &* gm) ^ (UInt32(gr[x]) &* pm) }
            if any != 0 { out[base + bx] = true }
          }
        }
      }
    }
    return out
  }
}
