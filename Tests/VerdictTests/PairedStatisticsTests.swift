import Foundation
import Testing

@testable import Verdict

@Suite struct PairedStatisticsTests {
  @Test func studentTQuantilesMatchPublishedTables() {
    // Two-sided 95% and one-sided 95% critical values from standard t tables.
    #expect(abs(StudentT.quantile(0.975, df: 1) - 12.7062) < 1e-3)
    #expect(abs(StudentT.quantile(0.975, df: 5) - 2.5706) < 1e-4)
    #expect(abs(StudentT.quantile(0.975, df: 7) - 2.3646) < 1e-4)
    #expect(abs(StudentT.quantile(0.95, df: 10) - 1.8125) < 1e-4)
    #expect(abs(StudentT.quantile(0.975, df: 30) - 2.0423) < 1e-4)
    #expect(abs(StudentT.cdf(0, df: 4) - 0.5) < 1e-12)
  }

  @Test func signFlipExactPValues() {
    // Six positive values: only the all-plus and all-minus patterns reach |Σ|, p = 2/64.
    #expect(PairedStatistics.signFlipPValue([1, 2, 3, 4, 5, 6]) == 2.0 / 64)
    // [1, 1, 2]: |Σ| = 4 is reached by (+,+,+), (−,−,−); (+,−,+)… give 2 or 0, so p = 2/8.
    #expect(PairedStatistics.signFlipPValue([1, 1, 2]) == 0.25)
    // [3, −1]: patterns give |±3 ± 1| ∈ {2, 4}; observed |3 − 1| = 2 is met by all four.
    #expect(PairedStatistics.signFlipPValue([3, -1]) == 1)
  }

  @Test func hodgesLehmannByHand() {
    // Walsh averages of [1, 2, 9]: 1, 1.5, 5, 2, 5.5, 9 → sorted 1, 1.5, 2, 5, 5.5, 9 → median 3.5.
    #expect(PairedStatistics.hodgesLehmann([1, 2, 9]) == 3.5)
  }

  func observations(_ ratios: [Double]) -> [PairedObservation] {
    ratios.enumerated().map { PairedObservation(clipID: "c\($0.offset)", a: 10, b: 10 * $0.element) }
  }

  @Test func verdictLabels() throws {
    // B is 20% worse everywhere, with a little spread: regressed.
    let worse = PairedStatistics.analyse(observations([1.18, 1.2, 1.22, 1.19, 1.21, 1.2, 1.2]), margin: 0.05, noise: 0)
    #expect(worse.label == .regressed)
    #expect(abs(PairedResult.percent(try #require(worse.meanLogRatio)) - 20) < 0.5)
    #expect(worse.losses == 7)
    // 20% better: improved, and non-inferior.
    let better = PairedStatistics.analyse(observations([0.8, 0.82, 0.79, 0.81, 0.8, 0.8]), margin: 0.05, noise: 0)
    #expect(better.label == .improved)
    #expect(better.nonInferior)
    // Identical arms: every y is 0, the interval is [0, 0]: equivalent, all ties.
    let same = PairedStatistics.analyse(observations([1, 1, 1, 1, 1, 1]), margin: 0.05, noise: 0)
    #expect(same.label == .equivalent)
    #expect(same.ties == 6)
    // Wide scatter around zero: inconclusive.
    let noisy = PairedStatistics.analyse(observations([0.6, 1.5, 0.7, 1.4, 0.8, 1.3]), margin: 0.05, noise: 0)
    #expect(noisy.label == .inconclusive)
    // Five clips cannot reach α = 0.05 with a sign-flip test.
    let few = PairedStatistics.analyse(observations([0.5, 0.5, 0.5, 0.5, 0.5]), margin: 0.05, noise: 0)
    #expect(few.label == .inconclusive)
    #expect(few.note?.contains("insufficient clips") == true)
  }

  @Test func tIntervalByHand() throws {
    // y = ln 2 · [1, 2, 3, 4, 5, 6]: mean 3.5·ln 2, sd √3.5·ln 2, t(0.975, 5) = 2.570582.
    let ratios = (1...6).map { pow(2.0, Double($0)) }
    let r = PairedStatistics.analyse(observations(ratios), margin: 0.05, noise: 0)
    let l2 = log(2.0)
    let half = 2.570582 * (3.5).squareRoot() / (6.0).squareRoot() * l2
    let ci = try #require(r.ci95)
    #expect(abs(ci.lowerBound - (3.5 * l2 - half)) < 1e-5)
    #expect(abs(ci.upperBound - (3.5 * l2 + half)) < 1e-5)
  }

