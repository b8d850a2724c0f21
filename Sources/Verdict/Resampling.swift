import Foundation
import MatteMetrics
import Synchronization

/// The standard normal distribution.
public enum Normal {
  /// Φ(x) = P(Z ≤ x).
  public static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

  /// Φ⁻¹(p) for 0 < p < 1, by bisection on `cdf` (to about 1e-14; a few calls per interval).
  public static func quantile(_ p: Double) -> Double {
    precondition(p > 0 && p < 1, "a normal quantile needs 0 < p < 1")
    var lo = -40.0
    var hi = 40.0
    for _ in 0..<200 {
      let mid = (lo + hi) / 2
      if cdf(mid) < p { lo = mid } else { hi = mid }
      if hi - lo < 1e-14 { break }
    }
    return (lo + hi) / 2
  }
}

/// The bias-corrected and accelerated (BCa) bootstrap interval (Efron 1987; Efron and
/// Tibshirani 1993, ch. 14): percentiles of the bootstrap distribution moved by the bias
/// correction z₀ (from the share of replicates below the estimate) and the acceleration a
/// (from the jackknife).
public enum BCaBootstrap {
  /// The two-sided interval of coverage `level` for `statistic` over `data` resampled with
  /// replacement `resamples` times from `seed`; nil for fewer than two values. When every
  /// replicate equals the estimate (all values alike) the interval is that single point.
  public static func interval(
    _ data: [Double], level: Double, resamples: Int = 10_000, seed: UInt64,
    statistic: ([Double]) -> Double
  ) -> ClosedRange<Double>? {
    intervals(data, levels: [level], resamples: resamples, seed: seed, statistic: statistic)?.first
  }

  /// `interval` at several levels from one set of replicates.
  public static func intervals(
    _ data: [Double], levels: [Double], resamples: Int = 10_000, seed: UInt64,
    statistic: ([Double]) -> Double
  ) -> [ClosedRange<Double>]? {
    let n = data.count
    guard n >= 2, resamples >= 100 else { return nil }
    let estimate = statistic(data)
    var rng = SplitMix64(seed: seed)
    var sample = [Double](repeating: 0, count: n)
    var replicates = [Double](repeating: 0, count: resamples)
    for b in 0..<resamples {
      for i in 0..<n { sample[i] = data[Int(rng.next() % UInt64(n))] }
      replicates[b] = statistic(sample)
    }
    replicates.sort()
    guard replicates.first! < replicates.last! else { return levels.map { _ in estimate...estimate } }
    // z₀: the share of replicates below the estimate (ties count half).
    let below = Double(replicates.filter { $0 < estimate }.count)
    let equal = Double(replicates.filter { $0 == estimate }.count)
    let share = min(max((below + equal / 2) / Double(resamples), 0.5 / Double(resamples)), 1 - 0.5 / Double(resamples))
    let z0 = Normal.quantile(share)
    // a: skewness of the jackknife values.
    let jackknife = (0..<n).map { i in statistic(Array(data[..<i] + data[(i + 1)...])) }
    let jackMean = jackknife.reduce(0, +) / Double(n)
    let squares = jackknife.reduce(0) { $0 + ($1 - jackMean) * ($1 - jackMean) }
    let cubes = jackknife.reduce(0) { $0 + pow(jackMean - $1, 3) }
    let a = squares > 0 ? cubes / (6 * pow(squares, 1.5)) : 0
    return levels.map { level in
      let tail = (1 - level) / 2
      func adjusted(_ p: Double) -> Double {
        let z = Normal.quantile(p)
        return Normal.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
      }
      return percentile(replicates, adjusted(tail))...percentile(replicates, adjusted(1 - tail))
    }
  }

  /// The p-quantile of sorted values, linear between order statistics.
  static func percentile(_ sorted: [Double], _ p: Double) -> Double {
    let position = min(max(p, 0), 1) * Double(sorted.count - 1)
    let i = Int(position.rounded(.down))
    let j = min(i + 1, sorted.count - 1)
    return sorted[i] + (sorted[j] - sorted[i]) * (position - Double(i))
  }
}

/// Adjusted p-values for several endpoints at once.
public enum Multiplicity {
  /// Holm's step-down adjustment (Holm 1979): sorted ascending, p₍ᵢ₎·(m − i + 1), made
  /// non-decreasing, capped at 1; in the input order. Rejecting where it is ≤ α controls the
  /// family-wise error rate at α.
  public static func holm(_ p: [Double]) -> [Double] {
    let m = p.count
    let order = p.indices.sorted { p[$0] < p[$1] }
    var adjusted = [Double](repeating: 1, count: m)
    var running = 0.0
    for (rank, i) in order.enumerated() {
      running = max(running, min(1, p[i] * Double(m - rank)))
      adjusted[i] = running
    }
    return adjusted
  }

  /// Benjamini–Hochberg q-values (1995): sorted ascending, p₍ᵢ₎·m/i, made non-increasing from
  /// the largest down, capped at 1; in the input order. Rejecting where q ≤ α controls the
  /// false discovery rate at α.
  public static func benjaminiHochberg(_ p: [Double]) -> [Double] {
    let m = p.count
    let order = p.indices.sorted { p[$0] < p[$1] }
    var adjusted = [Double](repeating: 1, count: m)
    var running = 1.0
    for rank in stride(from: m - 1, through: 0, by: -1) {
      let i = order[rank]
      running = min(running, p[i] * Double(m) / Double(rank + 1))
      adjusted[i] = min(1, running)
    }
    return adjusted
  }
}

