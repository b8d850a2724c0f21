import Foundation
import Report
import Store
import Testing
import Verdict

@testable import Runner

/// The report model's pieces that ReportBuilder derives from stored rows, on rows made by hand.
@Suite struct ReportBuilderTests {
  static func row(_ arm: String, _ frame: Int, _ region: String, _ metric: String, _ sum: Double, _ pixels: Int)
    -> FrameMetricRecord
  {
    FrameMetricRecord(
      clipID: "c1", arm: arm, frame: frame, region: region, metric: metric, errorSum: sum, pixels: pixels)
  }

  /// hair SAD: A 10, 30, 20 and B 20, 10, 20 over frames 0…2 (A alone has frame 3): A+B is
  /// 30, 40, 40, so frame 1 then frame 2 (the tie goes to the earlier frame) then frame 0;
  /// frame 3 is left out. MAD at frame 1: A 5/100 × 1e3 = 50, B 2/100 × 1e3 = 20.
  @Test func worstFramesRankBothArmsTogether() {
    let rows = [
      Self.row("A", 0, "hair", "SAD", 10, 100), Self.row("A", 1, "hair", "SAD", 30, 100),
      Self.row("A", 2, "hair", "SAD", 20, 100), Self.row("A", 3, "hair", "SAD", 100, 100),
      Self.row("B", 0, "hair", "SAD", 20, 100), Self.row("B", 1, "hair", "SAD", 10, 100),
      Self.row("B", 2, "hair", "SAD", 20, 100), Self.row("A", 1, "hair", "MAD", 5, 100),
      Self.row("B", 1, "hair", "MAD", 2, 100),
    ]
    let worst = ReportBuilder.worstFrames(rows)
    #expect(worst.count == 1 && worst[0].region == "hair")
    #expect(worst[0].frames.map(\.frame) == [1, 2, 0])
    #expect(worst[0].frames[0].a == 50 && worst[0].frames[0].b == 20)
    #expect(worst[0].frames[1].a == nil)
  }

  /// MAD: A 5/100 and 1/50 at frames 1 and 3 (×1e3: 50 and 20), B 2/100 at frame 1 only (20);
  /// dtSSD: A √(4/100) × 1e2 = 20. SAD is not drawn.
  @Test func curvesPutEachArmOnItsFrames() {
    let rows = [
      Self.row("A", 1, "hair", "MAD", 5, 100), Self.row("A", 3, "hair", "MAD", 1, 50),
      Self.row("B", 1, "hair", "MAD", 2, 100), Self.row("A", 1, "hair", "dtSSD", 4, 100),
      Self.row("A", 1, "hair", "SAD", 5, 100),
    ]
    let curves = ReportBuilder.curves(rows)
    #expect(curves.map { "\($0.region)/\($0.metric)" } == ["hair/MAD", "hair/dtSSD"])
    #expect(curves[0].frames == [1, 3])
    #expect(curves[0].a == [50, 20] && curves[0].b == [20, nil])
    #expect(abs((curves[1].a[0] ?? 0) - 20) < 1e-9 && curves[1].b == [nil])
  }

  /// hair is judged on Grad (the standard gate) with a 5% margin: c1 has A 12 against B 10, A
  /// 20% worse, a case for A at c1's hair review frame; c2 has A 10.4 against B 10, 4% worse,
  /// within the margin. B's failed job on c2 is B's job error.
  @Test func runbookTakesCasesBeyondTheMarginAndFailedJobs() {
    func clip(_ id: String) -> ReportModel.ClipRow {
      .init(
        id: id, tags: [], status: "scored", error: nil, frames: 1, reviewFrame: 0, images: [:], values: [:],
        support: [:])
    }
    var m = ReportModel(
      runID: "r", createdAt: Date(), clipsetName: "s", clipsetSHA256: "", provider: "local",
      a: .init(name: "base", settings: "", hash: ""), b: .init(name: "cand", settings: "", hash: ""), versions: [:],
      gateStatus: "passed", gateSummary: "", gateReasons: [], exitCode: 0, marginPercent: 5, regions: [],
      metrics: [], metricScales: [:], endpoints: [], clips: [clip("c1"), clip("c2")])
    m.clips[0].reviews = [.init(region: "hair", frame: 7, images: [:], crop: nil)]
    m.primaryMetrics = ["hair": "Grad"]
    m.jobs = [
      .init(
        clip: "c2", arm: "B", jobID: "j", status: "failed", attempt: 1, durationMS: nil, credits: nil,
        outputSHA256: nil, reusedFrom: nil, error: "timeout")
    ]
    func value(_ clip: String, _ arm: String, _ v: Double) -> ClipMetricRecord {
      ClipMetricRecord(
        clipID: clip, arm: arm, region: "hair", metric: "Grad", value: v, errorSum: 0, pixels: 1, frames: 1)
    }
    let byClip = RunFinisher.valuesByClip([
      value("c1", "A", 12), value("c1", "B", 10), value("c2", "A", 10.4), value("c2", "B", 10),
    ])
    let book = ReportBuilder.runbook(m, byClip: byClip, policy: .standard)
    #expect(book.map(\.arm) == ["A", "B"])
    #expect(book[0].cases.count == 1)
    #expect(book[0].cases.first.map { ($0.clip, $0.region, $0.frame) } ?? ("", "", nil) == ("c1", "hair", 7))
    #expect(abs((book[0].cases.first?.worsePercent ?? 0) - 20) < 1e-9)
    #expect(book[0].jobErrors.isEmpty)
    #expect(book[1].cases.isEmpty)
    #expect(book[1].jobErrors.map(\.clip) == ["c2"] && book[1].jobErrors.map(\.error) == ["timeout"])
  }
}

/// An endpoint row's worst clips, on pairs made by hand.
@Suite struct WorstClipsTests {
  /// B/A: c1 10/8 (+25%), c2 9/10 (−10%), c3 6/4 (+50%), c4 5/5 (0%), c5 3/2.4 (+25% less
  /// about 1e-10: ε = 1e-9 weighs more on smaller values, so c5 comes after c1): worst first
  /// c3, c1, c5, and only three are shown.
  @Test func worstClipsAreTheLargestRatiosFirst() {
    let pairs = [("c1", 8.0, 10.0), ("c2", 10, 9), ("c3", 4, 6), ("c4", 5, 5), ("c5", 2.4, 3)].map {
      PairedObservation(clipID: $0.0, a: $0.1, b: $0.2)
    }
    let worst = ReportBuilder.worstClips(pairs)
    #expect(worst.map(\.clip) == ["c3", "c1", "c5"])
    #expect(abs(worst[0].percent - 50) < 1e-6 && abs(worst[1].percent - 25) < 1e-6 && abs(worst[2].percent - 25) < 1e-6)
    #expect(ReportBuilder.worstClips([]).isEmpty)
  }
}
