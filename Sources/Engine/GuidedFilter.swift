/// The guided filter of He, Sun and Tang (ECCV 2010, "Guided Image Filtering"), gray guide:
/// q = mean(a)·I + mean(b), with a = cov(I, p) / (var(I) + ε) and b = mean(p) − a·mean(I) over
/// square windows of radius r. Near the frame's edges a window holds only its in-frame pixels.
/// Box means use running sums, so the cost does not depend on r.
public enum GuidedFilter {
  /// Filters `input` (row-major, `width`×`height`) guided by `guide`, both in [0, 1].
  public static func apply(
    input p: [Float], guide i: [Float], width: Int, height: Int, radius r: Int, epsilon: Float
  ) -> [Float] {
    precondition(p.count == width * height && i.count == width * height, "sizes differ")
    let n = width * height
    var ip = [Float](repeating: 0, count: n)
    var ii = [Float](repeating: 0, count: n)
    for k in 0..<n {
      ip[k] = i[k] * p[k]
      ii[k] = i[k] * i[k]
    }
    let meanI = boxMean(i, width: width, height: height, radius: r)
    let meanP = boxMean(p, width: width, height: height, radius: r)
    let meanIP = boxMean(ip, width: width, height: height, radius: r)
    let meanII = boxMean(ii, width: width, height: height, radius: r)
    var a = [Float](repeating: 0, count: n)
    var b = [Float](repeating: 0, count: n)
    for k in 0..<n {
      let cov = meanIP[k] - meanI[k] * meanP[k]
      let variance = meanII[k] - meanI[k] * meanI[k]
      a[k] = cov / (variance + epsilon)
      b[k] = meanP[k] - a[k] * meanI[k]
    }
    let meanA = boxMean(a, width: width, height: height, radius: r)
    let meanB = boxMean(b, width: width, height: height, radius: r)
    var q = [Float](repeating: 0, count: n)
    for k in 0..<n { q[k] = meanA[k] * i[k] + meanB[k] }
    return q
  }

  /// The mean over the in-frame part of the (2r + 1)² window at each pixel: running sums across
  /// each row, then down each column, in Double so long rows do not drift.
  static func boxMean(_ x: [Float], width w: Int, height h: Int, radius r: Int) -> [Float] {
    var rows = [Double](repeating: 0, count: w * h)
    var rowCount = [Double](repeating: 0, count: w)
    for col in 0..<w { rowCount[col] = Double(min(col + r, w - 1) - max(col - r, 0) + 1) }
    for y in 0..<h {
      let base = y * w
      var sum = 0.0
      for col in 0..<min(r, w) { sum += Double(x[base + col]) }
      for col in 0..<w {
        if col + r < w { sum += Double(x[base + col + r]) }
        if col - r - 1 >= 0 { sum -= Double(x[base + col - r - 1]) }
        rows[base + col] = sum
      }
    }
    var out = [Float](repeating: 0, count: w * h)
    var column = [Double](repeating: 0, count: w)
    for y in 0..<min(r, h) {
      for col in 0..<w { column[col] += rows[y * w + col] }
    }
    for y in 0..<h {
      if y + r < h { for col in 0..<w { column[col] += rows[(y + r) * w + col] } }
      if y - r - 1 >= 0 { for col in 0..<w { column[col] -= rows[(y - r - 1) * w + col] } }
      let count = Double(min(y + r, h - 1) - max(y - r, 0) + 1)
      for col in 0..<w { out[y * w + col] = Float(column[col] / (count * rowCount[col])) }
    }
    return out
  }
}
