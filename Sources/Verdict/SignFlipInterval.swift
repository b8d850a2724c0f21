import Foundation
import MatteMetrics

/// The decision interval: a confidence interval for the centre of the per-clip log-ratios made
/// by inverting the one-sided sign-flip (permutation) tests of the mean.
///
/// For a shift θ, flipping the signs of the clips in a subset F of y − θ moves the sum by
/// −2·Σ_F (y_i − θ), so that pattern is at least as far into the upper tail as the observed one
/// exactly when the mean of y over F is at most θ. The one-sided p at θ is therefore
/// (1 + #{F ≠ ∅ : mean_F(y) ≤ θ}) / 2ⁿ, and the bounds of the interval are order statistics of the
/// 2ⁿ − 1 subset means (Hartigan 1969, "Using subsample values as typical values"). When every
/// y_i − θ is symmetric about 0 and independent (A against A is, since the arms are
/// exchangeable), the true θ falls in each of the 2ⁿ gaps between ordered subset means with
/// probability 1/2ⁿ whatever the clips' spreads: one dominant clip or heavy tails do not change
/// the coverage, unlike bootstrap intervals.
///
/// The tail 2ⁿ·(1 − level)/2 is rarely a whole number of gaps (1.6 at n = 6 and 95%), so a bound
/// is interpolated between the two neighbouring subset means; `mattegate bench coverage`
/// measures what that gives. Up to `exactClips` clips every subset is enumerated; above, a seeded
/// Monte Carlo sample of `draws` sign patterns stands in for them (the test with the observed
/// pattern counted is still exact).
public enum SignFlipInterval {
  /// Up to this many clips all 2ⁿ − 1 subset means are enumerated.
  public static let exactClips = 16
  /// Random sign patterns above `exactClips`.
  public static let draws = 20_000

  /// The method's name, as reports print it.
  public static func method(clips n: Int) -> String {
    n <= exactClips
      ? "sign-flip inversion (exact, \(1 << n) sign patterns)"
      : "sign-flip inversion (Monte Carlo, \(draws) sign patterns)"
  }

  /// The fewest clips for which a two-sided interval of `level` exists: the tail must hold at
  /// least one of the 2ⁿ gaps, 2ⁿ·(1 − level)/2 ≥ 1 (6 clips at 95%, 5 at 90%).
  public static func clipsNeeded(level: Double) -> Int {
    let tail = (1 - level) / 2
    var n = 1
    while Double(1 << n) * tail < 1 - 1e-12 { n += 1 }
    return n
  }

  /// Equal-tailed intervals at each of `levels` for the centre of `y`; nil when there are too
  /// few values for the widest level (`clipsNeeded`).
  public static func intervals(_ y: [Double], levels: [Double], seed: UInt64 = 1) -> [ClosedRange<Double>]? {
    guard !y.isEmpty, y.allSatisfy(\.isFinite), let widest = levels.max(), y.count >= clipsNeeded(level: widest)
    else { return nil }
    let means = subsetMeans(y, seed: seed)
    // The observed pattern (the empty subset) counts among the 2ⁿ (or draws + 1) patterns.
    let patterns = Double(means.count + 1)
    return levels.map { level in
      let k = patterns * (1 - level) / 2
      let (lo, hi) = (lowerBound(means, k), upperBound(means, k))
      // Equal values give equal means up to an ulp of division: never a reversed range.
      return min(lo, hi)...max(lo, hi)
    }
  }

  /// The k-th smallest subset mean, k counted from 1 and interpolated between neighbours.
  static func lowerBound(_ sorted: [Double], _ k: Double) -> Double {
    let whole = Int(k.rounded(.down))
    let fraction = k - Double(whole)
    let a = sorted[max(whole, 1) - 1]
    guard whole >= 1, whole < sorted.count else { return a }
    return a + fraction * (sorted[whole] - a)
  }

  /// The k-th largest subset mean, interpolated the same way.
  static func upperBound(_ sorted: [Double], _ k: Double) -> Double {
    let whole = Int(k.rounded(.down))
    let fraction = k - Double(whole)
    let last = sorted.count - 1
    let a = sorted[last - (max(whole, 1) - 1)]
    guard whole >= 1, whole < sorted.count else { return a }
    return a - fraction * (a - sorted[last - whole])
  }

  /// Every non-empty subset's mean (in the order of their bit masks) for up to `exactClips`
  /// values, else the means of `draws` random non-empty subsets; sorted.
  static func subsetMeans(_ y: [Double], seed: UInt64) -> [Double] {
    let n = y.count
    var means: [Double]
    if n <= exactClips {
      // Each subset's sum is its subset without the lowest member plus that member: every sum
      // takes at most n additions, so no rounding error builds up across the 2ⁿ subsets.
      let count = 1 << n
      var sums = [Double](repeating: 0, count: count)
      means = [Double](repeating: 0, count: count - 1)
      for mask in 1..<count {
        let low = mask.trailingZeroBitCount
        sums[mask] = sums[mask & (mask - 1)] + y[low]
        means[mask - 1] = sums[mask] / Double(mask.nonzeroBitCount)
      }
    } else {
      var rng = SplitMix64(seed: seed ^ 0x5167_F11B)
      means = []
      means.reserveCapacity(draws)
      while means.count < draws {
        let (sum, size) = randomSubset(of: y, rng: &rng)
        if size > 0 { means.append(sum / Double(size)) }
      }
    }
    means.sort()
    return means
  }

  /// One random sign pattern: the sum and size of the subset of `y` whose signs it flips (each
  /// value in it with probability ½, one bit of `rng` per value). The Monte Carlo sign-flip
  /// p-value and interval both draw their patterns here.
  static func randomSubset(of y: [Double], rng: inout SplitMix64) -> (sum: Double, size: Int) {
    var sum = 0.0
    var size = 0
    var bits = rng.next()
    var used = 0
    for v in y {
      if used == 64 {
        bits = rng.next()
        used = 0
      }
      if bits & 1 == 1 {
        sum += v
        size += 1
      }
      bits >>= 1
      used += 1
    }
    return (sum, size)
  }
}
