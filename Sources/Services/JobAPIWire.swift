public import Foundation

/// The job API's JSON bodies (docs/api/job-api.openapi.yaml), shared by the `http` provider and
/// the reference server. Property names are the contract's snake_case names in camel case;
/// `JobAPI.encoder` and `JobAPI.decoder` convert between them.
public enum JobAPI {
  public static var encoder: JSONEncoder {
    let e = JSONEncoder()
    e.keyEncodingStrategy = .convertToSnakeCase
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return e
  }

  public static var decoder: JSONDecoder {
    let d = JSONDecoder()
    d.keyDecodingStrategy = .convertFromSnakeCase
    return d
  }

  /// RFC 3339 UTC with milliseconds.
  public static func timestamp(_ date: Date) -> String {
    date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
  }

  public static func date(_ text: String?) -> Date? {
    guard let text else { return nil }
    return (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
      ?? (try? Date(text, strategy: Date.ISO8601FormatStyle()))
  }

  /// A JSON scalar in `error.details`.
  public enum Scalar: Codable, Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)

    public init(from decoder: any Decoder) throws {
      let c = try decoder.singleValueContainer()
      if let v = try? c.decode(Int.self) {
        self = .int(v)
      } else if let v = try? c.decode(Double.self) {
        self = .double(v)
      } else if let v = try? c.decode(Bool.self) {
        self = .bool(v)
      } else {
        self = .string(try c.decode(String.self))
      }
    }

    public func encode(to encoder: any Encoder) throws {
      var c = encoder.singleValueContainer()
      switch self {
      case .int(let v): try c.encode(v)
      case .double(let v): try c.encode(v)
      case .string(let v): try c.encode(v)
      case .bool(let v): try c.encode(v)
      }
    }

    public var description: String {
      switch self {
      case .int(let v): "\(v)"
      case .double(let v): "\(v)"
      case .string(let v): v
      case .bool(let v): "\(v)"
      }
    }

