import CMatteKernels
import Testing

@testable import MatteMetrics

/// Grad's C passes (both builds: baseline and AVX2) against the Swift sums they mirror, bit for
/// bit, and the sparse magnitude they feed against the dense reference over whole frames.
@Suite struct GradKernelTests {
  typealias Rows = (
    UnsafePointer<Double>?, Int, Int, Int, UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?, Int,
    UnsafePointer<Double>?, UnsafePointer<Double>?
  ) -> Void
  typealias Columns = (
    UnsafePointer<Double>?, UnsafePointer<Double>?, Int, Int, Int, UnsafeMutablePointer<Double>?, Int,
    UnsafePointer<Double>?, UnsafePointer<Double>?
  ) -> Void

  /// The builds this processor can run, by name.
  static var builds: [(name: String, rows: Rows, columns: Columns)] {
    var out: [(name: String, rows: Rows, columns: Columns)] = [
      ("baseline", mg_grad_rows_baseline, mg_grad_columns_baseline)
    ]
    if mg_has_avx2() != 0 { out.append(("avx2", mg_grad_rows_avx2, mg_grad_columns_avx2)) }
    out.append(("dispatched", mg_grad_rows, mg_grad_columns))
    return out
  }

  @Test func rowPassesEqualTheSwiftSums() {
    var rng = SplitMix64(seed: 11)
    let g = SparseMagnitude.gaussianFactors
    let d = SparseMagnitude.derivativeFactors
    for build in Self.builds {
      // Every count from a lone tail pixel to several vectors plus a tail.
      for count in 1...13 {
        let rows = 3
        let stride = count + 8 + 3
        let x = (0..<(rows * stride)).map { _ in rng.uniform(0, 1) }
        var smooth = [Double](repeating: .nan, count: rows * 16)
        var deriv = smooth
        build.rows(x, stride, rows, count, &smooth, &deriv, 16, g, d)
        for r in 0..<rows {
          for c in 0..<count {
            let v = { (t: Int) in x[r * stride + c + t] }
            #expect(smooth[r * 16 + c] == Grad.smoothed(v, Grad.foldedGaussian), "\(build.name) \(count) \(r) \(c)")
            #expect(deriv[r * 16 + c] == Grad.differentiated(v, Grad.foldedDerivative), "\(build.name) \(count)")
          }
          // Nothing past `count` is written.
          #expect(smooth[(r * 16 + count)..<(r * 16 + 16)].allSatisfy { $0.isNaN })
        }
      }
    }
  }

  @Test func columnPassesEqualTheSwiftSums() {
    var rng = SplitMix64(seed: 12)
    let g = SparseMagnitude.gaussianFactors
    let d = SparseMagnitude.derivativeFactors
    for build in Self.builds {
      for count in 1...16 {
        let rows = 2
        let stride = 16
        let smooth = (0..<((rows + 8) * stride)).map { _ in rng.uniform(-1, 1) }
        let deriv = (0..<((rows + 8) * stride)).map { _ in rng.uniform(-1, 1) }
        var out = [Double](repeating: .nan, count: rows * 20)
        build.columns(smooth, deriv, stride, rows, count, &out, 20, g, d)
        for r in 0..<rows {
          for c in 0..<count {
            let gx = Grad.smoothed({ deriv[(r + $0) * stride + c] }, Grad.foldedGaussian)
            let gy = Grad.differentiated({ smooth[(r + $0) * stride + c] }, Grad.foldedDerivative)
            #expect(out[r * 20 + c] == (gx * gx + gy * gy).squareRoot(), "\(build.name) \(count) \(r) \(c)")
          }
          #expect(out[(r * 20 + count)..<(r * 20 + 20)].allSatisfy { $0.isNaN })
        }
      }
    }
  }

  /// The sparse magnitude (patches, C passes, block slots) equals the dense whole-frame
  /// magnitude at every pixel, exactly, including 0 where a block is not computed; frames cut
  /// blocks at the right and bottom edges and mix flat areas, ramps and noise.
  @Test(arguments: [(53, 29, 65535), (40, 24, 255), (17, 9, 1023), (16, 8, 255)])
  func sparseMagnitudeEqualsDenseExactly(_ size: (Int, Int, Int)) {
    let (w, h, maxValue) = size
    var rng = SplitMix64(seed: UInt64(w * h))
    let codes = (0..<(w * h)).map { k -> UInt16 in
      let (x, y) = (k % w, k / w)
      if x < w / 3 { return 0 }
      if y < h / 3 && x > w / 2 { return UInt16(rng.uniform(0, Double(maxValue))) }
      return UInt16(min(Double(maxValue), Double(x - w / 3) / Double(w / 3) * Double(maxValue)))
    }
    let m = Matte(width: w, height: h, maxValue: maxValue, codes: codes)
    let dense = Grad.gradientMagnitude(Grad.normalised(m), width: w, height: h)
    let grid = BlockGrid(m)
    let sparse = SparseMagnitude(m, grid: grid)
    var mismatches = 0
    for y in 0..<h {
      for x in 0..<w {
        let b = (y / BlockGrid.blockHeight) * grid.columns + x / BlockGrid.blockWidth
        if sparse.value(block: b, x: x, y: y) != dense[y * w + x] { mismatches += 1 }
      }
    }
    #expect(mismatches == 0, "\(w)x\(h) max \(maxValue)")
    #expect(dense.contains { $0 > 0 })
  }
}
