public import Clips
import Foundation
public import MatteMetrics
import MediaIO

/// How well the regions derived from ground truth alone agree with a clip set's exact region
/// masks (the synthetic generator's): per region, the pixels both mark, only the derived rule
/// marks, and only the exact mask marks, pooled over every frame of every clip.
public enum RegionAgreement {
  /// Pixel counts of one region.
  public struct Counts: Sendable, Equatable {
    public var both = 0
    public var derivedOnly = 0
    public var exactOnly = 0

    public init(both: Int = 0, derivedOnly: Int = 0, exactOnly: Int = 0) {
      self.both = both
      self.derivedOnly = derivedOnly
      self.exactOnly = exactOnly
    }

    /// Intersection over union; nil when neither marks any pixel.
    public var iou: Double? {
      let union = both + derivedOnly + exactOnly
      return union > 0 ? Double(both) / Double(union) : nil
    }

    /// Share of derived pixels that the exact mask has.
    public var precision: Double? { both + derivedOnly > 0 ? Double(both) / Double(both + derivedOnly) : nil }

    /// Share of exact pixels that the derived rule finds.
    public var recall: Double? { both + exactOnly > 0 ? Double(both) / Double(both + exactOnly) : nil }

    static func += (a: inout Counts, b: Counts) {
      a.both += b.both
      a.derivedOnly += b.derivedOnly
      a.exactOnly += b.exactOnly
    }
  }

  /// The regions compared, with their code in a region-mask video.
  public static let regions: [(region: RegionKind, code: UInt16)] = [
    (.hair, RegionMaskCodes.hair), (.glass, RegionMaskCodes.glass), (.motion, RegionMaskCodes.motion),
  ]

  public struct ClipResult: Sendable {
    public var clip: String
    public var frames: Int
    public var counts: [RegionKind: Counts]
    /// Glass against the exact glass mask where g < 1: the part of it a rule on the ground
    /// truth can see (glass over opaque matter has g = 1, like the matter alone).
    public var visibleGlass = Counts()
  }

  /// Counts of `derived` against the exact `codes` of one frame.
  public static func compare(_ derived: RegionMap, codes: [UInt16]) -> [RegionKind: Counts] {
    precondition(codes.count == derived.bits.count, "region masks and regions differ in size")
    var out: [RegionKind: Counts] = [:]
    for (region, code) in regions {
      var c = Counts()
      let bit = region.bit
      for k in 0..<codes.count {
        let d = derived.bits[k] & bit != 0
        let e = codes[k] & code != 0
        if d && e { c.both += 1 } else if d { c.derivedOnly += 1 } else if e { c.exactOnly += 1 }
      }
      out[region] = c
    }
    return out
  }

  /// Derived glass against the exact glass mask's pixels where g < 1.
  public static func visibleGlass(_ derived: RegionMap, codes: [UInt16], truth: Matte) -> Counts {
    var c = Counts()
    let bit = RegionKind.glass.bit
    let m = UInt16(truth.maxValue)
    for k in 0..<codes.count {
      let d = derived.bits[k] & bit != 0
      let e = codes[k] & RegionMaskCodes.glass != 0 && truth.codes[k] < m
      if d && e { c.both += 1 } else if d { c.derivedOnly += 1 } else if e { c.exactOnly += 1 }
    }
    return c
  }

  /// Every clip of the set that has ground truth and exact masks (or those in `only`), every
  /// `step`-th frame (the motion region needs the frame before it, which is always read).
  public static func measure(
    set: ClipSet, only: Set<String>? = nil, step: Int = 1, deriver: RegionDeriver = RegionDeriver()
  ) throws -> [ClipResult] {
    var results: [ClipResult] = []
    for clip in set.clips where only?.contains(clip.id) ?? true {
      guard let alpha = clip.alpha, let masks = clip.regionMasks else { continue }
      let truth = try StandaloneScore.open(set.path(of: alpha))
      let codes = try VideoReader(path: set.path(of: masks), options: ReadOptions(rgb: .none, alpha: .luma))
      var previous: PreparedTruth?
      var result = ClipResult(clip: clip.id, frames: 0, counts: [:])
      var index = 0
      while let g = try truth.nextFrame()?.alpha {
        guard let m = try codes.nextFrame()?.alpha else {
          throw RunError("\(codes.path): region masks end before frame \(index) of clip '\(clip.id)'")
        }
        let matte = Matte(width: g.width, height: g.height, maxValue: g.maxValue, codes: g.samples)
        let prepared = PreparedTruth(matte, previous: previous, deriver: deriver)
        if index % step == 0 {
          for (region, c) in compare(prepared.regions, codes: m.samples) {
            result.counts[region, default: Counts()] += c
          }
          result.visibleGlass += visibleGlass(prepared.regions, codes: m.samples, truth: matte)
          result.frames += 1
        }
        previous = prepared
        index += 1
      }
      results.append(result)
    }
    return results
  }

  /// Pooled counts of several clips.
  public static func pooled(_ results: [ClipResult]) -> [RegionKind: Counts] {
    var out: [RegionKind: Counts] = [:]
    for r in results { for (region, c) in r.counts { out[region, default: Counts()] += c } }
    return out
  }

  /// Pooled visible-glass counts of several clips.
  public static func pooledVisibleGlass(_ results: [ClipResult]) -> Counts {
    var out = Counts()
    for r in results { out += r.visibleGlass }
    return out
  }

  /// A Markdown table: one row per clip and a pooled row, IoU / precision / recall per region.
  public static func table(_ results: [ClipResult]) -> String {
    func f(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "–" }
    func triple(_ c: Counts) -> String { "\(f(c.iou)) | \(f(c.precision)) | \(f(c.recall))" }
    func cells(_ counts: [RegionKind: Counts], _ visible: Counts) -> String {
      regions.map { triple(counts[$0.region] ?? Counts()) }.joined(separator: " | ") + " | " + triple(visible)
    }
    var s = "| clip | frames | "
    s +=
      regions.map { "\($0.region.rawValue) IoU | P | R" }.joined(separator: " | ")
      + " | glass where g < 1: IoU | P | R |\n"
    s += "|---|---:|" + String(repeating: "---:|", count: regions.count * 3 + 3) + "\n"
    for r in results { s += "| \(r.clip) | \(r.frames) | \(cells(r.counts, r.visibleGlass)) |\n" }
    s +=
      "| **pooled** | \(results.reduce(0) { $0 + $1.frames }) | \(cells(pooled(results), pooledVisibleGlass(results))) |\n"
    let full = pooled(results)[.glass] ?? Counts()
    let visible = pooledVisibleGlass(results)
    if full.both + full.exactOnly > 0 {
      s += String(
        format:
          "\nOf the exact glass mask, %.1f%% of the pixels have g < 1: the most glass IoU a rule that marks only g < 1 can reach.\n",
        100 * Double(visible.both + visible.exactOnly) / Double(full.both + full.exactOnly))
    }
    return s
  }
}
