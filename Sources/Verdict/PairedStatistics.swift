import Foundation
import MatteMetrics

/// One clip's pooled values under A and B (lower is better).
public struct PairedObservation: Sendable, Equatable {
  public var clipID: String
  public var a: Double
  public var b: Double

  public init(clipID: String, a: Double, b: Double) {
    self.clipID = clipID
    self.a = a
    self.b = b
  }

  /// y = ln((b + ε)/(a + ε)): B's error against A's on the log scale.
  public var logRatio: Double { log((b + PairedStatistics.epsilon) / (a + PairedStatistics.epsilon)) }
}

/// The verdict labels, in the order they are tried (docs/statistics.md): the first whose rule
/// the endpoint's intervals and adjusted p satisfy is its label.
public enum VerdictLabel: String, Sendable, CaseIterable {
  case inferior = "Inferior"
  case regressed = "Regressed"
  case improved = "Improved"
  case equivalent = "Equivalent"
  case nonInferior = "Non-inferior"
  case inconclusive = "Inconclusive"
}

/// The clips that did not contribute to an endpoint, by reason, named in its note and in the
/// gate's text so that "n = 5" never hides why it is not 8.
public struct ClipAccount: Sendable, Equatable {
  /// Clips whose output did not line up with the ground truth (not scored).
  public var misaligned: [String]
  /// Clips whose job or scoring failed.
  public var failed: [String]
  /// Scored clips without support in the endpoint's region.
  public var unsupported: [String]

  public init(misaligned: [String] = [], failed: [String] = [], unsupported: [String] = []) {
    self.misaligned = misaligned
    self.failed = failed
    self.unsupported = unsupported
  }

  /// "2 misaligned (c3, c4); 1 failed (c7); 5 without support in this region", or "" when
  /// every clip counted.
  public var text: String {
    var parts: [String] = []
    for (ids, what) in [
      (misaligned, "misaligned"), (failed, "failed"), (unsupported, "without support in this region"),
    ]
    where !ids.isEmpty {
      parts.append("\(ids.count) \(what) (\(ClipAccount.list(ids)))")
    }
    return parts.joined(separator: "; ")
  }

  /// Up to five ids, then how many more.
  public static func list(_ ids: [String]) -> String {
    ids.count <= 5 ? ids.joined(separator: ", ") : ids.prefix(5).joined(separator: ", ") + ", and \(ids.count - 5) more"
  }
}

/// The paired comparison of one (region, metric) over clips.
public struct PairedResult: Sendable, Equatable {
  public var n: Int
  /// Per-clip y_i = ln((b + ε) / (a + ε)), in input order.
  public var logRatios: [Double]
  public var clipIDs: [String]
  public var meanLogRatio: Double?
  public var ci95: ClosedRange<Double>?
  /// The decision interval of the equivalence and non-inferiority rules (90% at α = 0.05).
  public var ci90: ClosedRange<Double>?
  /// Two-sided exact sign-flip permutation p (Monte Carlo above 20 clips).
  public var pValue: Double?
  /// The p-value adjusted across its family: Holm over the primary endpoints, Benjamini–Hochberg
  /// (a q-value) over the secondary ones (`PairedStatistics.adjust`). The Regressed and Improved
  /// rules use it.
  public var adjustedP: Double?
  /// Two-sided exact Wilcoxon signed-rank p on the log-ratios: the robustness check.
  public var wilcoxonP: Double?
  /// How the intervals were made (`SignFlipInterval.method`).
  public var intervalMethod: String?
  /// The smallest change (as a log-ratio) this many clips detect with 80% power at this
  /// spread of log-ratios: d_z(n, α) · sd(y).
  public var detectableLogRatio: Double?
  /// How many clips would show non-inferiority at this estimate and spread with 80% power
  /// (set on inconclusive endpoints; nil when no number would, the estimate being past the margin).
  public var clipsForMargin: Int?
  /// Hodges–Lehmann estimate (median of Walsh averages) of the log-ratio.
  public var hodgesLehmann: Double?
  public var wins: Int
  public var ties: Int
  public var losses: Int
  public var label: VerdictLabel
  /// Whether the 90% upper bound is below ln(1 + δ) with at least `minClips` clips: the rollout
  /// gate's test.
  public var nonInferior: Bool
  /// The fewest clips this endpoint needs for a verdict that lets B pass: the user's `min_clips`
  /// or what the intervals need, whichever is more.
  public var clipsNeeded: Int
  public var note: String?
  /// "worse, within margin": significantly worse, yet non-inferior.
  public var warning: String?

