import Foundation

/// Renders a run as one self-contained HTML page (images are files beside it).
public enum HTMLReport {
  /// The page; `navigation` adds links to its header (the served report's way back).
  public static func render(_ m: ReportModel, navigation: [(label: String, href: String)] = []) -> String {
    let span = forestSpan(m.endpoints, margin: m.endpoints.compactMap(\.marginPercent).reduce(m.marginPercent, max))
    var h = """
      <!doctype html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>mattegate · \(esc(m.a.name)) vs \(esc(m.b.name)) · \(esc(m.runID))</title>
      <style>\(css)\(sectionCSS)\(playerCSS)</style>
      </head>
      <body>
      <header>
        <div class="brand">mattegate</div>
        <h1><span class="arm a">A</span> \(esc(m.a.name)) <span class="vs">vs</span> <span class="arm b">B</span> \(esc(m.b.name))</h1>
        \(navBar(navigation))
        <p class="meta">run <code>\(esc(m.runID))</code> · \(esc(iso(m.createdAt))) · clip set <b>\(esc(m.clipsetName))</b> (\(m.clips.count) clips, manifest <code>\(esc(String(m.clipsetSHA256.prefix(12))))</code>) · provider <b>\(esc(m.provider))</b></p>\(runLabel(m))\(promotionBanner(m))
      </header>
      <main>
      <section id="gate" class="gate \(esc(m.gateStatus))" data-exit-code="\(m.exitCode)">
        <div class="gate-status">\(esc(gateWord(m.gateStatus)))<div class="gate-mode small">\(esc(m.mode)) mode</div></div>
        <div class="gate-text"><p>\(esc(m.gateSummary))</p>
      """
    if !m.gateReasons.isEmpty {
      // A pass's reasons are its warnings.
      let item = m.gateStatus == "passed" ? "<li class=\"warning\">⚠ Warning: " : "<li>"
      h += "<ul>" + m.gateReasons.map { "\(item)\(esc($0))</li>" }.joined() + "</ul>"
    }
    if let v = m.votes { h += "<p class=\"votes-line\">\(voteLine(v)) <a href=\"#votes\">votes by clip</a></p>" }
    h += """
        <p class="small">Exit code \(m.exitCode). \(modeText(m))</p></div>
      </section>
      """
    h += configDiff(m)
    h += verdictSections(m, span: span)
    h += """
      \(clipTable(m))
      \(runbookSection(m))
      <section id="clips">
      <h2>Clips</h2>
      <p class="small">For each clip: its per-frame metric curves, its worst frames per region, and for each region's worst frame, crops of the window where A and B together are furthest from the ground truth over the region's pixels: the source, the ground-truth alpha, both arms' alpha and error heatmaps, both arms composited over a background you choose, and a viewer that compares A and B side by side, with a slider or by flicker, zoomed and panned together. Tables give the pooled value per region (MAD and MSE ×1e3, mean over region pixels; SAD, Grad and Conn ÷1000, mean per frame with support) and B vs A as a percent change.</p>
      <p class="small legend-arms"><span class="swatch sa"></span> A · \(esc(m.a.name)) <span class="swatch sb"></span> B · \(esc(m.b.name)) — the colours of the arms in every curve.</p>

      """
    h +=
      "<p class=\"keys\" id=\"shortcuts\">Keyboard (on the viewer last used): "
      + shortcuts.map { "<kbd>\(esc($0.key))</kbd> \(esc($0.action))" }.joined(separator: " · ") + "</p>\n"
    h += clipFilters(m)
    // Clips with ground truth first; clips without it apart, after them (they feed no verdict).
    let withoutTruth = m.clips.enumerated().filter { !$0.element.hasTruth }
    for (clipIndex, c) in m.clips.enumerated() where c.hasTruth {
      h += clipArticle(c, index: clipIndex, m)
    }
    if !withoutTruth.isEmpty {
      h += "<h3 id=\"clips-no-truth\">Clips without ground truth (\(withoutTruth.count))</h3>"
      h += "<p class=\"small\">Customer footage without a matte: measured by flicker, edge alignment and where A "
      h +=
        "and B disagree, shown here and offered first in the blind vote. These measures never move the verdict.</p>\n"
      for (clipIndex, c) in withoutTruth { h += clipArticle(c, index: clipIndex, m) }
    }
    h += """
      </section>
      \(votesSection(m))
      <section id="provenance">
      <h2>Provenance</h2>
      <div class="configs">
      <div><h3><span class="arm a">A</span> \(esc(m.a.name))</h3>\(armFacts(m.a))<pre>\(esc(m.a.settings))</pre><p class="small">settings sha256 <code>\(esc(m.a.hash))</code></p></div>
      <div><h3><span class="arm b">B</span> \(esc(m.b.name))</h3>\(armFacts(m.b))<pre>\(esc(m.b.settings))</pre><p class="small">settings sha256 <code>\(esc(m.b.hash))</code></p></div>
      </div>
      <table class="versions"><caption class="small">Versions and hashes</caption><tbody>
      <tr><th scope="row">clip set</th><td>\(esc(m.clipsetName)) · manifest sha256 <code>\(esc(m.clipsetSHA256))</code></td></tr>
      <tr><th scope="row">provider</th><td>\(esc(m.provider))</td></tr>
      """
    for (k, v) in m.versions.sorted(by: { $0.key < $1.key }) {
      h += "<tr><th scope=\"row\">\(esc(k))</th><td><code>\(esc(v))</code></td></tr>"
    }
    h += "</tbody></table>"
    h += provenanceDetails(m)
    h += """
      </section>
      </main>
      <footer>mattegate · results are in SQLite; this page is rendered from them.</footer>
      <script>\(viewerScript)\(pageScript)\(filterScript)\(playerScript)</script>
      </body>
      </html>

      """
    return h
  }

