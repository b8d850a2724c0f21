import Foundation

/// A (region, metric) pair the gate decides on.
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
  public var region: String
  public var metric: String

  public init(region: String, metric: String) {
    self.region = region
    self.metric = metric
  }

  public var description: String { "\(region)/\(metric)" }
}

/// What the gate is for (`gate.yaml: mode`).
public enum GateMode: String, Sendable, CaseIterable {
  /// Changing the default: B passes only when every primary is shown non-inferior.
  case rollout
  /// Nightly and regression runs: fails on a primary that is Inferior or Regressed (Holm).
  case alarm
}

/// The gate policy (`gate.yaml`): mode, primary endpoints and margins.
public struct GatePolicy: Sendable, Equatable {
  public var mode: GateMode = .rollout
  public var primaries: [Endpoint]
  /// Relative non-inferiority margin δ (0.05 = 5%), for endpoints without their own.
  public var margin: Double
  /// Margins of particular endpoints (`margins:` in gate.yaml).
  public var margins: [Endpoint: Double] = [:]
  /// Noise band δ_noise ≤ δ for endpoints without a measured one.
  public var noise: Double
  /// Noise bands measured by A/A calibration (`mattegate calibrate`), per endpoint.
  public var noiseBands: [Endpoint: Double] = [:]
  /// Two-sided level of the significance claims: 95% intervals at 0.05, 90% for the
  /// equivalence and non-inferiority tests, Holm and Benjamini–Hochberg at α.
  public var alpha: Double = 0.05
  /// A single clip worse than this on a primary endpoint blocks the rollout (0.25 = +25%).
  public var worstClipMargin: Double
  /// Below this many clips with support an endpoint cannot let B pass.
  public var minClips: Int

  public init(
    primaries: [Endpoint], margin: Double, noise: Double, worstClipMargin: Double, minClips: Int,
    alpha: Double = 0.05, margins: [Endpoint: Double] = [:]
  ) {
    self.primaries = primaries
    self.margin = margin
    self.noise = noise
    self.worstClipMargin = worstClipMargin
    self.minClips = minClips
    self.alpha = alpha
    self.margins = margins
  }

  /// The margin δ of an endpoint.
  public func margin(of endpoint: Endpoint) -> Double { margins[endpoint] ?? margin }

  /// The noise band of an endpoint: the measured one when calibrated, else the file's; never
  /// above the endpoint's margin.
  public func noise(of endpoint: Endpoint) -> Double { min(noiseBands[endpoint] ?? noise, margin(of: endpoint)) }

  /// The policy used without `--gate`; `configs/gate.yaml` spells the same values out.
  public static let standard = GatePolicy(
    primaries: [
      Endpoint(region: "frame", metric: "MSE"),
      Endpoint(region: "transition", metric: "Conn"),
      Endpoint(region: "hair", metric: "Grad"),
      Endpoint(region: "glass", metric: "MSE"),
      Endpoint(region: "motion", metric: "MAD"),
    ],
    margin: 0.05, noise: 0.0, worstClipMargin: 0.25, minClips: 8)

  /// The fewest clips at which the alarm mode's Holm-adjusted sign-flip p can reach α over
  /// these primaries.
  public var attainableClips: Int {
    PairedStatistics.attainableClips(endpoints: primaries.count, alpha: alpha)
  }

  /// The policy as text, stored with each run.
  public var canonicalText: String {
    func list(_ values: [Endpoint: Double]) -> String {
      values.sorted { $0.key.description < $1.key.description }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }
    return [
      "mode=\(mode.rawValue)", "primaries=\(primaries.map(\.description).joined(separator: ","))", "margin=\(margin)",
      "margins=\(list(margins))", "noise=\(noise)", "noise_bands=\(list(noiseBands))", "alpha=\(alpha)",
      "worst_clip_margin=\(worstClipMargin)", "min_clips=\(minClips)",
    ].joined(separator: "\n")
  }

