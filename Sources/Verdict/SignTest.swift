import Foundation

/// The exact sign test: under the null hypothesis each non-tied preference goes either way
/// with probability ½, so the count of one side is Binomial(n, ½).
public enum SignTest {
  /// Two-sided p of `wins` against `losses` (ties left out): twice the smaller tail,
  /// 2·Σ_{k ≤ min} C(n, k)/2ⁿ, capped at 1; 1 when there is nothing to test.
  public static func twoSided(wins: Int, losses: Int) -> Double {
    precondition(wins >= 0 && losses >= 0, "counts must not be negative")
    let n = wins + losses
    guard n > 0 else { return 1 }
    var tail = 0.0
    if n <= 1000 {
      // C(n, k)/2ⁿ term by term: exact for the vote counts a review gathers.
      var term = pow(0.5, Double(n))
      for k in 0...min(wins, losses) {
        if k > 0 { term = term * Double(n - k + 1) / Double(k) }
        tail += term
      }
    } else {
      let lnHalfN = Double(n) * -0.6931471805599453
      for k in 0...min(wins, losses) { tail += exp(lnChoose(n, k) + lnHalfN) }
    }
    return min(1, 2 * tail)
  }

  static func lnChoose(_ n: Int, _ k: Int) -> Double {
    lgamma(Double(n) + 1) - lgamma(Double(k) + 1) - lgamma(Double(n - k) + 1)
  }
}
