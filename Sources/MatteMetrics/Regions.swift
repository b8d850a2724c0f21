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
  "mattegate-regions/2 (transition dilate 2, motion dilate 2, glass opening 3, hair minus glass)"

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
      // Count each bit in chunks small enough for 16-bit lanes, which vectorises.
      var i = 0
      while i < b.count {
        let end = min(i + 32768, b.count)
        for bit in 0..<RegionKind.allCases.count {
          var c: UInt16 = 0
          for k in i..<end { c &+= UInt16((b[k] >> UInt8(bit)) & 1) }
          counts[bit] += Int(c)
        }
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
  /// … surviving a morphological opening of this radius (wider than the edge band).
  public var glassOpeningRadius = 3

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

  /// The regions of one frame, from byte planes holding one bit per region candidate, so that
  /// every morphological pass works on all of them at once:
  /// soft = 0 < g < 1, plateau = ε < g < 1 − ε, changed = g differs from frame t − 1;
  /// transition = soft dilated, hair = soft minus its opening (radius 1) minus glass,
  /// glass = plateau opened, motion = changed dilated (square windows, in-frame part).
  ///
  /// `masks` are a clip's own masks (transition, hair, glass or motion); each replaces the
  /// derived region (a derived hair region leaves out an own glass mask's pixels). `maskCodes`
  /// carries own hair and glass masks as bits of one code plane instead, replacing both derived
  /// regions in one pass (`masks` must then be empty).
  func regions(
    truth: Matte, grid: BlockGrid, previous: (matte: Matte, grid: BlockGrid)?, masks: [RegionKind: [Bool]],
    maskCodes: (codes: [UInt16], hair: UInt16, glass: UInt16)? = nil
  ) -> RegionMap {
    let w = truth.width
    let h = truth.height
    let n = w * h
    for (region, mask) in masks {
      precondition(region != .frame, "the frame region has no mask")
      precondition(mask.count == n, "\(region) mask differs in size")
    }
    let previous = previous.flatMap { $0.matte.width == w && $0.matte.height == h ? $0 : nil }
    let soft: UInt8 = 1
    let plateau: UInt8 = 2
    let changed: UInt8 = 4
    // Candidate bits per code.
    let m = truth.maxValue
    let lo = glassEpsilon * Double(m)
    let hi = (1 - glassEpsilon) * Double(m)
    let table = candidateTable(maxValue: m, lo: lo, hi: hi)
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
    // Erode soft by 1 and plateau by the glass radius; keep them as bits 3 and 4 beside the
    // originals, then dilate: soft and changed by their radii, the eroded bits back by theirs.
    // One zeroed scratch serves both passes: each writes only span pixels, and the column pass
    // reads rows outside the spans, which stay 0.
    let scratch = ZeroedBytes(count: n)
    let eroded = BytePlaneMorphology.apply(
      plane, scratch: scratch, width: w, height: h, spans: spans, radii: [(soft, 1), (plateau, glassOpeningRadius)],
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
      radii: [(soft, transitionRadius), (changed, motionRadius), (soft << 3, 1), (plateau << 3, glassOpeningRadius)],
      dilate: true)
    // Region bits from the planes with byte arithmetic (vectorises); a clip's own masks then
    // replace the derived hair and glass bits.
    let motionBit: UInt8 = previous != nil ? RegionKind.motion.bit : 0
    var bits = [UInt8](repeating: RegionKind.frame.bit, count: n)
    plane.withUnsafeBufferPointer { pl in
      dilated.withUnsafeBufferPointer { d in
        bits.withUnsafeMutableBufferPointer { out in
          BytePlaneMorphology.forEach(spans, width: w, height: h) { k, count in
            for k in k..<(k + count) {
              let v = d[k]
              let transition = (v & soft) << 1  // soft → bit 1
              let glass = (v >> 4) & 1  // opened plateau
              let opened = (v >> 3) & 1
              let hair = pl[k] & soft & ~opened & ~glass  // bit 0
              let motion = ((v >> 2) & 1) &* motionBit
              out[k] = RegionKind.frame.bit | transition | (hair << 2) | (glass << 3) | motion
            }
          }
        }
      }
    }
    if let maskCodes {
      precondition(masks.isEmpty, "own masks come either as codes or as [Bool], not both")
      precondition(maskCodes.codes.count == n, "region mask codes differ in size")
      let (hairBit, glassBit) = (RegionKind.hair.bit, RegionKind.glass.bit)
      let (hairCode, glassCode) = (maskCodes.hair, maskCodes.glass)
      bits.withUnsafeMutableBufferPointer { out in
        maskCodes.codes.withUnsafeBufferPointer { c in
          for k in 0..<n {
            // One definition of hair everywhere: thin soft structure that is not glass.
            let glass = c[k] & glassCode != 0
            let own = (c[k] & hairCode != 0 && !glass ? hairBit : 0) | (glass ? glassBit : 0)
            out[k] = (out[k] & ~(hairBit | glassBit)) | own
          }
        }
      }
      return RegionMap(width: w, height: h, bits: bits)
    }
    guard !masks.isEmpty else {
      return RegionMap(
        width: w, height: h, bits: bits, support: RegionMap.supports(of: bits, spans: spans, width: w, height: h))
    }
    let hairBit = RegionKind.hair.bit
    let ownGlass = masks[.glass]
    if masks[.hair] == nil, let ownGlass {
      // The derived hair region leaves out the own glass mask's pixels.
      bits.withUnsafeMutableBufferPointer { out in
        plane.withUnsafeBufferPointer { pl in
          dilated.withUnsafeBufferPointer { d in
            for k in 0..<n {
              let hair = pl[k] & soft != 0 && d[k] & (soft << 3) == 0 && !ownGlass[k]
              out[k] = (out[k] & ~hairBit) | (hair ? hairBit : 0)
            }
          }
        }
      }
    }
    for (region, mask) in masks {
      let bit = region.bit
      bits.withUnsafeMutableBufferPointer { out in
        mask.withUnsafeBufferPointer { m in
          for k in 0..<n { out[k] = (out[k] & ~bit) | (m[k] ? bit : 0) }
        }
      }
    }
    if masks[.hair] != nil {
      // An own hair mask loses the pixels that are glass, as the derived one does.
      let glassBit = RegionKind.glass.bit
      bits.withUnsafeMutableBufferPointer { out in
        for k in 0..<n where out[k] & glassBit != 0 { out[k] &= ~hairBit }
      }
    }
    return RegionMap(width: w, height: h, bits: bits)
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

func candidateTable(maxValue m: Int, lo: Double, hi: Double) -> [UInt8] {
  let key = "\(m) \(lo) \(hi)"
  if let t = candidateTables.withLock({ $0[key] }) { return t }
  let t = (0...m).map { c -> UInt8 in (c > 0 && c < m ? 1 : 0) | (Double(c) > lo && Double(c) < hi ? 2 : 0) }
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
