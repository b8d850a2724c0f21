public import Foundation

/// Everything the HTML report shows about one run, independent of where it came from (a run
/// just finished, or later from SQLite).
public struct ReportModel: Sendable {
  public struct Arm: Sendable {
    public var name: String
    public var settings: String
    public var hash: String

    public init(name: String, settings: String, hash: String) {
      self.name = name
      self.settings = settings
      self.hash = hash
    }
  }

  public struct EndpointRow: Sendable {
    public var region: String
    public var metric: String
    public var isPrimary: Bool
    public var clips: Int
    public var estimatePercent: Double?
    public var ci95Percent: ClosedRange<Double>?
    public var ci90Percent: ClosedRange<Double>?
    public var pValue: Double?
    public var hodgesLehmannPercent: Double?
    public var wins: Int
    public var ties: Int
    public var losses: Int
    public var verdict: String
    public var note: String?
    /// This endpoint's own margin (gate.yaml `margins:`), when it differs from the run's.
    public var marginPercent: Double?

    public init(
      region: String, metric: String, isPrimary: Bool, clips: Int, estimatePercent: Double?,
      ci95Percent: ClosedRange<Double>?, ci90Percent: ClosedRange<Double>?, pValue: Double?,
      hodgesLehmannPercent: Double?, wins: Int, ties: Int, losses: Int, verdict: String, note: String?
    ) {
      self.region = region
      self.metric = metric
      self.isPrimary = isPrimary
      self.clips = clips
      self.estimatePercent = estimatePercent
      self.ci95Percent = ci95Percent
      self.ci90Percent = ci90Percent
      self.pValue = pValue
      self.hodgesLehmannPercent = hodgesLehmannPercent
      self.wins = wins
      self.ties = ties
      self.losses = losses
      self.verdict = verdict
      self.note = note
    }
  }

  public struct MetricPair: Sendable {
    public var a: Double?
    public var b: Double?

    public init(a: Double?, b: Double?) {
      self.a = a
      self.b = b
    }
  }

  public struct ClipRow: Sendable {
    public var id: String
    public var tags: [String]
    /// scored, failed or inconclusive.
    public var status: String
    public var error: String?
    public var frames: Int
    public var reviewFrame: Int?
    /// Image paths relative to the report folder, by role: source, truth, a, b.
    public var images: [String: String]
    /// `values[region][metric]`, reported scale.
    public var values: [String: [String: MetricPair]]
    /// Mean region pixels per frame with support, and frames with support.
    public var support: [String: (pixels: Int, frames: Int)]
    /// How each arm's output lined up with the ground truth, one line per arm.
    public var alignment: [String] = []
    /// Measures under their own names: composites, or no-ground-truth measures.
    public var extras: [String] = []
    /// Where the review images were cropped from the frame ("480×270 at (x, y)"), when they are crops.
    public var crop: String?

    public init(
      id: String, tags: [String], status: String, error: String?, frames: Int, reviewFrame: Int?,
      images: [String: String], values: [String: [String: MetricPair]],
      support: [String: (pixels: Int, frames: Int)]
    ) {
      self.id = id
      self.tags = tags
      self.status = status
      self.error = error
      self.frames = frames
      self.reviewFrame = reviewFrame
      self.images = images
      self.values = values
      self.support = support
    }
  }

  public var runID: String
  public var createdAt: Date
  public var clipsetName: String
  public var clipsetSHA256: String
  public var provider: String
  public var a: Arm
  public var b: Arm
  public var versions: [String: String]
  public var gateStatus: String
  public var gateSummary: String
  public var gateReasons: [String]
  public var exitCode: Int32
  public var marginPercent: Double
  public var regions: [String]
  public var metrics: [String]
  public var metricScales: [String: String]
  public var endpoints: [EndpointRow]
  public var clips: [ClipRow]

  public init(
    runID: String, createdAt: Date, clipsetName: String, clipsetSHA256: String, provider: String,
    a: Arm, b: Arm, versions: [String: String], gateStatus: String, gateSummary: String,
    gateReasons: [String], exitCode: Int32, marginPercent: Double, regions: [String],
    metrics: [String], metricScales: [String: String], endpoints: [EndpointRow], clips: [ClipRow]
  ) {
    self.runID = runID
    self.createdAt = createdAt
    self.clipsetName = clipsetName
    self.clipsetSHA256 = clipsetSHA256
    self.provider = provider
    self.a = a
    self.b = b
    self.versions = versions
    self.gateStatus = gateStatus
    self.gateSummary = gateSummary
    self.gateReasons = gateReasons
    self.exitCode = exitCode
    self.marginPercent = marginPercent
    self.regions = regions
    self.metrics = metrics
    self.metricScales = metricScales
    self.endpoints = endpoints
    self.clips = clips
  }
}
