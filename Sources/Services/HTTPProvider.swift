import AsyncHTTPClient
import Clips
import Foundation
import MediaIO
import NIOCore
import NIOHTTP1
import Synchronization

/// How the `http` provider talks to a job API (docs/api).
public struct HTTPProviderSettings: Sendable {
  /// Base URL, e.g. `http://127.0.0.1:8080`.
  public var baseURL: String
  /// Sent as `X-Api-Key`; read from the environment, never stored, logged or printed.
  public var apiKey: String
  /// First poll interval; it grows by half each poll up to `pollMax`.
  public var pollInitial: Double = 2
  public var pollMax: Double = 10
  /// The client's own deadline per job, from upload to download. When it passes, the job is
  /// canceled and recorded as `client_deadline` (retryable).
  public var deadline: Double = 3600
  /// Deadline of one HTTP call.
  public var requestTimeout: Double = 120
  /// Largest output downloaded for one job (the limit ZIP outputs have on their contents); a
  /// larger one is refused and its partial file removed.
  public var maxOutputBytes = 16 << 30
  /// Backoff before retry k (k = 1, 2, …) without Retry-After: `retryBase × 2^(k−1)`, capped
  /// at `retryCap`, times a random factor in [0.5, 1].
  public var retryBase: Double = 1
  public var retryCap: Double = 16
  /// Attempts per call (the first included).
  public var maxAttempts = 6

  /// The environment variable holding the API key.
  public static let apiKeyVariable = "MATTEGATE_API_KEY"

  public init(baseURL: String, apiKey: String) {
    self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    self.apiKey = apiKey
  }

  /// Settings for `baseURL` with the key from `keyVariable` (`MATTEGATE_API_KEY` by default).
  public static func fromEnvironment(
    baseURL: String, keyVariable: String = apiKeyVariable, provider: String = "http"
  ) throws(ProviderSetupError) -> HTTPProviderSettings {
    guard let url = URL(string: baseURL), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil
    else {
      throw ProviderSetupError("api URL '\(baseURL)' is not an http(s) URL")
    }
    guard let key = ProcessInfo.processInfo.environment[keyVariable], !key.isEmpty else {
      throw ProviderSetupError(
        "the \(provider) provider needs the API key in the environment variable \(keyVariable), which is unset or empty"
      )
    }
    return HTTPProviderSettings(baseURL: baseURL, apiKey: key)
  }
}

public struct ProviderSetupError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// A job API over HTTP: upload → create (Idempotency-Key) → start → poll → download.
public final class HTTPProvider: Provider {
  public var name: String { "http" }
  public var identity: String { "http \(settings.baseURL) \(version.withLock { $0 } ?? "unversioned")" }
  public let settings: HTTPProviderSettings
  /// Set by the first 402: every later submission of the run is refused without a request.
  private let creditStop = Mutex<String?>(nil)
  private let capabilities = Mutex<JobAPI.Capabilities?>(nil)
  private let version = Mutex<String?>(nil)
  let transport: HTTPTransport

  /// Every retry and URL renewal so far, one line each (for the run's log and for tests).
  public var retryLog: [String] { transport.retryLog }

  public init(settings: HTTPProviderSettings, log: RequestLog = RequestLog()) {
    self.settings = settings
    self.transport = HTTPTransport(settings: settings, keyStyle: .apiKeyHeader, providerName: "http", log: log)
  }

  public func validate(_ config: ArmConfig) throws {
    // ArmConfig.load has applied the contract's schema and policy; a composite over a colour
    // needs nothing uploaded, an image needs its picture, which load has decoded.
    if config.execCommand != nil {
      throw ConfigError(file: config.file, field: "exec", message: "exec settings are for --provider exec, not http")
    }
    if let key = config.parameters.keys.sorted().first {
      throw ConfigError(
        file: config.file, field: "engine.\(key)",
        message:
          "engine parameters are for --provider local; the job API takes model, output_format and background settings only"
      )
    }
  }

