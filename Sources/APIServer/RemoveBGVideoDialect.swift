import Foundation
import Hummingbird
import Services

/// RemoveBGVideo's documented API (vendors.md in the project's notes; docs/providers.md) over
/// the reference server's engine, credits and faults. Each route translates the vendor's
/// request into the contract's, asks the same `ReferenceService`, and answers in the vendor's
/// shape. Where the vendor's pages contradict each other, `PUT /_test/variant` picks the
/// reading, so clients can be tested against both.
enum RemoveBGVideoDialect {
  static let models = ["original", "light", "pro", "human"]
  /// Formats this reference server writes (the vendor also lists gif and webp).
  static let formats = ["webm", "mov", "mp4", "png_sequence"]
  static let videoTypes = ["video/mp4", "video/quicktime", "video/webm", "video/x-msvideo", "video/x-matroska"]
  static let imageTypes = ["image/png", "image/jpeg", "image/webp"]

  static func routes(_ e: Endpoints) {
    let service = e.service
    for path in ["/v1/uploads", "/api/upload"] {
      e.add(.post, RouterPath(stringLiteral: path), "createUpload") { request, _, call in
        await upload(request, service: service, requestID: call.requestID)
      }
    }
    e.add(.post, "/v1/jobs", "createJob") { request, _, call in
      await create(request, service: service, requestID: call.requestID)
    }
    e.add(.get, "/v1/jobs", "listJobs") { request, _, call in
      let query = request.uri.queryParameters
      let limit = query["limit"].flatMap { Int(String($0)) } ?? 20
      let offset = query["offset"].flatMap { Int(String($0)) } ?? 0
      guard (1...100).contains(limit), offset >= 0 else {
        return .error(422, "invalid_request", "limit must be 1-100 and offset >= 0", requestID: call.requestID)
      }
      let variant = await service.variant
      let status = query["status"].map(String.init)
      let all = await service.jobsNewestFirst().map { vendorJob($0, variant: variant) }
        .filter { status == nil || ($0["status"] as? String) == status }
      let page = Array(all.dropFirst(offset).prefix(limit))
      return raw(200, ["success": true, "jobs": page, "total": all.count, "limit": limit, "offset": offset])
    }
    e.add(.get, "/v1/jobs/:id", "getJob") { _, context, call in
      let id = ReferenceServer.parameter(context, "id")
      guard let job = await service.job(id) else {
        return .error(404, "not_found", "Job not found", requestID: call.requestID)
      }
      return raw(200, vendorJob(job, variant: await service.variant))
    }
    e.add(.post, "/v1/jobs/:id/start", "startJob") { request, context, call in
      let id = ReferenceServer.parameter(context, "id")
      let body = (try? await request.body.collect(upTo: 1 << 20)).map { Data($0.readableBytesView) } ?? Data()
      if !body.isEmpty, (try? JSONSerialization.jsonObject(with: body)) == nil {
        return .error(400, "invalid_request", "the JSON body is malformed", requestID: call.requestID)
      }
      let reply = await service.startJob(id, key: nil, requestID: call.requestID)
      guard reply.status < 300, let job = try? JobAPI.decoder.decode(JobAPI.Job.self, from: reply.body) else {
        return reply
      }
      let variant = await service.variant
      return raw(
        200,
        ["success": true, "id": job.id, "status": vendorStatus(job.status, variant: variant), "message": "Job started"])
    }
    e.add(.get, "/api/download/:id", "getJobResult") { _, context, call in
      let id = ReferenceServer.parameter(context, "id")
      guard let job = await service.job(id) else {
        return .error(404, "not_found", "Job not found", requestID: call.requestID)
      }
      guard job.status == "completed" else {
        return .error(400, "invalid_request", "Job not completed", requestID: call.requestID)
      }
      let reply = await service.result(id, requestID: call.requestID)
      guard let output = try? JobAPI.decoder.decode(JobAPI.JobOutput.self, from: reply.body) else { return reply }
      return raw(200, ["success": true, "download_url": output.url, "output_format": output.format])
    }
    e.add(.get, "/api/pricing", "getPricing", authenticated: false) { _, _, _ in
      var prices: [String: Int] = [:]
      for model in models {
        if let offered = OfferedModel.all.first(where: { $0.id == model }) { prices[model] = offered.creditsPerMinute }
      }
      return raw(200, ["success": true, "model_pricing_credits_per_minute": prices])
    }
    e.add(.get, "/v1/usage/events", "getUsageEvents") { request, _, call in
      let limit = request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 20
      guard (1...100).contains(limit) else {
        return .error(422, "invalid_request", "limit must be 1-100", requestID: call.requestID)
      }
      let events = await service.jobsNewestFirst().filter { $0.credits.state == "charged" }.prefix(limit).map {
        job -> [String: Any] in
        [
          "id": "evt_" + job.id, "job_id": job.id, "event_type": "job.charged",
          "model": job.settings.model ?? "original", "credits": charge(job),
          "billable_seconds": job.credits.billableSeconds ?? 1, "created_at": job.completedAt ?? job.updatedAt,
        ]
      }
      return raw(200, ["success": true, "events": Array(events)])
    }
  }

