public import Foundation
import MediaIO
import Metrics

/// `mattegate score`: any output against ground truth, without a provider. Frames are matched
/// by presentation time (ground truth is the reference); every metric per frame and region,
/// then the clip's mean, mean without frame 0, and pooled values.
public enum StandaloneScore {
  /// Metric names in the JSON, in order, with their reported scale.
  static let spatial: [(key: String, kind: MetricKind)] = [
    ("sad", .sad), ("mad", .mad), ("mse", .mse), ("grad", .grad), ("conn", .conn),
  ]

  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  /// Scores `pred` against `gt` and returns the JSON document (keys sorted).
  public static func run(pred: String, gt: String, regionsDir: String?, motionDir: String?) throws -> Data {
    let gtReader = try open(gt)
    let predReader = try open(pred)
    guard predReader.size == gtReader.size else {
      throw Failure(
        description: "\(pred) is \(predReader.size) but the ground truth \(gt) is \(gtReader.size); they must match")
    }
    let masks = try regionsDir.map { try RegionMasks(folder: $0, size: gtReader.size) }
    let interval = gtReader.frameRate > 0 ? 1 / gtReader.frameRate : 0.04
    let aligner = FrameAligner<GrayImage>(
      referenceInterval: interval, outputRate: predReader.frameRate, policy: AlignmentPolicy()
    ) {
      guard let f = try predReader.nextFrame(), let a = f.alpha else { return nil }
      return (f.time, a)
    }
    let deriver = RegionDeriver()
    var perFrame: [[String: Any]] = []
    var previous: (p: Matte, g: Matte, regions: RegionMap)?
    var totals = ErrorTotals()
    var temporal: [RegionKind: (dt: Double, me: Double, pixels: Int)] = [:]
    var index = 0
    while let frame = try gtReader.nextFrame() {
      defer { index += 1 }
      guard let ga = frame.alpha else { continue }
      guard let pa = try aligner.match(referenceTime: frame.time) else {
        throw Failure(
          description:
            "\(pred) has no frame at \(String(format: "%.3f", frame.time)) s (ground-truth frame \(index) of \(gt)); frame counts or timing differ"
        )
      }
      let g = Matte(width: ga.width, height: ga.height, maxValue: ga.maxValue, codes: ga.samples)
      let p = Matte(width: pa.width, height: pa.height, maxValue: pa.maxValue, codes: pa.samples)
      let regions = deriver.regions(
        truth: g, previousTruth: previous?.g, hairMask: try masks?.mask(.hair, frame: index),
        glassMask: try masks?.mask(.glass, frame: index))
      let scores = FrameScorer.score(prediction: p, truth: g, regions: regions)
      totals.add(scores)
      var dtMap: [Double]?
      var meMap: [Double]?
      if let previous {
        dtMap = TemporalMetrics.dtSSDMap(p: p, previousP: previous.p, g: g, previousG: previous.g)
        if let motionDir {
          let field = try Npy.motionField(folder: motionDir, frame: index, size: gtReader.size)
          meMap = TemporalMetrics.messddtMap(p: p, previousP: previous.p, g: g, previousG: previous.g, motion: field)
        }
      }
      var byRegion: [String: Any] = [:]
      for region in RegionKind.allCases {
        guard scores.pixels(region) > 0 else {
          byRegion[region.rawValue] = NSNull()
          continue
        }
        var values: [String: Any] = [:]
        // One frame: ErrorTotals' pooled value is this frame's value on the reported scale.
        for (key, kind) in spatial { values[key] = scores.value(region, kind) ?? NSNull() }
        // Temporal metrics use the mask of frame t−1; frame 0 scores 0.
        if let prev = previous?.regions, let dtMap {
          let dt = prev.sum(dtMap, over: region)
          values["dtssd"] = TemporalMetrics.dtSSD(dt).map { $0 * 1e2 } ?? NSNull()
          var t = temporal[region] ?? (0, 0, 0)
          t.dt += dt.sum
          t.pixels += dt.pixels
          if let meMap {
            let me = prev.sum(meMap, over: region)
            values["messddt"] = TemporalMetrics.messddt(me) ?? NSNull()
            t.me += me.sum
          }
          temporal[region] = t
        } else {
          values["dtssd"] = 0.0
          if motionDir != nil { values["messddt"] = 0.0 }
        }
        byRegion[region.rawValue] = values
      }
      perFrame.append(["index": index, "time": frame.time, "regions": byRegion])
      previous = (p, g, regions)
    }
    let stats = try aligner.finish()
    guard !perFrame.isEmpty else { throw Failure(description: "\(gt): the ground truth has no frames") }
    if stats.extra > 0 || stats.duplicated > 0 {
      throw Failure(
        description:
          "\(pred) has \(stats.outputFrames) frames against \(perFrame.count) in \(gt) (\(stats.summary)); frame counts must match"
      )
    }
    var pooled: [String: Any] = [:]
    for region in RegionKind.allCases {
      var values: [String: Any] = [:]
      for (key, kind) in spatial { values[key] = totals.value(region, kind) ?? NSNull() }
      if let t = temporal[region], t.pixels > 0 {
        values["dtssd"] = (t.dt / Double(t.pixels)).squareRoot() * 1e2
        if motionDir != nil { values["messddt"] = t.me / Double(t.pixels) * 1e3 }
      }
      pooled[region.rawValue] = totals.pixels(region) > 0 ? values : NSNull()
    }
    let document: [String: Any] = [
      "metric_versions": ["metrics": metricsVersion, "regions": regionsVersion, "temporal": temporalVersion],
      "prediction": pred, "ground_truth": gt, "frames": perFrame.count, "per_frame": perFrame,
      "mean": means(perFrame, from: 0), "mean_excl_first": means(perFrame, from: 1), "pooled": pooled,
      "alignment": [
        "matched": stats.matched, "dropped": stats.dropped, "duplicated": stats.duplicated, "extra": stats.extra,
        "max_offset_s": stats.maxOffset,
      ],
    ]
    return try JSONSerialization.data(
      withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
  }

  /// Version of the temporal metric definitions (dtSSD ×1e2, MESSDdt ×1e3, t−1 masks).
  public static let temporalVersion =
    "mattegate-temporal/1 (dtSSD RVM ×1e2; MESSDdt mean |E_{t-1}(x) - E_t(x+v)| ×1e3, v rounded half away from zero, clamped; masks of t-1)"

  /// Arithmetic means over frames `from…` of every non-null value, per region and metric.
  static func means(_ frames: [[String: Any]], from start: Int) -> [String: Any] {
    var sums: [String: [String: (Double, Int)]] = [:]
    for f in frames.dropFirst(start) {
      guard let regions = f["regions"] as? [String: Any] else { continue }
      for (region, v) in regions {
        guard let values = v as? [String: Any] else { continue }
        for (metric, x) in values {
          guard let d = x as? Double else { continue }
          let old = sums[region]?[metric] ?? (0, 0)
          sums[region, default: [:]][metric] = (old.0 + d, old.1 + 1)
        }
      }
    }
    var out: [String: Any] = [:]
    for region in RegionKind.allCases.map(\.rawValue) {
      guard let m = sums[region] else {
        out[region] = NSNull()
        continue
      }
      out[region] = m.mapValues { $0.1 > 0 ? $0.0 / Double($0.1) : 0 }
    }
    return out
  }

  /// Opens a matte: an alpha channel if the media has one, else the luma of a gray or YUV matte.
  static func open(_ path: String) throws -> any FrameSource {
    let layout = try MediaInput.open(path, options: ReadOptions(rgb: .none)).layout
    if layout.hasAlpha || layout.isGray {
      return try MediaInput.open(path, options: ReadOptions(rgb: .none, alpha: layout.hasAlpha ? .alphaChannel : .luma))
    }
    let rgbFormats = ["rgb", "bgr", "gbr", "argb", "abgr", "pal8"]
    if rgbFormats.contains(where: { layout.pixelFormat.hasPrefix($0) }) {
      // An RGB picture as a matte: only if its channels agree (checked per frame).
      return try RGBMatte(path: path)
    }
    // A matte stored as YUV video: its luma, range-expanded when limited.
    return try MediaInput.open(path, options: ReadOptions(rgb: .none, alpha: .matteLuma))
  }
}