  /// Header links, or nothing.
  static func navBar(_ links: [(label: String, href: String)]) -> String {
    guard !links.isEmpty else { return "" }
    return "<nav aria-label=\"mattegate\">"
      + links.map { "<a href=\"\(esc($0.href))\">\(esc($0.label))</a>" }.joined() + "</nav>"
  }

  /// The heatmaps' colour legend: the colour map's stops as an SVG gradient over
  /// 0 … `ReviewImages.heatmapTop`, labelled; `n` keeps the gradient's id unique on the page.
  static func heatmapLegend(_ n: String) -> String {
    let top = ReviewImages.heatmapTop
    let stops = ReviewImages.stops.map { s in
      "<stop offset=\"\(fmt(s.at * 100, 4))%\" stop-color=\"rgb(\(Int(s.rgb.0)),\(Int(s.rgb.1)),\(Int(s.rgb.2)))\"/>"
    }.joined()
    let ticks = [0.0, 0.25, 0.5, 0.75, 1.0].map { t in
      let label = t == 1 ? "≥\(fmt(top, 2))" : fmt(t * top, 3)
      return
        "<text x=\"\(fmt(10 + t * 300, 4))\" y=\"34\" text-anchor=\"\(t == 1 ? "end" : t == 0 ? "start" : "middle")\">\(label)</text>"
    }.joined()
    return "<figure class=\"legend\"><svg width=\"320\" height=\"40\" role=\"img\" "
      + "aria-label=\"Heatmap colours: |α − α_gt| from 0 (black) to \(fmt(top, 2)) or more (pale yellow)\">"
      + "<defs><linearGradient id=\"heat\(n)\">\(stops)</linearGradient></defs>"
      + "<rect x=\"10\" y=\"4\" width=\"300\" height=\"16\" fill=\"url(#heat\(n))\"/>\(ticks)</svg>"
      + "<figcaption>Heatmap colour: |α − α_gt| per pixel</figcaption></figure>"
  }

