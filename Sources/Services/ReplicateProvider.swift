import Clips
public import Foundation
import MediaIO
import NIOHTTP1
import Synchronization

/// Replicate-style prediction servers (docs/providers.md): the hosted API, and a Cog container.
///
/// Hosted: the source goes up through `POST /v1/files` (a data URI when the server has no files
/// API), a prediction is created on `/v1/models/{owner}/{name}/predictions` (or
/// `/v1/predictions` with the version after a `:`), polled, canceled at the client deadline,
/// and its `output` downloaded. There is no idempotency key: after a lost create answer the
/// prediction list is searched for one whose input holds our uploaded file's URL (unique to
/// this job) before another is created.
///
/// Cog: `PUT /predictions/{id}` with an id derived from mattegate's key, which Cog treats as
/// idempotent, so a lost answer is answered by sending the same PUT again; the source goes
/// inline as a data URI and the output comes back as one.
///
/// A model whose output is a matte video (`output_format: matte_mp4`, e.g. RobustVideoMatting's
/// `alpha-mask`) is read as alpha from its luma.
public final class ReplicateProvider: Provider {
  public var name: String { "replicate" }
  public var identity: String { "replicate \(settings.baseURL)" }
  public let settings: HTTPProviderSettings
  let transport: HTTPTransport
  private let creditStop = CreditStop()
  /// Whether the server has a files API (learnt on the first upload).
  private let filesAPI = Mutex<Bool?>(nil)

  public var retryLog: [String] { transport.retryLog }

  public init(settings: HTTPProviderSettings, log: RequestLog = RequestLog()) {
    self.settings = settings
    self.transport = HTTPTransport(settings: settings, keyStyle: .bearer, providerName: "replicate", log: log)
  }

  public func validate(_ config: ArmConfig) throws {
    try config.refuseLocalSettings(
      provider: "replicate", takes: "a Replicate model takes its inputs from replicate.input")
    if config.replicateServer == "hosted" {
      let parts = config.model.split(separator: ":", maxSplits: 1)
      guard parts[0].split(separator: "/").count == 2 else {
        throw ConfigError(
          file: config.file, field: "model",
          message: "a hosted Replicate model is owner/name or owner/name:version, not '\(config.model)'")
      }
    }
    guard ["matte_mp4", "mp4", "webm", "mov", "png_sequence"].contains(config.outputFormat) else {
      throw ConfigError(
        file: config.file, field: "output_format",
        message:
          "mattegate reads a Replicate model's output as matte_mp4 (a matte video), mp4 (a composite) or a transparent webm, mov or png_sequence; not '\(config.outputFormat)'"
      )
    }
    if config.bgType == "image" {
      throw ConfigError(
        file: config.file, field: "bg_type",
        message: "a Replicate model takes its inputs from replicate.input; a background picture has no standard input")
    }
  }

  /// Asks whether the model exists (hosted: `GET /v1/models/{owner}/{name}`) or the container
  /// is ready (Cog: `GET /health-check`), before anything is uploaded.
  public func preflight(_ configs: [ArmConfig]) async throws {
    for config in configs {
      if config.replicateServer == "cog" {
        let answer = try await transport.call(
          "GET", "/health-check", operation: "asking the Cog server whether it is ready", authenticated: false)
        guard answer.status == 200 else {
          throw ProviderSetupError("\(settings.baseURL)/health-check: HTTP \(answer.status)")
        }
        continue
      }
      let model = String(config.model.split(separator: ":", maxSplits: 1)[0])
      let answer = try await transport.call("GET", "/v1/models/\(model)", operation: "looking up model \(model)")
      if answer.status == 404 {
        throw ConfigError(
          file: config.file, field: "model",
          message: "the service at \(settings.baseURL) has no model '\(model)'; nothing was submitted")
      }
      guard answer.status == 200 else {
        throw ProviderSetupError("\(settings.baseURL)/v1/models/\(model): \(Self.describe(answer))")
      }
    }
  }

