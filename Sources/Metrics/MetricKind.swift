/// The ground-truth metrics mattegate reports; see shared/specs/metrics.md.
public enum MetricKind: String, Sendable, CaseIterable, Codable, Comparable {
  case sad = "SAD"
  case mad = "MAD"
  case mse = "MSE"
  case grad = "Grad"
  case conn = "Conn"

  /// Whether a region's value is a sum over its pixels (SAD, Grad, Conn) or a mean (MAD, MSE).
  public var isSum: Bool {
    switch self {
    case .sad, .grad, .conn: true
    case .mad, .mse: false
    }
  }

  /// The factor from raw error to the reported scale: ÷1000 for sums, ×1e3 for means.
  public var reportScale: Double { isSum ? 1e-3 : 1e3 }

  /// How the report labels the scale.
  public var scaleLabel: String { isSum ? "÷1000" : "×1e3" }

  public static func < (a: MetricKind, b: MetricKind) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }
}

/// Version of the metric definitions; bumped whenever a definition changes. Stored with results.
public let metricsVersion =
  "mattegate-metrics/1 (RVM whole-frame convention, DIM SAD; Grad σ=1.4; Conn θ=0.15 4-connected)"
