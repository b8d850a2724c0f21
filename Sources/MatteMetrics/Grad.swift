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
}

/// |∇x̂| of a frame on the blocks where it can be non-zero (`BlockGrid.gradientActive`), and 0
/// elsewhere, where the whole 9×9 neighbourhood is constant. Inside a computed block every
/// value is the same sum, in the same order, as `Grad.gradientMagnitude`'s.
struct SparseMagnitude: Sendable {
  /// Start of each block's values in `values` (blockWidth × blockHeight, row-major), or −1.
  private(set) var offsets: [Int32]
  private(set) var values: [Double]

  static let stride = BlockGrid.blockWidth * BlockGrid.blockHeight

  init(_ m: Matte, grid: BlockGrid) {
    let (lo, hi) = grid.extremes
    offsets = [Int32](repeating: -1, count: grid.count)
    values = []
    guard hi > lo else { return }  // x̂ is all zeros
    let active = grid.gradientActive()
    let activeCount = active.reduce(0) { $0 + ($1 ? 1 : 0) }
    guard activeCount > 0 else { return }
    // Every slot is written below (a block cut by the frame's edge is zeroed first), so the
    // megabytes are not zeroed up front.
    values = [Double](unsafeUninitializedCapacity: activeCount * Self.stride) { _, count in
      count = activeCount * Self.stride
    }
    let low = Double(lo)
    let range = Double(hi) - low
    let r = Grad.halfSize
    let bw = BlockGrid.blockWidth
    let bh = BlockGrid.blockHeight
    // Vertical runs of active blocks in one block column share one patch, so the rows the
    // kernel reaches above and below a block are filtered once per run, not once per block.
    let pw = bw + 2 * r
    let ph = grid.rows * bh + 2 * r
    var patch = [Double](repeating: 0, count: pw * ph)
    var smooth = [Double](repeating: 0, count: bw * ph)
    var deriv = [Double](repeating: 0, count: bw * ph)
    let gk = Grad.gaussian
    let dk = Grad.derivative
    let (w, h) = (m.width, m.height)
    var next: Int32 = 0
    // Shallow mattes (8-bit outputs) look their normalised values up: the same quotients,
    // computed once per code instead of once per patch pixel.
    let table: [Double]? = m.maxValue < 4096 ? (0...m.maxValue).map { (Double($0) - low) / range } : nil
    m.codes.withUnsafeBufferPointer { codes in
      (table ?? []).withUnsafeBufferPointer { tableBuffer in
        let normalised = table == nil ? nil : tableBuffer.baseAddress
        values.withUnsafeMutableBufferPointer { out in
          patch.withUnsafeMutableBufferPointer { pb in
            smooth.withUnsafeMutableBufferPointer { sb in
              deriv.withUnsafeMutableBufferPointer { db in
                for bx in 0..<grid.columns {
                  var by = 0
                  while by < grid.rows {
                    guard active[by * grid.columns + bx] else {
                      by += 1
                      continue
                    }
                    let first = by
                    while by < grid.rows && active[by * grid.columns + bx] { by += 1 }
                    let xs = grid.xRange(ofColumn: bx)
                    let y0 = first * bh
                    let y1 = min(by * bh, h)
                    let cw = xs.count
                    // Normalised values with the replicate border, as `normalised` computes them.
                    let inside = xs.lowerBound >= r && xs.upperBound + r <= w
                    for py in 0..<(y1 - y0 + 2 * r) {
                      let sy = min(max(y0 - r + py, 0), h - 1)
                      let src = codes.baseAddress! + sy * w
                      let dst = pb.baseAddress! + py * pw
                      if inside, let table = normalised {
                        let from = src + (xs.lowerBound - r)
                        for px in 0..<(cw + 2 * r) { dst[px] = table[Int(from[px])] }
                      } else if inside {
                        let from = src + (xs.lowerBound - r)
                        for px in 0..<(cw + 2 * r) { dst[px] = (Double(from[px]) - low) / range }
                      } else {
                        for px in 0..<(cw + 2 * r) {
                          let sx = min(max(xs.lowerBound - r + px, 0), w - 1)
                          dst[px] = (Double(src[sx]) - low) / range
                        }
                      }
                    }
                    // Row passes: taps in kernel order from 0, as `correlateRows`, four columns
                    // at a time in registers.
                    for py in 0..<(y1 - y0 + 2 * r) {
                      Self.correlate(
                        pb.baseAddress! + py * pw, count: cw, smooth: sb.baseAddress! + py * bw,
                        derivative: db.baseAddress! + py * bw, gk: gk, dk: dk)
                    }
                    // Column passes (G on the row derivative, G′ on the row smoothing) and the
                    // magnitude, as `gradientMagnitude`, into each block's own slot.
                    for b in first..<by {
                      offsets[b * grid.columns + bx] = next
                      let o = out.baseAddress! + Int(next)
                      if cw < bw || b * bh + bh > h { o.update(repeating: 0, count: Self.stride) }
                      for y in (b * bh)..<min(b * bh + bh, h) {
                        Self.columns(
                          smooth: sb.baseAddress! + (y - y0) * bw, derivative: db.baseAddress! + (y - y0) * bw,
                          stride: bw, count: cw, gk: gk, dk: dk, out: o + (y - b * bh) * bw)
                      }
                      next += Int32(Self.stride)
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  /// smooth[c] = Σ_t gk[t]·x[c + t], derivative[c] = Σ_t dk[t]·x[c + t], t in kernel order.
  @inline(__always)
  static func correlate(
    _ x: UnsafePointer<Double>, count: Int, smooth: UnsafeMutablePointer<Double>,
    derivative: UnsafeMutablePointer<Double>, gk: [Double], dk: [Double]
  ) {
    var c = 0
    while c + 4 <= count {
      var s = SIMD4<Double>(repeating: 0)
      var d = SIMD4<Double>(repeating: 0)
      for t in 0..<gk.count {
        let v = UnsafeRawPointer(x + c + t).loadUnaligned(as: SIMD4<Double>.self)
        s += gk[t] * v
        d += dk[t] * v
      }
      UnsafeMutableRawPointer(smooth + c).storeBytes(of: s, as: SIMD4<Double>.self)
      UnsafeMutableRawPointer(derivative + c).storeBytes(of: d, as: SIMD4<Double>.self)
      c += 4
    }
    while c < count {
      var s = 0.0
      var d = 0.0
      for t in 0..<gk.count {
        s += gk[t] * x[c + t]
        d += dk[t] * x[c + t]
      }
      smooth[c] = s
      derivative[c] = d
      c += 1
    }
  }

  /// out[c] = √(gx² + gy²) with gx = Σ_t gk[t]·derivative[c + t·stride] and
  /// gy = Σ_t dk[t]·smooth[c + t·stride], t in kernel order.
  @inline(__always)
  static func columns(
    smooth: UnsafePointer<Double>, derivative: UnsafePointer<Double>, stride: Int, count: Int, gk: [Double],
    dk: [Double], out: UnsafeMutablePointer<Double>
  ) {
    var c = 0
    while c + 4 <= count {
      var gx = SIMD4<Double>(repeating: 0)
      var gy = SIMD4<Double>(repeating: 0)
      for t in 0..<gk.count {
        gx += gk[t] * UnsafeRawPointer(derivative + c + t * stride).loadUnaligned(as: SIMD4<Double>.self)
        gy += dk[t] * UnsafeRawPointer(smooth + c + t * stride).loadUnaligned(as: SIMD4<Double>.self)
      }
      let m = (gx * gx + gy * gy).squareRoot()
      UnsafeMutableRawPointer(out + c).storeBytes(of: m, as: SIMD4<Double>.self)
      c += 4
    }
    while c < count {
      var gx = 0.0
      var gy = 0.0
      for t in 0..<gk.count {
        gx += gk[t] * derivative[c + t * stride]
        gy += dk[t] * smooth[c + t * stride]
      }
      out[c] = (gx * gx + gy * gy).squareRoot()
      c += 1
    }
  }

  /// The magnitude at pixel (x, y) of block `b`, or 0 outside computed blocks.
  @inline(__always)
  func value(block b: Int, x: Int, y: Int) -> Double {
    let o = offsets[b]
    return o < 0 ? 0 : values[Int(o) + (y % BlockGrid.blockHeight) * BlockGrid.blockWidth + x % BlockGrid.blockWidth]
  }
}
