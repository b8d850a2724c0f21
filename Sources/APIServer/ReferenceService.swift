import Engine
import Foundation
import MatteMetrics
import MediaIO
import Services

/// An answer of the reference server: status, JSON (or file) body and extra headers.
struct Reply: Sendable, Error {
  var status: Int
  var body: Data
  var contentType = "application/json"
  var headers: [String: String] = [:]

  static func json(_ status: Int, _ value: some Encodable, headers: [String: String] = [:]) -> Reply {
    let data = (try? JobAPI.encoder.encode(value)) ?? Data("{}".utf8)
    return Reply(status: status, body: data, headers: headers)
  }

  static func error(
    _ status: Int, _ code: String, _ message: String, requestID: String, retryAfter: Int? = nil,
    details: [String: JobAPI.Scalar]? = nil
  ) -> Reply {
    var headers: [String: String] = [:]
    if let retryAfter { headers["Retry-After"] = "\(retryAfter)" }
    return .json(
      status,
      JobAPI.ErrorBody(
        error: JobAPI.ErrorDetail(
          code: code, message: message, requestId: requestID, retryAfterSeconds: retryAfter, details: details)),
      headers: headers)
  }
}

/// A model the reference server offers: a contract name, the embedded engine's keyer behind it,
/// and its price.
struct OfferedModel: Sendable {
  var id: String
  var keyer: KeyerModel
  var creditsPerMinute: Int
  var description: String

  /// semantics.md's prices (a 12.3 s clip: original 13, light 10, pro 39), and the engine's own
  /// names at the same prices.
  static let all: [OfferedModel] = [
    OfferedModel(id: "original", keyer: .softKeyer, creditsPerMinute: 60, description: "soft keyer"),
    OfferedModel(id: "light", keyer: .thresholdKeyer, creditsPerMinute: 45, description: "hard threshold keyer"),
    OfferedModel(id: "pro", keyer: .refinedKeyer, creditsPerMinute: 180, description: "soft keyer + guided filter"),
    OfferedModel(
      id: "human", keyer: .softKeyer, creditsPerMinute: 45, description: "soft keyer (RemoveBGVideo's name)"),
    // VideoBGRemover's names: 1 credit per second of video, whatever the model.
    OfferedModel(
      id: "videobgremover-original", keyer: .softKeyer, creditsPerMinute: 60, description: "VideoBGRemover's name"),
    OfferedModel(
      id: "videobgremover-light", keyer: .thresholdKeyer, creditsPerMinute: 60, description: "VideoBGRemover's name"),
    OfferedModel(
      id: "videobgremover-pro", keyer: .refinedKeyer, creditsPerMinute: 60, description: "VideoBGRemover's name"),
    OfferedModel(
      id: "videobgremover-human", keyer: .softKeyer, creditsPerMinute: 60, description: "VideoBGRemover's name"),
    OfferedModel(id: "threshold-keyer", keyer: .thresholdKeyer, creditsPerMinute: 45, description: "engine model"),
    OfferedModel(id: "soft-keyer", keyer: .softKeyer, creditsPerMinute: 60, description: "engine model"),
    OfferedModel(id: "refined-keyer", keyer: .refinedKeyer, creditsPerMinute: 180, description: "engine model"),
  ]
}

/// What the worker needs to process one job outside the actor.
struct WorkItem: Sendable {
  var jobID: String
  var videoURL: String
  var backgroundURL: String?
  var settings: JobAPI.Settings
  var keyer: KeyerModel
  var outputPath: String
  var scratch: String
}

