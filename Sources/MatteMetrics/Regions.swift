import CMatteKernels
import Foundation
import Synchronization

/// The regions mattegate scores (specs/metrics.md, "Regions").
public enum RegionKind: String, Sendable, CaseIterable, Codable, Comparable {
  case frame
  case transition
  case hair
  case glass
  case motion

  public var bit: UInt8 {
    switch self {
    case .frame: 1
    case .transition: 2
    case .hair: 4
    case .glass: 8
    case .motion: 16
    }
  }

  public static func < (a: RegionKind, b: RegionKind) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }
}

/// Version of the region definitions; stored with results.
public let regionsVersion =
  "mattegate-regions/3 (transition dilate 2, motion dilate 2, glass = flat plateau core 2 grown 3, hair = thin soft grown 1, minus glass)"

/// Which regions each pixel of a frame belongs to.
public struct RegionMap: Sendable, Equatable {
  public var width: Int
  public var height: Int
  public var bits: [UInt8]

  /// Every pixel in the frame region and no other.
  public static func frameOnly(width: Int, height: Int) -> RegionMap {
    RegionMap(
      width: width, height: height, bits: .init(repeating: RegionKind.frame.bit, count: width * height),
      support: [width * height] + Array(repeating: 0, count: RegionKind.allCases.count - 1))
  }

  /// Pixels per region when the deriver counted them as it went.
  let knownSupport: [Int]?

  public init(width: Int, height: Int, bits: [UInt8]) {
    self.init(width: width, height: height, bits: bits, support: nil)
  }

  init(width: Int, height: Int, bits: [UInt8], support: [Int]?) {
    precondition(bits.count == width * height)
    self.width = width
    self.height = height
    self.bits = bits
    knownSupport = support
  }

  public static func == (a: RegionMap, b: RegionMap) -> Bool {
    a.width == b.width && a.height == b.height && a.bits == b.bits
  }

  /// Pixels per region of `bits`, counting only the spans: outside them every pixel is in
  /// the frame region alone.
  static func supports(of bits: [UInt8], spans: [[Range<Int>]], width w: Int, height h: Int) -> [Int] {
    var counts = [Int](repeating: 0, count: RegionKind.allCases.count)
    bits.withUnsafeBufferPointer { b in
      BytePlaneMorphology.forEach(spans, width: w, height: h) { start, count in
        for bit in 1..<counts.count {
          var c = 0
          for k in start..<(start + count) { c &+= Int((b[k] >> UInt8(bit)) & 1) }
          counts[bit] += c
        }
      }
    }
    counts[0] = w * h
    return counts
  }

  public func contains(_ region: RegionKind, at index: Int) -> Bool { bits[index] & region.bit != 0 }

  /// Σ `map` over the pixels of `region` (ascending index) and how many pixels that is.
  public func sum(_ map: [Double], over region: RegionKind) -> (sum: Double, pixels: Int) {
    precondition(map.count == bits.count, "map and regions differ in size")
    let b = region.bit
    var sum = 0.0
    var n = 0
    for i in 0..<bits.count where bits[i] & b != 0 {
      sum += map[i]
      n += 1
    }
    return (sum, n)
  }

  /// Pixels of every region, in `RegionKind.allCases` order.
  public func supports() -> [Int] {
    if let knownSupport { return knownSupport }
    var counts = [Int](repeating: 0, count: 8)
    bits.withUnsafeBufferPointer { b in
      // Every bit in one pass (five regions, bits 0…4), in chunks small enough for 16-bit
      // lanes, which vectorises.
      assert(RegionKind.allCases.count == 5, "one counter per region")
      var i = 0
      while i < b.count {
        let end = min(i + 32768, b.count)
        var (c0, c1, c2, c3, c4): (UInt16, UInt16, UInt16, UInt16, UInt16) = (0, 0, 0, 0, 0)
        for k in i..<end {
          let v = UInt16(b[k])
          c0 &+= v & 1
          c1 &+= (v >> 1) & 1
          c2 &+= (v >> 2) & 1
          c3 &+= (v >> 3) & 1
          c4 &+= (v >> 4) & 1
        }
        for (bit, c) in [c0, c1, c2, c3, c4].enumerated() { counts[bit] += Int(c) }
        i = end
      }
    }
    return Array(counts.prefix(RegionKind.allCases.count))
  }

