public import Foundation

/// One job: one clip under one arm's configuration.
public struct JobRequest: Sendable {
  public var clipID: String
  public var sourcePath: String
  public var sourceSHA256: String
  public var cleanPlatePath: String?
  /// "A" or "B".
  public var arm: String
  public var config: ArmConfig
  /// Where the provider puts the output.
  public var outputPath: String
  /// Derived from run, clip and arm: a retried submission reuses it.
  public var idempotencyKey: String
  /// Called with the service's job id as soon as the job exists, before it is started, so the
  /// run can store it before anything else can go wrong.
  public var onCreated: (@Sendable (String) -> Void)?
  /// The team's own user or project id, sent in the job's metadata where the service has it.
  public var owner: String?

  public init(
    clipID: String, sourcePath: String, sourceSHA256: String, cleanPlatePath: String?, arm: String,
    config: ArmConfig, outputPath: String, idempotencyKey: String
  ) {
    self.clipID = clipID
    self.sourcePath = sourcePath
    self.sourceSHA256 = sourceSHA256
    self.cleanPlatePath = cleanPlatePath
    self.arm = arm
    self.config = config
    self.outputPath = outputPath
    self.idempotencyKey = idempotencyKey
  }
}

/// What a finished job returned.
public struct JobOutcome: Sendable {
  public var providerJobID: String
  public var outputPath: String
  public var outputSHA256: String
  public var serviceVersion: String?
  public var credits: Double
  public var startedAt: Date
  public var finishedAt: Date
  /// Credits as the service accounts them (0 for local and exec jobs).
  public var creditsReserved: Double = 0
  public var creditsCharged: Double = 0
  public var creditsRefunded: Double = 0
  /// Milliseconds in the service's queue and processing, when the service says.
  public var queuedMS: Int?
  public var processingMS: Int?
  /// Where the provider kept the job's diagnostic output (the exec provider's stderr).
  public var stderrPath: String?
  /// What the service knows the input by (an upload or file id), never a signed URL.
  public var inputReference: String?

  public init(
    providerJobID: String, outputPath: String, outputSHA256: String, serviceVersion: String?,
    credits: Double, startedAt: Date, finishedAt: Date
  ) {
    self.providerJobID = providerJobID
    self.outputPath = outputPath
    self.outputSHA256 = outputSHA256
    self.serviceVersion = serviceVersion
    self.credits = credits
    self.startedAt = startedAt
    self.finishedAt = finishedAt
  }
}

/// A job that failed, with a code and a sentence naming the clip and the cause.
public struct ProviderError: Error, Sendable, CustomStringConvertible {
  public var clipID: String
  public var arm: String
  public var code: String
  public var message: String
  /// Whether the service says the job may succeed if submitted again.
  public var retryable: Bool
  /// Where the provider kept the job's diagnostic output (the exec provider's stderr).
  public var stderrPath: String?
  /// The service's job id, when a job was created.
  public var providerJobID: String?
  /// Credits the service reserved and refunded for the failed job.
  public var creditsReserved: Double = 0
  public var creditsRefunded: Double = 0
  /// What the service knows the input by, when it got that far.
  public var inputReference: String?

  public init(
    clipID: String, arm: String, code: String, message: String, retryable: Bool = false, stderrPath: String? = nil
  ) {
    self.clipID = clipID
    self.arm = arm
    self.code = code
    self.message = message
    self.retryable = retryable
    self.stderrPath = stderrPath
  }

  public var description: String { "clip '\(clipID)' arm \(arm): \(code): \(message)" }
}

/// A background-removal service as mattegate sees it.
public protocol Provider: Sendable {
  /// `local`, `http` or `exec`.
  var name: String { get }
  /// The provider with what makes its outputs differ: the engine's version, or the service's
  /// base URL and reported version (known after `preflight`). Part of the output cache's key
  /// and of a run's identity.
  var identity: String { get }
  /// Checks before anything is submitted that this provider can honour `config`.
  func validate(_ config: ArmConfig) throws
  /// Checks against the service itself, before anything is submitted (the http provider asks
  /// what the service offers).
  func preflight(_ configs: [ArmConfig]) async throws
  /// Runs one job to completion and returns where its output is.
  func submit(_ request: JobRequest) async throws -> JobOutcome
}

extension Provider {
  public func preflight(_ configs: [ArmConfig]) async throws {}
}