/// Wilcoxon's signed-rank test (1945) on paired differences, exact: zeros are dropped, tied
/// magnitudes get their mid-rank, and the null distribution of V (the sum of the positive
/// differences' ranks) is enumerated over all 2ⁿ sign patterns by counting.
public enum WilcoxonSignedRank {
  public struct Result: Sendable, Equatable {
    /// Differences left after dropping zeros.
    public var n: Int
    /// V: the sum of the ranks of the positive differences.
    public var v: Double
    /// Two-sided exact p: P(|V − n(n+1)/4| ≥ observed) under the null.
    public var pValue: Double
  }

  /// nil above 200 non-zero differences (the exact count grows as n³); with none, V = 0, p = 1.
  public static func test(_ differences: [Double]) -> Result? {
    let d = differences.filter { $0 != 0 }
    let n = d.count
    guard n > 0 else { return Result(n: 0, v: 0, pValue: 1) }
    guard n <= 200 else { return nil }
    // Mid-ranks of |d|, doubled so they are integers.
    let order = d.indices.sorted { abs(d[$0]) < abs(d[$1]) }
    var doubled = [Int](repeating: 0, count: n)
    var i = 0
    while i < n {
      var j = i
      while j + 1 < n && abs(d[order[j + 1]]) == abs(d[order[i]]) { j += 1 }
      for k in i...j { doubled[order[k]] = i + j + 2 }  // 2 × mean of ranks i+1 … j+1
      i = j + 1
    }
    let total = doubled.reduce(0, +)
    // counts[s]: sign patterns whose positive doubled ranks sum to s.
    var counts = [Double](repeating: 0, count: total + 1)
    counts[0] = 1
    var reach = 0
    for r in doubled {
      reach += r
      for s in stride(from: reach, through: r, by: -1) { counts[s] += counts[s - r] }
    }
    let observed = zip(d, doubled).reduce(0) { $0 + ($1.0 > 0 ? $1.1 : 0) }
    // |2·V₂ − total| ≥ |2·observed − total| in doubled units, i.e. as far from the centre.
    let distance = abs(2 * observed - total)
    var extreme = 0.0
    for s in 0...total where abs(2 * s - total) >= distance { extreme += counts[s] }
    let p = extreme / pow(2, Double(n))
    return Result(n: n, v: Double(observed) / 2, pValue: min(1, p))
  }
}

/// The smallest change a paired test can be expected to find (80% power), for Step 7 of
/// specs/statistics.md: the standardized effect d_z = mean/sd at which a two-sided one-sample
/// t-test at level α on n clips has the wanted power, from the noncentral t distribution.
public enum DetectableEffect {
  /// Solved values by (n, α, power, sidedness): every endpoint of a run asks for the same few.
  private static let solved = Mutex<[String: Double]>([:])

  /// d_z for n clips at two-sided level `alpha` (or one-sided when `twoSided` is false).
  public static func standardized(clips n: Int, alpha: Double = 0.05, power: Double = 0.8, twoSided: Bool = true)
    -> Double?
  {
    guard n >= 3 else { return nil }
    let key = "\(n)/\(alpha)/\(power)/\(twoSided)"
    if let known = solved.withLock({ $0[key] }) { return known }
    let d = solve(clips: n, alpha: alpha, power: power, twoSided: twoSided)
    solved.withLock { $0[key] = d }
    return d
  }

  static func solve(clips n: Int, alpha: Double, power: Double, twoSided: Bool) -> Double {
    let df = Double(n - 1)
    let critical = StudentT.quantile(1 - (twoSided ? alpha / 2 : alpha), df: df)
    func powerAt(_ d: Double) -> Double {
      let delta = d * Double(n).squareRoot()
      let upper = 1 - NoncentralT.cdf(critical, df: df, noncentrality: delta)
      return twoSided ? upper + NoncentralT.cdf(-critical, df: df, noncentrality: delta) : upper
    }
    var lo = 0.0
    var hi = 10.0
    for _ in 0..<60 {
      let mid = (lo + hi) / 2
      if powerAt(mid) < power { lo = mid } else { hi = mid }
    }
    return (lo + hi) / 2
  }
}

/// The noncentral t distribution's CDF, by integrating over the chi distribution of the
/// denominator: P(T ≤ t) = ∫ Φ(t·√(v/df) − δ) · f_χ²(v; df) dv (Simpson's rule).
public enum NoncentralT {
  public static func cdf(_ t: Double, df: Double, noncentrality delta: Double) -> Double {
    // v = df·u², so that the integrand is smooth near 0 for every df; u ∈ (0, u_max].
    let uMax = 1 + 12 / df.squareRoot() + 3
    let steps = 4000
    let h = uMax / Double(steps)
    let logNorm = (df / 2) * log(df / 2) - lgamma(df / 2) + log(2.0)
    func f(_ u: Double) -> Double {
      guard u > 0 else { return 0 }
      // density of u = √(v/df): 2·(df/2)^(df/2)/Γ(df/2) · u^(df−1) · e^(−df·u²/2)
      let density = exp(logNorm + (df - 1) * log(u) - df * u * u / 2)
      return Normal.cdf(t * u - delta) * density
    }
    var sum = f(0) + f(uMax)
    for k in 1..<steps { sum += (k % 2 == 1 ? 4 : 2) * f(Double(k) * h) }
    return min(1, max(0, sum * h / 3))
  }
}
