import Foundation
import Testing

@testable import Verdict

/// The statistical routines against values published or enumerated by hand, not against their
/// own earlier output.
@Suite struct PublishedExamplesTests {
  // Hollander and Wolfe's depression data (Hamilton scale before x and after y, 9 patients),
  // the example of R's `wilcox.test`: V = 40, one-sided p = 0.01953 (10 of the 512 sign
  // patterns reach V ≥ 40: the complements of the 10 rank subsets summing to ≤ 5).
  let before = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
  let after = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]

  @Test func wilcoxonSignedRankOnTheDepressionData() throws {
    let d = zip(before, after).map { $0 - $1 }
    let r = try #require(WilcoxonSignedRank.test(d))
    #expect(r.n == 9)
    #expect(r.v == 40)
    #expect(abs(r.pValue - 20.0 / 512) < 1e-15)  // two-sided: twice 10/512
  }

  @Test func wilcoxonWithTiesAndZerosByHand() throws {
    // d = [1, −1, 2, 2, 3, 0]: the zero is dropped; |d| mid-ranks 1.5, 1.5, 3.5, 3.5, 5.
    // V = 1.5 + 3.5 + 3.5 + 5 = 13.5, 6 from the centre 7.5. In doubled ranks {3, 3, 7, 7, 10}
    // (total 30) the sums at least that far out are ≤ 3 ({}, {3}, {3}) or ≥ 27 (their
    // complements): 6 of 32 patterns.
    let r = try #require(WilcoxonSignedRank.test([1, -1, 2, 2, 3, 0]))
    #expect(r.n == 5)
    #expect(r.v == 13.5)
    #expect(r.pValue == 6.0 / 32)
  }

  @Test func hodgesLehmannOnTheDepressionData() {
    // R: wilcox.test(x, y, paired = TRUE, conf.int = TRUE) gives (pseudo)median 0.46: the
    // 23rd of the 45 Walsh averages of the differences.
    let d = zip(before, after).map { $0 - $1 }
    #expect(abs(PairedStatistics.hodgesLehmann(d) - 0.46) < 1e-12)
  }

  @Test func holmOnAWorkedCase() {
    // p = (0.01, 0.04, 0.03, 0.005), m = 4. Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03,
    // 0.03·2 = 0.06, 0.04·1 = 0.04 → kept non-decreasing: 0.06. At α = 0.05 Holm rejects the
    // first and the fourth hypotheses only.
    let adjusted = Multiplicity.holm([0.01, 0.04, 0.03, 0.005])
    let expected = [0.03, 0.06, 0.06, 0.02]
    for (a, e) in zip(adjusted, expected) { #expect(abs(a - e) < 1e-15) }
    #expect(adjusted.filter { $0 <= 0.05 }.count == 2)
  }

  @Test func benjaminiHochbergOnTheirExample() {
    // Benjamini and Hochberg (1995), section 4: fifteen p-values; at q = 0.05 the procedure
    // rejects the four smallest. q-values p₍ᵢ₎·15/i, non-increasing from the top.
    let p = [
      0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528,
      0.7590, 1.000,
    ]
    let q = Multiplicity.benjaminiHochberg(p)
    #expect(q.filter { $0 <= 0.05 }.count == 4)
    #expect(abs(q[3] - 0.0095 * 15 / 4) < 1e-15)
    #expect(abs(q[5] - 0.0298 * 15 / 7) < 1e-15)  // p₆ takes p₇'s smaller ratio
    #expect(q[14] == 1)
    // Input order is kept.
    #expect(Multiplicity.benjaminiHochberg([0.04, 0.01]) == [0.04, 0.02])
  }

  @Test func bcaOnTheSpatialTestData() throws {
    // Efron and Tibshirani (1993), ch. 14: test A of the 26 children, θ = the plug-in variance
    // (171.5). Their table 14.2 gives the 90% BCa interval (115.8, 259.6) from B = 2000;
    // scipy.stats.bootstrap(method='BCa') with 10 000 resamples gives (114.8–116.9,
    // 259.7–263.7) over seeds. Monte Carlo error allows a few units.
    let a: [Double] = [
      48, 36, 20, 29, 42, 42, 20, 42, 22, 41, 45, 14, 6, 0, 33, 28, 34, 4, 32, 24, 47, 41, 24, 26, 30, 41,
    ]
    let variance = { (x: [Double]) -> Double in
      let m = x.reduce(0, +) / Double(x.count)
      return x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count)
    }
    #expect(abs(variance(a) - 171.534) < 1e-3)
    for seed: UInt64 in [1, 2] {
      let ci = try #require(BCaBootstrap.interval(a, level: 0.90, resamples: 10_000, seed: seed, statistic: variance))
      #expect(abs(ci.lowerBound - 115.8) < 4, "lower \(ci.lowerBound)")
      #expect(abs(ci.upperBound - 259.6) < 6, "upper \(ci.upperBound)")
      // The percentile interval of the same book is (100.8, 233.9): BCa moves both ends up.
      #expect(ci.lowerBound > 108)
    }
    // Identical values: every replicate is the estimate.
    #expect(BCaBootstrap.interval([2, 2, 2], level: 0.9, seed: 1) { $0[0] } == 2...2)
  }

  @Test func detectableEffectsMatchTheSpecTable() throws {
    // specs/statistics.md, Step 7: d_z at 80% power from the noncentral t.
    let twoSided: [(Int, Double)] = [(10, 1.00), (15, 0.78), (20, 0.66), (30, 0.53), (50, 0.40)]
    for (n, d) in twoSided {
      let got = try #require(DetectableEffect.standardized(clips: n))
      #expect(abs(got - d) < 0.006, "n = \(n): \(got)")
    }
    let oneSided: [(Int, Double)] = [(10, 0.85), (20, 0.58), (50, 0.36)]
    for (n, d) in oneSided {
      let got = try #require(DetectableEffect.standardized(clips: n, twoSided: false))
      #expect(abs(got - d) < 0.006, "n = \(n): \(got)")
    }
  }

  @Test func noncentralTReducesToStudentT() {
    // With δ = 0 it is Student's t.
    for t in [-2.0, -0.5, 0, 1, 2.5] {
      #expect(abs(NoncentralT.cdf(t, df: 9, noncentrality: 0) - StudentT.cdf(t, df: 9)) < 1e-7)
    }
  }

  @Test func normalQuantiles() {
    #expect(abs(Normal.quantile(0.975) - 1.959964) < 1e-6)
    #expect(abs(Normal.quantile(0.05) + 1.644854) < 1e-6)
    #expect(abs(Normal.cdf(1) - 0.841345) < 1e-6)
  }

  @Test func monteCarloSignFlipAboveTwentyClips() {
    // 21 equal positive values: only 2 of 2²¹ patterns reach |Σ|; the seeded Monte Carlo
    // (100 000 draws, the observed pattern counted) gives (hits + 1)/100 001, hits ≈ 0.1.
    let p = PairedStatistics.signFlipPValue([Double](repeating: 1, count: 21), seed: 7)
    #expect(p >= 1.0 / 100_001 && p <= 3.0 / 100_001)
    // Alternating signs: Σ = 1 of 21 unit values; |Σ| ≥ 1 always (21 is odd): p = 1.
    let q = PairedStatistics.signFlipPValue((0..<21).map { $0 % 2 == 0 ? 1.0 : -1.0 }, seed: 7)
    #expect(q == 1)
  }

  @Test func fifteenClipsAndLabelsThatFallThroughAfterHolm() throws {
    // 15 clips at +20% ± 1%: exact sign-flip intervals (2¹⁵ patterns) inside the data's range;
    // the 90% interval lies above the 5% margin: Inferior.
    let obs = (0..<15).map { PairedObservation(clipID: "c\($0)", a: 10, b: 10 * (1.19 + 0.02 * Double($0 % 3) / 2)) }
    let r = PairedStatistics.analyse(obs, margin: 0.05, noise: 0, seed: 3)
    #expect(r.intervalMethod == "sign-flip inversion (exact, 32768 sign patterns)")
    #expect(r.label == .inferior)
    let ci = try #require(r.ci95)
    #expect(ci.lowerBound >= log(1.19) - 1e-12 && ci.upperBound <= log(1.21) + 1e-12)
    // Six clips each 2% worse, five primaries: the sign-flip p is 2/64 per endpoint (Regressed
    // before adjusting); Holm makes it 5·2/64 = 0.156, so the label falls through to what the
    // 90% interval supports, inside ±5%: Equivalent, with the withdrawn claim in its note.
    let six = (0..<6).map { PairedObservation(clipID: "c\($0)", a: 10, b: 10 * (1.02 + 0.001 * Double($0))) }
    let primaries = ["frame", "transition", "hair", "glass", "motion"].map { Endpoint(region: $0, metric: "MSE") }
    var results: [Endpoint: PairedResult] = [:]
    for e in primaries { results[e] = PairedStatistics.analyse(six, margin: 0.05, noise: 0) }
    #expect(results[primaries[0]]!.label == .regressed)
    PairedStatistics.adjust(&results, primaries: primaries, margins: { _ in (0.05, 0) })
    for e in primaries {
      #expect(abs(results[e]!.adjustedP! - 5 * 2.0 / 64) < 1e-12)
      #expect(results[e]!.label == .equivalent)
      #expect(results[e]!.note?.contains("adjusted p is 0.156") == true)
    }
    // Better on all six clips but by 1% to 20%: Improved before adjusting (p = 2/64); after Holm
    // over five primaries it falls through past Equivalent (the 90% interval reaches below
    // −5%) to Non-inferior.
    let spread = [0.80, 0.99, 0.90, 0.97, 0.85, 0.95].enumerated().map {
      PairedObservation(clipID: "c\($0.offset)", a: 1, b: $0.element)
    }
    var better: [Endpoint: PairedResult] = [:]
    for e in primaries { better[e] = PairedStatistics.analyse(spread, margin: 0.05, noise: 0) }
    #expect(better[primaries[0]]!.label == .improved)
    PairedStatistics.adjust(&better, primaries: primaries, margins: { _ in (0.05, 0) })
    let b = try #require(better[primaries[0]])
    #expect(b.ci90!.lowerBound < -log(1.05) && b.ci95!.upperBound < 0)
    #expect(b.label == .nonInferior && b.nonInferior)
    #expect(b.note?.hasPrefix("better at p = 0.0312, but the adjusted p is 0.156") == true)
    // A detectable change is given beside an inconclusive verdict.
    let noisy = PairedStatistics.analyse(
      [0.6, 1.5, 0.7, 1.4, 0.8, 1.3].enumerated().map {
        PairedObservation(clipID: "c\($0.offset)", a: 1, b: $0.element)
      },
      margin: 0.05, noise: 0)
    #expect(noisy.label == .inconclusive)
    let y = noisy.logRatios
    let mean = y.reduce(0, +) / 6
    let sd = (y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 5).squareRoot()
    let dz = try #require(DetectableEffect.standardized(clips: 6))
    #expect(abs(try #require(noisy.detectableLogRatio) - dz * sd) < 1e-12)
  }
}
