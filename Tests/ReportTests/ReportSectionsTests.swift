import Foundation
import Testing

@testable import Report

/// The report's sections beyond the verdict table, on a model built by hand.
@Suite struct ReportSectionsTests {
  func model() -> ReportModel {
    var m = ReportModel(
      runID: "r2", createdAt: Date(timeIntervalSince1970: 0), clipsetName: "tiny",
      clipsetSHA256: String(repeating: "b", count: 64), provider: "local",
      a: .init(name: "base", settings: "model=x", hash: "h1"), b: .init(name: "cand", settings: "model=y", hash: "h2"),
      versions: ["metrics": "m/1"], gateStatus: "passed", gateSummary: "PASS", gateReasons: [], exitCode: 0,
      marginPercent: 5, regions: ["frame", "hair"], metrics: ["MAD", "Grad"],
      metricScales: ["MAD": "×1e3", "Grad": "÷1000"], endpoints: [],
      clips: [
        .init(
          id: "hair-1", tags: ["hair"], status: "scored", error: nil, frames: 3, reviewFrame: 1, images: [:],
          values: ["hair": ["MAD": .init(a: 10, b: 5), "Grad": .init(a: 2, b: 4)]],
          support: ["hair": (pixels: 50, frames: 3)]),
        .init(
          id: "hair-2", tags: ["hair"], status: "scored", error: nil, frames: 3, reviewFrame: 0, images: [:],
          values: ["hair": ["MAD": .init(a: 8, b: 9), "Grad": .init(a: 3, b: 3)]],
          support: ["hair": (pixels: 40, frames: 3)]),
      ])
    m.primaryMetrics = ["frame": "MAD", "hair": "Grad"]
    m.a.model = "keyer"
    m.b.model = "soft"
    m.b.backgroundColour = "#00ff00"
    m.b.background = "colour #00ff00"
    return m
  }

  /// Frames 10…12 with A = 0, 2, 4 and B = 4, –, 1: the chart's x runs 34…294 over frames 10…12
  /// and y runs 92 (0) … 14 (the top, 4), so A is (34,92) (164,53) (294,14); B's missing frame
  /// breaks its line into two single points, drawn as dots at (34,14) and (294,72.5).
  @Test func curveChartPlacesPointsByHand() {
    let curve = ReportModel.Curve(
      region: "hair", metric: "MAD", scale: "×1e3", frames: [10, 11, 12], a: [0, 2, 4], b: [4, nil, 1])
    let svg = HTMLReport.curveChart(curve, marks: [11], clip: "hair-1")
    #expect(svg.contains(#"<polyline class="la" points="34,92 164,53 294,14"/>"#))
    #expect(svg.contains(#"<circle class="lb" r="1.5" cx="34" cy="14"/>"#))
    #expect(svg.contains(#"<circle class="lb" r="1.5" cx="294" cy="72.5"/>"#))
    // The worst frame 11 is marked at x = 164.
    #expect(svg.contains(#"<line class="mark" x1="164" y1="14.0" x2="164" y2="92">"#))
    // Mean A = 2, mean B = 2.5, in the accessible name.
    #expect(svg.contains(#"aria-label="hair MAD per frame of hair-1: mean A 2.000, mean B 2.500""#))
  }

  @Test func clipTableIsSortableWithTheRegionsPrimaryMetric() {
    let html = HTMLReport.render(model())
    #expect(html.contains(#"<table class="clips sortable">"#))
    #expect(html.contains(#"<th scope="colgroup" colspan="3" class="nosort">hair · Grad</th>"#))
    // hair-1: Grad A 2, B 4: B vs A = 4/2 − 1 = +100 % (worse); sorted on data-v.
    #expect(html.contains(#"<td class="num" data-v="2">2.000</td><td class="num" data-v="4">4.000</td>"#))
    #expect(html.contains(#"<td class="num ratio worse" data-v="100">+100.0%</td>"#))
    #expect(html.contains(#"<th scope="col" data-type="num" data-col="5">B vs A</th>"#))
    #expect(html.contains("function sort()"))
  }

