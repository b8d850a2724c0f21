import Foundation
import HTTPTypes
import Hummingbird
import Services

/// One prediction: the model and input it was asked for, and the contract job doing the work.
struct PredictionRecord: Sendable {
  var id: String
  var model: String
  var version: String
  var input: [String: String]
  var coreJobID: String?
  var createdAt: String
  var order: Int
  /// Cog answers outputs inline as data URIs; the hosted API answers URLs.
  var inlineOutput: Bool
  /// The create's `metadata` (echoed in the prediction, for clients and tests).
  var metadata: [String: String] = [:]
}

/// A Replicate-style prediction server over the reference server's engine and faults: the
/// hosted API (`Authorization: Bearer`, `/v1/files`, `/v1/models/{owner}/{name}/predictions`
/// or `/v1/predictions` with a version, `GET /v1/predictions[/{id}]`, `…/cancel`) and a Cog
/// container's (`PUT /predictions/{id}`, synchronous and idempotent by id, outputs as data
/// URIs). One model is served: RobustVideoMatting's interface (`input_video`, `output_type`
/// `alpha-mask` → an MP4 whose luma is alpha, or `green-screen` → the subject over green).
enum ReplicateDialect {
  static let model = "arielreplicate/robust_video_matting"
  static let version = "73d2128a371922d5d1abf0712a1d974be0e4e2358cc1218e4e34714767232bac"

  static func routes(_ e: Endpoints) {
    let service = e.service
    e.add(.get, "/health-check", "getHealth", authenticated: false) { _, _, _ in
      raw(200, ["status": "READY"])
    }
    e.add(.get, "/v1/models/:owner/:name", "getModel") { _, context, call in
      let name = ReferenceServer.parameter(context, "owner") + "/" + ReferenceServer.parameter(context, "name")
      guard name == model else { return .error(404, "not_found", "Model not found", requestID: call.requestID) }
      return raw(200, ["owner": "arielreplicate", "name": "robust_video_matting", "latest_version": ["id": version]])
    }
    e.add(.post, "/v1/files", "createUpload") { request, _, call in
      let parts: [MultipartForm.Part]
      switch await ReferenceServer.formParts(request, requestID: call.requestID) {
      case .success(let p): parts = p
      case .failure(let reply): return reply
      }
      guard let file = parts.first(where: { $0.name == "content" }) else {
        return .error(400, "invalid_request", "multipart field 'content' is required", requestID: call.requestID)
      }
      let type = file.contentType ?? "application/octet-stream"
      let reply = await service.createUpload(
        purpose: "source_video", filename: file.filename ?? "file", contentType: type, data: file.body, key: nil,
        requestID: call.requestID)
      guard reply.status == 201, let upload = try? JobAPI.decoder.decode(JobAPI.Upload.self, from: reply.body) else {
        return reply
      }
      return raw(
        201,
        [
          "id": upload.id, "name": upload.filename, "content_type": type, "size": upload.sizeBytes,
          "urls": ["get": upload.url],
        ])
    }
    e.add(.post, "/v1/predictions", "createJob") { request, _, call in
      guard let body = await VideoBGRemoverDialect.jsonBody(request) else {
        return .error(400, "invalid_request", "Invalid JSON body", requestID: call.requestID)
      }
      guard body["version"] as? String == version else {
        return .error(422, "invalid_request", "Invalid version or not permitted", requestID: call.requestID)
      }
      return await create(id: nil, body: body, inline: false, service: service, call: call)
    }
    e.add(.post, "/v1/models/:owner/:name/predictions", "createJob") { request, context, call in
      let name = ReferenceServer.parameter(context, "owner") + "/" + ReferenceServer.parameter(context, "name")
      guard name == model else { return .error(404, "not_found", "Model not found", requestID: call.requestID) }
      guard let body = await VideoBGRemoverDialect.jsonBody(request) else {
        return .error(400, "invalid_request", "Invalid JSON body", requestID: call.requestID)
      }
      return await create(id: nil, body: body, inline: false, service: service, call: call)
    }
    e.add(.get, "/v1/predictions", "listJobs") { _, _, _ in
      var results: [[String: Any]] = []
      for record in await service.predictions.values.sorted(by: { $0.order > $1.order }) {
        results.append(await prediction(record, service: service))
      }
      return raw(200, ["results": results, "next": NSNull(), "previous": NSNull()])
    }
    e.add(.get, "/v1/predictions/:id", "getJob") { _, context, call in
      guard let record = await service.predictions[ReferenceServer.parameter(context, "id")] else {
        return .error(404, "not_found", "Not found.", requestID: call.requestID)
      }
      return raw(200, await prediction(record, service: service))
    }
    for path in ["/v1/predictions/:id/cancel", "/predictions/:id/cancel"] {
      e.add(.post, RouterPath(stringLiteral: path), "cancelJob") { _, context, call in
        guard let record = await service.predictions[ReferenceServer.parameter(context, "id")] else {
          return .error(404, "not_found", "Not found.", requestID: call.requestID)
        }
        if let core = record.coreJobID { _ = await service.cancelJob(core, requestID: call.requestID) }
        return raw(200, await prediction(record, service: service))
      }
    }
    // Cog: synchronous, and idempotent by the caller's id.
    e.add(.put, "/predictions/:id", "createJob") { request, context, call in
      let id = ReferenceServer.parameter(context, "id")
      guard let body = await VideoBGRemoverDialect.jsonBody(request) else {
        return .error(400, "invalid_request", "Invalid JSON body", requestID: call.requestID)
      }
      if await service.predictions[id] == nil {
        let created = await create(id: id, body: body, inline: true, service: service, call: call)
        guard created.status < 300 else { return created }
      }
      return await waitForTerminal(id, service: service)
    }
    e.add(.post, "/predictions", "createJob") { request, _, call in
      guard let body = await VideoBGRemoverDialect.jsonBody(request) else {
        return .error(400, "invalid_request", "Invalid JSON body", requestID: call.requestID)
      }
      let created = await create(id: body["id"] as? String, body: body, inline: true, service: service, call: call)
      guard created.status < 300,
        let id = (try? JSONSerialization.jsonObject(with: created.body) as? [String: Any])?["id"] as? String
      else { return created }
      return await waitForTerminal(id, service: service)
    }
  }

