public import Foundation
import Verdict

/// Everything CI reads about a run's verdict: the gate, every endpoint's statistics and the clips
/// that could not be scored. Built from SQLite, so `run` and `report` give the same files.
public struct VerdictDocument: Sendable {
  public struct Endpoint: Sendable {
    public var region: String
    public var metric: String
    public var isPrimary: Bool
    public var clips: Int
    public var estimatePercent: Double?
    public var ciLowPercent: Double?
    public var ciHighPercent: Double?
    public var ciLevel: Double
    public var ci90LowPercent: Double?
    public var ci90HighPercent: Double?
    public var intervalMethod: String?
    public var pValue: Double?
    /// Holm-adjusted p (primary) or Benjamini–Hochberg q (secondary).
    public var adjustedP: Double?
    public var wilcoxonP: Double?
    public var hodgesLehmannPercent: Double?
    public var wins: Int
    public var ties: Int
    public var losses: Int
    public var marginPercent: Double
    public var noisePercent: Double
    public var detectablePercent: Double?
    public var worstClip: String?
    public var worstClipPercent: Double?
    public var verdict: String
    public var note: String?
    /// "worse, within margin" on a Regressed endpoint that is non-inferior.
    public var warning: String?
    /// On an inconclusive endpoint, about how many clips would show the margin.
    public var clipsForMargin: Int?

    public init(
      region: String, metric: String, isPrimary: Bool, clips: Int, verdict: String, ciLevel: Double,
      marginPercent: Double, noisePercent: Double, wins: Int, ties: Int, losses: Int
    ) {
      self.region = region
      self.metric = metric
      self.isPrimary = isPrimary
      self.clips = clips
      self.verdict = verdict
      self.ciLevel = ciLevel
      self.marginPercent = marginPercent
      self.noisePercent = noisePercent
      self.wins = wins
      self.ties = ties
      self.losses = losses
    }

    public var name: String { "\(region)/\(metric)" }
  }

  /// A clip that was not scored: failed (an error) or inconclusive (misaligned).
  public struct ClipProblem: Sendable {
    public var clipID: String
    public var status: String
    public var message: String

    public init(clipID: String, status: String, message: String) {
      self.clipID = clipID
      self.status = status
      self.message = message
    }
  }

  public var runID: String
  public var createdAt: Date
  public var clipset: String
  public var clipsetSHA256: String
  public var provider: String
  public var configA: String
  public var configB: String
  public var configAHash: String
  public var configBHash: String
  /// The gate's mode: "rollout" or "alarm".
  public var mode: String
  public var gateStatus: String
  public var gateSummary: String
  public var gateReasons: [String]
  public var exitCode: Int32
  public var alpha: Double
  /// The gate's `min_clips`: below it (or below what the intervals need) a primary cannot pass.
  public var minClips = 0
  public var worstClipMarginPercent: Double
  public var clipsScored: Int
  public var endpoints: [Endpoint]
  public var problems: [ClipProblem]
  /// The HTML report, relative to where the CI files are written.
  public var reportPath: String?

  public init(
    runID: String, createdAt: Date, clipset: String, clipsetSHA256: String, provider: String, configA: String,
    configB: String, configAHash: String, configBHash: String, mode: String, gateStatus: String, gateSummary: String,
    gateReasons: [String], exitCode: Int32, alpha: Double, worstClipMarginPercent: Double, clipsScored: Int,
    endpoints: [Endpoint], problems: [ClipProblem], reportPath: String?
  ) {
    self.runID = runID
    self.createdAt = createdAt
    self.clipset = clipset
    self.clipsetSHA256 = clipsetSHA256
    self.provider = provider
    self.configA = configA
    self.configB = configB
    self.configAHash = configAHash
    self.configBHash = configBHash
    self.mode = mode
    self.gateStatus = gateStatus
    self.gateSummary = gateSummary
    self.gateReasons = gateReasons
    self.exitCode = exitCode
    self.alpha = alpha
    self.worstClipMarginPercent = worstClipMarginPercent
    self.clipsScored = clipsScored
    self.endpoints = endpoints
    self.problems = problems
    self.reportPath = reportPath
  }

  var primaries: [Endpoint] { endpoints.filter(\.isPrimary) }