  /// 100·(exp(x) − 1): a log-ratio as a percent change of B against A.
  public static func percent(_ x: Double) -> Double { 100 * (exp(x) - 1) }

  /// The words of the warning on a Regressed endpoint that is non-inferior.
  public static let withinMarginWarning = "worse, within margin"
}

/// Paired statistics with the clip as the experimental unit (docs/statistics.md).
public enum PairedStatistics {
  /// ε in y = ln((b + ε)/(a + ε)), on the reported scale.
  public static let epsilon = 1e-9

  /// The fewest clips for which both intervals exist at level α (6 at α = 0.05).
  public static func intervalClips(alpha: Double) -> Int { SignFlipInterval.clipsNeeded(level: 1 - alpha) }

  /// The fewest clips at which the smallest Holm-adjusted two-sided sign-flip p over `endpoints`
  /// primaries, endpoints · 2/2ⁿ, reaches α (8 for 5 primaries at α = 0.05).
  public static func attainableClips(endpoints: Int, alpha: Double) -> Int {
    var n = 1
    while Double(max(endpoints, 1)) * 2 / pow(2, Double(n)) > alpha + 1e-15 { n += 1 }
    return n
  }

  /// Analyses paired values against a relative margin `margin` (δ) and noise band `noise`.
  /// The labels use the unadjusted sign-flip p until `adjust` replaces it with the family's.
  ///
  /// - Parameters:
  ///   - minClips: below this many clips B cannot pass on this endpoint (no Improved,
  ///     Equivalent or Non-inferior), though a confident regression (Inferior, or Regressed)
  ///     is still called.
  ///   - alpha: the two-sided level of the significance claims (intervals at 1 − α, and at
  ///     1 − 2α for equivalence and non-inferiority).
  ///   - seed: seeds the Monte Carlo sign flips used above 16 (intervals) and 20 (p) clips.
  ///   - account: the clips left out of this endpoint and why, for its note.
  ///   - planClips: whether an inconclusive endpoint gets `clipsForMargin` (a few noncentral-t
  ///     solves; simulations leave it out).
  public static func analyse(
    _ observations: [PairedObservation], margin: Double, noise: Double, minClips: Int = 6, alpha: Double = 0.05,
    seed: UInt64 = 1, account: ClipAccount = ClipAccount(), planClips: Bool = true
  ) -> PairedResult {
    let y = observations.map(\.logRatio)
    let noiseLog = log(1 + noise)
    let tieBand = max(noiseLog, 1e-12)
    let wins = y.filter { $0 <= -tieBand }.count
    let losses = y.filter { $0 >= tieBand }.count
    let intervalNeed = intervalClips(alpha: alpha)
    var result = PairedResult(
      n: y.count, logRatios: y, clipIDs: observations.map(\.clipID), meanLogRatio: nil, ci95: nil,
      ci90: nil, pValue: nil, adjustedP: nil, wilcoxonP: nil, intervalMethod: nil, detectableLogRatio: nil,
      clipsForMargin: nil, hodgesLehmann: nil, wins: wins, ties: y.count - wins - losses, losses: losses,
      label: .inconclusive, nonInferior: false, clipsNeeded: max(minClips, intervalNeed), note: nil, warning: nil)
    let left = account.text
    guard !y.isEmpty else {
      result.note = "no clips to compare" + (left.isEmpty ? "" : ": " + left)
      return result
    }
    if let bad = zip(observations, y).first(where: { !$0.1.isFinite }) {
      result.note = "clip '\(bad.0.clipID)': the log-ratio of B's error \(bad.0.b) to A's \(bad.0.a) is not finite"
      return result
    }
    let n = Double(y.count)
    let mean = y.reduce(0, +) / n
    result.meanLogRatio = mean
    result.hodgesLehmann = hodgesLehmann(y)
    let sd = standardDeviation(y, mean: mean)
    result.detectableLogRatio = DetectableEffect.standardized(clips: y.count, alpha: alpha).map { $0 * sd }
    guard y.count >= intervalNeed,
      let intervals = SignFlipInterval.intervals(y, levels: [1 - alpha, 1 - 2 * alpha], seed: seed)
    else {
      result.note = insufficient(y.count, need: result.clipsNeeded, left: left)
      return result
    }
    result.ci95 = intervals[0]
    result.ci90 = intervals[1]
    result.intervalMethod = SignFlipInterval.method(clips: y.count)
    result.pValue = signFlipPValue(y, seed: seed)
    result.wilcoxonP = WilcoxonSignedRank.test(y)?.pValue
    label(&result, margin: margin, noise: noise, alpha: alpha, left: left)
    if planClips { plan(&result, margin: margin, alpha: alpha) }
    return result
  }

