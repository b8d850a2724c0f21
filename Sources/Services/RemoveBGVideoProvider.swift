import Clips
public import Foundation
import MediaIO
import NIOHTTP1
import Synchronization

/// RemoveBGVideo's documented API (docs/providers.md): upload the source, create a draft job
/// (`auto_start: false`) carrying mattegate's key in `metadata`, start it, poll with backoff,
/// download through `/api/download/{id}` (or the job's `output_url`).
///
/// The service has no idempotency key. A create whose answer is lost is never simply sent
/// again: the job list is searched for the key in `metadata` first, and a second create goes
/// out only when no job carries it. A start whose answer is lost is followed by a status
/// read; the start is repeated only while the job still reads as not started.
public final class RemoveBGVideoProvider: Provider {
  public static let defaultBaseURL = "https://api.removebgvideo.com"
  /// Models and output formats the vendor documents; gif and webp are documented too, but
  /// mattegate cannot score them (8-bit palette or lossy alpha), so a config naming them is
  /// refused before anything is uploaded.
  public static let models = ["original", "light", "pro", "human"]
  public static let formats = ["webm", "mov", "mp4", "png_sequence"]
  /// The documented price list (credits per minute of billed video), used when `/api/pricing`
  /// cannot be read.
  public static let documentedPricing: [String: Double] = ["original": 60, "light": 45, "pro": 180, "human": 45]

  public var name: String { "removebgvideo" }
  public var identity: String { "removebgvideo \(settings.baseURL)" }
  public let settings: HTTPProviderSettings
  let transport: HTTPTransport
  private let creditStop = CreditStop()
  private let pricing = Mutex<[String: Double]>(RemoveBGVideoProvider.documentedPricing)
  /// Whether `bg_type` takes the preset vocabulary (`custom` for a colour): learnt from a
  /// refusal, kept for the run.
  private let presetVocabulary = Mutex(false)

  public var retryLog: [String] { transport.retryLog }

  public init(settings: HTTPProviderSettings, log: RequestLog = RequestLog()) {
    self.settings = settings
    self.transport = HTTPTransport(settings: settings, keyStyle: .apiKeyHeader, providerName: "removebgvideo", log: log)
  }

  public func validate(_ config: ArmConfig) throws {
    try config.refuseLocalSettings(
      provider: "removebgvideo", takes: "RemoveBGVideo takes model, output_format and background settings")
    guard Self.models.contains(config.model) else {
      throw ConfigError(
        file: config.file, field: "model",
        message:
          "RemoveBGVideo does not offer model '\(config.model)' (it offers \(Self.models.joined(separator: ", "))); nothing was submitted"
      )
    }
    guard Self.formats.contains(config.outputFormat) else {
      throw ConfigError(
        file: config.file, field: "output_format",
        message:
          "mattegate cannot take '\(config.outputFormat)' from RemoveBGVideo (it takes \(Self.formats.joined(separator: ", "))); nothing was submitted"
      )
    }
    guard ["transparent", "color", "image"].contains(config.bgType) else {
      throw ConfigError(
        file: config.file, field: "bg_type", message: "RemoveBGVideo takes bg_type transparent, color or image")
    }
  }

