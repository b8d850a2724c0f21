import Foundation
import MatteMetrics
public import Store
import Verdict

/// The pages `mattegate serve` adds to the reports: the runs list, a comparison of two runs,
/// history charts per endpoint and the blind A/B vote. Every stored string is escaped.
public enum ServedPages {
  /// The navigation every served page (and a served report) carries.
  public static let navigation: [(label: String, href: String)] = [
    ("Runs", "/"), ("History", "/history"), ("Defaults", "/defaults"),
  ]

  static func page(_ title: String, _ body: String, script: String = "") -> String {
    """
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>\(HTMLReport.esc(title)) · mattegate</title>
    <style>\(HTMLReport.css)\(HTMLReport.sectionCSS)\(css)</style>
    </head>
    <body>
    <header><div class="brand">mattegate</div><h1>\(HTMLReport.esc(title))</h1>\(HTMLReport.navBar(navigation))</header>
    <main>
    \(body)
    </main>
    <footer>mattegate serve · read from SQLite on every request.</footer>
    \(script.isEmpty ? "" : "<script>\(script)</script>")
    </body>
    </html>

    """
  }

  static func esc(_ s: String) -> String { HTMLReport.esc(s) }

  static func day(_ d: Date) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyy-MM-dd HH:mm"
    return f.string(from: d) + " UTC"
  }

  /// Every stored run, newest first, with links to its report and its vote page, and a form
  /// that compares any two.
  /// `promotions` names, per run, the default changes it was the evidence for.
  /// Archived runs are left out unless `showArchived`; a link shows or hides them.
  public static func runs(
    _ runs: [RunRecord], votes: [String: Int], database: String, promotions: [String: [DefaultChangeRecord]] = [:],
    showArchived: Bool = false, message: String? = nil
  ) -> String {
    let archived = runs.filter { $0.archivedAt != nil }.count
    let newest = runs.filter { showArchived || $0.archivedAt == nil }.sorted {
      ($0.createdAt, $0.id) > ($1.createdAt, $1.id)
    }
    var b = message.map { "<p class=\"thanks\" role=\"status\">\(esc($0))</p>" } ?? ""
    b +=
      "<p class=\"small\">\(newest.count) run\(newest.count == 1 ? "" : "s") in <code>\(esc(database))</code>"
    if archived > 0 {
      b +=
        showArchived
        ? ", archived ones included (<a href=\"/\">hide the \(archived) archived</a>)"
        : " (<a href=\"/?archived=1\">show \(archived) archived</a>)"
    }
    b += ".</p>"
    if newest.count >= 2 {
      func select(_ name: String, _ chosen: Int) -> String {
        "<select name=\"\(name)\" aria-label=\"Run \(name.uppercased())\">"
          + newest.enumerated().map { i, r in
            "<option value=\"\(esc(r.id))\"\(i == chosen ? " selected" : "")>\(esc(r.id)) · \(esc(r.configAName)) → \(esc(r.configBName))</option>"
          }.joined() + "</select>"
      }
      b += "<form class=\"compare-form\" method=\"get\" action=\"/compare\">Compare \(select("a", 1)) with "
      b += "\(select("b", 0)) <button type=\"submit\">Compare</button></form>"
    }
    b += "<table class=\"runs sortable\"><caption class=\"small\">Click a column's header to sort by it.</caption>"
    b += "<thead><tr><th scope=\"col\">Run</th><th scope=\"col\">Created</th><th scope=\"col\">Clip set</th>"
    b += "<th scope=\"col\">A → B</th><th scope=\"col\">Provider</th><th scope=\"col\">Outcome</th>"
    b += "<th scope=\"col\" data-type=\"num\">Exit</th><th scope=\"col\" data-type=\"num\">Votes</th>"
    b += "<th scope=\"col\" class=\"nosort\">Review</th></tr></thead><tbody>"
    for r in newest {
      let finished = r.exitCode != nil
      let status = GateWords.status(exitCode: r.exitCode)
      b += "<tr><th scope=\"row\">"
      b += finished ? "<a href=\"/runs/\(esc(r.id))/\">\(esc(r.id))</a>" : esc(r.id)
      b += runLabel(r)
      for c in promotions[r.id] ?? [] where c.action == "promote" {
        b +=
          "<div class=\"small promoted-to\"><a href=\"/defaults#change-\(c.id)\">promoted</a> to <code>\(esc(c.configPath))</code> (change #\(c.id))</div>"
      }
      b += "</th><td>\(esc(day(r.createdAt)))</td><td>\(esc(r.clipsetName))</td>"
      b += "<td>\(esc(r.configAName)) → \(esc(r.configBName))</td><td>\(esc(r.provider))</td>"
      b += "<td><span class=\"verdict \(status.cls)\">\(esc(status.word))</span> "
      b += "<span class=\"small\">\(esc(r.outcome ?? (r.status == "running" ? "unfinished" : r.status)))</span></td>"
      b += "<td class=\"num\">\(r.exitCode.map(String.init) ?? "–")</td><td class=\"num\">\(votes[r.id] ?? 0)</td>"
      b += "<td>" + (finished ? "<a href=\"/runs/\(esc(r.id))/vote\">blind vote</a> · " : "")
      b += "<a href=\"/runs/\(esc(r.id))/manage\">manage</a>"
      b += r.archivedAt == nil ? "" : " <span class=\"tag\">archived</span>"
      b += "</td></tr>"
    }
    b += "</tbody></table>"
    return page("Runs", b, script: HTMLReport.pageScript)
  }

  /// Clip by clip, B vs A in both runs for each of run 1's primary endpoints (see
  /// `RunComparability.lineup`).
  public struct Lineup: Sendable {
    public var endpoints: [(region: String, metric: String)]
    public var rows: [(clip: String, cells: [(one: Double?, two: Double?)])]

    public init(
      endpoints: [(region: String, metric: String)], rows: [(clip: String, cells: [(one: Double?, two: Double?)])]
    ) {
      self.endpoints = endpoints
      self.rows = rows
    }
  }

  /// Two runs side by side: their arms and gate outcomes, every difference that stands between
  /// them and a fair comparison, then every endpoint's estimate and interval in each, drawn on
  /// one scale, the change between them (withheld when it would mean nothing), and clip by clip
  /// B vs A in both on the clips they share.
  public static func compare(
    _ a: RunRecord, _ ac: [ComparisonRecord], _ b: RunRecord, _ bc: [ComparisonRecord], sourceNotes: [String] = [],
    lineup: Lineup? = nil
  ) -> String {
    let comparability = RunComparability(a, b)
    var body = "<div class=\"configs\">"
    for (label, r) in [("Run 1", a), ("Run 2", b)] {
      let status = GateWords.status(exitCode: r.exitCode)
      body += "<div class=\"card\"><h2>\(label): <a href=\"/runs/\(esc(r.id))/\">\(esc(r.id))</a></h2>\(runLabel(r))"
      body += "<p><span class=\"arm a\">A</span> \(esc(r.configAName)) <span class=\"vs\">vs</span> "
      body += "<span class=\"arm b\">B</span> \(esc(r.configBName))</p>"
      body += "<p class=\"small\">\(esc(day(r.createdAt))) · clip set \(esc(r.clipsetName)) · provider "
      body += "\(esc(r.provider))</p><p><span class=\"verdict \(status.cls)\">\(esc(status.word))</span> "
      body += "\(esc(r.outcome ?? r.status))</p></div>"
    }
    body += "</div>"
    if !comparability.notes.isEmpty {
      body += "<div class=\"warn comparability\"><p><b>Not like for like.</b> "
      body += comparability.changeWithheld.map { "The change between the runs is not shown: \(esc($0)). " } ?? ""
      body += "Read the two runs side by side with these differences in mind:</p><ul>"
      for note in comparability.notes { body += "<li>\(esc(note))</li>" }
      body += "</ul></div>"
    }
    if !sourceNotes.isEmpty {
      // The seed's rule: results over different source bytes or compression are not comparable.
      body += "<div class=\"warn source-differences\"><p><b>Not the same sources.</b> These clips differ between "
      body += "the two runs, so a change between them may come from the sources, not the configs:</p><ul>"
      for note in sourceNotes { body += "<li>\(esc(note))</li>" }
      body += "</ul></div>"
    }
    let bByKey = Dictionary(bc.map { ("\($0.region)/\($0.metric)", $0) }, uniquingKeysWith: { x, _ in x })
    let rows = ac.filter { bByKey["\($0.region)/\($0.metric)"] != nil }.sorted {
      ($0.isPrimary ? 0 : 1, order($0.region, $0.metric)) < ($1.isPrimary ? 0 : 1, order($1.region, $1.metric))
    }
    let widest =
      (ac + bc).flatMap { [$0.ciLowPercent, $0.ciHighPercent, $0.estimatePercent] }.compactMap { $0 }.map(abs).max()
      ?? 1
    let span = max(widest, 5) * 1.05
    body += "<table class=\"compare sortable\"><caption class=\"small\">B vs A in each run (lower is better). In the "
    body +=
      "chart the first run is drawn above the second; the shaded band is the first run's margin.</caption><thead><tr>"
    body +=
      "<th scope=\"col\">Endpoint</th><th scope=\"col\" data-type=\"num\">Run 1</th><th scope=\"col\">Verdict 1</th>"
    body += "<th scope=\"col\" data-type=\"num\">Run 2</th><th scope=\"col\">Verdict 2</th>"
    body += "<th scope=\"col\" data-type=\"num\">Change (points)</th>"
    body += "<th scope=\"col\" class=\"nosort\">−\(HTMLReport.fmt(span, 2))% · 0 · +\(HTMLReport.fmt(span, 2))%</th>"
    body += "</tr></thead><tbody>"
    for x in rows {
      let y = bByKey["\(x.region)/\(x.metric)"]!
      body += "<tr\(x.isPrimary ? " class=\"primary\"" : "")><th scope=\"row\">\(esc(x.region))/\(esc(x.metric))"
      body += x.isPrimary ? " <span class=\"tag\">primary</span>" : ""
      body +=
        "</th>\(estimateCell(x))<td><span class=\"verdict \(HTMLReport.verdictClass(x.verdict))\">\(esc(x.verdict))</span></td>"
      body +=
        "\(estimateCell(y))<td><span class=\"verdict \(HTMLReport.verdictClass(y.verdict))\">\(esc(y.verdict))</span></td>"
      if let e1 = x.estimatePercent, let e2 = y.estimatePercent, comparability.changeWithheld == nil {
        body += "<td class=\"num \(HTMLReport.signClass(e2 - e1))\" data-v=\"\(HTMLReport.fmt(e2 - e1, 8))\">"
        body += String(format: "%+.1f", e2 - e1) + "</td>"
      } else {
        body += "<td class=\"num\" data-v=\"\">–</td>"
      }
      body += "<td>\(pairForest(x, y, span: span))</td></tr>"
    }
    body += "</tbody></table>"
    if let lineup, !lineup.rows.isEmpty, !lineup.endpoints.isEmpty {
      body += "<h2>Clip by clip</h2><table class=\"lineup sortable\"><caption class=\"small\">B vs A per clip in "
      body +=
        "each run, on run 1's primary endpoints, for the \(lineup.rows.count) clip\(lineup.rows.count == 1 ? "" : "s") "
      body += "both runs scored from the same source bytes (lower is better).</caption><thead><tr>"
      body += "<th scope=\"col\">Clip</th>"
      for e in lineup.endpoints {
        let name = esc("\(e.region)/\(e.metric)")
        body +=
          "<th scope=\"col\" data-type=\"num\">\(name) run 1</th><th scope=\"col\" data-type=\"num\">\(name) run 2</th>"
      }
      body += "</tr></thead><tbody>"
      for row in lineup.rows {
        body += "<tr><th scope=\"row\">\(esc(row.clip))</th>"
        for cell in row.cells {
          for v in [cell.one, cell.two] {
            body += "<td class=\"num \(HTMLReport.signClass(v))\" data-v=\"\(v.map { HTMLReport.fmt($0, 8) } ?? "")\">"
            body += HTMLReport.pct(v) + "</td>"
          }
        }
        body += "</tr>"
      }
      body += "</tbody></table>"
    }
    return page("Compare \(a.id) with \(b.id)", body, script: HTMLReport.pageScript)
  }

  /// Where an endpoint goes in lists: by region, then metric, in their declared orders.
  public static func order(_ region: String, _ metric: String) -> Int {
    (RegionKind.allCases.firstIndex { $0.rawValue == region } ?? 99) * 100
      + (MetricKind.allCases.firstIndex { $0.rawValue == metric } ?? 99)
  }

  static func estimateCell(_ c: ComparisonRecord) -> String {
    var s =
      "<td class=\"num \(HTMLReport.signClass(c.estimatePercent))\" data-v=\"\(c.estimatePercent.map { HTMLReport.fmt($0, 8) } ?? "")\">"
    s += HTMLReport.pct(c.estimatePercent)
    if let lo = c.ciLowPercent, let hi = c.ciHighPercent {
      s += " <span class=\"small\">[\(HTMLReport.pct(lo)), \(HTMLReport.pct(hi))]</span>"
    }
    return s + "</td>"
  }

  /// Both runs' 95% intervals and estimates on one scale: run 1 above, run 2 below.
  static func pairForest(_ x: ComparisonRecord, _ y: ComparisonRecord, span: Double) -> String {
    func px(_ v: Double) -> Double { 80 + 76 * max(-1, min(1, v / span)) }
    var s = "<svg width=\"160\" height=\"26\" viewBox=\"0 0 160 26\" role=\"img\" aria-label=\"run 1 "
    s += "\(HTMLReport.pct(x.estimatePercent)), run 2 \(HTMLReport.pct(y.estimatePercent))\">"
    let m = x.marginPercent
    s +=
      "<rect x=\"\(HTMLReport.fmt(px(-m), 4))\" y=\"1\" width=\"\(HTMLReport.fmt(px(m) - px(-m), 4))\" height=\"24\" class=\"band\"/>"
    s += "<line x1=\"80\" y1=\"0\" x2=\"80\" y2=\"26\" class=\"zero\"/>"
    for (c, yPos, cls) in [(x, 8.0, "r1"), (y, 18.0, "r2")] {
      guard let e = c.estimatePercent else { continue }
      if let lo = c.ciLowPercent, let hi = c.ciHighPercent {
        s +=
          "<line x1=\"\(HTMLReport.fmt(px(lo), 4))\" y1=\"\(yPos)\" x2=\"\(HTMLReport.fmt(px(hi), 4))\" y2=\"\(yPos)\" class=\"ci \(cls)\"/>"
      }
      s += "<circle cx=\"\(HTMLReport.fmt(px(e), 4))\" cy=\"\(yPos)\" r=\"3\" class=\"est \(cls)\"/>"
    }
    return s + "</svg>"
  }

  /// Which runs the history draws: one clip set, one arm pair (`A → B` by config names), one
  /// gate mode, and either the A/B comparisons (the default) or the A/A calibrations; never an
  /// archived run.
  public struct HistoryFilter: Sendable, Equatable {
    public var clipset: String?
    public var arms: String?
    public var mode: String?
    public var calibrations = false

    public init(clipset: String? = nil, arms: String? = nil, mode: String? = nil, calibrations: Bool = false) {
      self.clipset = clipset
      self.arms = arms
      self.mode = mode
      self.calibrations = calibrations
    }

    static func arms(_ r: EndpointHistoryRow) -> String { "\(r.configA) → \(r.configB)" }
    static func mode(_ r: EndpointHistoryRow) -> String { GatePolicy(canonicalText: r.gateText)?.mode.rawValue ?? "?" }
    static func isCalibration(_ r: EndpointHistoryRow) -> Bool { r.configAHash == r.configBHash }

    public func keeps(_ r: EndpointHistoryRow) -> Bool {
      !r.archived && (clipset == nil || r.clipset == clipset) && (arms == nil || Self.arms(r) == arms)
        && (mode == nil || Self.mode(r) == mode) && Self.isCalibration(r) == calibrations
    }

    /// This filter's address with `key` set to `value` (nil: removed).
    func href(_ key: String, _ value: String?) -> String {
      var fields: [(String, String)] = []
      for (k, v) in [("clipset", clipset), ("arms", arms), ("mode", mode), ("calibrations", calibrations ? "1" : nil)] {
        let chosen = k == key ? value : v
        if let chosen { fields.append((k, chosen)) }
      }
      guard !fields.isEmpty else { return "/history" }
      return "/history?"
        + fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }
        .joined(separator: "&")
    }
  }

  /// Per endpoint, every kept run's estimate with its 95% interval, oldest to newest, against
  /// zero and its margin band; endpoints primary in any kept run's own gate first. Above the
  /// charts, the filters: clip set, arm pair, gate mode, and A/B runs or A/A calibrations.
  public static func history(
    _ all: [(region: String, metric: String, rows: [EndpointHistoryRow])], filter: HistoryFilter = HistoryFilter()
  ) -> String {
    let everyRow = all.flatMap(\.rows)
    let series = all.map { s in (region: s.region, metric: s.metric, rows: s.rows.filter(filter.keeps)) }
    func choices(_ label: String, _ key: String, _ current: String?, _ values: [String]) -> String {
      guard values.count > 1 || current != nil else { return "" }
      let links = ([(nil, "all")] + values.map { ($0, $0) }).map { (value: String?, text: String) in
        value == current ? "<b>\(esc(text))</b>" : "<a href=\"\(esc(filter.href(key, value)))\">\(esc(text))</a>"
      }
      return "<span class=\"filter\">\(label): " + links.joined(separator: " · ") + "</span> "
    }
    let calibrationRuns = Set(everyRow.filter(HistoryFilter.isCalibration).map(\.runID)).count
    var body = "<p class=\"small history-filters\">"
    body += choices("Clip set", "clipset", filter.clipset, Set(everyRow.map(\.clipset)).sorted())
    body += choices(
      "Arms", "arms", filter.arms,
      Set(everyRow.filter { !HistoryFilter.isCalibration($0) }.map(HistoryFilter.arms)).sorted())
    body += choices("Gate mode", "mode", filter.mode, Set(everyRow.map(HistoryFilter.mode)).sorted())
    body += "<span class=\"filter\">Runs: "
    body +=
      filter.calibrations
      ? "<a href=\"\(esc(filter.href("calibrations", nil)))\">A/B comparisons</a> · <b>A/A calibrations</b>"
      : "<b>A/B comparisons</b> · <a href=\"\(esc(filter.href("calibrations", "1")))\">A/A calibrations (\(calibrationRuns))</a>"
    body += "</span></p>"
    body += "<p class=\"small\">Each point is one run's estimate of B vs A (lower is better) with its 95% interval, "
    body += "oldest run on the left; the shaded band is ±the run's margin. A filled point is a primary endpoint under "
    body += "that run's own gate, a hollow one a secondary. Colour is the verdict: <span class=\"dot good\"></span> "
    body += "improved <span class=\"dot ok\"></span> equivalent or non-inferior <span class=\"dot bad\"></span> "
    body += "regressed <span class=\"dot unknown\"></span> inconclusive."
    if filter.calibrations { body += " A/A calibrations compare a config with itself: their spread is the noise band." }
    body += "</p>"
    let shown = series.filter { s in s.rows.contains { $0.estimatePercent != nil } }
    if shown.isEmpty { body += "<p>No run has compared any endpoint yet.</p>" }
    let sorted = shown.sorted { l, r in
      let lp = l.rows.contains(where: \.isPrimary) ? 0 : 1
      let rp = r.rows.contains(where: \.isPrimary) ? 0 : 1
      return (lp, order(l.region, l.metric)) < (rp, order(r.region, r.metric))
    }
    body += "<div class=\"history\">"
    for s in sorted { body += historyChart(s.region, s.metric, s.rows) }
    return page(filter.calibrations ? "History · A/A calibrations" : "History", body + "</div>")
  }

  static func historyChart(_ region: String, _ metric: String, _ rows: [EndpointHistoryRow]) -> String {
    let (w, h, left, top, bottom) = (440.0, 166.0, 58.0, 10.0, 34.0)
    let values = rows.flatMap { [$0.estimatePercent, $0.ciLowPercent, $0.ciHighPercent] }.compactMap { $0 }
    let margin = rows.last?.marginPercent ?? 5
    let span = max(values.map(abs).max() ?? 1, margin * 2) * 1.1
    let n = max(rows.count, 1)
    func x(_ i: Int) -> Double { left + (w - left - 10) * (Double(i) + 0.5) / Double(n) }
    func y(_ v: Double) -> Double { top + (h - top - bottom) * (1 - (v + span) / (2 * span)) }
    let name = "\(region)/\(metric)"
    var s = "<figure class=\"hist\"><svg viewBox=\"0 0 \(Int(w)) \(Int(h))\" width=\"\(Int(w))\" height=\"\(Int(h))\" "
    s +=
      "role=\"img\" aria-label=\"\(esc(name)) over \(rows.count) run\(rows.count == 1 ? "" : "s")\"><title>\(esc(name))</title>"
    s += "<rect class=\"band\" x=\"\(left)\" y=\"\(HTMLReport.fmt(y(margin), 5))\" width=\"\(w - left - 10)\" "
    s += "height=\"\(HTMLReport.fmt(y(-margin) - y(margin), 5))\"/>"
    s +=
      "<line class=\"zero\" x1=\"\(left)\" y1=\"\(HTMLReport.fmt(y(0), 5))\" x2=\"\(w - 10)\" y2=\"\(HTMLReport.fmt(y(0), 5))\"/>"
    s +=
      "<text x=\"\(left - 4)\" y=\"\(HTMLReport.fmt(y(span) + 8, 5))\" text-anchor=\"end\">+\(HTMLReport.fmt(span, 2))%</text>"
    s += "<text x=\"\(left - 4)\" y=\"\(HTMLReport.fmt(y(0) + 3, 5))\" text-anchor=\"end\">0</text>"
    s +=
      "<text x=\"\(left - 4)\" y=\"\(HTMLReport.fmt(y(-span), 5))\" text-anchor=\"end\">−\(HTMLReport.fmt(span, 2))%</text>"
    let middle = HTMLReport.fmt((top + h - bottom) / 2, 5)
    s +=
      "<text class=\"axis\" transform=\"translate(12 \(middle)) rotate(-90)\" text-anchor=\"middle\">B vs A (%)</text>"
    s +=
      "<text class=\"axis\" x=\"\(HTMLReport.fmt((left + w - 10) / 2, 5))\" y=\"\(Int(h) - 6)\" text-anchor=\"middle\">"
    s += "runs, oldest → newest</text>"
    for (i, r) in rows.enumerated() {
      guard let e = r.estimatePercent else { continue }
      let role = r.isPrimary ? "primary" : "secondary"
      let tip = "\(r.runID): \(r.configA) → \(r.configB), \(HTMLReport.pct(e)), \(r.verdict) (\(role))"
      s +=
        "<a href=\"/runs/\(esc(r.runID))/\"><g class=\"pt \(HTMLReport.verdictClass(r.verdict))\(r.isPrimary ? "" : " secondary")\"><title>\(esc(tip))</title>"
      if let lo = r.ciLowPercent, let hi = r.ciHighPercent {
        s +=
          "<line x1=\"\(HTMLReport.fmt(x(i), 5))\" y1=\"\(HTMLReport.fmt(y(hi), 5))\" x2=\"\(HTMLReport.fmt(x(i), 5))\" "
        s += "y2=\"\(HTMLReport.fmt(y(lo), 5))\"/>"
      }
      s += "<circle cx=\"\(HTMLReport.fmt(x(i), 5))\" cy=\"\(HTMLReport.fmt(y(e), 5))\" r=\"4\"/></g></a>"
    }
    let primaryIn = rows.filter(\.isPrimary).count
    s += "</svg><figcaption>\(esc(name))"
    if primaryIn > 0 { s += " <span class=\"tag\">primary in \(primaryIn) of \(rows.count)</span>" }
    s += " · \(rows.count) run\(rows.count == 1 ? "" : "s")</figcaption></figure>"
    return s
  }

  /// One blind comparison: the clip's source and ground truth, then its two arms' crops as
  /// Left and Right in an order the server drew, under opaque names; the form sends the token
  /// and the choice.
  /// What a vote page needs to play the clip: the preview's tiles by position (left, right,
  /// and the ground truth when the vote may show it), and the preview frames it loops over.
  public struct VoteMotion: Sendable {
    public var tileWidth: Int
    public var tileHeight: Int
    public var fps: Double
    public var left: Int
    public var right: Int
    public var truth: Int?
    public var loop: ClosedRange<Int>

    public init(
      tileWidth: Int, tileHeight: Int, fps: Double, left: Int, right: Int, truth: Int?, loop: ClosedRange<Int>
    ) {
      self.tileWidth = tileWidth
      self.tileHeight = tileHeight
      self.fps = fps
      self.left = left
      self.right = right
      self.truth = truth
      self.loop = loop
    }
  }

  public static func vote(
    runID: String, clip: String, token: String, size: (width: Int, height: Int)?, votesSoFar: Int, thanks: Bool,
    motion: VoteMotion? = nil
  ) -> String {
    let base = "/vote/\(esc(token))"
    var b = ""
    if thanks { b += "<p class=\"thanks\" role=\"status\">Vote stored. Here is the next clip.</p>" }
    b += "<p>Run <a href=\"/runs/\(esc(runID))/\">\(esc(runID))</a> · clip <b>\(esc(clip))</b> · \(votesSoFar) vote"
    b +=
      "\(votesSoFar == 1 ? "" : "s") so far. Which matte is better? The arms are shown in a random order and not named.</p>"
    if let mo = motion {
      // The two arms in motion, looping over the frames around the crops' frame.
      b += "<section class=\"vote-motion\" data-tw=\"\(mo.tileWidth)\" data-th=\"\(mo.tileHeight)\" "
      b +=
        "data-fps=\"\(HTMLReport.fmt(mo.fps, 10))\" data-from=\"\(mo.loop.lowerBound)\" data-to=\"\(mo.loop.upperBound)\">"
      b += "<div class=\"vote-pair\">"
      for (side, tile) in [("Left", mo.left), ("Right", mo.right)] {
        b += "<figure><canvas data-tile=\"\(tile)\" width=\"\(mo.tileWidth)\" height=\"\(mo.tileHeight)\" "
        b += "aria-label=\"\(side) in motion\"></canvas><figcaption>\(side), in motion</figcaption></figure>"
      }
      b += "</div>"
      if let t = mo.truth {
        b += "<details class=\"vote-truth\"><summary>Ground truth in motion</summary><canvas data-tile=\"\(t)\" "
        b += "width=\"\(mo.tileWidth)\" height=\"\(mo.tileHeight)\"></canvas></details>"
      }
      b += "<video muted playsinline preload=\"auto\" src=\"\(base)/clip.webm\"></video>"
      b +=
        "<p class=\"small\">Frames \(mo.loop.lowerBound)–\(mo.loop.upperBound) of the preview around the crops' frame, "
      b +=
        "in a loop over a checkerboard. <kbd>Space</kbd> pause/play · <kbd>,</kbd> <kbd>.</kbd> a frame when paused.</p>"
      b += "</section>"
    }
    b += "<div class=\"images vote-refs\"><figure><img src=\"\(base)/source.png\" alt=\"Source crop of \(esc(clip))\">"
    b += "<figcaption>Source</figcaption></figure><figure><img src=\"\(base)/truth.png\" alt=\"Ground truth alpha of "
    b += "\(esc(clip))\"><figcaption>Ground truth α</figcaption></figure></div>"
    b += "<div class=\"vote-pair\">"
    for side in ["left", "right"] {
      let title = side == "left" ? "Left" : "Right"
      b += "<figure><img src=\"\(base)/\(side).png\" alt=\"\(title) matte of \(esc(clip))\">"
      if let size {
        // The source masked by this side's alpha, over a checkerboard.
        let (w, h) = (size.width, size.height)
        b += "<svg class=\"cut\" viewBox=\"0 0 \(w) \(h)\" role=\"img\" aria-label=\"\(title) composite of "
        b += "\(esc(clip)) over a checkerboard\"><defs><mask id=\"mask-\(side)\" maskUnits=\"userSpaceOnUse\" x=\"0\" "
        b +=
          "y=\"0\" width=\"\(w)\" height=\"\(h)\"><image href=\"\(base)/\(side).png\" width=\"\(w)\" height=\"\(h)\"/>"
        b +=
          "</mask></defs><image href=\"\(base)/source.png\" width=\"\(w)\" height=\"\(h)\" mask=\"url(#mask-\(side))\"/></svg>"
      }
      b += "<figcaption>\(title)</figcaption></figure>"
    }
    b += "</div><form method=\"post\" action=\"/runs/\(esc(runID))/vote\" class=\"vote-form\">"
    b += "<input type=\"hidden\" name=\"token\" value=\"\(esc(token))\">"
    b += "<label>Your name (optional) <input type=\"text\" name=\"voter\" maxlength=\"80\"></label> "
    b += "<button type=\"submit\" name=\"choice\" value=\"left\">Left is better</button> "
    b += "<button type=\"submit\" name=\"choice\" value=\"tie\">About the same</button> "
    b += "<button type=\"submit\" name=\"choice\" value=\"right\">Right is better</button></form>"
    b +=
      "<p class=\"small\">Keyboard: <kbd>←</kbd> left is better · <kbd>↓</kbd> about the same · <kbd>→</kbd> right is better.</p>"
    return page("Blind review · \(runID)", b, script: voteScript + (motion == nil ? "" : voteMotionScript))
  }

  /// Draws the vote page's tiles from its one video on each presented frame, looping between
  /// the section's first and last frames.
  static let voteMotionScript = """
    (function(){var s=document.querySelector('.vote-motion');if(!s)return;var v=s.querySelector('video');
    var tw=+s.dataset.tw,th=+s.dataset.th,fps=+s.dataset.fps,from=+s.dataset.from,to=+s.dataset.to;
    var cs=[].slice.call(s.querySelectorAll('canvas[data-tile]'));window.mattegateVoteVideo=v;
    var ch=document.createElement('canvas');ch.width=ch.height=16;var c=ch.getContext('2d');c.fillStyle='#fff';c.fillRect(0,0,16,16);
    c.fillStyle='#ccc';c.fillRect(0,0,8,8);c.fillRect(8,8,8,8);
    function draw(k){cs.forEach(function(cv){var x=cv.getContext('2d');x.fillStyle=x.createPattern(ch,'repeat');
      x.fillRect(0,0,cv.width,cv.height);if(v.readyState>=2)x.drawImage(v,+cv.dataset.tile*tw,0,tw,th,0,0,cv.width,cv.height);
      cv.dataset.frame=String(k)})}
    function at(t){return Math.round(t*fps)}
    function frame(now,meta){var k=at(meta.mediaTime);if(!v.paused&&(k>to||k<from)){v.currentTime=(from+0.5)/fps}else draw(k);
      v.requestVideoFrameCallback(frame)}
    v.requestVideoFrameCallback(frame);
    v.addEventListener('ended',function(){v.currentTime=(from+0.5)/fps;v.play()});
    v.addEventListener('loadeddata',function(){v.currentTime=(from+0.5)/fps;v.play()},{once:true});
    v.addEventListener('seeked',function(){draw(at(v.currentTime-0.5/fps))});
    document.addEventListener('keydown',function(e){if(e.target.tagName==='INPUT')return;
      if(e.key===' '){e.preventDefault();v.paused?v.play():v.pause()}
      else if((e.key===','||e.key==='.')&&v.paused){var k=Math.max(from,Math.min(to,at(v.currentTime-0.5/fps)+(e.key===','?-1:1)));
        v.currentTime=(k+0.5)/fps}})})();
    """

  static let voteScript = """
    document.addEventListener('keydown',function(e){if(e.target.tagName==='INPUT')return;
      var v={ArrowLeft:'left',ArrowDown:'tie',ArrowRight:'right'}[e.key];if(!v)return;e.preventDefault();
      document.querySelector('.vote-form button[value='+v+']').click()});
    """

  /// A page for something that is not there or not allowed, with the reason.
  public static func problem(_ title: String, _ message: String) -> String {
    page(title, "<p class=\"error\">\(esc(message))</p><p><a href=\"/\">All runs</a></p>")
  }

  static let css = """
    .compare-form{margin:10px 0}.compare-form select{max-width:420px}.card{background:var(--card);padding:10px 14px;border-radius:8px}
    .warn{color:var(--warn)}svg .r1{stroke:var(--a)}svg .r2{stroke:var(--b)}svg circle.r1{fill:var(--a)}svg circle.r2{fill:var(--b)}
    .history{display:flex;flex-wrap:wrap;gap:14px}.hist svg{background:var(--card);border:1px solid var(--line);border-radius:4px}
    .hist text{font-size:10px;fill:var(--muted)}.hist .band{fill:#e4ecfb}.hist .zero{stroke:#9aa3b5}
    .pt line{stroke:#1d2330;stroke-width:1.2}.pt circle{stroke:#1d2330;stroke-width:1}.pt.good circle{fill:var(--good)}.pt.bad circle{fill:var(--bad)}
    .pt.ok circle{fill:#2c55a8}.pt.unknown circle{fill:var(--warn)}
    .pt.secondary circle{fill:#fff;stroke-width:1.6}.hist text.axis{font-size:10px;fill:var(--muted)}.history-filters .filter{margin-right:14px}
    form.manage{margin:0 0 16px}form.manage.delete{border-top:1px solid var(--line);padding-top:12px;margin-top:20px}
    .dot{display:inline-block;width:10px;height:10px;border-radius:5px;vertical-align:middle}.dot.good{background:var(--good)}
    .dot.bad{background:var(--bad)}.dot.ok{background:#2c55a8}.dot.unknown{background:var(--warn)}
    .vote-pair{display:grid;grid-template-columns:1fr 1fr;gap:12px;margin:10px 0}.vote-pair img{width:100%;display:block;border:1px solid var(--line);border-radius:4px;image-rendering:pixelated}
    .vote-pair svg.cut{display:block;width:100%;height:auto;margin-top:6px;border-radius:4px;background:repeating-conic-gradient(#ccc 0 25%,#fff 0 50%) 0 0/16px 16px}
    .vote-pair svg.cut image{image-rendering:pixelated}
    .vote-refs{grid-template-columns:repeat(2,minmax(0,320px))}.vote-form button{font:inherit;padding:6px 14px;margin:4px}
    .thanks{color:var(--good)}
    .vote-motion{position:relative}.vote-motion canvas{width:100%;display:block;border:1px solid var(--line);border-radius:4px}
    .vote-motion video{position:absolute;left:0;top:0;width:2px;height:2px;opacity:0;pointer-events:none}.vote-truth canvas{max-width:50%}
    """
}

