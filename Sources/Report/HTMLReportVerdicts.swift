import Foundation

/// The top of the report after the gate: what differs between A and B, then the verdicts, the
/// primaries first and the secondaries folded.
extension HTMLReport {
  /// Every setting whose value differs between the arms (`key=value` lines of each arm's
  /// settings), as a table; the settings both share are counted, not listed.
  static func configDiff(_ m: ReportModel) -> String {
    func fields(_ text: String) -> [String: String] {
      var out: [String: String] = [:]
      for line in text.split(separator: "\n") {
        guard let eq = line.firstIndex(of: "=") else { continue }
        out[String(line[..<eq])] = String(line[line.index(after: eq)...])
      }
      return out
    }
    let a = fields(m.a.settings)
    let b = fields(m.b.settings)
    let keys = Set(a.keys).union(b.keys)
    let differing = keys.filter { a[$0] != b[$0] }.sorted()
    var h = "<section id=\"config-diff\"><h2>What B changes</h2>"
    guard !differing.isEmpty else {
      return h + "<p class=\"small\">A and B have the same settings (an A/A run).</p></section>\n"
    }
    h += "<table class=\"config-diff\"><thead><tr><th scope=\"col\">Setting</th>"
    h += "<th scope=\"col\"><span class=\"arm a\">A</span> \(esc(m.a.name))</th>"
    h += "<th scope=\"col\"><span class=\"arm b\">B</span> \(esc(m.b.name))</th></tr></thead><tbody>"
    for key in differing {
      h += "<tr><th scope=\"row\"><code>\(esc(key))</code></th>"
      h += "<td>\(a[key].map { "<code>\(esc($0))</code>" } ?? "<span class=\"small\">unset</span>")</td>"
      h += "<td>\(b[key].map { "<code>\(esc($0))</code>" } ?? "<span class=\"small\">unset</span>")</td></tr>"
    }
    let same = keys.count - differing.count
    h += "</tbody></table><p class=\"small\">\(differing.count) setting\(differing.count == 1 ? "" : "s") differ; "
    h += "\(same) \(same == 1 ? "is" : "are") the same in both (listed under Provenance).</p></section>\n"
    return h
  }

  /// The endpoints that decide the gate in one table, the others folded beneath it. SAD rows are
  /// left out unless primary (SAD is MAD times the region's pixel count, so its B/A is MAD's),
  /// and so are endpoints no clip had data for, each with a note saying so.
  static func verdictSections(_ m: ReportModel, span: Double) -> String {
    let noData = m.endpoints.filter { !$0.isPrimary && ($0.clips == 0 || $0.estimatePercent == nil) }
    let sadHidden = m.endpoints.filter { !$0.isPrimary && $0.metric == "SAD" && $0.clips > 0 }
    let hidden = Set((noData + sadHidden).map { "\($0.region)/\($0.metric)" })
    let primaries = m.endpoints.filter(\.isPrimary)
    let secondaries = m.endpoints.filter { !$0.isPrimary && !hidden.contains("\($0.region)/\($0.metric)") }
    var h = "<section id=\"verdicts\"><h2>Verdicts</h2>"
    h += "<p class=\"small\">Per clip y = ln(B/A) on the clip's pooled error (lower is better); B vs A = "
    h += "100·(e<sup>mean y</sup> − 1)%, a percent change: negative means B has less error. Intervals: "
    h += "\(esc(m.intervalMethod ?? "sign-flip inversion")) — the set of shifts the sign-flip test of the mean does "
    h += "not reject; the 90% interval is the decision interval of the Inferior, Equivalent and Non-inferior rules, "
    h += "the 95% one of Regressed and Improved. The margin is one-sided: B may be at most that much worse. "
    h += "p: exact sign-flip permutation; adj. p: Holm over the primaries, Benjamini–Hochberg q over the rest — the "
    h += "p the Regressed and Improved rules used. Labels are tried in the order Inferior, Regressed, Improved, "
    h += "Equivalent, Non-inferior, Inconclusive; the first that holds is the label.</p>"
    h += "<h3 id=\"primaries\">Primary endpoints: they decide the gate</h3>"
    h += endpointTable(primaries, m, span: span)
    if !secondaries.isEmpty {
      h += "<details class=\"secondaries\" id=\"secondaries\"><summary>Secondary endpoints (\(secondaries.count)): "
      h += "reported, never gating</summary>" + endpointTable(secondaries, m, span: span) + "</details>"
    }
    var notes: [String] = []
    if !sadHidden.isEmpty {
      notes.append(
        "SAD is not listed: it is MAD times the region's pixel count, so its B vs A is MAD's (\(sadHidden.count) row\(sadHidden.count == 1 ? "" : "s") left out)."
      )
    }
    for metric in Array(Set(noData.map(\.metric))).sorted() {
      let regions = noData.filter { $0.metric == metric }.map(\.region)
      let why = metric == "MESSDdt" ? " (it needs the clip set's motion vectors)" : ""
      notes.append("\(metric) is not listed for \(regions.joined(separator: ", ")): no clip had data\(why).")
    }
    if !notes.isEmpty { h += "<p class=\"small hidden-endpoints\">" + notes.map(esc).joined(separator: " ") + "</p>" }
    return h + "</section>\n"
  }

  static func endpointTable(_ rows: [ReportModel.EndpointRow], _ m: ReportModel, span: Double) -> String {
    var h =
      "<table class=\"verdicts sortable\"><caption class=\"small\">Click a column's header to sort by it.</caption>"
    h += "<thead><tr><th scope=\"col\">Endpoint</th><th scope=\"col\" data-type=\"num\">Clips</th>"
    h +=
      "<th scope=\"col\" data-type=\"num\">B vs A</th><th scope=\"col\">90% (decision)</th><th scope=\"col\">95% CI</th>"
    h += "<th scope=\"col\" class=\"forest-h nosort\" title=\"95% (thin) and 90% (thick) intervals; shaded: up to the "
    h += "+\(fmt(m.marginPercent, 2))% margin (one-sided)\">−\(fmt(span, 2))% · 0 · +\(fmt(span, 2))%</th>"
    h += "<th scope=\"col\" data-type=\"num\">Margin</th><th scope=\"col\" data-type=\"num\">p</th>"
    h +=
      "<th scope=\"col\" data-type=\"num\">adj. p</th><th scope=\"col\" data-type=\"num\">HL</th><th scope=\"col\">W/T/L</th>"
    h += "<th scope=\"col\" title=\"Where B fares worst against A; each opens its clip's evidence\">Worst clips</th>"
    h += "<th scope=\"col\">Verdict</th></tr></thead><tbody>\n"
    for e in rows {
      let cls = e.isPrimary ? "primary" : "secondary"
      let margin = e.marginPercent ?? m.marginPercent
      h += "<tr class=\"\(cls)\" data-region=\"\(esc(e.region))\" data-metric=\"\(esc(e.metric))\">"
      h += "<th scope=\"row\">\(esc(e.region))/\(esc(e.metric))</th><td class=\"num\">\(e.clips)</td>"
      h +=
        "<td class=\"num \(signClass(e.estimatePercent))\" data-v=\"\(e.estimatePercent.map { fmt($0, 8) } ?? "")\">\(pct(e.estimatePercent))</td>"
      h +=
        "<td class=\"num ci90\">\(e.ci90Percent.map { "[\(pct($0.lowerBound)), \(pct($0.upperBound))]" } ?? "–")</td>"
      h += "<td class=\"num\">\(e.ci95Percent.map { "[\(pct($0.lowerBound)), \(pct($0.upperBound))]" } ?? "–")</td>"
      h += "<td class=\"forest\">\(forest(e, margin: margin, span: span))</td>"
      h += "<td class=\"num\" data-v=\"\(fmt(margin, 8))\">+\(fmt(margin, 3))%</td>"
      h += "<td class=\"num\">\(e.pValue.map { fmt($0, 3) } ?? "–")</td>"
      h +=
        "<td class=\"num\" title=\"\(e.isPrimary ? "Holm-adjusted p" : "Benjamini–Hochberg q")\">\(e.adjustedP.map { fmt($0, 3) } ?? "–")</td>"
      h +=
        "<td class=\"num\" data-v=\"\(e.hodgesLehmannPercent.map { fmt($0, 8) } ?? "")\">\(pct(e.hodgesLehmannPercent))</td>"
      h += "<td class=\"num\">\(e.wins)/\(e.ties)/\(e.losses)</td><td class=\"worst-clips\">"
      if !e.worstClips.isEmpty {
        // Each opens the clip's worst frames in this endpoint's region (whose ▶ opens the
        // player there), or the clip when that region has no frames.
        h += e.worstClips.map { w in
          let frames = m.clips.first { $0.id == w.clip }?.worstFrames.contains { $0.region == e.region } == true
          let target = frames ? "clip-\(w.clip)-worst-\(e.region)" : "clip-\(w.clip)"
          return "<a href=\"#\(esc(target))\" data-clip=\"\(esc(w.clip))\">\(esc(w.clip))</a>"
            + " <span class=\"small \(signClass(w.percent))\">\(pct(w.percent))</span>"
        }.joined(separator: "<br>")
      } else if let clip = e.worstClip {
        h += "<a href=\"#clip-\(esc(clip))\">\(esc(clip))</a>"
        if let p = e.worstClipPercent { h += " <span class=\"small \(signClass(p))\">\(pct(p))</span>" }
      } else {
        h += "–"
      }
      h += "</td><td><span class=\"verdict \(verdictClass(e.verdict))\">\(esc(e.verdict))</span>"
      if let warning = e.warning { h += " <span class=\"verdict warn-badge\">⚠ \(esc(warning))</span>" }
      if let note = e.note { h += "<div class=\"note\">\(esc(note))</div>" }
      h += "</td></tr>\n"
    }
    return h + "</tbody></table>"
  }
}
