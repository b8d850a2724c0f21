/// The regions mattegate scores (specs/metrics.md, "Regions").
public enum RegionKind: String, Sendable, CaseIterable, Codable, Comparable {
  case frame
  case transition
  case hair
  case glass
  case motion

  var bit: UInt8 { 1 << UInt8(RegionKind.allCases.firstIndex(of: self)!) }

  public static func < (a: RegionKind, b: RegionKind) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }
}

/// Version of the region definitions; stored with results.
public let regionsVersion = "mattegate-regions/1 (transition dilate 2, motion dilate 2, glass opening 3)"

/// Which regions each pixel of a frame belongs to.
public struct RegionMap: Sendable, Equatable {
  public var width: Int
  public var height: Int
  public var bits: [UInt8]

  public init(width: Int, height: Int, bits: [UInt8]) {
    precondition(bits.count == width * height)
    self.width = width
    self.height = height
    self.bits = bits
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
  ///   - hairMask: the clip's own hair mask, which wins over the derived one.
  ///   - glassMask: the clip's own glass mask, which wins over the derived one.
  public func regions(
    truth: Matte, previousTruth: Matte?, hairMask: [Bool]?, glassMask: [Bool]?
  ) -> RegionMap {
    let w = truth.width
    let h = truth.height
    let n = w * h
    let maxCode = UInt16(truth.maxValue)
    let soft = truth.codes.map { $0 > 0 && $0 < maxCode }
    let transition = Morphology.dilate(soft, width: w, height: h, radius: transitionRadius)

    let glass: [Bool]
    if let glassMask {
      glass = glassMask
    } else {
      let lo = glassEpsilon * Double(truth.maxValue)
      let hi = (1 - glassEpsilon) * Double(truth.maxValue)
      let plateau = truth.codes.map { Double($0) > lo && Double($0) < hi }
      glass = Morphology.open(plateau, width: w, height: h, radius: glassOpeningRadius)
    }
    let hair: [Bool]
    if let hairMask {
      hair = hairMask
    } else {
      // Thin soft structures: soft pixels that a small opening removes (a top-hat of the band).
      let opened = Morphology.open(soft, width: w, height: h, radius: 1)
      hair = (0..<n).map { soft[$0] && !opened[$0] && !glass[$0] }
    }
    var motion = [Bool](repeating: false, count: n)
    if let previousTruth, previousTruth.width == w, previousTruth.height == h {
      let changed = (0..<n).map { k in
        Int(truth.codes[k]) * previousTruth.maxValue != Int(previousTruth.codes[k]) * truth.maxValue
      }
      motion = Morphology.dilate(changed, width: w, height: h, radius: motionRadius)
    }
    var bits = [UInt8](repeating: RegionKind.frame.bit, count: n)
    for k in 0..<n {
      if transition[k] { bits[k] |= RegionKind.transition.bit }
      if hair[k] { bits[k] |= RegionKind.hair.bit }
      if glass[k] { bits[k] |= RegionKind.glass.bit }
      if motion[k] { bits[k] |= RegionKind.motion.bit }
    }
    return RegionMap(width: w, height: h, bits: bits)
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
