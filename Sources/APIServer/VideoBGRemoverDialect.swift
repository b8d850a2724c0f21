import Foundation
import Hummingbird
import MediaIO
import Services

/// One VideoBGRemover job: it exists before its video does (create → PUT to a signed URL →
/// start), and becomes a contract job when started.
struct VendorJob: Sendable {
  var id: String
  var createdAt: String
  var uploadToken: String
  var uploadExpires: Date
  var videoURL: String?
  var coreJobID: String?
  var exportID: String?
  /// The matte of a transparent output, made when first asked for (`processed_mask_url`).
  var maskPath: String?
  /// What the create's `metadata` held (echoed in the status, for clients and tests).
  var metadata: [String: String] = [:]
}

/// VideoBGRemover's documented API over the reference server's engine, credits and faults:
/// `POST /v1/jobs` with `{filename, content_type}` (a signed PUT URL, valid 1 h) or
/// `{video_url}`, `POST /v1/jobs/{id}/start` (the charging call: 1 credit per second),
/// `GET /v1/jobs/{id}/status`, `POST /v1/jobs/{id}/result`, `DELETE /v1/jobs/{id}`,
/// `GET /v1/credits`; errors are `{"error": "…"}`.
enum VideoBGRemoverDialect {
  static let models = ["videobgremover-original", "videobgremover-light", "videobgremover-pro", "videobgremover-human"]
  /// Transparent formats this reference server writes, by the vendor's name (the vendor also
  /// lists `pro_bundle` and `stacked_video`).
  static let transparentFormats = ["webm_vp9": "webm", "mov_prores": "mov", "png_sequence": "png_sequence"]

  static func routes(_ e: Endpoints) {
    let service = e.service
    e.add(.post, "/v1/jobs", "createJob") { request, _, call in
      guard let body = await jsonBody(request) else {
        return .error(400, "invalid_request", "Invalid JSON body", requestID: call.requestID)
      }
      if let url = body["video_url"] as? String {
        guard URL(string: url)?.scheme != nil else {
          return .error(400, "invalid_request", "video_url must be a URL", requestID: call.requestID)
        }
        let job = await service.vendorCreate(videoURL: url, metadata: metadata(body))
        return raw(201, ["id": job.id, "status": "uploaded", "created_at": job.createdAt])
      }
      guard let filename = body["filename"] as? String, !filename.isEmpty,
        let type = body["content_type"] as? String, type.hasPrefix("video/")
      else {
        return .error(
          400, "invalid_request", "Provide video_url, or filename and a video content_type", requestID: call.requestID)
      }
      let job = await service.vendorCreate(videoURL: nil, metadata: metadata(body))
      let base = await service.baseURL
      return raw(
        201,
        [
          "id": job.id, "status": "created", "created_at": job.createdAt,
          "upload_url": "\(base)/v1/uploads/put/\(job.id)?token=\(job.uploadToken)",
          "expires_at": JobAPI.timestamp(job.uploadExpires),
          "instructions": ["method": "PUT", "headers": ["Content-Type": type]],
        ])
    }
    e.add(.put, "/v1/uploads/put/:id", "putUpload", authenticated: false) { request, context, call in
      let id = ReferenceServer.parameter(context, "id")
      let token = request.uri.queryParameters["token"].map(String.init) ?? ""
      guard let data = try? await request.body.collect(upTo: ReferenceService.maxVideoBytes) else {
        return .error(413, "payload_too_large", "File too large", requestID: call.requestID)
      }
      return await service.vendorPut(
        id, token: token, data: Data(data.readableBytesView), contentType: request.headers[.contentType] ?? "video/mp4",
        requestID: call.requestID)
    }
    e.add(.post, "/v1/jobs/:id/start", "startJob") { request, context, call in
      guard let body = await jsonBody(request) else {
        return .error(400, "invalid_request", "Invalid JSON body", requestID: call.requestID)
      }
      return await start(ReferenceServer.parameter(context, "id"), body: body, service: service, call: call)
    }
    e.add(.get, "/v1/jobs/:id/status", "getJob") { _, context, call in
      let id = ReferenceServer.parameter(context, "id")
      guard let vendor = await service.vendorJobs[id] else {
        return .error(404, "not_found", "Job not found", requestID: call.requestID)
      }
      return raw(200, await status(vendor, service: service))
    }
    e.add(.post, "/v1/jobs/:id/result", "getJobResult") { _, context, call in
      let id = ReferenceServer.parameter(context, "id")
      guard let core = await service.vendorJobs[id]?.coreJobID else {
        return .error(404, "not_found", "Job not found or not started", requestID: call.requestID)
      }
      let reply = await service.result(core, requestID: call.requestID)
      guard let output = try? JobAPI.decoder.decode(JobAPI.JobOutput.self, from: reply.body) else {
        return .error(400, "invalid_request", "Job not completed", requestID: call.requestID)
      }
      return raw(200, ["download_url": output.url, "expires_at": output.expiresAt])
    }
    e.add(.delete, "/v1/jobs/:id", "deleteJob") { _, context, call in
      let id = ReferenceServer.parameter(context, "id")
      guard let vendor = await service.vendorJobs[id] else {
        return .error(404, "not_found", "Job not found", requestID: call.requestID)
      }
      if let core = vendor.coreJobID { _ = await service.cancelJob(core, requestID: call.requestID) }
      await service.vendorDelete(id)
      return raw(200, ["id": id, "deleted": true])
    }
    e.add(.get, "/v1/credits", "getCredits") { _, _, _ in
      let c = await service.credits()
      return raw(
        200,
        [
          "user_id": "user_reference", "total_credits": c.balance + c.usedTotal, "remaining_credits": c.available,
          "used_credits": c.usedTotal,
        ])
    }
  }

