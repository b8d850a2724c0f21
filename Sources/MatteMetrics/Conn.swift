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
      return 1 - (Double(code) / Double(maxValue) - Double(level) / 10)
    }
    return 1
  }

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

  init(_ p: Matte, _ g: Matte, pGrid: BlockGrid, gGrid: BlockGrid) {
    width = p.width
    height = p.height
    let qp = Self.table(maxValue: p.maxValue)
    let qg = Self.table(maxValue: g.maxValue)
    let flat = (0..<pGrid.count).map { pGrid.isConstant($0) && gGrid.isConstant($0) }
    rowStart.reserveCapacity(height + 1)
    let w = width
    // Room for the worst case: a segment per pixel of a non-flat block, one per flat block.
    let nonFlat = flat.reduce(0) { $0 + ($1 ? 0 : 1) }
    let capacity = nonFlat * BlockGrid.blockWidth * BlockGrid.blockHeight + pGrid.count * BlockGrid.blockHeight + height
    var count = 0
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
    p.codes.withUnsafeBufferPointer { pc in
      g.codes.withUnsafeBufferPointer { gc in
        qp.withUnsafeBufferPointer { tp in
          qg.withUnsafeBufferPointer { tg in
            for y in 0..<height {
              rowStart.append(Int32(count))
              let pr = pc.baseAddress! + y * w
              let gr = gc.baseAddress! + y * w
              let base = (y / BlockGrid.blockHeight) * pGrid.columns
              var current: UInt8 = 255
              for bx in 0..<pGrid.columns {
                let x0 = bx * BlockGrid.blockWidth
                let x1 = min(x0 + BlockGrid.blockWidth, w)
                // A flat block extends or starts one segment; others go pixel by pixel.
                let step = flat[base + bx] ? x1 - x0 : 1
                var x = x0
                while x < x1 {
                  let v = min(tp[Int(pr[x])], tg[Int(gr[x])])
                  if v == current {
                    en[count - 1] = Int32(x + step)
                  } else {
                    st[count] = Int32(x)
                    en[count] = Int32(x + step)
                    qs[count] = v
                    count += 1
                    current = v
                  }
                  x += step
                }
              }
            }
            rowStart.append(Int32(count))
          }
        }
      }
    }
    start = Array(UnsafeBufferPointer(start: st, count: count))
    end = Array(UnsafeBufferPointer(start: en, count: count))
    q = Array(UnsafeBufferPointer(start: qs, count: count))
    level = computeLevels()
  }

  private static let table8 = makeTable(maxValue: 255)
  private static let table16 = makeTable(maxValue: 65535)

  /// q(code) = the number of thresholds i/10 (i = 1…10) the value reaches: 10·code ≥ i·max.
  static func table(maxValue m: Int) -> [UInt8] {
    m == 255 ? table8 : m == 65535 ? table16 : makeTable(maxValue: m)
  }

  private static func makeTable(maxValue m: Int) -> [UInt8] {
    (0...m).map { UInt8(min(10 * $0 / m, 10)) }
  }

  /// Union–find per threshold over the segments that reach it (a shrinking list, since
  /// {q ≥ i + 1} ⊆ {q ≥ i}); the root of a component is its lowest segment index, which is
  /// also its first pixel in raster order, so ties go to the lower root.
  private func computeLevels() -> [UInt8] {
    let n = start.count
    var out = [UInt8](repeating: 255, count: n)
    guard n > 0 else { return out }
    // Scratch for the union–find over runs, the shrinking list and each segment's row.
    let parent = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    let size = UnsafeMutablePointer<Int>.allocate(capacity: n)
    let active = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    let row = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    // Per run (at most one per segment): columns and row; per list entry, its run.
    let runX0 = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    let runX1 = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    let runRow = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    let runOf = UnsafeMutablePointer<Int32>.allocate(capacity: n)
    defer {
      for p in [parent, active, row, runX0, runX1, runRow, runOf] { p.deallocate() }
      size.deallocate()
    }
    for y in 0..<height {
      for s in Int(rowStart[y])..<Int(rowStart[y + 1]) { row[s] = Int32(y) }
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
    @inline(__always) func union(_ a: Int32, _ b: Int32) {
      let ra = find(a)
      let rb = find(b)
      if ra != rb { parent[Int(max(ra, rb))] = min(ra, rb) }
    }
    start.withUnsafeBufferPointer { start in
      end.withUnsafeBufferPointer { end in
        q.withUnsafeBufferPointer { q in
          out.withUnsafeMutableBufferPointer { level in
            // Segments with q ≥ i, ascending; those of q = 0 leave at level 0 (outside Ω_1).
            var count = 0
            for s in 0..<n {
              if q[s] >= 1 {
                active[count] = Int32(s)
                count += 1
              } else {
                level[s] = 0
              }
            }
            for i in 1...10 {
              let t = UInt8(i)
              if i > 1 {
                // Segments below this threshold leave the list; unassigned ones leave Ω here.
                var kept = 0
                for j in 0..<count {
                  let s = active[j]
                  if q[Int(s)] < t {
                    if level[Int(s)] == 255 { level[Int(s)] = UInt8(i - 1) }
                  } else {
                    active[kept] = s
                    kept += 1
                  }
                }
                count = kept
              }
              guard count > 0 else { break }
              // Runs: maximal sequences of list entries that are consecutive segments of one
              // row (the pixels of {q ≥ i} along a row). Components are unions of runs.
              var runs = 0
              for j in 0..<count {
                let s = active[j]
                if j == 0 || s != active[j - 1] + 1 || row[Int(s)] != row[Int(active[j - 1])] {
                  runX0[runs] = start[Int(s)]
                  runRow[runs] = row[Int(s)]
                  parent[runs] = Int32(runs)
                  runs += 1
                }
                runX1[runs - 1] = end[Int(s)]
                runOf[j] = Int32(runs - 1)
              }
              // Runs of adjacent rows whose columns overlap are 4-connected.
              var previous = 0..<0
              var k = 0
              while k < runs {
                let y = runRow[k]
                var e = k + 1
                while e < runs && runRow[e] == y { e += 1 }
                if !previous.isEmpty && runRow[previous.lowerBound] == y - 1 {
                  var u = previous.lowerBound
                  var c = k
                  while u < previous.upperBound && c < e {
                    if runX0[u] < runX1[c] && runX0[c] < runX1[u] { union(Int32(u), Int32(c)) }
                    if runX1[u] <= runX1[c] { u += 1 } else { c += 1 }
                  }
                }
                previous = k..<e
                k = e
              }
              // Parents always have lower indices than their children (unions link the higher
              // root under the lower one, path halving only shortens), so one ascending pass
              // finds every root: a parent's root is known before its children ask. Run order
              // is raster order of first pixels, so ties keep the lower root.
              var bestRoot: Int32 = -1
              var bestSize = 0
              for r in 0..<runs {
                let up = Int(parent[r])
                if up == r { size[r] = 0 } else { parent[r] = parent[up] }
                size[Int(parent[r])] += Int(runX1[r] - runX0[r])
              }
              for r in 0..<runs where parent[r] == Int32(r) && size[r] > bestSize {
                bestSize = size[r]
                bestRoot = Int32(r)
              }
              // Outside Ω_i in a smaller component (those below the threshold left above).
              for j in 0..<count {
                let s = Int(active[j])
                if level[s] == 255 && parent[Int(runOf[j])] != bestRoot { level[s] = UInt8(i - 1) }
              }
            }
            for s in 0..<n where level[s] == 255 { level[s] = 10 }
          }
        }
      }
    }
    return out
  }

  /// The levels of pixels x0 ..< x0 + count of row y, into `out`.
  func levels(row y: Int, from x0: Int, count: Int, into out: UnsafeMutablePointer<UInt8>) {
    start.withUnsafeBufferPointer { start in
      end.withUnsafeBufferPointer { end in
        level.withUnsafeBufferPointer { level in
          // The row's segment holding x0 (binary search), then a fill per segment.
          var lo = Int(rowStart[y])
          var hi = Int(rowStart[y + 1]) - 1
          let x = Int32(x0)
          while lo < hi {
            let mid = (lo + hi + 1) / 2
            if start[mid] <= x { lo = mid } else { hi = mid - 1 }
          }
          var s = lo
          var i = 0
          while i < count {
            let stop = min(Int(end[s]) - x0, count)
            (out + i).update(repeating: level[s], count: stop - i)
            i = stop
            s += 1
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
