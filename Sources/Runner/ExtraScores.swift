public import Foundation
public import MatteMetrics
import MediaIO

/// `mattegate score` without ground-truth alpha (no-ground-truth measures) and for composited
/// outputs (composite MSE and PSNR, the applied fit, the aspect-ratio class).
extension StandaloneScore {
  /// Frames of `path` matched to a reference timeline by presentation time.
  final class Follower<Frame> {
    let aligner: FrameAligner<Frame>
    let path: String

    init(_ reader: any FrameSource, interval: Double, _ extract: @escaping (DecodedFrame) throws -> Frame?) {
      path = reader.path
      aligner = FrameAligner(referenceInterval: interval, outputRate: reader.frameRate, policy: AlignmentPolicy()) {
        guard let f = try reader.nextFrame(), let v = try extract(f) else { return nil }
        return (f.time, v)
      }
    }

    func frame(at time: Double, index: Int, role: String) throws -> Frame {
      guard let f = try aligner.match(referenceTime: time) else {
        throw Failure(
          description:
            "\(path) (\(role)) has no frame at \(String(format: "%.3f", time)) s (reference frame \(index)); frame counts or timing differ"
        )
      }
      return f
    }
  }

  static func rgbReader(_ path: String) throws -> any FrameSource {
    try MediaInput.open(path, options: ReadOptions(rgb: .eight))
  }

  static func picture(_ image: RGBImage) -> RGBPicture {
    RGBPicture(width: image.width, height: image.height, bytes: image.pixels)
  }

  static func rgb(_ f: DecodedFrame, _ path: String) throws -> RGBPicture {
    guard let rgb = f.rgb else { throw Failure(description: "\(path): frame \(f.index) has no picture") }
    return picture(rgb)
  }

  static func matte(_ g: GrayImage) -> Matte {
    Matte(width: g.width, height: g.height, maxValue: g.maxValue, codes: g.samples)
  }

  /// Sums per region on one frame and over the clip, as JSON values.
  struct Pool {
    var sums = [Double](repeating: 0, count: RegionKind.allCases.count)
    var counts = [Double](repeating: 0, count: RegionKind.allCases.count)

    mutating func add(_ values: [(Double, Double)]) {
      for (r, v) in values.enumerated() {
        sums[r] += v.0
        counts[r] += v.1
      }
    }
  }

