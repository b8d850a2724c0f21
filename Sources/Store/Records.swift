public import Foundation

/// A run: one A/B comparison of two configurations over one clip set.
public struct RunRecord: Sendable, Equatable {
  public var id: String
  public var createdAt: Date
  public var finishedAt: Date?
  /// running, completed, failed.
  public var status: String
  public var clipsetName: String
  public var clipsetFolder: String
  public var clipsetSHA256: String
  public var configAName: String
  public var configAHash: String
  public var configAText: String
  public var configBName: String
  public var configBHash: String
  public var configBText: String
  public var provider: String
  public var harnessVersion: String
  public var metricsVersion: String
  public var regionsVersion: String
  public var gateText: String
  public var seed: Int64
  public var exitCode: Int?
  public var outcome: String?
  /// The gate's reasons, one per line.
  public var gateReasons: String?
  /// sha256 of `identityText`: what a resume, a merge or a reused baseline must match.
  public var identitySHA256: String?
  /// The identity as `key=value` lines (clip set, configs, versions, provider, seed, gate).
  public var identityText: String?
  /// The provider with what makes its outputs differ (engine version, base URL, service version).
  public var providerIdentity: String?
  public var serviceVersion: String?
  /// `K/N` for a shard of a run split across workers.
  public var shard: String?
  /// The shard runs a merged run was made from, comma-separated.
  public var mergedFrom: String?
  /// The stored run whose arm A outputs this run reused (`--baseline-run`).
  public var baselineRun: String?
  /// The team's own user or project id (`--owner`).
  public var owner: String?
  /// What CI and people call the run: `--name`, `--description`, `--tag k=v` (as sorted
  /// `k=v` lines), and where it was made: the git commit and branch of the working directory
  /// (when it is a git work tree) and the full command line.
  public var name: String?
  public var runDescription: String?
  public var tags: String?
  public var gitCommit: String?
  public var gitBranch: String?
  public var commandLine: String?
  /// The run's report folder (absolute), where its review crops and logs are: `merge` copies
  /// them from here.
  public var reportFolder: String?
  /// Each arm's config file exactly as it was read (its YAML, comments included): what
  /// promoting B as the new default writes back.
  public var configAYAML: String?
  public var configBYAML: String?
  /// When the run was archived (`runs archive`): kept, but out of the lists.
  public var archivedAt: Date?

  public init(
    id: String, createdAt: Date, finishedAt: Date? = nil, status: String, clipsetName: String,
    clipsetFolder: String, clipsetSHA256: String, configAName: String, configAHash: String,
    configAText: String, configBName: String, configBHash: String, configBText: String,
    provider: String, harnessVersion: String, metricsVersion: String, regionsVersion: String,
    gateText: String, seed: Int64, exitCode: Int? = nil, outcome: String? = nil
  ) {
    self.id = id
    self.createdAt = createdAt
    self.finishedAt = finishedAt
    self.status = status
    self.clipsetName = clipsetName
    self.clipsetFolder = clipsetFolder
    self.clipsetSHA256 = clipsetSHA256
    self.configAName = configAName
    self.configAHash = configAHash
    self.configAText = configAText
    self.configBName = configBName
    self.configBHash = configBHash
    self.configBText = configBText
    self.provider = provider
    self.harnessVersion = harnessVersion
    self.metricsVersion = metricsVersion
    self.regionsVersion = regionsVersion
    self.gateText = gateText
    self.seed = seed
    self.exitCode = exitCode
    self.outcome = outcome
  }
}

/// One job: a clip under one arm, with every field DESIGN.md asks a job record to keep.
public struct JobRecord: Sendable, Equatable {
  public var runID: String
  public var clipID: String
  public var clipSHA256: String
  public var arm: String
  public var provider: String
  public var providerJobID: String?
  public var idempotencyKey: String
  public var model: String
  public var outputFormat: String
  public var bgType: String
  public var bgColor: String?
  public var bgImage: String?
  public var fit: String
  /// submitted, completed, failed.
  public var status: String
  public var errorCode: String?
  public var errorMessage: String?
  public var credits: Double?
  public var submittedAt: Date
  public var startedAt: Date?
  public var finishedAt: Date?
  public var durationMS: Int?
  public var outputPath: String?
  public var outputSHA256: String?
  public var serviceVersion: String?
  /// sha256 of the background picture sent with the job (bg_type image).
  public var bgImageSHA256: String?
  /// Whether the service said a failed job may succeed if submitted again.
  public var errorRetryable: Bool?
  /// Credits as the service accounts them: reserved at creation, charged, refunded.
  public var creditsReserved: Double?
  public var creditsCharged: Double?
  public var creditsRefunded: Double?
  /// Milliseconds the job waited in the service's queue, and spent processing; the whole job
  /// from submission to the end is `totalMS`.
  public var queuedMS: Int?
  public var processingMS: Int?
  public var totalMS: Int?
  /// Where the provider kept the job's diagnostic output (the exec provider's stderr).
  public var stderrPath: String?
  /// The team's own user or project id the job was made for (the arm's `owner:`, else `--owner`).
  public var owner: String?
  /// What the service knows the job's input by: its upload or file id (`video_id`, `file`),
  /// the vendor job the bytes were PUT to, or the clip's source inside the clip set for local
  /// and exec jobs. Never a signed URL.
  public var inputReference: String?
  /// sha256 of (source sha256, config key, provider identity): the output cache's key.
  public var cacheKey: String?
  /// The idempotency key of the job whose output this one reused (status `reused`).
  public var reusedFrom: String?
  /// 1 for the first submission of this clip and arm in the run; a resumed run that submits a
  /// failed job again counts up.
  public var attempt = 1

