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

/// The gate policy (`gate.yaml`): primary endpoints and margins.
public struct GatePolicy: Sendable, Equatable {
  public var primaries: [Endpoint]
  /// Relative non-inferiority margin δ (0.05 = 5%).
  public var margin: Double
  /// Noise band δ_noise ≤ δ, from A/A calibration.
  public var noise: Double
  /// A single clip worse than this on a primary endpoint blocks the rollout (0.25 = +25%).
  public var worstClipMargin: Double
  /// Minimum clips with support per region (never below 6).
  public var minClips: Int

  public init(primaries: [Endpoint], margin: Double, noise: Double, worstClipMargin: Double, minClips: Int) {
    self.primaries = primaries
    self.margin = margin
    self.noise = noise
    self.worstClipMargin = worstClipMargin
    self.minClips = minClips
  }

  /// The policy used without `--gate`; `configs/gate.yaml` spells the same values out.
  public static let standard = GatePolicy(
    primaries: [
      Endpoint(region: "frame", metric: "MSE"),
      Endpoint(region: "transition", metric: "Conn"),
      Endpoint(region: "hair", metric: "Grad"),
      Endpoint(region: "glass", metric: "MSE"),
      Endpoint(region: "motion", metric: "MAD"),
    ],
    margin: 0.05, noise: 0.0, worstClipMargin: 0.25, minClips: 6)

  /// The policy as text, stored with each run.
  public var canonicalText: String {
    "primaries=\(primaries.map(\.description).joined(separator: ","))\nmargin=\(margin)\nnoise=\(noise)\nworst_clip_margin=\(worstClipMargin)\nmin_clips=\(minClips)"
  }

  /// The policy back from its stored `canonicalText` (a merged or resumed run decides by the
  /// policy its runs were made with); `nil` when the text is not one.
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
    var primaries: [Endpoint] = []
    for item in list.split(separator: ",") {
      let parts = item.split(separator: "/")
      guard parts.count == 2 else { return nil }
      primaries.append(Endpoint(region: String(parts[0]), metric: String(parts[1])))
    }
    self.init(primaries: primaries, margin: margin, noise: noise, worstClipMargin: worst, minClips: minClips)
  }
}

/// How the gate came out, and the exit code CI reads.
public struct GateOutcome: Sendable, Equatable {
  public enum Status: String, Sendable {
    case passed, regression, inconclusive, error
  }

  public var status: Status
  /// 0 passed · 1 error · 2 regression · 3 inconclusive (DESIGN.md).
  public var exitCode: Int32
  /// Why, one line per reason.
  public var reasons: [String]

  /// A one-line summary.
  public var summary: String {
    switch status {
    case .passed: "PASS: B is non-inferior to A on every primary endpoint"
    case .regression: "FAIL: regression on a primary endpoint (\(count(reasons.count, "reason")))"
    case .inconclusive: "INCONCLUSIVE: non-inferiority not shown (\(count(reasons.count, "primary endpoint")))"
    case .error: "ERROR: the pipeline failed (\(count(reasons.count, "error"))); a failed run never passes"
    }
  }
}

func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

/// The rollout gate: B must be non-inferior on every primary endpoint (an intersection–union
/// test), no clip may regress past the worst-clip margin, and nothing in the pipeline may fail.
public enum Gate {
  public static func decide(
    results: [Endpoint: PairedResult], policy: GatePolicy, pipelineErrors: [String],
    inconclusiveClips: [String] = []
  ) -> GateOutcome {
    if !pipelineErrors.isEmpty {
      return GateOutcome(status: .error, exitCode: 1, reasons: pipelineErrors)
    }
    var regressions: [String] = []
    var open: [String] = []
    let worstLog = log(1 + policy.worstClipMargin)
    for endpoint in policy.primaries {
      guard let r = results[endpoint] else {
        open.append("\(endpoint): no result")
        continue
      }
      if r.label == .regressed {
        regressions.append(
          "\(endpoint) regressed (\(String(format: "%+.1f%%", PairedResult.percent(r.meanLogRatio ?? 0))))")
      }
      let broken = zip(r.clipIDs, r.logRatios).filter { $0.1 > worstLog }
      if let worst = broken.max(by: { $0.1 < $1.1 }) {
        let guardText = "\(endpoint) worst-clip guard (+\(String(format: "%.0f", policy.worstClipMargin * 100))%)"
        let worstText = "clip '\(worst.0)' \(String(format: "%+.1f%%", PairedResult.percent(worst.1)))"
        regressions.append(
          broken.count == 1 ? "\(guardText): \(worstText)" : "\(guardText): \(broken.count) clips, worst \(worstText)")
      }
      if !r.nonInferior && r.label != .regressed {
        open.append("\(endpoint): \(r.note ?? "non-inferiority not shown")")
      }
    }
    if !regressions.isEmpty { return GateOutcome(status: .regression, exitCode: 2, reasons: regressions) }
    // A clip that could not be scored fairly (misaligned frames) never lets the gate pass.
    open += inconclusiveClips
    if !open.isEmpty { return GateOutcome(status: .inconclusive, exitCode: 3, reasons: open) }
    return GateOutcome(status: .passed, exitCode: 0, reasons: [])
  }
}