  /// Number of pixels in `region`.
  public func support(_ region: RegionKind) -> Int {
    let b = region.bit
    return bits.reduce(0) { $0 + ($1 & b != 0 ? 1 : 0) }
  }
}

/// Derives regions from ground truth, identically for both arms.
public struct RegionDeriver: Sendable {
  /// Dilation of the 0 < g < 1 band, in pixels (square neighbourhood).
  public var transitionRadius = 2
  /// Dilation of the pixels whose ground truth changed since the previous frame.
  public var motionRadius = 2
  /// Glass plateaus: ε < g < 1 − ε …
  public var glassEpsilon = 0.05
  /// … that are flat: g spans at most this share of its scale over the square window of this
  /// radius (a sheet of glass is uniform; a motion-blurred edge is a ramp) …
  public var glassFlatRange = 0.1
  public var glassFlatRadius = 2
  /// … eroded by this radius (the core: wider than any edge band) …
  public var glassCoreRadius = 2
  /// … then dilated by the core radius plus this growth, where g > 0, so that the sheet's own
  /// soft border is glass too.
  public var glassGrowRadius = 3
  /// Hair: soft pixels outside the soft band's opening (radius 1) and outside glass, grown by
  /// this radius, less glass.
  public var hairGrowRadius = 1

  public init() {}

  /// The regions of one frame.
  ///
  /// - Parameters:
  ///   - truth: ground-truth alpha of frame t.
  ///   - previousTruth: ground-truth alpha of frame t − 1 (nil on frame 0: no motion region).
  ///   - hairMask: the clip's own hair mask, which wins over the derived one (less any glass pixels:
  ///     hair and glass never overlap).
  ///   - glassMask: the clip's own glass mask, which wins over the derived one.
  public func regions(
    truth: Matte, previousTruth: Matte?, hairMask: [Bool]?, glassMask: [Bool]?
  ) -> RegionMap {
    var masks: [RegionKind: [Bool]] = [:]
    masks[.hair] = hairMask
    masks[.glass] = glassMask
    return regions(
      truth: truth, grid: BlockGrid(truth), previous: previousTruth.map { ($0, BlockGrid($0)) }, masks: masks)
  }

  /// The regions of one frame with a clip's own masks as bits of one code plane (a code of 0:
  /// that region is derived), without the rest of a frame's preparation for scoring.
  public func regions(
    truth: Matte, previousTruth: Matte?, maskCodes: [UInt16]?, hair: UInt16, glass: UInt16, motion: UInt16
  ) -> RegionMap {
    regions(
      truth: truth, grid: BlockGrid(truth), previous: previousTruth.map { ($0, BlockGrid($0)) }, masks: [:],
      maskCodes: maskCodes.map { ($0, hair, glass, motion) })
  }

