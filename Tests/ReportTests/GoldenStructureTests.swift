import Foundation
import TestSupport
import Testing

@testable import Report

/// The HTML structure of a small report, pinned: elements with their ids and classes, nested,
/// without text or numbers. A change to the page's structure shows up as a diff against
/// `Golden/small-report.structure`; set MATTEGATE_UPDATE_GOLDEN=1 to write the new structure
/// after checking the diff is intended.
@Suite struct GoldenStructureTests {
  static func structure(_ html: String) throws -> [String] { try HTMLStructure.lines(html) }
  typealias Problem = HTMLStructure.Problem

  /// A report with one clip that has everything: two region reviews, curves, worst frames,
  /// a runbook case and a failed job, votes, and a second clip that failed.
  static func model() -> ReportModel {
    var m = ReportModel(
      runID: "golden", createdAt: Date(timeIntervalSince1970: 0), clipsetName: "tiny",
      clipsetSHA256: String(repeating: "d", count: 64), provider: "local",
      a: .init(name: "base", settings: "model=x", hash: "h1"), b: .init(name: "cand", settings: "model=y", hash: "h2"),
      versions: ["metrics": "m/1"], gateStatus: "regression", gateSummary: "FAIL", gateReasons: ["hair/Grad regressed"],
      exitCode: 2, marginPercent: 5, regions: ["frame", "hair"], metrics: ["MAD", "Grad"],
      metricScales: ["MAD": "×1e3", "Grad": "÷1000"],
      endpoints: [
        .init(
          region: "hair", metric: "Grad", isPrimary: true, clips: 6, estimatePercent: 20, ci95Percent: 15...25,
          ci90Percent: 16...24, pValue: 0.03, hodgesLehmannPercent: 19, wins: 0, ties: 0, losses: 6,
          verdict: "Regressed", note: nil)
      ],
      clips: [
        .init(
          id: "hair-1", tags: ["hair"], status: "scored", error: nil, frames: 3, reviewFrame: 1, images: [:],
          values: ["hair": ["MAD": .init(a: 10, b: 12), "Grad": .init(a: 2, b: 3)]],
          support: ["hair": (pixels: 50, frames: 3)]),
        .init(
          id: "glass-1", tags: ["glass"], status: "failed", error: "decode failed", frames: 0, reviewFrame: nil,
          images: [:], values: [:], support: [:]),
      ])
    m.primaryMetrics = ["frame": "MAD", "hair": "Grad"]
    let roles = ["source", "truth", "a", "b", "heat-a", "heat-b"]
    m.clips[0].reviews = ["transition", "hair"].map { region in
      .init(
        region: region, frame: 1,
        images: Dictionary(uniqueKeysWithValues: roles.map { ($0, "clips/hair-1/\(region)-frame1-\($0).png") }),
        crop: "160×90 at (0, 0)", size: (160, 90))
    }
    m.clips[0].curves = ["MAD", "Grad"].map {
      .init(region: "hair", metric: $0, scale: "", frames: [0, 1, 2], a: [1, 2, 3], b: [2, nil, 1])
    }
    m.clips[0].worstFrames = [(region: "hair", frames: [.init(frame: 1, a: 2, b: 3), .init(frame: 0, a: 1, b: 2)])]
    m.jobs = [
      .init(
        clip: "hair-1", arm: "A", jobID: "j1", status: "succeeded", attempt: 1, durationMS: 10, credits: 1,
        outputSHA256: "ab", reusedFrom: nil, error: nil),
      .init(
        clip: "glass-1", arm: "B", jobID: "j2", status: "failed", attempt: 2, durationMS: nil, credits: nil,
        outputSHA256: nil, reusedFrom: nil, error: "timeout"),
    ]
    m.runbook = [
      .init(arm: "A", config: "base", model: "x", cases: [], jobErrors: []),
      .init(
        arm: "B", config: "cand", model: "y",
        cases: [.init(region: "hair", metric: "Grad", clip: "hair-1", worsePercent: 50, frame: 1)],
        jobErrors: [(clip: "glass-1", error: "timeout")]),
    ]
    m.problems = [(clip: "glass-1", reason: "decode failed")]
    m.votes = .init(a: 1, b: 2, ties: 0, pValue: 1, byClip: [(clip: "hair-1", a: 1, b: 2, ties: 0)])
    return m
  }

  @Test func smallReportKeepsItsStructure() throws {
    let lines = try Self.structure(HTMLReport.render(Self.model()))
    let text = lines.joined(separator: "\n") + "\n"
    let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Golden/small-report.structure")
    if ProcessInfo.processInfo.environment["MATTEGATE_UPDATE_GOLDEN"] == "1" {
      try text.write(to: golden, atomically: true, encoding: .utf8)
    }
    let pinned = try String(contentsOf: golden, encoding: .utf8)
    if pinned != text {
      let a = pinned.split(separator: "\n", omittingEmptySubsequences: false)
      let b = text.split(separator: "\n", omittingEmptySubsequences: false)
      let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
      Issue.record(
        "structure differs from Golden/small-report.structure at line \(first + 1): pinned '\(first < a.count ? a[first] : "(end)")', now '\(first < b.count ? b[first] : "(end)")'"
      )
    }
  }

  /// The checker itself: it sees a mis-nested and an unclosed element.
  @Test func structureCatchesBrokenNesting() {
    #expect(throws: Problem.self) { try Self.structure("<div><p></div></p>") }
    #expect(throws: Problem.self) { try Self.structure("<main><section></main>") }
    #expect(throws: Never.self) { try Self.structure("<div id=\"x1\" class=\"a b\"><img src=\"y\"><br></div>") }
    #expect(
      (try? Self.structure("<div id=\"clip-12\" class=\"a b\"><svg><rect/></svg></div>")) == [
        "div #clip-N.a.b", "  svg", "    rect",
      ])
  }
}
