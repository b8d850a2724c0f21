public import Clips
import Foundation
import MatteMetrics
public import MediaIO
public import Verdict

/// Reads `gate.yaml`.
public enum GateFile {
  /// Loads and validates a gate policy: known keys, known regions and metrics, sane margins.
  public static func load(_ path: String) throws(ConfigError) -> GatePolicy {
    let doc = try YAMLMap.load(path)
    try doc.rejectUnknownKeys([
      "mode", "primaries", "margin", "margins", "noise", "alpha", "worst_clip_margin", "min_clips", "description",
      "alignment",
    ])
    var policy = GatePolicy.standard
    if let v = try doc.string("mode") {
      guard let mode = GateMode(rawValue: v) else {
        throw doc.error(
          line: doc.line(of: "mode"), field: "mode",
          "'\(v)' is not a gate mode: use rollout (changing a default) or alarm (regression runs)")
      }
      policy.mode = mode
    }
    if let list = try doc.stringList("primaries") {
      var primaries: [Endpoint] = []
      for item in list {
        primaries.append(try endpoint(item, in: doc, field: "primaries"))
      }
      guard !primaries.isEmpty else {
        throw doc.error(line: doc.line(of: "primaries"), field: "primaries", "must name at least one endpoint")
      }
      policy.primaries = primaries
    }
    if let v = try doc.double("margin") {
      guard v > 0, v < 1 else {
        throw doc.error(line: doc.line(of: "margin"), field: "margin", "must be in (0, 1), e.g. 0.05 for 5%")
      }
      policy.margin = v
    }
    if let v = try doc.double("noise") {
      guard v >= 0, v < 1 else {
        throw doc.error(line: doc.line(of: "noise"), field: "noise", "must be in [0, 1), e.g. 0.01 for 1%")
      }
      // The noise band is where a change is too small to matter; above a margin it would hide
      // changes that margin counts as regressions.
      guard v <= policy.margin else {
        throw doc.error(
          line: doc.line(of: "noise"), field: "noise",
          "\(v) is above the margin \(policy.margin): the noise band must not exceed the margin")
      }
      policy.noise = v
    }
    if let section = try doc.map("margins") {
      for key in section.keys {
        let e = try endpoint(key, in: doc, field: "margins")
        guard let v = try section.double(key), v > 0, v < 1 else {
          throw section.error(
            line: section.line(of: key), field: "margins.\(key)", "must be in (0, 1), e.g. 0.08 for 8%")
        }
        guard v >= policy.noise else {
          throw section.error(
            line: section.line(of: key), field: "margins.\(key)",
            "\(v) is below the noise band \(policy.noise): the noise band must not exceed a margin")
        }
        policy.margins[e] = v
      }
    }
    if let v = try doc.double("alpha") {
      guard v > 0, v <= 0.2 else {
        throw doc.error(line: doc.line(of: "alpha"), field: "alpha", "must be in (0, 0.2], e.g. 0.05")
      }
      policy.alpha = v
    }
    if let v = try doc.double("worst_clip_margin") {
      guard v > 0 else {
        throw doc.error(line: doc.line(of: "worst_clip_margin"), field: "worst_clip_margin", "must be positive")
      }
      policy.worstClipMargin = v
    }
    if let v = try doc.int("min_clips") {
      guard v >= 1 else { throw doc.error(line: doc.line(of: "min_clips"), field: "min_clips", "must be at least 1") }
      policy.minClips = v
    }
    // In alarm mode a Regressed label needs a Holm-adjusted p ≤ α, which fewer clips than this
    // cannot reach over these primaries (the smallest is primaries · 2/2ⁿ).
    if policy.mode == .alarm, policy.minClips < policy.attainableClips {
      throw doc.error(
        line: doc.line(of: "min_clips") ?? doc.line(of: "mode"), field: "min_clips",
        "\(policy.minClips) clips cannot reach α = \(policy.alpha) under Holm over \(policy.primaries.count) primaries (the smallest adjusted p is \(policy.primaries.count)·2/2^\(policy.minClips) = \(String(format: "%.3g", Double(policy.primaries.count) * 2 / pow(2, Double(policy.minClips))))): alarm mode needs min_clips ≥ \(policy.attainableClips)"
      )
    }
    return policy
  }

  /// A `region/metric` endpoint, or an error naming the field and what is allowed.
  static func endpoint(_ item: String, in doc: YAMLMap, field: String) throws(ConfigError) -> Endpoint {
    let parts = item.split(separator: "/").map(String.init)
    guard parts.count == 2, RegionKind(rawValue: parts[0]) != nil, MetricKind(rawValue: parts[1]) != nil else {
      throw doc.error(
        line: doc.line(of: field), field: field,
        "'\(item)' is not region/metric with region in \(RegionKind.allCases.map(\.rawValue).joined(separator: ", ")) and metric in \(MetricKind.allCases.map(\.rawValue).joined(separator: ", "))"
      )
    }
    return Endpoint(region: parts[0], metric: parts[1])
  }

  /// Reads the `alignment:` section (window, max_dropped_fraction, max_duplicated_fraction);
  /// defaults where absent.
  public static func alignment(_ path: String) throws(ConfigError) -> AlignmentPolicy {
    let doc = try YAMLMap.load(path)
    var policy = AlignmentPolicy()
    guard let section = try doc.map("alignment") else { return policy }
    try section.rejectUnknownKeys(["window", "max_dropped_fraction", "max_duplicated_fraction"])
    if let v = try section.double("window") {
      guard v > 0, v <= 0.5 else {
        throw section.error(
          line: section.line(of: "window"), field: "alignment.window",
          "must be in (0, 0.5] (a fraction of the ground truth's frame interval)")
      }
      policy.window = v
    }
    for key in ["max_dropped_fraction", "max_duplicated_fraction"] {
      guard let v = try section.double(key) else { continue }
      guard v >= 0, v < 1 else {
        throw section.error(line: section.line(of: key), field: "alignment.\(key)", "must be in [0, 1)")
      }
      if key == "max_dropped_fraction" { policy.maxDroppedFraction = v } else { policy.maxDuplicatedFraction = v }
    }
    return policy
  }
}