/// The reference server's state: uploads, signed files, jobs, credits, idempotency records,
/// armed faults, the simulated clock and webhook deliveries. All mutation happens here.
actor ReferenceService {
  static let urlTTL: TimeInterval = 24 * 3600
  static let maxVideoBytes = 500 * 1024 * 1024
  static let maxImageBytes = 20 * 1024 * 1024
  static let maxDuration = 300.0
  static let maxWidth = 3840
  static let maxHeight = 2160
  static let formats: [(id: String, alpha: Bool, contentType: String, ext: String)] = [
    ("webm", true, "video/webm", "webm"), ("mov", true, "video/quicktime", "mov"), ("mp4", false, "video/mp4", "mp4"),
    ("png_sequence", true, "application/zip", "zip"), ("matte_mp4", true, "video/mp4", "mp4"),
  ]

  let apiKey: String
  let storage: String
  let version: String
  let webhookSecret: String?
  private(set) var baseURL = "http://127.0.0.1:0"

  private var clockOffset: TimeInterval = 0
  private var counters: [String: Int] = [:]
  private var jobOrder = 0
  private var balance = 1000
  private var reserved = 0
  private var usedTotal = 0

  private struct StoredFile {
    var path: String
    var contentType: String
  }
  private struct Token {
    var fileID: String
    var expires: Date
  }
  private struct StoredJob {
    var job: JobAPI.Job
    var order: Int
    var keyer: KeyerModel
    var durationSeconds: Double?
    var startedAt: Date?
    var fault: JobAPI.FaultSpec?
    var outputFileID: String?
  }
  private struct IdempotencyRecord {
    var fingerprint: String
    var reply: Reply
  }
  private struct ArmedFault {
    var spec: JobAPI.FaultSpec
    var remaining: Int
  }
  private struct Delivery {
    var record: JobAPI.WebhookDelivery
    var url: String
    var body: Data
    var nextAttempt: Date?
  }

  private var uploads: [String: JobAPI.Upload] = [:]
  private var files: [String: StoredFile] = [:]
  private var tokens: [String: Token] = [:]
  private var jobs: [String: StoredJob] = [:]
  private var idempotency: [String: IdempotencyRecord] = [:]
  private var faults: [ArmedFault] = []
  private var deliveries: [Delivery] = []
  private var queue: [String] = []
  private var workerRunning = false

  /// Seconds a webhook delivery waits for the receiver.
  let webhookTimeout: Double

  init(apiKey: String, storage: String, version: String, webhookSecret: String?, webhookTimeout: Double) {
    self.webhookTimeout = webhookTimeout
    self.apiKey = apiKey
    self.storage = storage
    self.version = version
    self.webhookSecret = webhookSecret
  }

  func setBaseURL(_ url: String) { baseURL = url }

  /// Set while the clock is frozen: simulated time then moves only by `advanceClock`, so a test
  /// of timeouts or retries cannot be overtaken by a slow machine's real time.
  private var frozenAt: Date?

  var now: Date { (frozenAt ?? Date()).addingTimeInterval(clockOffset) }

  func nextID(_ prefix: String) -> String {
    let n = (counters[prefix] ?? 0) + 1
    counters[prefix] = n
    return "\(prefix)_\(n)"
  }

  func requestID() -> String { nextID("req") }

  // MARK: Files and tokens

  /// A signed URL for a stored file, valid for 24 h of simulated time.
  private func signedURL(fileID: String) -> (url: String, expires: Date) {
    var bytes = [UInt8](repeating: 0, count: 16)
    for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
    let token = bytes.map { String(format: "%02x", $0) }.joined()
    let expires = now.addingTimeInterval(Self.urlTTL)
    tokens[token] = Token(fileID: fileID, expires: expires)
    return ("\(baseURL)/v1/files/\(fileID)?token=\(token)", expires)
  }

  enum FileLookup: Sendable {
    case found(path: String, contentType: String)
    case forbidden
    case gone
    case notFound
  }

  func file(id: String, token: String?) -> FileLookup {
    guard let stored = files[id] else { return .notFound }
    guard let token, let t = tokens[token], t.fileID == id else { return .forbidden }
    guard t.expires > now else { return .gone }
    return .found(path: stored.path, contentType: stored.contentType)
  }

  /// The local path behind one of this server's own file URLs, if `url` is one and still valid.
  func ownFile(_ url: String) -> FileLookup? {
    guard url.hasPrefix(baseURL + "/v1/files/"), let components = URLComponents(string: url) else { return nil }
    let id = String(components.path.dropFirst("/v1/files/".count))
    let token = components.queryItems?.first { $0.name == "token" }?.value
    return file(id: id, token: token)
  }

  // MARK: Idempotency

  func replay(scope: String, key: String?, fingerprint: String, requestID: String) -> Reply? {
    guard let key, let record = idempotency[scope + " " + key] else { return nil }
    guard record.fingerprint == fingerprint else {
      return .error(
        422, "idempotency_key_reused", "Idempotency-Key '\(key)' was used with a different request body",
        requestID: requestID)
    }
    var reply = record.reply
    reply.headers["Idempotent-Replayed"] = "true"
    return reply
  }

  /// Records an executed answer (2xx only: rejected requests may be fixed and resent).
  private func remember(scope: String, key: String?, fingerprint: String, reply: Reply) {
    guard let key, (200..<300).contains(reply.status) else { return }
    idempotency[scope + " " + key] = IdempotencyRecord(fingerprint: fingerprint, reply: reply)
  }

  // MARK: Faults

  func arm(_ spec: JobAPI.FaultSpec) -> JobAPI.FaultSpec {
    var spec = spec
    spec.id = nextID("fault")
    faults.append(ArmedFault(spec: spec, remaining: max(1, spec.times ?? 1)))
    return spec
  }

  static let requestFaults: Set<String> = [
    "http_500", "http_503", "rate_limit", "rate_limit_bare", "delay_response", "drop_after_commit",
    "drop_before_commit",
  ]
  static let jobFaults: Set<String> = ["job_fail", "job_timeout", "job_stall"]

  /// Takes one shot of the first armed request-level fault matching `operation`.
  func takeRequestFault(operation: String) -> JobAPI.FaultSpec? {
    guard
      let i = faults.firstIndex(where: {
        Self.requestFaults.contains($0.spec.fault) && ($0.spec.operation == nil || $0.spec.operation == operation)
      })
    else { return nil }
    let spec = faults[i].spec
    faults[i].remaining -= 1
    if faults[i].remaining == 0 { faults.remove(at: i) }
    return spec
  }

  private func takeJobFault(jobID: String) -> JobAPI.FaultSpec? {
    guard
      let i = faults.firstIndex(where: {
        Self.jobFaults.contains($0.spec.fault) && ($0.spec.jobId == nil || $0.spec.jobId == jobID)
      })
    else { return nil }
    let spec = faults[i].spec
    faults[i].remaining -= 1
    if faults[i].remaining == 0 { faults.remove(at: i) }
    return spec
  }

  private func takeWebhookFault() -> Bool {
    guard let i = faults.firstIndex(where: { $0.spec.fault == "webhook_receiver_down" }) else { return false }
    faults[i].remaining -= 1
    if faults[i].remaining == 0 { faults.remove(at: i) }
    return true
  }

  // MARK: Test controls

  /// VideoBGRemover's jobs: created before their video exists, started into a contract job.
  var vendorJobs: [String: VendorJob] = [:]
  /// Replicate-style predictions, by id.
  var predictions: [String: PredictionRecord] = [:]

  /// Which reading of a vendor's contradictory docs the dialect follows (`PUT /_test/variant`).
  private(set) var variant = DialectVariant()

  func setVariant(_ v: DialectVariant) { variant = variant.merged(with: v) }

  /// Stores `data` as a server file and answers its signed URL.
  func stageFile(_ data: Data, contentType: String) -> String {
    let id = nextID("file")
    let path = storage + "/\(id)-staged"
    try? data.write(to: URL(fileURLWithPath: path))
    files[id] = StoredFile(path: path, contentType: contentType)
    return signedURL(fileID: id).url
  }

  /// Registers a file already in storage and answers its signed URL.
  func stageFile(path: String, contentType: String) -> String {
    let id = nextID("file")
    files[id] = StoredFile(path: path, contentType: contentType)
    return signedURL(fileID: id).url
  }

  /// Every job, oldest first (the test control that counts jobs and charges).
  func allJobs() -> [JobAPI.Job] { jobs.values.sorted { $0.order < $1.order }.map(\.job) }

  /// A job as the contract describes it, or nil.
  func job(_ id: String) -> JobAPI.Job? {
    sweep()
    return jobs[id]?.job
  }

  /// Jobs newest first, every field (the dialects' list routes).
  func jobsNewestFirst() -> [JobAPI.Job] {
    sweep()
    return jobs.values.sorted { $0.order > $1.order }.map(\.job)
  }

  func reset() {
    variant = DialectVariant()
    vendorJobs = [:]
    predictions = [:]
    uploads = [:]
    files = [:]
    tokens = [:]
    jobs = [:]
    idempotency = [:]
    faults = []
    deliveries = []
    queue = []
    balance = 1000
    reserved = 0
    usedTotal = 0
  }

  func setCredits(_ value: Int) -> JobAPI.CreditBalance {
    balance = value
    return credits()
  }

  func credits() -> JobAPI.CreditBalance {
    JobAPI.CreditBalance(balance: balance, reserved: reserved, usedTotal: usedTotal)
  }

  /// Moves simulated time on by `seconds`; `freeze` stops (true) or restarts (false) its own
  /// running first, without a jump.
  func advanceClock(_ seconds: Double, freeze: Bool? = nil) -> String {
    if let freeze, freeze != (frozenAt != nil) {
      if freeze {
        frozenAt = Date()
      } else {
        clockOffset = now.timeIntervalSince(Date())
        frozenAt = nil
      }
    }
    clockOffset += seconds
    sweep()
    return JobAPI.timestamp(now)
  }

  func webhookDeliveries() -> [JobAPI.WebhookDelivery] { deliveries.map(\.record) }

  // MARK: Uploads

  func createUpload(
    purpose: String, filename: String, contentType: String, data: Data, key: String?, requestID: String
  ) -> Reply {
    let fingerprint = FileHash.sha256(of: Array(Data((purpose + "\n" + filename + "\n").utf8) + data))
    if let replayed = replay(scope: "POST /v1/uploads", key: key, fingerprint: fingerprint, requestID: requestID) {
      return replayed
    }
    let id = nextID("up")
    let path = storage + "/\(id)-" + filename.filter { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }
    do { try data.write(to: URL(fileURLWithPath: path)) } catch {
      return .error(
        500, "internal_error", "cannot store the upload: \(error.localizedDescription)", requestID: requestID)
    }
    // Probe what it is: a video for source and background videos, a picture for images.
    var media = JobAPI.MediaInfo()
    do {
      if purpose == "background_image" {
        let picture = try MediaInput.open(path, options: ReadOptions(rgb: .none))
        media.width = picture.size.width
        media.height = picture.size.height
      } else {
        let video = try VideoReader(path: path, options: ReadOptions(rgb: .none))
        media.width = video.width
        media.height = video.height
        media.frameRate = video.frameRate
        media.durationSeconds = video.declaredDuration > 0 ? video.declaredDuration : nil
        media.hasAlpha = video.containerSignalsAlpha
      }
    } catch {
      try? FileManager.default.removeItem(atPath: path)
      return .error(
        422, "validation_error", "the file is not a readable \(purpose == "background_image" ? "picture" : "video")",
        requestID: requestID, details: ["field": .string("file")])
    }
    if let d = media.durationSeconds, d > Self.maxDuration {
      try? FileManager.default.removeItem(atPath: path)
      return .error(
        422, "duration_exceeded", "the video lasts \(d) s; the limit is \(Int(Self.maxDuration)) s",
        requestID: requestID)
    }
    if let w = media.width, let h = media.height, w > Self.maxWidth || h > Self.maxHeight {
      try? FileManager.default.removeItem(atPath: path)
      return .error(
        422, "resolution_exceeded", "\(w)x\(h) exceeds \(Self.maxWidth)x\(Self.maxHeight)", requestID: requestID)
    }
    files[id] = StoredFile(path: path, contentType: contentType)
    let signed = signedURL(fileID: id)
    let upload = JobAPI.Upload(
      id: id, purpose: purpose, url: signed.url, filename: filename, contentType: contentType, sizeBytes: data.count,
      media: media, createdAt: JobAPI.timestamp(now), expiresAt: JobAPI.timestamp(signed.expires))
    uploads[id] = upload
    let reply = Reply.json(201, upload)
    remember(scope: "POST /v1/uploads", key: key, fingerprint: fingerprint, reply: reply)
    return reply
  }

  func getUpload(_ id: String, requestID: String) -> Reply {
    guard let upload = uploads[id] else {
      return .error(404, "not_found", "no upload '\(id)'", requestID: requestID)
    }
    return .json(200, upload)
  }

  // MARK: Jobs

  /// The contract's 422 rules for settings, with defaults filled in.
  private func resolve(_ s: JobAPI.Settings, requestID: String) -> Result<(JobAPI.Settings, OfferedModel), Reply> {
    var r = s
    r.model = s.model ?? "original"
    r.bgType = s.bgType ?? "transparent"
    r.fit = s.fit ?? "cover"
    r.padColor = s.padColor ?? "#000000"
    r.strictAspect = s.strictAspect ?? false
    r.outputFormat = s.outputFormat ?? (r.bgType == "transparent" ? "webm" : "mp4")
    func invalid(_ code: String, _ field: String, _ message: String) -> Result<(JobAPI.Settings, OfferedModel), Reply> {
      .failure(.error(422, code, message, requestID: requestID, details: ["field": .string(field)]))
    }
    guard let model = OfferedModel.all.first(where: { $0.id == r.model }) else {
      return invalid(
        "validation_error", "model",
        "model '\(r.model!)' is not offered here (models: \(OfferedModel.all.map(\.id).joined(separator: ", ")))")
    }
    guard ["transparent", "color", "image", "video"].contains(r.bgType!) else {
      return invalid("validation_error", "bg_type", "bg_type '\(r.bgType!)' is not transparent, color, image or video")
    }
    guard ["cover", "contain", "stretch"].contains(r.fit!) else {
      return invalid("validation_error", "fit", "fit '\(r.fit!)' is not cover, contain or stretch")
    }
    for (field, color) in [("bg_color", r.bgColor), ("pad_color", r.padColor)] {
      if let color, !(color.count == 7 && color.hasPrefix("#") && color.dropFirst().allSatisfy(\.isHexDigit)) {
        return invalid("validation_error", field, "\(field) '\(color)' does not look like #RRGGBB")
      }
    }
    if r.textPrompt != nil && r.model != "pro" {
      return invalid("text_prompt_unsupported", "text_prompt", "text_prompt needs model pro")
    }
    switch r.bgType! {
    case "color" where r.bgColor == nil: return invalid("bg_color_required", "bg_color", "bg_type color needs bg_color")
    case "image" where r.bgImageUrl == nil:
      return invalid("bg_image_url_required", "bg_image_url", "bg_type image needs bg_image_url")
    case "video" where r.bgVideoUrl == nil:
      return invalid("bg_video_url_required", "bg_video_url", "bg_type video needs bg_video_url")
    default: break
    }
    let extra: [(String, Bool)] = [
      ("bg_color", r.bgColor != nil && r.bgType != "color"),
      ("bg_image_url", r.bgImageUrl != nil && r.bgType != "image"),
      ("bg_video_url", r.bgVideoUrl != nil && r.bgType != "video"),
    ]
    if let (field, _) = extra.first(where: \.1) {
      return invalid("conflicting_background", field, "\(field) does not belong to bg_type \(r.bgType!)")
    }
    guard let format = Self.formats.first(where: { $0.id == r.outputFormat }) else {
      return invalid(
        "validation_error", "output_format",
        "output_format '\(r.outputFormat!)' is not written by this server (formats: \(Self.formats.map(\.id).joined(separator: ", ")))"
      )
    }
    if r.bgType == "transparent" && !format.alpha {
      return .failure(
        .error(
          422, "format_incompatible",
          "output_format \(format.id) cannot carry transparency; use webm, mov or png_sequence", requestID: requestID,
          details: ["field": .string("output_format"), "bg_type": .string("transparent")]))
    }
    // What the embedded engine writes: transparent webm, mov or png_sequence; mp4 composites.
    let writable =
      (r.bgType == "transparent" && ["webm", "mov", "png_sequence", "matte_mp4"].contains(format.id))
      || (format.id == "mp4" && ["color", "image"].contains(r.bgType!))
    if !writable {
      return invalid(
        "validation_error", "output_format",
        "this server writes webm, mov, png_sequence or matte_mp4 with bg_type transparent, or mp4 over a color or an image"
      )
    }
    return .success((r, model))
  }

  func createJob(_ request: JobAPI.CreateJobRequest, key: String?, requestID: String) -> Reply {
    sweep()
    let fingerprint = FileHash.sha256(of: Array((try? JobAPI.encoder.encode(request)) ?? Data()))
    if let replayed = replay(scope: "POST /v1/jobs", key: key, fingerprint: fingerprint, requestID: requestID) {
      return replayed
    }
    let resolved: (JobAPI.Settings, OfferedModel)
    switch resolve(request.settings, requestID: requestID) {
    case .success(let r): resolved = r
    case .failure(let reply): return reply
    }
    guard URL(string: request.videoUrl)?.scheme != nil else {
      return .error(
        422, "validation_error", "video_url '\(request.videoUrl)' is not a URL", requestID: requestID,
        details: ["field": .string("video_url")])
    }
    var media: JobAPI.MediaInfo?
    if case .found(let path, _) = ownFile(request.videoUrl),
      let upload = uploads.values.first(where: { files[$0.id]?.path == path })
    {
      media = upload.media
    }
    let id = nextID("job")
    jobOrder += 1
    let created = JobAPI.timestamp(now)
    var job = JobAPI.Job(
      id: id, status: "created", progress: 0, createdAt: created,
      input: JobAPI.JobInput(videoUrl: request.videoUrl, media: media), settings: resolved.0,
      credits: JobAPI.Credits(ratePerMinute: resolved.1.creditsPerMinute))
    job.metadata = request.metadata
    if let url = request.webhookUrl { job.webhook = JobAPI.WebhookState(url: url, deliveries: []) }
    let estimate = JobAPI.charge(
      durationSeconds: media?.durationSeconds ?? 1, creditsPerMinute: resolved.1.creditsPerMinute)
    job.credits.billableSeconds = estimate.billable
    job.credits.estimated = estimate.charge
    var stored = StoredJob(
      job: job, order: jobOrder, keyer: resolved.1.keyer, durationSeconds: media?.durationSeconds)
    if request.autoStart == true {
      // Created and started atomically: with too few credits nothing is created.
      if let refusal = reserve(&stored, requestID: requestID) { return refusal }
      jobs[id] = stored
      emit("job.started", id)
      enqueue(id)
    } else {
      jobs[id] = stored
    }
    let reply = Reply.json(201, jobs[id]!.job, headers: ["Location": "/v1/jobs/\(id)"])
    remember(scope: "POST /v1/jobs", key: key, fingerprint: fingerprint, reply: reply)
    return reply
  }

  /// Reserves a job's estimated credits and queues it, or answers 402 with required and available.
  private func reserve(_ stored: inout StoredJob, requestID: String) -> Reply? {
    let required = stored.job.credits.estimated
    let available = balance - reserved
    guard required <= available else {
      return .error(
        402, "insufficient_credits", "Job needs \(required) credits, \(available) available.", requestID: requestID,
        details: ["required": .int(required), "available": .int(available)])
    }
    reserved += required
    stored.job.credits.state = "reserved"
    stored.job.credits.reserved = required
    stored.job.status = "queued"
    stored.job.updatedAt = JobAPI.timestamp(now)
    stored.fault = takeJobFault(jobID: stored.job.id)
    return nil
  }

  func startJob(_ id: String, key: String?, requestID: String) -> Reply {
    sweep()
    let fingerprint = "start " + id
    if let replayed = replay(
      scope: "POST /v1/jobs/\(id)/start", key: key, fingerprint: fingerprint, requestID: requestID)
    {
      return replayed
    }
    guard var stored = jobs[id] else { return .error(404, "not_found", "no job '\(id)'", requestID: requestID) }
    switch stored.job.status {
    case "queued", "processing", "completed":
      return .json(200, stored.job)
    case "failed", "canceled":
      return .error(
        409, "invalid_state", "job \(id) is \(stored.job.status); create a new job to retry", requestID: requestID,
        details: ["status": .string(stored.job.status)])
    default:
      break
    }
    if let refusal = reserve(&stored, requestID: requestID) { return refusal }
    jobs[id] = stored
    emit("job.started", id)
    enqueue(id)
    let reply = Reply.json(202, jobs[id]!.job)
    remember(scope: "POST /v1/jobs/\(id)/start", key: key, fingerprint: fingerprint, reply: reply)
    return reply
  }

  func getJob(_ id: String, requestID: String) -> Reply {
    sweep()
    guard let stored = jobs[id] else { return .error(404, "not_found", "no job '\(id)'", requestID: requestID) }
    return .json(200, stored.job)
  }

  func listJobs(limit: Int, offset: Int, status: String?, requestID: String) -> Reply {
    sweep()
    guard (1...100).contains(limit), offset >= 0 else {
      return .error(
        422, "validation_error", "limit must be 1...100 and offset ≥ 0", requestID: requestID,
        details: ["field": .string("limit")])
    }
    let all = jobs.values.filter { status == nil || $0.job.status == status }.sorted { $0.order > $1.order }
    let page = all.dropFirst(offset).prefix(limit).map(\.job)
    return .json(200, JobAPI.JobList(data: Array(page), total: all.count, limit: limit, offset: offset))
  }

  func cancelJob(_ id: String, requestID: String) -> Reply {
    sweep()
    guard var stored = jobs[id] else { return .error(404, "not_found", "no job '\(id)'", requestID: requestID) }
    switch stored.job.status {
    case "canceled":
      return .json(200, stored.job)
    case "completed", "failed":
      return .error(
        409, "invalid_state", "job \(id) is \(stored.job.status) and cannot be canceled", requestID: requestID,
        details: ["status": .string(stored.job.status)])
    default:
      refund(&stored)
      stored.job.status = "canceled"
      stored.job.updatedAt = JobAPI.timestamp(now)
      jobs[id] = stored
      queue.removeAll { $0 == id }
      emit("job.canceled", id)
      return .json(200, jobs[id]!.job)
    }
  }

  func deleteJob(_ id: String, requestID: String) -> Reply {
    guard let stored = jobs[id] else { return .error(404, "not_found", "no job '\(id)'", requestID: requestID) }
    guard stored.job.isTerminal else {
      return .error(
        409, "invalid_state", "job \(id) is \(stored.job.status); cancel it first", requestID: requestID,
        details: ["status": .string(stored.job.status)])
    }
    if let fileID = stored.outputFileID, let file = files.removeValue(forKey: fileID) {
      try? FileManager.default.removeItem(atPath: file.path)
    }
    jobs[id] = nil
    return Reply(status: 204, body: Data(), contentType: "")
  }

  func result(_ id: String, requestID: String) -> Reply {
    sweep()
    guard var stored = jobs[id] else { return .error(404, "not_found", "no job '\(id)'", requestID: requestID) }
    guard stored.job.status == "completed", let fileID = stored.outputFileID, var output = stored.job.output else {
      return .error(
        409, "job_not_completed", "job \(id) is \(stored.job.status)", requestID: requestID,
        details: ["status": .string(stored.job.status)])
    }
    let signed = signedURL(fileID: fileID)
    output.url = signed.url
    output.expiresAt = JobAPI.timestamp(signed.expires)
    stored.job.output = output
    jobs[id] = stored
    return .json(200, output)
  }

  private func refund(_ stored: inout StoredJob) {
    guard stored.job.credits.state == "reserved" else { return }
    reserved -= stored.job.credits.reserved
    stored.job.credits.refunded = stored.job.credits.reserved
    stored.job.credits.charged = 0
    stored.job.credits.state = "refunded"
  }

  private func fail(_ id: String, code: String, message: String, retryable: Bool) {
    guard var stored = jobs[id], !stored.job.isTerminal else { return }
    refund(&stored)
    stored.job.status = "failed"
    stored.job.error = JobAPI.JobError(code: code, message: message, retryable: retryable)
    stored.job.updatedAt = JobAPI.timestamp(now)
    stored.job.completedAt = stored.job.updatedAt
    jobs[id] = stored
    queue.removeAll { $0 == id }
    emit("job.failed", id)
  }

  /// Processing limit of semantics.md: max(120 s, 10 × source duration).
  private func limit(_ stored: StoredJob) -> Double { max(120, 10 * (stored.durationSeconds ?? 0)) }

  /// Fails jobs that ran past their processing limit (simulated time) and retries webhook
  /// deliveries whose time has come.
  private func sweep() {
    let t = now
    for (id, stored) in jobs where stored.job.status == "processing" {
      if let started = stored.startedAt, t.timeIntervalSince(started) > limit(stored) {
        fail(
          id, code: "processing_timeout",
          message: "processing took longer than \(Int(limit(stored))) s (max(120 s, 10 × duration))", retryable: true)
      }
    }
    for i in deliveries.indices {
      if let next = deliveries[i].nextAttempt, next <= t {
        deliveries[i].nextAttempt = nil
        let id = deliveries[i].record.deliveryId
        Task { await self.attemptDelivery(id) }
      }
    }
  }

  // MARK: Worker

  private func enqueue(_ id: String) {
    queue.append(id)
    guard !workerRunning else { return }
    workerRunning = true
    Task { await self.work() }
  }

  private func work() async {
    while let item = takeNext() {
      let outcome = await Self.process(item, service: self)
      finish(item, outcome)
    }
  }

  private func takeNext() -> WorkItem? {
    while !queue.isEmpty {
      let id = queue.removeFirst()
      guard var stored = jobs[id], stored.job.status == "queued" else { continue }
      stored.job.status = "processing"
      stored.job.stage = "fetching_inputs"
      stored.job.progress = 10
      stored.startedAt = now
      stored.job.startedAt = JobAPI.timestamp(now)
      stored.job.updatedAt = stored.job.startedAt!
      jobs[id] = stored
      switch stored.fault?.fault {
      case "job_stall":
        // Stays processing without progress until canceled or timed out.
        continue
      case "job_timeout":
        // Behaves as a job that ran past its limit.
        jobs[id]!.startedAt = now.addingTimeInterval(-limit(stored) - 1)
        sweep()
        continue
      case "job_fail":
        let code = stored.fault?.errorCode ?? "processing_failed"
        fail(
          id, code: code, message: "failed on purpose (job_fail fault)",
          retryable: ["processing_timeout", "internal_error", "input_unreachable", "background_unreachable"].contains(
            code))
        continue
      default:
        break
      }
      let scratch = storage + "/work-\(id)"
      let format = Self.formats.first { $0.id == stored.job.settings.outputFormat }!
      return WorkItem(
        jobID: id, videoURL: stored.job.input.videoUrl, backgroundURL: stored.job.settings.bgImageUrl,
        settings: stored.job.settings, keyer: stored.keyer, outputPath: scratch + "/output.\(format.ext)",
        scratch: scratch)
    }
    workerRunning = false
    return nil
  }

  func markStage(_ id: String, stage: String, progress: Int) {
    guard var stored = jobs[id], stored.job.status == "processing" else { return }
    stored.job.stage = stage
    stored.job.progress = max(stored.job.progress, progress)
    stored.job.updatedAt = JobAPI.timestamp(now)
    jobs[id] = stored
  }

  func setMedia(_ id: String, media: JobAPI.MediaInfo, warnings: [JobAPI.Warning]) {
    guard var stored = jobs[id] else { return }
    stored.job.input.media = media
    stored.durationSeconds = media.durationSeconds
    stored.job.warnings += warnings
    jobs[id] = stored
  }

  func isActive(_ id: String) -> Bool { jobs[id]?.job.status == "processing" }

  enum WorkOutcome: Sendable {
    case done(path: String, media: JobAPI.MediaInfo)
    case failed(code: String, message: String, retryable: Bool)
  }

  private func finish(_ item: WorkItem, _ outcome: WorkOutcome) {
    sweep()
    guard var stored = jobs[item.jobID], stored.job.status == "processing" else {
      // Canceled or timed out meanwhile: the output is discarded.
      try? FileManager.default.removeItem(atPath: item.scratch)
      return
    }
    switch outcome {
    case .failed(let code, let message, let retryable):
      try? FileManager.default.removeItem(atPath: item.scratch)
      fail(item.jobID, code: code, message: message, retryable: retryable)
    case .done(let path, let media):
      let format = Self.formats.first { $0.id == stored.job.settings.outputFormat }!
      let fileID = nextID("out")
      files[fileID] = StoredFile(path: path, contentType: format.contentType)
      let signed = signedURL(fileID: fileID)
      let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
      var output = JobAPI.JobOutput(
        url: signed.url, expiresAt: JobAPI.timestamp(signed.expires), contentType: format.contentType,
        format: format.id, hasAlpha: stored.job.settings.bgType == "transparent", sizeBytes: size)
      output.width = media.width
      output.height = media.height
      output.durationSeconds = media.durationSeconds
      output.frameRate = media.frameRate
      // Charge what the source's real duration costs; release the reservation.
      let cost = JobAPI.charge(
        durationSeconds: media.durationSeconds ?? 1, creditsPerMinute: stored.job.credits.ratePerMinute)
      reserved -= stored.job.credits.reserved
      balance -= cost.charge
      usedTotal += cost.charge
      stored.job.credits.billableSeconds = cost.billable
      stored.job.credits.charged = cost.charge
      stored.job.credits.refunded = max(0, stored.job.credits.reserved - cost.charge)
      stored.job.credits.state = "charged"
      stored.job.status = "completed"
      stored.job.stage = "finalizing"
      stored.job.progress = 100
      stored.job.output = output
      stored.job.updatedAt = JobAPI.timestamp(now)
      stored.job.completedAt = stored.job.updatedAt
      stored.outputFileID = fileID
      jobs[item.jobID] = stored
      emit("job.completed", item.jobID)
    }
  }

  // MARK: Webhooks

  private func emit(_ event: String, _ jobID: String) {
    guard let stored = jobs[jobID], let url = stored.job.webhook?.url else { return }
    let deliveryID = nextID("dlv")
    struct Event: Encodable {
      var id: String
      var type: String
      var createdAt: String
      var data: JobAPI.Job
    }
    let body =
      (try? JobAPI.encoder.encode(
        Event(id: deliveryID, type: event, createdAt: JobAPI.timestamp(now), data: stored.job)))
      ?? Data()
    deliveries.append(
      Delivery(
        record: JobAPI.WebhookDelivery(deliveryId: deliveryID, jobId: jobID, event: event), url: url, body: body,
        nextAttempt: nil))
    syncWebhookState(jobID)
    Task { await self.attemptDelivery(deliveryID) }
  }

  private func syncWebhookState(_ jobID: String) {
    guard jobs[jobID]?.job.webhook != nil else { return }
    jobs[jobID]!.job.webhook!.deliveries = deliveries.filter { $0.record.jobId == jobID }.map(\.record)
  }

  /// Delays between attempts: 10 s, 60 s, 300 s of simulated time (4 attempts in all).
  static let retryDelays: [TimeInterval] = [10, 60, 300]

  private func attemptDelivery(_ id: String) async {
    guard let i = deliveries.firstIndex(where: { $0.record.deliveryId == id }) else { return }
    let delivery = deliveries[i]
    let timestamp = JobAPI.timestamp(now)
    var status: Int?
    if !takeWebhookFault() {
      var headers = [
        "Content-Type": "application/json", "X-Webhook-Event": delivery.record.event,
        "X-Webhook-Delivery-Id": delivery.record.deliveryId, "X-Webhook-Timestamp": timestamp,
      ]
      if let secret = webhookSecret {
        let signed = Array(Data((timestamp + ".").utf8) + delivery.body)
        headers["X-Webhook-Signature"] = "sha256=" + FileHash.hmacSHA256(key: Array(secret.utf8), message: signed)
      }
      status = await Fetcher.post(delivery.url, body: delivery.body, headers: headers, timeout: webhookTimeout)
    }
    guard let j = deliveries.firstIndex(where: { $0.record.deliveryId == id }) else { return }
    deliveries[j].record.attempts += 1
    deliveries[j].record.lastStatusCode = status
    deliveries[j].record.lastAttemptAt = timestamp
    if let status, (200..<300).contains(status) {
      deliveries[j].record.state = "delivered"
    } else if deliveries[j].record.attempts > Self.retryDelays.count {
      deliveries[j].record.state = "failed"
    } else {
      deliveries[j].nextAttempt = now.addingTimeInterval(Self.retryDelays[deliveries[j].record.attempts - 1])
    }
    if let jobID = deliveries[j].record.jobId { syncWebhookState(jobID) }
  }

  // MARK: Capabilities

  func capabilities() -> JobAPI.Capabilities {
    var limits = JobAPI.Limits(
      maxVideoBytes: Self.maxVideoBytes, maxImageBytes: Self.maxImageBytes, maxDurationSeconds: Int(Self.maxDuration),
      maxWidth: Self.maxWidth, maxHeight: Self.maxHeight)
    limits.urlTtlSeconds = Int(Self.urlTTL)
    limits.idempotencyKeyTtlSeconds = Int(Self.urlTTL)
    limits.processingTimeout = "max(120 s, 10 x source duration)"
    return JobAPI.Capabilities(
      models: OfferedModel.all.map {
        JobAPI.Model(
          id: $0.id, description: $0.description, creditsPerMinute: $0.creditsPerMinute,
          supportsTextPrompt: $0.id == "pro")
      },
      outputFormats: Self.formats.map {
        JobAPI.OutputFormatInfo(id: $0.id, alpha: $0.alpha, contentType: $0.contentType, extension: $0.ext)
      }, limits: limits)
  }
}