  public func submit(_ request: JobRequest) async throws -> JobOutcome {
    try creditStop.check(request)
    let started = Date()
    let tag = RequestTag(clipID: request.clipID, arm: request.arm)
    let config = request.config
    func fail(_ code: String, _ message: String, job: String? = nil, retryable: Bool = false) -> ProviderError {
      ProviderError.job(request, code, message, id: job, retryable: retryable)
    }
    guard let bytes = FileManager.default.contents(atPath: request.sourcePath) else {
      throw fail("upload_failed", "\(request.sourcePath): cannot be read")
    }
    let prediction: [String: Any]
    if config.replicateServer == "cog" {
      prediction = try await cogPredict(bytes: bytes, request: request, tag: tag, fail: { fail($0, $1) })
    } else {
      prediction = try await hostedPredict(
        bytes: bytes, request: request, tag: tag, deadline: started.addingTimeInterval(settings.deadline),
        fail: { fail($0, $1, job: $2, retryable: $3) })
    }
    let id = prediction["id"] as? String ?? "?"
    let status = prediction["status"] as? String ?? "failed"
    guard status == "succeeded" else {
      let text = Self.errorText(prediction["error"]) ?? "prediction \(id) ended \(status)"
      throw fail(status == "canceled" ? "canceled" : "job_failed", text, job: id)
    }
    // `output` is a URI, or a list of them (the last is the final file).
    let output = (prediction["output"] as? String) ?? (prediction["output"] as? [String])?.last
    guard let output else { throw fail("no_output", "prediction \(id) succeeded without an output", job: id) }
    if output.hasPrefix("data:") {
      guard let comma = output.firstIndex(of: ","),
        let data = Data(base64Encoded: String(output[output.index(after: comma)...]))
      else { throw fail("download_failed", "prediction \(id)'s output is not a base64 data URI", job: id) }
      guard FileManager.default.createFile(atPath: request.outputPath, contents: data) else {
        throw fail("download_failed", "\(request.outputPath): cannot be written", job: id)
      }
    } else {
      try await fetchOutput(predictionID: id, url: output, to: request.outputPath, tag: tag)
    }
    var outcome = JobOutcome(
      providerJobID: id, outputPath: request.outputPath, outputSHA256: try FileHash.sha256(ofFile: request.outputPath),
      serviceVersion: prediction["version"] as? String, credits: 0, startedAt: started, finishedAt: Date())
    let source = (prediction["input"] as? [String: Any])?[config.replicateInputField] as? String
    outcome.inputReference = source.map {
      $0.hasPrefix("data:") ? "inline data URI (\(bytes.count) bytes)" : "file " + RequestLog.redact($0)
    }
    if let time = ((prediction["metrics"] as? [String: Any])?["predict_time"] as? NSNumber)?.doubleValue {
      outcome.processingMS = Int(time * 1000)
    }
    return outcome
  }

  /// Downloads a prediction's output; an expired URL (403, 404, 410) is replaced by the one a
  /// fresh read of the prediction gives.
  func fetchOutput(predictionID id: String, url: String, to path: String, tag: RequestTag?) async throws {
    var code = try await transport.download(url, to: path, what: "the output of prediction \(id)", tag: tag)
    if [403, 404, 410].contains(code) {
      let fresh = try await transport.call(
        "GET", "/v1/predictions/\(id)", operation: "renewing the output URL of \(id)", tag: tag)
      let object = Self.object(fresh.body)
      guard fresh.status == 200,
        let renewed = (object?["output"] as? String) ?? (object?["output"] as? [String])?.last
      else { throw ProviderSetupError("GET /v1/predictions/\(id): \(Self.describe(fresh))") }
      transport.note("output of \(id): HTTP \(code); a fresh URL from the prediction")
      code = try await transport.download(renewed, to: path, what: "the output of prediction \(id)", tag: tag)
    }
    guard code == 200 else {
      throw ProviderError(
        clipID: tag?.clipID ?? "", arm: tag?.arm ?? "", code: "download_failed",
        message: "the output of prediction \(id) answered HTTP \(code)")
    }
  }

