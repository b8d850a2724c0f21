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
    let byClip = valuesByClip(try store.clipMetrics(runID: runID))
    let scored = clips.filter { $0.status == "scored" }
    let failed = clips.filter { $0.status == "failed" }
    let errors = failed.map { $0.error ?? "clip '\($0.clipID)' failed" }
    let misaligned = clips.filter { $0.status == "inconclusive" }
    let inconclusive = misaligned.map { "clip '\($0.clipID)': \($0.error ?? "inconclusive")" }

    // Paired comparisons over the scored clips, in clip-set order; then the p-values adjusted
    // across endpoints (Holm over the primaries, Benjamini–Hochberg over the rest) and every
    // endpoint labelled again with its adjusted p.
    var results: [Endpoint: PairedResult] = [:]
    var accounts: [Endpoint: ClipAccount] = [:]
    for (endpoint, observations) in pairedObservations(clips: scored, byClip: byClip) {
      let present = Set(observations.map(\.clipID))
      let account = ClipAccount(
        misaligned: misaligned.map(\.clipID), failed: failed.map(\.clipID),
        unsupported: scored.map(\.clipID).filter { !present.contains($0) })
      accounts[endpoint] = account
      results[endpoint] = PairedStatistics.analyse(
        observations, margin: policy.margin(of: endpoint), noise: policy.noise(of: endpoint),
        minClips: policy.minClips, alpha: policy.alpha, seed: UInt64(bitPattern: run.seed), account: account,
        planClips: false)  // `adjust` labels again and plans the inconclusive endpoints
    }
    PairedStatistics.adjust(
      &results, primaries: policy.primaries, alpha: policy.alpha,
      margins: { (policy.margin(of: $0), policy.noise(of: $0)) }, accounts: accounts)
    var records: [ComparisonRecord] = []
    for region in RegionKind.allCases {
      for metric in MetricKind.allCases {
        let endpoint = Endpoint(region: region.rawValue, metric: metric.rawValue)
        records.append(comparisonRecord(endpoint, results[endpoint]!, policy: policy, metric: metric))
      }
    }
    try store.saveComparisons(runID: runID, records)
    let outcome = Gate.decide(
      results: results, policy: policy, pipelineErrors: errors, misalignedClips: misaligned.map(\.clipID),
      inconclusiveClips: inconclusive)
    try store.finishRun(
      id: runID, status: errors.isEmpty ? "completed" : "completed_with_errors", exitCode: Int(outcome.exitCode),
      outcome: outcome.summary, reasons: outcome.reasons)

    // The report, from the same stored rows.
    let model = try ReportBuilder.model(runID: runID, store: store, runFolder: runFolder)
    try OutputFolder.create(runFolder)
    let reportPath = runFolder + "/index.html"
    do {
      try HTMLReport.render(model).write(toFile: reportPath, atomically: true, encoding: .utf8)
    } catch {
      throw RunError("\(reportPath): cannot write the report: \(error.localizedDescription)")
    }
    let ciFiles = try writeCIOutputs(
      verdictDocument(runID: runID, store: store, reportPath: "index.html"), to: runFolder)
    return RunResult(
      runID: runID, exitCode: outcome.exitCode, gateSummary: outcome.summary, gateReasons: outcome.reasons,
      verdictLines: RunCoordinator.verdictLines(results: results, policy: policy), reportPath: reportPath,
      databasePath: store.path, errors: errors, ciFiles: ciFiles)
  }

  /// A run's stored per-clip values by clip, then by "arm/region/metric".
  static func valuesByClip(_ values: [ClipMetricRecord]) -> [String: [String: ClipMetricRecord]] {
    var byClip: [String: [String: ClipMetricRecord]] = [:]
    for v in values { byClip[v.clipID, default: [:]]["\(v.arm)/\(v.region)/\(v.metric)"] = v }
    return byClip
  }

  /// Every endpoint's pairs of A and B values over `clips` (in their order), for the clips with
  /// both.
  static func pairedObservations(
    clips: [ClipRecord], byClip: [String: [String: ClipMetricRecord]]
  ) -> [Endpoint: [PairedObservation]] {
    var out: [Endpoint: [PairedObservation]] = [:]
    for region in RegionKind.allCases {
      for metric in MetricKind.allCases {
        let key = "\(region.rawValue)/\(metric.rawValue)"
        out[Endpoint(region: region.rawValue, metric: metric.rawValue)] = clips.compactMap { c in
          guard let a = byClip[c.clipID]?["A/" + key]?.value, let b = byClip[c.clipID]?["B/" + key]?.value else {
            return nil
          }
          return PairedObservation(clipID: c.clipID, a: a, b: b)
        }
      }
    }
    return out
  }

  /// What CI reads about a stored run, from its stored comparisons, clips and gate outcome.
  public static func verdictDocument(runID: String, store: ResultStore, reportPath: String?) throws -> VerdictDocument {
    guard let run = try store.run(id: runID) else { throw RunError("\(store.path): run \(runID) is not stored") }
    guard let exitCode = run.exitCode, let summary = run.outcome else {
      throw RunError("\(store.path): run \(runID) has not finished (resume it with --resume \(runID))")
    }
    let policy = GatePolicy(canonicalText: run.gateText) ?? .standard
    let clips = try store.clips(runID: runID)
    let order = Dictionary(
      uniqueKeysWithValues: policy.primaries.enumerated().map { ($0.element.description, $0.offset) })
    let endpoints = try store.comparisons(runID: runID).map { c in
      var e = VerdictDocument.Endpoint(
        region: c.region, metric: c.metric, isPrimary: c.isPrimary, clips: c.clips, verdict: c.verdict,
        ciLevel: c.ciLevel, marginPercent: c.marginPercent, noisePercent: c.noisePercent, wins: c.wins, ties: c.ties,
        losses: c.losses)
      e.estimatePercent = c.estimatePercent
      e.ciLowPercent = c.ciLowPercent
      e.ciHighPercent = c.ciHighPercent
      e.ci90LowPercent = c.ci90LowPercent
      e.ci90HighPercent = c.ci90HighPercent
      e.intervalMethod = c.intervalMethod
      e.pValue = c.pValue
      e.adjustedP = c.adjustedP
      e.wilcoxonP = c.wilcoxonP
      e.hodgesLehmannPercent = c.hodgesLehmannPercent
      e.detectablePercent = c.detectablePercent
      e.worstClip = c.worstClip
      e.worstClipPercent = c.worstClipPercent
      e.note = c.note
      e.warning = c.warning
      e.clipsForMargin = c.clipsForMargin
      return e
    }.sorted { (order[$0.name] ?? Int.max, $0.name) < (order[$1.name] ?? Int.max, $1.name) }
    var doc = VerdictDocument(
      runID: runID, createdAt: run.createdAt, clipset: run.clipsetName, clipsetSHA256: run.clipsetSHA256,
      provider: run.provider, configA: run.configAName, configB: run.configBName, configAHash: run.configAHash,
      configBHash: run.configBHash, mode: policy.mode.rawValue,
      gateStatus: GateOutcome.status(exitCode: Int32(exitCode)).rawValue,
      gateSummary: summary, gateReasons: (run.gateReasons ?? "").split(separator: "\n").map(String.init),
      exitCode: Int32(exitCode), alpha: policy.alpha, worstClipMarginPercent: policy.worstClipMargin * 100,
      clipsScored: clips.filter { $0.status == "scored" }.count, endpoints: endpoints,
      problems: clips.filter { ["failed", "inconclusive"].contains($0.status) }.map {
        VerdictDocument.ClipProblem(clipID: $0.clipID, status: $0.status, message: $0.error ?? $0.status)
      }, reportPath: reportPath)
    doc.minClips = policy.minClips
    return doc
  }

  /// Writes `junit.xml`, `summary.md` and `verdict.json` into `folder`; returns their paths.
  static func writeCIOutputs(_ doc: VerdictDocument, to folder: String) throws -> [String] {
    var paths: [String] = []
    for (name, text) in [
      ("junit.xml", CIOutputs.junit(doc)), ("summary.md", CIOutputs.markdown(doc)),
      ("verdict.json", try CIOutputs.json(doc)),
    ] {
      let path = folder + "/" + name
      do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
      } catch {
        throw RunError("\(path): cannot write: \(error.localizedDescription)")
      }
      paths.append(path)
    }
    return paths
  }

  /// The stored form of one endpoint's comparison.
  static func comparisonRecord(
    _ endpoint: Endpoint, _ r: PairedResult, policy: GatePolicy, metric: MetricKind
  ) -> ComparisonRecord {
    let percent = PairedResult.percent
    var c = ComparisonRecord(
      region: endpoint.region, metric: endpoint.metric, isPrimary: policy.primaries.contains(endpoint), clips: r.n,
      estimatePercent: r.meanLogRatio.map(percent), ciLowPercent: r.ci95.map { percent($0.lowerBound) },
      ciHighPercent: r.ci95.map { percent($0.upperBound) }, ciLevel: 1 - policy.alpha, pValue: r.pValue,
      hodgesLehmannPercent: r.hodgesLehmann.map(percent), wins: r.wins, ties: r.ties, losses: r.losses,
      marginPercent: policy.margin(of: endpoint) * 100, noisePercent: policy.noise(of: endpoint) * 100,
      verdict: r.label.rawValue, note: r.note, metricVersion: metric.versionTag)
    c.adjustedP = r.adjustedP
    c.wilcoxonP = r.wilcoxonP
    c.intervalMethod = r.intervalMethod
    c.detectablePercent = r.detectableLogRatio.map(percent)
    c.alpha = policy.alpha
    c.ci90LowPercent = r.ci90.map { percent($0.lowerBound) }
    c.ci90HighPercent = r.ci90.map { percent($0.upperBound) }
    c.warning = r.warning
    c.clipsForMargin = r.clipsForMargin
    if let worst = zip(r.clipIDs, r.logRatios).max(by: { $0.1 < $1.1 }) {
      c.worstClip = worst.0
      c.worstClipPercent = percent(worst.1)
    }
    return c
  }
}