  /// The regions of one frame, from byte planes holding one bit per region candidate, so that
  /// every morphological pass works on all of them at once (square windows, in-frame part):
  /// soft = 0 < g < 1, flat = ε < g < 1 − ε with a 5×5 range of g ≤ `glassFlatRange`,
  /// changed = g differs from frame t − 1;
  /// transition = soft dilated; glass = flat eroded by `glassCoreRadius`, dilated by
  /// `glassCoreRadius + glassGrowRadius`, where g > 0; hair = (soft minus its opening of radius 1
  /// minus glass) dilated by `hairGrowRadius`, minus glass; motion = changed dilated.
  ///
  /// `masks` are a clip's own masks (transition, hair, glass or motion); each replaces the
  /// derived region (derived hair leaves out an own glass mask's pixels, an own hair mask loses
  /// its glass pixels). `maskCodes` carries own hair, glass and motion masks as bits of one code
  /// plane instead (a code of 0: that region is derived); `masks` must then be empty.
  func regions(
    truth: Matte, grid: BlockGrid, previous: (matte: Matte, grid: BlockGrid)?, masks: [RegionKind: [Bool]],
    maskCodes: (codes: [UInt16], hair: UInt16, glass: UInt16, motion: UInt16)? = nil
  ) -> RegionMap {
    let w = truth.width
    let h = truth.height
    let n = w * h
    for (region, mask) in masks {
      precondition(region != .frame, "the frame region has no mask")
      precondition(mask.count == n, "\(region) mask differs in size")
    }
    let previous = previous.flatMap { $0.matte.width == w && $0.matte.height == h ? $0 : nil }
    let own = OwnMasks(masks: masks, codes: maskCodes, count: n)
    // With its own hair and glass masks, a clip's derived glass and hair are never seen (own
    // glass replaces derived glass everywhere, own hair replaces derived hair): no plateau
    // candidates, no glass test, no erosion, no hair seeds; transition and motion as ever.
    let ownHairAndGlass = own.has(.hair) && own.has(.glass)
    let soft: UInt8 = 1
    let plateau: UInt8 = 2
    let changed: UInt8 = 4
    // Candidate bits per code.
    let m = truth.maxValue
    let lo = glassEpsilon * Double(m)
    let hi = (1 - glassEpsilon) * Double(m)
    let table = candidateTable(maxValue: m, lo: lo, hi: hi, plateau: !ownHairAndGlass)
    let plane = ZeroedBytes(count: n)
    // Blocks where the plane can be non-zero: everything else (flat 0 or 1, unchanged since
    // t − 1) stays 0 and is skipped by every pass below. A flat block unchanged since t − 1
    // holds one byte (`fill`); every other block (−1) is mapped pixel by pixel.
    var seeded = [Bool](repeating: false, count: grid.count)
    var fill = [Int16](repeating: -1, count: grid.count)
    for b in 0..<grid.count {
      let flat = grid.isConstant(b)
      let same =
        previous.map { $0.grid.isConstant(b) && flat && $0.matte.maxValue == m && $0.grid.low[b] == grid.low[b] }
        ?? true
      if flat && same {
        let v = table[Int(grid.low[b])]
        fill[b] = Int16(v)
        seeded[b] = v != 0
      } else {
        seeded[b] = true
      }
    }
    // Row by row, so that the truth, the previous truth and the plane are each read in order
    // (a block's rows are a frame row apart).
    let previousCodes = previous?.matte.codes ?? []
    let pm32 = UInt32(previous?.matte.maxValue ?? m)
    let m32 = UInt32(m)
    truth.codes.withUnsafeBufferPointer { g in
      previousCodes.withUnsafeBufferPointer { gp in
        table.withUnsafeBufferPointer { t in
          plane.withUnsafeMutableBufferPointer { out in
            for y in 0..<h {
              let blockRow = (y / BlockGrid.blockHeight) * grid.columns
              let o = y * w
              for bx in 0..<grid.columns {
                let f = fill[blockRow + bx]
                guard f != 0 else { continue }
                let xs = grid.xRange(ofColumn: bx)
                if f > 0 {
                  (out.baseAddress! + o + xs.lowerBound).update(repeating: UInt8(f), count: xs.count)
                  continue
                }
                for k in (o + xs.lowerBound)..<(o + xs.upperBound) { out[k] = t[Int(g[k])] }
                if previous != nil {
                  // g·pMax ≠ g′·max on 32 bits (16-bit codes times 16-bit maxima), which vectorises.
                  for k in (o + xs.lowerBound)..<(o + xs.upperBound) {
                    out[k] |= UInt32(g[k]) &* pm32 != UInt32(gp[k]) &* m32 ? changed : 0
                  }
                }
              }
            }
          }
        }
      }
    }
    // Radii are below a block's size, so the passes reach at most the neighbouring blocks:
    // work on runs of blocks next to a seeded one, a block row at a time.
    let spans = grid.spans(near: seeded)
    // Flat plateau: a plateau pixel whose 5×5 window (in-frame part) spans at most
    // `glassFlatRange` of the scale. Glass is a uniform sheet; a motion-blurred edge is a ramp.
    if !ownHairAndGlass { clearSlopedPlateau(plane, truth: truth, spans: spans, plateau: plateau) }
    // Erode soft by 1 and the flat plateau by the glass core radius; keep them as bits 3 and 4
    // beside the originals, then dilate: soft and changed by their radii, the eroded soft back
    // by 1 (an opening), the glass core by its radius plus the growth. One zeroed scratch serves
    // every pass: each writes only span pixels, and the column pass reads rows outside the
    // spans, which stay 0.
    let scratch = ZeroedBytes(count: n)
    let motionBit: UInt8 = previous != nil ? RegionKind.motion.bit : 0
    if ownHairAndGlass {
      let dilated = BytePlaneMorphology.apply(
        plane, scratch: scratch, width: w, height: h, spans: spans,
        radii: [(soft, transitionRadius), (changed, motionRadius)], dilate: true)
      var bits = [UInt8](repeating: RegionKind.frame.bit, count: n)
      dilated.withUnsafeBufferPointer { d in
        bits.withUnsafeMutableBufferPointer { out in
          BytePlaneMorphology.forEach(spans, width: w, height: h) { k, count in
            for k in k..<(k + count) {
              let v = d[k]
              out[k] = RegionKind.frame.bit | ((v & soft) << 1) | (((v >> 2) & 1) &* motionBit)
            }
          }
        }
      }
      own.write(.glass, into: &bits)
      own.write(.hair, into: &bits, exceptWhere: RegionKind.glass.bit)
      for region in [RegionKind.transition, .motion] where own.has(region) { own.write(region, into: &bits) }
      return RegionMap(width: w, height: h, bits: bits)
    }
    let eroded = BytePlaneMorphology.apply(
      plane, scratch: scratch, width: w, height: h, spans: spans, radii: [(soft, 1), (plateau, glassCoreRadius)],
      dilate: false)
    plane.withUnsafeMutableBufferPointer { pl in
      eroded.withUnsafeBufferPointer { e in
        BytePlaneMorphology.forEach(spans, width: w, height: h) { k, count in
          for k in k..<(k + count) { pl[k] = (pl[k] & (soft | changed)) | ((e[k] & (soft | plateau)) << 3) }
        }
      }
    }
    let dilated = BytePlaneMorphology.apply(
      plane, scratch: scratch, width: w, height: h, spans: spans,
      radii: [
        (soft, transitionRadius), (changed, motionRadius), (soft << 3, 1),
        (plateau << 3, glassCoreRadius + glassGrowRadius),
      ],
      dilate: true)
    // Region bits from the planes with byte arithmetic (vectorises). Hair is grown by one pixel
    // after glass is known: its seeds go to a plane of their own.
    var bits = [UInt8](repeating: RegionKind.frame.bit, count: n)
    let hairSeeds = ZeroedBytes(count: n)
    truth.codes.withUnsafeBufferPointer { g in
      plane.withUnsafeBufferPointer { pl in
        dilated.withUnsafeBufferPointer { d in
          hairSeeds.withUnsafeMutableBufferPointer { seeds in
            bits.withUnsafeMutableBufferPointer { out in
              BytePlaneMorphology.forEach(spans, width: w, height: h) { k, count in
                for k in k..<(k + count) {
                  let v = d[k]
                  let transition = (v & soft) << 1  // soft → bit 1
                  let glass = ((v >> 4) & 1) & (g[k] != 0 ? 1 : 0)  // the grown core, where g > 0
                  let opened = (v >> 3) & 1
                  seeds[k] = pl[k] & soft & ~opened & ~glass  // bit 0
                  let motion = ((v >> 2) & 1) &* motionBit
                  out[k] = RegionKind.frame.bit | transition | (glass << 3) | motion
                }
              }
            }
          }
        }
      }
    }
    // A clip's own glass mask replaces the derived one everywhere (it may reach past the spans).
    if own.has(.glass) { own.write(.glass, into: &bits) }
    let glassBit = RegionKind.glass.bit
    if own.has(.hair) {
      // One definition of hair everywhere: hair is never glass.
      own.write(.hair, into: &bits, exceptWhere: glassBit)
    } else {
      // Seeds that are not glass (an own glass mask may cover some), grown by one pixel, less glass.
      hairSeeds.withUnsafeMutableBufferPointer { seeds in
        bits.withUnsafeBufferPointer { out in
          BytePlaneMorphology.forEach(spans, width: w, height: h) { k, count in
            for k in k..<(k + count) { seeds[k] &= ~(out[k] >> 3) & 1 }
          }
        }
      }
      let grown = BytePlaneMorphology.apply(
        hairSeeds, scratch: scratch, width: w, height: h, spans: spans, radii: [(1, hairGrowRadius)], dilate: true)
      grown.withUnsafeBufferPointer { g in
        bits.withUnsafeMutableBufferPointer { out in
          BytePlaneMorphology.forEach(spans, width: w, height: h) { k, count in
            for k in k..<(k + count) { out[k] |= (g[k] & ~(out[k] >> 3) & 1) << 2 }
          }
        }
      }
    }
    for region in [RegionKind.transition, .motion] where own.has(region) { own.write(region, into: &bits) }
    guard own.isEmpty else { return RegionMap(width: w, height: h, bits: bits) }
    return RegionMap(
      width: w, height: h, bits: bits, support: RegionMap.supports(of: bits, spans: spans, width: w, height: h))
  }

