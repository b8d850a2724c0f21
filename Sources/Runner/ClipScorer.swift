import Clips
import Foundation
import MatteMetrics
import MediaIO
import Services

/// The outcome of scoring one clip's A and B outputs against its ground truth.
struct ClipScore: Sendable {
  var totalsA = ErrorTotals()
  var totalsB = ErrorTotals()
  var frames = 0
  var frameRecords: [(arm: String, frame: Int, totals: ErrorTotals)] = []
  /// The frame with the largest transition-band error of A and B together (the clip's
  /// review frame in the store).
  var reviewFrame: Int?
  /// The worst frame of each region the review images show (`ReviewFrame.regions`), kept
  /// whole until the clip is scored; the review frame above is the transition band's.
  var regionReviews: [RegionKind: ReviewFrame] = [:]
  /// How each arm's output lined up with the ground truth's timeline.
  var alignment: [String: AlignmentStats] = [:]
  /// Set when an arm is misaligned beyond the policy: the clip is inconclusive, not scored.
  var misalignment: String?
  /// Measures outside the ground-truth alpha metrics, under their own names: composite MSE and
  /// PSNR, the applied fit and the aspect class of composited outputs; flicker, edge alignment
  /// and disagreement when the clip has no ground truth.
  var extras: [ExtraMeasure] = []
  /// Whether the clip had ground-truth alpha (its GT metrics exist).
  var hasTruth = true
  /// Why the clip has no preview, when one was asked for and could not be made.
  var previewWarning: String?
}

/// A region's worst frame in a clip: the frame where A's and B's SAD over the region, added,
/// is largest (the first such frame on ties), with what its review crops are cut from.
struct ReviewFrame: Sendable {
  /// The regions that get their own worst frame in the report, besides the whole frame.
  static let regions: [RegionKind] = [.transition, .hair, .glass, .motion]

  var index: Int
  var time: Double
  /// Σ SAD of A and B over the region in this frame.
  var error: Double
  var truth: GrayImage
  var a: GrayImage
  var b: GrayImage
  /// The frame's region map (`RegionKind.bit` per pixel).
  var regionBits: [UInt8]
  /// The source picture at this frame, full size, when the preview's decode of the source
  /// already had it (otherwise the review images decode it again).
  var source: RGBImage? = nil
}

/// One measure that is not a ground-truth alpha metric, for an arm ("A", "B") or both ("A-B").
struct ExtraMeasure: Sendable, Equatable {
  var arm: String
  var region: String
  var measure: String
  var value: Double?
  var detail: String?
  /// The definition's version tag ("Composite/1", "NoTruth/1").
  var version: String

  /// The short tag of a full version string: what comes before its colon.
  static func tag(_ version: String) -> String { String(version.prefix { $0 != ":" }) }
}

/// A frame of an arm's output: its alpha, or its picture when the output is a composite.
enum ArmFrame: Sendable {
  case alpha(GrayImage)
  case picture(RGBImage)
}

/// Running sums of one arm's composite error against the reference, per region.
struct CompositeAccumulator {
  var background: RGBPicture
  var original: RGBPicture?
  var fit: BackgroundFit
  var sums = [Double](repeating: 0, count: RegionKind.allCases.count)
  var pixels = [Int](repeating: 0, count: RegionKind.allCases.count)
  var detected: [(fit: BackgroundFit, mse: Double)]?
  var aspect: AspectMatch?

  func measures(arm: String) -> [ExtraMeasure] {
    var out: [ExtraMeasure] = []
    let version = ExtraMeasure.tag(Composite.version)
    for (r, region) in RegionKind.allCases.enumerated() {
      out.append(
        ExtraMeasure(
          arm: arm, region: region.rawValue, measure: "composite_mse",
          value: Composite.mse(sum: sums[r], pixels: pixels[r]), version: version))
      let psnr = Composite.psnr(sum: sums[r], pixels: pixels[r])
      out.append(
        ExtraMeasure(
          arm: arm, region: region.rawValue, measure: "composite_psnr", value: psnr.map { $0.isFinite ? $0 : 999 },
          detail: psnr == .infinity ? "identical (PSNR infinite, stored as 999)" : nil, version: version))
    }
    if let detected {
      out.append(
        ExtraMeasure(
          arm: arm, region: "frame", measure: "applied_fit", value: detected[0].mse,
          detail: "detected \(detected[0].fit.rawValue), configured \(fit.rawValue); background MSE x1e3 "
            + detected.map { "\($0.fit.rawValue) \(String(format: "%.3f", $0.mse))" }.joined(separator: ", "),
          version: version))
    }
    if let aspect {
      out.append(
        ExtraMeasure(
          arm: arm, region: "frame", measure: "aspect_class", value: aspect.relativeDifference,
          detail:
            "\(aspect.match.rawValue): source \(String(format: "%.4f", aspect.sourceAspect)), background \(String(format: "%.4f", aspect.backgroundAspect))",
          version: version))
    }
    return out
  }
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
  /// A ground-truth frame decoded and prepared for scoring.
  struct TruthFrame: Sendable {
    var index: Int
    var time: Double
    var image: GrayImage
    var prepared: PreparedTruth
  }