  /// Asks the service what it offers (GET /health and /v1/models) and refuses a config whose
  /// model or output format it does not offer, before anything is uploaded.
  public func preflight(_ configs: [ArmConfig]) async throws {
    let health = try await call("GET", "/health", operation: "health check", authenticated: false)
    if health.status == 200, let h = try? JobAPI.decoder.decode(JobAPI.Health.self, from: health.body) {
      version.withLock { $0 = h.version }
    }
    let models = try await call("GET", "/v1/models", operation: "listing models")
    guard models.status == 200, let caps = try? JobAPI.decoder.decode(JobAPI.Capabilities.self, from: models.body)
    else {
      throw ProviderSetupError("\(settings.baseURL)/v1/models: \(Self.describe(models))")
    }
    capabilities.withLock { $0 = caps }
    for config in configs {
      guard caps.models.contains(where: { $0.id == config.model }) else {
        throw ConfigError(
          file: config.file, field: "model",
          message:
            "the service at \(settings.baseURL) does not offer model '\(config.model)' (it offers \(caps.models.map(\.id).joined(separator: ", "))); nothing was submitted"
        )
      }
      guard caps.outputFormats.contains(where: { $0.id == config.outputFormat }) else {
        throw ConfigError(
          file: config.file, field: "output_format",
          message:
            "the service at \(settings.baseURL) does not write '\(config.outputFormat)' (it writes \(caps.outputFormats.map(\.id).joined(separator: ", "))); nothing was submitted"
        )
      }
    }
  }