  /// Clears the plateau bit of every plateau pixel in the spans whose 5×5 window (in-frame
  /// part) spans more than `glassFlatRange` of the scale: row minima and maxima first, then
  /// columns of them. Only plateau pixels are tested; they lie in seeded blocks, whose 3×3
  /// block neighbourhood is in the spans, so every row minimum read was written.
  private func clearSlopedPlateau(_ plane: ZeroedBytes, truth: Matte, spans: [[Range<Int>]], plateau: UInt8) {
    let (w, h, n) = (truth.width, truth.height, truth.width * truth.height)
    // Most frames of most clips have no plateau pixel at all: nothing to test.
    var any = false
    plane.withUnsafeBufferPointer { pl in
      BytePlaneMorphology.forEach(spans, width: w, height: h) { start, count in
        if !any { any = pl[start..<(start + count)].contains { $0 & plateau != 0 } }
      }
    }
    guard any else { return }
    let r = glassFlatRadius
    let limit = Int((glassFlatRange * Double(truth.maxValue)).rounded(.down))
    let lows = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: max(n, 1))
    let highs = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: max(n, 1))
    defer {
      lows.deallocate()
      highs.deallocate()
    }
    truth.codes.withUnsafeBufferPointer { g in
      BytePlaneMorphology.forEach(spans, width: w, height: h) { start, count in
        let row = start / w * w
        mg_row_range(
          g.baseAddress! + row, w, start - row, count, r, lows.baseAddress! + row, highs.baseAddress! + row)
      }
    }
    plane.withUnsafeMutableBufferPointer { pl in
      BytePlaneMorphology.forEach(spans, width: w, height: h) { start, count in
        let y = start / w
        for k in start..<(start + count) where pl[k] & plateau != 0 {
          var lo = UInt16.max
          var hi = UInt16.min
          for yy in max(y - r, 0)...min(y + r, h - 1) {
            let j = k + (yy - y) * w
            lo = min(lo, lows[j])
            hi = max(hi, highs[j])
          }
          if Int(hi) - Int(lo) > limit { pl[k] &= ~plateau }
        }
      }
    }
  }
}