  static func raw(_ status: Int, _ object: [String: Any]) -> Reply {
    Reply(status: status, body: Endpoints.json(object))
  }

  /// Waits for a prediction to end (the engine's jobs take well under a second here) and
  /// answers it, as Cog's synchronous API does.
  static func waitForTerminal(_ id: String, service: ReferenceService) async -> Reply {
    while true {
      guard let record = await service.predictions[id] else { return raw(404, ["detail": "Not found."]) }
      let object = await prediction(record, service: service)
      let status = object["status"] as? String ?? "failed"
      if ["succeeded", "failed", "canceled"].contains(status) { return raw(200, object) }
      try? await Task.sleep(for: .milliseconds(20))
    }
  }

  static func create(id: String?, body: [String: Any], inline: Bool, service: ReferenceService, call: CallInfo) async
    -> Reply
  {
    func bad(_ message: String) -> Reply { .error(422, "invalid_request", message, requestID: call.requestID) }
    guard let input = body["input"] as? [String: Any], let video = input["input_video"] as? String else {
      return bad("input.input_video is required")
    }
    var videoURL = video
    if video.hasPrefix("data:") {
      // A data URI: stored as an upload so the engine can read it.
      guard let comma = video.firstIndex(of: ","),
        let data = Data(base64Encoded: String(video[video.index(after: comma)...]))
      else { return bad("input_video is not a base64 data URI") }
      let reply = await service.createUpload(
        purpose: "source_video", filename: "input_video", contentType: "video/mp4", data: data, key: nil,
        requestID: call.requestID)
      guard reply.status == 201, let upload = try? JobAPI.decoder.decode(JobAPI.Upload.self, from: reply.body) else {
        return reply
      }
      videoURL = upload.url
    }
    var create = JobAPI.CreateJobRequest(videoUrl: videoURL)
    create.model = "soft-keyer"
    switch input["output_type"] as? String ?? "green-screen" {
    case "alpha-mask":
      create.bgType = "transparent"
      create.outputFormat = "matte_mp4"
    case "green-screen":
      create.bgType = "color"
      create.bgColor = "#00FF00"
      create.outputFormat = "mp4"
    case let other:
      return bad("output_type '\(other)' is not offered here (alpha-mask, green-screen)")
    }
    create.autoStart = true
    let reply = await service.createJob(create, key: nil, requestID: call.requestID)
    guard reply.status == 201, let job = try? JobAPI.decoder.decode(JobAPI.Job.self, from: reply.body) else {
      return reply
    }
    let record = await service.addPrediction(
      id: id, model: model, version: version, input: input.compactMapValues { $0 as? String }, coreJobID: job.id,
      inline: inline, metadata: VideoBGRemoverDialect.metadata(body))
    return raw(201, await prediction(record, service: service))
  }

