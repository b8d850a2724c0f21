import Foundation
import Store
import Testing

@testable import Report

/// Compare and history that cannot mislead (issue 28, item 5): every difference between two runs
/// is named, the change is withheld where it would mean nothing, clips line up one by one, and
/// history keeps A/A calibrations, arm pairs, clip sets and gate modes apart.
@Suite struct RunComparabilityTests {
  static let gate =
    "mode=rollout\nprimaries=hair/Grad\nmargin=0.05\nmargins=\nnoise=0.0\nnoise_bands=\nalpha=0.05\nworst_clip_margin=0.25\nmin_clips=8"

  static func run(
    _ id: String, a: String, b: String, clipset: String = "m1", gate: String = gate, provider: String = "local"
  ) -> RunRecord {
    RunRecord(
      id: id, createdAt: Date(timeIntervalSince1970: 0), status: "completed", clipsetName: "set-" + clipset,
      clipsetFolder: "f", clipsetSHA256: clipset, configAName: a, configAHash: "hash-" + a, configAText: "t",
      configBName: b, configBHash: "hash-" + b, configBText: "t", provider: provider, harnessVersion: "1",
      metricsVersion: "1", regionsVersion: "1", gateText: gate, seed: 1)
  }

  @Test func likeForLikeRunsHaveNothingToSay() {
    let c = RunComparability(Self.run("r1", a: "base", b: "cand"), Self.run("r2", a: "base", b: "cand"))
    #expect(c.notes.isEmpty && c.changeWithheld == nil)
  }

