import Clips
import Foundation
import MediaIO
import Metrics
import Services

/// The outcome of scoring one clip's A and B outputs against its ground truth.
struct ClipScore: Sendable {
  var totalsA = ErrorTotals()
  var totalsB = ErrorTotals()
  var frames = 0
  var frameRecords: [(arm: String, frame: Int, totals: ErrorTotals)] = []
  var reviewFrame: Int?
  var reviewTruth: GrayImage?
  var reviewA: GrayImage?
  var reviewB: GrayImage?
  /// How each arm's output lined up with the ground truth's timeline.
  var alignment: [String: AlignmentStats] = [:]
  /// Set when an arm is misaligned beyond the policy: the clip is inconclusive, not scored.
  var misalignment: String?
}

/// A clip that cannot be scored, with the reason (an undecodable or wrongly sized output).
struct ClipScoringError: Error, CustomStringConvertible {
  var description: String
}

/// Decodes ground truth, region masks and both arms' outputs, matches output frames to
/// ground-truth frames by presentation time (not decode order) and scores each matched pair.
/// Holds one frame of each stream at a time (plus one look-ahead frame per arm and the
/// previous ground truth), so memory does not grow with clip length.
enum ClipScorer {
  static func score(
    clip: Clip, in set: ClipSet, outputA: String, outputB: String, configA: ArmConfig, configB: ArmConfig,
    alignment policy: AlignmentPolicy
  ) throws -> ClipScore {
    guard let alphaFile = clip.alpha else {
      throw ClipScoringError(
        description: "clip '\(clip.id)' has no ground-truth alpha; only no-GT measures could apply")
    }
    let truthPath = set.path(of: alphaFile)
    let truth = try VideoReader(path: truthPath, options: ReadOptions(rgb: .none, alpha: .luma))
    let masks = try clip.regionMasks.map {
      try VideoReader(path: set.path(of: $0), options: ReadOptions(rgb: .none, alpha: .luma))
    }
    let interval = truth.frameRate > 0 ? 1 / truth.frameRate : 0.04
    var readers: [String: any FrameSource] = [:]
    for (arm, path, config) in [("A", outputA, configA), ("B", outputB, configB)] {
      let options = ReadOptions(
        rgb: .none, alpha: .alphaChannel, association: config.alphaAssociation, sequenceFrameRate: 1 / interval)
      readers[arm] = try MediaInput.open(
        path, options: options, sourceSize: truth.size, allowScaling: config.allowScaling,
        what: "arm \(arm) output (config \(config.file))")
    }
    func aligner(_ reader: any FrameSource) -> FrameAligner<GrayImage> {
      FrameAligner(referenceInterval: interval, outputRate: reader.frameRate, policy: policy) {
        () throws -> (time: Double, frame: GrayImage)? in
        guard let f = try reader.nextFrame() else { return nil }
        guard let a = f.alpha else {
          throw ClipScoringError(description: "\(reader.path): frame \(f.index) has no alpha")
        }
        return (f.time, a)
      }
    }
    let a = aligner(readers["A"]!)
    let b = aligner(readers["B"]!)
    var score = ClipScore()
    var previousTruth: PreparedTruth?
    // Both arms' predictions at the previous ground-truth frame, when it was scored: temporal
    // metrics compare consecutive frames only.
    var previousPredictions: (a: Matte, b: Matte)?
    var worst = -1.0
    while let g = try truth.nextFrame() {
      guard let ga = g.alpha else { break }
      var hair: [Bool]?
      var glass: [Bool]?
      if let masks {
        guard let m = try masks.nextFrame(), let codes = m.alpha else {
          throw ClipScoringError(description: "\(masks.path): region masks end before frame \(g.index)")
        }
        guard abs(m.time - g.time) <= interval / 2 else {
          throw ClipScoringError(
            description:
              "\(masks.path): region mask frame \(m.index) is at \(m.time) s but ground truth is at \(g.time) s")
        }
        hair = codes.samples.map { $0 & RegionMaskCodes.hair != 0 }
        glass = codes.samples.map { $0 & RegionMaskCodes.glass != 0 }
      }
      let gMatte = Matte(width: ga.width, height: ga.height, maxValue: ga.maxValue, codes: ga.samples)
      var own: [RegionKind: [Bool]] = [:]
      own[.hair] = hair
      own[.glass] = glass
      let prepared = PreparedTruth(gMatte, previous: previousTruth, masks: own)
      let before = previousTruth
      previousTruth = prepared
      let pa = try a.match(referenceTime: g.time)
      let pb = try b.match(referenceTime: g.time)
      // Paired scoring: a frame counts only when both arms have it.
      guard let pa, let pb else {
        previousPredictions = nil
        continue
      }
      let matteA = Matte(width: pa.width, height: pa.height, maxValue: pa.maxValue, codes: pa.samples)
      let matteB = Matte(width: pb.width, height: pb.height, maxValue: pb.maxValue, codes: pb.samples)
      let last = previousPredictions
      previousPredictions = (matteA, matteB)
      let sa = FrameScorer.score(
        prediction: matteA, truth: prepared, previous: last.flatMap { l in before.map { (l.a, $0) } })
      let sb = FrameScorer.score(
        prediction: matteB, truth: prepared, previous: last.flatMap { l in before.map { (l.b, $0) } })
      score.totalsA.add(sa)
      score.totalsB.add(sb)
      score.frameRecords.append(("A", g.index, sa))
      score.frameRecords.append(("B", g.index, sb))
      let difficulty = sa.sum(.transition, .sad) + sb.sum(.transition, .sad)
      if difficulty > worst {
        worst = difficulty
        score.reviewFrame = g.index
        score.reviewTruth = ga
        score.reviewA = pa
        score.reviewB = pb
      }
      score.frames += 1
    }
    score.alignment["A"] = try a.finish()
    score.alignment["B"] = try b.finish()
    guard score.alignment["A"]!.referenceFrames > 0 else {
      throw ClipScoringError(description: "\(truthPath): ground truth has no frames")
    }
    var problems: [String] = []
    for arm in ["A", "B"] {
      if let p = score.alignment[arm]!.problem(under: policy) {
        problems.append("arm \(arm) (\(readers[arm]!.path)): \(p)")
      }
    }
    if !problems.isEmpty {
      score.misalignment = "misaligned, so not scored: " + problems.joined(separator: "; ")
    }
    return score
  }

  /// Decodes the source picture of frame `index`.
  static func sourceFrame(path: String, index: Int) throws -> RGBImage? {
    let reader = try VideoReader(path: path, rgb: true, alpha: .none)
    while let f = try reader.nextFrame() {
      if f.index == index { return f.rgb }
    }
    return nil
  }
}