  /// The vendor's charge for a job: its price per minute × the billed seconds / 60, not
  /// rounded (45 credits a minute for 1 s is 0.75).
  static func charge(_ job: JobAPI.Job) -> Double {
    Double(job.credits.ratePerMinute) * Double(job.credits.billableSeconds ?? 1) / 60
  }

  static func raw(_ status: Int, _ object: [String: Any]) -> Reply {
    Reply(status: status, body: Endpoints.json(object))
  }

  static func vendorStatus(_ status: String, variant: DialectVariant) -> String {
    switch status {
    case "created": return variant.statusVocabulary ?? "pending"
    case "queued": return "pending"
    case "canceled": return "failed"
    default: return status
    }
  }

  static func vendorJob(_ job: JobAPI.Job, variant: DialectVariant) -> [String: Any] {
    var out: [String: Any] = [
      "id": job.id, "status": vendorStatus(job.status, variant: variant), "progress": job.progress,
      "created_at": job.createdAt, "model": job.settings.model ?? "original",
      "output_format": job.settings.outputFormat ?? "webm", "video_url": job.input.videoUrl,
      "billing_status": job.credits.state == "none" ? "unbilled" : job.credits.state,
    ]
    if let d = job.input.media?.durationSeconds { out["duration_seconds"] = d }
    if let output = job.output { out["output_url"] = output.url }
    if let error = job.error {
      out["error"] = job.status == "canceled" ? "Job canceled" : error.message
    }
    if let metadata = job.metadata { out["metadata"] = metadata }
    if let hook = job.webhook { out["webhook_url"] = hook.url }
    return out
  }

  static func upload(_ request: Request, service: ReferenceService, requestID: String) async -> Reply {
    let parts: [MultipartForm.Part]
    switch await ReferenceServer.formParts(request, requestID: requestID) {
    case .success(let p): parts = p
    case .failure(let reply): return reply
    }
    guard let file = parts.first(where: { $0.name == "file" }) else {
      return .error(400, "invalid_request", "No file provided (multipart field 'file')", requestID: requestID)
    }
    let type = file.contentType ?? "application/octet-stream"
    let acceptsImages = await service.variant.imageUploads ?? false
    let isImage = imageTypes.contains(type)
    guard videoTypes.contains(type) || (acceptsImages && isImage) else {
      return .error(
        415, "invalid_request",
        "Unsupported file type \(type); upload a video (mp4, quicktime, webm, x-msvideo)", requestID: requestID)
    }
    let reply = await service.createUpload(
      purpose: isImage ? "background_image" : "source_video", filename: file.filename ?? "upload", contentType: type,
      data: file.body, key: nil, requestID: requestID)
    guard reply.status == 201, let upload = try? JobAPI.decoder.decode(JobAPI.Upload.self, from: reply.body) else {
      return reply
    }
    return raw(
      200,
      [
        "success": true, "video_id": upload.id, "video_url": upload.url, "filename": upload.filename,
        "size": upload.sizeBytes,
      ])
  }

