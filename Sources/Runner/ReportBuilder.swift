import Clips
import Foundation
import MatteMetrics
import MediaIO
public import Report
import Services
public import Store
import Verdict

/// The report's model of a finished run, from SQLite alone (and the review crops in its run
/// folder): the run that just finished, `mattegate report` and `mattegate serve` all show the
/// same page for the same stored rows.
public enum ReportBuilder {
  /// The metrics drawn per frame, in this order; the first is shown, the rest fold away.
  static let curveMetrics: [MetricKind] = [.mad, .mse, .grad, .conn, .dtssd]

  public static func model(runID: String, store: ResultStore, runFolder: String) throws -> ReportModel {
    guard let run = try store.run(id: runID) else { throw RunError("\(store.path): run \(runID) is not stored") }
    guard let exitCode = run.exitCode, let summary = run.outcome else {
      throw RunError("\(store.path): run \(runID) has not finished (resume it with --resume \(runID))")
    }
    guard let policy = GatePolicy(canonicalText: run.gateText) else {
      throw RunError("\(store.path): run \(runID)'s stored gate policy cannot be read")
    }
    let clips = try store.clips(runID: runID)
    let byClip = RunFinisher.valuesByClip(try store.clipMetrics(runID: runID))
    let extras = Dictionary(grouping: try store.extraMeasures(runID: runID), by: \.clipID)
    let alignment = Dictionary(grouping: try store.alignment(runID: runID), by: \.clipID)
    let frameRows = Dictionary(grouping: try store.frameMetrics(runID: runID), by: \.clipID)
    let jobs = try store.jobs(runID: runID)
    let records = try store.comparisons(runID: runID)
    let reasons = (run.gateReasons ?? "").split(separator: "\n").map(String.init)
    func arm(_ name: String, _ settings: String, _ hash: String, _ label: String) -> ReportModel.Arm {
      var a = ReportModel.Arm(name: name, settings: settings, hash: hash)
      if let job = jobs.first(where: { $0.arm == label }) {
        a.model = job.model
        a.background = job.bgType
        if job.bgType == "color", let colour = job.bgColor, HTMLReport.isHexColour(colour) {
          a.backgroundColour = colour
          a.background = "colour \(colour)"
        } else if job.bgType == "image" || job.bgType == "video" {
          a.background = "\(job.bgType) \(job.bgImage.map { ($0 as NSString).lastPathComponent } ?? "")"
        }
      }
      return a
    }
    let primaryMetrics = Dictionary(
      RegionKind.allCases.map { region in
        (region.rawValue, policy.primaries.first { $0.region == region.rawValue }?.metric ?? MetricKind.mse.rawValue)
      }, uniquingKeysWith: { a, _ in a })
    var model = ReportModel(
      runID: runID, createdAt: run.createdAt, clipsetName: run.clipsetName, clipsetSHA256: run.clipsetSHA256,
      provider: run.provider,
      a: arm(run.configAName, run.configAText, run.configAHash, "A"),
      b: arm(run.configBName, run.configBText, run.configBHash, "B"),
      versions: [
        "harness": run.harnessVersion, "metrics": run.metricsVersion, "regions": run.regionsVersion,
        "engine": run.serviceVersion ?? "–", "gate": policy.canonicalText,
      ].merging(MetricKind.allCases.map { ("metric " + $0.rawValue, $0.version) }) { a, _ in a },
      gateStatus: GateOutcome.status(exitCode: Int32(exitCode)).rawValue, gateSummary: summary,
      gateReasons: reasons, exitCode: Int32(exitCode), marginPercent: policy.margin * 100,
      regions: RegionKind.allCases.map(\.rawValue), metrics: MetricKind.allCases.map(\.rawValue),
      metricScales: Dictionary(uniqueKeysWithValues: MetricKind.allCases.map { ($0.rawValue, $0.scaleLabel) }),
      endpoints: endpointRows(
        records, policy: policy, observations: RunFinisher.pairedObservations(clips: clips, byClip: byClip)),
      clips: clips.map { c in
        var row = clipRow(
          c, values: byClip[c.clipID] ?? [:], extras: extras[c.clipID] ?? [],
          alignment: (alignment[c.clipID] ?? []).map(\.record), runFolder: runFolder)
        let frames = frameRows[c.clipID] ?? []
        row.curves = curves(frames)
        row.worstFrames = worstFrames(frames)
        return row
      })
    model.primaryMetrics = primaryMetrics
    model.runName = run.name
    model.runDescription = run.runDescription
    model.runTags = (run.tags ?? "").split(separator: "\n").map(String.init)
    model.gitCommit = run.gitCommit
    model.gitBranch = run.gitBranch
    model.promotions = try Defaults.banner(runID: runID, store: store)
    model.mode = policy.mode.rawValue
    model.intervalMethod = records.compactMap(\.intervalMethod).first
    model.problems = clips.filter { ["failed", "inconclusive"].contains($0.status) }.map {
      ($0.clipID, $0.error ?? $0.status)
    }
    model.jobs = jobs.map { j in
      var row = ReportModel.JobRow(
        clip: j.clipID, arm: j.arm, jobID: j.providerJobID, status: j.status, attempt: j.attempt,
        durationMS: j.totalMS ?? j.durationMS, credits: j.creditsCharged ?? j.credits, outputSHA256: j.outputSHA256,
        reusedFrom: j.reusedFrom,
        error: j.errorCode.map { code in j.errorMessage.map { "\(code): \($0)" } ?? code } ?? j.errorMessage)
      // The clip arm's lines of the operational log, when its provider spoke HTTP.
      let log = RequestLog.jobFile(clipID: j.clipID, arm: j.arm)
      if let data = FileManager.default.contents(atPath: runFolder + "/" + log) {
        row.requestLog = log
        row.requestCount = data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
      }
      return row
    }
    model.runbook = runbook(model, byClip: byClip, policy: policy)
    func note(_ n: NoteRecord) -> ReportModel.Note {
      ReportModel.Note(
        runID: n.runID, clip: n.clipID, arm: n.arm, frame: n.frame, author: n.author, date: n.createdAt, text: n.text)
    }
    model.notes = try store.notes(runID: runID).map(note)
    for i in model.runbook.indices {
      let hash = model.runbook[i].arm == "A" ? run.configAHash : run.configBHash
      model.runbook[i].notes = try store.notes(configHash: hash).map { note($0.note) }
    }
    model.votes = voteSummary(try store.votes(runID: runID))
    return model
  }