  static func insufficient(_ n: Int, need: Int, left: String) -> String {
    "insufficient clips (n = \(n), need ≥ \(need))" + (left.isEmpty ? "" : "; left out: " + left)
  }

  /// Assigns the first label of the order whose rule holds (docs/statistics.md):
  ///
  /// | Inferior | 90% lower bound > ln(1 + δ) |
  /// | Regressed | 95% lower bound > 0, mean > ln(1 + δ_noise), adjusted p ≤ α |
  /// | Improved | 95% upper bound < 0, mean < −ln(1 + δ_noise), adjusted p ≤ α; n ≥ min_clips |
  /// | Equivalent | 90% interval inside ±ln(1 + δ); n ≥ min_clips |
  /// | Non-inferior | 90% upper bound < ln(1 + δ); n ≥ min_clips |
  /// | Inconclusive | anything else |
  ///
  /// A rule whose significance fails only on the adjusted p falls through to the next one, and
  /// the note says so. A Regressed endpoint that is also non-inferior gets the warning
  /// "worse, within margin".
  public static func label(_ r: inout PairedResult, margin: Double, noise: Double, alpha: Double, left: String = "") {
    guard let mean = r.meanLogRatio, let ci95 = r.ci95, let ci90 = r.ci90 else { return }
    let marginLog = log(1 + margin)
    let noiseLog = log(1 + noise)
    let p = r.adjustedP ?? r.pValue ?? 1
    let quorum = r.n >= r.clipsNeeded
    r.nonInferior = quorum && ci90.upperBound < marginLog
    r.warning = nil
    r.note = nil
    let worse = ci95.lowerBound > 0 && mean > noiseLog
    let better = ci95.upperBound < 0 && mean < -noiseLog
    var withdrawn: String?
    if (worse || better) && p > alpha {
      let what = worse ? "worse" : "better"
      withdrawn =
        "\(what) at p = \(String(format: "%.3g", r.pValue ?? p)), but the adjusted p is \(String(format: "%.3g", p)) > α = \(String(format: "%.3g", alpha))"
    }
    if ci90.lowerBound > marginLog {
      r.label = .inferior
      r.note =
        "the \(formatPercent(1 - 2 * alpha, digits: 2)) interval lies above the +\(formatPercent(margin)) margin"
    } else if worse && p <= alpha {
      r.label = .regressed
      if r.nonInferior { r.warning = PairedResult.withinMarginWarning }
    } else if !quorum {
      r.label = .inconclusive
      r.note = insufficient(r.n, need: r.clipsNeeded, left: left)
    } else if better && p <= alpha {
      r.label = .improved
    } else if ci90.lowerBound > -marginLog && ci90.upperBound < marginLog {
      r.label = .equivalent
      r.note = withdrawn
    } else if r.nonInferior {
      r.label = .nonInferior
      r.note = withdrawn
    } else {
      r.label = .inconclusive
      r.note =
        "the \(formatPercent(1 - 2 * alpha, digits: 2)) interval reaches past the +\(formatPercent(margin)) margin"
      if let withdrawn { r.note! += "; " + withdrawn }
    }
    if !left.isEmpty, r.label != .inconclusive || quorum {
      r.note = (r.note.map { $0 + "; " } ?? "") + "left out: " + left
    }
  }

  /// Adjusts the p-values of a family of endpoints (Holm over `primaries`, Benjamini–Hochberg
  /// over the rest) and labels each endpoint again with its adjusted p: a Regressed or
  /// Improved label the adjustment withdraws falls through to what the intervals support.
  public static func adjust(
    _ results: inout [Endpoint: PairedResult], primaries: [Endpoint], alpha: Double = 0.05,
    margins: (Endpoint) -> (margin: Double, noise: Double), accounts: [Endpoint: ClipAccount] = [:]
  ) {
    let tested = results.filter { $0.value.pValue != nil }.keys.sorted { $0.description < $1.description }
    for (family, adjust) in [
      (tested.filter { primaries.contains($0) }, Multiplicity.holm),
      (tested.filter { !primaries.contains($0) }, Multiplicity.benjaminiHochberg),
    ] {
      let adjusted = adjust(family.map { results[$0]!.pValue! })
      for (endpoint, q) in zip(family, adjusted) {
        results[endpoint]!.adjustedP = q
        let (margin, noise) = margins(endpoint)
        var r = results[endpoint]!
        label(&r, margin: margin, noise: noise, alpha: alpha, left: accounts[endpoint]?.text ?? "")
        plan(&r, margin: margin, alpha: alpha)
        results[endpoint] = r
      }
    }
  }

