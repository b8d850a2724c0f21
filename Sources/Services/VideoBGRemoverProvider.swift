import Clips
public import Foundation
import MediaIO
import NIOHTTP1
import Synchronization

/// VideoBGRemover's documented API (docs/providers.md): create a job with the file's name and
/// type, PUT the bytes to the signed `upload_url`, start it with the model and `background{…}`,
/// poll `/status`, download `processed_video_url` (a fresh URL from `POST …/result` when it
/// has expired).
///
/// Start is the charging call. It is sent once per job and never repeated: after a lost answer
/// (or a 5xx, which may follow a commit) the job's status decides; a job still `uploaded`
/// then fails the clip as unconfirmed rather than risk a second charge. A 429 is a refusal,
/// so it is the one answer after which start is sent again. No job is created after a start
/// was sent.
public final class VideoBGRemoverProvider: Provider {
  public static let defaultBaseURL = "https://api.videobgremover.com"
  public static let models = ["original", "light", "pro", "human"]
  /// Our output format → the vendor's `transparent_format` (mp4 is for a colour or picture
  /// background).
  public static let transparentFormats = [
    "webm": "webm_vp9", "mov": "mov_prores", "png_sequence": "png_sequence", "pro_bundle": "pro_bundle",
    // The matte alone: a transparent job whose `processed_mask_url` is downloaded.
    "matte_mp4": "webm_vp9",
  ]

  public var name: String { "videobgremover" }
  public var identity: String { "videobgremover \(settings.baseURL) \(version.withLock { $0 } ?? "unversioned")" }
  public let settings: HTTPProviderSettings
  let transport: HTTPTransport
  private let creditStop = CreditStop()
  private let version = Mutex<String?>(nil)
  /// How long a start whose answer was lost may take to show on the job before the clip fails.
  let startConfirmation: Double

  public var retryLog: [String] { transport.retryLog }

  public init(settings: HTTPProviderSettings, log: RequestLog = RequestLog(), startConfirmation: Double = 30) {
    self.settings = settings
    self.startConfirmation = startConfirmation
    self.transport = HTTPTransport(
      settings: settings, keyStyle: .apiKeyHeader, providerName: "videobgremover", log: log)
  }

  /// The vendor's model name: `light` → `videobgremover-light` (either form in a config).
  public static func vendorModel(_ model: String) -> String {
    model.hasPrefix("videobgremover-") ? model : "videobgremover-" + model
  }

  public func validate(_ config: ArmConfig) throws {
    try config.refuseLocalSettings(
      provider: "videobgremover", takes: "VideoBGRemover takes model, output_format and background settings")
    let plain = config.model.hasPrefix("videobgremover-") ? String(config.model.dropFirst(15)) : config.model
    guard Self.models.contains(plain) else {
      throw ConfigError(
        file: config.file, field: "model",
        message:
          "VideoBGRemover does not offer model '\(config.model)' (it offers \(Self.models.map { "videobgremover-" + $0 }.joined(separator: ", "))); nothing was submitted"
      )
    }
    switch config.bgType {
    case "transparent":
      guard Self.transparentFormats[config.outputFormat] != nil else {
        throw ConfigError(
          file: config.file, field: "output_format",
          message:
            "VideoBGRemover writes transparent output as \(Self.transparentFormats.keys.sorted().joined(separator: ", ")), not '\(config.outputFormat)'; nothing was submitted"
        )
      }
    case "color", "image":
      guard config.outputFormat == "mp4" else {
        throw ConfigError(
          file: config.file, field: "output_format",
          message: "VideoBGRemover composites a \(config.bgType) background into mp4, not '\(config.outputFormat)'")
      }
      if config.bgType == "image" && config.bgImageURL == nil {
        throw ConfigError(
          file: config.file, field: "bg_image_url",
          message:
            "VideoBGRemover takes a background picture by URL only (composition.background_url): set bg_image_url")
      }
    default:
      throw ConfigError(
        file: config.file, field: "bg_type", message: "VideoBGRemover takes transparent, color or image")
    }
  }