  static func prediction(_ record: PredictionRecord, service: ReferenceService) async -> [String: Any] {
    let base = await service.baseURL
    var input = record.input
    if let video = input["input_video"], video.hasPrefix("data:") { input["input_video"] = "data:…" }
    var out: [String: Any] = [
      "id": record.id, "model": record.model, "version": record.version, "input": input, "created_at": record.createdAt,
      "urls": [
        "get": "\(base)/v1/predictions/\(record.id)", "cancel": "\(base)/v1/predictions/\(record.id)/cancel",
      ],
      "output": NSNull(), "error": NSNull(), "logs": "",
    ]
    if !record.metadata.isEmpty { out["metadata"] = record.metadata }
    guard let core = record.coreJobID, let job = await service.job(core) else {
      out["status"] = "failed"
      out["error"] = "prediction lost"
      return out
    }
    switch job.status {
    case "created", "queued": out["status"] = "starting"
    case "processing": out["status"] = "processing"
    case "completed":
      out["status"] = "succeeded"
      // Each read signs the output URL afresh (an expired one is renewed by reading again).
      let renewed = try? JobAPI.decoder.decode(
        JobAPI.JobOutput.self, from: await service.result(core, requestID: "internal").body)
      if let url = renewed?.url ?? job.output?.url {
        if record.inlineOutput, let data = await service.ownFileData(url) {
          out["output"] = "data:video/mp4;base64," + data.base64EncodedString()
        } else {
          out["output"] = url
        }
      }
    case "canceled": out["status"] = "canceled"
    default:
      out["status"] = "failed"
      out["error"] = job.error?.message ?? "failed"
    }
    if let s = job.startedAt { out["started_at"] = s }
    if let c = job.completedAt { out["completed_at"] = c }
    if let s = JobAPI.date(job.startedAt), let c = JobAPI.date(job.completedAt) {
      out["metrics"] = ["predict_time": c.timeIntervalSince(s)]
    }
    return out
  }
}

extension ReferenceService {
  func addPrediction(
    id: String?, model: String, version: String, input: [String: String], coreJobID: String, inline: Bool,
    metadata: [String: String]
  ) -> PredictionRecord {
    let record = PredictionRecord(
      id: id ?? nextID("pred"), model: model, version: version, input: input, coreJobID: coreJobID,
      createdAt: JobAPI.timestamp(now), order: predictions.count, inlineOutput: inline, metadata: metadata)
    predictions[record.id] = record
    return record
  }

  /// The bytes of one of this server's own files, by URL.
  func ownFileData(_ url: String) -> Data? {
    guard case .found(let path, _) = ownFile(url) else { return nil }
    return FileManager.default.contents(atPath: path)
  }
}
