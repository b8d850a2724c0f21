import Foundation
import MatteMetrics
import Store
public import Verdict

/// `mattegate calibrate`: A against itself (two submissions per clip, no cache), the noise band
/// of every endpoint measured from the per-clip log-ratios and stored for later runs of A on
/// the same clip set and provider (specs/statistics.md, Step 1).
public enum Calibration {
  public struct Band: Sendable, Equatable {
    public var endpoint: Endpoint
    public var clips: Int
    /// Mean A/A log-ratio and the upper 95% bound of its magnitude.
    public var meanLogRatio: Double
    public var bound: Double
    /// δ_noise = exp(bound) − 1.
    public var noise: Double
    /// `region/metric`.
    public var name: String { endpoint.description }
  }

  public struct Result: Sendable {
    public var run: RunResult
    public var bands: [Band]
  }

  /// Runs the calibration. `options.configBPath` is ignored: both arms are `options.configAPath`.
  public static func run(
    _ options: RunOptions, output: @escaping @Sendable (String) -> Void = { _ in }
  ) async throws -> Result {
    var options = options
    options.configBPath = options.configAPath
    // Two real submissions per clip: a cached output would make the band zero by construction.
    options.useCache = false
    options.baselineRunID = nil
    let run = try await RunCoordinator.run(options, output: output)
    let store = try ResultStore(path: options.databasePath)
    guard let record = try store.run(id: run.runID), let identity = record.identityText else {
      throw RunError("\(options.databasePath): calibration run \(run.runID) is not stored")
    }
    let bands = try bands(runID: run.runID, store: store)
    guard let configKey = RunIdentity(text: identity)["config_a"], let provider = record.providerIdentity else {
      throw RunError("\(options.databasePath): calibration run \(run.runID) has no identity to key its bands by")
    }
    try store.saveCalibration(
      clipsetSHA256: record.clipsetSHA256, configHash: configKey, providerIdentity: provider,
      bands.map {
        CalibrationRecord(
          region: $0.endpoint.region, metric: $0.endpoint.metric, noise: $0.noise, clips: $0.clips, runID: run.runID)
      })
    return Result(run: run, bands: bands)
  }

  /// The band of every endpoint with at least two scored clips: the upper bound of the 95%
  /// t-interval of |mean y^AA| (zero when every log-ratio is zero, as for a bit-exact provider).
  static func bands(runID: String, store: ResultStore) throws -> [Band] {
    let scored = try store.clips(runID: runID).filter { $0.status == "scored" }
    let byClip = RunFinisher.valuesByClip(try store.clipMetrics(runID: runID))
    let observations = RunFinisher.pairedObservations(clips: scored, byClip: byClip)
    var out: [Band] = []
    for region in RegionKind.allCases {
      for metric in MetricKind.allCases {
        let endpoint = Endpoint(region: region.rawValue, metric: metric.rawValue)
        guard let pairs = observations[endpoint], pairs.count >= 2 else { continue }
        let y = pairs.map(\.logRatio)
        let n = Double(y.count)
        let mean = y.reduce(0, +) / n
        let sd = (y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
        let half = StudentT.quantile(0.975, df: n - 1) * sd / n.squareRoot()
        let bound = max(abs(mean - half), abs(mean + half))
        out.append(Band(endpoint: endpoint, clips: y.count, meanLogRatio: mean, bound: bound, noise: exp(bound) - 1))
      }
    }
    return out
  }
}
