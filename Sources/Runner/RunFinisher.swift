import Foundation
import MatteMetrics
import MediaIO
import Report
import Store
import Verdict

/// Everything after the clips, from SQLite alone: the paired comparisons, the gate, the run's
/// final status and its HTML report. A fresh run, a resumed run and a merge of shards all end
/// here, so the same stored clips give the same verdict whichever way they were made.
enum RunFinisher {
  static func finish(
    runID: String, store: ResultStore, policy: GatePolicy, runFolder: String
  ) throws -> RunResult {
    guard let run = try store.run(id: runID) else {
      throw RunError("\(store.path): run \(runID) is not stored")
    }
    let clips = try store.clips(runID: runID)
    let values = try store.clipMetrics(runID: runID)
    var byClip: [String: [String: ClipMetricRecord]] = [:]
    for v in values { byClip[v.clipID, default: [:]]["\(v.arm)/\(v.region)/\(v.metric)"] = v }
    let scored = clips.filter { $0.status == "scored" }
    let errors = clips.filter { $0.status == "failed" }.map { $0.error ?? "clip '\($0.clipID)' failed" }
    let inconclusive = clips.filter { $0.status == "inconclusive" }.map {
      "clip '\($0.clipID)': \($0.error ?? "inconclusive")"
    }

    // Paired comparisons over the scored clips, in clip-set order.
    var results: [Endpoint: PairedResult] = [:]
    var records: [ComparisonRecord] = []
    for region in RegionKind.allCases {
      for metric in MetricKind.allCases {
        let endpoint = Endpoint(region: region.rawValue, metric: metric.rawValue)
        let observations: [PairedObservation] = scored.compactMap { c in
          guard let a = byClip[c.clipID]?["A/\(region.rawValue)/\(metric.rawValue)"]?.value,
            let b = byClip[c.clipID]?["B/\(region.rawValue)/\(metric.rawValue)"]?.value
          else { return nil }
          return PairedObservation(clipID: c.clipID, a: a, b: b)
        }
        let r = PairedStatistics.analyse(
          observations, margin: policy.margin, noise: policy.noise, minClips: policy.minClips,
          seed: UInt64(bitPattern: run.seed))
        results[endpoint] = r
        records.append(
          ComparisonRecord(
            region: region.rawValue, metric: metric.rawValue, isPrimary: policy.primaries.contains(endpoint),
            clips: r.n, estimatePercent: r.meanLogRatio.map(PairedResult.percent),
            ciLowPercent: r.ci95.map { PairedResult.percent($0.lowerBound) },
            ciHighPercent: r.ci95.map { PairedResult.percent($0.upperBound) }, ciLevel: 0.95, pValue: r.pValue,
            hodgesLehmannPercent: r.hodgesLehmann.map(PairedResult.percent), wins: r.wins, ties: r.ties,
            losses: r.losses, marginPercent: policy.margin * 100, noisePercent: policy.noise * 100,
            verdict: r.label.rawValue, note: r.note, metricVersion: metric.versionTag))
      }
    }
    try store.saveComparisons(runID: runID, records)
    let outcome = Gate.decide(
      results: results, policy: policy, pipelineErrors: errors, inconclusiveClips: inconclusive)
    try store.finishRun(
      id: runID, status: errors.isEmpty ? "completed" : "completed_with_errors", exitCode: Int(outcome.exitCode),
      outcome: outcome.summary)

    // The report, from the same stored rows.
    let extras = Dictionary(grouping: try store.extraMeasures(runID: runID), by: \.clipID)
    let alignment = Dictionary(grouping: try store.alignment(runID: runID), by: \.clipID)
    let model = ReportModel(
      runID: runID, createdAt: run.createdAt, clipsetName: run.clipsetName, clipsetSHA256: run.clipsetSHA256,
      provider: run.provider,
      a: .init(name: run.configAName, settings: run.configAText, hash: run.configAHash),
      b: .init(name: run.configBName, settings: run.configBText, hash: run.configBHash),
      versions: [
        "harness": run.harnessVersion, "metrics": run.metricsVersion, "regions": run.regionsVersion,
        "engine": run.serviceVersion ?? "–", "gate": policy.canonicalText,
      ].merging(MetricKind.allCases.map { ("metric " + $0.rawValue, $0.version) }) { a, _ in a },
      gateStatus: outcome.status.rawValue, gateSummary: outcome.summary, gateReasons: outcome.reasons,
      exitCode: outcome.exitCode, marginPercent: policy.margin * 100,
      regions: RegionKind.allCases.map(\.rawValue), metrics: MetricKind.allCases.map(\.rawValue),
      metricScales: Dictionary(uniqueKeysWithValues: MetricKind.allCases.map { ($0.rawValue, $0.scaleLabel) }),
      endpoints: RunCoordinator.orderedEndpoints(records, results: results, policy: policy),
      clips: clips.map { c in
        reportRow(
          c, values: byClip[c.clipID] ?? [:], extras: extras[c.clipID] ?? [],
          alignment: (alignment[c.clipID] ?? []).map(\.record), runFolder: runFolder)
      })
    try FileManager.default.createDirectory(atPath: runFolder, withIntermediateDirectories: true)
    let reportPath = runFolder + "/index.html"
    do {
      try HTMLReport.render(model).write(toFile: reportPath, atomically: true, encoding: .utf8)
    } catch {
      throw RunError("\(reportPath): cannot write the report: \(error.localizedDescription)")
    }
    return RunResult(
      runID: runID, exitCode: outcome.exitCode, gateSummary: outcome.summary, gateReasons: outcome.reasons,
      verdictLines: RunCoordinator.verdictLines(results: results, policy: policy), reportPath: reportPath,
      databasePath: store.path, errors: errors)
  }

  /// A clip's row of the report from its stored values, alignment and measures.
  static func reportRow(
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
    var images: [String: String] = [:]
    if let frame = c.reviewFrame {
      for role in ["source", "truth", "a", "b"] {
        let path = "clips/\(c.clipID)/frame\(frame)-\(role).png"
        if FileManager.default.fileExists(atPath: runFolder + "/" + path) { images[role] = path }
      }
    }
    var row = ReportModel.ClipRow(
      id: c.clipID, tags: c.tags.split(separator: ",").map(String.init), status: c.status, error: c.error,
      frames: c.frames, reviewFrame: c.reviewFrame, images: images, values: table, support: support)
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
