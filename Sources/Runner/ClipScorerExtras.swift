import Clips
import Foundation
import MatteMetrics
import MediaIO
import Services

extension ClipScorer {
  /// The reference background of a composite config (fitted as the config asks) and, for an
  /// image, the picture itself for fit detection and the aspect class.
  static func compositeAccumulator(config: ArmConfig, size: PixelSize) throws -> CompositeAccumulator {
    guard let fitted = try LocalProvider.fittedBackground(for: config, width: size.width, height: size.height) else {
      throw ClipScoringError(
        description: "config \(config.file): bg_type \(config.bgType) has no background to build the reference from")
    }
    let fit = BackgroundFit(rawValue: config.fit) ?? .cover
    var acc = CompositeAccumulator(
      background: RGBPicture(width: fitted.width, height: fitted.height, bytes: fitted.pixels), fit: fit)
    if config.bgType == "image", let path = config.bgImage {
      let reader = try MediaInput.open(path, options: ReadOptions(rgb: .eight))
      if let picture = try reader.nextFrame()?.rgb {
        acc.original = RGBPicture(width: picture.width, height: picture.height, bytes: picture.pixels)
        acc.aspect = AspectMatch(source: (size.width, size.height), background: (picture.width, picture.height))
      }
    }
    return acc
  }

  /// A clip without ground-truth alpha: both arms' alpha matched to the source's timeline;
  /// per arm, flicker and edge alignment with regions derived from that arm's alpha; between
  /// the arms, disagreement (a pixel is in a region when it is in either arm's). The frame
  /// where they disagree most becomes the review frame.
  static func scoreWithoutTruth(
    clip: Clip, in set: ClipSet, outputA: String, outputB: String, configA: ArmConfig, configB: ArmConfig,
    alignment policy: AlignmentPolicy
  ) throws -> ClipScore {
    let sourcePath = set.path(of: clip.source)
    let source = try VideoReader(path: sourcePath, options: ReadOptions(rgb: .eight))
    let interval = source.frameRate > 0 ? 1 / source.frameRate : 0.04
    var aligners: [String: FrameAligner<GrayImage>] = [:]
    var paths: [String: String] = [:]
    for (arm, path, config) in [("A", outputA, configA), ("B", outputB, configB)] {
      guard config.bgType == "transparent" else {
        throw ClipScoringError(
          description:
            "clip '\(clip.id)' has no ground truth and arm \(arm) is a composite (bg_type \(config.bgType)): nothing to measure without alpha"
        )
      }
      let reader = try MediaInput.open(
        path,
        options: ReadOptions(
          rgb: .none, alpha: .alphaChannel, association: config.alphaAssociation, sequenceFrameRate: 1 / interval),
        sourceSize: source.size, allowScaling: config.allowScaling, what: "arm \(arm) output (config \(config.file))")
      paths[arm] = path
      aligners[arm] = FrameAligner(referenceInterval: interval, outputRate: reader.frameRate, policy: policy) {
        guard let f = try reader.nextFrame() else { return nil }
        guard let a = f.alpha else {
          throw ClipScoringError(description: "\(reader.path): frame \(f.index) has no alpha")
        }
        return (f.time, a)
      }
    }
    var score = ClipScore()
    score.hasTruth = false
    var measures = ["A": NoTruthAccumulator(), "B": NoTruthAccumulator()]
    var disagreement = DisagreementAccumulator()
    var previous: [String: PreparedTruth] = [:]
    var worst = -1.0
    while let s = try source.nextFrame() {
      guard let rgb = s.rgb else { continue }
      let picture = RGBPicture(width: rgb.width, height: rgb.height, bytes: rgb.pixels)
      let fa = try aligners["A"]!.match(referenceTime: s.time)
      let fb = try aligners["B"]!.match(referenceTime: s.time)
      guard let fa, let fb else {
        previous = [:]
        for arm in ["A", "B"] { measures[arm]!.breakChain() }
        continue
      }
      var current: [String: (alpha: Matte, truth: PreparedTruth)] = [:]
      for (arm, frame) in [("A", fa), ("B", fb)] {
        let alpha = Matte(width: frame.width, height: frame.height, maxValue: frame.maxValue, codes: frame.samples)
        let truth = PreparedTruth(alpha, previous: previous[arm])
        current[arm] = (alpha, truth)
        _ = measures[arm]!.add(alpha: alpha, regions: truth.regions, source: picture)
      }
      let d = disagreement.add(
        current["A"]!.alpha, regionsA: current["A"]!.truth.regions, current["B"]!.alpha,
        regionsB: current["B"]!.truth.regions)
      if let frameValue = d[0], frameValue > worst {
        worst = frameValue
        score.reviewFrame = s.index
        // The frame where A and B disagree most is the clip's review (and blind-vote) frame;
        // without ground truth, A stands in as the reference the crop window is placed by.
        score.regionReviews[.transition] = ReviewFrame(
          index: s.index, time: s.time, error: frameValue, truth: fa, a: fa, b: fb,
          regionBits: current["A"]!.truth.regions.bits)
      }
      score.frames += 1
      previous = current.mapValues(\.truth)
    }
    score.alignment["A"] = try aligners["A"]!.finish()
    score.alignment["B"] = try aligners["B"]!.finish()
    guard score.alignment["A"]!.referenceFrames > 0 else {
      throw ClipScoringError(description: "\(sourcePath): the source has no frames")
    }
    let version = ExtraMeasure.tag(NoTruth.version)
    for (r, region) in RegionKind.allCases.enumerated() {
      for arm in ["A", "B"] {
        score.extras.append(
          ExtraMeasure(
            arm: arm, region: region.rawValue, measure: "flicker", value: measures[arm]!.flicker(r), version: version))
        score.extras.append(
          ExtraMeasure(
            arm: arm, region: region.rawValue, measure: "edge_alignment", value: measures[arm]!.edgeAlignment(r),
            version: version))
      }
      score.extras.append(
        ExtraMeasure(
          arm: "A-B", region: region.rawValue, measure: "disagreement", value: disagreement.value(r), version: version))
    }
    var problems: [String] = []
    for arm in ["A", "B"] {
      if let p = score.alignment[arm]!.problem(under: policy) { problems.append("arm \(arm) (\(paths[arm]!)): \(p)") }
    }
    if !problems.isEmpty { score.misalignment = "misaligned, so not scored: " + problems.joined(separator: "; ") }
    return score
  }
}
