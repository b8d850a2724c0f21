public import Foundation
import MatteMetrics
import MediaIO

/// `mattegate score`: any output against ground truth, without a provider. Frames are matched
/// by presentation time (ground truth is the reference); every metric per frame and region,
/// then the clip's mean, mean without frame 0, and pooled values.
public enum StandaloneScore {
  /// Metric names in the JSON, in order.
  static let metrics: [(key: String, kind: MetricKind)] = [
    ("sad", .sad), ("mad", .mad), ("mse", .mse), ("grad", .grad), ("conn", .conn), ("dtssd", .dtssd),
    ("messddt", .messddt),
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
    let motion = try motionDir.map { try MotionFields(folder: $0, size: gtReader.size) }
    let interval = gtReader.frameRate > 0 ? 1 / gtReader.frameRate : 0.04
    let aligner = FrameAligner<GrayImage>(
      referenceInterval: interval, outputRate: predReader.frameRate, policy: AlignmentPolicy()
    ) {
      guard let f = try predReader.nextFrame(), let a = f.alpha else { return nil }
      return (f.time, a)
    }
    var perFrame: [[String: Any]] = []
    var previous: (p: Matte, truth: PreparedTruth)?
    var totals = ErrorTotals()
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
      let truth = PreparedTruth(g, previous: previous?.truth, masks: try masks?.masks(frame: index) ?? [:])
      let field =
        try previous == nil ? nil : motion?.field(frame: index)
      let scores = FrameScorer.score(
        prediction: p, truth: truth, previous: previous.map { ($0.p, $0.truth) }, motion: field)
      totals.add(scores)
      var byRegion: [String: Any] = [:]
      for region in RegionKind.allCases {
        // An empty region in this frame: null, left out of the means.
        guard scores.pixels(region) > 0 else {
          byRegion[region.rawValue] = NSNull()
          continue
        }
        var values: [String: Any] = [:]
        // One frame: ErrorTotals' pooled value is this frame's value on the reported scale.
        for (key, kind) in metrics where !kind.isTemporal { values[key] = scores.value(region, kind) ?? NSNull() }
        if previous == nil {
          // Frame 0 has no predecessor: temporal metrics score 0 and count in the mean (RVM).
          values["dtssd"] = 0.0
          if motionDir != nil { values["messddt"] = 0.0 }
        } else {
          // Temporal metrics use the mask of frame t − 1: null when that was empty.
          values["dtssd"] = scores.value(region, .dtssd) ?? NSNull()
          if motionDir != nil { values["messddt"] = scores.value(region, .messddt) ?? NSNull() }
        }
        byRegion[region.rawValue] = values
      }
      perFrame.append(["index": index, "time": frame.time, "regions": byRegion])
      previous = (p, truth)
    }
    let stats = try aligner.finish()
    guard !perFrame.isEmpty else { throw Failure(description: "\(gt): the ground truth has no frames") }
    if stats.extra > 0 || stats.duplicated > 0 {
      throw Failure(
        description:
          "\(pred) has \(stats.outputFrames) frames against \(perFrame.count) in \(gt) (\(stats.summary)); frame counts must match"
      )
    }
    // Pooled: total error over total region pixels of the clip (temporal metrics over the
    // frames that have a predecessor).
    var pooled: [String: Any] = [:]
    for region in RegionKind.allCases {
      var values: [String: Any] = [:]
      for (key, kind) in metrics where kind != .messddt || motionDir != nil {
        values[key] = totals.value(region, kind) ?? NSNull()
      }
      pooled[region.rawValue] = totals.pixels(region) > 0 ? values : NSNull()
    }
    let document: [String: Any] = [
      "metric_versions": Dictionary(uniqueKeysWithValues: metrics.map { ($0.key, $0.kind.version) })
        .merging(["regions": regionsVersion, "metrics": metricsVersion]) { a, _ in a },
      "prediction": pred, "ground_truth": gt, "frames": perFrame.count, "per_frame": perFrame,
      "mean": means(perFrame, from: 0), "mean_excl_first": means(perFrame, from: 1), "pooled": pooled,
      "support": Dictionary(
        uniqueKeysWithValues: RegionKind.allCases.map { region -> (String, Any) in
          let frames = totals.frames(region)
          return (
            region.rawValue,
            [
              "frames": frames,
              "pixels_per_frame": frames > 0 ? Double(totals.pixels(region)) / Double(frames) : 0,
            ] as [String: Any]
          )
        }),
      "alignment": [
        "matched": stats.matched, "dropped": stats.dropped, "duplicated": stats.duplicated, "extra": stats.extra,
        "max_offset_s": stats.maxOffset,
      ],
    ]
    return try JSONSerialization.data(
      withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
  }

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

  /// Largest difference between a pixel's RGB channels that a gray picture stored as YUV may
  /// show after lossy coding (chroma noise); a colour picture differs by far more.
  static let grayTolerance = 12

  /// Throws when the first picture of a YUV file is in colour.
  static func refuseColour(_ path: String) throws {
    let reader = try MediaInput.open(path, options: ReadOptions(rgb: .eight))
    guard let rgb = try reader.nextFrame()?.rgb else { return }
    var worst = 0
    var at = 0
    for i in 0..<(rgb.width * rgb.height) {
      let r = Int(rgb.pixels[3 * i])
      let g = Int(rgb.pixels[3 * i + 1])
      let b = Int(rgb.pixels[3 * i + 2])
      let spread = max(r, g, b) - min(r, g, b)
      if spread > worst { (worst, at) = (spread, i) }
    }
    if worst > grayTolerance {
      throw MediaError(
        path: path,
        reason:
          "is a colour picture, not a matte: frame 0 pixel (\(at % rgb.width),\(at / rgb.width)) has channels \(worst) codes apart; give a gray video or one with an alpha plane"
      )
    }
  }

  /// Opens a matte: an alpha channel if the media has one, else the luma of a gray or YUV matte.
  /// PNG sequences are timed at `sequenceFrameRate`.
  static func open(_ path: String, sequenceFrameRate rate: Double = 25, decoderThreads: Int = 0) throws
    -> any FrameSource
  {
    let layout = try MediaInput.open(path, options: ReadOptions(rgb: .none, sequenceFrameRate: rate)).layout
    if layout.hasAlpha || layout.isGray {
      return try MediaInput.open(
        path,
        options: ReadOptions(
          rgb: .none, alpha: layout.hasAlpha ? .alphaChannel : .luma, sequenceFrameRate: rate,
          decoderThreads: decoderThreads))
    }
    let rgbFormats = ["rgb", "bgr", "gbr", "argb", "abgr", "pal8"]
    if rgbFormats.contains(where: { layout.pixelFormat.hasPrefix($0) }) {
      // An RGB picture as a matte: only if its channels agree (checked per frame).
      return try RGBMatte(path: path, sequenceFrameRate: rate)
    }
    // A matte stored as YUV video: its luma, range-expanded when limited; but only if its
    // first picture is gray (a colour picture has no place as a matte).
    try refuseColour(path)
    return try MediaInput.open(
      path, options: ReadOptions(rgb: .none, alpha: .matteLuma, sequenceFrameRate: rate, decoderThreads: decoderThreads)
    )
  }
}
