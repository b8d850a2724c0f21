/// The per-pixel terms of `FrameScorer` for one whole 16-pixel row of a block, in vectors.
///
/// Every term is the scalar definition of `FrameScorer`'s general path, lane by lane: the
/// same products and differences, zero where the codes are equal in value. Sums go into the
/// same per-pattern table; a row whose pixels all share one region pattern (most rows: regions
/// are wide) adds its four sums once, other rows add pixel by pixel.
enum RowKernel {
  typealias Lanes = SIMD8<Double>

  struct Constants {
    /// Maximum codes of the prediction and truth (and of the previous frame's), as doubles.
    let pm: Lanes
    let gm: Lanes
    let ip: Lanes
    let ig: Lanes
    let ipp: Lanes
    let igp: Lanes

    init(pMax: Double, gMax: Double, previousPMax: Double, previousGMax: Double) {
      pm = Lanes(repeating: pMax)
      gm = Lanes(repeating: gMax)
      ip = Lanes(repeating: 1 / pMax)
      ig = Lanes(repeating: 1 / gMax)
      ipp = Lanes(repeating: 1 / previousPMax)
      igp = Lanes(repeating: 1 / previousGMax)
    }
  }

  @inline(__always)
  static func load(_ p: UnsafePointer<UInt16>) -> Lanes {
    // Lane by lane (the generic vector conversion is not specialised); this vectorises.
    Lanes(
      Double(p[0]), Double(p[1]), Double(p[2]), Double(p[3]), Double(p[4]), Double(p[5]), Double(p[6]),
      Double(p[7]))
  }

  @inline(__always)
  static func load(_ p: UnsafePointer<UInt8>) -> Lanes {
    Lanes(
      Double(p[0]), Double(p[1]), Double(p[2]), Double(p[3]), Double(p[4]), Double(p[5]), Double(p[6]),
      Double(p[7]))
  }

  @inline(__always)
  static func load(_ p: UnsafePointer<Double>) -> Lanes {
    UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
  }

  /// Whether all sixteen bytes equal the first.
  @inline(__always)
  static func uniform(_ bits: UnsafePointer<UInt8>) -> Bool {
    let splat = UInt64(bits[0]) &* 0x0101_0101_0101_0101
    let raw = UnsafeRawPointer(bits)
    return raw.loadUnaligned(as: UInt64.self) == splat && raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == splat
  }

  /// φ(code) of Conn at level l′ (`Conn.phi`): 1 − (code·(1/max) − l′/10) where
  /// 20·code ≥ (2l′ + 3)·max, else 1; the test is exact on integers held in doubles.
  @inline(__always)
  static func phi(_ code: Lanes, value: Lanes, max: Lanes, level: Lanes, tenth: Lanes) -> Lanes {
    let reached = 20 * code .>= (2 * level + 3) * max
    return Lanes(repeating: 1).replacing(with: 1 - (value - tenth), where: reached)
  }

  /// l′/10 of eight levels, looked up in `Conn.tenths` (the same values as the scalar path).
  @inline(__always)
  static func tenths(_ l: UnsafePointer<UInt8>) -> Lanes {
    Conn.tenths.withUnsafeBufferPointer { t in
      Lanes(
        t[Int(l[0])], t[Int(l[1])], t[Int(l[2])], t[Int(l[3])], t[Int(l[4])], t[Int(l[5])], t[Int(l[6])],
        t[Int(l[7])])
    }
  }