  /// What one of a frame's concurrent pieces of work gives: an arm's scores, or the next truth.
  enum FramePiece: Sendable {
    case arm((totals: ErrorTotals, blocks: DifferingBlocks)?)
    case truth(Result<TruthFrame?, any Error>)
    case preview
  }

  static func score(
    clip: Clip, in set: ClipSet, outputA: String, outputB: String, configA: ArmConfig, configB: ArmConfig,
    alignment policy: AlignmentPolicy, previewFolder: String? = nil, decoderThreads: Int = 0
  ) throws -> ClipScore {
    guard let alphaFile = clip.alpha else {
      return try scoreWithoutTruth(
        clip: clip, in: set, outputA: outputA, outputB: outputB, configA: configA, configB: configB, alignment: policy)
    }
    let truthPath = set.path(of: alphaFile)
    // Opened as `score` opens a matte: a colour picture is refused, not read as its first channel.
    let truth = try StandaloneScore.open(truthPath, decoderThreads: decoderThreads)
    let masks = try clip.regionMasks.map {
      try VideoReader(
        path: set.path(of: $0), options: ReadOptions(rgb: .none, alpha: .luma, decoderThreads: decoderThreads))
    }
    let interval = truth.frameRate > 0 ? 1 / truth.frameRate : 0.04
    let preview = previewFolder.map {
      PreviewRecorder(
        folder: $0, sourcePath: set.path(of: clip.source), truthSize: truth.size, fps: 1 / interval,
        orderKey: clip.id + "\n" + clip.source.sha256)
    }
    // True motion vectors (t−1 → t), where the manifest carries them: MESSDdt is scored only then.
    let motion = try clip.motion.map {
      try MotionFields(folder: set.path(of: $0), size: truth.size, checkCRC: !set.hashesVerified)
    }
    var readers: [String: any FrameSource] = [:]
    var composites: [String: CompositeAccumulator] = [:]
    for (arm, path, config) in [("A", outputA, configA), ("B", outputB, configB)] {
      let composite = config.bgType != "transparent"
      let options =
        composite
        ? ReadOptions(rgb: .eight, alpha: .none, sequenceFrameRate: 1 / interval, decoderThreads: decoderThreads)
        : ReadOptions(
          // A matte video's luma is alpha (limited range expanded unless the stream says full range).
          rgb: .none, alpha: config.outputFormat == "matte_mp4" ? .matteLuma : .alphaChannel,
          association: config.alphaAssociation, sequenceFrameRate: 1 / interval, decoderThreads: decoderThreads)
      readers[arm] = try MediaInput.open(
        path, options: options, sourceSize: truth.size, allowScaling: config.allowScaling,
        what: "arm \(arm) output (config \(config.file))")
      if composite {
        composites[arm] = try compositeAccumulator(config: config, size: truth.size)
      }
    }
    // Composites are scored against α·F + (1 − α)·B′ with F from the source and its clean plate.
    var sourceFrames: FrameAligner<RGBImage>?
    var plate: PlateValues?
    if !composites.isEmpty {
      guard let platePath = clip.cleanPlate.map({ set.path(of: $0) }) else {
        throw ClipScoringError(
          description:
            "clip '\(clip.id)': a composited output needs the clip's clean plate to build the reference composite")
      }
      plate = try PlateValues(path: platePath, size: truth.size)
      let source = try VideoReader(path: set.path(of: clip.source), options: ReadOptions(rgb: .eight))
      sourceFrames = FrameAligner(referenceInterval: interval, outputRate: source.frameRate, policy: policy) {
        guard let f = try source.nextFrame(), let rgb = f.rgb else { return nil }
        return (f.time, rgb)
      }
    }
    func aligner(_ reader: any FrameSource) -> FrameAligner<ArmFrame> {
      FrameAligner(referenceInterval: interval, outputRate: reader.frameRate, policy: policy) {
        () throws -> (time: Double, frame: ArmFrame)? in
        guard let f = try reader.nextFrame() else { return nil }
        if let a = f.alpha { return (f.time, .alpha(a)) }
        if let rgb = f.rgb { return (f.time, .picture(rgb)) }
        throw ClipScoringError(description: "\(reader.path): frame \(f.index) has no alpha")
      }
    }
    let a = aligner(readers["A"]!)
    let b = aligner(readers["B"]!)
    var score = ClipScore()
    var previousTruth: PreparedTruth?
    // Both arms' predictions at the previous ground-truth frame, with the blocks where each
    // differed from it, when that frame was scored on both: temporal metrics compare
    // consecutive frames only.
    var previousArms: [String: (matte: Matte, blocks: DifferingBlocks)] = [:]
    var worst = -1.0
    // The next ground-truth frame, decoded and prepared (regions, blocks, gradient); it is made
    // while the arms of the frame before it are scored.
    let streams = Unchecked((truth: truth, masks: masks))
    @Sendable func nextTruth(after previous: PreparedTruth?) throws -> TruthFrame? {
      let (truth, masks) = streams.value
      guard let g = try truth.nextFrame(), let ga = g.alpha else { return nil }
      var maskCodes: [UInt16]?
      if let masks {
        guard let m = try masks.nextFrame(), let codes = m.alpha else {
          throw ClipScoringError(description: "\(masks.path): region masks end before frame \(g.index)")
        }
        guard abs(m.time - g.time) <= interval / 2 else {
          throw ClipScoringError(
            description:
              "\(masks.path): region mask frame \(m.index) is at \(m.time) s but ground truth is at \(g.time) s")
        }
        guard codes.width == ga.width && codes.height == ga.height else {
          throw ClipScoringError(
            description:
              "\(masks.path): region masks are \(codes.width)x\(codes.height) but ground truth is \(ga.width)x\(ga.height)"
          )
        }
        maskCodes = codes.samples
      }
      let matte = Matte(width: ga.width, height: ga.height, maxValue: ga.maxValue, codes: ga.samples)
      let own = clip.ownMaskCodes
      let prepared = PreparedTruth(
        matte, previous: previous, maskCodes: maskCodes, hair: own.hair, glass: own.glass, motion: own.motion)
      return TruthFrame(index: g.index, time: g.time, image: ga, prepared: prepared)
    }
    var upcoming = try nextTruth(after: nil)
    while let current = upcoming {
      let prepared = current.prepared
      let gMatte = prepared.matte
      let before = previousTruth
      previousTruth = prepared
      let fa = try a.match(referenceTime: current.time)
      let fb = try b.match(referenceTime: current.time)
      let source = try sourceFrames?.match(referenceTime: current.time)
      // Paired scoring: a frame counts only when both arms have it.
      guard let fa, let fb, sourceFrames == nil || source != nil else {
        previousArms = [:]
        upcoming = try nextTruth(after: prepared)
        continue
      }
      var mattes: [String: Matte] = [:]
      // The source as values, once per frame for however many composite arms.
      let sourcePicture = source.map { RGBPicture(width: $0.width, height: $0.height, bytes: $0.pixels) }
      let platePicture = try plate?.values(at: current.index)
      for (arm, frame) in [("A", fa), ("B", fb)] {
        switch frame {
        case .alpha(let p):
          mattes[arm] = Matte(width: p.width, height: p.height, maxValue: p.maxValue, codes: p.samples)
        case .picture(let rgb):
          guard var acc = composites[arm], let sourcePicture, let plate = platePicture else {
            throw ClipScoringError(description: "\(readers[arm]!.path): frame has no alpha")
          }
          let output = RGBPicture(width: rgb.width, height: rgb.height, bytes: rgb.pixels)
          let reference = Composite.reference(
            alpha: gMatte, source: sourcePicture, plate: plate, background: acc.background)
          for (r, e) in Composite.squaredError(output, reference, regions: prepared.regions).enumerated() {
            acc.sums[r] += e.sum
            acc.pixels[r] += e.pixels
          }
          if acc.detected == nil, let original = acc.original {
            acc.detected = Composite.detectFit(output: output, alpha: gMatte, background: original)
          }
          composites[arm] = acc
        }
      }
      let inputs = ["A", "B"].map { arm in
        (
          matte: mattes[arm], previous: previousArms[arm].flatMap { p in before.map { (p.matte, $0) } },
          blocks: previousArms[arm]?.blocks
        )
      }
      // The field that carries frame t − 1 onto this frame, when a temporal pair is scored.
      let field: MotionField?
      do {
        field = try inputs.contains { $0.previous != nil } ? motion?.field(frame: current.index) : nil
      } catch {
        throw ClipScoringError(description: "clip '\(clip.id)': motion vectors: \(error)")
      }
      // The arms are independent given the prepared truth, and the next frame's truth depends
      // on neither: all three at once, so that a clip scored alone (the last of a run) still
      // uses two cores and decoding the truth overlaps scoring.
      // The preview's frame is made from the same decoded frames, beside them.
      let recorder = Unchecked(preview)
      let shown = (index: current.index, time: current.time, truth: current.image, a: fa, b: fb)
      let pieces = Parallel.map(preview == nil ? [0, 1, 2] : [0, 1, 2, 3]) { i -> FramePiece in
        if i == 3 {
          recorder.value?.append(index: shown.index, time: shown.time, truth: shown.truth, a: shown.a, b: shown.b)
          return .preview
        }
        guard i < 2 else { return .truth(Result { try nextTruth(after: prepared) }) }
        let input = inputs[i]
        return .arm(
          input.matte.map { m in
            FrameScorer.scoreKeepingBlocks(
              prediction: m, truth: prepared, previous: input.previous, previousBlocks: input.blocks,
              motion: input.previous == nil ? nil : field)
          })
      }
      guard case .arm(let resultA) = pieces[0], case .arm(let resultB) = pieces[1], case .truth(let next) = pieces[2]
      else { preconditionFailure("Parallel.map keeps the order of its pieces") }
      upcoming = try next.get()
      let results = [resultA, resultB]
      previousArms = [:]
      if let ma = mattes["A"], let mb = mattes["B"], let ra = results[0], let rb = results[1] {
        previousArms = ["A": (ma, ra.blocks), "B": (mb, rb.blocks)]
      }
      let sa = results[0]?.totals ?? ErrorTotals()
      let sb = results[1]?.totals ?? ErrorTotals()
      score.totalsA.add(sa)
      score.totalsB.add(sb)
      score.frameRecords.append(("A", current.index, sa))
      score.frameRecords.append(("B", current.index, sb))
      if case .alpha(let pa) = fa, case .alpha(let pb) = fb {
        // The source picture for the review images, from the preview's decode of the source
        // (asked once a frame, only when some region's worst frame is this one).
        var fullSource: RGBImage??
        for region in ReviewFrame.regions where sa.pixels(region, .sad) > 0 && sb.pixels(region, .sad) > 0 {
          let error = sa.sum(region, .sad) + sb.sum(region, .sad)
          if error > score.regionReviews[region]?.error ?? -1 {
            if fullSource == nil { fullSource = .some(preview?.fullSizeSource(at: current.time)) }
            score.regionReviews[region] = ReviewFrame(
              index: current.index, time: current.time, error: error, truth: current.image, a: pa, b: pb,
              regionBits: prepared.regions.bits, source: fullSource!)
          }
        }
      }
      let difficulty = sa.sum(.transition, .sad) + sb.sum(.transition, .sad)
      if difficulty > worst, case .alpha = fa, case .alpha = fb {
        worst = difficulty
        score.reviewFrame = current.index
      }
      score.frames += 1
    }
    score.alignment["A"] = try a.finish()
    score.alignment["B"] = try b.finish()
    score.previewWarning = preview?.finish()
    for (arm, acc) in composites.sorted(by: { $0.key < $1.key }) { score.extras += acc.measures(arm: arm) }
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

  /// Decodes the source pictures presented at `times` (each within half a frame) in one pass,
  /// on one thread: frames between them are decoded only as far as later frames refer to them.
  /// A time past the stream's end has no picture.
  static func sourceFrames(path: String, times: [Double]) throws -> [Double: RGBImage] {
    let reader = try VideoReader(path: path, options: ReadOptions(rgb: .eight, decoderThreads: 1))
    let tolerance = reader.frameRate > 0 ? 0.5 / reader.frameRate : 0.02
    var out: [Double: RGBImage] = [:]
    var last: (time: Double, picture: RGBImage)?
    for time in Set(times).sorted() {
      // Two times within one frame of each other share its picture.
      if let last, last.time >= time - tolerance {
        out[time] = last.picture
        continue
      }
      guard let f = try reader.frame(at: time, tolerance: tolerance), let rgb = f.rgb else { break }
      out[time] = rgb
      last = (f.time, rgb)
    }
    return out
  }
}