/// `mattegate report`: a stored run rendered again.
public enum RunReport {
  /// For html, finishes the run again from its stored per-clip values (the comparisons are
  /// recomputed with the run's own gate policy and seed, so they come out the same) and writes
  /// the report and CI files; for md, junit and json, returns the text.
  public static func render(
    runID: String, database: String, outputFolder: String, format: String
  ) throws -> (text: String?, result: RunResult?, exitCode: Int32) {
    guard FileManager.default.fileExists(atPath: database) else { throw RunError("\(database): no such database") }
    let store = try ResultStore(path: database)
    guard let run = try store.run(id: runID) else { throw RunError("\(database): there is no run \(runID)") }
    if format == "html" {
      guard let policy = GatePolicy(canonicalText: run.gateText) else {
        throw RunError("\(database): run \(runID)'s stored gate policy cannot be read")
      }
      let result = try RunFinisher.finish(
        runID: runID, store: store, policy: policy, runFolder: outputFolder + "/" + runID)
      return (nil, result, result.exitCode)
    }
    let doc = try RunFinisher.verdictDocument(runID: runID, store: store, reportPath: nil)
    let text =
      switch format {
      case "md": CIOutputs.markdown(doc)
      case "junit": CIOutputs.junit(doc)
      default: try CIOutputs.json(doc)
      }
    return (text, nil, doc.exitCode)
  }
}
