import Foundation

/// Student's t distribution: CDF through the regularized incomplete beta function, quantiles by
/// bisection. Accurate to about 1e-10, ample for confidence intervals.
public enum StudentT {
  /// P(T ≤ t) with `df` degrees of freedom.
  public static func cdf(_ t: Double, df: Double) -> Double {
    let x = df / (df + t * t)
    let tail = 0.5 * regularizedIncompleteBeta(x, a: df / 2, b: 0.5)
    return t >= 0 ? 1 - tail : tail
  }

  /// The `p` quantile (0 < p < 1).
  public static func quantile(_ p: Double, df: Double) -> Double {
    precondition(p > 0 && p < 1)
    if p == 0.5 { return 0 }
    if p < 0.5 { return -quantile(1 - p, df: df) }
    var lo = 0.0
    var hi = 1.0
    while cdf(hi, df: df) < p { hi *= 2 }
    for _ in 0..<200 {
      let mid = (lo + hi) / 2
      if cdf(mid, df: df) < p { lo = mid } else { hi = mid }
      if hi - lo < 1e-12 * max(1, hi) { break }
    }
    return (lo + hi) / 2
  }

  /// I_x(a, b) by the continued fraction (modified Lentz), using the symmetry for convergence.
  static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    let lnBeta = lgamma(a + b) - lgamma(a) - lgamma(b)
    let front = exp(lnBeta + a * log(x) + b * log(1 - x))
    if x < (a + 1) / (a + b + 2) {
      return front * continuedFraction(x, a: a, b: b) / a
    }
    return 1 - front * continuedFraction(1 - x, a: b, b: a) / b
  }

  private static func continuedFraction(_ x: Double, a: Double, b: Double) -> Double {
    let tiny = 1e-300
    var c = 1.0
    var d = 1 - (a + b) * x / (a + 1)
    if abs(d) < tiny { d = tiny }
    d = 1 / d
    var h = d
    for m in 1...500 {
      let m = Double(m)
      let m2 = 2 * m
      var aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
      d = 1 + aa * d
      if abs(d) < tiny { d = tiny }
      c = 1 + aa / c
      if abs(c) < tiny { c = tiny }
      d = 1 / d
      h *= d * c
      aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
      d = 1 + aa * d
      if abs(d) < tiny { d = tiny }
      c = 1 + aa / c
      if abs(c) < tiny { c = tiny }
      d = 1 / d
      let delta = d * c
      h *= delta
      if abs(delta - 1) < 1e-15 { break }
    }
    return h
  }
}