/// A clip's own masks, as `[Bool]` per region or as bits of one code plane (a code of 0: the
/// region is derived).
struct OwnMasks {
  let masks: [RegionKind: [Bool]]
  let codes: [UInt16]?
  let codeOf: [RegionKind: UInt16]

  init(masks: [RegionKind: [Bool]], codes: (codes: [UInt16], hair: UInt16, glass: UInt16, motion: UInt16)?, count: Int)
  {
    precondition(codes == nil || masks.isEmpty, "own masks come either as codes or as [Bool], not both")
    precondition(codes.map { $0.codes.count == count } ?? true, "region mask codes differ in size")
    self.masks = masks
    self.codes = codes?.codes
    var codeOf: [RegionKind: UInt16] = [:]
    if let codes {
      for (region, code) in [(RegionKind.hair, codes.hair), (.glass, codes.glass), (.motion, codes.motion)]
      where code != 0 { codeOf[region] = code }
    }
    self.codeOf = codeOf
  }

  var isEmpty: Bool { masks.isEmpty && codeOf.isEmpty }

  func has(_ region: RegionKind) -> Bool { masks[region] != nil || codeOf[region] != nil }

  /// Sets `region`'s bit in `bits` exactly where its own mask is set and none of `exclude`'s
  /// bits are: one tight loop over the `[Bool]` mask or the code plane.
  func write(_ region: RegionKind, into bits: inout [UInt8], exceptWhere exclude: UInt8 = 0) {
    let bit = region.bit
    bits.withUnsafeMutableBufferPointer { out in
      if let m = masks[region] {
        m.withUnsafeBufferPointer { m in
          for k in 0..<out.count { out[k] = (out[k] & ~bit) | (m[k] && out[k] & exclude == 0 ? bit : 0) }
        }
      } else if let c = codeOf[region], let codes {
        codes.withUnsafeBufferPointer { codes in
          for k in 0..<out.count {
            out[k] = (out[k] & ~bit) | (codes[k] & c != 0 && out[k] & exclude == 0 ? bit : 0)
          }
        }
      }
    }
  }
}