  /// The A/B viewer of one clip's crops: side by side, a slider between A and B, or a flicker
  /// between them, on the alphas or the error heatmaps, with zoom and pan synced across both.
  /// State is in data attributes (`data-mode`, `data-showing`, `data-layer`), which the script
  /// and the styles read. Nothing is loaded from elsewhere.
  static func viewer(_ images: [String: String], clip: String, a: String, b: String) -> String {
    guard let pa = images["a"], let pb = images["b"] else { return "" }
    let heatA = images["heat-a"] ?? pa
    let heatB = images["heat-b"] ?? pb
    func image(_ arm: String, _ alpha: String, _ heat: String, _ name: String) -> String {
      "<div class=\"pane p\(arm)\"><span class=\"pane-label\">\(arm.uppercased()) · \(esc(name))</span>"
        + "<img src=\"\(esc(alpha))\" data-alpha=\"\(esc(alpha))\" data-heat=\"\(esc(heat))\" "
        + "alt=\"Arm \(arm.uppercased()) (\(esc(name))) of \(esc(clip)), review crop\" draggable=\"false\"></div>"
    }
    return "<div class=\"viewer\" data-mode=\"side\" data-showing=\"a\" data-layer=\"alpha\" tabindex=\"0\" "
      + "aria-label=\"Compare A and B of \(esc(clip))\">"
      + "<div class=\"controls\" role=\"toolbar\" aria-label=\"Viewer mode\">"
      + "<button type=\"button\" data-set-mode=\"side\">Side by side</button>"
      + "<button type=\"button\" data-set-mode=\"slider\">Slider</button>"
      + "<button type=\"button\" data-set-mode=\"flicker\">Flicker</button>"
      + "<button type=\"button\" class=\"swap\" title=\"Show the other arm (F)\">A ⇄ B</button>"
      + "<label>Slider <input type=\"range\" class=\"split\" min=\"0\" max=\"100\" value=\"50\"></label>"
      + "<label><input type=\"checkbox\" class=\"heat\"> Error heatmap</label>"
      + "<button type=\"button\" class=\"reset\">Reset zoom</button></div>"
      + "<div class=\"stage\">" + image("a", pa, heatA, a) + image("b", pb, heatB, b) + "</div></div>"
  }

  /// The keyboard shortcuts the viewer script handles, as listed on the page.
  static let shortcuts: [(key: String, action: String)] = [
    ("1", "side by side"), ("2", "slider between A and B"), ("3", "flicker"), ("F or Space", "swap A and B (flicker)"),
    ("A / B", "show A / show B"), ("← / →", "move the slider"), ("E", "alpha ⇄ error heatmap"),
    ("+ / − / 0", "zoom in / out / reset (or wheel and drag)"),
  ]