  public init(
    runID: String, clipID: String, clipSHA256: String, arm: String, provider: String,
    providerJobID: String? = nil, idempotencyKey: String, model: String, outputFormat: String,
    bgType: String, bgColor: String? = nil, bgImage: String? = nil, fit: String, status: String,
    errorCode: String? = nil, errorMessage: String? = nil, credits: Double? = nil,
    submittedAt: Date, startedAt: Date? = nil, finishedAt: Date? = nil, durationMS: Int? = nil,
    outputPath: String? = nil, outputSHA256: String? = nil, serviceVersion: String? = nil
  ) {
    self.runID = runID
    self.clipID = clipID
    self.clipSHA256 = clipSHA256
    self.arm = arm
    self.provider = provider
    self.providerJobID = providerJobID
    self.idempotencyKey = idempotencyKey
    self.model = model
    self.outputFormat = outputFormat
    self.bgType = bgType
    self.bgColor = bgColor
    self.bgImage = bgImage
    self.fit = fit
    self.status = status
    self.errorCode = errorCode
    self.errorMessage = errorMessage
    self.credits = credits
    self.submittedAt = submittedAt
    self.startedAt = startedAt
    self.finishedAt = finishedAt
    self.durationMS = durationMS
    self.outputPath = outputPath
    self.outputSHA256 = outputSHA256
    self.serviceVersion = serviceVersion
  }
}

/// A clip's place in a run.
public struct ClipRecord: Sendable, Equatable {
  public var runID: String
  public var clipID: String
  public var sha256: String
  public var tags: String
  /// scored, failed, inconclusive.
  public var status: String
  public var error: String?
  public var frames: Int
  public var reviewFrame: Int?
  /// Whether the clip has ground-truth alpha (otherwise only its own measures are stored).
  public var hasTruth = true
  /// The clip's place in the clip set (its order in reports and statistics).
  public var position: Int?
  public var scoredAt: Date?
  /// Where the hard regions came from, e.g. "own: hair; derived: glass, motion
  /// (mattegate-regions/3 …)".
  public var regions: String?
  /// The source's bits per pixel per frame.
  public var bitsPerPixel: Double?

  public init(
    runID: String, clipID: String, sha256: String, tags: String, status: String, error: String? = nil,
    frames: Int, reviewFrame: Int? = nil
  ) {
    self.runID = runID
    self.clipID = clipID
    self.sha256 = sha256
    self.tags = tags
    self.status = status
    self.error = error
    self.frames = frames
    self.reviewFrame = reviewFrame
  }
}

/// Raw error of one frame, region and metric for one arm.
public struct FrameMetricRecord: Sendable, Equatable {
  public var clipID: String
  public var arm: String
  public var frame: Int
  public var region: String
  public var metric: String
  public var errorSum: Double
  public var pixels: Int
  /// The metric definition's version tag, e.g. 'Grad/1'.
  public var metricVersion: String

  public init(
    clipID: String, arm: String, frame: Int, region: String, metric: String, errorSum: Double, pixels: Int,
    metricVersion: String = ""
  ) {
    self.metricVersion = metricVersion
    self.clipID = clipID
    self.arm = arm
    self.frame = frame
    self.region = region
    self.metric = metric
    self.errorSum = errorSum
    self.pixels = pixels
  }
}

/// A clip's pooled value for one arm, region and metric (reported scale).
public struct ClipMetricRecord: Sendable, Equatable {
  public var clipID: String
  public var arm: String
  public var region: String
  public var metric: String
  public var value: Double?
  public var errorSum: Double
  public var pixels: Int
  public var frames: Int
  /// The metric definition's version tag, e.g. 'Grad/1'.
  public var metricVersion: String