  /// Each case links to the region's review crops when the clip has them, else to the region's
  /// row of worst frames (the frame region has no crops), else to the clip; every link's anchor
  /// exists on the page.
  @Test func runbookListsCasesAndJobErrorsWithLinks() {
    var m = model()
    m.clips[0].reviews = [.init(region: "hair", frame: 1, images: [:], crop: nil)]
    m.clips[0].worstFrames = [(region: "frame", frames: [.init(frame: 2, a: 1, b: 3)])]
    m.runbook = [
      .init(arm: "A", config: "base", model: "keyer", cases: [], jobErrors: []),
      .init(
        arm: "B", config: "cand", model: "soft",
        cases: [
          .init(region: "hair", metric: "Grad", clip: "hair-1", worsePercent: 100, frame: 1),
          .init(region: "frame", metric: "MSE", clip: "hair-1", worsePercent: 30, frame: 2),
          .init(region: "glass", metric: "MSE", clip: "hair-2", worsePercent: 10, frame: nil),
        ],
        jobErrors: [(clip: "hair-2", error: "timeout: no result after 60 s")]),
    ]
    let html = HTMLReport.render(m)
    #expect(html.contains("No failure case"))
    #expect(html.contains(##"<td><a href="#clip-hair-1-worst-frame">hair-1</a></td>"##))
    #expect(html.contains(##"<a href="#clip-hair-1-worst-frame">frame 2</a>"##))
    #expect(html.contains(##"<td><a href="#clip-hair-2">hair-2</a></td>"##))
    for anchor in ["clip-hair-1-hair", "clip-hair-1-worst-frame", "clip-hair-2"] {
      #expect(html.contains("id=\"\(anchor)\""), "no element with id \(anchor)")
    }
    #expect(
      html.contains(##"<td><a href="#clip-hair-1-hair">hair-1</a></td><td class="num worse" data-v="100">+100%</td>"##))
    #expect(
      html.contains(##"<a href="#clip-hair-2">hair-2</a>: <span class="error">timeout: no result after 60 s</span>"##))
    #expect(html.contains("model <code>soft</code>"))
  }

  @Test func votesShowTheSignTestBesideTheVerdict() {
    var m = model()
    m.votes = .init(a: 1, b: 9, ties: 2, pValue: 22.0 / 1024, byClip: [(clip: "hair-1", a: 1, b: 9, ties: 2)])
    let html = HTMLReport.render(m)
    let gate = html.components(separatedBy: "<section id=\"verdicts\">")[0]
    #expect(gate.contains("Blind review: 12 votes — B preferred 9, A preferred 1, ties 2; sign test"))
    #expect(gate.contains("p = 0.0215"))
    #expect(html.contains(#"<section id="votes">"#))
  }

  /// Votes set against each clip's transition metric: hair-1's metric favours B (less error),
  /// hair-2's favours A; 9 of hair-1's 10 arm votes and 3 of hair-2's 4 agree: 12 of 14, 86%.
  @Test func votesAreSetAgainstTheMetricDirection() throws {
    var m = model()
    m.primaryMetrics["transition"] = "Conn"
    let i1 = try #require(m.clips.firstIndex { $0.id == "hair-1" })
    let i2 = try #require(m.clips.firstIndex { $0.id == "hair-2" })
    m.clips[i1].values["transition"] = ["Conn": .init(a: 2, b: 1)]
    m.clips[i2].values["transition"] = ["Conn": .init(a: 1, b: 2)]
    m.votes = .init(
      a: 4, b: 10, ties: 2, pValue: 0.18,
      byClip: [(clip: "hair-1", a: 1, b: 9, ties: 2), (clip: "hair-2", a: 3, b: 1, ties: 0)])
    let html = HTMLReport.render(m)
    #expect(html.contains("less error preferred) on 12 of 14 votes that chose an arm (86%)."))
    #expect(html.contains(#"<td class="num">9 of 10</td>"#))
    #expect(html.contains(#"<td class="num">3 of 4</td>"#))
  }

  @Test func compositesOfferEveryBackgroundAndOnlyHexColours() {
    var m = model()
    m.clips[0].reviews = [
      .init(
        region: "hair", frame: 1,
        images: [
          "a": "clips/hair-1/hair-frame1-a.png", "b": "clips/hair-1/hair-frame1-b.png",
          "source": "clips/hair-1/hair-frame1-source.png",
        ],
        crop: "160×90 at (0, 8)", size: (160, 90))
    ]
    var html = HTMLReport.render(m)
    // Each arm: the source masked by its alpha, at the crop's size, under its own mask id.
    #expect(
      html.contains(
        #"<mask id="mask-0-0-B" maskUnits="userSpaceOnUse" x="0" y="0" width="160" height="90"><image href="clips/hair-1/hair-frame1-b.png" width="160" height="90"/></mask></defs><image href="clips/hair-1/hair-frame1-source.png" width="160" height="90" mask="url(#mask-0-0-B)"/>"#
      ))
    #expect(html.contains(#"mask="url(#mask-0-0-A)""#))
    for key in ["checker", "black", "white", "configured"] { #expect(html.contains("data-set-bg=\"\(key)\"")) }
    #expect(html.contains(#"<div class="comp has-conf" style="--conf:#00ff00">"#))
    #expect(html.contains("Configured: A transparent, B colour #00ff00."))
    #expect(html.contains(#"<details class="review" id="clip-hair-1-hair" open>"#))
    // A colour that is not #RRGGBB never reaches the style attribute.
    m.b.backgroundColour = "red;background:url(x)"
    html = HTMLReport.render(m)
    #expect(!html.contains("--conf:red"))
    #expect(!html.contains("class=\"comp has-conf\""))
  }

  /// Every image has alt text, every table a header row, the heatmap and the curves a legend,
  /// and the shortcuts are on the page.
  @Test func accessibilityBasics() throws {
    var m = model()
    m.clips[0].reviews = [
      .init(
        region: "hair", frame: 1,
        images: [
          "source": "s.png", "truth": "t.png", "a": "a.png", "b": "b.png", "heat-a": "ha.png",
          "heat-b": "hb.png",
        ], crop: "160×90 at (0, 0)", size: (160, 90))
    ]
    m.clips[0].curves = [.init(region: "hair", metric: "MAD", scale: "×1e3", frames: [0, 1], a: [1, 2], b: [2, 1])]
    let html = HTMLReport.render(m)
    let images = html.components(separatedBy: "<img ").dropFirst()
    // Six figures and the viewer's two panes; the composites are SVG images with a label.
    #expect(images.count == 8)
    for tag in images {
      let alt = try #require(tag.range(of: #"alt="[^"]+""#, options: .regularExpression), "an <img> without alt")
      #expect(tag[alt].count > 8)
    }
    let tables = html.components(separatedBy: "<table").count - 1
    #expect(tables >= 3)
    #expect(
      html.components(separatedBy: "<thead>").count - 1 + html.components(separatedBy: "<th scope=\"row\"").count
        > tables)
    #expect(html.contains("Heatmap colour: |α − α_gt| per pixel"))
    #expect(html.contains("the colours of the arms in every curve"))
    #expect(html.contains("id=\"shortcuts\""))
    for svg in html.components(separatedBy: "<svg").dropFirst() {
      #expect(svg.hasPrefix(" ") && (svg.contains("role=\"img\"")), "an <svg> without role img")
    }
  }
}
