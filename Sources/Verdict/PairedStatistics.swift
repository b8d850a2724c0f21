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

/// The verdict labels of specs/statistics.md, Step 5, assigned in this order.
public enum VerdictLabel: String, Sendable, CaseIterable {
  case regressed = "Regressed"
  case improved = "Improved"
  case equivalent = "Equivalent"
  case nonInferior = "Non-inferior"
  case inconclusive = "Inconclusive"
}

/// The paired comparison of one (region, metric) over clips.
public struct PairedResult: Sendable, Equatable {
  public var n: Int
  /// Per-clip y_i = ln((b + ε) / (a + ε)), in input order.
  public var logRatios: [Double]
  public var clipIDs: [String]
  public var meanLogRatio: Double?
  public var ci95: ClosedRange<Double>?
  public var ci90: ClosedRange<Double>?
  /// Two-sided exact sign-flip permutation p (Monte Carlo above 20 clips).
  public var pValue: Double?
  /// The p-value adjusted across its family: Holm over the primary endpoints, Benjamini–Hochberg
  /// (a q-value) over the secondary ones (`PairedStatistics.adjust`).
  public var adjustedP: Double?
  /// Two-sided exact Wilcoxon signed-rank p on the log-ratios: the robustness check.
  public var wilcoxonP: Double?
  /// How the intervals were made: "t" (fewer than 15 clips) or "BCa bootstrap".
  public var intervalMethod: String?
  /// The smallest change (as a log-ratio) this many clips detect with 80% power at this
  /// spread of log-ratios: d_z(n, α) · sd(y).
  public var detectableLogRatio: Double?
  /// Hodges–Lehmann estimate (median of Walsh averages) of the log-ratio.
  public var hodgesLehmann: Double?
  public var wins: Int
  public var ties: Int
  public var losses: Int
  public var label: VerdictLabel
  /// Whether the 90% upper bound is below ln(1 + δ): the rollout gate's test.
  public var nonInferior: Bool
  public var note: String?

  /// 100·(exp(x) − 1): a log-ratio as a percent change of B against A.
  public static func percent(_ x: Double) -> Double { 100 * (exp(x) - 1) }
}

/// Paired statistics with the clip as the experimental unit (specs/statistics.md).
public enum PairedStatistics {
  /// ε in y = ln((b + ε)/(a + ε)), on the reported scale.
  public static let epsilon = 1e-9
  /// Below this many clips the sign-flip test cannot reach α = 0.05 (2/2⁵ > 0.05).
  public static let minimumAttainableClips = 6
  /// From this many clips on, intervals come from the BCa bootstrap; below, from the t
  /// distribution (bootstrap intervals under-cover at small n).
  public static let bootstrapClips = 15
  public static let bootstrapResamples = 10_000