  /// `POST /v1/jobs`: flat `bg_type`/`bg_color`/`bg_image_url` or a `background{}` object, as the
  /// variant says; `bg_color` as normalised floats or hex; `auto_start` true by default.
  static func create(_ request: Request, service: ReferenceService, requestID: String) async -> Reply {
    guard let buffer = try? await request.body.collect(upTo: 1 << 20),
      let body = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any]
    else {
      return .error(400, "invalid_request", "the JSON body is malformed", requestID: requestID)
    }
    let variant = await service.variant
    func invalid(_ message: String) -> Reply { .error(422, "invalid_request", message, requestID: requestID) }
    guard let videoURL = body["video_url"] as? String, !videoURL.isEmpty else {
      return invalid("video_url is required")
    }
    var create = JobAPI.CreateJobRequest(videoUrl: videoURL)
    let model = body["model"] as? String ?? "original"
    guard models.contains(model) else { return invalid("model must be one of \(models.joined(separator: ", "))") }
    create.model = model
    let format = body["output_format"] as? String ?? "webm"
    guard formats.contains(format) else {
      return invalid("output_format '\(format)' is not offered (\(formats.joined(separator: ", ")))")
    }
    create.outputFormat = format
    // The background, in the form this variant reads.
    let object = variant.backgroundForm == "object"
    let background = body["background"] as? [String: Any] ?? [:]
    let type = (object ? background["type"] : body["bg_type"]) as? String ?? "transparent"
    let color = object ? background["color"] : body["bg_color"]
    let image = (object ? background["image_url"] : body["bg_image_url"]) as? String
    let presets = ["green": "#00B140", "white": "#FFFFFF", "black": "#000000", "blue": "#0047BB"]
    switch (variant.bgTypeVocabulary ?? "type", type) {
    case (_, "transparent"): create.bgType = "transparent"
    case ("type", "color"), ("preset", "custom"):
      guard let hex = hexColor(color) else {
        return invalid("bg_color must be [r, g, b] normalised to 0-1 or a hex colour for bg_type \(type)")
      }
      create.bgType = "color"
      create.bgColor = hex
    case ("preset", let preset) where presets[preset] != nil:
      create.bgType = "color"
      create.bgColor = presets[preset]
    case ("type", "image"):
      guard let image else { return invalid("bg_image_url is required for bg_type image") }
      create.bgType = "image"
      create.bgImageUrl = image
    default:
      let allowed =
        variant.bgTypeVocabulary == "preset"
        ? "transparent, green, white, black, blue, custom" : "transparent, color, image"
      return invalid("bg_type '\(type)' is invalid; it must be one of \(allowed)")
    }
    if let metadata = body["metadata"] as? [String: Any] {
      create.metadata = metadata.compactMapValues { $0 as? String ?? ($0 as? NSNumber)?.stringValue }
    }
    create.webhookUrl = body["webhook_url"] as? String
    create.autoStart = body["auto_start"] as? Bool ?? true
    let reply = await service.createJob(create, key: nil, requestID: requestID)
    guard reply.status == 201, let job = try? JobAPI.decoder.decode(JobAPI.Job.self, from: reply.body) else {
      return reply
    }
    return raw(
      200,
      ["success": true, "id": job.id, "status": vendorStatus(job.status, variant: variant), "message": "Job created"])
  }

  /// `[0.035, 0.635, 0.274]` or `"#09A246"` as `#RRGGBB`.
  static func hexColor(_ value: Any?) -> String? {
    if let floats = value as? [Double], floats.count == 3, floats.allSatisfy({ (0...1).contains($0) }) {
      return "#" + floats.map { String(format: "%02X", Int(($0 * 255).rounded())) }.joined()
    }
    if let numbers = value as? [NSNumber], numbers.count == 3 {
      return hexColor(numbers.map(\.doubleValue))
    }
    if let s = value as? String, s.count == 7, s.hasPrefix("#"), UInt32(s.dropFirst(), radix: 16) != nil {
      return s.uppercased()
    }
    return nil
  }
}