  /// Why a primary endpoint fails the gate: Inferior, Regressed in alarm mode, or a clip past
  /// the worst-clip margin.
  func failure(of e: Endpoint) -> String? {
    guard e.isPrimary else { return nil }
    var parts: [String] = []
    if e.verdict == "Inferior" {
      parts.append(
        "inferior: B/A \(signed(e.estimatePercent)), 90% interval \(decisionInterval(e)) above the +\(String(format: "%g", e.marginPercent))% margin"
      )
    }
    if e.verdict == "Regressed" && mode == "alarm" {
      parts.append("regressed: B/A \(signed(e.estimatePercent)), \(interval(e)), Holm p \(pText(e.adjustedP))")
    }
    if let worst = e.worstClipPercent, worst > worstClipMarginPercent, let clip = e.worstClip {
      parts.append(
        "worst-clip guard: clip '\(clip)' \(signed(worst)) exceeds +\(String(format: "%.0f", worstClipMarginPercent))%")
    }
    return parts.isEmpty ? nil : parts.joined(separator: "; ")
  }

  /// Whether a primary endpoint lets the gate pass in this mode.
  func passes(_ e: Endpoint) -> Bool {
    switch mode {
    case "alarm":
      failure(of: e) == nil && e.ci90LowPercent != nil
        && e.clips >= max(minClips, PairedStatistics.intervalClips(alpha: alpha))
    default: failure(of: e) == nil && (CIOutputs.passes(e) || (e.verdict == "Regressed" && e.warning != nil))
    }
  }

  /// The warnings of endpoints that pass: "worse, within margin".
  var warnings: [String] {
    primaries.filter { failure(of: $0) == nil }.compactMap { e in
      e.warning.map {
        "\(e.name): \($0) (B/A \(signed(e.estimatePercent)), 90% interval \(decisionInterval(e)), margin +\(String(format: "%g", e.marginPercent))%)"
      }
    }
  }
}

/// The outputs CI reads: JUnit XML, a Markdown summary and JSON with every number.
public enum CIOutputs {
  /// JUnit XML: a test case per primary endpoint (a failure when it regressed or tripped the
  /// worst-clip guard, skipped when inconclusive) and one per clip that could not be scored (an
  /// error).
  public static func junit(_ doc: VerdictDocument) -> String {
    let failures = doc.primaries.filter { doc.failure(of: $0) != nil }.count
    let skipped = doc.primaries.filter {
      doc.failure(of: $0) == nil && (!doc.passes($0) || $0.warning != nil || $0.verdict == "Inconclusive")
    }.count
    let errors = doc.problems.count
    let tests = doc.primaries.count + errors
    var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    x +=
      "<testsuites name=\"mattegate\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\">\n"
    x +=
      "  <testsuite name=\"\(xml("mattegate \(doc.configB) vs \(doc.configA) on \(doc.clipset)"))\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\" timestamp=\"\(ISO8601DateFormatter().string(from: doc.createdAt))\">\n"
    x += "    <properties>\n"
    for (k, v) in [
      ("run", doc.runID), ("mode", doc.mode), ("gate", doc.gateStatus), ("exit_code", String(doc.exitCode)),
      ("provider", doc.provider),
      ("config_a", doc.configA), ("config_b", doc.configB), ("clipset_sha256", doc.clipsetSHA256),
    ] {
      x += "      <property name=\"\(k)\" value=\"\(xml(v))\"/>\n"
    }
    x += "    </properties>\n"
    for e in doc.primaries {
      x += "    <testcase classname=\"mattegate.endpoint\" name=\"\(xml(e.name))\">\n"
      if let why = doc.failure(of: e) {
        x += "      <failure message=\"\(xml(why))\" type=\"regression\"/>\n"
      } else if let warning = e.warning {
        // Passes the gate, but is significantly worse: shown as skipped with the warning, which
        // CI tools list without failing the build.
        x +=
          "      <skipped message=\"\(xml("WARNING: \(warning): B/A \(signed(e.estimatePercent)), 90% interval \(decisionInterval(e)), margin +\(String(format: "%g", e.marginPercent))%; \(doc.mode) gate not failed"))\"/>\n"
      } else if !doc.passes(e) || e.verdict == "Inconclusive" {
        x += "      <skipped message=\"\(xml(inconclusiveText(e)))\"/>\n"
      }
      x += "      <system-out>\(xml(line(e)))</system-out>\n"
      x += "    </testcase>\n"
    }
    for p in doc.problems {
      x += "    <testcase classname=\"mattegate.clip\" name=\"\(xml(p.clipID))\">\n"
      x += "      <error message=\"\(xml(p.message))\" type=\"\(xml(p.status))\"/>\n"
      x += "    </testcase>\n"
    }
    x += "    <system-out>\(xml(([doc.gateSummary] + doc.gateReasons).joined(separator: "\n")))</system-out>\n"
    x += "  </testsuite>\n</testsuites>\n"
    return x
  }

