import Foundation

/// The report's sections beyond the verdict: the clip table, the runbook, each clip's curves,
/// worst frames and review crops, the votes and the provenance details.
extension HTMLReport {
  /// One row per clip: status, frames, and per region its primary metric for A and B and B vs A
  /// as a percent change.
  /// Sortable by any column.
  static func clipTable(_ m: ReportModel) -> String {
    let regions = m.regions.filter { r in m.clips.contains { $0.values[r] != nil } }
    var h = "<section id=\"clip-table\"><h2>Clips at a glance</h2>"
    h += "<table class=\"clips sortable\"><caption class=\"small\">Each region's primary metric per clip "
    h += "(B vs A as a percent change: negative means B has less error). Click a column's header to sort by it."
    h += "</caption><thead><tr>"
    h +=
      "<th scope=\"col\" rowspan=\"2\" data-col=\"0\">Clip</th><th scope=\"col\" rowspan=\"2\" data-col=\"1\">Status</th>"
    h += "<th scope=\"col\" rowspan=\"2\" data-type=\"num\" data-col=\"2\">Frames</th>"
    for r in regions {
      let metric = m.primaryMetrics[r] ?? "MSE"
      h += "<th scope=\"colgroup\" colspan=\"3\" class=\"nosort\">\(esc(r)) · \(esc(metric))</th>"
    }
    h += "</tr><tr>"
    for (i, _) in regions.enumerated() {
      for (k, label) in ["A", "B", "B vs A"].enumerated() {
        h += "<th scope=\"col\" data-type=\"num\" data-col=\"\(3 + 3 * i + k)\">\(label)</th>"
      }
    }
    h += "</tr></thead><tbody>"
    for c in m.clips where c.hasTruth {
      h += "<tr><th scope=\"row\"><a href=\"#clip-\(esc(c.id))\">\(esc(c.id))</a></th>"
      h += "<td>\(esc(c.status))</td><td class=\"num\">\(c.frames)</td>"
      for r in regions {
        let pair = c.values[r]?[m.primaryMetrics[r] ?? "MSE"]
        h += "<td class=\"num\" data-v=\"\(pair?.a.map { fmt($0, 10) } ?? "")\">\(num(pair?.a))</td>"
        h += "<td class=\"num\" data-v=\"\(pair?.b.map { fmt($0, 10) } ?? "")\">\(num(pair?.b))</td>"
        if let a = pair?.a, let b = pair?.b, a > 0 {
          let change = (b / a - 1) * 100
          h += "<td class=\"num ratio \(changeClass(change))\" data-v=\"\(fmt(change, 10))\">\(pct(change))</td>"
        } else {
          h += "<td class=\"num\" data-v=\"\">–</td>"
        }
      }
      h += "</tr>"
    }
    h += "</tbody></table>"
    let apart = m.clips.filter { !$0.hasTruth }
    if !apart.isEmpty {
      h += "<p class=\"no-truth\">Without ground truth, listed apart (no verdict): "
      h += apart.map { "<a href=\"#clip-\(esc($0.id))\">\(esc($0.id))</a>" }.joined(separator: ", ") + ".</p>"
    }
    return h + "</section>"
  }

