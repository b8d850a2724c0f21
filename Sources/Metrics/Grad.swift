import Foundation

/// The gradient error (Rhemann et al. 2009, as in RVM's evaluation): Σ (|∇p̂| − |∇ĝ|)² where x̂ is
/// min–max normalised over the whole frame and ∇ uses Gaussian-derivative filters, σ = 1.4,
/// 9×9 (half-size 4), each kernel divided by its Frobenius norm, replicate border.
public enum Grad {
  public static let sigma = 1.4
  public static let halfSize = 4

  /// G/‖G‖: the smoothing factor of the separable kernels.
  public static let gaussian: [Double] = {
    let g = (-halfSize...halfSize).map { x in exp(-Double(x * x) / (2 * sigma * sigma)) }
    let norm = sqrt(g.reduce(0) { $0 + $1 * $1 })
    return g.map { $0 / norm }
  }()

  /// G′/‖G′‖: the derivative factor (positive on the negative side, like −x·G).
  public static let derivative: [Double] = {
    let d = (-halfSize...halfSize).map { x in
      -Double(x) / (sigma * sigma) * exp(-Double(x * x) / (2 * sigma * sigma))
    }
    let norm = sqrt(d.reduce(0) { $0 + $1 * $1 })
    return d.map { $0 / norm }
  }()

  /// The min–max normalised values of a matte; all zeros when max == min.
  public static func normalised(_ m: Matte) -> [Double] {
    guard let lo = m.codes.min(), let hi = m.codes.max(), hi > lo else {
      return [Double](repeating: 0, count: m.pixelCount)
    }
    let l = Double(lo)
    let range = Double(hi) - l
    return m.codes.map { (Double($0) - l) / range }
  }

  /// |∇x| per pixel for a plane already normalised.
  public static func gradientMagnitude(_ x: [Double], width: Int, height: Int) -> [Double] {
    let smoothX = correlateRows(x, width: width, height: height, kernel: gaussian)
    let derivX = correlateRows(x, width: width, height: height, kernel: derivative)
    // k_x = G(y)·G′(x): derivative along rows, smoothing along columns; k_y = k_xᵀ. Both column
    // passes run a row at a time into two row buffers, and the magnitude is taken right away.
    let r = halfSize
    var gx = [Double](repeating: 0, count: width)
    var gy = [Double](repeating: 0, count: width)
    return [Double](unsafeUninitializedCapacity: x.count) { out, count in
      count = x.count
      smoothX.withUnsafeBufferPointer { sx in
        derivX.withUnsafeBufferPointer { dx in
          gx.withUnsafeMutableBufferPointer { gxb in
            gy.withUnsafeMutableBufferPointer { gyb in
              for y in 0..<height {
                gxb.update(repeating: 0)
                gyb.update(repeating: 0)
                for t in 0..<gaussian.count {
                  let yy = min(max(y + t - r, 0), height - 1)
                  let wg = gaussian[t]
                  let wd = derivative[t]
                  let drow = dx.baseAddress! + yy * width
                  let srow = sx.baseAddress! + yy * width
                  for col in 0..<width {
                    gxb[col] += wg * drow[col]
                    gyb[col] += wd * srow[col]
                  }
                }
                let o = out.baseAddress! + y * width
                for col in 0..<width { o[col] = (gxb[col] * gxb[col] + gyb[col] * gyb[col]).squareRoot() }
              }
            }
          }
        }
      }
    }
  }

  /// (|∇p̂| − |∇ĝ|)² per pixel.
  public static func errorMap(_ p: Matte, _ g: Matte) -> [Double] {
    errorMap(p, truthMagnitude: gradientMagnitude(normalised(g), width: g.width, height: g.height))
  }

  /// (|∇p̂| − |∇ĝ|)² per pixel, with |∇ĝ| computed once per frame and shared by both arms.
  public static func errorMap(_ p: Matte, truthMagnitude mg: [Double]) -> [Double] {
    precondition(mg.count == p.pixelCount, "mattes differ in size")
    let mp = gradientMagnitude(normalised(p), width: p.width, height: p.height)
    var out = [Double](repeating: 0, count: mp.count)
    for i in 0..<mp.count {
      let d = mp[i] - mg[i]
      out[i] = d * d
    }
    return out
  }

  /// Correlation along rows with a replicate border. Interior pixels skip the clamping; every
  /// pixel sums its taps in kernel order from 0.0, so results do not depend on the fast path.
  static func correlateRows(_ x: [Double], width: Int, height: Int, kernel: [Double]) -> [Double] {
    let r = kernel.count / 2
    let n = kernel.count
    return [Double](unsafeUninitializedCapacity: x.count) { out, count in
      count = x.count
      x.withUnsafeBufferPointer { src in
        kernel.withUnsafeBufferPointer { k in
          for y in 0..<height {
            let row = src.baseAddress! + y * width
            let o = out.baseAddress! + y * width
            // Interior: one tap at a time across the row (vectorises); border: clamped taps.
            let lo = min(r, width)
            let hi = max(lo, width - r)
            if hi > lo {
              (o + lo).initialize(repeating: 0, count: hi - lo)
              for t in 0..<n {
                let w = k[t]
                let shifted = row + (t - r)
                for col in lo..<hi { o[col] += w * shifted[col] }
              }
            }
            for col in Array(0..<lo) + Array(hi..<width) {
              var s = 0.0
              for t in 0..<n { s += k[t] * row[min(max(col + t - r, 0), width - 1)] }
              o[col] = s
            }
          }
        }
      }
    }
  }

  /// Correlation along columns with a replicate border, a whole row at a time (cache friendly);
  /// each pixel still sums its taps in kernel order from 0.0.
  static func correlateColumns(_ x: [Double], width: Int, height: Int, kernel: [Double]) -> [Double] {
    let r = kernel.count / 2
    return [Double](unsafeUninitializedCapacity: x.count) { out, count in
      count = x.count
      x.withUnsafeBufferPointer { src in
        for y in 0..<height {
          let o = out.baseAddress! + y * width
          o.initialize(repeating: 0, count: width)
          for (t, w) in kernel.enumerated() {
            let yy = min(max(y + t - r, 0), height - 1)
            let row = src.baseAddress! + yy * width
            for col in 0..<width { o[col] += w * row[col] }
          }
        }
      }
    }
  }
}
