import Foundation
public import MatteMetrics
public import Report
import Store
import Verdict

/// `mattegate history`: the stored runs with their verdicts, and the trend of one endpoint.
public enum RunHistory {
  /// An endpoint written `region.metric` or `region/metric` (hair.Grad), or `nil` when either
  /// part is not a known region or metric.
  public static func parseEndpoint(_ text: String) -> (RegionKind, MetricKind)? {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    let pieces = parts.count == 2 ? parts : text.split(separator: "/", omittingEmptySubsequences: false)
    guard pieces.count == 2, let region = RegionKind(rawValue: String(pieces[0])),
      let metric = MetricKind(rawValue: String(pieces[1]))
    else { return nil }
    return (region, metric)
  }

  /// The lines to print: one per run kept by `filter` (clip set, arm pair, gate mode; A/A
  /// calibrations only with `filter.calibrations`, else only A/B runs), then, with `endpoint`
  /// (`hair/Grad`; `hair.Grad` is read too), one per kept run that compared it, whether it was
  /// primary under that run's own gate, and a sparkline of its estimates, oldest first.
  public static func lines(
    database: String, endpoint: String?, filter: ServedPages.HistoryFilter = ServedPages.HistoryFilter()
  ) throws -> [String] {
    guard FileManager.default.fileExists(atPath: database) else { throw RunError("\(database): no such database") }
    let store = try ResultStore(path: database)
    let all = try store.runs()
    let archived = all.filter { $0.archivedAt != nil }.count
    let runs = all.filter { r in
      r.archivedAt == nil && (filter.clipset == nil || r.clipsetName == filter.clipset)
        && (filter.arms == nil || "\(r.configAName) → \(r.configBName)" == filter.arms)
        && (filter.mode == nil || GatePolicy(canonicalText: r.gateText)?.mode.rawValue == filter.mode)
        && (r.configAHash == r.configBHash) == filter.calibrations
    }
    var out: [String] = []
    if runs.isEmpty {
      out.append("no \(filter.calibrations ? "A/A calibrations" : "A/B runs") in \(database)\(filtered(filter))")
    }
    let day = DateFormatter()
    day.locale = Locale(identifier: "en_US_POSIX")
    day.timeZone = TimeZone(identifier: "UTC")
    day.dateFormat = "yyyy-MM-dd HH:mm"
    for r in runs {
      var line = "\(r.id)  \(day.string(from: r.createdAt))  \(r.clipsetName)  \(r.configAName) → \(r.configBName)"
      if let name = r.name { line += "  \"\(name)\"" }
      if let tags = r.tags { line += "  [" + tags.split(separator: "\n").joined(separator: " ") + "]" }
      line += "  \(r.provider)  \(GatePolicy(canonicalText: r.gateText)?.mode.rawValue ?? "?")"
      if r.configAHash == r.configBHash { line += "  A/A calibration" }
      if let shard = r.shard { line += "  shard \(shard)" }
      if r.mergedFrom != nil { line += "  merged" }
      line += "  " + (r.status == "running" ? "unfinished (resume with run --resume \(r.id))" : (r.outcome ?? r.status))
      if let code = r.exitCode { line += " [exit \(code)]" }
      out.append(line)
    }
    if archived > 0 {
      out.append("(\(archived) archived run\(archived == 1 ? "" : "s") not listed: mattegate runs unarchive RUN)")
    }
    guard let endpoint else { return out }
    guard let (region, metric) = parseEndpoint(endpoint) else {
      throw RunError("--endpoint '\(endpoint)' is not region/metric with a known region and metric, e.g. hair/Grad")
    }
    let name = "\(region.rawValue)/\(metric.rawValue)"
    let rows = try store.history(region: region.rawValue, metric: metric.rawValue).filter(filter.keeps)
    out.append("")
    guard !rows.isEmpty else {
      out.append("\(name): no run compared it")
      return out
    }
    out.append("\(name), B/A per run (oldest first):")
    for row in rows {
      var line = "  \(row.runID)  \(row.configA) → \(row.configB)  n=\(row.clips)"
      if let e = row.estimatePercent { line += String(format: "  %+.1f%%", e) } else { line += "  –" }
      if let lo = row.ciLowPercent, let hi = row.ciHighPercent {
        line += String(format: "  [%+.1f%%, %+.1f%%]", lo, hi)
      }
      line += "  \(row.verdict)  \(row.isPrimary ? "primary" : "secondary")"
      out.append(line)
    }
    let estimates = rows.compactMap(\.estimatePercent)
    if estimates.count >= 2 {
      out.append(
        "  trend: " + sparkline(estimates) + String(format: "  (%+.1f%% → %+.1f%%)", estimates.first!, estimates.last!))
    }
    return out
  }

  static func filtered(_ f: ServedPages.HistoryFilter) -> String {
    let parts = [
      f.clipset.map { "clip set \($0)" }, f.arms.map { "arms \($0)" }, f.mode.map { "mode \($0)" },
    ].compactMap { $0 }
    return parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")"
  }

  /// One block character per value, low to high.
  static func sparkline(_ values: [Double]) -> String {
    let blocks = Array("▁▂▃▄▅▆▇█")
    let lo = values.min()!
    let hi = values.max()!
    return String(
      values.map { v in
        hi == lo ? blocks[3] : blocks[min(7, Int((v - lo) / (hi - lo) * 7.999))]
      })
  }
}
