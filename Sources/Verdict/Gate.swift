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
  /// Minimum clips with support per region (never below 6).
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
    margin: 0.05, noise: 0.0, worstClipMargin: 0.25, minClips: 6)

  /// The policy as text, stored with each run.
  public var canonicalText: String {
    func list(_ values: [Endpoint: Double]) -> String {
      values.sorted { $0.key.description < $1.key.description }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }
    return [
      "primaries=\(primaries.map(\.description).joined(separator: ","))", "margin=\(margin)",
      "margins=\(list(margins))", "noise=\(noise)", "noise_bands=\(list(noiseBands))", "alpha=\(alpha)",
      "worst_clip_margin=\(worstClipMargin)", "min_clips=\(minClips)",
    ].joined(separator: "\n")
  }

  /// The policy back from its stored `canonicalText` (a merged or resumed run decides by the
  /// policy its runs were made with); `nil` when the text is not one. Text stored before
  /// `alpha`, `margins` and `noise_bands` existed reads with their defaults.
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

  /// The status an exit code stands for.
  public static func status(exitCode: Int32) -> Status {
    switch exitCode {
    case 0: .passed
    case 2: .regression
    case 3: .inconclusive
    default: .error
    }
  }

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