  /// The policy back from its stored `canonicalText` (a merged or resumed run decides by the
  /// policy its runs were made with); `nil` when the text is not one. Text stored before
  /// `mode`, `alpha`, `margins` and `noise_bands` existed reads with their defaults.
  public init?(canonicalText text: String) {
    var fields: [String: String] = [:]
    for line in text.split(separator: "\n") {
      guard let eq = line.firstIndex(of: "=") else { return nil }
      fields[String(line[..<eq])] = String(line[line.index(after: eq)...])
    }
    guard let list = fields["primaries"], let margin = fields["margin"].flatMap(Double.init),
      let noise = fields["noise"].flatMap(Double.init), let worst = fields["worst_clip_margin"].flatMap(Double.init),
      let minClips = fields["min_clips"].flatMap(Int.init)
    else { return nil }
    func endpoint(_ text: Substring) -> Endpoint? {
      let parts = text.split(separator: "/")
      return parts.count == 2 ? Endpoint(region: String(parts[0]), metric: String(parts[1])) : nil
    }
    func values(_ key: String) -> [Endpoint: Double]? {
      var out: [Endpoint: Double] = [:]
      for item in (fields[key] ?? "").split(separator: ",") {
        let pair = item.split(separator: "=")
        guard pair.count == 2, let e = endpoint(pair[0]), let v = Double(pair[1]) else { return nil }
        out[e] = v
      }
      return out
    }
    var primaries: [Endpoint] = []
    for item in list.split(separator: ",") {
      guard let e = endpoint(item) else { return nil }
      primaries.append(e)
    }
    guard let margins = values("margins"), let bands = values("noise_bands") else { return nil }
    let alpha = fields["alpha"].map { Double($0) } ?? 0.05
    guard let alpha else { return nil }
    self.init(
      primaries: primaries, margin: margin, noise: noise, worstClipMargin: worst, minClips: minClips, alpha: alpha,
      margins: margins)
    noiseBands = bands
    guard let mode = GateMode(rawValue: fields["mode"] ?? "rollout") else { return nil }
    self.mode = mode
  }
}

/// How the gate came out, and the exit code CI reads.
public struct GateOutcome: Sendable, Equatable {
  public enum Status: String, Sendable {
    case passed, regression, inconclusive, error
  }

  public var status: Status
  public var mode: GateMode = .rollout
  /// 0 passed · 1 error · 2 regression · 3 inconclusive.
  public var exitCode: Int32
  /// Why, one line per reason (for a pass: its warnings).
  public var reasons: [String]
  /// What the one-line summary counts: primaries that failed or were not decided.
  public var primaryCount = 0
  /// Clips not scored, named in the summary: misaligned and failed.
  public var clipNote = ""

  public init(status: Status, exitCode: Int32, reasons: [String]) {
    self.status = status
    self.exitCode = exitCode
    self.reasons = reasons
  }

  /// The status an exit code stands for.
  public static func status(exitCode: Int32) -> Status {
    switch exitCode {
    case 0: .passed
    case 2: .regression
    case 3: .inconclusive
    default: .error
    }
  }

  /// A one-line summary, naming the mode.
  public var summary: String {
    let clips = clipNote.isEmpty ? "" : "; \(clipNote)"
    switch (status, mode) {
    case (.passed, .rollout):
      return "PASS (rollout): B is non-inferior to A on every primary endpoint"
        + (reasons.isEmpty ? "" : " (\(count(reasons.count, "warning")): worse, within margin)")
    case (.passed, .alarm):
      return "PASS (alarm): no primary endpoint is Inferior or Regressed"
        + (reasons.isEmpty ? "" : " (\(count(reasons.count, "warning")))")
    case (.regression, _):
      return "FAIL (\(mode.rawValue)): regression on \(count(primaryCount, "primary endpoint"))\(clips)"
    case (.inconclusive, .rollout):
      return "INCONCLUSIVE (rollout): non-inferiority not shown on \(count(primaryCount, "primary endpoint"))\(clips)"
    case (.inconclusive, .alarm):
      return "INCONCLUSIVE (alarm): \(count(primaryCount, "primary endpoint")) with too few clips to decide\(clips)"
    case (.error, _):
      return
        "ERROR (\(mode.rawValue)): the pipeline failed (\(count(reasons.count, "error"))); a failed run never passes"
    }
  }
}

func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