  public func submit(_ request: JobRequest) async throws -> JobOutcome {
    if let reason = creditStop.withLock({ $0 }) {
      throw ProviderError(
        clipID: request.clipID, arm: request.arm, code: "not_submitted",
        message: "not submitted: the run stopped submitting after \(reason)")
    }
    let started = Date()
    let deadline = started.addingTimeInterval(settings.deadline)
    let fail = { (code: String, message: String) in
      ProviderError(clipID: request.clipID, arm: request.arm, code: code, message: message)
    }
    let key = request.idempotencyKey
    let tag = RequestTag(clipID: request.clipID, arm: request.arm)
    // 1. Uploads.
    let source = try await upload(
      request.sourcePath, purpose: "source_video", contentType: Self.contentType(request.sourcePath),
      key: key + "/source", request: request)
    var create = JobAPI.CreateJobRequest(videoUrl: source.url)
    create.model = request.config.model
    create.bgType = request.config.bgType
    create.bgColor = request.config.bgColor
    create.fit = request.config.fit
    create.padColor = request.config.padColor
    create.strictAspect = request.config.strictAspect
    create.outputFormat = request.config.outputFormat
    create.metadata = ["mattegate_key": key]
    if let owner = request.owner { create.metadata?["owner"] = owner }
    if request.config.bgType == "image", let image = request.config.bgImage {
      let background = try await upload(
        image, purpose: "background_image", contentType: Self.contentType(image), key: key + "/background",
        request: request)
      create.bgImageUrl = background.url
    }
    // 2. Create (retry-safe under its key).
    let created = try await call(
      "POST", "/v1/jobs", body: try JobAPI.encoder.encode(create), contentType: "application/json",
      idempotencyKey: key + "/create", operation: "creating the job of clip '\(request.clipID)'", tag: tag)
    guard created.status == 201, var job = try? JobAPI.decoder.decode(JobAPI.Job.self, from: created.body) else {
      throw fail("create_failed", "POST /v1/jobs: \(Self.describe(created))")
    }
    let jobID = job.id
    request.onCreated?(jobID)
    // 3. Start: 402 stops the run's submissions.
    let startedReply = try await call(
      "POST", "/v1/jobs/\(jobID)/start", idempotencyKey: key + "/start",
      operation: "starting job \(jobID) of clip '\(request.clipID)'", tag: tag)
    if startedReply.status == 402 {
      let detail = try? JobAPI.decoder.decode(JobAPI.ErrorBody.self, from: startedReply.body).error.details
      let required = detail?["required"]?.description ?? "?"
      let available = detail?["available"]?.description ?? "?"
      let reason = "insufficient_credits (job \(jobID) needs \(required) credits, \(available) available)"
      creditStop.withLock { if $0 == nil { $0 = reason } }
      var e = fail(
        "insufficient_credits",
        "job \(jobID) needs \(required) credits, \(available) available; no further jobs of this run are submitted")
      e.providerJobID = jobID
      throw e
    }
    guard [200, 202].contains(startedReply.status),
      let startJob = try? JobAPI.decoder.decode(JobAPI.Job.self, from: startedReply.body)
    else {
      var e = fail("start_failed", "POST /v1/jobs/\(jobID)/start: \(Self.describe(startedReply))")
      e.providerJobID = jobID
      throw e
    }
    let queuedAt = JobAPI.date(startJob.updatedAt)
    // 4. Poll until terminal or the client's deadline.
    var interval = settings.pollInitial
    while !job.isTerminal {
      if Date() >= deadline {
        _ = try? await call(
          "POST", "/v1/jobs/\(jobID)/cancel", operation: "canceling job \(jobID) at the client deadline", tag: tag)
        var e = fail(
          "client_deadline",
          "job \(jobID) was still \(job.status) after the client deadline of \(Int(settings.deadline)) s; canceled")
        e.retryable = true
        e.providerJobID = jobID
        throw e
      }
      try await Task.sleep(for: .seconds(min(interval, max(0.01, deadline.timeIntervalSinceNow))))
      interval = min(interval * 1.5, settings.pollMax)
      let polled = try await call("GET", "/v1/jobs/\(jobID)", operation: "polling job \(jobID)", tag: tag)
      guard polled.status == 200, let next = try? JobAPI.decoder.decode(JobAPI.Job.self, from: polled.body) else {
        var e = fail("poll_failed", "GET /v1/jobs/\(jobID): \(Self.describe(polled))")
        e.providerJobID = jobID
        throw e
      }
      job = next
    }
    guard job.status == "completed", let output = job.output else {
      var e = fail(job.error?.code ?? job.status, job.error?.message ?? "job \(jobID) ended \(job.status)")
      e.retryable = job.error?.retryable ?? false
      e.providerJobID = jobID
      e.creditsReserved = Double(job.credits.reserved)
      e.creditsRefunded = Double(job.credits.refunded)
      throw e
    }
    // 5. Download; an expired URL (410) gets a fresh one from /result.
    let status = try await fetchOutput(jobID: jobID, url: output.url, to: request.outputPath, tag: tag)
    guard status == 200 else {
      var e = fail("download_failed", "the output of job \(jobID) answered HTTP \(status)")
      e.providerJobID = jobID
      throw e
    }
    let finished = Date()
    var outcome = JobOutcome(
      providerJobID: jobID, outputPath: request.outputPath,
      outputSHA256: try FileHash.sha256(ofFile: request.outputPath),
      serviceVersion: version.withLock { $0 }, credits: Double(job.credits.charged), startedAt: started,
      finishedAt: finished)
    outcome.inputReference = "upload " + source.id
    outcome.creditsReserved = Double(job.credits.reserved)
    outcome.creditsCharged = Double(job.credits.charged)
    outcome.creditsRefunded = Double(job.credits.refunded)
    let processingStart = JobAPI.date(job.startedAt)
    if let q = queuedAt, let p = processingStart { outcome.queuedMS = max(0, Int(p.timeIntervalSince(q) * 1000)) }
    if let p = processingStart, let c = JobAPI.date(job.completedAt) {
      outcome.processingMS = max(0, Int(c.timeIntervalSince(p) * 1000))
    }
    return outcome
  }