/// A zero-filled byte plane from `calloc`: the operating system's fresh pages are already zero,
/// so a sparse plane costs only the pages its spans touch.
final class ZeroedBytes {
  let base: UnsafeMutablePointer<UInt8>
  let count: Int

  /// `zeroed: false` leaves the contents undefined, for outputs whose every read is preceded by
  /// a write.
  init(count: Int, zeroed: Bool = true) {
    self.count = count
    let raw = zeroed ? calloc(max(count, 1), 1) : malloc(max(count, 1))
    base = raw!.assumingMemoryBound(to: UInt8.self)
  }

  deinit { free(base) }

  func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(start: base, count: count))
  }

  func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<UInt8>) throws -> R) rethrows -> R {
    try body(UnsafeMutableBufferPointer(start: base, count: count))
  }
}

/// Region-candidate bits per code (soft, plateau), computed once per depth and ε band.
private let candidateTables = Mutex<[String: [UInt8]]>([:])

func candidateTable(maxValue m: Int, lo: Double, hi: Double, plateau: Bool = true) -> [UInt8] {
  let key = "\(m) \(lo) \(hi) \(plateau)"
  if let t = candidateTables.withLock({ $0[key] }) { return t }
  // Every 16-bit code has an entry: one above the maximum (a value past 1) is neither soft nor
  // a plateau candidate, and is never looked up past the table's end.
  let t = (0...65535).map { c -> UInt8 in
    (c > 0 && c < m ? 1 : 0) | (plateau && Double(c) > lo && Double(c) < hi ? 2 : 0)
  }
  candidateTables.withLock { $0[key] = t }
  return t
}

/// Square-window erosion or dilation of byte planes, each bit with its own radius: a bit is
/// set after dilation when it is set anywhere in the in-frame part of the window, and after
/// erosion when it is set everywhere in it (bits without a radius pass through). Separable:
/// a pass along rows, then along columns, each a chain of byte-wise ORs or ANDs that vectorise.
enum BytePlaneMorphology {
  /// Calls `body(start, count)` for every row piece of the spans: `spans[blockRow]` are column
  /// ranges, applied to each image row of that block row.
  @inline(__always)
  static func forEach(_ spans: [[Range<Int>]], width w: Int, height h: Int, _ body: (Int, Int) -> Void) {
    for (by, list) in spans.enumerated() where !list.isEmpty {
      for y in (by * BlockGrid.blockHeight)..<min((by + 1) * BlockGrid.blockHeight, h) {
        for r in list { body(y * w + r.lowerBound, r.count) }
      }
    }
  }