  public init(
    clipID: String, arm: String, region: String, metric: String, value: Double?, errorSum: Double,
    pixels: Int, frames: Int, metricVersion: String = ""
  ) {
    self.metricVersion = metricVersion
    self.clipID = clipID
    self.arm = arm
    self.region = region
    self.metric = metric
    self.value = value
    self.errorSum = errorSum
    self.pixels = pixels
    self.frames = frames
  }
}

/// The paired comparison of one region and metric.
public struct ComparisonRecord: Sendable, Equatable {
  public var region: String
  public var metric: String
  public var isPrimary: Bool
  public var clips: Int
  public var estimatePercent: Double?
  public var ciLowPercent: Double?
  public var ciHighPercent: Double?
  public var ciLevel: Double
  public var pValue: Double?
  public var hodgesLehmannPercent: Double?
  public var wins: Int
  public var ties: Int
  public var losses: Int
  public var marginPercent: Double
  public var noisePercent: Double
  public var verdict: String
  public var note: String?
  /// The metric definition's version tag, e.g. 'Grad/1'.
  public var metricVersion: String
  /// Holm-adjusted p (primary endpoints) or Benjamini–Hochberg q (secondary ones).
  public var adjustedP: Double?
  public var wilcoxonP: Double?
  /// How the intervals were made, e.g. "sign-flip inversion (exact, 256 sign patterns)".
  public var intervalMethod: String?
  /// The smallest change these clips detect with 80% power, in percent.
  public var detectablePercent: Double?
  public var alpha: Double?
  /// The 1 − 2α interval (90% at α = 0.05) of the equivalence and non-inferiority tests.
  public var ci90LowPercent: Double?
  public var ci90HighPercent: Double?
  /// The clip with the largest B/A ratio, and that ratio as a percent change.
  public var worstClip: String?
  public var worstClipPercent: Double?
  /// "worse, within margin" on a Regressed endpoint that is non-inferior.
  public var warning: String?
  /// On an inconclusive endpoint: about how many clips would show the margin at this estimate
  /// and spread (80% power); nil when none would.
  public var clipsForMargin: Int?

  public init(
    region: String, metric: String, isPrimary: Bool, clips: Int, estimatePercent: Double?,
    ciLowPercent: Double?, ciHighPercent: Double?, ciLevel: Double, pValue: Double?,
    hodgesLehmannPercent: Double?, wins: Int, ties: Int, losses: Int, marginPercent: Double,
    noisePercent: Double, verdict: String, note: String?, metricVersion: String = ""
  ) {
    self.metricVersion = metricVersion
    self.region = region
    self.metric = metric
    self.isPrimary = isPrimary
    self.clips = clips
    self.estimatePercent = estimatePercent
    self.ciLowPercent = ciLowPercent
    self.ciHighPercent = ciHighPercent
    self.ciLevel = ciLevel
    self.pValue = pValue
    self.hodgesLehmannPercent = hodgesLehmannPercent
    self.wins = wins
    self.ties = ties
    self.losses = losses
    self.marginPercent = marginPercent
    self.noisePercent = noisePercent
    self.verdict = verdict
    self.note = note
  }
}

/// How one arm's output lined up with a clip's ground-truth timeline.
public struct AlignmentRecord: Sendable, Equatable {
  public var arm: String
  public var referenceFrames: Int
  public var outputFrames: Int
  public var matched: Int
  public var dropped: Int
  public var duplicated: Int
  public var extra: Int
  public var maxOffsetSeconds: Double
  public var windowSeconds: Double
  /// aligned or misaligned.
  public var status: String

  public init(
    arm: String, referenceFrames: Int, outputFrames: Int, matched: Int, dropped: Int, duplicated: Int, extra: Int,
    maxOffsetSeconds: Double, windowSeconds: Double, status: String
  ) {
    self.arm = arm
    self.referenceFrames = referenceFrames
    self.outputFrames = outputFrames
    self.matched = matched
    self.dropped = dropped
    self.duplicated = duplicated
    self.extra = extra
    self.maxOffsetSeconds = maxOffsetSeconds
    self.windowSeconds = windowSeconds
    self.status = status
  }
}

/// A measure that is not a ground-truth alpha metric (composites, clips without ground truth).
public struct ExtraMeasureRecord: Sendable, Equatable {
  public var clipID: String
  /// "A", "B" or "A-B".
  public var arm: String
  public var region: String
  public var measure: String
  public var value: Double?
  public var detail: String?
  public var version: String

  public init(
    clipID: String, arm: String, region: String, measure: String, value: Double?, detail: String?, version: String
  ) {
    self.clipID = clipID
    self.arm = arm
    self.region = region
    self.measure = measure
    self.value = value
    self.detail = detail
    self.version = version
  }
}
