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
    // B is 20% worse everywhere, with a little spread: the 90% interval lies above +5%.
    let worse = PairedStatistics.analyse(observations([1.18, 1.2, 1.22, 1.19, 1.21, 1.2, 1.2]), margin: 0.05, noise: 0)
    #expect(worse.label == .inferior)
    #expect(abs(PairedResult.percent(try #require(worse.meanLogRatio)) - 20) < 0.5)
    #expect(worse.losses == 7)
    // 20% better: improved (p = 2/64), and non-inferior.
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
    // Five clips: 2⁵·2.5% < 1, no 95% interval exists.
    let few = PairedStatistics.analyse(observations([0.5, 0.5, 0.5, 0.5, 0.5]), margin: 0.05, noise: 0)
    #expect(few.label == .inconclusive)
    #expect(few.note == "insufficient clips (n = 5, need ≥ 6)")
    // 3% worse on six clips: significant (p = 2/64) yet inside the 5% margin.
    let within = PairedStatistics.analyse(
      observations([1.03, 1.031, 1.029, 1.03, 1.032, 1.03]), margin: 0.05, noise: 0)
    #expect(within.label == .regressed && within.nonInferior)
    #expect(within.warning == "worse, within margin")
  }

  @Test func aConfidentRegressionNeedsNoQuorumButAPassDoes() {
    // Seven clips, min_clips 8: 18% worse is still Inferior; 18% better cannot pass.
    let worse = PairedStatistics.analyse(
      observations([1.17, 1.18, 1.19, 1.18, 1.17, 1.19, 1.18]), margin: 0.05, noise: 0, minClips: 8)
    #expect(worse.label == .inferior)
    let better = PairedStatistics.analyse(
      observations([0.82, 0.83, 0.81, 0.82, 0.82, 0.83, 0.81]), margin: 0.05, noise: 0, minClips: 8)
    #expect(better.label == .inconclusive && !better.nonInferior)
    #expect(better.note == "insufficient clips (n = 7, need ≥ 8)")
  }

  @Test func signFlipIntervalByHand() throws {
    // y = [1, 2, 3]: subset means 1, 1.5, 2, 2, 2, 2.5, 3 of 2³ = 8 patterns.
    // 75%: tail 8·0.125 = 1 → [1, 3]; 50%: tail 2 → [1.5, 2.5]; 62.5%: tail 1.5, halfway
    // between the first and second → [1.25, 2.75].
    let i = try #require(SignFlipInterval.intervals([1, 2, 3], levels: [0.75, 0.5, 0.625]))
    #expect(i[0] == 1...3)
    #expect(i[1] == 1.5...2.5)
    #expect(i[2] == 1.25...2.75)
    #expect(SignFlipInterval.intervals([1, 2], levels: [0.75]) == nil)
    #expect(SignFlipInterval.clipsNeeded(level: 0.95) == 6 && SignFlipInterval.clipsNeeded(level: 0.90) == 5)
    // y = ln 2 · [1 … 6], 64 patterns. 95%: tail 1.6 → between the smallest subset mean (1)
    // and the next ({1, 2}: 1.5): 1.3; from the top 6 and 5.5: 5.7. 90%: tail 3.2 → the
    // third and fourth smallest are both 2 ({2}, {1, 3}), the third and fourth largest 5.
    let r = PairedStatistics.analyse(observations((1...6).map { pow(2.0, Double($0)) }), margin: 0.05, noise: 0)
    let l2 = log(2.0)
    let ci95 = try #require(r.ci95)
    let ci90 = try #require(r.ci90)
    // (ε = 1e-9 in ln((b + ε)/(a + ε)) moves y by less than 1e-10.)
    #expect(abs(ci95.lowerBound - 1.3 * l2) < 1e-9 && abs(ci95.upperBound - 5.7 * l2) < 1e-9, "\(ci95)")
    #expect(abs(ci90.lowerBound - 2 * l2) < 1e-9 && abs(ci90.upperBound - 5 * l2) < 1e-9, "\(ci90)")
    #expect(r.intervalMethod == "sign-flip inversion (exact, 64 sign patterns)")
  }

  @Test func monteCarloIntervalAboveSixteenClips() throws {
    // 25 clips symmetric about 0.1: the Monte Carlo inversion is centred there (within its
    // sampling error) and lies inside the data's range; constant data give a point.
    let y = (0..<25).map { 0.1 + 0.01 * Double($0 - 12) }
    let i = try #require(SignFlipInterval.intervals(y, levels: [0.95], seed: 5)).first!
    #expect(i.lowerBound > y.min()! && i.upperBound < y.max()!)
    #expect(abs((i.lowerBound + i.upperBound) / 2 - 0.1) < 0.002)
    #expect(i.lowerBound < 0.1 - 0.02 && i.upperBound > 0.1 + 0.02)
    let flat = try #require(SignFlipInterval.intervals([Double](repeating: 0.3, count: 20), levels: [0.9]))
    #expect(abs(flat[0].lowerBound - 0.3) < 1e-12 && abs(flat[0].upperBound - 0.3) < 1e-12)
    #expect(SignFlipInterval.method(clips: 25) == "sign-flip inversion (Monte Carlo, 20000 sign patterns)")
  }

  @Test func attainableClipsUnderHolm() {
    // k·2/2ⁿ ≤ 0.05: one primary 6 (2/64), three 7 (6/128), five 8 (10/256 = 0.039; 10/128 = 0.078).
    #expect(PairedStatistics.attainableClips(endpoints: 1, alpha: 0.05) == 6)
    #expect(PairedStatistics.attainableClips(endpoints: 3, alpha: 0.05) == 7)
    #expect(PairedStatistics.attainableClips(endpoints: 5, alpha: 0.05) == 8)
    #expect(PairedStatistics.attainableClips(endpoints: 5, alpha: 0.01) == 10)
  }

  @Test func gateModesAndExitCodes() {
    let hair = Endpoint(region: "hair", metric: "Grad")
    var rollout = GatePolicy(primaries: [hair], margin: 0.05, noise: 0, worstClipMargin: 0.25, minClips: 6)
    var alarm = rollout
    alarm.mode = .alarm
    rollout.mode = .rollout
    func both(_ r: PairedResult, errors: [String] = [], misaligned: [String] = []) -> (Int32, Int32) {
      let clips = misaligned.map { "clip '\($0)': misaligned" }
      return (
        Gate.decide(
          results: [hair: r], policy: rollout, pipelineErrors: errors, misalignedClips: misaligned,
          inconclusiveClips: clips
        ).exitCode,
        Gate.decide(
          results: [hair: r], policy: alarm, pipelineErrors: errors, misalignedClips: misaligned,
          inconclusiveClips: clips
        ).exitCode
      )
    }
    let pass = PairedStatistics.analyse(observations([0.9, 0.92, 0.91, 0.9, 0.93, 0.9]), margin: 0.05, noise: 0)
    #expect(both(pass) == (0, 0))
    #expect(both(pass, errors: ["clip x failed"]) == (1, 1))
    let worse = PairedStatistics.analyse(observations([1.2, 1.21, 1.19, 1.2, 1.22, 1.2]), margin: 0.05, noise: 0)
    #expect(worse.label == .inferior)
    #expect(both(worse) == (2, 2))
    // Significantly worse, inside the margin: rollout passes with the warning, alarm fails.
    let within = PairedStatistics.analyse(
      observations([1.03, 1.031, 1.029, 1.03, 1.032, 1.03]), margin: 0.05, noise: 0)
    #expect(both(within) == (0, 2))
    let warned = Gate.decide(results: [hair: within], policy: rollout, pipelineErrors: [])
    #expect(warned.reasons.count == 1 && warned.reasons[0].contains("worse, within margin"))
    #expect(warned.summary.contains("PASS (rollout)") && warned.summary.contains("1 warning"))
    // A good mean with one broken clip (+60%) trips the worst-clip guard in both modes.
    let broken = PairedStatistics.analyse(observations([0.7, 0.7, 0.7, 0.7, 0.7, 1.6]), margin: 0.05, noise: 0)
    let guarded = Gate.decide(results: [hair: broken], policy: rollout, pipelineErrors: [])
    #expect(guarded.exitCode == 2)
    #expect(guarded.reasons.contains { $0.contains("clip 'c5'") })
    #expect(both(broken).1 == 2)
    // Two clips: no interval, inconclusive in both.
    let few = PairedStatistics.analyse(observations([0.9, 0.9]), margin: 0.05, noise: 0)
    #expect(both(few) == (3, 3))
    // Wide scatter (no clip past the guard): rollout cannot show non-inferiority; alarm finds
    // nothing to call.
    let noisy = PairedStatistics.analyse(observations([0.85, 1.2, 0.9, 1.15, 0.95, 1.1]), margin: 0.05, noise: 0)
    #expect(both(noisy) == (3, 0))
    // A misaligned clip never lets the gate pass, but a regression still says regression; the
    // summary counts primaries and clips apart.
    let misaligned = Gate.decide(
      results: [hair: pass], policy: rollout, pipelineErrors: [], misalignedClips: ["c9", "c10", "c11"],
      inconclusiveClips: ["clip 'c9': misaligned"])
    #expect(misaligned.exitCode == 3)
    #expect(
      misaligned.summary
        == "INCONCLUSIVE (rollout): non-inferiority not shown on 0 primary endpoints; 3 misaligned (c9, c10, c11)")
    #expect(both(worse, misaligned: ["c9"]) == (2, 2))
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