  /// A Markdown summary for a pull-request comment or a job summary.
  public static func markdown(_ doc: VerdictDocument) -> String {
    let badge =
      switch doc.gateStatus {
      case "passed": "✅ PASS"
      case "regression": "❌ REGRESSION"
      case "inconclusive": "⚠️ INCONCLUSIVE"
      default: "🛑 ERROR"
      }
    var m = "## mattegate: \(badge) (exit \(doc.exitCode), \(doc.mode) mode)\n\n"
    m += "**\(md(doc.configB))** (B) against **\(md(doc.configA))** (A) on clip set \(code(doc.clipset)), "
    m += "\(doc.clipsScored) clips scored, provider \(code(doc.provider)), run \(code(doc.runID)).\n\n"
    m += "\(md(doc.gateSummary))\n"
    // A pass's reasons are its warnings, listed below from the endpoints.
    for r in doc.gateReasons where doc.gateStatus != "passed" { m += "- \(md(r))\n" }
    for w in doc.warnings { m += "- ⚠️ **Warning**: \(md(w))\n" }
    m += "\n### Primary endpoints\n\n"
    m += table(doc.primaries, doc: doc)
    let secondary = doc.endpoints.filter { !$0.isPrimary && $0.clips > 0 }
    if !secondary.isEmpty {
      m +=
        "\n<details><summary>Secondary endpoints (\(secondary.count), Benjamini–Hochberg q, non-blocking)</summary>\n\n"
      m += table(secondary, doc: doc)
      m += "\n</details>\n"
    }
    if !doc.problems.isEmpty {
      m += "\n### Clips not scored\n\n"
      for p in doc.problems { m += "- \(code(p.clipID)) (\(md(p.status))): \(md(p.message))\n" }
    }
    m += "\nB/A is the geometric mean of the per-clip ratios of B's error to A's (negative is an improvement); "
    m += "intervals invert the sign-flip test (the decision interval is the "
    m += "\(String(format: "%.0f", (1 - 2 * doc.alpha) * 100))% one, against each margin); "
    m += "p (adj.) is Holm-adjusted over the primaries, Benjamini–Hochberg over the rest. "
    m +=
      doc.mode == "alarm"
      ? "Alarm mode: an Inferior or Regressed primary fails.\n"
      : "Rollout mode: every primary must be non-inferior; an Inferior primary fails.\n"
    if let report = doc.reportPath { m += "\nFull report: \(code(report))\n" }
    return m
  }

  static func table(_ endpoints: [VerdictDocument.Endpoint], doc: VerdictDocument) -> String {
    var t = "| endpoint | clips | B/A | 90% (decision) | 95% | p (adj.) | W/T/L | margin | verdict |\n"
    t += "|---|---:|---:|---|---|---:|---|---:|---|\n"
    for e in endpoints {
      var verdict = e.verdict
      if let warning = e.warning { verdict += " ⚠️ \(warning)" }
      if e.verdict == "Inconclusive", let d = e.detectablePercent {
        verdict += " (detectable ±\(String(format: "%.1f", abs(d)))%"
        verdict += e.clipsForMargin.map { "; ~\($0) clips for the margin)" } ?? ")"
      }
      if let failure = doc.failure(of: e), !["Regressed", "Inferior"].contains(e.verdict) { verdict += "; " + failure }
      t +=
        "| \(md(e.name)) | \(e.clips) | \(signed(e.estimatePercent)) | \(decisionInterval(e)) | \(interval(e)) | \(pText(e.adjustedP)) | \(e.wins)/\(e.ties)/\(e.losses) | +\(String(format: "%.1f", e.marginPercent))% | \(md(verdict)) |\n"
    }
    return t
  }

