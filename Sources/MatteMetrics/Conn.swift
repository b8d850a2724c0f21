import CMatteKernels

/// The connectivity error (Rhemann et al. 2009; DIM/RVM convention): Σ |φ(g) − φ(p)| with
/// φ = 1 − d·[d ≥ θ], d = α − l, θ = 0.15, and l the level at which a pixel leaves the largest
/// 4-connected component of {g ≥ i/10} ∧ {p ≥ i/10}, i = 1…10.
///
/// All threshold tests are done on integer codes (specs/metrics.md, trap 1):
/// `α ≥ i/10 ⇔ 10·code ≥ i·maxValue` and `d ≥ 0.15 ⇔ 20·code ≥ (2l′ + 3)·maxValue` with l = l′/10.
public enum Conn {
  /// The level l′ (l = l′/10) of every pixel: the first i − 1 at which the pixel lies outside
  /// the largest component Ω_i, or 10 if it never does.
  public static func levels(_ p: Matte, _ g: Matte) -> [UInt8] {
    ErrorMaps.checkSameSize(p, g)
    return SegmentLevels(p, g, pGrid: BlockGrid(p), gGrid: BlockGrid(g)).levelMap()
  }

  /// The same levels by a flood fill per threshold over every pixel: the definition written
  /// out directly, kept to check the segment-based `levels` against.
  public static func referenceLevels(_ p: Matte, _ g: Matte) -> [UInt8] {
    ErrorMaps.checkSameSize(p, g)
    let n = p.pixelCount
    let w = p.width
    // q = the highest i with g ≥ i/10 and p ≥ i/10 (integer tests), so that pixel k lies in
    // {g ≥ i/10} ∧ {p ≥ i/10} exactly when q[k] ≥ i.
    let pm = p.maxValue
    let gm = g.maxValue
    var q = [UInt8](repeating: 0, count: n)
    for k in 0..<n {
      q[k] = UInt8(min(10 * Int(g.codes[k]) / gm, 10 * Int(p.codes[k]) / pm, 10))
    }
    var level = [UInt8](repeating: 255, count: n)  // 255 = not yet assigned
    // Component ids, unique across levels, so nothing needs clearing between levels.
    var label = [Int32](repeating: 0, count: n)
    var stack: [Int32] = []
    stack.reserveCapacity(1024)
    var next: Int32 = 0
    for i in 1...10 {
      let t = UInt8(i)
      let firstOfLevel = next + 1
      var bestLabel: Int32 = 0
      var bestSize = 0
      q.withUnsafeBufferPointer { qb in
        label.withUnsafeMutableBufferPointer { lb in
          for start in 0..<n where qb[start] >= t && lb[start] < firstOfLevel {
            next += 1
            var size = 0
            lb[start] = next
            stack.append(Int32(start))
            while let top = stack.popLast() {
              let k = Int(top)
              size += 1
              let x = k % w
              if x > 0, qb[k - 1] >= t, lb[k - 1] < firstOfLevel {
                lb[k - 1] = next
                stack.append(Int32(k - 1))
              }
              if x + 1 < w, qb[k + 1] >= t, lb[k + 1] < firstOfLevel {
                lb[k + 1] = next
                stack.append(Int32(k + 1))
              }
              if k >= w, qb[k - w] >= t, lb[k - w] < firstOfLevel {
                lb[k - w] = next
                stack.append(Int32(k - w))
              }
              if k + w < n, qb[k + w] >= t, lb[k + w] < firstOfLevel {
                lb[k + w] = next
                stack.append(Int32(k + w))
              }
            }
            // Ties keep the component found first, i.e. whose first pixel comes first in raster order.
            if size > bestSize {
              bestSize = size
              bestLabel = next
            }
          }
        }
      }
      // Outside Ω_i (not in the set at this level, or in a smaller component): level i − 1.
      for k in 0..<n where level[k] == 255 && (q[k] < t || label[k] != bestLabel) {
        level[k] = UInt8(i - 1)
      }
    }
    for k in 0..<n where level[k] == 255 { level[k] = 10 }
    return level
  }