  @Test func gateExitCodes() {
    let policy = GatePolicy(
      primaries: [Endpoint(region: "hair", metric: "Grad")], margin: 0.05, noise: 0, worstClipMargin: 0.25, minClips: 6)
    let hair = Endpoint(region: "hair", metric: "Grad")
    let pass = PairedStatistics.analyse(observations([0.9, 0.92, 0.91, 0.9, 0.93, 0.9]), margin: 0.05, noise: 0)
    #expect(Gate.decide(results: [hair: pass], policy: policy, pipelineErrors: []).exitCode == 0)
    #expect(Gate.decide(results: [hair: pass], policy: policy, pipelineErrors: ["clip x failed"]).exitCode == 1)
    let worse = PairedStatistics.analyse(observations([1.2, 1.21, 1.19, 1.2, 1.22, 1.2]), margin: 0.05, noise: 0)
    #expect(Gate.decide(results: [hair: worse], policy: policy, pipelineErrors: []).exitCode == 2)
    // A good mean with one broken clip (+60%) trips the worst-clip guard.
    let broken = PairedStatistics.analyse(observations([0.7, 0.7, 0.7, 0.7, 0.7, 1.6]), margin: 0.05, noise: 0)
    let guarded = Gate.decide(results: [hair: broken], policy: policy, pipelineErrors: [])
    #expect(guarded.exitCode == 2)
    #expect(guarded.reasons.contains { $0.contains("clip 'c5'") })
    let few = PairedStatistics.analyse(observations([0.9, 0.9]), margin: 0.05, noise: 0)
    #expect(Gate.decide(results: [hair: few], policy: policy, pipelineErrors: []).exitCode == 3)
    // A misaligned clip never lets the gate pass, but a regression still says regression.
    let misaligned = Gate.decide(
      results: [hair: pass], policy: policy, pipelineErrors: [], inconclusiveClips: ["clip 'c9': misaligned"])
    #expect(misaligned.exitCode == 3 && misaligned.reasons == ["clip 'c9': misaligned"])
    #expect(
      Gate.decide(results: [hair: worse], policy: policy, pipelineErrors: [], inconclusiveClips: ["c9"]).exitCode == 2)
  }
}

@Suite struct SignTestTests {
  /// Worked by hand: n = 10, 9 against 1 → 2·(C(10,0) + C(10,1))/2¹⁰ = 2·11/1024.
  @Test func nineAgainstOne() {
    #expect(abs(SignTest.twoSided(wins: 9, losses: 1) - 22.0 / 1024) < 1e-12)
    #expect(abs(SignTest.twoSided(wins: 1, losses: 9) - 22.0 / 1024) < 1e-12)
  }

  /// n = 5, 5 against 0 → 2/32; 3 against 2 → 2·(1 + 5 + 10)/32 = 1 (capped); none → 1.
  @Test func smallCounts() {
    #expect(abs(SignTest.twoSided(wins: 5, losses: 0) - 0.0625) < 1e-12)
    #expect(SignTest.twoSided(wins: 3, losses: 2) == 1)
    #expect(SignTest.twoSided(wins: 0, losses: 0) == 1)
  }

  /// Above 1000 votes the sum goes through log-gamma: 0 against 1001 is 2·2⁻¹⁰⁰¹ = 2⁻¹⁰⁰⁰.
  @Test func manyVotes() {
    let p = SignTest.twoSided(wins: 0, losses: 1001)
    #expect(abs(p / pow(2, -1000) - 1) < 1e-9)
    #expect(SignTest.twoSided(wins: 501, losses: 500) == 1)
  }

  /// n = 20, 15 against 5: 2·Σ_{k≤5} C(20,k)/2²⁰ = 2·(1+20+190+1140+4845+15504)/1048576 = 43400/1048576.
  @Test func twentyVotes() {
    #expect(abs(SignTest.twoSided(wins: 15, losses: 5) - 43400.0 / 1_048_576) < 1e-12)
  }
}
