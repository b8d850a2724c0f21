import Foundation
import MatteMetrics
import Synchronization

/// The simulation behind the choice of decision interval (`mattegate bench coverage`): A/A
/// per-clip log-ratios (true centre 0) drawn from heavy-tailed laws, one with a dominant clip,
/// and the share of simulated clip sets whose 95% and 90% intervals cover 0, for the sign-flip
/// inversion the gate uses and, for comparison, the t interval and the BCa bootstrap. A second
/// table gives the gate's error rates on one endpoint: how often rollout calls B non-inferior
/// when the true change is exactly the margin (a false pass, at most 5% by design) or zero
/// (its power), and how often alarm mode fires when nothing changed or when B is 10% worse.
public enum CoverageSimulation {
  /// A law for the per-clip log-ratios.
  public enum Scenario: String, CaseIterable, Sendable {
    case normal = "normal"
    case heavy = "t3"
    case dominant = "t3, one clip ×10"
    case cauchyDominant = "t1 (Cauchy), one clip ×10"

    /// n draws centred on 0 with spread about `scale`.
    func draw(_ n: Int, scale: Double, rng: inout SplitMix64) -> [Double] {
      (0..<n).map { i in
        let big = (self == .dominant || self == .cauchyDominant) && i == 0 ? 10.0 : 1.0
        return scale * big * Self.variate(self, rng: &rng)
      }
    }

    static func variate(_ s: Scenario, rng: inout SplitMix64) -> Double {
      switch s {
      case .normal: return gaussian(&rng)
      case .heavy, .dominant: return studentT(3, &rng)
      case .cauchyDominant: return studentT(1, &rng)
      }
    }
  }

  public struct Row: Sendable {
    public var scenario: Scenario
    public var clips: Int
    public var sets: Int
    /// Coverage of 0 in percent: (95%, 90%) for each method.
    public var signFlip: (Double, Double)
    public var t: (Double, Double)
    public var bca: (Double, Double)
  }

  public struct RateRow: Sendable {
    public var scenario: Scenario
    public var clips: Int
    public var sets: Int
    /// Percent of sets labelled non-inferior when the true change is +margin (false pass).
    public var falsePass: Double
    /// Percent labelled non-inferior when the true change is 0 (rollout's power).
    public var passAtZero: Double
    /// Percent labelled Inferior or Regressed when the true change is 0 (alarm's false alarms).
    public var falseAlarm: Double
    /// Percent labelled Inferior or Regressed when B is 10% worse (alarm's power).
    public var alarmAtTen: Double
  }

  public static let clipCounts = [6, 8, 10, 15, 25, 50]
  /// Spread of the log-ratios: a 5% typical difference between arms per clip.
  public static let scale = 0.05

  /// Coverage of 0 by each method, `sets` simulated A/A clip sets per (scenario, n).
  public static func coverage(sets: Int, seed: UInt64, clips: [Int] = clipCounts, bcaResamples: Int = 10_000) -> [Row] {
    var rows: [Row] = []
    for scenario in Scenario.allCases {
      for n in clips {
        let h = tally(scenario, clips: n, sets: sets, seed: seed, salt: 1000, counters: 6) { y, setSeed, count in
          if let i = SignFlipInterval.intervals(y, levels: [0.95, 0.90], seed: setSeed) {
            count[0] += i[0].contains(0) ? 1 : 0
            count[1] += i[1].contains(0) ? 1 : 0
          }
          let t = tIntervals(y)
          count[2] += t[0].contains(0) ? 1 : 0
          count[3] += t[1].contains(0) ? 1 : 0
          if let b = BCaBootstrap.intervals(
            y, levels: [0.95, 0.90], resamples: bcaResamples, seed: setSeed,
            statistic: { $0.reduce(0, +) / Double($0.count) })
          {
            count[4] += b[0].contains(0) ? 1 : 0
            count[5] += b[1].contains(0) ? 1 : 0
          }
        }
        rows.append(
          Row(scenario: scenario, clips: n, sets: sets, signFlip: (h[0], h[1]), t: (h[2], h[3]), bca: (h[4], h[5])))
      }
    }
    return rows
  }

  /// The labels' error rates on one endpoint with a 5% margin and no noise band (the default
  /// gate), `sets` simulated clip sets per (scenario, n).
  public static func rates(sets: Int, seed: UInt64, clips: [Int] = [6, 8, 10, 15, 25]) -> [RateRow] {
    let margin = 0.05
    // The true change: exactly the margin, none, and B 10% worse.
    let shifts = [log(1 + margin), 0, log(1.10)]
    var rows: [RateRow] = []
    for scenario in Scenario.allCases {
      for n in clips {
        let c = tally(scenario, clips: n, sets: sets, seed: seed, salt: 7919, counters: 4) { y, setSeed, count in
          for (k, shift) in shifts.enumerated() {
            // ln(b/a) = y + shift, split between the arms and clamped to ±30 so that Cauchy
            // draws stay finite and far above ε (the clamp is symmetric: the law stays centred).
            let obs = y.enumerated().map {
              let v = min(max($0.element + shift, -30), 30)
              return PairedObservation(clipID: "c\($0.offset)", a: 1000 * exp(-v / 2), b: 1000 * exp(v / 2))
            }
            let r = PairedStatistics.analyse(
              obs, margin: margin, noise: 0, minClips: 1, seed: setSeed, planClips: false)
            let fires = r.label == .inferior || r.label == .regressed
            switch k {
            case 0: count[0] += r.nonInferior ? 1 : 0
            case 1:
              count[1] += r.nonInferior ? 1 : 0
              count[2] += fires ? 1 : 0
            default: count[3] += fires ? 1 : 0
            }
          }
        }
        rows.append(
          RateRow(
            scenario: scenario, clips: n, sets: sets, falsePass: c[0], passAtZero: c[1], falseAlarm: c[2],
            alarmAtTen: c[3]))
      }
    }
    return rows
  }

