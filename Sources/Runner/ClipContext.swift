import Clips
import Foundation
import MatteMetrics
import MediaIO
import Report
import Services
import Store

/// How one clip ended: what the run's progress and provenance read of it (everything else is
/// in the database).
struct ClipOutcome: Sendable {
  /// The failure naming the clip and the cause, if the clip could not be scored.
  var error: String?
  var serviceVersion: String?
}

/// What every clip's processing shares. All members are `Sendable`.
struct ClipContext: Sendable {
  var runID: String
  var runFolder: String
  var clipSet: ClipSet
  var configA: ArmConfig
  var configB: ArmConfig
  /// Each arm's provider ("A", "B"); one instance when the arms share it.
  var providers: [String: any Provider]
  /// `--owner`: the default owner of every job (an arm's `owner:` wins).
  var owner: String?
  var alignment: AlignmentPolicy
  var store: ResultStore
  var progress: RunProgress
  /// sha256 of each arm's background picture (bg_type image), hashed once per run.
  var backgroundSHA256: [String: String] = [:]
  /// Each arm's config part of the output cache's key.
  var configKeys: [String: String] = [:]
  /// Whether outputs may come from the cache (`--no-cache` turns it off).
  var useCache = true
  /// Each source's bits per pixel per frame, as the run worked them out.
  var bitsPerPixel: [String: Double] = [:]
  /// Arm A's jobs of the baseline run (`--baseline-run`), by clip id.
  var baselineJobs: [String: JobRecord] = [:]
  /// This run's jobs stored before (a resume), by "clip/arm", in submission order.
  var priorJobs: [String: [(id: Int64, record: JobRecord)]] = [:]
  /// Bounds how many clips decode and score at once (memory), whatever the jobs in flight.
  var scoring: Slots
  /// Whether each clip gets a preview video for the report's player (`--no-previews` turns
  /// it off).
  var previews = true

  /// Where the service's outputs go, clip by clip: `OUT/outputs/RUN/`, beside the run's report
  /// folder `OUT/RUN/` rather than in it, so that the report stays small (crops, not videos).
  var outputsFolder: String {
    (runFolder as NSString).deletingLastPathComponent + "/outputs/" + (runFolder as NSString).lastPathComponent
  }

  /// Submits both arms (interleaved: A first on even clips, B first on odd ones), scores the
  /// outputs, stores everything and writes the review images. Never throws: a failure becomes
  /// the outcome's error, naming the clip and the file.
  func process(clip: Clip, index: Int) async -> ClipOutcome {
    var outcome = ClipOutcome()
    do {
      // Both folders are checked to stay inside the run's folders whatever the id says.
      let folder = try ClipID.path(clip.id, in: outputsFolder)
      try OutputFolder.create(folder)
      try OutputFolder.create(try ClipID.path(clip.id, in: runFolder + "/clips"))
      // Broken ground truth fails the clip before either arm is submitted (or paid for).
      try TruthCheck.check(clip: clip, in: clipSet)
      let arms = index % 2 == 0 ? [("A", configA), ("B", configB)] : [("B", configB), ("A", configA)]
      var outputs: [String: String] = [:]
      var sourceHashes: [String: String] = [:]
      for (arm, config) in arms {
        let (output, sourceHash, version) = try await obtain(clip: clip, arm: arm, config: config, folder: folder)
        outputs[arm] = output
        sourceHashes[arm] = sourceHash
        outcome.serviceVersion = version ?? outcome.serviceVersion
      }
      // Both arms must have been given the same source bytes.
      guard sourceHashes["A"] == sourceHashes["B"] else {
        throw ClipScoringError(
          description:
            "arms A and B were given different sources (sha256 \(sourceHashes["A"]!.prefix(12))… vs \(sourceHashes["B"]!.prefix(12))…): not compared"
        )
      }
      _ = try await scoring.run {
        try scoreAndStore(clip: clip, index: index, outputA: outputs["A"]!, outputB: outputs["B"]!)
      }
    } catch {
      let message = error is ProviderError ? "\(error)" : "clip '\(clip.id)': \(error)"
      outcome.error = message
      progress.line("  \(message)")
      do { try save(clip: clip, index: index, score: nil, error: message) } catch {
        outcome.error = message + " (and storing the failure failed: \(error))"
      }
    }
    progress.clipDone(failed: outcome.error != nil)
    return outcome
  }