  /// Downloads a completed job's output to `path`. A 410 (expired URL) fetches a fresh URL
  /// from `GET /v1/jobs/{id}/result` and tries once more. Returns the final HTTP status.
  func fetchOutput(jobID: String, url: String, to path: String, tag: RequestTag? = nil) async throws -> Int {
    let status = try await transport.download(url, to: path, what: "the output of job \(jobID)", tag: tag)
    guard status == 410 else { return status }
    let fresh = try await call(
      "GET", "/v1/jobs/\(jobID)/result", operation: "renewing the output URL of \(jobID)", tag: tag)
    guard fresh.status == 200, let renewed = try? JobAPI.decoder.decode(JobAPI.JobOutput.self, from: fresh.body) else {
      throw ProviderSetupError("GET /v1/jobs/\(jobID)/result: \(Self.describe(fresh))")
    }
    transport.note("output of \(jobID): HTTP 410 expired; fresh URL from /result")
    return try await transport.download(renewed.url, to: path, what: "the output of job \(jobID)", tag: tag)
  }

  // MARK: Calls

  func call(
    _ method: String, _ path: String, body: Data? = nil, contentType: String? = nil, idempotencyKey: String? = nil,
    operation: String, authenticated: Bool = true, tag: RequestTag? = nil
  ) async throws -> HTTPAnswer {
    try await transport.call(
      method, path, body: body, contentType: contentType,
      headers: idempotencyKey.map { [("Idempotency-Key", $0)] } ?? [], operation: operation,
      authenticated: authenticated, tag: tag)
  }

  private func upload(
    _ path: String, purpose: String, contentType: String, key: String, request: JobRequest
  ) async throws -> JobAPI.Upload {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ProviderError(
        clipID: request.clipID, arm: request.arm, code: "upload_failed", message: "\(path): cannot be read")
    }
    // The boundary derives from the key, so a retried upload is byte-identical.
    let boundary = "mattegate-" + FileHash.sha256(of: Array(key.utf8)).prefix(24)
    let body = try MultipartForm.serialize(
      [
        MultipartForm.Part(name: "purpose", body: Data(purpose.utf8)),
        MultipartForm.Part(
          name: "file", filename: URL(fileURLWithPath: path).lastPathComponent, contentType: contentType, body: data),
      ], boundary: boundary)
    let answer = try await call(
      "POST", "/v1/uploads", body: body, contentType: "multipart/form-data; boundary=\(boundary)", idempotencyKey: key,
      operation: "uploading \(path)", tag: RequestTag(clipID: request.clipID, arm: request.arm))
    guard answer.status == 201, let upload = try? JobAPI.decoder.decode(JobAPI.Upload.self, from: answer.body) else {
      throw ProviderError(
        clipID: request.clipID, arm: request.arm, code: "upload_failed",
        message: "POST /v1/uploads (\(path)): \(Self.describe(answer))")
    }
    return upload
  }

  static func errorCode(_ body: Data) -> String? {
    (try? JobAPI.decoder.decode(JobAPI.ErrorBody.self, from: body))?.error.code
  }

  /// "HTTP 422 validation_error: message" (never headers, so never the key).
  static func describe(_ answer: HTTPAnswer) -> String {
    if let e = try? JobAPI.decoder.decode(JobAPI.ErrorBody.self, from: answer.body) {
      return "HTTP \(answer.status) \(e.error.code): \(e.error.message)"
    }
    return "HTTP \(answer.status) with an unexpected body"
  }

  static func contentType(_ path: String) -> String {
    switch URL(fileURLWithPath: path).pathExtension.lowercased() {
    case "mp4", "m4v": "video/mp4"
    case "mov": "video/quicktime"
    case "webm": "video/webm"
    case "mkv": "video/x-matroska"
    case "png": "image/png"
    case "jpg", "jpeg": "image/jpeg"
    case "webp": "image/webp"
    default: "application/octet-stream"
    }
  }
}