/// The gate's word (as the report's banner says it) and badge style for a stored exit code.
enum GateWords {
  static func status(exitCode: Int?) -> (word: String, cls: String) {
    guard let exitCode else { return ("UNFINISHED", "unknown") }
    let status = GateOutcome.status(exitCode: Int32(exitCode))
    let cls =
      switch status {
      case .passed: "good"
      case .inconclusive: "unknown"
      case .regression, .error: "bad"
      }
    return (HTMLReport.gateWord(status.rawValue), cls)
  }

}

extension ServedPages {
  /// A run's name and tags under its id, when it has them.
  static func runLabel(_ r: RunRecord) -> String {
    var parts: [String] = []
    if let name = r.name { parts.append("<span class=\"run-name\">\(esc(name))</span>") }
    for tag in (r.tags ?? "").split(separator: "\n") {
      parts.append("<span class=\"tag run-tag\">\(esc(String(tag)))</span>")
    }
    return parts.isEmpty ? "" : "<div class=\"small run-label\">\(parts.joined(separator: " "))</div>"
  }

  /// One run's housekeeping: rename it, edit its tags, archive or bring it back, delete it (the
  /// run's id typed again to confirm), with what a deletion would remove.
  public static func manage(
    _ r: RunRecord, folders: [String], bytes: Int64, reusedByOtherRuns: Int, evidenceOf: [Int64], message: String?
  ) -> String {
    let action = "/runs/\(esc(r.id))/manage"
    var b = message.map { "<p class=\"thanks\" role=\"status\">\(esc($0))</p>" } ?? ""
    b += "<p>Run <a href=\"/runs/\(esc(r.id))/\">\(esc(r.id))</a>\(runLabel(r))</p>"
    b +=
      "<form class=\"manage\" method=\"post\" action=\"\(action)\"><input type=\"hidden\" name=\"action\" value=\"rename\">"
    b += "<label>Name <input name=\"name\" value=\"\(esc(r.name ?? ""))\" maxlength=\"200\" size=\"40\"></label> "
    b += "<button type=\"submit\">Rename</button></form>"
    b +=
      "<form class=\"manage\" method=\"post\" action=\"\(action)\"><input type=\"hidden\" name=\"action\" value=\"tags\">"
    b += "<label>Tags, one <code>k=v</code> a line<br><textarea name=\"tags\" rows=\"3\" cols=\"40\">"
    b += esc(r.tags ?? "") + "</textarea></label> <button type=\"submit\">Save tags</button></form>"
    b += "<form class=\"manage\" method=\"post\" action=\"\(action)\">"
    if r.archivedAt == nil {
      b += "<input type=\"hidden\" name=\"action\" value=\"archive\"><button type=\"submit\">Archive</button> "
      b += "<span class=\"small\">kept in full, left out of the runs list and history</span></form>"
    } else {
      b += "<input type=\"hidden\" name=\"action\" value=\"unarchive\"><button type=\"submit\">Unarchive</button> "
      b += "<span class=\"small\">archived \(esc(day(r.archivedAt!)))</span></form>"
    }
    b +=
      "<form class=\"manage delete\" method=\"post\" action=\"\(action)\"><input type=\"hidden\" name=\"action\" value=\"delete\">"
    if let first = evidenceOf.first {
      b +=
        "<p class=\"small\">This run is the evidence of <a href=\"/defaults#change-\(first)\">default change #\(first)</a>: "
      b += "it cannot be deleted (archive it instead).</p></form>"
    } else {
      b += "<p>Delete removes the run's rows"
      b += folders.isEmpty ? "" : " and " + folders.map { "<code>\(esc($0))</code>" }.joined(separator: ", ")
      b += bytes > 0 ? String(format: " (%.1f MB)", Double(bytes) / 1e6) : ""
      b += reusedByOtherRuns > 0 ? "; \(reusedByOtherRuns) job(s) of other runs reused its outputs" : ""
      b += ". It cannot be undone.</p><label>Type <code>\(esc(r.id))</code> to confirm "
      b +=
        "<input name=\"confirm\" autocomplete=\"off\" size=\"30\"></label> <button type=\"submit\">Delete</button></form>"
    }
    return page("Manage \(r.id)", b)
  }