  /// Decodes both outputs and the ground truth, scores them, writes the review images and
  /// stores the clip's rows (or its inconclusive alignment) in one transaction. Returns the
  /// frames scored (0 for an inconclusive clip).
  func scoreAndStore(clip: Clip, index: Int, outputA: String, outputB: String) throws -> Int {
    progress.line("  \(clip.id): scoring")
    let score = try ClipScorer.score(
      clip: clip, in: clipSet, outputA: outputA, outputB: outputB, configA: configA, configB: configB,
      alignment: alignment,
      previewFolder: previews ? try ClipID.path(clip.id, in: runFolder + "/clips") : nil,
      // With several clips scored at once the cores are busy with the other clips: one thread
      // per decoder then costs no time and keeps no per-thread decoder contexts and frames
      // (peak 1023 → 878 MiB on the standard set, `bench pipeline --jobs 2`).
      decoderThreads: scoring.count > 1 ? 1 : 0)
    if let w = score.previewWarning { progress.line("  \(clip.id): warning: \(w)") }
    if let reason = score.misalignment {
      try save(clip: clip, index: index, score: nil, error: nil, inconclusive: reason, alignment: score.alignment)
      progress.line("  \(clip.id): inconclusive: \(reason)")
      return 0
    }
    try writeReviewImages(clip: clip, score: score)
    try save(clip: clip, index: index, score: score, error: nil, alignment: score.alignment)
    let a = score.alignment["A"]!
    let b = score.alignment["B"]!
    progress.line("  \(clip.id): scored \(score.frames) frames (A \(a.summary); B \(b.summary))")
    return score.frames
  }

