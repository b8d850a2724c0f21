import Clips
import Foundation
import MediaIO
import Metrics

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
}

/// A clip that cannot be scored, with the reason (a misaligned or undecodable output).
struct ClipScoringError: Error, CustomStringConvertible {
  var description: String
}

/// Decodes ground truth, region masks and both arms' outputs in lockstep and scores each frame.
/// Holds one frame of each stream at a time (plus the previous ground truth).
enum ClipScorer {
  static func score(clip: Clip, in set: ClipSet, outputA: String, outputB: String) throws -> ClipScore {
    guard let alphaFile = clip.alpha else {
      throw ClipScoringError(
        description: "clip '\(clip.id)' has no ground-truth alpha; only no-GT measures could apply")
    }
    let truthPath = set.path(of: alphaFile)
    let truth = try VideoReader(path: truthPath, rgb: false, alpha: .luma)
    let masks = try clip.regionMasks.map { try VideoReader(path: set.path(of: $0), rgb: false, alpha: .luma) }
    let a = try VideoReader(path: outputA, rgb: false, alpha: .alphaChannel)
    let b = try VideoReader(path: outputB, rgb: false, alpha: .alphaChannel)
    for (reader, arm) in [(a, "A"), (b, "B")] where reader.width != truth.width || reader.height != truth.height {
      throw ClipScoringError(
        description:
          "\(reader.path): arm \(arm) output is \(reader.width)x\(reader.height) but the ground truth \(truthPath) is \(truth.width)x\(truth.height)"
      )
    }
    let frameDuration = truth.frameRate > 0 ? 1 / truth.frameRate : 0.04
    let deriver = RegionDeriver()
    var score = ClipScore()
    var previous: Matte?
    var worst = -1.0
    while let g = try truth.nextFrame() {
      guard let ga = g.alpha else { break }
      let fa = try a.nextFrame()
      let fb = try b.nextFrame()
      for (frame, reader, arm) in [(fa, a, "A"), (fb, b, "B")] {
        guard let frame else {
          throw ClipScoringError(
            description:
              "\(reader.path): arm \(arm) output ends at frame \(g.index) but the ground truth has more frames (missing frames make the clip inconclusive)"
          )
        }
        if abs(frame.time - g.time) > frameDuration / 2 {
          throw ClipScoringError(
            description:
              "\(reader.path): arm \(arm) frame \(frame.index) is at \(String(format: "%.3f", frame.time)) s but ground-truth frame \(g.index) is at \(String(format: "%.3f", g.time)) s (misaligned)"
          )
        }
      }
      guard let pa = fa?.alpha, let pb = fb?.alpha else { break }
      let gMatte = Matte(width: ga.width, height: ga.height, maxValue: ga.maxValue, codes: ga.samples)
      var hair: [Bool]?
      var glass: [Bool]?
      if let masks {
        guard let m = try masks.nextFrame(), let codes = m.alpha else {
          throw ClipScoringError(description: "\(masks.path): region masks end before frame \(g.index)")
        }
        hair = codes.samples.map { $0 & RegionMaskCodes.hair != 0 }
        glass = codes.samples.map { $0 & RegionMaskCodes.glass != 0 }
      }
      let regions = deriver.regions(truth: gMatte, previousTruth: previous, hairMask: hair, glassMask: glass)
      let matteA = Matte(width: pa.width, height: pa.height, maxValue: pa.maxValue, codes: pa.samples)
      let matteB = Matte(width: pb.width, height: pb.height, maxValue: pb.maxValue, codes: pb.samples)
      let prepared = PreparedTruth(gMatte)
      let sa = FrameScorer.score(prediction: matteA, truth: prepared, regions: regions)
      let sb = FrameScorer.score(prediction: matteB, truth: prepared, regions: regions)
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
      previous = gMatte
      score.frames += 1
    }
    for (reader, arm) in [(a, "A"), (b, "B")] {
      if try reader.nextFrame() != nil {
        throw ClipScoringError(
          description:
            "\(reader.path): arm \(arm) output has more frames than the ground truth \(truthPath) (\(score.frames)): misaligned, or the ground truth is truncated"
        )
      }
    }
    guard score.frames > 0 else {
      throw ClipScoringError(description: "\(truthPath): ground truth has no frames")
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
