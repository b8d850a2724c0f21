import CMatteKernels
import Testing

@testable import MatteMetrics

/// The C kernels (both builds: baseline and AVX2): Grad's passes against the Swift sums they
/// mirror, bit for bit, and the sparse magnitude they feed against the dense reference over
/// whole frames; the block terms against the scalar definitions pixel by pixel.
@Suite struct CKernelTests {
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

  /// A block of random codes (some equal in value to the truth across depths), levels,
  /// magnitudes and region bits, uniform on some rows and mixed on others.
  struct Block {
    var p: [UInt16]
    var g: [UInt16]
    var pp: [UInt16]
    var gp: [UInt16]
    var levels: [UInt8]
    var pMag: [Double]
    var gMag: [Double]
    var bits: [UInt8]
    var before: [UInt8]
    static let stride = 21
    static let rows = 8

    init(seed: UInt64) {
      var rng = SplitMix64(seed: seed)
      let n = Self.stride * Self.rows
      p = (0..<n).map { _ in UInt16(rng.uniform(0, 256)) }
      // The truth at 16 bits: a third of the pixels equal the prediction in value (code·257).
      g = p.map { c in rng.uniform(0, 1) < 0.33 ? c * 257 : UInt16(rng.uniform(0, 65536)) }
      pp = (0..<n).map { _ in UInt16(rng.uniform(0, 256)) }
      gp = (0..<n).map { _ in UInt16(rng.uniform(0, 65536)) }
      levels = (0..<n).map { _ in UInt8(rng.uniform(0, 11)) }
      pMag = (0..<(16 * Self.rows)).map { _ in rng.uniform(0, 2) }
      gMag = (0..<(16 * Self.rows)).map { _ in rng.uniform(0, 2) }
      bits = (0..<n).map { k in k / Self.stride % 2 == 0 ? 5 : UInt8(rng.uniform(0, 32)) }
      before = (0..<n).map { k in k / Self.stride % 3 == 0 ? 9 : UInt8(rng.uniform(0, 32)) }
    }
  }

  /// FrameScorer's scalar path: the four spatial sums and the dtSSD sum per region pattern.
  static func scalarSums(_ b: Block, levels: Bool, pMag: Bool, gMag: Bool) -> (spatial: [Double], temporal: [Double]) {
    var spatial = [Double](repeating: 0, count: 256 * 4)
    var temporal = [Double](repeating: 0, count: 256)
    let (pm, gm) = (255, 65535)
    let (ip, ig) = (1.0 / 255, 1.0 / 65535)
    for r in 0..<Block.rows {
      for x in 0..<16 {
        let k = r * Block.stride + x
        let pc = Int(b.p[k])
        let gc = Int(b.g[k])
        let o = Int(b.bits[k]) * 4
        if levels && pc * gm != gc * pm {
          let d = Double(pc) * ip - Double(gc) * ig
          spatial[o] += abs(d)
          spatial[o + 1] += d * d
          let l = Int(b.levels[k])
          spatial[o + 3] += abs(
            Conn.phi(code: gc, maxValue: gm, level: l) - Conn.phi(code: pc, maxValue: pm, level: l))
        }
        let e = (pMag ? b.pMag[r * 16 + x] : 0) - (gMag ? b.gMag[r * 16 + x] : 0)
        spatial[o + 2] += e * e
        let dd = (Double(pc) * ip - Double(b.pp[k]) * ip) - (Double(gc) * ig - Double(b.gp[k]) * ig)
        temporal[Int(b.before[k])] += dd * dd
      }
    }
    return (spatial, temporal)
  }

  typealias Spatial = (
    UnsafePointer<UInt16>?, UnsafePointer<UInt16>?, Int, Int, UnsafePointer<UInt8>?, UnsafePointer<Double>?,
    UnsafePointer<Double>?, UnsafePointer<UInt8>?, UnsafePointer<mg_block_constants>?, UnsafeMutablePointer<Double>?
  ) -> Void
  typealias Temporal = (
    UnsafePointer<UInt16>?, UnsafePointer<UInt16>?, UnsafePointer<UInt16>?, UnsafePointer<UInt16>?, Int, Int,
    UnsafePointer<UInt8>?, UnsafePointer<mg_block_constants>?, UnsafeMutablePointer<Double>?
  ) -> Void

  @Test(arguments: [(true, true, true), (true, false, true), (false, true, false), (false, false, false)])
  func blockTermsEqualTheScalarDefinitions(_ present: (Bool, Bool, Bool)) {
    let (withLevels, withP, withG) = present
    var builds: [(String, Spatial, Temporal)] = [
      ("baseline", mg_block_spatial_baseline, mg_block_temporal_baseline)
    ]
    if mg_has_avx2() != 0 { builds.append(("avx2", mg_block_spatial_avx2, mg_block_temporal_avx2)) }
    builds.append(("dispatched", mg_block_spatial, mg_block_temporal))
    for seed in UInt64(1)...4 {
      let b = Block(seed: seed)
      let want = Self.scalarSums(b, levels: withLevels, pMag: withP, gMag: withG)
      var first: (spatial: [Double], temporal: [Double])?
      for (name, spatial, temporal) in builds {
        var c = mg_block_constants(
          pMax: 255, gMax: 65535, ip: 1.0 / 255, ig: 1.0 / 65535, ipp: 1.0 / 255, igp: 1.0 / 65535,
          tenths: Conn.tenthsPointer)
        var s = [Double](repeating: 0, count: 256 * 4)
        var t = [Double](repeating: 0, count: 256)
        b.levels.withUnsafeBufferPointer { lv in
          b.pMag.withUnsafeBufferPointer { pm in
            b.gMag.withUnsafeBufferPointer { gm in
              spatial(
                b.p, b.g, Block.stride, Block.rows, withLevels ? lv.baseAddress : nil, withP ? pm.baseAddress : nil,
                withG ? gm.baseAddress : nil, b.bits, &c, &s)
            }
          }
        }
        temporal(b.p, b.g, b.pp, b.gp, Block.stride, Block.rows, b.before, &c, &t)
        for i in 0..<s.count {
          #expect(abs(s[i] - want.spatial[i]) <= 1e-12 * max(1, abs(want.spatial[i])), "\(name) spatial \(i)")
        }
        for i in 0..<t.count {
          #expect(abs(t[i] - want.temporal[i]) <= 1e-12 * max(1, abs(want.temporal[i])), "\(name) temporal \(i)")
        }
        // Not vacuous: terms are there exactly when their inputs are.
        #expect(s.contains { $0 != 0 } == (withLevels || withP || withG))
        #expect(t.contains { $0 != 0 })
        // Every build sums in the same order: identical values, not merely close ones.
        if let first {
          #expect(first.spatial == s && first.temporal == t, "\(name)")
        } else {
          first = (s, t)
        }
      }
    }
  }
}
