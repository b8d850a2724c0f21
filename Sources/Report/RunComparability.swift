import Foundation
public import Store
import Verdict

/// What stands between two runs and a fair comparison of their estimates: a different clip set,
/// different or swapped arms, an A/A calibration, a different gate or provider. `compare` lists
/// every difference and withholds the change between the runs when it would mean nothing.
public struct RunComparability: Sendable, Equatable {
  /// One sentence per difference, in a fixed order (clip set, arms, gate, provider).
  public var notes: [String] = []
  /// Why the change between the runs is not shown (arms swapped, arm A differs, an A/A run),
  /// or nil when it is.
  public var changeWithheld: String?

  public init(_ one: RunRecord, _ two: RunRecord) {
    if one.clipsetSHA256 != two.clipsetSHA256 {
      notes.append(
        "Clip sets differ: run 1 used '\(one.clipsetName)' (manifest \(one.clipsetSHA256.prefix(12))…), run 2 '\(two.clipsetName)' (manifest \(two.clipsetSHA256.prefix(12))…); their estimates are not over the same clips."
      )
    }
    let calibrations = [(1, one), (2, two)].filter { $0.1.configAHash == $0.1.configBHash }.map(\.0)
    if !calibrations.isEmpty {
      let which = calibrations.map { "run \($0)" }.joined(separator: " and ")
      notes.append(
        "\(which.prefix(1).uppercased() + which.dropFirst()) compare\(calibrations.count == 1 ? "s" : "") a config with itself (an A/A calibration): \(calibrations.count == 1 ? "its" : "their") estimates are noise, not a change."
      )
      changeWithheld = "\(which) \(calibrations.count == 1 ? "is an A/A calibration" : "are A/A calibrations")"
    } else if one.configAHash == two.configBHash && one.configBHash == two.configAHash {
      notes.append(
        "The arms are swapped: run 2's A is run 1's B ('\(one.configBName)') and its B is run 1's A ('\(one.configAName)'), so its estimates have the opposite sign."
      )
      changeWithheld = "the arms are swapped"
    } else {
      if one.configAHash != two.configAHash {
        notes.append(
          "Arm A differs: run 1 measured B against '\(one.configAName)' (settings \(one.configAHash.prefix(12))…), run 2 against '\(two.configAName)' (settings \(two.configAHash.prefix(12))…); the runs have different baselines."
        )
        changeWithheld = "arm A differs"
      }
      if one.configBHash != two.configBHash {
        notes.append(
          "Arm B differs: run 1's candidate is '\(one.configBName)', run 2's '\(two.configBName)'; a change is between two candidates."
        )
      }
    }
    if one.gateText != two.gateText {
      let fields = Self.fields(one.gateText)
      let others = Self.fields(two.gateText)
      let keys = Set(fields.keys).union(others.keys).filter { fields[$0] != others[$0] }.sorted()
      notes.append(
        "The gates differ ("
          + keys.map { "\($0): \(fields[$0] ?? "unset") then \(others[$0] ?? "unset")" }.joined(separator: "; ")
          + "): verdicts and primaries may differ for that reason alone.")
    }
    let providers = (one.providerIdentity ?? one.provider, two.providerIdentity ?? two.provider)
    if providers.0 != providers.1 {
      notes.append("The providers differ: '\(providers.0)' then '\(providers.1)'.")
    }
  }

  static func fields(_ text: String) -> [String: String] {
    var out: [String: String] = [:]
    for line in text.split(separator: "\n") {
      guard let eq = line.firstIndex(of: "=") else { continue }
      out[String(line[..<eq])] = String(line[line.index(after: eq)...])
    }
    return out
  }

  /// Clip by clip, each endpoint's B vs A (percent) in both runs, for the clips both runs
  /// scored from the same source bytes, in run 1's order.
  public static func lineup(
    clips one: [ClipRecord], _ two: [ClipRecord], metrics oneMetrics: [ClipMetricRecord],
    _ twoMetrics: [ClipMetricRecord], endpoints: [(region: String, metric: String)]
  ) -> [(clip: String, cells: [(one: Double?, two: Double?)])] {
    let sources = Dictionary(two.map { ($0.clipID, $0.sha256) }, uniquingKeysWith: { x, _ in x })
    func percents(_ records: [ClipMetricRecord]) -> [String: Double] {
      var values: [String: Double] = [:]
      for r in records { if let v = r.value { values["\(r.clipID)/\(r.arm)/\(r.region)/\(r.metric)"] = v } }
      var out: [String: Double] = [:]
      for r in records where r.arm == "A" {
        let key = "\(r.clipID)/\(r.region)/\(r.metric)"
        guard let a = values["\(r.clipID)/A/\(r.region)/\(r.metric)"],
          let b = values["\(r.clipID)/B/\(r.region)/\(r.metric)"]
        else { continue }
        out[key] = (exp(PairedObservation(clipID: r.clipID, a: a, b: b).logRatio) - 1) * 100
      }
      return out
    }
    let p1 = percents(oneMetrics)
    let p2 = percents(twoMetrics)
    return one.filter { sources[$0.clipID] == $0.sha256 }.map { c in
      (
        c.clipID,
        endpoints.map { e in (p1["\(c.clipID)/\(e.region)/\(e.metric)"], p2["\(c.clipID)/\(e.region)/\(e.metric)"]) }
      )
    }
  }
}