  /// Sets `clipsForMargin` on an inconclusive endpoint that has its clips (nil otherwise).
  static func plan(_ r: inout PairedResult, margin: Double, alpha: Double) {
    r.clipsForMargin = nil
    guard r.label == .inconclusive, r.n >= r.clipsNeeded, let mean = r.meanLogRatio else { return }
    r.clipsForMargin = clipsForMargin(
      mean: mean, sd: standardDeviation(r.logRatios, mean: mean), margin: log(1 + margin), alpha: alpha,
      atLeast: r.clipsNeeded)
  }

  static func standardDeviation(_ y: [Double], mean: Double) -> Double {
    y.count > 1 ? (y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(y.count - 1)).squareRoot() : 0
  }

  /// The fewest clips (at least `atLeast`, at most 10 000) at which a one-sided test at α of
  /// "mean < margin" has 80% power when the true mean and spread are the ones observed; nil
  /// when the estimate is at or past the margin (no number of clips shows non-inferiority).
  public static func clipsForMargin(mean: Double, sd: Double, margin: Double, alpha: Double, atLeast: Int) -> Int? {
    let gap = margin - mean
    guard gap > 0 else { return nil }
    guard sd > 0 else { return atLeast }
    func enough(_ n: Int) -> Bool {
      (DetectableEffect.standardized(clips: n, alpha: alpha, twoSided: false) ?? .infinity) * sd <= gap
    }
    // The normal approximation, then exact steps on the noncentral t.
    let z = Normal.quantile(1 - alpha) + Normal.quantile(0.8)
    var n = max(atLeast, 3, Int((z * sd / gap * z * sd / gap).rounded(.up)))
    guard n <= 10_000 else { return nil }
    while n > max(atLeast, 3) && enough(n - 1) { n -= 1 }
    while !enough(n) {
      n += 1
      if n > 10_000 { return nil }
    }
    return n
  }

  /// Two-sided sign-flip permutation p-value of the mean: exact (all 2ⁿ patterns) for n ≤ 20,
  /// 100 000 seeded Monte Carlo draws above.
  public static func signFlipPValue(_ y: [Double], seed: UInt64 = 1) -> Double {
    let total = y.reduce(0, +)
    let observed = abs(total)
    let tolerance = 1e-12 * max(1, observed)
    if y.count <= 20 {
      let patterns = 1 << y.count
      var extreme = 0
      for mask in 0..<patterns {
        var s = 0.0
        for i in 0..<y.count { s += (mask >> i) & 1 == 1 ? -y[i] : y[i] }
        if abs(s) >= observed - tolerance { extreme += 1 }
      }
      return Double(extreme) / Double(patterns)
    }
    var rng = SplitMix64(seed: seed)
    let draws = 100_000
    var extreme = 0
    for _ in 0..<draws {
      // Flipping the signs of a subset moves the sum by twice its values.
      let s = total - 2 * SignFlipInterval.randomSubset(of: y, rng: &rng).sum
      if abs(s) >= observed - tolerance { extreme += 1 }
    }
    // Count the observed pattern so p is never 0.
    return Double(extreme + 1) / Double(draws + 1)
  }

  /// Median of the Walsh averages (y_i + y_j)/2, i ≤ j.
  public static func hodgesLehmann(_ y: [Double]) -> Double {
    var walsh: [Double] = []
    walsh.reserveCapacity(y.count * (y.count + 1) / 2)
    for i in 0..<y.count { for j in i..<y.count { walsh.append((y[i] + y[j]) / 2) } }
    walsh.sort()
    let m = walsh.count
    return m % 2 == 1 ? walsh[m / 2] : (walsh[m / 2 - 1] + walsh[m / 2]) / 2
  }

  static func formatPercent(_ fraction: Double, digits: Int = 3) -> String {
    String(format: "%.\(digits)g%%", fraction * 100)
  }
}