  static let viewerScript = """
    (function(){
    var last=null;
    function q(v,s){return v.querySelector(s)}
    function all(v,s){return Array.prototype.slice.call(v.querySelectorAll(s))}
    function apply(v){var z=v._z;all(v,'.stage img').forEach(function(i){i.style.transform='translate('+z.x+'px,'+z.y+'px) scale('+z.s+')'});
      var s=q(v,'.split');v.style.setProperty('--split',s.value+'%');
      all(v,'[data-set-mode]').forEach(function(b){b.setAttribute('aria-pressed',String(b.getAttribute('data-set-mode')===v.dataset.mode))})}
    function mode(v,m){v.dataset.mode=m;apply(v)}
    function show(v,a){v.dataset.showing=a}
    function swap(v){show(v,v.dataset.showing==='a'?'b':'a')}
    function layer(v,heat){v.dataset.layer=heat?'heat':'alpha';q(v,'.heat').checked=heat;
      all(v,'.stage img').forEach(function(i){i.src=heat?i.dataset.heat:i.dataset.alpha})}
    function zoom(v,f,cx,cy){var z=v._z,s=Math.min(32,Math.max(1,z.s*f));z.x=cx-(cx-z.x)*s/z.s;z.y=cy-(cy-z.y)*s/z.s;z.s=s;
      if(s===1){z.x=0;z.y=0}apply(v)}
    all(document,'.viewer').forEach(function(v){
      v._z={s:1,x:0,y:0};apply(v);
      v.addEventListener('focusin',function(){last=v});v.addEventListener('pointerenter',function(){last=v});
      all(v,'[data-set-mode]').forEach(function(b){b.addEventListener('click',function(){mode(v,b.getAttribute('data-set-mode'))})});
      q(v,'.swap').addEventListener('click',function(){swap(v)});
      q(v,'.split').addEventListener('input',function(){apply(v)});
      q(v,'.heat').addEventListener('change',function(e){layer(v,e.target.checked)});
      q(v,'.reset').addEventListener('click',function(){v._z={s:1,x:0,y:0};apply(v)});
      var stage=q(v,'.stage'),drag=null;
      stage.addEventListener('wheel',function(e){e.preventDefault();var r=(e.target.closest('.pane')||stage).getBoundingClientRect();
        zoom(v,e.deltaY<0?1.25:0.8,e.clientX-r.left,e.clientY-r.top)},{passive:false});
      stage.addEventListener('pointerdown',function(e){drag={x:e.clientX,y:e.clientY}});
      window.addEventListener('pointerup',function(){drag=null});
      stage.addEventListener('pointermove',function(e){if(!drag)return;v._z.x+=e.clientX-drag.x;v._z.y+=e.clientY-drag.y;
        drag={x:e.clientX,y:e.clientY};apply(v)});
    });
    document.addEventListener('keydown',function(e){
      var v=last||document.querySelector('.viewer');if(!v||e.ctrlKey||e.metaKey||e.altKey)return;
      var t=e.target.tagName;if(t==='INPUT'&&e.target.type!=='checkbox'&&e.target.type!=='range'||t==='TEXTAREA'||t==='SELECT')return;
      var k=e.key,s=q(v,'.split'),w=q(v,'.stage').getBoundingClientRect();if(t==='BUTTON'&&(k===' '||k==='Enter'))return;
      if(k==='1')mode(v,'side');else if(k==='2')mode(v,'slider');else if(k==='3')mode(v,'flicker');
      else if(k==='f'||k==='F'||k===' ')swap(v);else if(k==='a'||k==='A')show(v,'a');else if(k==='b'||k==='B')show(v,'b');
      else if(k==='e'||k==='E')layer(v,v.dataset.layer!=='heat');
      else if(k==='ArrowLeft'||k==='ArrowRight'){s.value=String(Math.max(0,Math.min(100,+s.value+(k==='ArrowLeft'?-5:5))));apply(v)}
      else if(k==='+'||k==='=')zoom(v,1.25,w.width/4,w.height/2);else if(k==='-')zoom(v,0.8,w.width/4,w.height/2);
      else if(k==='0'){v._z={s:1,x:0,y:0};apply(v)}else return;
      e.preventDefault()});
    })();
    """

  static func forestSpan(_ rows: [ReportModel.EndpointRow], margin: Double) -> Double {
    let widest = rows.compactMap(\.ci95Percent).map { max(abs($0.lowerBound), abs($0.upperBound)) }.max() ?? 0
    return max(margin * 3, widest, 1) * 1.05
  }

  /// A small inline SVG: the 95% CI (thin) and 90% CI (thick) of the effect against ±margin.
  /// One scale for every row, so that the intervals can be compared down the table.
  static func forest(_ e: ReportModel.EndpointRow, margin: Double, span: Double) -> String {
    guard let ci = e.ci95Percent, let est = e.estimatePercent else { return "<span class=\"small\">–</span>" }
    func x(_ v: Double) -> Double { 80 + 76 * max(-1, min(1, v / span)) }
    var s = "<svg width=\"160\" height=\"18\" viewBox=\"0 0 160 18\" role=\"img\" aria-label=\"effect \(pct(est))\">"
    s +=
      "<rect x=\"\(fmt(x(-margin), 4))\" y=\"1\" width=\"\(fmt(x(margin) - x(-margin), 4))\" height=\"16\" class=\"band\"/>"
    s += "<line x1=\"80\" y1=\"0\" x2=\"80\" y2=\"18\" class=\"zero\"/>"
    s += "<line x1=\"\(fmt(x(ci.lowerBound), 4))\" y1=\"9\" x2=\"\(fmt(x(ci.upperBound), 4))\" y2=\"9\" class=\"ci\"/>"
    if let c90 = e.ci90Percent {
      s +=
        "<line x1=\"\(fmt(x(c90.lowerBound), 4))\" y1=\"9\" x2=\"\(fmt(x(c90.upperBound), 4))\" y2=\"9\" class=\"ci90\"/>"
    }
    s += "<circle cx=\"\(fmt(x(est), 4))\" cy=\"9\" r=\"3.5\" class=\"est\"/></svg>"
    return s
  }