  /// Analyses paired values against a relative margin `margin` (δ) and noise band `noise`.
  ///
  /// - Parameters:
  ///   - minClips: fewer clips than this (never fewer than 6) gives "Inconclusive: insufficient clips".
  ///   - alpha: the two-sided level of the significance claims (intervals at 1 − α, and at
  ///     1 − 2α for equivalence and non-inferiority).
  ///   - seed: seeds the Monte Carlo sign flips used above 20 clips and the bootstrap.
  public static func analyse(
    _ observations: [PairedObservation], margin: Double, noise: Double, minClips: Int = 6, alpha: Double = 0.05,
    seed: UInt64 = 1
  ) -> PairedResult {
    let y = observations.map(\.logRatio)
    let noiseLog = log(1 + noise)
    let tieBand = max(noiseLog, 1e-12)
    let wins = y.filter { $0 <= -tieBand }.count
    let losses = y.filter { $0 >= tieBand }.count
    var result = PairedResult(
      n: y.count, logRatios: y, clipIDs: observations.map(\.clipID), meanLogRatio: nil, ci95: nil,
      ci90: nil, pValue: nil, adjustedP: nil, wilcoxonP: nil, intervalMethod: nil, detectableLogRatio: nil,
      hodgesLehmann: nil, wins: wins, ties: y.count - wins - losses,
      losses: losses, label: .inconclusive, nonInferior: false, note: nil)
    guard !y.isEmpty else {
      result.note = "no clips with support in this region"
      return result
    }
    let n = Double(y.count)
    let mean = y.reduce(0, +) / n
    result.meanLogRatio = mean
    result.hodgesLehmann = hodgesLehmann(y)
    // The smallest two-sided sign-flip p is 2/2ⁿ: below this many clips α cannot be reached.
    let needed = max(minClips, minimumAttainableClips, Int(log2(2 / alpha).rounded(.up)))
    let variance = y.count > 1 ? y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0
    result.detectableLogRatio = DetectableEffect.standardized(clips: y.count, alpha: alpha).map {
      $0 * variance.squareRoot()
    }
    guard y.count >= needed else {
      result.note = "insufficient clips: \(count(y.count, "clip")) with support, \(needed) needed"
      return result
    }
    if y.count < bootstrapClips {
      let se = (variance / n).squareRoot()
      let tWide = StudentT.quantile(1 - alpha / 2, df: n - 1)
      let tNarrow = StudentT.quantile(1 - alpha, df: n - 1)
      result.ci95 = (mean - tWide * se)...(mean + tWide * se)
      result.ci90 = (mean - tNarrow * se)...(mean + tNarrow * se)
      result.intervalMethod = "t"
    } else {
      let intervals = BCaBootstrap.intervals(
        y, levels: [1 - alpha, 1 - 2 * alpha], resamples: bootstrapResamples, seed: seed ^ 0xB007
      ) { $0.reduce(0, +) / Double($0.count) }
      result.ci95 = intervals?[0]
      result.ci90 = intervals?[1]
      result.intervalMethod = "BCa bootstrap"
    }
    guard let ci95 = result.ci95, let ci90 = result.ci90 else { return result }
    result.pValue = signFlipPValue(y, seed: seed)
    result.wilcoxonP = WilcoxonSignedRank.test(y)?.pValue
    let marginLog = log(1 + margin)
    result.nonInferior = ci90.upperBound < marginLog
    if ci95.lowerBound > 0 && mean > noiseLog {
      result.label = .regressed
    } else if ci95.upperBound < 0 && mean < -noiseLog {
      result.label = .improved
    } else if ci90.lowerBound > -marginLog && ci90.upperBound < marginLog {
      result.label = .equivalent
    } else if result.nonInferior {
      result.label = .nonInferior
    } else {
      result.label = .inconclusive
      result.note =
        "the \(formatPercent(1 - 2 * alpha, digits: 2)) interval reaches past the ±\(formatPercent(margin)) margin"
    }
    return result
  }

  /// Adjusts the p-values of a family of endpoints (Holm over `primaries`, Benjamini–Hochberg
  /// over the rest) and withdraws an "Improved" or "Regressed" label whose adjusted p is above
  /// α: after the adjustment the change is not significant, so the endpoint is inconclusive.
  public static func adjust(_ results: inout [Endpoint: PairedResult], primaries: [Endpoint], alpha: Double = 0.05) {
    let tested = results.filter { $0.value.pValue != nil }.keys.sorted { $0.description < $1.description }
    for (family, adjust) in [
      (tested.filter { primaries.contains($0) }, Multiplicity.holm),
      (tested.filter { !primaries.contains($0) }, Multiplicity.benjaminiHochberg),
    ] {
      let adjusted = adjust(family.map { results[$0]!.pValue! })
      for (endpoint, q) in zip(family, adjusted) {
        results[endpoint]!.adjustedP = q
        let label = results[endpoint]!.label
        if (label == .regressed || label == .improved) && q > alpha {
          let name = primaries.contains(endpoint) ? "Holm-adjusted p" : "Benjamini–Hochberg q"
          results[endpoint]!.label = .inconclusive
          results[endpoint]!.note =
            "\(label.rawValue.lowercased()) before adjusting for multiple endpoints, but the \(name) is \(String(format: "%.3g", q)) > α = \(String(format: "%.3g", alpha))"
        }
      }
    }
  }

  /// Two-sided sign-flip permutation p-value of the mean: exact (all 2ⁿ patterns) for n ≤ 20,
  /// 100 000 seeded Monte Carlo draws above.
  public static func signFlipPValue(_ y: [Double], seed: UInt64 = 1) -> Double {
    let observed = abs(y.reduce(0, +))
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
      var s = 0.0
      var bits = rng.next()
      var used = 0
      for v in y {
        if used == 64 {
          bits = rng.next()
          used = 0
        }
        s += bits & 1 == 1 ? -v : v
        bits >>= 1
        used += 1
      }
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
