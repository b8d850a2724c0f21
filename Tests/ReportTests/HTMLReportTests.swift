import Foundation
import Testing

@testable import Report

@Suite struct HTMLReportTests {
  func model() -> ReportModel {
    ReportModel(
      runID: "r1", createdAt: Date(timeIntervalSince1970: 0), clipsetName: "smoke",
      clipsetSHA256: String(repeating: "a", count: 64),
      provider: "local", a: .init(name: "base<line>", settings: "model=x", hash: "h1"),
      b: .init(name: "cand & co", settings: "model=y", hash: "h2"), versions: ["metrics": "m/1"],
      gateStatus: "regression", gateSummary: "FAIL: regression", gateReasons: ["hair/Grad regressed (+20.0%)"],
      exitCode: 2, marginPercent: 5, regions: ["frame", "hair"], metrics: ["MAD"], metricScales: ["MAD": "×1e3"],
      endpoints: [
        .init(
          region: "hair", metric: "Grad", isPrimary: true, clips: 6, estimatePercent: 20, ci95Percent: 15...25,
          ci90Percent: 16...24, pValue: 0.03125, hodgesLehmannPercent: 19, wins: 0, ties: 0, losses: 6,
          verdict: "Regressed", note: nil)
      ],
      clips: [
        .init(
          id: "hair-sway", tags: ["hair"], status: "scored", error: nil, frames: 4, reviewFrame: 2,
          images: ["source": "clips/hair-sway/frame2-source.png", "a": "clips/hair-sway/frame2-a.png"],
          values: ["hair": ["MAD": .init(a: 10, b: 12)]], support: ["hair": (pixels: 50, frames: 4)])
      ])
  }

  @Test func rendersGateVerdictsAndClipTables() {
    let html = HTMLReport.render(model())
    #expect(html.contains("data-exit-code=\"2\""))
    #expect(html.contains("<span class=\"verdict bad\">Regressed</span>"))
    #expect(html.contains("+20.0%"))
    #expect(html.contains("[+15.0%, +25.0%]"))
    #expect(html.contains("src=\"clips/hair-sway/frame2-source.png\""))
    // B vs A = 12/10 − 1 = +20 %, marked worse.
    #expect(html.contains("<td class=\"num ratio worse\">+20.0%</td>"))
  }

  @Test func forestBandsUseEachEndpointsMargin() {
    // CI up to +25%: span = max(3 × 5, 25, 1) × 1.05 = 26.25; the ±5% band spans
    // x = 80 ± 76 · 5/26.25, i.e. from 65.52, 28.95 wide.
    #expect(HTMLReport.render(model()).contains(#"<rect x="65.52" y="1" width="28.95""#))
    // An endpoint with its own 10% margin: span = 3 × 10 × 1.05 = 31.5; 80 − 76 · 10/31.5 = 55.87,
    // 48.25 wide.
    var m = model()
    m.endpoints[0].marginPercent = 10
    #expect(HTMLReport.render(m).contains(#"<rect x="55.87" y="1" width="48.25""#))
  }

  /// A clip id that is a script, config names with quotes and an error message that is markup
  /// all come out as text: nowhere in the page as markup, and the viewer's attributes stay
  /// closed.
  @Test func hostileNamesAreInert() {
    var m = model()
    let script = "<script>alert(1)</script>"
    m.a.name = #"say "hi" 'A'"#
    m.b.name = #"B" onmouseover="alert(3)"#
    m.clips[0].id = script
    m.clips[0].tags = ["<b>bold</b>"]
    m.clips[0].error = "<img src=x onerror=alert(2)>"
    m.clips[0].images = ["a": "clips/x/frame2-a.png", "b": "clips/x/frame2-b.png"]
    let html = HTMLReport.render(m)
    for raw in [script, "<img src=x", "<b>bold</b>", #"onmouseover="alert(3)""#, #""hi""#] {
      #expect(!html.contains(raw), "\(raw) appears unescaped")
    }
    #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
    #expect(html.contains("say &quot;hi&quot; &#39;A&#39;"))
    #expect(html.contains("&lt;img src=x onerror=alert(2)&gt;"))
    // The only scripts are the report's own: one element, no src.
    #expect(html.components(separatedBy: "<script").count == 2)
    #expect(!html.contains("<script src"))
  }

  @Test func viewerAndShortcutsArePresent() {
    var m = model()
    m.clips[0].images["b"] = "clips/hair-sway/frame2-b.png"
    m.clips[0].images["heat-a"] = "clips/hair-sway/frame2-heat-a.png"
    let html = HTMLReport.render(m)
    #expect(html.contains(#"<div class="viewer" data-mode="side" data-showing="a" data-layer="alpha""#))
    #expect(html.contains(#"data-alpha="clips/hair-sway/frame2-a.png" data-heat="clips/hair-sway/frame2-heat-a.png""#))
    // B has no heatmap: its alpha stands in.
    #expect(html.contains(#"data-alpha="clips/hair-sway/frame2-b.png" data-heat="clips/hair-sway/frame2-b.png""#))
    #expect(html.contains("<kbd>F or Space</kbd> swap A and B (flicker)"))
    #expect(html.contains("Heatmap colour: |α − α_gt| per pixel"))
    // A legend per clip with heatmaps, each gradient under its own id.
    var second = m.clips[0]
    second.id = "hair-2"
    m.clips.append(second)
    let two = HTMLReport.render(m)
    #expect(two.components(separatedBy: #"<linearGradient id="heat0">"#).count == 2)
    #expect(two.components(separatedBy: #"<linearGradient id="heat1">"#).count == 2)
    #expect(two.contains(#"fill="url(#heat1)""#))
    // Without both arms' images there is nothing to compare.
    #expect(!HTMLReport.render(model()).contains("class=\"viewer\""))
  }

  @Test func escapesUserText() {
    let html = HTMLReport.render(model())
    #expect(html.contains("base&lt;line&gt;"))
    #expect(html.contains("cand &amp; co"))
    #expect(!html.contains("base<line>"))
    #expect(HTMLReport.esc("<a href=\"x\">'") == "&lt;a href=&quot;x&quot;&gt;&#39;")
  }
}