  static func gateWord(_ status: String) -> String {
    switch status {
    case "passed": "PASS"
    case "regression": "FAIL"
    case "inconclusive": "INCONCLUSIVE"
    default: "ERROR"
    }
  }

  /// What the gate's mode asks, in one sentence.
  static func modeText(_ m: ReportModel) -> String {
    m.mode == "alarm"
      ? "Alarm mode: the gate fails when a primary endpoint is Inferior (90% lower bound above its margin) or Regressed (95% interval above 0 and Holm-adjusted sign-flip p ≤ α), or a clip trips the worst-clip guard."
      : "Rollout mode: B passes when every primary endpoint is non-inferior (90% upper bound of the mean per-clip log-ratio below ln(1 + \(fmt(m.marginPercent, 3))%)) and no clip is worse than the worst-clip margin; it fails when a primary is Inferior (90% lower bound above the margin). A significant change inside the margin passes with the warning “worse, within margin”."
  }

  static func verdictClass(_ v: String) -> String {
    switch v {
    case "Regressed", "Inferior": "bad"
    case "Improved": "good"
    case "Equivalent", "Non-inferior": "ok"
    default: "unknown"
    }
  }

  static func signClass(_ v: Double?) -> String {
    guard let v else { return "" }
    return v < 0 ? "better" : v > 0 ? "worse" : ""
  }

  static func pct(_ v: Double?) -> String {
    guard let v else { return "–" }
    return String(format: "%+.1f%%", v)
  }

  static func num(_ v: Double?) -> String {
    guard let v else { return "–" }
    if v == 0 { return "0" }
    if abs(v) >= 100 { return String(format: "%.1f", v) }
    if abs(v) >= 1 { return String(format: "%.3f", v) }
    return String(format: "%.4g", v)
  }

  static func fmt(_ v: Double, _ digits: Int) -> String { String(format: "%.\(digits)g", v) }

  static func iso(_ d: Date) -> String {
    let f = ISO8601DateFormatter()
    return f.string(from: d)
  }

  /// Escapes text for HTML element content and attribute values.
  public static func esc(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for ch in s {
      switch ch {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      default: out.append(ch)
      }
    }
    return out
  }