  /// How many of an endpoint's worst clips its row links to.
  static let worstClipsShown = 3

  /// The clips of `observations` where B fares worst against A (largest log-ratio first; a tie
  /// goes to the clip listed first), at most `worstClipsShown`, with B vs A in percent.
  static func worstClips(_ observations: [PairedObservation]) -> [(clip: String, percent: Double)] {
    observations.enumerated()
      .sorted { ($0.element.logRatio, -$0.offset) > ($1.element.logRatio, -$1.offset) }
      .prefix(worstClipsShown)
      .map { ($0.element.clipID, PairedResult.percent($0.element.logRatio)) }
  }

  /// The stored comparisons as the report's rows, primaries first in the gate's order; each
  /// row's worst clips come from `observations` (the run's pairs per endpoint).
  static func endpointRows(
    _ records: [ComparisonRecord], policy: GatePolicy, observations: [Endpoint: [PairedObservation]] = [:]
  ) -> [ReportModel.EndpointRow] {
    let rank: (ComparisonRecord) -> Int = { r in
      policy.primaries.firstIndex(of: Endpoint(region: r.region, metric: r.metric)) ?? Int.max
    }
    return records.sorted { l, r in
      (rank(l), ServedPages.order(l.region, l.metric)) < (rank(r), ServedPages.order(r.region, r.metric))
    }.map { c in
      var row = ReportModel.EndpointRow(
        region: c.region, metric: c.metric, isPrimary: c.isPrimary, clips: c.clips,
        estimatePercent: c.estimatePercent,
        ci95Percent: c.ciLowPercent.flatMap { lo in c.ciHighPercent.map { lo...$0 } },
        ci90Percent: c.ci90LowPercent.flatMap { lo in c.ci90HighPercent.map { lo...$0 } },
        pValue: c.pValue, hodgesLehmannPercent: c.hodgesLehmannPercent, wins: c.wins, ties: c.ties,
        losses: c.losses, verdict: c.verdict, note: RunCoordinator.detectableNote(c))
      if c.marginPercent != policy.margin * 100 { row.marginPercent = c.marginPercent }
      row.adjustedP = c.adjustedP
      row.warning = c.warning
      row.worstClip = c.worstClip
      row.worstClipPercent = c.worstClipPercent
      row.worstClips = worstClips(observations[Endpoint(region: c.region, metric: c.metric)] ?? [])
      return row
    }
  }

