/// The ground-truth metrics mattegate reports; see docs/metrics.md.
public enum MetricKind: String, Sendable, CaseIterable, Codable, Comparable {
  case sad = "SAD"
  case mad = "MAD"
  case mse = "MSE"
  case grad = "Grad"
  case conn = "Conn"
  case dtssd = "dtSSD"
  case messddt = "MESSDdt"

  /// Whether a region's value is a sum over its pixels (SAD, Grad, Conn) rather than a mean.
  public var isSum: Bool {
    switch self {
    case .sad, .grad, .conn: true
    case .mad, .mse, .dtssd, .messddt: false
    }
  }

  /// Temporal metrics compare frame t with t − 1 and use the region mask of frame t − 1.
  public var isTemporal: Bool { self == .dtssd || self == .messddt }

  /// The factor from raw error to the reported scale: ÷1000 for sums, ×1e3 for means, ×1e2
  /// for dtSSD (applied after its square root).
  public var reportScale: Double {
    switch self {
    case .sad, .grad, .conn: 1e-3
    case .mad, .mse, .messddt: 1e3
    case .dtssd: 1e2
    }
  }

  /// Total error `sum` over `pixels` region pixels in `frames` frames with support, on the
  /// reported scale: over frames for sums (SAD, Grad, Conn), over pixels for means (MAD, MSE,
  /// MESSDdt; dtSSD is the root of that). `nil` without support. One frame's value is this
  /// with `frames: 1`.
  public func reportedValue(sum: Double, pixels: Int, frames: Int) -> Double? {
    guard pixels > 0, frames > 0 else { return nil }
    switch self {
    case .sad, .grad, .conn: return sum / Double(frames) * reportScale
    case .mad, .mse, .messddt: return sum / Double(pixels) * reportScale
    case .dtssd: return (sum / Double(pixels)).squareRoot() * reportScale
    }
  }

  /// How the report labels the scale.
  public var scaleLabel: String {
    switch self {
    case .sad, .grad, .conn: "÷1000"
    case .mad, .mse: "×1e3"
    case .dtssd: "×1e2"
    case .messddt: "×1e3 (mattegate's scale)"
    }
  }

  /// The metric's definition version, stored with every result; a change of definition bumps it.
  public var version: String {
    switch self {
    case .sad: "SAD/1: sum |p-g| (DIM), /1000"
    case .mad: "MAD/1: mean |p-g| (RVM), x1e3"
    case .mse: "MSE/1: mean (p-g)^2 (RVM), x1e3"
    case .grad:
      "Grad/1: sum (|grad p^|-|grad g^|)^2, min-max normalised over the frame, Gaussian-derivative sigma 1.4 9x9 Frobenius-normalised, replicate border, /1000"
    case .conn:
      "Conn/1: sum |phi(g)-phi(p)|, theta 0.15, thresholds i/10 on integer codes, largest 4-connected component (ties in raster order), /1000"
    case .dtssd:
      "dtSSD/1: sqrt(sum ((p_t-p_t-1)-(g_t-g_t-1))^2 / N) (RVM), mask of t-1, frame 0 scores 0, x1e2"
    case .messddt:
      "MESSDdt/1: mean |E_t-1(x)-E_t(x+v)|, E=(p-g)^2, v forward t-1->t rounded half away from zero and clamped, mask of t-1, only with true motion, x1e3"
    }
  }

  /// The short version tag stored in every result row, e.g. 'Grad/1'.
  public var versionTag: String { String(version.prefix { $0 != ":" }) }

  /// Every metric's version, by name.
  public static var versions: [String: String] {
    Dictionary(uniqueKeysWithValues: allCases.map { ($0.rawValue, $0.version) })
  }

  public static func < (a: MetricKind, b: MetricKind) -> Bool {
    allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
  }
}

/// Version of the metric definitions as a whole (the run records it; each result also carries
/// its metric's own `MetricKind.version`). Bumped whenever any definition changes.
public let metricsVersion =
  "mattegate-metrics/2 (RVM whole-frame convention, DIM SAD; Grad sigma=1.4; Conn theta=0.15 4-connected; dtSSD, MESSDdt on t-1 masks)"
