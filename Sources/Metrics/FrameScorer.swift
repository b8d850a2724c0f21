/// Error totals of one frame (or a whole clip) for every region × metric, on the raw scale.
public struct ErrorTotals: Sendable, Equatable {
  /// Σ error per `[region][metric]`, indexed by `allCases` order.
  public var sums: [[Double]]
  /// Pixels in each region.
  public var pixels: [Int]
  /// Frames in which each region had at least one pixel.
  public var frames: [Int]

  public init() {
    sums = Array(
      repeating: Array(repeating: 0, count: MetricKind.allCases.count),
      count: RegionKind.allCases.count)
    pixels = Array(repeating: 0, count: RegionKind.allCases.count)
    frames = Array(repeating: 0, count: RegionKind.allCases.count)
  }

  static func index(_ r: RegionKind) -> Int { RegionKind.allCases.firstIndex(of: r)! }
  static func index(_ m: MetricKind) -> Int { MetricKind.allCases.firstIndex(of: m)! }

  public func sum(_ region: RegionKind, _ metric: MetricKind) -> Double {
    sums[Self.index(region)][Self.index(metric)]
  }

  public func pixels(_ region: RegionKind) -> Int { pixels[Self.index(region)] }
  public func frames(_ region: RegionKind) -> Int { frames[Self.index(region)] }

  /// The pooled value on the reported scale: total error over total region pixels for means
  /// (MAD, MSE), total error over frames with support for sums (SAD, Grad, Conn). Pooling is
  /// over frames, so frames with tiny regions do not dominate. `nil` without support.
  public func value(_ region: RegionKind, _ metric: MetricKind) -> Double? {
    let r = Self.index(region)
    guard pixels[r] > 0, frames[r] > 0 else { return nil }
    let s = sums[r][Self.index(metric)]
    let raw = metric.isSum ? s / Double(frames[r]) : s / Double(pixels[r])
    return raw * metric.reportScale
  }

  /// Adds another frame's (or clip's) totals.
  public mutating func add(_ other: ErrorTotals) {
    for r in 0..<sums.count {
      for m in 0..<sums[r].count { sums[r][m] += other.sums[r][m] }
      pixels[r] += other.pixels[r]
      frames[r] += other.frames[r]
    }
  }
}

/// Scores one predicted frame against ground truth.
/// A ground-truth frame with what every arm's scoring shares: its gradient magnitude.
public struct PreparedTruth: Sendable {
  public var matte: Matte
  public var gradientMagnitude: [Double]

  public init(_ matte: Matte) {
    self.matte = matte
    gradientMagnitude = Grad.gradientMagnitude(Grad.normalised(matte), width: matte.width, height: matte.height)
  }
}

public enum FrameScorer {
  /// Computes the whole-frame error maps once and sums them over each region.
  public static func score(prediction p: Matte, truth g: Matte, regions: RegionMap) -> ErrorTotals {
    score(prediction: p, truth: PreparedTruth(g), regions: regions)
  }

  /// Scores against a prepared truth, so that A and B share the truth's gradient.
  public static func score(prediction p: Matte, truth prepared: PreparedTruth, regions: RegionMap) -> ErrorTotals {
    let g = prepared.matte
    let absMap = ErrorMaps.absoluteDifference(p, g)
    let sqMap = ErrorMaps.squaredDifference(p, g)
    let gradMap = Grad.errorMap(p, truthMagnitude: prepared.gradientMagnitude)
    let connMap = Conn.errorMap(p, g)
    var totals = ErrorTotals()
    let sad = ErrorTotals.index(.sad)
    let mad = ErrorTotals.index(.mad)
    let mse = ErrorTotals.index(.mse)
    let grad = ErrorTotals.index(.grad)
    let conn = ErrorTotals.index(.conn)
    for (r, region) in RegionKind.allCases.enumerated() {
      let bit = region.bit
      var a = 0.0
      var s = 0.0
      var gr = 0.0
      var c = 0.0
      var count = 0
      for k in 0..<regions.bits.count where regions.bits[k] & bit != 0 {
        a += absMap[k]
        s += sqMap[k]
        gr += gradMap[k]
        c += connMap[k]
        count += 1
      }
      totals.sums[r][sad] = a
      totals.sums[r][mad] = a
      totals.sums[r][mse] = s
      totals.sums[r][grad] = gr
      totals.sums[r][conn] = c
      totals.pixels[r] = count
      totals.frames[r] = count > 0 ? 1 : 0
    }
    return totals
  }
}