  static let css = """
    :root{--bg:#f6f7f9;--card:#fff;--ink:#1d2330;--muted:#6b7385;--line:#e3e6ec;--a:#3b6fd8;--b:#d0671f;--good:#1f8a4c;--bad:#c62f2f;--warn:#b7791f}
    *{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--ink)}
    header{background:#141925;color:#e9edf5;padding:20px 32px}header h1{margin:4px 0;font-size:22px;font-weight:600}
    .brand{font-weight:700;letter-spacing:.08em;text-transform:uppercase;font-size:12px;color:#8fa3c7}.meta{color:#aab4c8;margin:4px 0 0}
    .promoted{margin:8px 0 0;padding:6px 10px;border-radius:4px;background:#1f6f43;color:#fff;display:inline-block}.promoted code{color:#fff}.promoted.replaced{background:#4a5163}
    .notes{margin:4px 0 8px;padding-left:18px}.note q{font-style:italic}.note-form{font-size:13px;margin:6px 0}.note-form input,.note-form select{font:inherit}
    .meta code{color:#dfe6f3}.vs{color:#8fa3c7;font-weight:400;margin:0 6px}
    .arm{display:inline-block;width:22px;height:22px;border-radius:4px;text-align:center;color:#fff;font-weight:700;font-size:14px;line-height:22px}
    .arm.a{background:var(--a)}.arm.b{background:var(--b)}
    main{max-width:1280px;margin:0 auto;padding:20px 32px}h2{font-size:17px;margin:28px 0 8px}
    .gate{display:flex;gap:20px;align-items:flex-start;border-radius:8px;padding:16px 20px;background:var(--card);border-left:8px solid var(--muted);box-shadow:0 1px 2px rgba(0,0,0,.05)}
    .gate.passed{border-color:var(--good)}.gate.regression,.gate.error{border-color:var(--bad)}.gate.inconclusive{border-color:var(--warn)}
    .gate-status{font-size:24px;font-weight:800;min-width:150px}.gate.passed .gate-status{color:var(--good)}
    .gate.regression .gate-status,.gate.error .gate-status{color:var(--bad)}.gate.inconclusive .gate-status{color:var(--warn)}
    .gate-text p{margin:2px 0}.gate ul{margin:6px 0;padding-left:18px}
    table{border-collapse:collapse;background:var(--card);width:100%;box-shadow:0 1px 2px rgba(0,0,0,.05)}
    th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}th{font-weight:600;color:var(--muted);font-size:12px}
    td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
    tr.secondary td{color:#4a5263}tr.primary td:first-child{font-weight:600}
    .better{color:var(--good)}.worse{color:var(--bad)}.same{color:var(--muted)}
    .verdict{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;background:#eceff4}
    .verdict.good{background:#dff3e7;color:var(--good)}.verdict.bad{background:#fbe2e2;color:var(--bad)}.verdict.ok{background:#e4ecfb;color:#2c55a8}.verdict.unknown{background:#f7ecd9;color:var(--warn)}.verdict.warn-badge{background:#fff3cd;color:#7a5300}
    .note{font-size:11px;color:var(--muted);max-width:280px}.small{font-size:12px;color:var(--muted)}
    .tag{display:inline-block;font-size:11px;padding:0 6px;border-radius:8px;background:#eceff4;color:#4a5263}
    svg .band{fill:#e4ecfb}svg .zero{stroke:#9aa3b5;stroke-width:1}svg .ci{stroke:#1d2330;stroke-width:1.2}svg .ci90{stroke:#1d2330;stroke-width:3.5}svg .est{fill:#fff;stroke:#1d2330;stroke-width:1.5}
    .clip{background:var(--card);border-radius:8px;padding:14px 18px;margin:14px 0;box-shadow:0 1px 2px rgba(0,0,0,.05)}
    .clip h3{margin:0 0 2px;font-size:16px;display:inline}.clip-body>summary{cursor:pointer;margin-bottom:4px}.clip .status{font-size:12px;font-weight:500;color:var(--muted)}.clip.failed{border-left:6px solid var(--bad)}.clip.inconclusive{border-left:6px solid var(--warn)}
    .error{color:var(--bad);font-family:ui-monospace,monospace;font-size:12px;white-space:pre-wrap}
    .images{display:grid;grid-template-columns:repeat(4,1fr);gap:10px;margin:10px 0}
    figure{margin:0}figure img{width:100%;display:block;border-radius:4px;border:1px solid var(--line);image-rendering:pixelated;background:repeating-conic-gradient(#ddd 0 25%,#fff 0 50%) 0 0/16px 16px}
    figcaption{font-size:12px;color:var(--muted);margin-top:3px}
    table.values td,table.values th{padding:4px 6px;font-size:12px}.scale{font-weight:400;color:#9aa3b5}
    .configs{display:grid;grid-template-columns:1fr 1fr;gap:16px}pre{background:#141925;color:#dfe6f3;padding:10px 12px;border-radius:6px;overflow:auto;font-size:12px}
    .versions th{width:220px}footer{color:var(--muted);font-size:12px;text-align:center;padding:24px}
    .images{grid-template-columns:repeat(6,1fr)}.legend svg text{font-size:10px;fill:var(--muted)}
    .viewer{border:1px solid var(--line);border-radius:6px;padding:8px;margin:10px 0;outline-offset:2px}
    .viewer .controls{display:flex;flex-wrap:wrap;gap:6px;align-items:center;font-size:12px;margin-bottom:6px}
    .viewer button{font:inherit;padding:2px 8px;border:1px solid var(--line);border-radius:4px;background:#fff;cursor:pointer}
    .viewer button[aria-pressed=true]{background:#1d2330;color:#fff}
    .viewer .stage{display:grid;grid-template-columns:1fr 1fr;gap:8px;position:relative;cursor:grab;touch-action:none}
    .viewer .pane{position:relative;overflow:hidden;border-radius:4px;border:1px solid var(--line);background:repeating-conic-gradient(#ddd 0 25%,#fff 0 50%) 0 0/16px 16px}
    .viewer .pane img{display:block;width:100%;transform-origin:0 0;image-rendering:pixelated;user-select:none}
    .viewer .pane-label{position:absolute;left:6px;top:4px;z-index:1;font-size:11px;background:rgba(20,25,37,.75);color:#fff;padding:1px 6px;border-radius:3px}
    .viewer[data-mode=slider] .stage,.viewer[data-mode=flicker] .stage{grid-template-columns:1fr}
    .viewer[data-mode=slider] .pb,.viewer[data-mode=flicker] .pb{position:absolute;inset:0}
    .viewer[data-mode=slider] .pb{clip-path:inset(0 0 0 var(--split,50%))}
    .viewer[data-mode=flicker][data-showing=a] .pb{visibility:hidden}
    .viewer[data-mode=flicker][data-showing=b] .pb{visibility:visible}
    .viewer:not([data-mode=slider]) .split{opacity:.4}
    .keys{font-size:12px;color:var(--muted)}.keys kbd{border:1px solid var(--line);border-radius:3px;padding:0 4px;background:#fff;font-family:inherit}
    @media (max-width:900px){.images{grid-template-columns:repeat(2,1fr)}.configs{grid-template-columns:1fr}}
    """