  /// The output of one arm: an output this run already has (a resume), the baseline run's
  /// (arm A with `--baseline-run`), the cache's, or a new job's. Returns the output's path, the
  /// sha256 of the source bytes it was made from, and the service version if known.
  private func obtain(clip: Clip, arm: String, config: ArmConfig, folder: String) async throws -> (
    String, String, String?
  ) {
    // The job records the hash of the bytes it is given, checked against the pinned one.
    let sourcePath = clipSet.path(of: clip.source)
    let sourceHash = try FileHash.sha256(ofFile: sourcePath)
    guard sourceHash == clip.source.sha256 else {
      throw ClipScoringError(
        description:
          "\(sourcePath) changed since pinning (pinned \(clip.source.sha256.prefix(12))…, now \(sourceHash.prefix(12))…): arm \(arm) not submitted"
      )
    }
    let baseKey = "\(runID)/\(clip.id)/\(arm)"
    let configKey = configKeys[arm]!
    let provider = providers[arm]!
    let cacheKey = FileHash.sha256(of: Array("\(sourceHash)\n\(configKey)\n\(provider.identity)".utf8))
    let prior = priorJobs["\(clip.id)/\(arm)"]?.last

    // 1. This run made it before it was interrupted.
    if let prior, ["completed", "reused"].contains(prior.record.status), let path = prior.record.outputPath,
      Self.intact(path, sha256: prior.record.outputSHA256)
    {
      progress.line("  \(clip.id): arm \(arm) output kept from before the interruption")
      return (path, sourceHash, prior.record.serviceVersion)
    }
    var record = JobRecord(
      runID: runID, clipID: clip.id, clipSHA256: sourceHash, arm: arm, provider: provider.name,
      idempotencyKey: baseKey, model: config.model, outputFormat: config.outputFormat, bgType: config.bgType,
      bgColor: config.bgColor, bgImage: config.bgImage, fit: config.fit, status: "submitted", submittedAt: Date())
    record.bgImageSHA256 = backgroundSHA256[arm]
    record.cacheKey = cacheKey
    record.owner = config.owner ?? owner
    // The clip's own source until a service names its upload.
    record.inputReference = "clipset:" + clip.source.path

    // 2. Arm A of the baseline run, or 3. the cache: a job row that says where it came from.
    // Only for a first attempt: a job interrupted or failed in this run is submitted again.
    var reuse: (path: String, sha: String, key: String, version: String?, from: String)?
    if prior == nil, arm == "A", let base = baselineJobs[clip.id], base.clipSHA256 == sourceHash,
      let path = base.outputPath,
      Self.intact(path, sha256: base.outputSHA256)
    {
      reuse = (path, base.outputSHA256!, base.reusedFrom ?? base.idempotencyKey, base.serviceVersion, "baseline run")
    } else if prior == nil, useCache,
      let hit = try store.cachedOutput(
        sourceSHA256: sourceHash, configKey: configKey, providerIdentity: provider.identity)
    {
      if Self.intact(hit.outputPath, sha256: hit.outputSHA256) {
        reuse = (hit.outputPath, hit.outputSHA256, hit.jobKey, nil, "cache")
      } else {
        try store.forgetCachedOutput(
          sourceSHA256: sourceHash, configKey: configKey, providerIdentity: provider.identity)
      }
    }
    if let reuse {
      record.status = "reused"
      record.reusedFrom = reuse.key
      record.outputPath = reuse.path
      record.outputSHA256 = reuse.sha
      record.serviceVersion = reuse.version
      record.finishedAt = Date()
      record.totalMS = 0
      _ = try store.insert(record)
      progress.line("  \(clip.id): arm \(arm) (\(config.name)) reused from the \(reuse.from) (job \(reuse.key))")
      return (reuse.path, sourceHash, reuse.version)
    }

    // 4. A job: the row interrupted in flight is submitted again under its own key (the service
    // replays what it already did); after a failure, a new attempt gets a new key.
    let rowID: Int64
    if let prior, prior.record.status == "submitted" {
      rowID = prior.id
      record.idempotencyKey = prior.record.idempotencyKey
      record.attempt = prior.record.attempt
      record.providerJobID = prior.record.providerJobID
      record.submittedAt = prior.record.submittedAt
    } else {
      if let prior {
        record.attempt = prior.record.attempt + 1
        record.idempotencyKey = baseKey + "/attempt\(record.attempt)"
      }
      rowID = try store.insert(record)
    }
    let submitted = record.submittedAt
    progress.line("  \(clip.id): arm \(arm) (\(config.name)) submitted")
    var request = JobRequest(
      clipID: clip.id, sourcePath: sourcePath, sourceSHA256: clip.source.sha256,
      cleanPlatePath: clip.cleanPlate.map { clipSet.path(of: $0) }, arm: arm, config: config,
      outputPath: folder + "/\(arm).\(config.outputFormat)", idempotencyKey: record.idempotencyKey)
    let store = self.store
    request.onCreated = { jobID in try? store.setProviderJobID(row: rowID, jobID) }
    request.owner = record.owner
    progress.jobStarted()
    defer { progress.jobEnded() }
    do {
      let result = try await provider.submit(request)
      record.status = "completed"
      record.providerJobID = result.providerJobID
      record.credits = result.credits
      record.startedAt = result.startedAt
      record.finishedAt = result.finishedAt
      record.durationMS = Int((result.finishedAt.timeIntervalSince(result.startedAt) * 1000).rounded())
      record.outputPath = result.outputPath
      record.outputSHA256 = result.outputSHA256
      record.serviceVersion = result.serviceVersion
      record.creditsReserved = result.creditsReserved
      record.creditsCharged = result.creditsCharged
      record.creditsRefunded = result.creditsRefunded
      record.queuedMS = result.queuedMS
      record.processingMS = result.processingMS
      record.totalMS = Int((result.finishedAt.timeIntervalSince(submitted) * 1000).rounded())
      record.stderrPath = result.stderrPath
      record.inputReference = result.inputReference ?? record.inputReference
      try store.updateJob(id: rowID, with: record)
      // Only completed outputs are cached; errors never are.
      try store.cache(
        CachedOutput(
          sourceSHA256: sourceHash, configKey: configKey, providerIdentity: provider.identity,
          outputPath: result.outputPath, outputSHA256: result.outputSHA256, jobKey: record.idempotencyKey,
          runID: runID))
      return (result.outputPath, sourceHash, result.serviceVersion)
    } catch {
      record.status = "failed"
      record.finishedAt = Date()
      record.errorCode = (error as? ProviderError)?.code ?? "error"
      record.errorMessage = (error as? ProviderError)?.message ?? "\(error)"
      record.errorRetryable = (error as? ProviderError)?.retryable ?? false
      record.totalMS = Int((record.finishedAt!.timeIntervalSince(submitted) * 1000).rounded())
      record.stderrPath = (error as? ProviderError)?.stderrPath
      if let e = error as? ProviderError {
        record.providerJobID = e.providerJobID ?? record.providerJobID
        record.creditsReserved = e.creditsReserved
        record.creditsRefunded = e.creditsRefunded
        record.inputReference = e.inputReference ?? record.inputReference
      }
      try store.updateJob(id: rowID, with: record)
      throw error
    }
  }