    public var intValue: Int? {
      if case .int(let v) = self { return v }
      return nil
    }
  }

  public struct ErrorBody: Codable, Sendable {
    public var error: ErrorDetail
    public init(error: ErrorDetail) { self.error = error }
  }

  public struct ErrorDetail: Codable, Sendable {
    public var code: String
    public var message: String
    public var requestId: String
    public var retryAfterSeconds: Int?
    public var details: [String: Scalar]?

    public init(
      code: String, message: String, requestId: String, retryAfterSeconds: Int? = nil,
      details: [String: Scalar]? = nil
    ) {
      self.code = code
      self.message = message
      self.requestId = requestId
      self.retryAfterSeconds = retryAfterSeconds
      self.details = details
    }
  }

  public struct MediaInfo: Codable, Sendable {
    public var width: Int?
    public var height: Int?
    public var durationSeconds: Double?
    public var frameRate: Double?
    public var hasAudio: Bool?
    public var hasAlpha: Bool?
    public init() {}
  }

  public struct Upload: Codable, Sendable {
    public var id: String
    public var purpose: String
    public var url: String
    public var filename: String
    public var contentType: String
    public var sizeBytes: Int
    public var media: MediaInfo?
    public var createdAt: String
    public var expiresAt: String
    public init(
      id: String, purpose: String, url: String, filename: String, contentType: String, sizeBytes: Int,
      media: MediaInfo?, createdAt: String, expiresAt: String
    ) {
      self.id = id
      self.purpose = purpose
      self.url = url
      self.filename = filename
      self.contentType = contentType
      self.sizeBytes = sizeBytes
      self.media = media
      self.createdAt = createdAt
      self.expiresAt = expiresAt
    }
  }

  /// The settings of a job: the create request's fields, or the resolved settings of a job.
  public struct Settings: Codable, Sendable, Equatable {
    public var model: String?
    public var textPrompt: String?
    public var bgType: String?
    public var bgColor: String?
    public var bgImageUrl: String?
    public var bgVideoUrl: String?
    public var fit: String?
    public var padColor: String?
    public var strictAspect: Bool?
    public var outputFormat: String?
    public init() {}
  }

  public struct CreateJobRequest: Codable, Sendable, Equatable {
    public var videoUrl: String
    public var model: String?
    public var textPrompt: String?
    public var bgType: String?
    public var bgColor: String?
    public var bgImageUrl: String?
    public var bgVideoUrl: String?
    public var fit: String?
    public var padColor: String?
    public var strictAspect: Bool?
    public var outputFormat: String?
    public var webhookUrl: String?
    public var autoStart: Bool?
    public var metadata: [String: String]?

    public init(videoUrl: String) { self.videoUrl = videoUrl }

    public var settings: Settings {
      var s = Settings()
      s.model = model
      s.textPrompt = textPrompt
      s.bgType = bgType
      s.bgColor = bgColor
      s.bgImageUrl = bgImageUrl
      s.bgVideoUrl = bgVideoUrl
      s.fit = fit
      s.padColor = padColor
      s.strictAspect = strictAspect
      s.outputFormat = outputFormat
      return s
    }
  }

  public struct JobInput: Codable, Sendable {
    public var videoUrl: String
    public var media: MediaInfo?
    public init(videoUrl: String, media: MediaInfo?) {
      self.videoUrl = videoUrl
      self.media = media
    }
  }

  public struct JobOutput: Codable, Sendable {
    public var url: String
    public var expiresAt: String
    public var contentType: String
    public var format: String
    public var hasAlpha: Bool
    public var width: Int?
    public var height: Int?
    public var durationSeconds: Double?
    public var frameRate: Double?
    public var sizeBytes: Int
    public init(
      url: String, expiresAt: String, contentType: String, format: String, hasAlpha: Bool, sizeBytes: Int
    ) {
      self.url = url
      self.expiresAt = expiresAt
      self.contentType = contentType
      self.format = format
      self.hasAlpha = hasAlpha
      self.sizeBytes = sizeBytes
    }
  }

  public struct JobError: Codable, Sendable {
    public var code: String
    public var message: String
    public var retryable: Bool
    public init(code: String, message: String, retryable: Bool) {
      self.code = code
      self.message = message
      self.retryable = retryable
    }
  }

  public struct Warning: Codable, Sendable {
    public var code: String
    public var message: String
    public var details: [String: Scalar]?
    public init(code: String, message: String, details: [String: Scalar]? = nil) {
      self.code = code
      self.message = message
      self.details = details
    }
  }

  public struct Credits: Codable, Sendable {
    public var state: String
    public var ratePerMinute: Int
    public var billableSeconds: Int?
    public var estimated: Int
    public var reserved: Int
    public var charged: Int
    public var refunded: Int
    public init(ratePerMinute: Int) {
      state = "none"
      self.ratePerMinute = ratePerMinute
      estimated = 0
      reserved = 0
      charged = 0
      refunded = 0
    }
  }

  public struct WebhookDelivery: Codable, Sendable {
    public var deliveryId: String
    public var jobId: String?
    public var event: String
    public var state: String
    public var attempts: Int
    public var lastStatusCode: Int?
    public var lastAttemptAt: String?
    public init(deliveryId: String, jobId: String?, event: String) {
      self.deliveryId = deliveryId
      self.jobId = jobId
      self.event = event
      state = "pending"
      attempts = 0
    }
  }

  public struct WebhookState: Codable, Sendable {
    public var url: String
    public var deliveries: [WebhookDelivery]
    public init(url: String, deliveries: [WebhookDelivery]) {
      self.url = url
      self.deliveries = deliveries
    }
  }

  public struct Job: Codable, Sendable {
    public var id: String
    public var status: String
    public var stage: String?
    public var progress: Int
    public var etaSeconds: Int?
    public var createdAt: String
    public var updatedAt: String
    public var startedAt: String?
    public var completedAt: String?
    public var input: JobInput
    public var settings: Settings
    public var output: JobOutput?
    public var error: JobError?
    public var warnings: [Warning]
    public var credits: Credits
    public var webhook: WebhookState?
    public var metadata: [String: String]?

    public init(
      id: String, status: String, progress: Int, createdAt: String, input: JobInput, settings: Settings,
      credits: Credits
    ) {
      self.id = id
      self.status = status
      self.progress = progress
      self.createdAt = createdAt
      self.updatedAt = createdAt
      self.input = input
      self.settings = settings
      self.credits = credits
      self.warnings = []
    }

    public var isTerminal: Bool { ["completed", "failed", "canceled"].contains(status) }
  }

  public struct JobList: Codable, Sendable {
    public var data: [Job]
    public var total: Int
    public var limit: Int
    public var offset: Int
    public init(data: [Job], total: Int, limit: Int, offset: Int) {
      self.data = data
      self.total = total
      self.limit = limit
      self.offset = offset
    }
  }

  public struct CreditBalance: Codable, Sendable, Equatable {
    public var balance: Int
    public var reserved: Int
    public var available: Int
    public var usedTotal: Int
    public init(balance: Int, reserved: Int, usedTotal: Int) {
      self.balance = balance
      self.reserved = reserved
      self.available = balance - reserved
      self.usedTotal = usedTotal
    }
  }

  public struct FaultSpec: Codable, Sendable {
    public var id: String?
    public var operation: String?
    public var jobId: String?
    public var times: Int?
    public var fault: String
    public var retryAfterSeconds: Int?
    public var delayMs: Int?
    public var errorCode: String?
    public init(fault: String, operation: String? = nil, times: Int? = nil) {
      self.fault = fault
      self.operation = operation
      self.times = times
    }
  }

  public struct Model: Codable, Sendable {
    public var id: String
    public var description: String?
    public var creditsPerMinute: Int
    public var supportsTextPrompt: Bool
    public init(id: String, description: String?, creditsPerMinute: Int, supportsTextPrompt: Bool) {
      self.id = id
      self.description = description
      self.creditsPerMinute = creditsPerMinute
      self.supportsTextPrompt = supportsTextPrompt
    }
  }

  public struct OutputFormatInfo: Codable, Sendable {
    public var id: String
    public var alpha: Bool
    public var contentType: String
    public var `extension`: String
    public init(id: String, alpha: Bool, contentType: String, extension: String) {
      self.id = id
      self.alpha = alpha
      self.contentType = contentType
      self.extension = `extension`
    }
  }

  public struct Limits: Codable, Sendable {
    public var maxVideoBytes: Int
    public var maxImageBytes: Int
    public var maxDurationSeconds: Int
    public var maxWidth: Int
    public var maxHeight: Int
    public var urlTtlSeconds: Int?
    public var idempotencyKeyTtlSeconds: Int?
    public var processingTimeout: String?
    public init(maxVideoBytes: Int, maxImageBytes: Int, maxDurationSeconds: Int, maxWidth: Int, maxHeight: Int) {
      self.maxVideoBytes = maxVideoBytes
      self.maxImageBytes = maxImageBytes
      self.maxDurationSeconds = maxDurationSeconds
      self.maxWidth = maxWidth
      self.maxHeight = maxHeight
    }
  }

  public struct Capabilities: Codable, Sendable {
    public var models: [Model]
    public var outputFormats: [OutputFormatInfo]
    public var limits: Limits
    public init(models: [Model], outputFormats: [OutputFormatInfo], limits: Limits) {
      self.models = models
      self.outputFormats = outputFormats
      self.limits = limits
    }
  }

  public struct Health: Codable, Sendable {
    public var status: String
    public var version: String?
    public init(status: String, version: String?) {
      self.status = status
      self.version = version
    }
  }

  /// The credit arithmetic of semantics.md: `billable = max(1, ceil(duration))` and
  /// `charge = ceil(billable × credits_per_minute / 60)`.
  public static func charge(durationSeconds: Double, creditsPerMinute: Int) -> (billable: Int, charge: Int) {
    let billable = max(1, Int(durationSeconds.rounded(.up)))
    let charge = (billable * creditsPerMinute + 59) / 60
    return (billable, charge)
  }
}