  /// Per arm (model and configuration): where the run found it worse than the other arm by
  /// more than the margin, with links to the crops, and its failed jobs; then the clips that
  /// failed or were inconclusive.
  static func runbookSection(_ m: ReportModel) -> String {
    var h = "<section id=\"runbook\"><h2>Runbook</h2>"
    h += "<p class=\"small\">Failure cases this run found, per model and configuration: clips where an arm's error on "
    h += "a region's primary metric exceeds the other arm's by more than the margin (\(fmt(m.marginPercent, 3))%), "
    h += "linked to the region's worst frame, and jobs that failed with their errors; then reviewers' notes on each "
    h += "configuration, from this run and earlier ones.</p>"
    let runNotes = m.notes.filter { $0.clip == nil }
    if !runNotes.isEmpty { h += "<h3>Notes on this run</h3>" + notesList(runNotes, currentRun: m.runID) }
    for e in m.runbook {
      let cls = e.arm == "A" ? "a" : "b"
      h += "<div class=\"runbook-arm\"><h3><span class=\"arm \(cls)\">\(esc(e.arm))</span> \(esc(e.config))"
      if let model = e.model { h += " <span class=\"small\">model <code>\(esc(model))</code></span>" }
      h += "</h3>"
      if e.cases.isEmpty && e.jobErrors.isEmpty {
        h +=
          "<p class=\"small\">No failure case: no clip worse than the other arm beyond the margin, no failed job.</p>"
      }
      if !e.cases.isEmpty {
        h += "<table class=\"runbook sortable\"><thead><tr><th scope=\"col\">Region</th><th scope=\"col\">Metric</th>"
        h +=
          "<th scope=\"col\">Clip</th><th scope=\"col\" data-type=\"num\">Worse than \(e.arm == "A" ? "B" : "A")</th>"
        h += "<th scope=\"col\">Worst frame</th></tr></thead><tbody>"
        for c in e.cases {
          // The region's review crops when it has them, else its row of worst frames.
          let row = m.clips.first { $0.id == c.clip }
          let target =
            c.frame == nil
            ? "clip-\(c.clip)"
            : row?.reviews.contains { $0.region == c.region } == true
              ? "clip-\(c.clip)-\(c.region)"
              : row?.worstFrames.contains { $0.region == c.region } == true
                ? "clip-\(c.clip)-worst-\(c.region)" : "clip-\(c.clip)"
          h += "<tr><td>\(esc(c.region))</td><td>\(esc(c.metric))</td>"
          h += "<td><a href=\"#\(esc(target))\">\(esc(c.clip))</a></td>"
          h += "<td class=\"num worse\" data-v=\"\(fmt(c.worsePercent, 10))\">+\(fmt(c.worsePercent, 3))%</td>"
          h += "<td>\(c.frame.map { "<a href=\"#\(esc(target))\">frame \($0)</a>" } ?? "–")</td></tr>"
        }
        h += "</tbody></table>"
      }
      if !e.jobErrors.isEmpty { h += clipErrors(e.jobErrors, class: "job-errors") }
      if !e.notes.isEmpty {
        h += "<h4>Reviewers' notes on \(esc(e.config))</h4>" + notesList(e.notes, currentRun: m.runID)
      }
      h += "</div>"
    }
    if !m.problems.isEmpty {
      h += "<h3>Clips without a result</h3>" + clipErrors(m.problems.map { ($0.clip, $0.reason) }, class: "problems")
    }
    return h + "</section>"
  }

  /// Notes as a list: where (clip, arm, frame; another run's notes name it), who, when, what.
  static func notesList(_ notes: [ReportModel.Note], currentRun: String, showClip: Bool = true) -> String {
    "<ul class=\"notes\">"
      + notes.map { n in
        var place: [String] = []
        if n.runID != currentRun { place.append("run \(esc(n.runID))") }
        if showClip, let clip = n.clip {
          place.append(
            n.runID == currentRun ? "<a href=\"#clip-\(esc(clip))\">\(esc(clip))</a>" : esc(clip))
        }
        if let arm = n.arm { place.append("arm <span class=\"arm \(arm == "A" ? "a" : "b")\">\(esc(arm))</span>") }
        if let frame = n.frame { place.append("frame \(frame)") }
        var li = "<li class=\"note\">"
        if !place.isEmpty { li += place.joined(separator: " · ") + ": " }
        li += "<q>\(esc(n.text))</q> <span class=\"small\">— \(esc(n.author)), \(esc(iso(n.date)))</span></li>"
        return li
      }.joined() + "</ul>"
  }

  /// A served report's form for a new note on a clip (an arm and a frame optional).
  static func noteForm(_ c: ReportModel.ClipRow, action: String) -> String {
    var h = "<form class=\"note-form\" method=\"post\" action=\"\(esc(action))\">"
    h += "<input type=\"hidden\" name=\"clip\" value=\"\(esc(c.id))\">"
    h +=
      "<label>Arm <select name=\"arm\"><option value=\"\">both</option><option>A</option><option>B</option></select></label> "
    h +=
      "<label>Frame <input name=\"frame\" type=\"number\" min=\"0\" max=\"\(max(c.frames - 1, 0))\" size=\"5\"></label> "
    h += "<label>By <input name=\"author\" size=\"12\" maxlength=\"80\"></label> "
    h += "<label>Note <input name=\"text\" size=\"50\" maxlength=\"4000\" required></label> "
    h += "<button type=\"submit\">Add note</button></form>"
    return h
  }

  /// A list of errors, each after a link to its clip.
  static func clipErrors(_ items: [(clip: String, error: String)], class cls: String) -> String {
    "<ul class=\"\(cls)\">"
      + items.map {
        "<li><a href=\"#clip-\(esc($0.clip))\">\(esc($0.clip))</a>: <span class=\"error\">\(esc($0.error))</span></li>"
      }
      .joined() + "</ul>"
  }

  /// One clip: its heading, problems, curves, worst frames, review crops per region and table.
  static func clipArticle(_ c: ReportModel.ClipRow, index clipIndex: Int, _ m: ReportModel) -> String {
    var h =
      "<article class=\"clip \(esc(c.status))\" id=\"clip-\(esc(c.id))\" data-failing=\"\(isFailing(c, m) ? 1 : 0)\""
    h += " data-tags=\" \(esc(c.tags.joined(separator: " "))) \">"
    // Folded unless the clip fails, so that any clip's evidence is reached without scrolling
    // past the others; a link into a folded clip opens it.
    let failing = isFailing(c, m)
    h += "<details class=\"clip-body\"\(failing ? " open" : "")><summary><h3>\(esc(c.id)) "
    h +=
      "<span class=\"status\">\(esc(c.status))</span>\(failing ? " <span class=\"verdict bad\">failing</span>" : "")</h3>"
    h += "</summary>"
    h += "<p class=\"tags\">" + c.tags.map { "<span class=\"tag\">\(esc($0))</span>" }.joined(separator: " ")
    h += " · \(c.frames) frames\(c.reviewFrame.map { " · review frame \($0)" } ?? "")"
    if !c.sha256.isEmpty { h += " · source sha256 <code>\(esc(String(c.sha256.prefix(12))))</code>" }
    if let bpp = c.bitsPerPixel { h += String(format: " · source %.4f bits/pixel/frame", bpp) }
    h += "</p>"
    if let error = c.error { h += "<p class=\"error\">\(esc(error))</p>" }
    if let w = c.compressionWarning { h += "<p class=\"warning compression\">Warning: \(esc(w))</p>" }
    if let regions = c.regions { h += "<p class=\"small regions\">Hard regions: \(esc(regions))</p>" }
    if !c.alignment.isEmpty {
      h +=
        "<p class=\"small alignment\">Frame alignment by timestamp: \(c.alignment.map(esc).joined(separator: " · "))</p>"
    }
    if !c.extras.isEmpty {
      h += "<p class=\"small extras\">\(c.extras.map(esc).joined(separator: "<br>"))</p>"
    }
    h += curvesBlock(c, clipIndex: clipIndex)
    h += player(c, m)
    h += worstFramesBlock(c)
    for (n, r) in c.reviews.enumerated() {
      h += reviewBlock(r, clip: c, open: n == 0, legendID: "\(clipIndex)-\(n)", m)
    }
    if c.reviews.isEmpty && !c.images.isEmpty {
      // A model built by hand (tests) or an older run: the headline images alone.
      h += reviewBlock(
        .init(region: "transition", frame: c.reviewFrame ?? 0, images: c.images, crop: c.crop), clip: c, open: true,
        legendID: "\(clipIndex)", m)
    }
    if !c.values.isEmpty { h += valuesTable(c, m) }
    let notes = m.notes.filter { $0.clip == c.id }
    if !notes.isEmpty || m.noteAction != nil {
      h += "<div class=\"clip-notes\"><h4>Quality notes</h4>"
      h += notes.isEmpty ? "" : notesList(notes, currentRun: m.runID, showClip: false)
      if let action = m.noteAction { h += noteForm(c, action: action) }
      h += "</div>"
    }
    return h + "</details></article>\n"
  }

  /// The per-frame curves: each region's MAD shown, the other metrics folded away.
  static func curvesBlock(_ c: ReportModel.ClipRow, clipIndex: Int) -> String {
    guard !c.curves.isEmpty else { return "" }
    let worst = Dictionary(c.worstFrames.map { ($0.region, $0.frames.map(\.frame)) }, uniquingKeysWith: { a, _ in a })
    let first = c.curves.first?.metric
    var h = "<div class=\"curves\">"
    for curve in c.curves where curve.metric == first {
      h += curveChart(curve, marks: worst[curve.region] ?? [], clip: c.id, seeks: c.preview != nil)
    }
    h += "</div><details class=\"more-curves\"><summary>More metrics per frame</summary><div class=\"curves\">"
    for curve in c.curves where curve.metric != first {
      h += curveChart(curve, marks: worst[curve.region] ?? [], clip: c.id, seeks: c.preview != nil)
    }
    return h + "</div></details>"
  }

  /// One metric's per-frame values of A and B in one region as an SVG line chart, with the
  /// region's worst frames marked.
  static func curveChart(_ curve: ReportModel.Curve, marks: [Int], clip: String, seeks: Bool = false) -> String {
    let (w, h, left, top, bottom) = (300.0, 110.0, 34.0, 14.0, 18.0)
    let values = (curve.a + curve.b).compactMap { $0 }
    let hi = max(values.max() ?? 0, 1e-12)
    let lo = curve.frames.first ?? 0
    let span = max((curve.frames.last ?? 0) - lo, 1)
    func x(_ f: Int) -> Double { left + (w - left - 6) * Double(f - lo) / Double(span) }
    func y(_ v: Double) -> Double { top + (h - top - bottom) * (1 - v / hi) }
    func line(_ series: [Double?], _ cls: String) -> String {
      // A gap where a frame has no value.
      var parts: [[String]] = [[]]
      for (f, v) in zip(curve.frames, series) {
        if let v { parts[parts.count - 1].append("\(fmt(x(f), 5)),\(fmt(y(v), 5))") } else { parts.append([]) }
      }
      return parts.filter { !$0.isEmpty }.map { p in
        p.count == 1
          ? "<circle class=\"\(cls)\" r=\"1.5\" cx=\"\(p[0].split(separator: ",")[0])\" cy=\"\(p[0].split(separator: ",")[1])\"/>"
          : "<polyline class=\"\(cls)\" points=\"\(p.joined(separator: " "))\"/>"
      }.joined()
    }
    let label = "\(curve.region) \(curve.metric) per frame of \(clip)"
    let meanA = mean(curve.a)
    let meanB = mean(curve.b)
    var s = "<figure class=\"curve\"><svg viewBox=\"0 0 \(Int(w)) \(Int(h))\" width=\"\(Int(w))\" height=\"\(Int(h))\" "
    // With a player, a click on the chart opens the player at the frame under the pointer.
    if seeks {
      s +=
        "data-clip=\"\(esc(clip))\" data-lo=\"\(lo)\" data-span=\"\(span)\" data-left=\"\(left)\" data-right=\"\(w - 6)\" "
    }
    s += "role=\"img\" aria-label=\"\(esc(label)): mean A \(num(meanA)), mean B \(num(meanB))\">"
    s += "<title>\(esc(label))</title>"
    s += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(fmt(y(0), 5))\" x2=\"\(w - 6)\" y2=\"\(fmt(y(0), 5))\"/>"
    s += "<text x=\"\(left - 3)\" y=\"\(fmt(y(hi) + 4, 5))\" text-anchor=\"end\">\(num(hi))</text>"
    s += "<text x=\"\(left - 3)\" y=\"\(fmt(y(0) + 3, 5))\" text-anchor=\"end\">0</text>"
    s += "<text x=\"\(left)\" y=\"\(fmt(h - 4, 5))\">\(lo)</text>"
    s += "<text x=\"\(w - 6)\" y=\"\(fmt(h - 4, 5))\" text-anchor=\"end\">frame \(lo + span)</text>"
    for f in marks where curve.frames.contains(f) {
      s += "<line class=\"mark\" x1=\"\(fmt(x(f), 5))\" y1=\"\(top)\" x2=\"\(fmt(x(f), 5))\" y2=\"\(fmt(y(0), 5))\">"
      s += "<title>worst frame \(f)</title></line>"
    }
    s += line(curve.a, "la") + line(curve.b, "lb") + "</svg>"
    s += "<figcaption>\(esc(curve.region)) · \(esc(curve.metric)) <span class=\"scale\">\(esc(curve.scale))</span>"
    s += " · mean A \(num(meanA)), B \(num(meanB))</figcaption></figure>"
    return s
  }

  static func mean(_ xs: [Double?]) -> Double? {
    let v = xs.compactMap { $0 }
    return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
  }

  /// The worst frames of each region, linked to the crops where the frame has them.
  static func worstFramesBlock(_ c: ReportModel.ClipRow) -> String {
    guard !c.worstFrames.isEmpty else { return "" }
    var h = "<table class=\"worst\"><caption class=\"small\">Worst frames per region (A and B error together; "
    h +=
      "MAD ×1e3 of each arm)</caption><thead><tr><th scope=\"col\">Region</th><th scope=\"col\">Frames, worst first</th>"
    h += "</tr></thead><tbody>"
    for (region, frames) in c.worstFrames {
      let reviewed = c.reviews.first { $0.region == region }?.frame
      h += "<tr id=\"clip-\(esc(c.id))-worst-\(esc(region))\"><th scope=\"row\">\(esc(region))</th><td>"
      h += frames.map { f in
        let text = "frame \(f.frame) (A \(num(f.a)), B \(num(f.b)))"
        // ▶ opens the player at that frame, the region's review window outlined.
        let play =
          c.preview == nil
          ? ""
          : " <a class=\"seek\" href=\"#player-\(esc(c.id))\" data-clip=\"\(esc(c.id))\" data-seek=\"\(f.frame)\" data-region=\"\(esc(region))\" aria-label=\"play frame \(f.frame) of \(esc(c.id))\">▶</a>"
        return (f.frame == reviewed ? "<a href=\"#clip-\(esc(c.id))-\(esc(region))\">\(text)</a>" : text) + play
      }.joined(separator: " · ")
      h += "</td></tr>"
    }
    return h + "</tbody></table>"
  }

  /// A region's worst frame: its crops, composites, heatmap legend and the A/B viewer.
  static func reviewBlock(
    _ r: ReportModel.RegionReview, clip c: ReportModel.ClipRow, open: Bool, legendID: String, _ m: ReportModel
  ) -> String {
    var h = "<details class=\"review\" id=\"clip-\(esc(c.id))-\(esc(r.region))\"\(open ? " open" : "")>"
    h += "<summary>\(esc(r.region)): worst frame \(r.frame)\(r.crop.map { " · crop \(esc($0))" } ?? "")</summary>"
    // A review shown open loads its images at once; a folded one when it is opened.
    let lazy = open ? "" : " loading=\"lazy\""
    h += "<div class=\"images\">"
    for (role, label) in [
      ("source", "Source"), ("truth", "Ground truth α"), ("a", "A α · \(m.a.name)"), ("b", "B α · \(m.b.name)"),
      ("heat-a", "|α − α_gt| of A · \(m.a.name)"), ("heat-b", "|α − α_gt| of B · \(m.b.name)"),
    ] {
      guard let path = r.images[role] else { continue }
      h += "<figure><a href=\"\(esc(path))\"><img src=\"\(esc(path))\" alt=\"\(esc(label)), \(esc(r.region)) "
      h += "frame \(r.frame) of \(esc(c.id))\"\(lazy)></a><figcaption>\(esc(label))</figcaption></figure>"
    }
    h += "</div>"
    if let crop = r.crop, r.images["truth"] == nil {
      h += "<p class=\"small crop\">Crops: the \(esc(crop)) window of frame \(r.frame) where A and B disagree most "
      h += "(no ground truth: this frame feeds no verdict).</p>"
    } else if let crop = r.crop {
      h += "<p class=\"small crop\">Crops: the \(esc(crop)) window of frame \(r.frame) where A and B together are "
      h += "furthest from the ground truth over the \(esc(r.region)) region's pixels.</p>"
    }
    if r.images["heat-a"] != nil || r.images["heat-b"] != nil { h += heatmapLegend(legendID) }
    h += compositeFigure(r, clip: c.id, id: legendID, m)
    h += viewer(r.images, clip: c.id, a: m.a.name, b: m.b.name)
    return h + "</details>"
  }

  /// Whether `s` is a #RRGGBB colour, the only form a configured background takes on the page.
  public static func isHexColour(_ s: String) -> Bool {
    s.count == 7 && s.hasPrefix("#") && s.dropFirst().allSatisfy(\.isHexDigit)
  }

  /// Both arms' composites over a background the reader picks: checkerboard, black, white, or
  /// each arm's configured background (its colour; transparent arms stay on the checkerboard).
  /// Each is the source crop masked by the arm's alpha crop in SVG (a mask's luminance is the
  /// alpha), so no extra picture is stored; `id` keeps the masks' ids unique on the page.
  static func compositeFigure(_ r: ReportModel.RegionReview, clip: String, id: String, _ m: ReportModel) -> String {
    guard let source = r.images["source"], let pa = r.images["a"], let pb = r.images["b"], let size = r.size else {
      return ""
    }
    func pane(_ arm: ReportModel.Arm, _ letter: String, _ alpha: String) -> String {
      let colour = arm.backgroundColour.flatMap { isHexColour($0) ? $0 : nil }
      let style = colour.map { " style=\"--conf:\($0)\"" } ?? ""
      let mask = "mask-\(id)-\(letter)"
      let (w, h) = (size.width, size.height)
      return "<div class=\"comp\(colour == nil ? "" : " has-conf")\"\(style)>"
        + "<span class=\"pane-label\">\(letter) · \(esc(arm.name))</span>"
        + "<svg viewBox=\"0 0 \(w) \(h)\" role=\"img\" aria-label=\"Arm \(letter) (\(esc(arm.name))) composited, "
        + "\(esc(r.region)) frame \(r.frame) of \(esc(clip))\"><defs><mask id=\"\(mask)\" maskUnits=\"userSpaceOnUse\" "
        + "x=\"0\" y=\"0\" width=\"\(w)\" height=\"\(h)\"><image href=\"\(esc(alpha))\" width=\"\(w)\" height=\"\(h)\"/>"
        + "</mask></defs><image href=\"\(esc(source))\" width=\"\(w)\" height=\"\(h)\" mask=\"url(#\(mask))\"/></svg></div>"
    }
    var h = "<figure class=\"composite\" data-bg=\"checker\"><div class=\"controls\" role=\"group\" "
    h += "aria-label=\"Composite background\">Composite over: "
    for (key, label) in [
      ("checker", "Checkerboard"), ("black", "Black"), ("white", "White"), ("configured", "Configured"),
    ] {
      h += "<button type=\"button\" data-set-bg=\"\(key)\" aria-pressed=\"\(key == "checker")\">\(label)</button>"
    }
    h += "</div><div class=\"comp-pair\">" + pane(m.a, "A", pa) + pane(m.b, "B", pb) + "</div>"
    h += "<figcaption>The source with each arm's alpha, over the chosen background. Configured: A "
    h += "\(esc(m.a.background)), B \(esc(m.b.background)).</figcaption></figure>"
    return h
  }

  /// A percent change's class: better below −0.5 %, worse above +0.5 %, else the same.
  static func changeClass(_ change: Double) -> String { change < -0.5 ? "better" : change > 0.5 ? "worse" : "same" }

  /// The per-region values table of a clip.
  static func valuesTable(_ c: ReportModel.ClipRow, _ m: ReportModel) -> String {
    var h = "<table class=\"values\"><caption class=\"small\">Pooled values per region</caption><thead><tr>"
    h += "<th scope=\"col\" rowspan=\"2\">Region</th><th scope=\"col\" rowspan=\"2\">px/frame</th>"
    for metric in m.metrics {
      h +=
        "<th scope=\"colgroup\" colspan=\"3\">\(esc(metric)) <span class=\"scale\">\(esc(m.metricScales[metric] ?? ""))</span></th>"
    }
    h += "</tr><tr>"
    for _ in m.metrics { h += "<th scope=\"col\">A</th><th scope=\"col\">B</th><th scope=\"col\">B vs A</th>" }
    h += "</tr></thead><tbody>"
    for region in m.regions {
      guard let byMetric = c.values[region] else { continue }
      let support = c.support[region]
      h +=
        "<tr data-region=\"\(esc(region))\"><th scope=\"row\">\(esc(region))</th><td class=\"num\">\(support.map { "\($0.pixels)" } ?? "0")</td>"
      for metric in m.metrics {
        let pair = byMetric[metric] ?? ReportModel.MetricPair(a: nil, b: nil)
        h += "<td class=\"num\">\(num(pair.a))</td><td class=\"num\">\(num(pair.b))</td>"
        if let a = pair.a, let b = pair.b, a > 0 {
          let change = (b / a - 1) * 100
          h += "<td class=\"num ratio \(changeClass(change))\">\(pct(change))</td>"
        } else {
          h += "<td class=\"num\">–</td>"
        }
      }
      h += "</tr>"
    }
    return h + "</tbody></table>"
  }

  /// "Blind review: B preferred in 7 of 10 votes …".
  static func voteLine(_ v: ReportModel.VoteSummary) -> String {
    let n = v.a + v.b + v.ties
    return "Blind review: \(n) vote\(n == 1 ? "" : "s") — B preferred \(v.b), A preferred \(v.a), ties \(v.ties); "
      + "sign test on A against B (ties left out) p = \(fmt(v.pValue, 3))."
  }

  static func votesSection(_ m: ReportModel) -> String {
    guard let v = m.votes else { return "" }
    var h = "<section id=\"votes\"><h2>Blind A/B votes</h2><p>\(voteLine(v))</p>"
    h += "<p class=\"small\">Reviewers saw each clip's two arms in a random left/right order without their names. "
    h +=
      "Votes are not independent when one reviewer votes on many clips; read p as a guide beside the metric verdict.</p>"
    // Votes against the metric: per clip, the arm with less error on the transition band's
    // primary metric (the band the vote's crops and loop come from).
    let metric = m.primaryMetrics["transition"] ?? "MSE"
    let agreement = voteAgreement(v, m, metric: metric)
    if agreement.votes > 0 {
      h += "<p class=\"agreement\">Votes agree with the metric direction (transition/\(esc(metric)), less error "
      h += "preferred) on \(agreement.agreeing) of \(agreement.votes) votes that chose an arm "
      h += "(\(String(format: "%.0f", 100 * Double(agreement.agreeing) / Double(agreement.votes)))%).</p>"
    }
    h +=
      "<table class=\"votes sortable\"><thead><tr><th scope=\"col\">Clip</th><th scope=\"col\" data-type=\"num\">A</th>"
    h += "<th scope=\"col\" data-type=\"num\">B</th><th scope=\"col\" data-type=\"num\">Ties</th>"
    h += "<th scope=\"col\" data-type=\"num\">transition/\(esc(metric)) B vs A</th>"
    h += "<th scope=\"col\" data-type=\"num\">Votes agreeing</th></tr></thead><tbody>"
    for c in v.byClip {
      h += "<tr><th scope=\"row\"><a href=\"#clip-\(esc(c.clip))\">\(esc(c.clip))</a></th>"
      h += "<td class=\"num\">\(c.a)</td><td class=\"num\">\(c.b)</td><td class=\"num\">\(c.ties)</td>"
      let pair = m.clips.first { $0.id == c.clip }?.values["transition"]?[metric]
      if let a = pair?.a, let b = pair?.b, a > 0 {
        let change = (b / a - 1) * 100
        h += "<td class=\"num ratio \(changeClass(change))\" data-v=\"\(fmt(change, 10))\">\(pct(change))</td>"
      } else {
        h += "<td class=\"num\" data-v=\"\">–</td>"
      }
      let favoured = metricFavours(pair)
      let chose = c.a + c.b
      h +=
        favoured == nil || chose == 0
        ? "<td class=\"num\" data-v=\"\">–</td>"
        : "<td class=\"num\">\(favoured == "A" ? c.a : c.b) of \(chose)</td>"
      h += "</tr>"
    }
    return h + "</tbody></table></section>"
  }

  /// The arm with less error on a clip's metric, nil when equal or unknown.
  static func metricFavours(_ pair: ReportModel.MetricPair?) -> String? {
    guard let a = pair?.a, let b = pair?.b, a != b else { return nil }
    return b < a ? "B" : "A"
  }

  /// Over the clips whose metric favours an arm: the votes that chose an arm, and those that
  /// chose the one the metric favours.
  static func voteAgreement(_ v: ReportModel.VoteSummary, _ m: ReportModel, metric: String) -> (
    agreeing: Int, votes: Int
  ) {
    var agreeing = 0
    var votes = 0
    for c in v.byClip {
      guard let favoured = metricFavours(m.clips.first { $0.id == c.clip }?.values["transition"]?[metric]) else {
        continue
      }
      votes += c.a + c.b
      agreeing += favoured == "A" ? c.a : c.b
    }
    return (agreeing, votes)
  }

  /// An arm's model and background, above its settings.
  static func armFacts(_ a: ReportModel.Arm) -> String {
    guard let model = a.model else { return "" }
    return "<p class=\"small\">model <code>\(esc(model))</code> · background \(esc(a.background))</p>"
  }

  /// Credits per arm, the jobs with their ids, and the failures with reasons.
  static func provenanceDetails(_ m: ReportModel) -> String {
    guard !m.jobs.isEmpty else { return "" }
    var h = "<h3>Jobs</h3><p class=\"small\">"
    h += ["A", "B"].map { arm in
      let mine = m.jobs.filter { $0.arm == arm }
      let credits = mine.compactMap(\.credits)
      let failed = mine.filter { $0.status == "failed" }.count
      return "\(arm): \(mine.count) job\(mine.count == 1 ? "" : "s"), \(failed) failed, "
        + (credits.isEmpty ? "no credits reported" : "\(fmt(credits.reduce(0, +), 6)) credits")
    }.joined(separator: " · ")
    h += "</p><details class=\"jobs\"\(m.jobs.contains { $0.status == "failed" } ? " open" : "")>"
    h += "<summary>Every job (\(m.jobs.count))</summary><table class=\"jobs sortable\"><thead><tr>"
    for (name, type) in [
      ("Clip", ""), ("Arm", ""), ("Job id", ""), ("Status", ""), ("Attempt", "num"), ("Time (ms)", "num"),
      ("Credits", "num"), ("Output sha256", ""), ("Error", ""),
    ] {
      h += "<th scope=\"col\"\(type.isEmpty ? "" : " data-type=\"num\"")>\(name)</th>"
    }
    h += "</tr></thead><tbody>"
    for j in m.jobs {
      h +=
        "<tr class=\"\(j.status == "failed" ? "failed" : "")\"><td><a href=\"#clip-\(esc(j.clip))\">\(esc(j.clip))</a></td>"
      h += "<td>\(esc(j.arm))</td><td><code>\(esc(j.jobID ?? "–"))</code></td><td>\(esc(j.status))"
      if let reused = j.reusedFrom { h += " <span class=\"small\">(reused from \(esc(reused)))</span>" }
      h += "</td><td class=\"num\">\(j.attempt)</td><td class=\"num\">\(j.durationMS.map(String.init) ?? "–")</td>"
      h += "<td class=\"num\">\(j.credits.map { fmt($0, 6) } ?? "–")</td>"
      h += "<td><code>\(esc(j.outputSHA256.map { String($0.prefix(12)) } ?? "–"))</code></td>"
      h += "<td class=\"error\">\(esc(j.error ?? ""))"
      if let log = j.requestLog, j.status == "failed" {
        h +=
          " <a class=\"small\" href=\"\(esc(log))\">\(j.requestCount) request\(j.requestCount == 1 ? "" : "s") (operational log)</a>"
      }
      h += "</td></tr>"
    }
    return h + "</tbody></table></details>"
  }

  /// A clip fails when it could not be scored or was inconclusive, or when B is worse than A by
  /// more than the margin on a region's primary metric (a runbook case of arm B).
  static func isFailing(_ c: ReportModel.ClipRow, _ m: ReportModel) -> Bool {
    ["failed", "inconclusive"].contains(c.status)
      || m.runbook.contains { $0.arm == "B" && $0.cases.contains { $0.clip == c.id } }
  }

  /// The clip filters: failing clips only, one tag, one region (its review crops and worst
  /// frames; the rest of each clip stays).
  static func clipFilters(_ m: ReportModel) -> String {
    let tags = Array(Set(m.clips.flatMap(\.tags))).sorted()
    let regions = m.regions.filter { r in m.clips.contains { c in c.reviews.contains { $0.region == r } } }
    let failing = m.clips.filter { isFailing($0, m) }.count
    var h = "<div class=\"clip-filters\" role=\"group\" aria-label=\"Filter the clips\">"
    h += "<label><input type=\"checkbox\" id=\"failing-only\"> failing clips only (\(failing))</label> "
    h += "<label>Tag <select id=\"tag-filter\"><option value=\"\">all</option>"
    h += tags.map { "<option>\(esc($0))</option>" }.joined() + "</select></label> "
    h += "<label>Region <select id=\"region-filter\"><option value=\"\">all</option>"
    h += regions.map { "<option>\(esc($0))</option>" }.joined() + "</select></label> "
    h += "<span class=\"small\" id=\"clip-count\" aria-live=\"polite\"></span></div>\n"
    // An index: every clip one click away (opening its fold), failing ones marked.
    h += "<nav class=\"clip-index\" aria-label=\"Clips\"><span class=\"small\">Clips:</span> "
    h += m.clips.map { c in
      let failing = isFailing(c, m)
      return "<a href=\"#clip-\(esc(c.id))\"\(failing ? " class=\"failing\"" : "")>\(esc(c.id))</a>"
    }.joined(separator: " ")
    return h + "</nav>\n"
  }

  /// Applies the clip filters; each change says how many clips are shown. A link into a folded
  /// clip (a runbook case, a worst clip) opens every fold around its target.
  static let filterScript = """
    (function(){
    function reveal(){var id=decodeURIComponent(location.hash.slice(1)),t=id&&document.getElementById(id);
      if(!t)return;for(var e=t;e;e=e.parentElement){if(e.tagName==='DETAILS')e.open=true}t.scrollIntoView()}
    window.addEventListener('hashchange',reveal);reveal();
    })();
    (function(){
    var only=document.getElementById('failing-only'),tag=document.getElementById('tag-filter'),
      region=document.getElementById('region-filter'),count=document.getElementById('clip-count');
    if(!only)return;
    function apply(){
      var shown=0,all=document.querySelectorAll('article.clip');
      Array.prototype.forEach.call(all,function(a){
        var ok=(!only.checked||a.getAttribute('data-failing')==='1')&&
          (!tag.value||a.getAttribute('data-tags').indexOf(' '+tag.value+' ')>=0);
        a.hidden=!ok;if(ok)shown++;
        Array.prototype.forEach.call(a.querySelectorAll('details.review, table.worst tr[id]'),function(d){
          d.hidden=!!region.value&&d.id.slice(-(region.value.length+1))!=='-'+region.value;
        });
      });
      count.textContent=shown+' of '+all.length+' clips shown';
    }
    [only,tag,region].forEach(function(e){e.addEventListener('change',apply)});apply();
    })();
    """

  /// Sortable tables (click a header; again to reverse) and the composites' background buttons.
  static let pageScript = """
    (function(){
    function val(td,num){var v=td.getAttribute('data-v');if(v===null)v=td.textContent.trim();
      if(!num)return v.toLowerCase();var x=parseFloat(v.replace(/[^0-9eE.+\\-]/g,''));return isNaN(x)?null:x}
    Array.prototype.forEach.call(document.querySelectorAll('table.sortable'),function(t){
      var body=t.tBodies[0];
      Array.prototype.forEach.call(t.tHead.querySelectorAll('th'),function(th){if(th.classList.contains('nosort'))return;
        var col=th.hasAttribute('data-col')?+th.getAttribute('data-col'):th.cellIndex;
        th.tabIndex=0;th.classList.add('sorter');
        function sort(){var num=th.getAttribute('data-type')==='num',dir=th.getAttribute('aria-sort')==='ascending'?-1:1;
          Array.prototype.forEach.call(t.tHead.querySelectorAll('th'),function(o){o.removeAttribute('aria-sort')});
          th.setAttribute('aria-sort',dir===1?'ascending':'descending');
          var rows=Array.prototype.slice.call(body.rows);
          rows.sort(function(a,b){var x=val(a.cells[col],num),y=val(b.cells[col],num);
            if(x===y)return 0;if(x===null)return 1;if(y===null)return -1;return (x<y?-1:1)*dir});
          rows.forEach(function(r){body.appendChild(r)})}
        th.addEventListener('click',sort);th.addEventListener('keydown',function(e){if(e.key==='Enter'){e.preventDefault();sort()}})})});
    Array.prototype.forEach.call(document.querySelectorAll('.composite'),function(f){
      Array.prototype.forEach.call(f.querySelectorAll('[data-set-bg]'),function(b){b.addEventListener('click',function(){
        f.setAttribute('data-bg',b.getAttribute('data-set-bg'));
        Array.prototype.forEach.call(f.querySelectorAll('[data-set-bg]'),function(o){o.setAttribute('aria-pressed',String(o===b))})})})});
    })();
    """

  static let sectionCSS = """
    .clip-index{display:flex;flex-wrap:wrap;gap:4px 10px;margin:6px 0 10px;font-size:13px}.clip-index a.failing{color:var(--bad);font-weight:600}
    .clip-index a.failing::before{content:"● "}
    .swatch{display:inline-block;width:14px;height:3px;vertical-align:middle;margin:0 4px 0 10px}.swatch.sa{background:var(--a)}.swatch.sb{background:var(--b)}
    .curves{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}.curve{margin:0}.curve svg{background:#fbfcfd;border:1px solid var(--line);border-radius:4px}
    .curve svg text{font-size:9px;fill:var(--muted)}.curve .axis{stroke:#c9ced8}.curve .mark{stroke:#c62f2f;stroke-dasharray:2 2;stroke-width:1}
    .curve .la{fill:none;stroke:var(--a);stroke-width:1.4}.curve .lb{fill:none;stroke:var(--b);stroke-width:1.4}circle.la{fill:var(--a)}circle.lb{fill:var(--b)}
    details.review{border-top:1px solid var(--line);margin-top:8px;padding-top:6px}details.review>summary{cursor:pointer;font-weight:600}
    details.more-curves>summary{cursor:pointer;font-size:12px;color:var(--muted)}
    table.worst{margin:8px 0}table.worst td,table.worst th{font-size:12px;padding:3px 6px}
    .composite .controls{display:flex;gap:6px;align-items:center;font-size:12px;margin:6px 0}
    .composite button{font:inherit;padding:2px 8px;border:1px solid var(--line);border-radius:4px;background:#fff;cursor:pointer}
    .composite button[aria-pressed=true]{background:#1d2330;color:#fff}
    .comp-pair{display:grid;grid-template-columns:1fr 1fr;gap:8px}.comp{position:relative;border-radius:4px;border:1px solid var(--line);overflow:hidden}
    .comp svg{display:block;width:100%;height:auto}.comp svg image{image-rendering:pixelated}
    .composite[data-bg=checker] .comp,.composite[data-bg=configured] .comp{background:repeating-conic-gradient(#ccc 0 25%,#fff 0 50%) 0 0/16px 16px}
    .composite[data-bg=black] .comp{background:#000}.composite[data-bg=white] .comp{background:#fff}
    .composite[data-bg=configured] .comp.has-conf{background:var(--conf)}
    table.sortable th.sorter{cursor:pointer}table.sortable th[aria-sort=ascending]::after{content:" ▲"}table.sortable th[aria-sort=descending]::after{content:" ▼"}
    header nav{margin-top:6px}header nav a{color:#cfd8ea;margin-right:14px;text-decoration:none}header nav a:hover{text-decoration:underline}
    .gate-status{flex:0 0 auto}caption{text-align:left;padding:4px 0}.runbook-arm{margin:8px 0}.job-errors li,.problems li{margin:2px 0}
    table.clips td,table.clips th{font-size:12px;padding:4px 6px}tr.failed td{background:#fdf1f1}
        .run-name{font-weight:600}
    """
}