  /// Reads the balance (`GET /v1/credits`) so that a missing key or a wrong URL is found
  /// before anything is uploaded; the service's `X-API-Version` becomes part of the identity.
  public func preflight(_ configs: [ArmConfig]) async throws {
    let answer = try await transport.call("GET", "/v1/credits", operation: "reading VideoBGRemover credits")
    guard answer.status == 200 else {
      throw ProviderSetupError("\(settings.baseURL)/v1/credits: \(Self.describe(answer))")
    }
    if let v = answer.headers.first(name: "X-API-Version") { version.withLock { $0 = v } }
  }

  func startBody(_ config: ArmConfig) -> [String: Any] {
    var body: [String: Any] = ["model": Self.vendorModel(config.model)]
    switch config.bgType {
    case "color":
      body["format"] = "mp4"
      body["background"] = ["type": "color", "color": config.bgColor ?? "#000000"]
    case "image":
      body["format"] = "mp4"
      body["background"] = [
        "type": "color", "color": "#000000",
        "composition": ["background_type": "image", "background_url": config.bgImageURL ?? ""],
      ]
    default:
      body["background"] = ["type": "transparent", "transparent_format": Self.transparentFormats[config.outputFormat]!]
    }
    return body
  }

  public func submit(_ request: JobRequest) async throws -> JobOutcome {
    try creditStop.check(request)
    let started = Date()
    let deadline = started.addingTimeInterval(settings.deadline)
    let tag = RequestTag(clipID: request.clipID, arm: request.arm)
    func fail(_ code: String, _ message: String, job: String? = nil, retryable: Bool = false) -> ProviderError {
      ProviderError.job(request, code, message, id: job, retryable: retryable)
    }
    guard let bytes = FileManager.default.contents(atPath: request.sourcePath) else {
      throw fail("upload_failed", "\(request.sourcePath): cannot be read")
    }
    // 1. Create with the file's name and type (no charge; a repeat leaves an unstarted job).
    let type = HTTPProvider.contentType(request.sourcePath)
    let create = try JSONSerialization.data(
      withJSONObject: [
        "filename": URL(fileURLWithPath: request.sourcePath).lastPathComponent, "content_type": type,
        "metadata": request.metadata,
      ] as [String: Any], options: [.sortedKeys, .withoutEscapingSlashes])
    let created = try await transport.call(
      "POST", "/v1/jobs", body: create, contentType: "application/json",
      operation: "creating the job of clip '\(request.clipID)'", tag: tag)
    guard (200..<300).contains(created.status), let job = Self.object(created.body), let jobID = job["id"] as? String,
      let uploadURL = job["upload_url"] as? String
    else {
      throw fail("create_failed", "POST /v1/jobs: \(Self.describe(created))")
    }
    request.onCreated?(jobID)
    // 2. The bytes, unchanged, to the signed URL with the headers it asks for.
    let instructions = (job["instructions"] as? [String: Any])?["headers"] as? [String: String] ?? [:]
    var headers = instructions.filter { $0.key.lowercased() != "content-type" }.map { ($0.key, $0.value) }
    headers.sort { $0.0 < $1.0 }
    let put = try await transport.call(
      "PUT", uploadURL, body: bytes, contentType: instructions["Content-Type"] ?? type, headers: headers,
      operation: "uploading the source of clip '\(request.clipID)'", tag: tag)
    guard (200..<300).contains(put.status) else {
      throw fail("upload_failed", "PUT to the signed upload URL: \(Self.describe(put))", job: jobID)
    }
    // 3. Start, once.
    let startReply = try await start(jobID, request: request, tag: tag, fail: { fail($0, $1, job: jobID) })
    let creditsUsed = (startReply?["creditsUsed"] as? NSNumber)?.doubleValue
    // 4. Poll /status.
    var interval = settings.pollInitial
    var status: [String: Any] = [:]
    var state = "processing"
    while !["completed", "failed"].contains(state) {
      if Date() >= deadline {
        _ = try? await transport.call(
          "DELETE", "/v1/jobs/\(jobID)", operation: "deleting job \(jobID) at the client deadline", tag: tag)
        var e = fail(
          "client_deadline",
          "job \(jobID) was still \(state) after the client deadline of \(Int(settings.deadline)) s; deleted",
          job: jobID, retryable: true)
        e.creditsReserved = creditsUsed ?? 0
        throw e
      }
      try await Task.sleep(for: .seconds(min(interval, max(0.01, deadline.timeIntervalSinceNow))))
      interval = min(interval * 1.5, settings.pollMax)
      let polled = try await transport.call(
        "GET", "/v1/jobs/\(jobID)/status", operation: "polling job \(jobID)", tag: tag)
      guard polled.status == 200, let object = Self.object(polled.body) else {
        throw fail("poll_failed", "GET /v1/jobs/\(jobID)/status: \(Self.describe(polled))", job: jobID)
      }
      status = object
      state = (object["status"] as? String ?? "processing").lowercased()
    }
    // For matte_mp4 the matte is `processed_mask_url`, not the video.
    let urlField = request.config.outputFormat == "matte_mp4" ? "processed_mask_url" : "processed_video_url"
    guard state == "completed", let url = status[urlField] as? String else {
      if state == "completed" {
        throw fail("no_output", "job \(jobID) completed without \(urlField)", job: jobID)
      }
      // The vendor's text, word for word; failed jobs are not charged.
      var e = fail("job_failed", status["message"] as? String ?? "job \(jobID) failed without a message", job: jobID)
      e.creditsReserved = creditsUsed ?? 0
      e.creditsRefunded = creditsUsed ?? 0
      throw e
    }
    // 5. Download; an expired URL is renewed once through POST /result.
    try await fetchOutput(
      jobID: jobID, url: url, to: request.outputPath, tag: tag, mask: request.config.outputFormat == "matte_mp4")
    var outcome = JobOutcome(
      providerJobID: jobID, outputPath: request.outputPath,
      outputSHA256: try FileHash.sha256(ofFile: request.outputPath), serviceVersion: version.withLock { $0 },
      credits: creditsUsed ?? 0, startedAt: started, finishedAt: Date())
    outcome.creditsReserved = creditsUsed ?? 0
    outcome.creditsCharged = creditsUsed ?? 0
    outcome.inputReference = "upload_url of job \(jobID)"
    return outcome
  }