  /// What the run was the evidence for: each default it promoted, and what replaced it since.
  static func promotionBanner(_ m: ReportModel) -> String {
    m.promotions.map { p in
      var h =
        "\n  <p class=\"promoted\(p.replacedBy == nil ? "" : " replaced")\" data-change=\"\(p.number)\"><b>Promoted</b>: arm B (<code>\(esc(p.fromConfig))</code>) became the default <code>\(esc(p.configPath))</code> on \(esc(iso(p.date))) by \(esc(p.owner)) (change #\(p.number))"
      if let later = p.replacedBy {
        h +=
          "; since replaced by change #\(later.number) (\(esc(later.action)) on \(esc(iso(later.date))) by \(esc(later.owner)))"
      }
      return h + ".</p>"
    }.joined()
  }

  /// The run's name, tags, description and git provenance, when it has them (nothing otherwise).
  static func runLabel(_ m: ReportModel) -> String {
    guard m.runName != nil || !m.runTags.isEmpty || m.runDescription != nil || m.gitCommit != nil else { return "" }
    var h = "\n  <p class=\"meta run-label\">"
    var parts: [String] = []
    if let name = m.runName { parts.append("<b class=\"run-name\">\(esc(name))</b>") }
    if !m.runTags.isEmpty {
      parts.append(m.runTags.map { "<span class=\"tag run-tag\">\(esc($0))</span>" }.joined(separator: " "))
    }
    if let commit = m.gitCommit {
      parts.append("git <code>\(esc(String(commit.prefix(12))))</code>" + (m.gitBranch.map { " on \(esc($0))" } ?? ""))
    }
    h += parts.joined(separator: " · ") + "</p>"
    if let description = m.runDescription { h += "\n  <p class=\"small run-description\">\(esc(description))</p>" }
    return h
  }
}