  /// Whether the file at `path` exists with the given sha256.
  static func intact(_ path: String, sha256: String?) -> Bool {
    guard let sha256, FileManager.default.fileExists(atPath: path) else { return false }
    return (try? FileHash.sha256(ofFile: path)) == sha256
  }

  private func save(
    clip: Clip, index: Int, score: ClipScore?, error: String?, inconclusive: String? = nil,
    alignment: [String: AlignmentStats] = [:]
  ) throws {
    var frameRecords: [FrameMetricRecord] = []
    var clipRecords: [ClipMetricRecord] = []
    if let score {
      for (arm, frame, totals) in score.frameRecords {
        // A region empty in this frame (for temporal metrics: in frame t − 1) has no row.
        for region in RegionKind.allCases {
          for metric in MetricKind.allCases where totals.pixels(region, metric) > 0 {
            frameRecords.append(
              FrameMetricRecord(
                clipID: clip.id, arm: arm, frame: frame, region: region.rawValue, metric: metric.rawValue,
                errorSum: totals.sum(region, metric), pixels: totals.pixels(region, metric),
                metricVersion: metric.versionTag))
          }
        }
      }
      for (arm, totals) in [("A", score.totalsA), ("B", score.totalsB)] {
        for region in RegionKind.allCases {
          for metric in MetricKind.allCases {
            clipRecords.append(
              ClipMetricRecord(
                clipID: clip.id, arm: arm, region: region.rawValue, metric: metric.rawValue,
                value: totals.value(region, metric), errorSum: totals.sum(region, metric),
                pixels: totals.pixels(region, metric), frames: totals.frames(region, metric),
                metricVersion: metric.versionTag))
          }
        }
      }
    }
    var record = ClipRecord(
      runID: runID, clipID: clip.id, sha256: clip.source.sha256, tags: clip.tags.joined(separator: ","),
      status: score != nil ? "scored" : (inconclusive != nil ? "inconclusive" : "failed"),
      error: error ?? inconclusive, frames: score?.frames ?? 0, reviewFrame: score?.reviewFrame)
    record.hasTruth = score?.hasTruth ?? (clip.alpha != nil)
    record.position = index
    record.scoredAt = Date()
    record.regions = clip.hasGroundTruth ? RegionProvenance.describe(clip) : nil
    record.bitsPerPixel = bitsPerPixel[clip.id]
    try store.saveClip(
      runID: runID,
      clip: record,
      frameMetrics: frameRecords, clipMetrics: clipRecords,
      alignment: alignment.sorted { $0.key < $1.key }.map { arm, s in
        AlignmentRecord(
          arm: arm, referenceFrames: s.referenceFrames, outputFrames: s.outputFrames, matched: s.matched,
          dropped: s.dropped, duplicated: s.duplicated, extra: s.extra, maxOffsetSeconds: s.maxOffset,
          windowSeconds: s.window, status: s.problem(under: self.alignment) == nil ? "aligned" : "misaligned")
      },
      extras: (score?.extras ?? []).map { e in
        ExtraMeasureRecord(
          clipID: clip.id, arm: e.arm, region: e.region, measure: e.measure, value: e.value, detail: e.detail,
          version: e.version)
      })
  }