  /// Reads the price list (`GET /api/pricing`); the documented one stands when it cannot be read.
  public func preflight(_ configs: [ArmConfig]) async throws {
    guard
      let answer = try? await transport.call(
        "GET", "/api/pricing", operation: "reading RemoveBGVideo's prices", authenticated: false),
      answer.status == 200,
      let object = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any],
      let table = object["model_pricing_credits_per_minute"] as? [String: Any]
    else { return }
    let read = table.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    if !read.isEmpty { pricing.withLock { $0.merge(read) { _, new in new } } }
  }

  /// The documented colour as RemoveBGVideo's normalised floats (`#09A246` → 0.035, 0.635, 0.275).
  public static func normalizedColor(_ hex: String) -> [Double] {
    let value = UInt32(hex.dropFirst(), radix: 16) ?? 0
    return [16, 8, 0].map { shift in
      (Double((value >> UInt32(shift)) & 0xFF) / 255 * 1000).rounded() / 1000
    }
  }

  /// The vendor's charge: price per minute × billed seconds (whole seconds, at least 1) / 60.
  public static func estimatedCredits(perMinute: Double, durationSeconds: Double) -> Double {
    perMinute * max(1, ceil(durationSeconds - 1e-9)) / 60
  }

  public func submit(_ request: JobRequest) async throws -> JobOutcome {
    try creditStop.check(request)
    let started = Date()
    let deadline = started.addingTimeInterval(settings.deadline)
    let tag = RequestTag(clipID: request.clipID, arm: request.arm)
    let config = request.config
    var inputReference: String?
    func fail(_ code: String, _ message: String, job: String? = nil, retryable: Bool = false) -> ProviderError {
      var e = ProviderError.job(request, code, message, id: job, retryable: retryable)
      e.inputReference = inputReference
      return e
    }
    // 1. The source, unchanged.
    let uploaded = try await upload(request.sourcePath, request: request, tag: tag, purpose: "source")
    let source = uploaded.url
    inputReference = uploaded.id.map { "video_id " + $0 } ?? "video_url " + RequestLog.redact(source)
    // 2. The background picture: its URL, else an upload if the service takes pictures.
    var imageURL = config.bgImageURL
    if config.bgType == "image" && imageURL == nil, let picture = config.bgImage {
      do {
        imageURL = try await upload(picture, request: request, tag: tag, purpose: "background").url
      } catch let e as ProviderError where e.code == "upload_refused" {
        throw fail(
          "bg_image_upload_refused",
          "RemoveBGVideo refused the background picture upload (\(e.message)); put the picture at a URL the service can fetch and set bg_image_url in \(config.file)"
        )
      }
    }
    // 3. A draft job, found again by its key if an answer is lost.
    let metadata = request.metadata
    let jobID = try await create(
      source: source, imageURL: imageURL, metadata: metadata, request: request, tag: tag, fail: { fail($0, $1) })
    request.onCreated?(jobID)
    // 4. Start: 402 stops the run's submissions.
    try await start(jobID, request: request, tag: tag, fail: { fail($0, $1, job: jobID) })
    // 5. Poll until terminal or the client's deadline.
    var interval = settings.pollInitial
    var job: [String: Any] = [:]
    var status = "pending"
    while !["completed", "failed"].contains(status) {
      if Date() >= deadline {
        throw fail(
          "client_deadline",
          "job \(jobID) was still \(status) after the client deadline of \(Int(settings.deadline)) s (RemoveBGVideo documents no cancel; the job may still finish and be billed)",
          job: jobID, retryable: true)
      }
      try await Task.sleep(for: .seconds(min(interval, max(0.01, deadline.timeIntervalSinceNow))))
      interval = min(interval * 1.5, settings.pollMax)
      let polled = try await transport.call("GET", "/v1/jobs/\(jobID)", operation: "polling job \(jobID)", tag: tag)
      guard polled.status == 200, let object = Self.object(polled.body) else {
        throw fail("poll_failed", "GET /v1/jobs/\(jobID): \(Self.describe(polled))", job: jobID)
      }
      job = (object["job"] as? [String: Any]) ?? object
      status = Self.status(job["status"])
    }
    let duration = (job["duration_seconds"] as? NSNumber)?.doubleValue
    guard status == "completed" else {
      // The vendor's error text, word for word.
      let text = Self.errorText(job["error"]) ?? "job \(jobID) failed without an error message"
      throw fail("job_failed", text, job: jobID)
    }
    // 6. Download the job's output_url; an expired or refused one is replaced by /api/download's.
    try await fetchOutput(jobID: jobID, outputURL: job["output_url"] as? String, to: request.outputPath, tag: tag)
    // 7. Credits: the price list × billed seconds, replaced by the usage event's figure when the
    // service lists one for this job.
    let perMinute = pricing.withLock { $0[config.model] } ?? Self.documentedPricing[config.model] ?? 0
    var credits = Self.estimatedCredits(perMinute: perMinute, durationSeconds: duration ?? 1)
    if let billed = await usageCredits(jobID, tag: tag) { credits = billed }
    var outcome = JobOutcome(
      providerJobID: jobID, outputPath: request.outputPath,
      outputSHA256: try FileHash.sha256(ofFile: request.outputPath), serviceVersion: nil, credits: credits,
      startedAt: started, finishedAt: Date())
    outcome.creditsCharged = credits
    outcome.inputReference = inputReference
    return outcome
  }

  // MARK: Steps

  private func upload(_ path: String, request: JobRequest, tag: RequestTag, purpose: String) async throws -> (
    url: String, id: String?
  ) {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ProviderError(
        clipID: request.clipID, arm: request.arm, code: "upload_failed", message: "\(path): cannot be read")
    }
    let boundary = "mattegate-" + FileHash.sha256(of: Array((request.idempotencyKey + purpose).utf8)).prefix(24)
    let body = try MultipartForm.serialize(
      [
        MultipartForm.Part(
          name: "file", filename: URL(fileURLWithPath: path).lastPathComponent,
          contentType: HTTPProvider.contentType(path), body: data)
      ], boundary: boundary)
    let answer = try await transport.call(
      "POST", "/v1/uploads", body: body, contentType: "multipart/form-data; boundary=\(boundary)",
      operation: "uploading \(path)", tag: tag)
    guard answer.status == 200 || answer.status == 201, let object = Self.object(answer.body),
      let url = object["video_url"] as? String ?? object["url"] as? String
    else {
      let refused = [400, 413, 415, 422].contains(answer.status)
      throw ProviderError(
        clipID: request.clipID, arm: request.arm, code: refused ? "upload_refused" : "upload_failed",
        message: "POST /v1/uploads (\(path)): \(Self.describe(answer))")
    }
    return (url, object["video_id"] as? String ?? object["id"] as? String)
  }

  /// The create body: the flat fields one page documents and the `background{}` object
  /// another shows, both, so either reading finds its settings.
  func createBody(source: String, imageURL: String?, metadata: [String: String], config: ArmConfig) -> Data {
    var body: [String: Any] = [
      "video_url": source, "model": config.model, "output_format": config.outputFormat, "auto_start": false,
      "metadata": metadata,
    ]
    var background: [String: Any] = ["type": config.bgType]
    switch config.bgType {
    case "color":
      let hex = config.bgColor ?? "#000000"
      body["bg_type"] = presetVocabulary.withLock { $0 } ? "custom" : "color"
      body["bg_color"] = Self.normalizedColor(hex)
      background["type"] = body["bg_type"]
      background["color"] = hex
    case "image":
      body["bg_type"] = "image"
      body["bg_image_url"] = imageURL
      background["image_url"] = imageURL
    default:
      body["bg_type"] = "transparent"
    }
    body["background"] = background
    return (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
      ?? Data()
  }

  private func create(
    source: String, imageURL: String?, metadata: [String: String], request: JobRequest, tag: RequestTag,
    fail: (String, String) -> ProviderError
  ) async throws -> String {
    let key = metadata["mattegate_key"]!
    var attempt = 0
    while true {
      attempt += 1
      let body = createBody(source: source, imageURL: imageURL, metadata: metadata, config: request.config)
      let answer: HTTPAnswer
      do {
        answer = try await transport.call(
          "POST", "/v1/jobs", body: body, contentType: "application/json",
          operation: "creating the job of clip '\(request.clipID)'", retryPolicy: .never, tag: tag)
      } catch is TransportError {
        // The create may have been committed: look for its key before sending another.
        if let found = try await findJob(key: key, tag: tag) {
          transport.note("POST /v1/jobs: no answer; job \(found) carries our key, so it is not created again")
          return found
        }
        guard attempt < settings.maxAttempts else {
          throw fail("create_failed", "POST /v1/jobs got no answer \(attempt) times and no job carries our key")
        }
        try await transport.waitBeforeRetry(
          "POST", "/v1/jobs", answer: nil, attempt: attempt, why: "no answer and no job carries our key")
        continue
      }
      if [200, 201].contains(answer.status), let object = Self.object(answer.body) {
        let job = (object["job"] as? [String: Any]) ?? object
        if let id = job["id"] as? String ?? job["job_id"] as? String { return id }
      }
      if HTTPTransport.retryableStatuses.contains(answer.status) && attempt < settings.maxAttempts {
        // A 5xx may follow a commit; a 429 does not, but looking costs one request.
        if answer.status != 429, let found = try await findJob(key: key, tag: tag) {
          transport.note(
            "POST /v1/jobs: HTTP \(answer.status); job \(found) carries our key, so it is not created again")
          return found
        }
        try await transport.waitBeforeRetry("POST", "/v1/jobs", answer: answer, attempt: attempt)
        continue
      }
      // One page reads bg_type as transparent|green|white|black|blue|custom: a colour is `custom`.
      if [400, 422].contains(answer.status), request.config.bgType == "color",
        Self.errorText(Self.object(answer.body)?["error"])?.contains("bg_type") == true,
        !presetVocabulary.withLock({ $0 })
      {
        presetVocabulary.withLock { $0 = true }
        transport.note("POST /v1/jobs: bg_type 'color' refused; sending 'custom' (the preset vocabulary)")
        continue
      }
      throw fail("create_failed", "POST /v1/jobs: \(Self.describe(answer))")
    }
  }

  private func start(_ jobID: String, request: JobRequest, tag: RequestTag, fail: (String, String) -> ProviderError)
    async throws
  {
    var attempt = 0
    while true {
      attempt += 1
      // Start may charge, so nothing repeats it blindly: after a lost answer or a 5xx the
      // job's status says whether it started.
      var answer: HTTPAnswer?
      do {
        answer = try await transport.call(
          "POST", "/v1/jobs/\(jobID)/start", body: Data("{}".utf8), contentType: "application/json",
          operation: "starting job \(jobID)", retryPolicy: .never, tag: tag)
      } catch is TransportError {
        answer = nil
      }
      if answer == nil || (answer!.status >= 500 && HTTPTransport.retryableStatuses.contains(answer!.status)) {
        let polled = try await transport.call("GET", "/v1/jobs/\(jobID)", operation: "checking job \(jobID)", tag: tag)
        if polled.status == 200, let object = Self.object(polled.body),
          Self.status(((object["job"] as? [String: Any]) ?? object)["status"]) != "pending"
        {
          transport.note(
            "POST /v1/jobs/\(jobID)/start: \(answer.map { "HTTP \($0.status)" } ?? "no answer"); the job reads as started"
          )
          return
        }
        guard attempt < settings.maxAttempts else {
          throw fail("start_failed", "POST /v1/jobs/\(jobID)/start failed \(attempt) times; the job never started")
        }
        // A 5xx's Retry-After is not for this: the start is only repeated after a backoff.
        try await transport.waitBeforeRetry(
          "POST", "/v1/jobs/\(jobID)/start", answer: nil, attempt: attempt,
          why: "\(answer.map { "HTTP \($0.status)" } ?? "no answer") and not started")
        continue
      }
      guard let answer else { continue }
      if answer.status == 429 && attempt < settings.maxAttempts {
        try await transport.waitBeforeRetry("POST", "/v1/jobs/\(jobID)/start", answer: answer, attempt: attempt)
        continue
      }
      if answer.status == 402 {
        let perMinute = pricing.withLock { $0[request.config.model] } ?? 0
        let text = Self.errorText(Self.object(answer.body)?["error"]) ?? "insufficient credits"
        let duration = (try? VideoReader(path: request.sourcePath, options: ReadOptions(rgb: .none)).declaredDuration)
        let needed = Self.estimatedCredits(perMinute: perMinute, durationSeconds: duration ?? 1)
        let reason = "insufficient_credits (job \(jobID) needs \(Self.format(needed)) credits: \(text))"
        creditStop.stop(reason)
        throw fail(
          "insufficient_credits",
          "job \(jobID) needs \(Self.format(needed)) credits (\(Self.format(perMinute)) a minute × \(Self.format(max(1, ceil((duration ?? 1) - 1e-9)))) s); the service said: \(text); no further jobs of this run are submitted"
        )
      }
      guard (200..<300).contains(answer.status) else {
        throw fail("start_failed", "POST /v1/jobs/\(jobID)/start: \(Self.describe(answer))")
      }
      return
    }
  }

  /// The job carrying `key` in its metadata, searched newest first through the list.
  func findJob(key: String, tag: RequestTag) async throws -> String? {
    var offset = 0
    while offset < 1000 {
      let answer = try await transport.call(
        "GET", "/v1/jobs?limit=100&offset=\(offset)", operation: "looking for the job with our key", tag: tag)
      guard answer.status == 200, let object = Self.object(answer.body) else { return nil }
      let jobs = (object["jobs"] ?? object["data"]) as? [[String: Any]] ?? []
      for job in jobs where (job["metadata"] as? [String: Any])?["mattegate_key"] as? String == key {
        return job["id"] as? String
      }
      if jobs.count < 100 { return nil }
      offset += 100
    }
    return nil
  }

  /// Downloads job `jobID`'s output to `path`: `outputURL` first when there is one, then a
  /// fresh URL from `/api/download/{id}` if that one has expired (403, 404, 410).
  func fetchOutput(jobID: String, outputURL: String?, to path: String, tag: RequestTag?) async throws {
    var url: String
    if let outputURL { url = outputURL } else { url = try await downloadURL(jobID, fallback: nil, tag: tag) }
    var status = 0
    for round in 0..<2 {
      status = try await transport.download(url, to: path, what: "the output of job \(jobID)", tag: tag)
      guard round == 0, [403, 404, 410].contains(status) else { break }
      transport.note("output of \(jobID): HTTP \(status); a fresh URL from /api/download")
      url = try await downloadURL(jobID, fallback: nil, tag: tag)
    }
    guard status == 200 else {
      throw ProviderError(
        clipID: tag?.clipID ?? "", arm: tag?.arm ?? "", code: "download_failed",
        message: "the output of job \(jobID) answered HTTP \(status)")
    }
  }

  private func downloadURL(_ jobID: String, fallback: String?, tag: RequestTag?) async throws -> String {
    let answer = try await transport.call(
      "GET", "/api/download/\(jobID)", operation: "asking for the output of job \(jobID)", tag: tag)
    if answer.status == 200, let object = Self.object(answer.body), let url = object["download_url"] as? String {
      return url
    }
    if let fallback { return fallback }
    throw ProviderSetupError("GET /api/download/\(jobID): \(Self.describe(answer))")
  }

  /// The usage event's credits for `jobID`, when `/v1/usage/events` lists it.
  private func usageCredits(_ jobID: String, tag: RequestTag) async -> Double? {
    guard
      let answer = try? await transport.call(
        "GET", "/v1/usage/events?limit=100", operation: "reading usage events", tag: tag),
      answer.status == 200, let object = Self.object(answer.body),
      let events = (object["events"] ?? object["data"]) as? [[String: Any]]
    else { return nil }
    let mine = events.filter { $0["job_id"] as? String == jobID }
    let credits = mine.compactMap { ($0["credits"] as? NSNumber)?.doubleValue }
    return credits.isEmpty ? nil : credits.reduce(0, +)
  }

  // MARK: Reading answers

  public static func object(_ data: Data) -> [String: Any]? {
    try? JSONSerialization.jsonObject(with: data) as? [String: Any]
  }

  /// Both documented vocabularies: `pending` and `created` for a job not yet processing.
  public static func status(_ value: Any?) -> String {
    switch (value as? String)?.lowercased() {
    case "created", "pending", "queued": return "pending"
    case "processing", "running", "started": return "processing"
    case "completed", "succeeded", "done": return "completed"
    case "failed", "error", "canceled", "cancelled": return "failed"
    case let other?: return other
    case nil: return "pending"
    }
  }

  /// `{"error":{"code","message"}}` or `{"error":"…"}`: the message, word for word.
  static func errorText(_ value: Any?) -> String? {
    if let s = value as? String { return s }
    if let o = value as? [String: Any] { return o["message"] as? String ?? o["code"] as? String }
    return nil
  }

  public static func describe(_ answer: HTTPAnswer) -> String {
    let object = object(answer.body)
    if let error = object?["error"] {
      let code = (error as? [String: Any])?["code"] as? String
      return "HTTP \(answer.status)" + (code.map { " \($0)" } ?? "") + ": " + (errorText(error) ?? "")
    }
    return "HTTP \(answer.status) with an unexpected body"
  }

  static func format(_ x: Double) -> String {
    x == x.rounded() ? String(Int(x)) : String(format: "%.4g", x)
  }
}