  /// Sends start once. Returns its answer, or nil when the answer was lost but the job's status
  /// shows it started.
  private func start(_ jobID: String, request: JobRequest, tag: RequestTag, fail: (String, String) -> ProviderError)
    async throws -> [String: Any]?
  {
    let body = try JSONSerialization.data(withJSONObject: startBody(request.config), options: [.sortedKeys])
    var attempt = 0
    while true {
      attempt += 1
      var answer: HTTPAnswer?
      do {
        answer = try await transport.call(
          "POST", "/v1/jobs/\(jobID)/start", body: body, contentType: "application/json",
          operation: "starting job \(jobID)", retryPolicy: .never, tag: tag)
      } catch is TransportError {
        answer = nil
      }
      if let answer, answer.status == 429, attempt < settings.maxAttempts {
        // A refusal: nothing was started, so start may go again.
        try await transport.waitBeforeRetry("POST", "/v1/jobs/\(jobID)/start", answer: answer, attempt: attempt)
        continue
      }
      if let answer, answer.status < 500 {
        if answer.status == 402 {
          let text = Self.errorText(answer.body) ?? "insufficient credits"
          let duration = try? VideoReader(path: request.sourcePath, options: ReadOptions(rgb: .none)).declaredDuration
          let needed = max(1, ceil((duration ?? 1) - 1e-9))
          let reason = "insufficient_credits (job \(jobID) needs \(Int(needed)) credits: \(text))"
          creditStop.stop(reason)
          throw fail(
            "insufficient_credits",
            "job \(jobID) needs \(Int(needed)) credits (1 a second); the service said: \(text); no further jobs of this run are submitted"
          )
        }
        guard (200..<300).contains(answer.status) else {
          throw fail("start_failed", "POST /v1/jobs/\(jobID)/start: \(Self.describe(answer))")
        }
        return Self.object(answer.body) ?? [:]
      }
      // Lost, or a 5xx that may follow a commit: the status decides, and start is not sent again.
      let what = answer.map { "HTTP \($0.status)" } ?? "no answer"
      let confirmBy = Date().addingTimeInterval(startConfirmation)
      var interval = settings.pollInitial
      while true {
        let polled = try await transport.call(
          "GET", "/v1/jobs/\(jobID)/status", operation: "checking whether job \(jobID) started", tag: tag)
        let state = (Self.object(polled.body)?["status"] as? String)?.lowercased()
        if polled.status == 200, let state, !["created", "uploaded"].contains(state) {
          transport.note("POST /v1/jobs/\(jobID)/start: \(what); the job reads \(state), so start is not sent again")
          return nil
        }
        if Date() >= confirmBy {
          throw fail(
            "start_unconfirmed",
            "POST /v1/jobs/\(jobID)/start: \(what), and the job still reads \(state ?? "unknown"); start is the charging call, so it is not sent twice"
          )
        }
        try await Task.sleep(for: .seconds(interval))
        interval = min(interval * 1.5, settings.pollMax)
      }
    }
  }