  /// φ for one pixel with integer code `code` of `maxValue` at level l′.
  @inline(__always)
  static func phi(code: Int, maxValue: Int, level: Int) -> Double {
    if 20 * code >= (2 * level + 3) * maxValue {
      return 1 - (Double(code) * (1 / Double(maxValue)) - tenths[level])
    }
    return 1
  }

  /// l′/10 for l′ = 0…10. `phi` takes code/max as code·(1/max), the product the other metrics
  /// use, and l′/10 from here, so the vector path (`mg_block_spatial`) needs no division and
  /// gives the same values.
  static let tenths: [Double] = (0...10).map { Double($0) / 10 }

  /// `tenths` where the C kernels read it (allocated once, never freed).
  nonisolated(unsafe) static let tenthsPointer: UnsafePointer<Double> = {
    let p = UnsafeMutablePointer<Double>.allocate(capacity: tenths.count)
    p.initialize(from: tenths, count: tenths.count)
    return UnsafePointer(p)
  }()

  /// |φ(g) − φ(p)| per pixel.
  public static func errorMap(_ p: Matte, _ g: Matte) -> [Double] {
    let l = levels(p, g)
    var out = [Double](repeating: 0, count: p.pixelCount)
    for k in 0..<p.pixelCount {
      let lv = Int(l[k])
      out[k] = abs(
        phi(code: Int(g.codes[k]), maxValue: g.maxValue, level: lv)
          - phi(code: Int(p.codes[k]), maxValue: p.maxValue, level: lv))
    }
    return out
  }

  /// The largest 4-connected component of `mask` (ties: the one whose first pixel comes first
  /// in raster order). Pixels outside the mask never form a component.
  public static func largestComponent(_ mask: [Bool], width: Int, height: Int) -> [Bool] {
    var label = [Int32](repeating: 0, count: mask.count)
    var stack: [Int] = []
    var next: Int32 = 0
    var bestLabel: Int32 = 0
    var bestSize = 0
    for start in 0..<mask.count where mask[start] && label[start] == 0 {
      next += 1
      var size = 0
      label[start] = next
      stack.append(start)
      while let k = stack.popLast() {
        size += 1
        let x = k % width
        let y = k / width
        if x > 0, mask[k - 1], label[k - 1] == 0 {
          label[k - 1] = next
          stack.append(k - 1)
        }
        if x + 1 < width, mask[k + 1], label[k + 1] == 0 {
          label[k + 1] = next
          stack.append(k + 1)
        }
        if y > 0, mask[k - width], label[k - width] == 0 {
          label[k - width] = next
          stack.append(k - width)
        }
        if y + 1 < height, mask[k + width], label[k + width] == 0 {
          label[k + width] = next
          stack.append(k + width)
        }
      }
      if size > bestSize {
        bestSize = size
        bestLabel = next
      }
    }
    if bestLabel == 0 { return [Bool](repeating: false, count: mask.count) }
    return label.map { $0 == bestLabel }
  }
}

/// Conn's levels from horizontal segments of equal q = min(q_p, q_g) instead of pixels.
///
/// Pixel k lies in {g ≥ i/10} ∧ {p ≥ i/10} exactly when q[k] ≥ i, so every threshold's set is
/// a union of segments, and its 4-connected components follow from a union–find over segments:
/// neighbours in a row, and segments of adjacent rows whose columns overlap. A segment lies
/// wholly inside or outside each Ω_i, so the level is one per segment. Flat blocks (both
/// mattes constant) add to a segment without visiting their pixels.
struct SegmentLevels {
  let width: Int
  let height: Int
  /// Per segment: first column, end column (exclusive), q, row.
  private var start: [Int32] = []
  private var end: [Int32] = []
  private var q: [UInt8] = []
  /// Index of the first segment of each row, plus one past the last.
  private var rowStart: [Int32] = []
  /// The level l′ of each segment.
  private(set) var level: [UInt8] = []