  /// JSON with every number (null where a value does not exist), keys sorted.
  public static func json(_ doc: VerdictDocument) throws -> String {
    func number(_ v: Double?) -> Any { v.map { $0.isFinite ? $0 : NSNull() as Any } ?? NSNull() }
    let endpoints: [[String: Any]] = doc.endpoints.map { e in
      [
        "region": e.region, "metric": e.metric, "primary": e.isPrimary, "clips": e.clips,
        "estimate_pct": number(e.estimatePercent), "ci_low_pct": number(e.ciLowPercent),
        "ci_high_pct": number(e.ciHighPercent), "ci_level": e.ciLevel, "ci90_low_pct": number(e.ci90LowPercent),
        "ci90_high_pct": number(e.ci90HighPercent), "interval_method": e.intervalMethod ?? NSNull(),
        "p_value": number(e.pValue), "adjusted_p": number(e.adjustedP),
        "adjustment": e.isPrimary ? "holm" : "benjamini-hochberg", "wilcoxon_p": number(e.wilcoxonP),
        "hodges_lehmann_pct": number(e.hodgesLehmannPercent), "wins": e.wins, "ties": e.ties, "losses": e.losses,
        "margin_pct": e.marginPercent, "noise_pct": e.noisePercent, "detectable_pct": number(e.detectablePercent),
        "worst_clip": e.worstClip ?? NSNull(), "worst_clip_pct": number(e.worstClipPercent), "verdict": e.verdict,
        "note": e.note ?? NSNull(), "gate_failure": doc.failure(of: e).map { $0 as Any } ?? NSNull(),
        "warning": e.warning ?? NSNull(), "clips_for_margin": e.clipsForMargin.map { $0 as Any } ?? NSNull(),
        "decision_interval": [
          "level": 1 - 2 * doc.alpha, "low_pct": number(e.ci90LowPercent), "high_pct": number(e.ci90HighPercent),
        ],
      ]
    }
    let object: [String: Any] = [
      "run": doc.runID, "created_at": ISO8601DateFormatter().string(from: doc.createdAt), "clipset": doc.clipset,
      "clipset_sha256": doc.clipsetSHA256, "provider": doc.provider,
      "config_a": ["name": doc.configA, "hash": doc.configAHash],
      "config_b": ["name": doc.configB, "hash": doc.configBHash],
      "gate": [
        "status": doc.gateStatus, "mode": doc.mode, "summary": doc.gateSummary, "reasons": doc.gateReasons,
        "warnings": doc.warnings,
        "exit_code": Int(doc.exitCode),
        "alpha": doc.alpha, "worst_clip_margin_pct": doc.worstClipMarginPercent,
      ],
      "clips_scored": doc.clipsScored, "endpoints": endpoints,
      "clips_not_scored": doc.problems.map { ["clip": $0.clipID, "status": $0.status, "message": $0.message] },
      "report": doc.reportPath ?? NSNull(),
    ]
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  static func passes(_ e: VerdictDocument.Endpoint) -> Bool {
    ["Improved", "Equivalent", "Non-inferior"].contains(e.verdict)
  }

  static func inconclusiveText(_ e: VerdictDocument.Endpoint) -> String {
    var t = "inconclusive: \(e.note ?? "non-inferiority not shown")"
    if let d = e.detectablePercent {
      t += "; smallest detectable change with \(e.clips) clips ±\(String(format: "%.1f", abs(d)))%"
    }
    return t
  }

  static func line(_ e: VerdictDocument.Endpoint) -> String {
    "\(e.name): B/A \(signed(e.estimatePercent)) \(interval(e)), p \(pText(e.pValue)), adjusted \(pText(e.adjustedP)), Wilcoxon \(pText(e.wilcoxonP)), W/T/L \(e.wins)/\(e.ties)/\(e.losses), \(e.clips) clips: \(e.verdict)"
  }

  /// Text for XML content and attribute values: HTML's escapes, newlines kept as `&#10;`, and the
  /// control characters XML 1.0 cannot carry replaced.
  static func xml(_ s: String) -> String {
    var cleaned = String.UnicodeScalarView()
    for c in s.unicodeScalars { cleaned.append(c.value < 0x20 && !["\t", "\n", "\r"].contains(c) ? "?" : c) }
    return HTMLReport.esc(String(cleaned)).replacingOccurrences(of: "\n", with: "&#10;")
  }

  /// A Markdown code span: inside one only a backtick or a table's `|` can do harm (escapes
  /// such as `\_` would show as typed).
  static func code(_ s: String) -> String {
    "`"
      + s.replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "|", with: "\\|")
      .replacingOccurrences(of: "\n", with: " ") + "`"
  }

  /// Markdown text with what could start inline markup, HTML or break a table escaped.
  static func md(_ s: String) -> String {
    var out = ""
    for c in s {
      if "\\`*_[]<>|~".contains(c) { out.append("\\") }
      out.append(c == "\n" ? " " : c)
    }
    return out
  }
}

func signed(_ v: Double?) -> String { v.map { String(format: "%+.1f%%", $0) } ?? "–" }

func pText(_ p: Double?) -> String {
  guard let p else { return "–" }
  return p < 0.001 ? String(format: "%.1e", p) : String(format: "%.3f", p)
}

/// The 90% decision interval, "[+1.2%, +4.3%]".
func decisionInterval(_ e: VerdictDocument.Endpoint) -> String {
  guard let lo = e.ci90LowPercent, let hi = e.ci90HighPercent else { return "–" }
  return String(format: "[%+.1f%%, %+.1f%%]", lo, hi)
}

func interval(_ e: VerdictDocument.Endpoint) -> String {
  guard let lo = e.ciLowPercent, let hi = e.ciHighPercent else { return "–" }
  return String(format: "[%+.1f%%, %+.1f%%]", lo, hi)
}
