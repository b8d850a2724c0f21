public import Foundation

/// Everything the HTML report shows about one run, independent of where it came from (a run
/// just finished, or later from SQLite).
public struct ReportModel: Sendable {
  public struct Arm: Sendable {
    public var name: String
    public var settings: String
    public var hash: String
    /// The model its jobs ran, when the run has jobs.
    public var model: String?
    /// The configured background as a CSS colour (#RRGGBB) when the arm composites over a
    /// colour, and what the arm's background is ("transparent", "image …").
    public var backgroundColour: String?
    public var background: String = "transparent"

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
    /// The adjusted p the label's significance rules used: Holm (primaries) or
    /// Benjamini–Hochberg q (secondaries).
    public var adjustedP: Double?
    /// The clip where B fares worst against A on this endpoint, and by how much (percent).
    public var worstClip: String?
    public var worstClipPercent: Double?
    /// The clips where B fares worst against A on this endpoint, worst first (at most
    /// `ReportBuilder.worstClipsShown`), with B vs A in percent: each links to its evidence.
    public var worstClips: [(clip: String, percent: Double)] = []
    /// "worse, within margin" on a Regressed endpoint that is non-inferior.
    public var warning: String?

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
    /// The source's sha256.
    public var sha256: String = ""
    /// Whether the clip has ground truth; clips without it are listed apart and feed no verdict.
    public var hasTruth = true
    /// Where the hard regions came from (own masks or the derivation rule and its version).
    public var regions: String?
    /// The source's bits per pixel per frame, and the warning when it is past the guardrail.
    public var bitsPerPixel: Double?
    public var compressionWarning: String?
    /// Each region's worst frame with its crops, in region order.
    public var reviews: [RegionReview] = []
    /// Per-frame metric curves, by region then metric.
    public var curves: [Curve] = []
    /// Per region, the frames with the largest error of A and B together, worst first.
    public var worstFrames: [(region: String, frames: [WorstFrame])] = []
    /// The clip's preview for the player, its path relative to the report folder, or why
    /// there is none.
    public var preview: PreviewLayout?
    public var previewPath: String?
    public var previewWarning: String?

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

  /// A region's worst frame in a clip and the crops cut from it, by role: source, truth, a, b,
  /// heat-a, heat-b (paths relative to the report folder).
  public struct RegionReview: Sendable {
    public var region: String
    public var frame: Int
    public var images: [String: String]
    /// "480×270 at (x, y)".
    public var crop: String?
    /// The crops' size in pixels, when known (the composites are drawn at it).
    public var size: (width: Int, height: Int)?
    /// The window in the frame: x, y, width, height.
    public var rect: [Int]?

    public init(
      region: String, frame: Int, images: [String: String], crop: String?, size: (width: Int, height: Int)? = nil
    ) {
      self.region = region
      self.frame = frame
      self.images = images
      self.crop = crop
      self.size = size
    }
  }

  /// One metric's per-frame values in one region, for both arms (nil where a frame has none).
  public struct Curve: Sendable {
    public var region: String
    public var metric: String
    public var scale: String
    public var frames: [Int]
    public var a: [Double?]
    public var b: [Double?]

    public init(region: String, metric: String, scale: String, frames: [Int], a: [Double?], b: [Double?]) {
      self.region = region
      self.metric = metric
      self.scale = scale
      self.frames = frames
      self.a = a
      self.b = b
    }
  }

  /// A frame among a region's worst: its index and each arm's MAD there (×1e3).
  public struct WorstFrame: Sendable {
    public var frame: Int
    public var a: Double?
    public var b: Double?

    public init(frame: Int, a: Double?, b: Double?) {
      self.frame = frame
      self.a = a
      self.b = b
    }
  }

  /// One job the run submitted, for the provenance panel.
  public struct JobRow: Sendable {
    public var clip: String
    public var arm: String
    public var jobID: String?
    public var status: String
    public var attempt: Int
    public var durationMS: Int?
    public var credits: Double?
    public var outputSHA256: String?
    public var reusedFrom: String?
    public var error: String?
    /// The operational log of this clip's arm (relative to the report) and its number of
    /// requests, when the provider made HTTP requests.
    public var requestLog: String?
    public var requestCount = 0

    public init(
      clip: String, arm: String, jobID: String?, status: String, attempt: Int, durationMS: Int?, credits: Double?,
      outputSHA256: String?, reusedFrom: String?, error: String?
    ) {
      self.clip = clip
      self.arm = arm
      self.jobID = jobID
      self.status = status
      self.attempt = attempt
      self.durationMS = durationMS
      self.credits = credits
      self.outputSHA256 = outputSHA256
      self.reusedFrom = reusedFrom
      self.error = error
    }
  }

