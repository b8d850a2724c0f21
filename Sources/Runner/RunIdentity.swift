import Foundation
import MatteMetrics
import MediaIO
import Services

/// What must be the same for results to be pooled: a resumed run, the shards of a merge, or a
/// baseline whose outputs are reused. Kept as ordered `key=value` lines and their sha256.
public struct RunIdentity: Sendable, Equatable {
  /// The fields in a fixed order.
  public var fields: [(key: String, value: String)]

  public static func == (l: RunIdentity, r: RunIdentity) -> Bool { l.text == r.text }

  init(fields: [(key: String, value: String)]) {
    self.fields = fields
  }

  /// The identity of a run of `configA` against `configB` on `clipsetSHA256`.
  init(
    clipsetSHA256: String, configAKey: String, configBKey: String, providerIdentity: String, gateText: String,
    seed: UInt64
  ) {
    fields = [
      ("clipset_sha256", clipsetSHA256),
      ("config_a", configAKey),
      ("config_b", configBKey),
      ("harness", harnessVersion),
      ("metrics", metricsVersion),
      ("metric_versions", MetricKind.allCases.map(\.version).joined(separator: "; ")),
      ("regions", regionsVersion),
      ("provider", providerIdentity),
      ("seed", String(seed)),
      ("gate", FileHash.sha256(of: Array(gateText.utf8))),
    ]
  }

  /// Reads stored `key=value` lines.
  init(text: String) {
    fields = text.split(separator: "\n").map { line in
      let eq = line.firstIndex(of: "=") ?? line.endIndex
      return (String(line[..<eq]), eq == line.endIndex ? "" : String(line[line.index(after: eq)...]))
    }
  }

  /// The value stored under `key`, if any.
  subscript(key: String) -> String? { fields.first { $0.key == key }?.value }

  public var text: String { fields.map { "\($0.key)=\($0.value)" }.joined(separator: "\n") }
  public var sha256: String { FileHash.sha256(of: Array(text.utf8)) }

  static let labels: [String: String] = [
    "clipset_sha256": "the clip set's manifest", "config_a": "config A's settings", "config_b": "config B's settings",
    "harness": "the harness version", "metrics": "the metrics version", "metric_versions": "a metric's definition",
    "regions": "the regions' definition", "provider": "the provider or its service version", "seed": "the seed",
    "gate": "the gate policy",
  ]

  /// One sentence per field that differs from `other`: "the metrics version: stored 'x', now 'y'".
  public func differences(from other: RunIdentity) -> [String] {
    let mine = Dictionary(fields.map { ($0.key, $0.value) }) { a, _ in a }
    let theirs = Dictionary(other.fields.map { ($0.key, $0.value) }) { a, _ in a }
    return (fields.map(\.key) + other.fields.map(\.key).filter { mine[$0] == nil }).compactMap { key in
      let a = mine[key] ?? "(none)"
      let b = theirs[key] ?? "(none)"
      guard a != b else { return nil }
      return "\(Self.labels[key] ?? key) differs: '\(Self.short(b))' then, '\(Self.short(a))' now"
    }
  }

  private static func short(_ s: String) -> String { s.count > 80 ? String(s.prefix(77)) + "…" : s }

  /// One arm's provider identity from a run identity's `provider` field: the field itself when
  /// both arms share a provider, else its "A: …; B: …" part for `arm`.
  public static func armProvider(_ field: String, arm: String) -> String {
    let parts = field.components(separatedBy: "; ")
    guard parts.count == 2, parts[0].hasPrefix("A: "), parts[1].hasPrefix("B: ") else { return field }
    return String((arm == "A" ? parts[0] : parts[1]).dropFirst(3))
  }
}

/// The config part of an output-cache key: the config's settings and, for a background picture,
/// the picture's bytes (the path alone would not notice a changed file).
func configKey(_ config: ArmConfig, backgroundSHA256: String?) -> String {
  var text = config.canonicalText
  if let backgroundSHA256 { text += "\nbg_image_sha256=\(backgroundSHA256)" }
  return FileHash.sha256(of: Array(text.utf8))
}