  /// Downloads `url` to `path`; an expired or refused URL (403, 404, 410) is replaced once by
  /// a fresh one from `POST /v1/jobs/{id}/result`.
  func fetchOutput(jobID: String, url: String, to path: String, tag: RequestTag?, mask: Bool = false) async throws {
    var status = try await transport.download(url, to: path, what: "the output of job \(jobID)", tag: tag)
    if [403, 404, 410].contains(status) {
      // The video's URL is renewed by POST /result; the mask's by reading the status again.
      let fresh =
        mask
        ? try await transport.call(
          "GET", "/v1/jobs/\(jobID)/status", operation: "renewing the mask URL of \(jobID)", tag: tag)
        : try await transport.call(
          "POST", "/v1/jobs/\(jobID)/result", body: Data("{}".utf8), contentType: "application/json",
          operation: "renewing the output URL of \(jobID)", tag: tag)
      guard fresh.status == 200,
        let renewed = Self.object(fresh.body)?[mask ? "processed_mask_url" : "download_url"] as? String
      else {
        throw ProviderSetupError("renewing the output URL of job \(jobID): \(Self.describe(fresh))")
      }
      transport.note("output of \(jobID): HTTP \(status); a fresh URL from \(mask ? "/status" : "/result")")
      status = try await transport.download(renewed, to: path, what: "the output of job \(jobID)", tag: tag)
    }
    guard status == 200 else {
      throw ProviderError(
        clipID: tag?.clipID ?? "", arm: tag?.arm ?? "", code: "download_failed",
        message: "the output of job \(jobID) answered HTTP \(status)")
    }
  }

  public static func object(_ data: Data) -> [String: Any]? {
    try? JSONSerialization.jsonObject(with: data) as? [String: Any]
  }

  /// `{"error": "…"}` (documented), or the object form other services use.
  static func errorText(_ data: Data) -> String? {
    guard let error = object(data)?["error"] else { return nil }
    if let s = error as? String { return s }
    return (error as? [String: Any])?["message"] as? String
  }

  public static func describe(_ answer: HTTPAnswer) -> String {
    errorText(answer.body).map { "HTTP \(answer.status): \($0)" } ?? "HTTP \(answer.status) with an unexpected body"
  }
}