  static func metadata(_ body: [String: Any]) -> [String: String] {
    (body["metadata"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
  }

  static func jsonBody(_ request: Request) async -> [String: Any]? {
    guard let buffer = try? await request.body.collect(upTo: 1 << 20) else { return nil }
    if buffer.readableBytes == 0 { return [:] }
    return try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any]
  }

  static func raw(_ status: Int, _ object: [String: Any]) -> Reply {
    Reply(status: status, body: Endpoints.json(object))
  }

  /// The start body as a contract create; the contract job is created and started at once.
  static func start(_ id: String, body: [String: Any], service: ReferenceService, call: CallInfo) async -> Reply {
    func bad(_ message: String) -> Reply { .error(400, "invalid_request", message, requestID: call.requestID) }
    guard let vendor = await service.vendorJobs[id] else {
      return .error(404, "not_found", "Job not found", requestID: call.requestID)
    }
    if vendor.coreJobID != nil { return bad("Job already started") }
    guard let videoURL = vendor.videoURL else { return bad("Upload the video before starting the job") }
    let model = body["model"] as? String ?? "videobgremover-original"
    guard models.contains(model) else { return bad("Unknown model '\(model)'") }
    var create = JobAPI.CreateJobRequest(videoUrl: videoURL)
    create.model = model
    let background = body["background"] as? [String: Any] ?? ["type": "transparent"]
    switch background["type"] as? String {
    case "transparent", nil:
      let format = background["transparent_format"] as? String ?? "webm_vp9"
      guard let ours = transparentFormats[format] else {
        return bad(
          "transparent_format '\(format)' is not offered by this server (\(transparentFormats.keys.sorted().joined(separator: ", ")))"
        )
      }
      create.bgType = "transparent"
      create.outputFormat = ours
    case "color":
      guard let color = background["color"] as? String, color.hasPrefix("#"), [7, 9].contains(color.count),
        UInt32(color.dropFirst().prefix(6), radix: 16) != nil
      else { return bad("background.color must be #RRGGBB or #RRGGBBAA") }
      create.bgType = "color"
      create.bgColor = String(color.prefix(7)).uppercased()
      create.outputFormat = body["format"] as? String ?? "mp4"
    default:
      return bad("background.type must be color or transparent")
    }
    if let composition = background["composition"] as? [String: Any] {
      guard composition["background_type"] as? String ?? "image" == "image",
        let url = composition["background_url"] as? String
      else { return bad("composition needs background_type image and background_url") }
      create.bgType = "image"
      create.bgColor = nil
      create.bgImageUrl = url
      create.outputFormat = body["format"] as? String ?? "mp4"
    }
    create.autoStart = true
    let reply = await service.createJob(create, key: nil, requestID: call.requestID)
    guard reply.status == 201, let job = try? JobAPI.decoder.decode(JobAPI.Job.self, from: reply.body) else {
      return reply  // 402 and validation errors, shaped as {"error": "…"}
    }
    let exportID = await service.vendorStarted(id, coreJobID: job.id)
    return raw(
      200,
      [
        "id": id, "export_id": exportID, "status": "processing", "creditsUsed": job.credits.reserved,
        "video_length_seconds": job.input.media?.durationSeconds ?? 0, "background": background,
      ])
  }

  static func status(_ vendor: VendorJob, service: ReferenceService) async -> [String: Any] {
    var out: [String: Any] = ["id": vendor.id]
    if !vendor.metadata.isEmpty { out["metadata"] = vendor.metadata }
    guard let core = vendor.coreJobID, let job = await service.job(core) else {
      out["status"] = vendor.videoURL == nil ? "created" : "uploaded"
      return out
    }
    out["export_id"] = vendor.exportID
    out["output_format"] = job.settings.outputFormat
    if let d = job.input.media?.durationSeconds { out["length_seconds"] = d }
    switch job.status {
    case "completed":
      out["status"] = "completed"
      out["processed_video_url"] = job.output?.url
      if job.settings.bgType == "transparent", let mask = await service.vendorMask(vendor.id) {
        out["processed_mask_url"] = mask
      }
    case "failed", "canceled":
      out["status"] = "failed"
      out["message"] = job.error?.message ?? "Job canceled"
    default:
      out["status"] = "processing"
    }
    return out
  }
}

extension ReferenceService {
  func vendorCreate(videoURL: String?, metadata: [String: String]) -> VendorJob {
    let id = nextID("vbr")
    let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    let job = VendorJob(
      id: id, createdAt: JobAPI.timestamp(now), uploadToken: token, uploadExpires: now.addingTimeInterval(3600),
      videoURL: videoURL, metadata: metadata)
    vendorJobs[id] = job
    return job
  }