  /// Every change of a default config file, newest first: what it became, from where, on which
  /// evidence run (linked to its report when the store holds it), by whom and why.
  public static func defaults(_ changes: [DefaultChangeRecord], runs: Set<String>, database: String) -> String {
    var b = "<p class=\"small\">Changes of default config files made with <code>mattegate promote</code> and "
    b += "<code>mattegate rollback</code>, recorded in <code>\(esc(database))</code>.</p>"
    guard !changes.isEmpty else {
      return page("Defaults", b + "<p>No default has been changed through mattegate yet.</p>")
    }
    let latest = Dictionary(grouping: changes, by: \.configPath).mapValues { $0.map(\.id).max()! }
    b += "<table class=\"defaults sortable\"><caption class=\"small\">Click a column's header to sort by it.</caption>"
    b += "<thead><tr><th scope=\"col\" data-type=\"num\">#</th><th scope=\"col\">When</th><th scope=\"col\">Action</th>"
    b += "<th scope=\"col\">Config file</th><th scope=\"col\">Now holds</th><th scope=\"col\">Evidence</th>"
    b += "<th scope=\"col\">Owner</th><th scope=\"col\">Why</th></tr></thead><tbody>"
    for c in changes.sorted(by: { $0.id > $1.id }) {
      let current = latest[c.configPath] == c.id
      b +=
        "<tr id=\"change-\(c.id)\"\(current ? " class=\"current\"" : "")><th scope=\"row\" class=\"num\">\(c.id)</th>"
      b += "<td>\(esc(day(c.createdAt)))</td><td>\(esc(c.action))</td>"
      b += "<td><code>\(esc(c.configPath))</code>\(current ? " <span class=\"tag\">current</span>" : "")</td>"
      b +=
        "<td>\(esc(c.fromConfig)) <span class=\"small\">sha256 <code>\(esc(String(c.newSHA256.prefix(12))))</code></span></td><td>"
      if let run = c.runID {
        b +=
          runs.contains(run)
          ? "<a href=\"/runs/\(esc(run))/\">\(esc(run))</a>"
          : "\(esc(run)) <span class=\"small\">(not in this store)</span>"
        if let mode = c.gateMode, let outcome = c.gateOutcome {
          b += " <span class=\"small\">\(esc(mode)), \(esc(outcome))</span>"
        }
      } else {
        b += "<span class=\"small\">none</span>"
      }
      b += "</td><td>\(esc(c.owner))</td><td>\(esc(c.reason ?? ""))</td></tr>"
    }
    b += "</tbody></table>"
    return page("Defaults", b, script: HTMLReport.pageScript)
  }

  /// Where two runs' clips differ in source bytes or compression (bits per pixel differing by
  /// more than 1 %), or exist in one run only: one sentence per clip, in run 1's clip order.
  public static func sourceDifferences(_ one: [ClipRecord], _ two: [ClipRecord]) -> [String] {
    let byID = Dictionary(two.map { ($0.clipID, $0) }, uniquingKeysWith: { x, _ in x })
    var notes: [String] = []
    for a in one {
      guard let b = byID[a.clipID] else {
        notes.append("clip '\(a.clipID)' is in run 1 only")
        continue
      }
      if a.sha256 != b.sha256 {
        notes.append(
          "clip '\(a.clipID)': the source bytes differ (sha256 \(a.sha256.prefix(12))… then \(b.sha256.prefix(12))…)")
      } else if let x = a.bitsPerPixel, let y = b.bitsPerPixel, abs(x - y) > 0.01 * max(x, y) {
        notes.append(
          "clip '\(a.clipID)': compressed differently (\(HTMLReport.fmt(x, 4)) then \(HTMLReport.fmt(y, 4)) bits per pixel)"
        )
      }
    }
    let first = Set(one.map(\.clipID))
    for b in two where !first.contains(b.clipID) { notes.append("clip '\(b.clipID)' is in run 2 only") }
    return notes
  }
}