  func input(source: String, config: ArmConfig) -> [String: Any] {
    var input: [String: Any] = config.replicateInput
    input[config.replicateInputField] = source
    return input
  }

  // MARK: Hosted

  private func hostedPredict(
    bytes: Data, request: JobRequest, tag: RequestTag, deadline: Date,
    fail: (String, String, String?, Bool) -> ProviderError
  ) async throws -> [String: Any] {
    let config = request.config
    let source = try await uploadSource(bytes: bytes, request: request, tag: tag)
    let parts = config.model.split(separator: ":", maxSplits: 1).map(String.init)
    var body: [String: Any] = ["input": input(source: source, config: config), "metadata": request.metadata]
    let path: String
    if parts.count == 2 {
      body["version"] = parts[1]
      path = "/v1/predictions"
    } else {
      path = "/v1/models/\(parts[0])/predictions"
    }
    let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])
    var prediction: [String: Any]?
    var attempt = 0
    while prediction == nil {
      attempt += 1
      var answer: HTTPAnswer?
      do {
        answer = try await transport.call(
          "POST", path, body: data, contentType: "application/json",
          operation: "creating the prediction of clip '\(request.clipID)'", retryPolicy: .never, tag: tag)
      } catch is TransportError {
        answer = nil
      }
      if let answer, (200..<300).contains(answer.status) {
        prediction = Self.object(answer.body)
        break
      }
      if let answer, answer.status == 402 {
        let text = Self.errorText(Self.object(answer.body)?["detail"]) ?? "payment required"
        creditStop.stop("HTTP 402 (\(text))")
        throw fail("insufficient_credits", "\(text); no further jobs of this run are submitted", nil, false)
      }
      let lost = answer == nil || answer!.status >= 500
      guard lost || answer!.status == 429 else {
        throw fail("create_failed", "POST \(path): \(Self.describe(answer!))", nil, false)
      }
      if lost, let found = try await findPrediction(inputURL: source, field: config.replicateInputField, tag: tag) {
        transport.note(
          "POST \(path): \(answer.map { "HTTP \($0.status)" } ?? "no answer"); prediction \(found["id"] as? String ?? "?") holds our upload, so it is not created again"
        )
        prediction = found
        break
      }
      guard attempt < settings.maxAttempts else {
        throw fail("create_failed", "POST \(path) failed \(attempt) times", nil, false)
      }
      try await transport.waitBeforeRetry("POST", path, answer: answer, attempt: attempt)
    }
    guard var current = prediction, let id = current["id"] as? String else {
      throw fail("create_failed", "POST \(path) answered no prediction id", nil, false)
    }
    request.onCreated?(id)
    var interval = settings.pollInitial
    while !["succeeded", "failed", "canceled"].contains(current["status"] as? String ?? "") {
      if Date() >= deadline {
        _ = try? await transport.call(
          "POST", "/v1/predictions/\(id)/cancel", operation: "canceling prediction \(id) at the client deadline",
          tag: tag)
        throw fail(
          "client_deadline",
          "prediction \(id) was still \(current["status"] as? String ?? "?") after the client deadline of \(Int(settings.deadline)) s; canceled",
          id, true)
      }
      try await Task.sleep(for: .seconds(min(interval, max(0.01, deadline.timeIntervalSinceNow))))
      interval = min(interval * 1.5, settings.pollMax)
      let polled = try await transport.call(
        "GET", "/v1/predictions/\(id)", operation: "polling prediction \(id)", tag: tag)
      guard polled.status == 200, let object = Self.object(polled.body) else {
        throw fail("poll_failed", "GET /v1/predictions/\(id): \(Self.describe(polled))", id, false)
      }
      current = object
    }
    return current
  }

  /// The source's URL on the server: `POST /v1/files`, or a data URI when there is no files API.
  private func uploadSource(bytes: Data, request: JobRequest, tag: RequestTag) async throws -> String {
    if filesAPI.withLock({ $0 }) == false { return Self.dataURI(bytes, path: request.sourcePath) }
    let boundary = "mattegate-" + FileHash.sha256(of: Array(request.idempotencyKey.utf8)).prefix(24)
    let body = try MultipartForm.serialize(
      [
        MultipartForm.Part(
          name: "content", filename: URL(fileURLWithPath: request.sourcePath).lastPathComponent,
          contentType: HTTPProvider.contentType(request.sourcePath), body: bytes)
      ], boundary: boundary)
    let answer = try await transport.call(
      "POST", "/v1/files", body: body, contentType: "multipart/form-data; boundary=\(boundary)",
      operation: "uploading \(request.sourcePath)", tag: tag)
    if answer.status == 404 {
      filesAPI.withLock { $0 = false }
      return Self.dataURI(bytes, path: request.sourcePath)
    }
    guard (200..<300).contains(answer.status),
      let url = (Self.object(answer.body)?["urls"] as? [String: Any])?["get"] as? String
    else {
      throw ProviderError(
        clipID: request.clipID, arm: request.arm, code: "upload_failed",
        message: "POST /v1/files: \(Self.describe(answer))")
    }
    filesAPI.withLock { $0 = true }
    return url
  }

  /// The newest predictions holding `inputURL` in `field`, searched through the list's first pages.
  func findPrediction(inputURL: String, field: String, tag: RequestTag) async throws -> [String: Any]? {
    var path = "/v1/predictions"
    for _ in 0..<5 {
      let answer = try await transport.call("GET", path, operation: "looking for our prediction", tag: tag)
      guard answer.status == 200, let object = Self.object(answer.body) else { return nil }
      for prediction in object["results"] as? [[String: Any]] ?? []
      where (prediction["input"] as? [String: Any])?[field] as? String == inputURL {
        return prediction
      }
      guard let next = object["next"] as? String, !next.isEmpty else { return nil }
      path = next
    }
    return nil
  }

  // MARK: Cog

  private func cogPredict(
    bytes: Data, request: JobRequest, tag: RequestTag, fail: (String, String) -> ProviderError
  ) async throws -> [String: Any] {
    // Cog's ids are free-form; this one is stable across retries of the same job.
    let id = "mg-" + FileHash.sha256(of: Array(request.idempotencyKey.utf8)).prefix(32)
    request.onCreated?(id)
    let body = try JSONSerialization.data(
      withJSONObject: [
        "id": id, "input": input(source: Self.dataURI(bytes, path: request.sourcePath), config: request.config),
        "metadata": request.metadata,
      ],
      options: [.sortedKeys, .withoutEscapingSlashes])
    // Synchronous: the answer is the finished prediction. Sending the same id again is safe.
    let answer: HTTPAnswer
    do {
      answer = try await transport.call(
        "PUT", "/predictions/\(id)", body: body, contentType: "application/json",
        operation: "running prediction \(id) of clip '\(request.clipID)'", tag: tag,
        timeout: max(settings.requestTimeout, settings.deadline))
    } catch let error as TransportError {
      _ = try? await transport.call(
        "POST", "/predictions/\(id)/cancel", operation: "canceling prediction \(id)", retryPolicy: .never, tag: tag)
      throw fail("client_deadline", "\(error); prediction \(id) canceled")
    }
    guard answer.status == 200, let prediction = Self.object(answer.body) else {
      throw fail("create_failed", "PUT /predictions/\(id): \(Self.describe(answer))")
    }
    return prediction
  }

  // MARK: Reading answers

  static func dataURI(_ bytes: Data, path: String) -> String {
    "data:\(HTTPProvider.contentType(path));base64," + bytes.base64EncodedString()
  }

  public static func object(_ data: Data) -> [String: Any]? {
    try? JSONSerialization.jsonObject(with: data) as? [String: Any]
  }

  static func errorText(_ value: Any?) -> String? {
    if let s = value as? String { return s }
    return nil
  }

  /// `{"detail": "…"}` (Replicate's errors), else the status.
  public static func describe(_ answer: HTTPAnswer) -> String {
    let detail = object(answer.body)?["detail"] as? String
    return "HTTP \(answer.status)" + (detail.map { ": \($0)" } ?? " with an unexpected body")
  }
}
