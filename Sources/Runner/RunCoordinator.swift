import Clips
import Foundation
import MatteMetrics
import MediaIO
import Report
import Services
import Store
import Verdict

/// Version of the harness, stored with every run.
public let harnessVersion = "mattegate/0.1.0"

/// Runs an A/B comparison end to end: clip set → provider → decode → metrics → SQLite →
/// verdict → HTML.
public enum RunCoordinator {
  /// Runs `options` and returns the outcome. Per-clip failures are recorded and reported; they
  /// never lose the other clips' results.
  ///
  /// - Throws: `ConfigError`, `RunError` or `StoreError` for bad input found before submitting.
  public static func run(
    _ options: RunOptions, progress: @escaping @Sendable (String) -> Void = { _ in }
  ) async throws -> RunResult {
    // Validate everything before anything is submitted.
    let configA = try ArmConfig.load(options.configAPath)
    let configB = try ArmConfig.load(options.configBPath)
    let policy = try options.gatePath.map { path throws(ConfigError) in try GateFile.load(path) } ?? .standard
    let alignmentPolicy =
      try options.gatePath.map { path throws(ConfigError) in try GateFile.alignment(path) } ?? AlignmentPolicy()
    let provider: any Provider
    switch options.provider {
    case "local": provider = LocalProvider()
    case "exec": provider = ExecProvider()
    case "http":
      guard let url = options.apiURL else { throw RunError("--provider http needs --api-url URL") }
      var settings = try HTTPProviderSettings.fromEnvironment(baseURL: url)
      settings.pollInitial = options.pollInterval
      settings.pollMax = max(options.pollInterval, 10)
      settings.deadline = options.jobDeadline
      provider = HTTPProvider(settings: settings)
    default:
      throw RunError("provider '\(options.provider)' is unknown; use --provider local, http or exec")
    }
    try provider.validate(configA)
    try provider.validate(configB)
    try await provider.preflight([configA, configB])
    let clipSet = try ClipSet.load(folder: options.clipsetFolder)
    // The aspect-ratio policy per clip, before anything is submitted (a background picture only).
    var aspectWarnings: [AspectCheck] = []
    if configA.bgType == "image" || configB.bgType == "image" {
      let sizes = try clipSet.clips.map { clip in
        let size = try MediaInput.open(clipSet.path(of: clip.source), options: ReadOptions(rgb: .none)).size
        return (id: clip.id, width: size.width, height: size.height)
      }
      aspectWarnings += try AspectCheck.check(configA, arm: "A", clips: sizes)
      aspectWarnings += try AspectCheck.check(configB, arm: "B", clips: sizes)
    }

    let store = try ResultStore(path: options.databasePath)
    try store.registerMetricVersions(MetricKind.allCases.map { ($0.versionTag, $0.rawValue, $0.version) })
    let runID = makeRunID()
    let runFolder = options.outputFolder + "/" + runID
    try FileManager.default.createDirectory(atPath: runFolder, withIntermediateDirectories: true)
    let created = Date()
    try store.insert(
      RunRecord(
        id: runID, createdAt: created, status: "running", clipsetName: clipSet.name,
        clipsetFolder: clipSet.folder, clipsetSHA256: clipSet.manifestSHA256, configAName: configA.name,
        configAHash: configA.settingsHash, configAText: configA.canonicalText, configBName: configB.name,
        configBHash: configB.settingsHash, configBText: configB.canonicalText, provider: provider.name,
        harnessVersion: harnessVersion, metricsVersion: metricsVersion, regionsVersion: regionsVersion,
        gateText: policy.canonicalText, seed: Int64(bitPattern: options.seed)))
    progress("run \(runID): \(clipSet.clips.count) clips × 2 arms on provider \(provider.name)")
    for w in aspectWarnings {
      progress(
        "  \(w.clipID): arm \(w.arm)'s background aspect is \(w.match.match.rawValue) against the source "
          + "(relative difference \(String(format: "%.3f", w.match.relativeDifference))): aspect_ratio_mismatch warning"
      )
    }

    let context = ClipContext(
      runID: runID, runFolder: runFolder, clipSet: clipSet, configA: configA, configB: configB,
      provider: provider, alignment: alignmentPolicy, store: store, progress: progress,
      backgroundSHA256: try [("A", configA), ("B", configB)].reduce(into: [:]) { hashes, arm in
        if let image = arm.1.bgImage { hashes[arm.0] = try FileHash.sha256(ofFile: image) }
      })
    var outcomes: [ClipOutcome] = []
    let limit = max(1, options.jobs)
    await withTaskGroup(of: ClipOutcome.self) { group in
      var next = 0
      func launch() {
        let index = next
        let clip = clipSet.clips[index]
        group.addTask { await context.process(clip: clip, index: index) }
        next += 1
      }
      while next < min(limit, clipSet.clips.count) { launch() }
      for await outcome in group {
        outcomes.append(outcome)
        if next < clipSet.clips.count { launch() }
      }
    }
    outcomes.sort { $0.index < $1.index }
    let errors = outcomes.compactMap(\.error)

    // Paired comparisons over the clips that were scored.
    var results: [Endpoint: PairedResult] = [:]
    var comparisonRecords: [ComparisonRecord] = []
    let scored = outcomes.filter { $0.score != nil }
    for region in RegionKind.allCases {
      for metric in MetricKind.allCases {
        let endpoint = Endpoint(region: region.rawValue, metric: metric.rawValue)
        let observations: [PairedObservation] = scored.compactMap { o in
          guard let s = o.score, let va = s.totalsA.value(region, metric), let vb = s.totalsB.value(region, metric)
          else {
            return nil
          }
          return PairedObservation(clipID: o.clip.id, a: va, b: vb)
        }
        let r = PairedStatistics.analyse(
          observations, margin: policy.margin, noise: policy.noise, minClips: policy.minClips, seed: options.seed)
        results[endpoint] = r
        comparisonRecords.append(
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
    try store.saveComparisons(runID: runID, comparisonRecords)
    let outcome = Gate.decide(
      results: results, policy: policy, pipelineErrors: errors, inconclusiveClips: outcomes.compactMap(\.inconclusive))
    try store.finishRun(
      id: runID, status: errors.isEmpty ? "completed" : "completed_with_errors", exitCode: Int(outcome.exitCode),
      outcome: outcome.summary)

    // Report.
    let model = ReportModel(
      runID: runID, createdAt: created, clipsetName: clipSet.name, clipsetSHA256: clipSet.manifestSHA256,
      provider: provider.name,
      a: .init(name: configA.name, settings: configA.canonicalText, hash: configA.settingsHash),
      b: .init(name: configB.name, settings: configB.canonicalText, hash: configB.settingsHash),
      versions: [
        "harness": harnessVersion, "metrics": metricsVersion, "regions": regionsVersion,
        "engine": outcomes.compactMap(\.serviceVersion).first ?? "–", "gate": policy.canonicalText,
      ].merging(MetricKind.allCases.map { ("metric " + $0.rawValue, $0.version) }) { a, _ in a },
      gateStatus: outcome.status.rawValue, gateSummary: outcome.summary, gateReasons: outcome.reasons,
      exitCode: outcome.exitCode, marginPercent: policy.margin * 100,
      regions: RegionKind.allCases.map(\.rawValue), metrics: MetricKind.allCases.map(\.rawValue),
      metricScales: Dictionary(uniqueKeysWithValues: MetricKind.allCases.map { ($0.rawValue, $0.scaleLabel) }),
      endpoints: orderedEndpoints(comparisonRecords, results: results, policy: policy),
      clips: outcomes.map(\.reportRow))
    let reportPath = runFolder + "/index.html"
    do {
      try HTMLReport.render(model).write(toFile: reportPath, atomically: true, encoding: .utf8)
    } catch {
      throw RunError("\(reportPath): cannot write the report: \(error.localizedDescription)")
    }

    return RunResult(
      runID: runID, exitCode: outcome.exitCode, gateSummary: outcome.summary, gateReasons: outcome.reasons,
      verdictLines: verdictLines(results: results, policy: policy), reportPath: reportPath,
      databasePath: options.databasePath, errors: errors)
  }

  /// Primary endpoints first (in gate order), then the rest by region and metric.
  static func orderedEndpoints(
    _ records: [ComparisonRecord], results: [Endpoint: PairedResult], policy: GatePolicy
  ) -> [ReportModel.EndpointRow] {
    let rank: (ComparisonRecord) -> Int = { r in
      policy.primaries.firstIndex(of: Endpoint(region: r.region, metric: r.metric)) ?? Int.max
    }
    return records.sorted { l, r in
      let a = rank(l)
      let b = rank(r)
      return a != b ? a < b : false
    }.map { c in
      let r = results[Endpoint(region: c.region, metric: c.metric)]
      return ReportModel.EndpointRow(
        region: c.region, metric: c.metric, isPrimary: c.isPrimary, clips: c.clips,
        estimatePercent: c.estimatePercent,
        ci95Percent: c.ciLowPercent.flatMap { lo in c.ciHighPercent.map { lo...$0 } },
        ci90Percent: r?.ci90.map { PairedResult.percent($0.lowerBound)...PairedResult.percent($0.upperBound) },
        pValue: c.pValue, hodgesLehmannPercent: c.hodgesLehmannPercent, wins: c.wins, ties: c.ties,
        losses: c.losses, verdict: c.verdict, note: c.note)
    }
  }

  /// One line per region, for its primary endpoint (or MSE when the gate names none).
  static func verdictLines(results: [Endpoint: PairedResult], policy: GatePolicy) -> [String] {
    RegionKind.allCases.map { region in
      let endpoint =
        policy.primaries.first { $0.region == region.rawValue } ?? Endpoint(region: region.rawValue, metric: "MSE")
      let name = region.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)
      let metric = endpoint.metric.padding(toLength: 5, withPad: " ", startingAt: 0)
      guard let r = results[endpoint] else { return "\(name)\(metric) no result" }
      var line = "\(name)\(metric) n=\(r.n)"
      if let mean = r.meanLogRatio { line += String(format: "  B/A %+6.1f%%", PairedResult.percent(mean)) }
      if let ci = r.ci95 {
        line += String(
          format: "  95%% CI [%+.1f%%, %+.1f%%]", PairedResult.percent(ci.lowerBound),
          PairedResult.percent(ci.upperBound))
      }
      if let p = r.pValue { line += String(format: "  p=%.3g", p) }
      line += "  \(r.label.rawValue)"
      if policy.primaries.contains(endpoint) {
        line += r.nonInferior ? " (non-inferior)" : ""
      } else {
        line += " (not a primary)"
      }
      if let note = r.note, r.label == .inconclusive { line += ": \(note)" }
      return line
    }
  }

  static func makeRunID() -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyyMMdd-HHmmss"
    let suffix = String(UInt32.random(in: 0...0xFFFF), radix: 16)
    return f.string(from: Date()) + "-" + String(repeating: "0", count: 4 - suffix.count) + suffix
  }
}