  /// The bytes PUT to a job's signed URL: stored as an upload, and the job reads `uploaded`.
  func vendorPut(_ id: String, token: String, data: Data, contentType: String, requestID: String) -> Reply {
    guard var job = vendorJobs[id], job.uploadToken == token else {
      return .error(403, "forbidden", "Invalid upload URL", requestID: requestID)
    }
    guard now < job.uploadExpires else {
      return .error(403, "forbidden", "The upload URL has expired", requestID: requestID)
    }
    let reply = createUpload(
      purpose: "source_video", filename: "\(id).video", contentType: contentType, data: data, key: nil,
      requestID: requestID)
    guard reply.status == 201, let upload = try? JobAPI.decoder.decode(JobAPI.Upload.self, from: reply.body) else {
      return reply
    }
    job.videoURL = upload.url
    vendorJobs[id] = job
    return Reply(status: 200, body: Data(), contentType: "")
  }

  func vendorStarted(_ id: String, coreJobID: String) -> String {
    let export = nextID("exp")
    vendorJobs[id]?.coreJobID = coreJobID
    vendorJobs[id]?.exportID = export
    return export
  }

  func vendorDelete(_ id: String) { vendorJobs[id] = nil }

  /// The matte of a completed transparent job as an MP4 whose luma is alpha (limited range),
  /// converted from the output's alpha channel once; nil if it cannot be made.
  func vendorMask(_ id: String) -> String? {
    guard let vendor = vendorJobs[id], let core = vendor.coreJobID, let url = job(core)?.output?.url else {
      return nil
    }
    // Each answer gets a freshly signed URL, as `processed_video_url` does.
    if let made = vendor.maskPath { return stageFile(path: made, contentType: "video/mp4") }
    guard case .found(let path, _) = ownFile(url) else { return nil }
    let maskPath = storage + "/\(id)-mask.mp4"
    do {
      let reader = try MediaInput.open(path, options: ReadOptions(rgb: .none, alpha: .alphaChannel))
      let writer = try VideoWriter(
        path: maskPath, width: reader.size.width, height: reader.size.height,
        frameRate: reader.frameRate > 0 ? reader.frameRate : 25, encoding: .h264(crf: 0, preset: "medium"))
      while let frame = try reader.nextFrame() {
        if let alpha = frame.alpha { try writer.appendMatte(alpha) }
      }
      try writer.finish()
    } catch {
      return nil
    }
    vendorJobs[id]?.maskPath = maskPath
    return stageFile(path: maskPath, contentType: "video/mp4")
  }
}
