import CMatteKernels
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

  /// The smoothing factor folded on its symmetry, G[4 − k] for k = 0…4 (G is even).
  /// Lanes 5…7 are unused.
  static let foldedGaussian = SIMD8<Double>((0..<8).map { $0 <= halfSize ? gaussian[halfSize - $0] : 0 })
  /// The derivative factor folded on its antisymmetry, G′[k] for k = 0…3 (G′ is odd, G′[4] = 0).
  static let foldedDerivative = SIMD4<Double>(derivative[0..<halfSize])

  /// Σ_t G[t]·v[t] over nine taps, summed as G[4]·v₄ + G[3]·(v₃ + v₅) + … + G[0]·(v₀ + v₈): half
  /// the products of the plain sum. The sparse path's C passes (CMatteKernels, grad_body.h) sum
  /// term by term in this order without fused multiply-adds, so their values are identical.
  @inline(__always)
  static func smoothed(_ v: (Int) -> Double, _ g: SIMD8<Double>) -> Double {
    var s = g[0] * v(4)
    s = s + g[1] * (v(3) + v(5))
    s = s + g[2] * (v(2) + v(6))
    s = s + g[3] * (v(1) + v(7))
    return s + g[4] * (v(0) + v(8))
  }

  /// Σ_t G′[t]·v[t] over nine taps, summed as G′[0]·(v₀ − v₈) + … + G′[3]·(v₃ − v₅).
  @inline(__always)
  static func differentiated(_ v: (Int) -> Double, _ d: SIMD4<Double>) -> Double {
    var s = d[0] * (v(0) - v(8))
    s = s + d[1] * (v(1) - v(7))
    s = s + d[2] * (v(2) - v(6))
    return s + d[3] * (v(3) - v(5))
  }

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
    let (smoothX, derivX) = rowPasses(x, width: width, height: height)
    // k_x = G(y)·G′(x): derivative along rows, smoothing along columns; k_y = k_xᵀ. The column
    // passes run a row at a time, and the magnitude is taken right away.
    let r = halfSize
    return [Double](unsafeUninitializedCapacity: x.count) { out, count in
      count = x.count
      smoothX.withUnsafeBufferPointer { sx in
        derivX.withUnsafeBufferPointer { dx in
          for y in 0..<height {
            let rows = (0...(2 * r)).map { min(max(y + $0 - r, 0), height - 1) * width }
            let o = out.baseAddress! + y * width
            for col in 0..<width {
              let gx = smoothed({ dx[rows[$0] + col] }, foldedGaussian)
              let gy = differentiated({ sx[rows[$0] + col] }, foldedDerivative)
              o[col] = (gx * gx + gy * gy).squareRoot()
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

  /// The row passes with a replicate border: G and G′ along each row, folded sums
  /// (`smoothed`, `differentiated`) for every pixel, so results do not depend on the path.
  static func rowPasses(_ x: [Double], width: Int, height: Int) -> (smooth: [Double], derivative: [Double]) {
    let r = halfSize
    var smooth = [Double](repeating: 0, count: x.count)
    var derivative = [Double](repeating: 0, count: x.count)
    var window = [Double](repeating: 0, count: 2 * r + 1)
    x.withUnsafeBufferPointer { src in
      for y in 0..<height {
        let row = src.baseAddress! + y * width
        for col in 0..<width {
          for t in 0...(2 * r) { window[t] = row[min(max(col + t - r, 0), width - 1)] }
          smooth[y * width + col] = smoothed({ window[$0] }, foldedGaussian)
          derivative[y * width + col] = differentiated({ window[$0] }, foldedDerivative)
        }
      }
    }
    return (smooth, derivative)
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
  /// How many rows ahead the patch fill prefetches.
  static let prefetchRows = 8

  /// The folded factors as the C passes take them: G[4], G[3], …, G[0] and G′[0], …, G′[3].
  static let gaussianFactors: [Double] = (0...Grad.halfSize).map { Grad.foldedGaussian[$0] }
  static let derivativeFactors: [Double] = (0..<Grad.halfSize).map { Grad.foldedDerivative[$0] }

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
    let (w, h) = (m.width, m.height)
    var next: Int32 = 0
    // Shallow mattes (8-bit outputs) look their normalised values up: the same quotients,
    // computed once per code instead of once per patch pixel. The table runs to the highest
    // code present, not the maximum: a matte may hold codes above its maximum (values past 1).
    let table: [Double]? = m.maxValue < 4096 ? (0...Int(hi)).map { (Double($0) - low) / range } : nil
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
                      // The rows a run reads are a frame row apart, too far for the hardware to
                      // see coming: ask for the row a few ahead.
                      let ahead = codes.baseAddress! + min(sy + Self.prefetchRows, h - 1) * w
                      mg_prefetch(ahead + max(xs.lowerBound - r, 0))
                      mg_prefetch(ahead + min(xs.upperBound + r, w) - 1)
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
                    // Row passes, folded as `Grad.rowPasses` sums them (CMatteKernels: four
                    // columns per instruction where the processor has AVX2).
                    mg_grad_rows(
                      pb.baseAddress!, pw, y1 - y0 + 2 * r, cw, sb.baseAddress!, db.baseAddress!, bw,
                      Self.gaussianFactors, Self.derivativeFactors)
                    // Column passes (G on the row derivative, G′ on the row smoothing) and the
                    // magnitude, as `gradientMagnitude`, into each block's own slot.
                    for b in first..<by {
                      offsets[b * grid.columns + bx] = next
                      let o = out.baseAddress! + Int(next)
                      if cw < bw || b * bh + bh > h { o.update(repeating: 0, count: Self.stride) }
                      mg_grad_columns(
                        sb.baseAddress! + (b * bh - y0) * bw, db.baseAddress! + (b * bh - y0) * bw, bw,
                        min(b * bh + bh, h) - b * bh, cw, o, bw, Self.gaussianFactors, Self.derivativeFactors)
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

  /// The magnitude at pixel (x, y) of block `b`, or 0 outside computed blocks.
  @inline(__always)
  func value(block b: Int, x: Int, y: Int) -> Double {
    let o = offsets[b]
    return o < 0 ? 0 : values[Int(o) + (y % BlockGrid.blockHeight) * BlockGrid.blockWidth + x % BlockGrid.blockWidth]
  }
}