  /// Per region with rows (in region order) and per metric of `curveMetrics`, both arms' values
  /// frame by frame over the frames either arm has.
  static func curves(_ rows: [FrameMetricRecord]) -> [ReportModel.Curve] {
    var out: [ReportModel.Curve] = []
    let byKey = Dictionary(grouping: rows) { "\($0.region)/\($0.metric)" }
    for region in RegionKind.allCases {
      for metric in curveMetrics {
        guard let mine = byKey["\(region.rawValue)/\(metric.rawValue)"] else { continue }
        let frames = Array(Set(mine.map(\.frame))).sorted()
        let index = Dictionary(uniqueKeysWithValues: frames.enumerated().map { ($0.element, $0.offset) })
        var a = [Double?](repeating: nil, count: frames.count)
        var b = [Double?](repeating: nil, count: frames.count)
        for r in mine {
          let v = metric.reportedValue(sum: r.errorSum, pixels: r.pixels, frames: 1)
          if r.arm == "A" { a[index[r.frame]!] = v } else if r.arm == "B" { b[index[r.frame]!] = v }
        }
        out.append(
          ReportModel.Curve(
            region: region.rawValue, metric: metric.rawValue, scale: metric.scaleLabel, frames: frames, a: a, b: b))
      }
    }
    return out
  }

  /// Per region (in region order), up to `count` frames with the largest SAD of A and B added
  /// (both must have the frame), worst first, ties to the earlier frame: the same choice as the
  /// run's review crops. Each with the arms' MAD there.
  static func worstFrames(_ rows: [FrameMetricRecord], count: Int = 3) -> [(
    region: String, frames: [ReportModel.WorstFrame]
  )] {
    var out: [(region: String, frames: [ReportModel.WorstFrame])] = []
    let sad = Dictionary(grouping: rows.filter { $0.metric == MetricKind.sad.rawValue }, by: \.region)
    let mad = Dictionary(
      rows.filter { $0.metric == MetricKind.mad.rawValue }.map { ("\($0.region)/\($0.arm)/\($0.frame)", $0) },
      uniquingKeysWith: { a, _ in a })
    for region in RegionKind.allCases {
      guard let mine = sad[region.rawValue] else { continue }
      var a: [Int: Double] = [:]
      var b: [Int: Double] = [:]
      for r in mine {
        if r.arm == "A" { a[r.frame] = r.errorSum } else if r.arm == "B" { b[r.frame] = r.errorSum }
      }
      let ranked = a.keys.filter { b[$0] != nil }.map { ($0, a[$0]! + b[$0]!) }.sorted {
        $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0
      }
      guard !ranked.isEmpty else { continue }
      out.append(
        (
          region.rawValue,
          ranked.prefix(count).map { f, _ in
            func v(_ arm: String) -> Double? {
              mad["\(region.rawValue)/\(arm)/\(f)"].flatMap {
                MetricKind.mad.reportedValue(sum: $0.errorSum, pixels: $0.pixels, frames: 1)
              }
            }
            return ReportModel.WorstFrame(frame: f, a: v("A"), b: v("B"))
          }
        ))
    }
    return out
  }

