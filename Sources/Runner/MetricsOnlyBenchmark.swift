import Clips
import Foundation
import MatteMetrics
import MediaIO
import Store

/// `mattegate bench pipeline --metrics-only`: the metric kernels alone on one clip's real
/// frames, held in memory, so that kernel changes can be timed on real content (hair, glass)
/// without decoding in the way. Per frame: the truth's preparation (regions, block summary,
/// gradient) and each arm's scoring against it, with the temporal metrics.
public enum MetricsOnlyBenchmark {
  public struct Result: Sendable {
    public var frames: Int
    /// Per repeat, milliseconds per frame: truth preparation, arm A, arm B.
    public var truthMS: [Double]
    public var armAMS: [Double]
    public var armBMS: [Double]
  }

  /// - Parameters:
  ///   - database: the run's database; the clip's stored outputs of both arms are scored.
  ///   - runID: the run, or the newest on this clip set when nil.
  public static func run(
    clipsetFolder: String, database: String, runID: String?, clipID: String, frames limit: Int, repeats: Int
  ) throws -> Result {
    let clipSet = try ClipSet.load(folder: clipsetFolder, verifyHashes: false)
    guard let clip = clipSet.clips.first(where: { $0.id == clipID }), let alpha = clip.alpha else {
      throw RunError("clip set \(clipSet.name): no clip '\(clipID)' with ground truth")
    }
    let (run, stored) = try PipelineBenchmark.storedOutputs(database: database, runID: runID, clipSet: clipSet)
    guard let outputA = stored[clipID]?["A"], let outputB = stored[clipID]?["B"] else {
      throw RunError("run \(run.id) has no outputs of both arms for clip '\(clipID)'")
    }
    let luma = ReadOptions(rgb: .none, alpha: .luma)
    let truth = try VideoReader(path: clipSet.path(of: alpha), options: luma)
    let masks = try clip.regionMasks.map { try VideoReader(path: clipSet.path(of: $0), options: luma) }
    let arms = try [outputA, outputB].map {
      try MediaInput.open(
        $0, options: ReadOptions(rgb: .none, alpha: .alphaChannel), sourceSize: truth.size, allowScaling: false)
    }
    var frames: [(g: Matte, codes: [UInt16]?, a: Matte, b: Matte)] = []
    func matte(_ image: GrayImage) -> Matte {
      Matte(width: image.width, height: image.height, maxValue: image.maxValue, codes: image.samples)
    }
    while frames.count < limit, let g = try truth.nextFrame()?.alpha {
      let codes = try masks?.nextFrame()?.alpha?.samples
      guard let a = try arms[0].nextFrame()?.alpha, let b = try arms[1].nextFrame()?.alpha else { break }
      frames.append((matte(g), codes, matte(a), matte(b)))
    }
    guard frames.count > 1 else { throw RunError("clip '\(clipID)': fewer than two frames decode") }
    var result = Result(frames: frames.count, truthMS: [], armAMS: [], armBMS: [])
    for _ in 0..<repeats {
      var (t, ta, tb) = (0.0, 0.0, 0.0)
      var previous: (truth: PreparedTruth, a: Matte, b: Matte)?
      var blocks: (a: DifferingBlocks, b: DifferingBlocks)?
      for f in frames {
        let start = DispatchTime.now().uptimeNanoseconds
        let prepared = PreparedTruth(
          f.g, previous: previous?.truth, maskCodes: f.codes, hair: clip.ownMaskCodes.hair,
          glass: clip.ownMaskCodes.glass, motion: clip.ownMaskCodes.motion)
        let afterTruth = DispatchTime.now().uptimeNanoseconds
        let sa = FrameScorer.scoreKeepingBlocks(
          prediction: f.a, truth: prepared, previous: previous.map { ($0.a, $0.truth) }, previousBlocks: blocks?.a)
        let afterA = DispatchTime.now().uptimeNanoseconds
        let sb = FrameScorer.scoreKeepingBlocks(
          prediction: f.b, truth: prepared, previous: previous.map { ($0.b, $0.truth) }, previousBlocks: blocks?.b)
        let afterB = DispatchTime.now().uptimeNanoseconds
        // Keep the results alive, so the work cannot be dropped.
        if sa.totals.sum(.frame, .sad).isNaN || sb.totals.sum(.frame, .sad).isNaN { throw RunError("NaN SAD") }
        blocks = (sa.blocks, sb.blocks)
        t += Double(afterTruth - start)
        ta += Double(afterA - afterTruth)
        tb += Double(afterB - afterA)
        previous = (prepared, f.a, f.b)
      }
      let n = Double(frames.count) * 1e6
      result.truthMS.append(t / n)
      result.armAMS.append(ta / n)
      result.armBMS.append(tb / n)
    }
    return result
  }
}