  /// Writes each region's worst frame (`ClipScore.regionReviews`) as PNG crops (libpng): the
  /// window where A and B together are furthest from the ground truth over the region's pixels
  /// (`ReviewImages.worstWindow`, a quarter of the frame's width and height, at least 160×90),
  /// of the source, the ground truth, both alphas and both error heatmaps (the report composites
  /// the source over any background with each arm's alpha in the browser), named
  /// `clips/ID/REGION-frameN-ROLE.png` in the run folder, where the report looks for them, with
  /// the window in `REGION-frameN-crop.txt` ("x y width height"). Crops keep the report small;
  /// fast compression keeps the run from waiting on zlib (the files are lossless either way).
  private func writeReviewImages(clip: Clip, score: ClipScore) throws {
    // Every region's source picture the preview's decode did not keep, from one pass over the
    // source (regions often pick frames close together, and each pass decodes from the start).
    let times = ReviewFrame.regions.compactMap { score.regionReviews[$0].flatMap { $0.source == nil ? $0.time : nil } }
    let sources =
      times.isEmpty ? [:] : try ClipScorer.sourceFrames(path: clipSet.path(of: clip.source), times: times)
    for region in ReviewFrame.regions {
      guard let r = score.regionReviews[region] else { continue }
      let prefix = try ClipID.path(clip.id, in: runFolder + "/clips") + "/\(region.rawValue)-frame\(r.index)"
      let crop = ReviewImages.worstWindow(
        a: r.a, b: r.b, truth: r.truth, width: max(160, r.truth.width / 4), height: max(90, r.truth.height / 4),
        within: (r.regionBits, region.bit))
      try "\(crop.x) \(crop.y) \(crop.width) \(crop.height)\n".write(
        toFile: prefix + "-crop.txt", atomically: true, encoding: .utf8)
      let source = (r.source ?? sources[r.time]).flatMap {
        $0.width == r.truth.width && $0.height == r.truth.height ? $0 : nil
      }
      .map { ReviewImages.cropped($0, crop) }
      if let source { try PNGFile.write(source, to: prefix + "-source.png", compression: .fast) }
      let pieces = [("truth", r.truth), ("a", r.a), ("b", r.b)].map { ($0.0, ReviewImages.cropped($0.1, crop)) }
      // Without ground truth (the crop is where A and B disagree most): the arms alone, no heatmaps.
      for (role, piece) in pieces where score.hasTruth || role != "truth" {
        try PNGFile.writeGray8(
          piece.eightBit(), width: piece.width, height: piece.height, to: prefix + "-\(role).png", compression: .fast)
      }
      for (role, piece) in pieces.dropFirst() where score.hasTruth {
        let map = ReviewImages.heatmap(prediction: piece, truth: pieces[0].1)
        try PNGFile.write(map, to: prefix + "-heat-\(role).png", compression: .fast)
      }
    }
  }
}