  @Test func swappedArmsWithholdTheChange() {
    let c = RunComparability(Self.run("r1", a: "base", b: "cand"), Self.run("r2", a: "cand", b: "base"))
    #expect(c.changeWithheld == "the arms are swapped")
    #expect(
      c.notes == [
        "The arms are swapped: run 2's A is run 1's B ('cand') and its B is run 1's A ('base'), so its estimates have the opposite sign."
      ])
  }

  @Test func aDifferentBaselineWithholdsTheChangeAndADifferentCandidateIsNamed() {
    let a = RunComparability(Self.run("r1", a: "base", b: "cand"), Self.run("r2", a: "old", b: "cand"))
    #expect(a.changeWithheld == "arm A differs")
    #expect(a.notes.count == 1 && a.notes[0].hasPrefix("Arm A differs: run 1 measured B against 'base'"))
    let b = RunComparability(Self.run("r1", a: "base", b: "cand"), Self.run("r2", a: "base", b: "other"))
    #expect(b.changeWithheld == nil)
    #expect(
      b.notes == ["Arm B differs: run 1's candidate is 'cand', run 2's 'other'; a change is between two candidates."])
  }

  @Test func calibrationsClipSetsGatesAndProvidersAreNamed() {
    let c = RunComparability(
      Self.run("r1", a: "base", b: "base", clipset: "m1"),
      Self.run(
        "r2", a: "base", b: "cand", clipset: "m2",
        gate: Self.gate.replacingOccurrences(of: "margin=0.05", with: "margin=0.1").replacingOccurrences(
          of: "mode=rollout", with: "mode=alarm"), provider: "http"))
    #expect(c.changeWithheld == "run 1 is an A/A calibration")
    #expect(c.notes.count == 4)
    #expect(c.notes[0].hasPrefix("Clip sets differ: run 1 used 'set-m1' (manifest m1…), run 2 'set-m2'"))
    #expect(c.notes[1].hasPrefix("Run 1 compares a config with itself (an A/A calibration)"))
    #expect(
      c.notes[2]
        == "The gates differ (margin: 0.05 then 0.1; mode: rollout then alarm): verdicts and primaries may differ for that reason alone."
    )
    #expect(c.notes[3] == "The providers differ: 'local' then 'http'.")
  }

  /// Per clip B vs A by hand: run 1 A=2, B=1 → −50 %; run 2 A=1, B=3 → +200 %. A clip whose
  /// source differs in run 2 is left out; a clip missing a value shows none.
  @Test func clipsLineUpOneByOne() throws {
    func clip(_ run: String, _ id: String, _ sha: String) -> ClipRecord {
      ClipRecord(runID: run, clipID: id, sha256: sha, tags: "", status: "scored", frames: 4)
    }
    func value(_ clip: String, _ arm: String, _ v: Double?) -> ClipMetricRecord {
      ClipMetricRecord(
        clipID: clip, arm: arm, region: "hair", metric: "Grad", value: v, errorSum: 0, pixels: 1, frames: 1)
    }
    let rows = RunComparability.lineup(
      clips: [clip("r1", "c1", "s1"), clip("r1", "c2", "s2"), clip("r1", "c3", "s3")],
      [clip("r2", "c1", "s1"), clip("r2", "c2", "other"), clip("r2", "c3", "s3")],
      metrics: [value("c1", "A", 2), value("c1", "B", 1), value("c3", "A", 1), value("c3", "B", 1)],
      [value("c1", "A", 1), value("c1", "B", 3), value("c3", "A", nil), value("c3", "B", 1)],
      endpoints: [(region: "hair", metric: "Grad")])
    #expect(rows.map(\.clip) == ["c1", "c3"])
    let c1 = try #require(rows.first?.cells.first)
    let one = try #require(c1.one)
    let two = try #require(c1.two)
    #expect(abs(one - -50) < 1e-6 && abs(two - 200) < 1e-6)
    #expect(rows[1].cells[0].one == 0 && rows[1].cells[0].two == nil)
  }

  @Test func comparePageShowsTheDifferencesAndWithholdsAMeaninglessChange() {
    func comparison(_ estimate: Double) -> ComparisonRecord {
      ComparisonRecord(
        region: "hair", metric: "Grad", isPrimary: true, clips: 8, estimatePercent: estimate,
        ciLowPercent: estimate - 1,
        ciHighPercent: estimate + 1, ciLevel: 0.95, pValue: 0.01, hodgesLehmannPercent: estimate, wins: 8, ties: 0,
        losses: 0, marginPercent: 5, noisePercent: 0, verdict: "Improved", note: nil)
    }
    let swapped = ServedPages.compare(
      Self.run("r1", a: "base", b: "cand"), [comparison(-20)], Self.run("r2", a: "cand", b: "base"), [comparison(25)])
    #expect(swapped.contains("The change between the runs is not shown: the arms are swapped."))
    #expect(swapped.contains("<th scope=\"row\">hair/Grad"))
    #expect(swapped.contains("<td class=\"num\" data-v=\"\">–</td>"))
    let fair = ServedPages.compare(
      Self.run("r1", a: "base", b: "cand"), [comparison(-20)], Self.run("r2", a: "base", b: "cand"), [comparison(-5)],
      lineup: ServedPages.Lineup(
        endpoints: [(region: "hair", metric: "Grad")], rows: [(clip: "c1", cells: [(one: -50, two: 200)])]))
    #expect(!fair.contains("Not like for like"))
    #expect(fair.contains("data-v=\"15\">+15.0</td>"))
    #expect(fair.contains("<h2>Clip by clip</h2>") && fair.contains("<th scope=\"row\">c1</th>"))
    #expect(fair.contains("data-v=\"-50\">−50.0%</td>") || fair.contains("data-v=\"-50\">-50.0%</td>"))
  }

  /// History draws A/B runs by default and the A/A calibrations apart; filters by clip set, arm
  /// pair and gate mode; marks each point primary or not by its own run's gate.
  @Test func historyKeepsCalibrationsArmsClipSetsAndModesApart() {
    func row(_ id: String, a: String, b: String, clipset: String = "std", mode: String = "rollout", primary: Bool)
      -> EndpointHistoryRow
    {
      var r = EndpointHistoryRow(
        runID: id, createdAt: Date(timeIntervalSince1970: 0), configA: a, configB: b, clips: 8, estimatePercent: -3,
        ciLowPercent: -4, ciHighPercent: -2, verdict: "Improved")
      r.clipset = clipset
      r.isPrimary = primary
      r.configAHash = "h-" + a
      r.configBHash = "h-" + b
      r.gateText = Self.gate.replacingOccurrences(of: "mode=rollout", with: "mode=\(mode)")
      return r
    }
    let rows = [
      row("ab1", a: "base", b: "cand", primary: true), row("ab2", a: "base", b: "soft", primary: false),
      row("cal", a: "base", b: "base", primary: true), row("night", a: "base", b: "cand", mode: "alarm", primary: true),
      row("other", a: "base", b: "cand", clipset: "demo", primary: true),
    ]
    func shown(_ f: ServedPages.HistoryFilter) -> [String] {
      let page = ServedPages.history([(region: "hair", metric: "Grad", rows: rows)], filter: f)
      return page.components(separatedBy: "<a href=\"/runs/").dropFirst().map { String($0.prefix { $0 != "/" }) }
    }
    #expect(shown(.init()) == ["ab1", "ab2", "night", "other"])
    #expect(shown(.init(calibrations: true)) == ["cal"])
    #expect(shown(.init(clipset: "std", arms: "base → cand")) == ["ab1", "night"])
    #expect(shown(.init(mode: "alarm")) == ["night"])
    let page = ServedPages.history([(region: "hair", metric: "Grad", rows: rows)], filter: .init(clipset: "std"))
    #expect(page.contains("aria-label=\"hair/Grad over 3 runs\""))
    #expect(page.contains("primary in 2 of 3"))
    #expect(
      page.contains("<g class=\"pt good secondary\"><title>ab2: base → soft, −3.0%, Improved (secondary)</title>")
        || page.contains("<g class=\"pt good secondary\"><title>ab2: base → soft, -3.0%, Improved (secondary)</title>"))
    #expect(page.contains(">B vs A (%)</text>") && page.contains(">runs, oldest → newest</text>"))
    #expect(page.contains("<a href=\"/history?clipset=std&amp;calibrations=1\">A/A calibrations (1)</a>"))
    #expect(page.contains("<a href=\"/history?clipset=std&amp;arms=base%20%E2%86%92%20cand\">base → cand</a>"))
  }
}