  /// No ground truth: flicker and edge alignment of `pred` (regions derived from it), with
  /// `compare` the disagreement between the two; frames ranked by disagreement for review.
  public static func noTruth(pred: String, source: String, compare: String?, regionsDir: String?) throws -> Data {
    let predReader = try open(pred)
    let sourceReader = try rgbReader(source)
    guard sourceReader.size == predReader.size else {
      throw Failure(
        description: "\(source) is \(sourceReader.size) but the output \(pred) is \(predReader.size); they must match")
    }
    let compareReader = try compare.map { try open($0) }
    if let compareReader, compareReader.size != predReader.size {
      throw Failure(
        description:
          "\(compare!) is \(compareReader.size) but the output \(pred) is \(predReader.size); they must match")
    }
    let masks = try regionsDir.map { try RegionMasks(folder: $0, size: predReader.size) }
    let interval = predReader.frameRate > 0 ? 1 / predReader.frameRate : 0.04
    let sourceFrames = Follower(sourceReader, interval: interval) { try rgb($0, source) }
    let compareFrames = compareReader.map { r in Follower(r, interval: interval) { $0.alpha.map(matte) } }
    var perFrame: [[String: Any]] = []
    var measures = NoTruthAccumulator()
    var disagreement = DisagreementAccumulator()
    var previousTruth: PreparedTruth?
    var ranking: [(index: Int, value: Double)] = []
    var index = 0
    while let f = try predReader.nextFrame() {
      defer { index += 1 }
      guard let a = f.alpha else { continue }
      let alpha = matte(a)
      let picture = try sourceFrames.frame(at: f.time, index: index, role: "source")
      // Regions from the prediction itself (a clip's own masks still win).
      let truth = PreparedTruth(alpha, previous: previousTruth, masks: try masks?.masks(frame: index) ?? [:])
      previousTruth = truth
      let frame = measures.add(alpha: alpha, regions: truth.regions, source: picture)
      var byRegion: [String: [String: Any]] = [:]
      for (r, region) in RegionKind.allCases.enumerated() {
        byRegion[region.rawValue, default: [:]]["edge_alignment"] = frame.edgeAlignment[r] ?? NSNull()
        if let flicker = frame.flicker { byRegion[region.rawValue, default: [:]]["flicker"] = flicker[r] ?? NSNull() }
      }
      if let compareFrames {
        let other = try compareFrames.frame(at: f.time, index: index, role: "compare")
        guard other.width == alpha.width, other.height == alpha.height else {
          throw Failure(
            description:
              "\(compare!): frame \(index) is \(other.width)x\(other.height), the output's is \(alpha.width)x\(alpha.height)"
          )
        }
        let d = disagreement.add(alpha, regionsA: truth.regions, other, regionsB: PreparedTruth(other).regions)
        for (r, region) in RegionKind.allCases.enumerated() {
          byRegion[region.rawValue, default: [:]]["disagreement"] = d[r] ?? NSNull()
        }
        ranking.append((index, d[0] ?? 0))
      }
      perFrame.append(["index": index, "time": f.time, "regions": byRegion])
    }
    guard !perFrame.isEmpty else { throw Failure(description: "\(pred): the output has no frames") }
    var pooled: [String: Any] = [:]
    for (r, region) in RegionKind.allCases.enumerated() {
      var v: [String: Any] = [
        "edge_alignment": measures.edgeAlignment(r) ?? NSNull(), "flicker": measures.flicker(r) ?? NSNull(),
      ]
      if compare != nil { v["disagreement"] = disagreement.value(r) ?? NSNull() }
      pooled[region.rawValue] = v
    }
    var document: [String: Any] = [
      "ground_truth": NSNull(), "prediction": pred, "source": source, "frames": perFrame.count,
      "metric_versions": ["no_ground_truth": NoTruth.version, "regions": regionsVersion],
      "no_ground_truth": ["per_frame": perFrame, "pooled": pooled],
    ]
    if let compare {
      document["compare"] = compare
      // The frames where the two disagree most, for a person to look at first.
      document["review_frames"] = ranking.sorted { $0.value > $1.value }.prefix(5).map {
        ["index": $0.index, "disagreement": $0.value] as [String: Any]
      }
    }
    return try JSONSerialization.data(
      withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
  }

  /// A background given as `#RRGGBB` or as a picture file.
  public enum Background: Sendable {
    case color(Double, Double, Double)
    case image(String)

    public init(_ text: String) throws {
      if text.hasPrefix("#") {
        let hex = text.dropFirst()
        guard hex.count == 6, hex.allSatisfy(\.isHexDigit), let v = Int(hex, radix: 16) else {
          throw Failure(description: "background '\(text)' is neither #RRGGBB nor a picture file")
        }
        self = .color(Double(v >> 16 & 255) / 255, Double(v >> 8 & 255) / 255, Double(v & 255) / 255)
      } else {
        self = .image(text)
      }
    }
  }

  /// Composited output `pred` (RGB) against α·F + (1 − α)·B′ built from the ground truth `gt`,
  /// the source and its clean plate, and the background with the configured fit.
  public static func composite(
    pred: String, gt: String, source: String, plate: String, background: Background, fit: BackgroundFit,
    pad: (Double, Double, Double), regionsDir: String?
  ) throws -> Data {
    let gtReader = try open(gt)
    let predReader = try rgbReader(pred)
    let sourceReader = try rgbReader(source)
    for (path, reader) in [(pred, predReader), (source, sourceReader)] where reader.size != gtReader.size {
      throw Failure(
        description: "\(path) is \(reader.size) but the ground truth \(gt) is \(gtReader.size); they must match")
    }
    // A PNG for a static camera, or a video with a picture per frame for a moving one.
    var plates = try PlateValues(path: plate, size: gtReader.size)
    let (w, h) = (gtReader.size.width, gtReader.size.height)
    let fitted: RGBPicture
    let original: RGBPicture
    var aspect: AspectMatch?
    switch background {
    case .color(let r, let g, let b):
      original = RGBPicture(width: w, height: h, color: (r, g, b))
      fitted = original
    case .image(let path):
      guard let f = try rgbReader(path).nextFrame() else { throw Failure(description: "\(path): no picture") }
      original = try rgb(f, path)
      aspect = AspectMatch(source: (w, h), background: (original.width, original.height))
      fitted = Composite.fit(original, width: w, height: h, mode: fit, pad: pad)
    }
    let masks = try regionsDir.map { try RegionMasks(folder: $0, size: gtReader.size) }
    let interval = gtReader.frameRate > 0 ? 1 / gtReader.frameRate : 0.04
    let outputs = Follower(predReader, interval: interval) { try rgb($0, pred) }
    let sources = Follower(sourceReader, interval: interval) { try rgb($0, source) }
    var perFrame: [[String: Any]] = []
    var total = Pool()
    var fitScores: [BackgroundFit: Double] = [:]
    var candidates: [(fit: BackgroundFit, picture: RGBPicture)]?
    var previous: PreparedTruth?
    var index = 0
    while let g = try gtReader.nextFrame() {
      defer { index += 1 }
      guard let ga = g.alpha else { continue }
      let alpha = matte(ga)
      let truth = PreparedTruth(alpha, previous: previous, masks: try masks?.masks(frame: index) ?? [:])
      previous = truth
      let output = try outputs.frame(at: g.time, index: index, role: "output")
      let reference = Composite.reference(
        alpha: alpha, source: try sources.frame(at: g.time, index: index, role: "source"),
        plate: try plates.values(at: index),
        background: fitted)
      let e = Composite.squaredError(output, reference, regions: truth.regions)
      total.add(e.map { ($0.sum, Double($0.pixels)) })
      var byRegion: [String: Any] = [:]
      for (r, region) in RegionKind.allCases.enumerated() {
        byRegion[region.rawValue] =
          e[r].pixels > 0
          ? [
            "composite_mse": Composite.mse(sum: e[r].sum, pixels: e[r].pixels)!,
            "composite_psnr": json(Composite.psnr(sum: e[r].sum, pixels: e[r].pixels)!),
          ] : NSNull()
      }
      perFrame.append(["index": index, "time": g.time, "regions": byRegion])
      if case .image = background {
        if candidates == nil { candidates = Composite.fittedCandidates(original, for: output, pad: pad) }
      }
      if let candidates, let ranked = Composite.detectFit(output: output, alpha: alpha, candidates: candidates) {
        for (mode, mse) in ranked { fitScores[mode, default: 0] += mse }
      }
    }
    guard !perFrame.isEmpty else { throw Failure(description: "\(gt): the ground truth has no frames") }
    var pooled: [String: Any] = [:]
    for (r, region) in RegionKind.allCases.enumerated() {
      let pixels = Int(total.counts[r])
      pooled[region.rawValue] =
        pixels > 0
        ? [
          "composite_mse": Composite.mse(sum: total.sums[r], pixels: pixels)!,
          "composite_psnr": json(Composite.psnr(sum: total.sums[r], pixels: pixels)!),
        ] : NSNull()
    }
    var document: [String: Any] = [
      "prediction": pred, "ground_truth": gt, "source": source, "plate": plate, "frames": perFrame.count,
      "metric_versions": ["composite": Composite.version, "regions": regionsVersion],
      "composite": ["per_frame": perFrame, "pooled": pooled],
      "fit": ["configured": fit.rawValue] as [String: Any],
    ]
    if let aspect {
      document["aspect"] = [
        "source_aspect": aspect.sourceAspect, "background_aspect": aspect.backgroundAspect,
        "relative_difference": aspect.relativeDifference, "match": aspect.match.rawValue,
      ]
    }
    if !fitScores.isEmpty {
      let ranked = fitScores.sorted { $0.value < $1.value }
      document["fit"] =
        [
          "configured": fit.rawValue, "detected": ranked[0].key.rawValue,
          "background_mse_by_fit": Dictionary(
            uniqueKeysWithValues: ranked.map { ($0.key.rawValue, $0.value / Double(perFrame.count)) }),
        ] as [String: Any]
    }
    return try JSONSerialization.data(
      withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
  }

  /// JSON has no infinity: a perfect PSNR is written as the string "inf".
  static func json(_ v: Double) -> Any { v.isFinite ? v : "inf" }
}