/// The gate (docs/statistics.md, "Gate modes").
///
/// - rollout: passes when every primary endpoint is non-inferior (an intersection–union test:
///   each one-sided test at its level, no multiplicity adjustment needed), no clip trips the
///   worst-clip guard and no clip failed or was misaligned; fails (2) on an Inferior primary or
///   a worst-clip trip; otherwise inconclusive (3) with the detectable change and the clips
///   that would show the margin. A Regressed primary that is non-inferior passes with the
///   warning "worse, within margin".
/// - alarm: fails (2) on a primary that is Inferior, Regressed (Holm-adjusted) or trips the
///   worst-clip guard; inconclusive (3) when a primary has fewer clips than its interval or
///   `min_clips` needs, or a clip was misaligned; else passes.
///
/// A failed clip is a pipeline error (1) in both modes: a broken run never passes.
public enum Gate {
  public static func decide(
    results: [Endpoint: PairedResult], policy: GatePolicy, pipelineErrors: [String],
    misalignedClips: [String] = [], inconclusiveClips: [String] = []
  ) -> GateOutcome {
    var clipNotes: [String] = []
    if !misalignedClips.isEmpty {
      clipNotes.append("\(misalignedClips.count) misaligned (\(ClipAccount.list(misalignedClips)))")
    }
    if !pipelineErrors.isEmpty { clipNotes.append("\(count(pipelineErrors.count, "clip")) failed") }
    func outcome(_ status: GateOutcome.Status, _ code: Int32, _ reasons: [String], primaries: Int = 0) -> GateOutcome {
      var o = GateOutcome(status: status, exitCode: code, reasons: reasons)
      o.mode = policy.mode
      o.primaryCount = primaries
      o.clipNote = clipNotes.joined(separator: ", ")
      return o
    }
    if !pipelineErrors.isEmpty {
      return outcome(.error, 1, pipelineErrors)
    }
    var failing: [String] = []
    var failingCount = 0
    var open: [String] = []
    var warnings: [String] = []
    let worstLog = log(1 + policy.worstClipMargin)
    for endpoint in policy.primaries {
      guard let r = results[endpoint] else {
        open.append("\(endpoint): no result")
        continue
      }
      var reasons: [String] = []
      let estimate = String(format: "%+.1f%%", PairedResult.percent(r.meanLogRatio ?? 0))
      if r.label == .inferior, let ci90 = r.ci90 {
        reasons.append(
          "\(endpoint) Inferior (\(estimate), 90% interval [\(pct(ci90.lowerBound)), \(pct(ci90.upperBound))] above the +\(String(format: "%g", policy.margin(of: endpoint) * 100))% margin)"
        )
      }
      if policy.mode == .alarm, r.label == .regressed {
        reasons.append(
          "\(endpoint) Regressed (\(estimate), Holm-adjusted p \(String(format: "%.3g", r.adjustedP ?? r.pValue ?? 1)))"
        )
      }
      let broken = zip(r.clipIDs, r.logRatios).filter { $0.1 > worstLog }
      if let worst = broken.max(by: { $0.1 < $1.1 }) {
        let guardText = "\(endpoint) worst-clip guard (+\(String(format: "%.0f", policy.worstClipMargin * 100))%)"
        let worstText = "clip '\(worst.0)' \(String(format: "%+.1f%%", PairedResult.percent(worst.1)))"
        reasons.append(
          broken.count == 1 ? "\(guardText): \(worstText)" : "\(guardText): \(broken.count) clips, worst \(worstText)")
      }
      if !reasons.isEmpty {
        failing += reasons
        failingCount += 1
        continue
      }
      if let warning = r.warning {
        warnings.append("\(endpoint) \(warning) (\(estimate), 90% upper bound \(pct(r.ci90?.upperBound ?? 0)))")
      }
      switch policy.mode {
      case .rollout:
        if !r.nonInferior { open.append("\(endpoint): \(undecided(r))") }
      case .alarm:
        // Fewer clips than min_clips: the alarm could not have fired on a Regressed label.
        if r.ci90 == nil || r.n < r.clipsNeeded {
          open.append("\(endpoint): \(r.note ?? "insufficient clips (n = \(r.n), need ≥ \(r.clipsNeeded))")")
        }
      }
    }
    if !failing.isEmpty { return outcome(.regression, 2, failing, primaries: failingCount) }
    let openPrimaries = open.count
    // A clip that could not be scored fairly (misaligned frames) never lets the gate pass.
    open += inconclusiveClips
    if !open.isEmpty { return outcome(.inconclusive, 3, open, primaries: openPrimaries) }
    return outcome(.passed, 0, warnings)
  }

  /// Why a primary is not non-inferior, with what more clips would do.
  public static func undecided(_ r: PairedResult) -> String {
    var text = r.note ?? "non-inferiority not shown"
    if let d = r.detectableLogRatio, r.ci90 != nil {
      text += String(format: "; smallest detectable change with %d clips ±%.1f%%", r.n, PairedResult.percent(d))
    }
    if r.ci90 != nil, r.n >= r.clipsNeeded {
      if let more = r.clipsForMargin {
        text += "; about \(more) clips would show the margin at this estimate and spread"
      } else if r.meanLogRatio != nil {
        text += "; no number of clips would show the margin: the estimate is past it"
      }
    }
    return text
  }

  static func pct(_ x: Double) -> String { String(format: "%+.1f%%", PairedResult.percent(x)) }
}
