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