  /// The clip's preview (`clips/<clip>/preview.json` and the video it names), or the warning
  /// the run left when it could not make one, or that its file is missing.
  public static func preview(clipID: String, runFolder: String) -> (PreviewLayout?, String?, String?) {
    guard let folder = try? ClipID.path(clipID, in: runFolder + "/clips") else { return (nil, nil, nil) }
    if let warning = try? String(contentsOfFile: folder + "/preview-warning.txt", encoding: .utf8) {
      return (nil, nil, warning.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    guard let data = FileManager.default.contents(atPath: folder + "/preview.json") else { return (nil, nil, nil) }
    guard let layout = try? JSONDecoder().decode(PreviewLayout.self, from: data),
      layout.file == "preview.webm", layout.tiles.sorted() == PreviewLayout.tileOrder.sorted(), layout.tileWidth > 0,
      layout.tileHeight > 0, layout.fps > 0, !layout.frames.isEmpty
    else { return (nil, nil, "\(folder)/preview.json: not a preview this version of mattegate reads") }
    guard FileManager.default.fileExists(atPath: folder + "/" + layout.file) else {
      return (nil, nil, "preview missing: \(folder)/\(layout.file) was deleted")
    }
    return (layout, "clips/\(clipID)/\(layout.file)", nil)
  }

  /// The review crops of a clip's regions, found in its folder (`REGION-frameN-ROLE.png`).
  public static func regionReviews(clipID: String, runFolder: String) -> [ReportModel.RegionReview] {
    guard let folder = try? ClipID.path(clipID, in: runFolder + "/clips") else { return [] }
    let names = Set((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
    var out: [ReportModel.RegionReview] = []
    for region in RegionKind.allCases {
      let prefix = region.rawValue + "-frame"
      // The crop file names the frame: REGION-frameN-crop.txt.
      guard
        let name = names.filter({ $0.hasPrefix(prefix) && $0.hasSuffix("-crop.txt") }).sorted().first,
        let frame = Int(name.dropFirst(prefix.count).dropLast("-crop.txt".count))
      else { continue }
      let stem = "\(region.rawValue)-frame\(frame)"
      var images: [String: String] = [:]
      for role in ["source", "truth", "a", "b", "heat-a", "heat-b"]
      where names.contains("\(stem)-\(role).png") {
        images[role] = "clips/\(clipID)/\(stem)-\(role).png"
      }
      let numbers = ((try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)) ?? "")
        .split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
      let crop = numbers.count == 4 ? "\(numbers[2])×\(numbers[3]) at (\(numbers[0]), \(numbers[1]))" : nil
      var review = ReportModel.RegionReview(
        region: region.rawValue, frame: frame, images: images, crop: crop,
        size: numbers.count == 4 ? (numbers[2], numbers[3]) : nil)
      review.rect = numbers.count == 4 ? numbers : nil
      out.append(review)
    }
    return out
  }

  /// Per arm: the clips where it is worse than the other arm by more than the endpoint's margin
  /// on each region's primary metric (worst first), and its failed jobs.
  static func runbook(
    _ m: ReportModel, byClip: [String: [String: ClipMetricRecord]], policy: GatePolicy
  ) -> [ReportModel.RunbookEntry] {
    return [("A", "B", m.a), ("B", "A", m.b)].map { mine, other, arm in
      var cases: [ReportModel.RunbookEntry.Case] = []
      for region in RegionKind.allCases {
        let metric = m.primaryMetrics[region.rawValue] ?? MetricKind.mse.rawValue
        let margin = policy.margin(of: Endpoint(region: region.rawValue, metric: metric))
        for clip in m.clips where clip.status == "scored" {
          let key = "\(region.rawValue)/\(metric)"
          guard let x = byClip[clip.id]?["\(mine)/\(key)"]?.value, let y = byClip[clip.id]?["\(other)/\(key)"]?.value,
            y > 0, x / y > 1 + margin
          else { continue }
          cases.append(
            .init(
              region: region.rawValue, metric: metric, clip: clip.id, worsePercent: (x / y - 1) * 100,
              frame: clip.reviews.first { $0.region == region.rawValue }?.frame
                ?? clip.worstFrames.first { $0.region == region.rawValue }?.frames.first?.frame))
        }
      }
      let errors = m.jobs.filter { $0.arm == mine && $0.status == "failed" }.map {
        (clip: $0.clip, error: $0.error ?? "failed")
      }
      return ReportModel.RunbookEntry(
        arm: mine, config: arm.name, model: arm.model,
        cases: cases.sorted {
          (ServedPages.order($0.region, $0.metric), -$0.worsePercent)
            < (ServedPages.order($1.region, $1.metric), -$1.worsePercent)
        },
        jobErrors: errors)
    }
  }

  /// The votes unblinded and counted, with the sign test; nil when there are none.
  static func voteSummary(_ votes: [VoteRecord]) -> ReportModel.VoteSummary? {
    guard !votes.isEmpty else { return nil }
    var byClip: [String: (a: Int, b: Int, ties: Int)] = [:]
    for v in votes {
      var c = byClip[v.clipID] ?? (0, 0, 0)
      switch v.choice {
      case "A": c.a += 1
      case "B": c.b += 1
      default: c.ties += 1
      }
      byClip[v.clipID] = c
    }
    let a = byClip.values.map(\.a).reduce(0, +)
    let b = byClip.values.map(\.b).reduce(0, +)
    return ReportModel.VoteSummary(
      a: a, b: b, ties: byClip.values.map(\.ties).reduce(0, +), pValue: SignTest.twoSided(wins: b, losses: a),
      byClip: byClip.sorted { $0.key < $1.key }.map { ($0.key, $0.value.a, $0.value.b, $0.value.ties) })
  }

  /// A clip's row of the report from its stored values, alignment and measures.
  static func clipRow(
    _ c: ClipRecord, values: [String: ClipMetricRecord], extras: [ExtraMeasureRecord],
    alignment: [AlignmentRecord], runFolder: String
  ) -> ReportModel.ClipRow {
    var table: [String: [String: ReportModel.MetricPair]] = [:]
    var support: [String: (pixels: Int, frames: Int)] = [:]
    if c.status == "scored" {
      for region in RegionKind.allCases {
        // The region's spatial support is that of SAD (ErrorTotals.pixels(region)).
        guard let sad = values["A/\(region.rawValue)/\(MetricKind.sad.rawValue)"], sad.frames > 0 else { continue }
        support[region.rawValue] = (sad.pixels / sad.frames, sad.frames)
        var byMetric: [String: ReportModel.MetricPair] = [:]
        for metric in MetricKind.allCases {
          byMetric[metric.rawValue] = .init(
            a: values["A/\(region.rawValue)/\(metric.rawValue)"]?.value,
            b: values["B/\(region.rawValue)/\(metric.rawValue)"]?.value)
        }
        table[region.rawValue] = byMetric
      }
    }
    let reviews = regionReviews(clipID: c.clipID, runFolder: runFolder)
    // The clip's headline images: its transition band's worst frame, else its first review.
    let headline = reviews.first { $0.region == RegionKind.transition.rawValue } ?? reviews.first
    var row = ReportModel.ClipRow(
      id: c.clipID, tags: c.tags.split(separator: ",").map(String.init), status: c.status, error: c.error,
      frames: c.frames, reviewFrame: headline?.frame ?? c.reviewFrame, images: headline?.images ?? [:], values: table,
      support: support)
    row.crop = headline?.crop
    row.reviews = reviews
    (row.preview, row.previewPath, row.previewWarning) = preview(clipID: c.clipID, runFolder: runFolder)
    row.sha256 = c.sha256
    row.regions = c.regions
    row.hasTruth = c.hasTruth
    row.bitsPerPixel = c.bitsPerPixel
    row.compressionWarning = c.bitsPerPixel.flatMap { CompressionGuard.warning(bitsPerPixel: $0) }
    row.alignment = alignment.map { a in
      var s = AlignmentStats()
      s.referenceFrames = a.referenceFrames
      s.outputFrames = a.outputFrames
      s.matched = a.matched
      s.dropped = a.dropped
      s.duplicated = a.duplicated
      s.extra = a.extra
      s.maxOffset = a.maxOffsetSeconds
      s.window = a.windowSeconds
      return "\(a.arm): \(s.summary)"
    }
    row.extras = extraLines(
      extras.map {
        ExtraMeasure(
          arm: $0.arm, region: $0.region, measure: $0.measure, value: $0.value, detail: $0.detail, version: $0.version)
      }, hasTruth: c.hasTruth)
    return row
  }

  /// One line per arm and kind of measure: composites, or what was measured without ground truth.
  static func extraLines(_ extras: [ExtraMeasure], hasTruth: Bool) -> [String] {
    var lines: [String] = []
    if !hasTruth { lines.append("No ground truth: these measures are not ground-truth metrics and feed no verdict.") }
    for arm in ["A", "B", "A-B"] {
      let mine = extras.filter { $0.arm == arm }
      guard !mine.isEmpty else { continue }
      func values(_ measure: String, _ format: String) -> String? {
        let parts = mine.filter { $0.measure == measure }.compactMap { e in
          e.value.map { "\(e.region) \(String(format: format, $0))" }
        }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
      }
      var pieces: [String] = []
      if let v = values("composite_mse", "%.3f") { pieces.append("composite MSE ×1e3: " + v) }
      if let v = values("composite_psnr", "%.2f") { pieces.append("composite PSNR dB: " + v) }
      if let v = values("flicker", "%.3f") { pieces.append("flicker ×1e3: " + v) }
      if let v = values("edge_alignment", "%.3f") { pieces.append("edge alignment: " + v) }
      if let v = values("disagreement", "%.3f") { pieces.append("disagreement ×1e3: " + v) }
      for e in mine where e.detail != nil && (e.measure == "applied_fit" || e.measure == "aspect_class") {
        pieces.append((e.measure == "applied_fit" ? "fit " : "aspect ") + e.detail!)
      }
      if !pieces.isEmpty { lines.append("\(arm): " + pieces.joined(separator: "; ")) }
    }
    return lines
  }
}