/// The reading of a vendor's contradictory documentation a dialect server follows, so that a
/// client can be tested against each. Every field is optional on the wire; absent means "keep".
struct DialectVariant: Codable, Sendable {
  /// RemoveBGVideo: a job not yet started reads `pending` or `created`.
  var statusVocabulary: String?
  /// RemoveBGVideo: errors as `{"error":{code,message,request_id}}` (`object`) or `{"error":"…"}` (`string`).
  var errorShape: String?
  /// RemoveBGVideo: `bg_type` is `transparent|color|image` (`type`) or
  /// `transparent|green|white|black|blue|custom` (`preset`).
  var bgTypeVocabulary: String?
  /// RemoveBGVideo: background settings read from flat fields (`flat`) or a `background{}` object (`object`).
  var backgroundForm: String?
  /// RemoveBGVideo: whether `/v1/uploads` takes a picture (the docs say video types only).
  var imageUploads: Bool?

  var problem: String? {
    let choices: [(String, String?, [String])] = [
      ("status_vocabulary", statusVocabulary, ["pending", "created"]),
      ("error_shape", errorShape, ["object", "string"]),
      ("bg_type_vocabulary", bgTypeVocabulary, ["type", "preset"]),
      ("background_form", backgroundForm, ["flat", "object"]),
    ]
    for (name, value, allowed) in choices {
      if let v = value, !allowed.contains(v) {
        return "\(name) must be \(allowed.joined(separator: " or ")), not '\(v)'"
      }
    }
    return nil
  }

  func merged(with other: DialectVariant) -> DialectVariant {
    DialectVariant(
      statusVocabulary: other.statusVocabulary ?? statusVocabulary, errorShape: other.errorShape ?? errorShape,
      bgTypeVocabulary: other.bgTypeVocabulary ?? bgTypeVocabulary,
      backgroundForm: other.backgroundForm ?? backgroundForm, imageUploads: other.imageUploads ?? imageUploads)
  }
}