  /// Erodes or dilates `plane` on the spans, which is correct when the plane is 0 within reach
  /// of everything outside them. The result is defined on the spans only; `scratch` must be 0
  /// outside them.
  static func apply(
    _ plane: ZeroedBytes, scratch tmp: ZeroedBytes, width w: Int, height h: Int, spans: [[Range<Int>]],
    radii: [(bits: UInt8, radius: Int)],
    dilate: Bool
  ) -> ZeroedBytes {
    let r = radii.map(\.radius).max() ?? 0
    guard r > 0 else { return plane }
    // masks[k − 1]: the bits whose radius reaches distance k.
    let masks = (1...r).map { k in radii.filter { $0.radius >= k }.reduce(UInt8(0)) { $0 | $1.bits } }
    let out = ZeroedBytes(count: plane.count, zeroed: false)
    plane.withUnsafeBufferPointer { src in
      tmp.withUnsafeMutableBufferPointer { t in
        // Along rows: the interior without clamping (vectorises), the frame's ends clamped.
        forEach(spans, width: w, height: h) { start, count in
          let y = start / w
          let x0 = start - y * w
          let row = src.baseAddress! + y * w
          let o = t.baseAddress! + y * w
          (o + x0).update(from: row + x0, count: count)
          for k in 1...r {
            let mask = masks[k - 1]
            let lo = max(x0, min(k, w))
            let hi = min(x0 + count, max(lo, w - k))
            let left = row - k
            let right = row + k
            if hi > lo {
              if dilate {
                for x in lo..<hi { o[x] |= (left[x] | right[x]) & mask }
              } else {
                for x in lo..<hi { o[x] &= (left[x] & right[x]) | ~mask }
              }
            }
            // The frame's ends, clamped (only pieces that reach them have any).
            let edges = [x0..<max(x0, min(lo, x0 + count)), min(x0 + count, max(hi, x0))..<(x0 + count)]
            for range in edges {
              for x in range {
                let a = row[max(x - k, 0)]
                let b = row[min(x + k, w - 1)]
                if dilate { o[x] |= (a | b) & mask } else { o[x] &= (a & b) | ~mask }
              }
            }
          }
        }
      }
    }
    tmp.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { t in
        // Along columns.
        forEach(spans, width: w, height: h) { start, count in
          let y = start / w
          let x0 = start - y * w
          let o = t.baseAddress! + y * w
          (o + x0).update(from: src.baseAddress! + start, count: count)
          for k in 1...r {
            let mask = masks[k - 1]
            let up = src.baseAddress! + max(y - k, 0) * w
            let down = src.baseAddress! + min(y + k, h - 1) * w
            if dilate {
              for x in x0..<(x0 + count) { o[x] |= (up[x] | down[x]) & mask }
            } else {
              for x in x0..<(x0 + count) { o[x] &= (up[x] & down[x]) | ~mask }
            }
          }
        }
      }
    }
    return out
  }
}

/// Binary morphology with square neighbourhoods, separable.
public enum Morphology {
  public static func dilate(_ m: [Bool], width: Int, height: Int, radius: Int) -> [Bool] {
    guard radius > 0 else { return m }
    return pass(
      pass(m, width, height, radius, horizontal: true, any: true), width, height, radius,
      horizontal: false, any: true)
  }

  public static func erode(_ m: [Bool], width: Int, height: Int, radius: Int) -> [Bool] {
    guard radius > 0 else { return m }
    return pass(
      pass(m, width, height, radius, horizontal: true, any: false), width, height,
      radius, horizontal: false, any: false)
  }

  public static func open(_ m: [Bool], width: Int, height: Int, radius: Int) -> [Bool] {
    dilate(
      erode(m, width: width, height: height, radius: radius), width: width, height: height,
      radius: radius)
  }

  /// One 1-D max (`any`) or min pass; outside the frame counts as the border pixel, so the
  /// window is the in-frame part of [i − r, i + r]. Counts of set pixels come from prefix sums:
  /// O(1) per pixel whatever the radius.
  private static func pass(
    _ m: [Bool], _ w: Int, _ h: Int, _ r: Int, horizontal: Bool, any: Bool
  ) -> [Bool] {
    let length = horizontal ? w : h
    let lines = horizontal ? h : w
    let step = horizontal ? 1 : w
    let lineStep = horizontal ? w : 1
    var out = [Bool](repeating: false, count: m.count)
    var prefix = [Int32](repeating: 0, count: length + 1)
    m.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        prefix.withUnsafeMutableBufferPointer { pre in
          for line in 0..<lines {
            let base = line * lineStep
            for i in 0..<length { pre[i + 1] = pre[i] + (src[base + i * step] ? 1 : 0) }
            for i in 0..<length {
              let lo = max(i - r, 0)
              let hi = min(i + r, length - 1)
              let count = pre[hi + 1] - pre[lo]
              dst[base + i * step] = any ? count > 0 : count == Int32(hi - lo + 1)
            }
          }
        }
      }
    }
    return out
  }
}