  /// - Parameter foldTen: count q = 10 as 9 (see `levelTenIsUnused`), for callers that read
  ///   levels only where the two codes differ in value. Then a level read where both codes
  ///   reached the maximum may be 9 instead of 10; every other level is the same.
  init(_ p: Matte, _ g: Matte, pGrid: BlockGrid, gGrid: BlockGrid, foldTen: Bool = false) {
    width = p.width
    height = p.height
    // min(q_p, 9, q_g) = min(q_p, q_g, 9): folding one table folds q.
    let qp = foldTen ? Self.foldedTable(maxValue: p.maxValue) : Self.table(maxValue: p.maxValue)
    let qg = Self.table(maxValue: g.maxValue)
    let w = width
    // Room for the worst case: a segment per pixel.
    let capacity = max(w * height, 1)
    // Uninitialised scratch (only the first `count` entries are ever written or read): the
    // worst case is megabytes a frame, not worth zeroing.
    let st = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
    let en = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
    let qs = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    defer {
      st.deallocate()
      en.deallocate()
      qs.deallocate()
    }
    var rows = [Int32](repeating: 0, count: height + 1)
    // In C (CMatteKernels): a block where both mattes are constant extends or starts one
    // segment; others go pixel by pixel.
    let count = p.codes.withUnsafeBufferPointer { pc in
      g.codes.withUnsafeBufferPointer { gc in
        qp.withUnsafeBufferPointer { tp in
          qg.withUnsafeBufferPointer { tg in
            pGrid.low.withUnsafeBufferPointer { pl in
              pGrid.high.withUnsafeBufferPointer { ph in
                gGrid.low.withUnsafeBufferPointer { gl in
                  gGrid.high.withUnsafeBufferPointer { gh in
                    rows.withUnsafeMutableBufferPointer { r in
                      w * height == 0
                        ? 0
                        : mg_conn_segments(
                          pc.baseAddress!, gc.baseAddress!, w, height, tp.baseAddress!, tg.baseAddress!,
                          pl.baseAddress!, ph.baseAddress!, gl.baseAddress!, gh.baseAddress!, pGrid.columns,
                          BlockGrid.blockWidth, BlockGrid.blockHeight, st, en, qs, r.baseAddress!)
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    rowStart = rows
    start = Array(UnsafeBufferPointer(start: st, count: count))
    end = Array(UnsafeBufferPointer(start: en, count: count))
    q = Array(UnsafeBufferPointer(start: qs, count: count))
    level = computeLevels()
  }

  private static let table8 = makeTable(maxValue: 255)
  private static let table16 = makeTable(maxValue: 65535)

  /// q(code) = the number of thresholds i/10 (i = 1…10) the value reaches: 10·code ≥ i·max.
  /// Every 16-bit code has an entry: a code above the maximum (a value past 1) reaches all ten,
  /// and is never looked up past the table's end.
  static func table(maxValue m: Int) -> [UInt8] {
    m == 255 ? table8 : m == 65535 ? table16 : makeTable(maxValue: m)
  }

  private static func makeTable(maxValue m: Int, highest: Int = 10) -> [UInt8] {
    (0...65535).map { UInt8(min(10 * $0 / m, highest)) }
  }

  private static let folded8 = makeTable(maxValue: 255, highest: 9)
  private static let folded16 = makeTable(maxValue: 65535, highest: 9)

  /// `table` with q = 10 counted as 9.
  static func foldedTable(maxValue m: Int) -> [UInt8] {
    m == 255 ? folded8 : m == 65535 ? folded16 : makeTable(maxValue: m, highest: 9)
  }

  /// Whether q = 10 can be folded into 9 for Conn's error: true when no code of either matte is
  /// above its maximum. Then a pixel with q = 10 has both codes at their maximum, equal in value,
  /// and its term |φ(g) − φ(p)| is 0 whatever its level; and for i ≤ 9, {q ≥ i} is the same set
  /// as {min(q, 9) ≥ i}, so every Ω_i with i ≤ 9, and with them the level of every pixel with
  /// q ≤ 9, are unchanged. In a prediction whose inside hovers just below 1 (q alternating
  /// between 9 and 10 along a row) this merges most of the inside's segments.
  static func levelTenIsUnused(_ p: Matte, _ g: Matte, pGrid: BlockGrid, gGrid: BlockGrid) -> Bool {
    Int(pGrid.extremes.high) <= p.maxValue && Int(gGrid.extremes.high) <= g.maxValue
  }

  /// One union–find over the segments, thresholds taken from 10 down to 1: {q ≥ i} only grows
  /// as i falls, so its components only merge. At threshold i the segments with q = i join,
  /// each united with its neighbours (in its row, and overlapping columns in the rows above and
  /// below) that have q ≥ i: every adjacency whose weaker end has q = i is made then, from that
  /// end. Then every segment of {q ≥ i} outside the largest component takes level i − 1 (a
  /// later, lower threshold overwrites it, so the first threshold at which the segment is
  /// outside counts). A segment inside at every threshold it reaches keeps l′ = q. Roots are
  /// the lowest segment index of a component, which is also its first pixel in raster order,
  /// so ties go to the lower root whatever order the unions come in. Each component keeps a
  /// list of its segments, so a threshold visits the components' roots and the segments outside
  /// the largest one, not the largest one itself.
  private func computeLevels() -> [UInt8] {
    let n = start.count
    guard n > 0 else { return [] }
    var out = q
    // Per segment: its row, and the first segment of the row above (below) whose columns end
    // after it starts, where the overlapping ones begin.
    let row = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    let above = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    let below = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    // Union–find with, per component, its pixel count and its segments as a linked list.
    let parent = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    let size = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    let next = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    let tail = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    // Roots of the current components, each root's place in that list, and the segments by
    // descending q.
    let roots = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    let place = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    let bySet = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    defer {
      for p in [row, above, below, parent, size, next, tail, roots, place, bySet] { p.deallocate() }
    }
    var segCount = [Int](repeating: 0, count: 11)
    start.withUnsafeBufferPointer { start in
      end.withUnsafeBufferPointer { end in
        q.withUnsafeBufferPointer { q in
          for y in 0..<height {
            let first = Int(rowStart[y])
            let last = Int(rowStart[y + 1])
            for s in first..<last { row[s] = Int32(y) }
            // Both rows are sorted by column: one walk finds, for each segment of either row,
            // the first segment of the other that ends after it starts.
            guard y > 0 else { continue }
            let previous = Int(rowStart[y - 1])
            var u = previous
            for c in first..<last {
              while u < first && end[u] <= start[c] { u += 1 }
              above[c] = Int32(u)
            }
            var c = first
            for u in previous..<first {
              while c < last && end[c] <= start[u] { c += 1 }
              below[u] = Int32(c)
            }
          }
          for s in 0..<n {
            segCount[Int(q[s])] += 1
            parent[s] = Int32(s)
            size[s] = end[s] &- start[s]
            next[s] = -1
            tail[s] = Int32(s)
          }
          // The last row has no row below.
          for s in Int(rowStart[height - 1])..<n { below[s] = Int32(n) }
        }
      }
    }
    var segFill = [Int](repeating: 0, count: 11)
    var running = 0
    for v in stride(from: 10, through: 0, by: -1) {
      segFill[v] = running
      running += segCount[v]
    }
    let firstOfQ = segFill
    q.withUnsafeBufferPointer { q in
      for s in 0..<n {
        let v = Int(q[s])
        bySet[segFill[v]] = Int32(s)
        segFill[v] += 1
      }
    }
    @inline(__always) func find(_ x: Int32) -> Int32 {
      var x = x
      while parent[Int(x)] != x {
        let up = parent[Int(parent[Int(x)])]
        parent[Int(x)] = up
        x = up
      }
      return x
    }
    var rootCount = 0
    @inline(__always) func unite(_ a: Int32, _ b: Int32) {
      let ra = find(a)
      let rb = find(b)
      guard ra != rb else { return }
      let (lo, hi) = ra < rb ? (ra, rb) : (rb, ra)
      parent[Int(hi)] = lo
      size[Int(lo)] &+= size[Int(hi)]
      next[Int(tail[Int(lo)])] = hi
      tail[Int(lo)] = tail[Int(hi)]
      // hi is no longer a root: the last root takes its place.
      let k = Int(place[Int(hi)])
      rootCount -= 1
      roots[k] = roots[rootCount]
      place[Int(roots[k])] = Int32(k)
    }
    let rowFirst = rowStart
    start.withUnsafeBufferPointer { start in
      end.withUnsafeBufferPointer { end in
        q.withUnsafeBufferPointer { q in
          rowFirst.withUnsafeBufferPointer { rowFirst in
            out.withUnsafeMutableBufferPointer { level in
              for i in stride(from: 10, through: 1, by: -1) {
                let t = UInt8(i)
                let members = firstOfQ[i]..<(firstOfQ[i] + segCount[i])
                // The segments of q = i join as components of their own…
                for j in members {
                  let s = bySet[j]
                  roots[rootCount] = s
                  place[Int(s)] = Int32(rootCount)
                  rootCount += 1
                }
                // …then meet their neighbours in {q ≥ i}.
                for j in members {
                  let s = Int(bySet[j])
                  let y = Int(row[s])
                  if s > Int(rowFirst[y]) && q[s - 1] >= t { unite(Int32(s - 1), Int32(s)) }
                  if s + 1 < Int(rowFirst[y + 1]) && q[s + 1] >= t { unite(Int32(s), Int32(s + 1)) }
                  if y > 0 {
                    var u = Int(above[s])
                    let limit = Int(rowFirst[y])
                    while u < limit && start[u] < end[s] {
                      if q[u] >= t { unite(Int32(u), Int32(s)) }
                      u += 1
                    }
                  }
                  if y + 1 < height {
                    var u = Int(below[s])
                    let limit = Int(rowFirst[y + 2])
                    while u < limit && start[u] < end[s] {
                      if q[u] >= t { unite(Int32(s), Int32(u)) }
                      u += 1
                    }
                  }
                }
                guard rootCount > 0 else { continue }
                var best: Int32 = -1
                var bestSize: Int32 = 0
                for k in 0..<rootCount {
                  let r = roots[k]
                  if size[Int(r)] > bestSize || (size[Int(r)] == bestSize && r < best) {
                    best = r
                    bestSize = size[Int(r)]
                  }
                }
                // Every other component is outside Ω_i.
                for k in 0..<rootCount where roots[k] != best {
                  var s = roots[k]
                  while s >= 0 {
                    level[Int(s)] = UInt8(i - 1)
                    s = next[Int(s)]
                  }
                }
              }
            }
          }
        }
      }
    }
    return out
  }

  /// The levels of whole rows y0 ..< y0 + rows, into `out` with rows `width` apart.
  func levels(rows y0: Int, count rows: Int, into out: UnsafeMutablePointer<UInt8>) {
    start.withUnsafeBufferPointer { start in
      end.withUnsafeBufferPointer { end in
        level.withUnsafeBufferPointer { level in
          for y in y0..<(y0 + rows) {
            let row = out + (y - y0) * width
            for s in Int(rowStart[y])..<Int(rowStart[y + 1]) {
              (row + Int(start[s])).update(repeating: level[s], count: Int(end[s] - start[s]))
            }
          }
        }
      }
    }
  }

  /// The level of every pixel.
  func levelMap() -> [UInt8] {
    var out = [UInt8](repeating: 0, count: width * height)
    out.withUnsafeMutableBufferPointer { o in
      for y in 0..<height {
        for s in Int(rowStart[y])..<Int(rowStart[y + 1]) {
          let a = y * width + Int(start[s])
          (o.baseAddress! + a).update(repeating: level[s], count: Int(end[s] - start[s]))
        }
      }
    }
    return out
  }
}