  /// Draws `sets` clip sets of n log-ratios from `scenario` (in 8 seeded chunks spread over the
  /// cores; `salt` keeps the two tables' draws apart), hands each to `body` with its own seed
  /// and `counters` counts to raise, and returns each count as a percent of the sets.
  static func tally(
    _ scenario: Scenario, clips n: Int, sets: Int, seed: UInt64, salt: Int, counters: Int,
    _ body: @Sendable (_ y: [Double], _ setSeed: UInt64, _ count: inout [Int]) -> Void
  ) -> [Double] {
    let totals = Mutex([Int](repeating: 0, count: counters))
    let chunks = 8
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
      var local = [Int](repeating: 0, count: counters)
      var rng = SplitMix64(seed: seed ^ UInt64(n * salt + chunk) ^ UInt64(scenario.rawValue.hashValueStable))
      for s in stride(from: chunk, to: sets, by: chunks) {
        body(scenario.draw(n, scale: scale, rng: &rng), seed &+ UInt64(s), &local)
      }
      totals.withLock { for k in 0..<counters { $0[k] += local[k] } }
    }
    return totals.withLock { $0 }.map { 100 * Double($0) / Double(sets) }
  }

  /// The t intervals (95%, 90%) on the mean.
  static func tIntervals(_ y: [Double]) -> [ClosedRange<Double>] {
    let n = Double(y.count)
    let mean = y.reduce(0, +) / n
    let sd = PairedStatistics.standardDeviation(y, mean: mean)
    let se = sd / n.squareRoot()
    return [0.975, 0.95].map { q in
      let t = StudentT.quantile(q, df: n - 1)
      return (mean - t * se)...(mean + t * se)
    }
  }

  /// A Markdown table of coverage, with whether the decision interval is within 1.5 points of
  /// nominal at both levels.
  public static func coverageTable(_ rows: [Row]) -> String {
    var t =
      "| law of y (A/A) | clips | sets | sign-flip 95% | sign-flip 90% | within 1.5 pt | t 95% | t 90% | BCa 95% | BCa 90% |\n"
    t += "|---|---:|---:|---:|---:|:---:|---:|---:|---:|---:|\n"
    for r in rows {
      let ok = abs(r.signFlip.0 - 95) <= 1.5 && abs(r.signFlip.1 - 90) <= 1.5
      t +=
        "| \(r.scenario.rawValue) | \(r.clips) | \(r.sets) | \(f(r.signFlip.0)) | \(f(r.signFlip.1)) | \(ok ? "yes" : "NO") | \(f(r.t.0)) | \(f(r.t.1)) | \(f(r.bca.0)) | \(f(r.bca.1)) |\n"
    }
    return t
  }

  /// A Markdown table of the gate's error rates.
  public static func ratesTable(_ rows: [RateRow]) -> String {
    var t =
      "| law of y | clips | sets | rollout: non-inferior at +5% (false pass) | rollout: non-inferior at 0 | alarm: fires at 0 | alarm: fires at +10% |\n"
    t += "|---|---:|---:|---:|---:|---:|---:|\n"
    for r in rows {
      t +=
        "| \(r.scenario.rawValue) | \(r.clips) | \(r.sets) | \(f(r.falsePass)) | \(f(r.passAtZero)) | \(f(r.falseAlarm)) | \(f(r.alarmAtTen)) |\n"
    }
    return t
  }

  static func f(_ v: Double) -> String { String(format: "%.1f%%", v) }

  static func gaussian(_ rng: inout SplitMix64) -> Double {
    // Box–Muller on (0, 1] uniforms.
    let u1 = 1 - rng.uniform(0, 1)
    let u2 = rng.uniform(0, 1)
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
  }

  /// Student's t with `df` degrees of freedom: Z / √(χ²_df / df).
  static func studentT(_ df: Int, _ rng: inout SplitMix64) -> Double {
    let z = gaussian(&rng)
    var chi = 0.0
    for _ in 0..<df {
      let g = gaussian(&rng)
      chi += g * g
    }
    return z / (chi / Double(df)).squareRoot()
  }
}

extension String {
  /// A hash that is the same in every process (Swift's `hashValue` is seeded per process).
  var hashValueStable: UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
  }
}