  /// What the run found wrong with one arm: clips where it is worse than the other arm by more
  /// than the margin on a region's primary metric, and its jobs that failed.
  public struct RunbookEntry: Sendable {
    public struct Case: Sendable {
      public var region: String
      public var metric: String
      public var clip: String
      /// How much worse than the other arm, in percent.
      public var worsePercent: Double
      /// The region's worst frame in the clip, when it has crops.
      public var frame: Int?

      public init(region: String, metric: String, clip: String, worsePercent: Double, frame: Int?) {
        self.region = region
        self.metric = metric
        self.clip = clip
        self.worsePercent = worsePercent
        self.frame = frame
      }
    }

    public var arm: String
    public var config: String
    public var model: String?
    public var cases: [Case]
    public var jobErrors: [(clip: String, error: String)]
    /// Reviewers' notes on this arm's config, in this run and earlier ones, newest first.
    public var notes: [Note] = []

    public init(arm: String, config: String, model: String?, cases: [Case], jobErrors: [(clip: String, error: String)])
    {
      self.arm = arm
      self.config = config
      self.model = model
      self.cases = cases
      self.jobErrors = jobErrors
    }
  }

  /// Blind A/B votes on the run's clips, unblinded, with the exact two-sided sign test on A
  /// against B (ties left out).
  public struct VoteSummary: Sendable {
    public var a: Int
    public var b: Int
    public var ties: Int
    public var pValue: Double
    /// Votes per clip: (clip, A, B, ties).
    public var byClip: [(clip: String, a: Int, b: Int, ties: Int)]

    public init(a: Int, b: Int, ties: Int, pValue: Double, byClip: [(clip: String, a: Int, b: Int, ties: Int)]) {
      self.a = a
      self.b = b
      self.ties = ties
      self.pValue = pValue
      self.byClip = byClip
    }
  }

  /// A change of a default config file this run was the evidence for (`mattegate promote`),
  /// and the later change that replaced it, if any.
  public struct DefaultChange: Sendable {
    public var number: Int
    public var configPath: String
    public var fromConfig: String
    public var owner: String
    public var date: Date
    public var replacedBy: (number: Int, action: String, owner: String, date: Date)?

    public init(number: Int, configPath: String, fromConfig: String, owner: String, date: Date) {
      self.number = number
      self.configPath = configPath
      self.fromConfig = fromConfig
      self.owner = owner
      self.date = date
    }
  }

  /// A reviewer's quality note: on the run, a clip, an arm of it, or a frame.
  public struct Note: Sendable {
    public var runID: String
    public var clip: String?
    public var arm: String?
    public var frame: Int?
    public var author: String
    public var date: Date
    public var text: String

    public init(runID: String, clip: String?, arm: String?, frame: Int?, author: String, date: Date, text: String) {
      self.runID = runID
      self.clip = clip
      self.arm = arm
      self.frame = frame
      self.author = author
      self.date = date
      self.text = text
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
  /// The gate's mode: "rollout" or "alarm".
  public var mode = "rollout"
  /// How the intervals were made (the sign-flip inversion, exact or Monte Carlo).
  public var intervalMethod: String?
  public var gateReasons: [String]
  public var exitCode: Int32
  public var marginPercent: Double
  public var regions: [String]
  public var metrics: [String]
  public var metricScales: [String: String]
  public var endpoints: [EndpointRow]
  public var clips: [ClipRow]
  public var jobs: [JobRow] = []
  public var runbook: [RunbookEntry] = []
  public var votes: VoteSummary?
  /// Clips that failed or were inconclusive: (clip, reason).
  public var problems: [(clip: String, reason: String)] = []
  /// The primary metric each region is judged on (for the clip table and the runbook).
  public var primaryMetrics: [String: String] = [:]
  /// The run's name, description and tags (`k=v` lines), and the git commit and branch it was
  /// made from, when given.
  public var runName: String?
  public var runDescription: String?
  public var runTags: [String] = []
  public var gitCommit: String?
  public var gitBranch: String?
  /// The defaults this run promoted (empty when it promoted none).
  public var promotions: [DefaultChange] = []
  /// This run's quality notes, oldest first.
  public var notes: [Note] = []
  /// Where a served report posts a new note (nil: a static report, which has no form).
  public var noteAction: String?

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