  /// Absolute, squared, gradient and connectivity error of the eight pixels at the pointers.
  @inline(__always)
  static func terms(
    p: UnsafePointer<UInt16>, g: UnsafePointer<UInt16>, levels: UnsafePointer<UInt8>?,
    pMagnitude: UnsafePointer<Double>?, gMagnitude: UnsafePointer<Double>?, constants c: Constants
  ) -> (ad: Lanes, sq: Lanes, ge: Lanes, ce: Lanes) {
    let zero = Lanes(repeating: 0)
    var ad = zero
    var sq = zero
    var ce = zero
    if let levels {
      let pc = load(p)
      let gc = load(g)
      let equal = pc * c.gm .== gc * c.pm
      let pv = pc * c.ip
      let gv = gc * c.ig
      let d = (pv - gv).replacing(with: 0, where: equal)
      ad = d.replacing(with: -d, where: d .< 0)
      sq = d * d
      let l = load(levels)
      let t = tenths(levels)
      let e = phi(gc, value: gv, max: c.gm, level: l, tenth: t) - phi(pc, value: pv, max: c.pm, level: l, tenth: t)
      ce = e.replacing(with: -e, where: e .< 0).replacing(with: 0, where: equal)
    }
    var e = zero
    if let pMagnitude { e = load(pMagnitude) }
    if let gMagnitude { e -= load(gMagnitude) }
    return (ad, sq, e * e, ce)
  }

  /// SAD, MSE, Grad and Conn terms of sixteen pixels, added to `byPattern[4·bits + metric]`.
  /// `levels` is nil when prediction and truth are equal across the block (those terms are 0).
  @inline(__always)
  static func spatial(
    p: UnsafePointer<UInt16>, g: UnsafePointer<UInt16>, levels: UnsafePointer<UInt8>?,
    pMagnitude: UnsafePointer<Double>?, gMagnitude: UnsafePointer<Double>?, bits: UnsafePointer<UInt8>,
    constants: Constants, into byPattern: UnsafeMutablePointer<Double>
  ) {
    let left = terms(
      p: p, g: g, levels: levels, pMagnitude: pMagnitude, gMagnitude: gMagnitude, constants: constants)
    let right = terms(
      p: p + 8, g: g + 8, levels: levels.map { $0 + 8 }, pMagnitude: pMagnitude.map { $0 + 8 },
      gMagnitude: gMagnitude.map { $0 + 8 }, constants: constants)
    if uniform(bits) {
      let o = Int(bits[0]) &* 4
      byPattern[o] += (left.ad + right.ad).sum()
      byPattern[o &+ 1] += (left.sq + right.sq).sum()
      byPattern[o &+ 2] += (left.ge + right.ge).sum()
      byPattern[o &+ 3] += (left.ce + right.ce).sum()
      return
    }
    @inline(__always) func scatter(_ t: (ad: Lanes, sq: Lanes, ge: Lanes, ce: Lanes), _ bits: UnsafePointer<UInt8>) {
      for i in 0..<8 {
        let o = Int(bits[i]) &* 4
        byPattern[o] += t.ad[i]
        byPattern[o &+ 1] += t.sq[i]
        byPattern[o &+ 2] += t.ge[i]
        byPattern[o &+ 3] += t.ce[i]
      }
    }
    scatter(left, bits)
    scatter(right, bits + 8)
  }

  /// dtSSD terms of sixteen pixels, ((p − p′) − (g − g′))², added to `byPattern[bits]` with the
  /// previous frame's region bits.
  @inline(__always)
  static func temporal(
    p: UnsafePointer<UInt16>, g: UnsafePointer<UInt16>, previousP: UnsafePointer<UInt16>,
    previousG: UnsafePointer<UInt16>, bits: UnsafePointer<UInt8>, constants c: Constants,
    into byPattern: UnsafeMutablePointer<Double>
  ) {
    @inline(__always) func half(_ o: Int) -> Lanes {
      let dd = (load(p + o) * c.ip - load(previousP + o) * c.ipp) - (load(g + o) * c.ig - load(previousG + o) * c.igp)
      return dd * dd
    }
    let left = half(0)
    let right = half(8)
    if uniform(bits) {
      byPattern[Int(bits[0])] += (left + right).sum()
      return
    }
    for i in 0..<8 {
      byPattern[Int(bits[i])] += left[i]
      byPattern[Int(bits[8 &+ i])] += right[i]
    }
  }
}
