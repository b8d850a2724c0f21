import AsyncHTTPClient
import Engine
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MatteMetrics
import MediaIO
import NIOCore
import NIOHTTP1
package import ServiceLifecycle
import Services
import Synchronization
import UnixSignals

/// Options of `mattegate serve-api`.
public struct ReferenceServerOptions: Sendable {
  public var host = "127.0.0.1"
  public var port: Int
  /// The one API key the server accepts in `X-Api-Key`.
  public var apiKey: String
  /// Where uploads, outputs and scratch files go.
  public var storage: String
  /// Signs webhook deliveries when set.
  public var webhookSecret: String?
  public var version = "mattegate-reference/1.0 (\(EmbeddedEngine.version))"

  public init(port: Int, apiKey: String, storage: String) {
    self.port = port
    self.apiKey = apiKey
    self.storage = storage
  }
}

public struct ServerError: Error, CustomStringConvertible, Sendable {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// Request context that keeps the connection, so a fault can drop it.
struct APIContext: RequestContext {
  var coreContext: CoreRequestContextStorage
  let channel: any Channel

  init(source: ApplicationRequestContextSource) {
    coreContext = .init(source: source)
    channel = source.channel
  }
}

/// The job API's reference server (docs/api): loopback only, the embedded engine behind it,
/// and the contract's test controls.
public enum ReferenceServer {
  /// Serves until the task is cancelled. `onListening` gets the bound port.
  public static func run(
    _ options: ReferenceServerOptions, stopper: ReferenceServerStopper? = nil,
    onListening: @escaping @Sendable (Int) -> Void = { _ in }
  ) async throws {
    guard isLoopback(options.host) else {
      throw ServerError("serve-api binds loopback only (127.0.0.1, ::1 or localhost), not '\(options.host)'")
    }
    guard !options.apiKey.isEmpty else { throw ServerError("serve-api needs an API key (MATTEGATE_API_KEY)") }
    do {
      try FileManager.default.createDirectory(atPath: options.storage, withIntermediateDirectories: true)
    } catch {
      throw ServerError("\(options.storage): cannot create the storage folder: \(error.localizedDescription)")
    }
    let service = ReferenceService(
      apiKey: options.apiKey, storage: options.storage, version: options.version,
      webhookSecret: options.webhookSecret)
    var logger = Logger(label: "mattegate.serve-api")
    // Shutting down by cancellation logs errors for open connections; only critical ones matter here.
    logger.logLevel = .critical
    let app = Application(
      responder: CallbackResponder<APIContext> { request, context in
        try await respond(request, context: context, service: service)
      },
      configuration: ApplicationConfiguration(address: .hostname(options.host, port: options.port)),
      onServerRunning: { channel in
        let port = channel.localAddress?.port ?? options.port
        await service.setBaseURL("http://\(options.host):\(port)")
        onListening(port)
      },
      logger: logger)
    // SIGTERM and SIGINT, or the stopper, shut down gracefully: open connections are finished.
    // (Cancelling the serving task instead can trap in NIO on a connection accepted but not
    // yet served.)
    let group = ServiceGroup(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    await stopper?.attach(group)
    try await group.run()
  }

  static func isLoopback(_ host: String) -> Bool {
    host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
  }

  // MARK: Routing

  /// operationId, route handler and whether the route needs the API key.
  private static func route(_ method: HTTPRequest.Method, _ parts: [String]) -> (
    operation: String, authenticated: Bool
  )? {
    switch (method, parts.count) {
    case (.get, 1) where parts == ["health"]: return ("getHealth", false)
    case (.get, 2) where parts == ["v1", "models"]: return ("listModels", true)
    case (.post, 2) where parts == ["v1", "uploads"]: return ("createUpload", true)
    case (.get, 3) where parts[0...1] == ["v1", "uploads"]: return ("getUpload", true)
    case (.get, 3) where parts[0...1] == ["v1", "files"]: return ("downloadFile", false)
    case (.post, 2) where parts == ["v1", "jobs"]: return ("createJob", true)
    case (.get, 2) where parts == ["v1", "jobs"]: return ("listJobs", true)
    case (.get, 3) where parts[0...1] == ["v1", "jobs"]: return ("getJob", true)
    case (.delete, 3) where parts[0...1] == ["v1", "jobs"]: return ("deleteJob", true)
    case (.post, 4) where parts[0...1] == ["v1", "jobs"] && parts[3] == "start": return ("startJob", true)
    case (.post, 4) where parts[0...1] == ["v1", "jobs"] && parts[3] == "cancel": return ("cancelJob", true)
    case (.get, 4) where parts[0...1] == ["v1", "jobs"] && parts[3] == "result": return ("getJobResult", true)
    case (.get, 2) where parts == ["v1", "credits"]: return ("getCredits", true)
    case (.post, 2) where parts == ["_test", "reset"]: return ("testReset", true)
    case (.put, 2) where parts == ["_test", "credits"]: return ("testSetCredits", true)
    case (.post, 2) where parts == ["_test", "faults"]: return ("testInjectFault", true)
    case (.post, 2) where parts == ["_test", "clock"]: return ("testAdvanceClock", true)
    case (.get, 2) where parts == ["_test", "webhook-deliveries"]: return ("testListWebhookDeliveries", true)
    default: return nil
    }
  }

  static func respond(_ request: Request, context: APIContext, service: ReferenceService) async throws -> Response {
    let requestID = await service.requestID()
    let parts = request.uri.path.split(separator: "/").map(String.init)
    var reply: Reply
    var drop = false
    if let (operation, authenticated) = route(request.method, parts) {
      if authenticated && request.headers[HTTPField.Name("X-Api-Key")!] != service.apiKey {
        reply = .error(401, "invalid_api_key", "missing or unknown X-Api-Key", requestID: requestID)
      } else {
        // Request-level faults never touch the test controls.
        let fault = operation.hasPrefix("test") ? nil : await service.takeRequestFault(operation: operation)
        switch fault?.fault {
        case "http_500":
          reply = .error(500, "internal_error", "injected fault http_500", requestID: requestID)
        case "http_503":
          reply = .error(
            503, "service_unavailable", "injected fault http_503: overloaded", requestID: requestID,
            retryAfter: fault?.retryAfterSeconds ?? 1)
        case "rate_limit":
          let wait = fault?.retryAfterSeconds ?? 1
          reply = .error(429, "rate_limited", "injected fault rate_limit", requestID: requestID, retryAfter: wait)
          reply.headers["X-RateLimit-Limit"] = "60"
          reply.headers["X-RateLimit-Remaining"] = "0"
          reply.headers["X-RateLimit-Reset"] = "\(wait)"
        default:
          if fault?.fault == "delay_response" {
            try? await Task.sleep(for: .milliseconds(fault?.delayMs ?? 1000))
          }
          drop = fault?.fault == "drop_after_commit"
          reply = await perform(operation, parts: parts, request: request, service: service, requestID: requestID)
        }
      }
    } else {
      reply = .error(
        404, "not_found", "no route \(request.method.rawValue) \(request.uri.path)", requestID: requestID)
    }
    if drop {
      // The operation is committed; the connection closes without an answer.
      try? await context.channel.close()
      throw ServerError("connection dropped after commit (fault drop_after_commit)")
    }
    var fields = HTTPFields()
    fields[HTTPField.Name("X-Request-Id")!] = requestID
    if !reply.contentType.isEmpty { fields[.contentType] = reply.contentType }
    for (name, value) in reply.headers { fields[HTTPField.Name(name)!] = value }
    return Response(
      status: HTTPResponse.Status(code: reply.status), headers: fields,
      body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
  }

  private static func decode<T: Decodable>(
    _ type: T.Type, _ request: Request, requestID: String
  ) async -> Result<T, ReplyError> {
    do {
      let buffer = try await request.body.collect(upTo: 1 << 20)
      return .success(try JobAPI.decoder.decode(T.self, from: Data(buffer.readableBytesView)))
    } catch {
      return .failure(
        ReplyError(reply: .error(400, "invalid_request", "the JSON body is malformed: \(error)", requestID: requestID)))
    }
  }

  struct ReplyError: Error {
    var reply: Reply
  }

  private static func perform(
    _ operation: String, parts: [String], request: Request, service: ReferenceService, requestID: String
  ) async -> Reply {
    let key = request.headers[HTTPField.Name("Idempotency-Key")!]
    if let key, key.isEmpty || key.count > 255 || !key.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) {
      return .error(
        400, "invalid_request", "Idempotency-Key must be 1-255 visible ASCII characters", requestID: requestID)
    }
    let query = request.uri.queryParameters
    switch operation {
    case "getHealth":
      return .json(200, JobAPI.Health(status: "ok", version: service.version))
    case "listModels":
      return .json(200, await service.capabilities())
    case "createUpload":
      return await upload(request, key: key, service: service, requestID: requestID)
    case "getUpload":
      return await service.getUpload(parts[2], requestID: requestID)
    case "downloadFile":
      return await download(parts[2], token: query["token"].map(String.init), request: request, service: service)
    case "createJob":
      switch await decode(JobAPI.CreateJobRequest.self, request, requestID: requestID) {
      case .success(let body): return await service.createJob(body, key: key, requestID: requestID)
      case .failure(let e): return e.reply
      }
    case "listJobs":
      return await service.listJobs(
        limit: query["limit"].flatMap { Int(String($0)) } ?? 20,
        offset: query["offset"].flatMap { Int(String($0)) } ?? 0,
        status: query["status"].map(String.init), requestID: requestID)
    case "getJob": return await service.getJob(parts[2], requestID: requestID)
    case "deleteJob": return await service.deleteJob(parts[2], requestID: requestID)
    case "startJob": return await service.startJob(parts[2], key: key, requestID: requestID)
    case "cancelJob": return await service.cancelJob(parts[2], requestID: requestID)
    case "getJobResult": return await service.result(parts[2], requestID: requestID)
    case "getCredits": return .json(200, await service.credits())
    case "testReset":
      await service.reset()
      return Reply(status: 204, body: Data(), contentType: "")
    case "testSetCredits":
      struct Body: Decodable { var balance: Int }
      switch await decode(Body.self, request, requestID: requestID) {
      case .success(let body) where body.balance >= 0: return .json(200, await service.setCredits(body.balance))
      case .success: return .error(422, "validation_error", "balance must be ≥ 0", requestID: requestID)
      case .failure(let e): return e.reply
      }
    case "testInjectFault":
      switch await decode(JobAPI.FaultSpec.self, request, requestID: requestID) {
      case .success(let spec):
        guard
          ReferenceService.requestFaults.union(ReferenceService.jobFaults).contains(spec.fault)
            || spec.fault == "webhook_receiver_down"
        else {
          return .error(
            422, "validation_error", "unknown fault '\(spec.fault)'", requestID: requestID,
            details: ["field": .string("fault")])
        }
        return .json(201, await service.arm(spec))
      case .failure(let e): return e.reply
      }
    case "testAdvanceClock":
      struct Body: Decodable { var advanceSeconds: Double }
      switch await decode(Body.self, request, requestID: requestID) {
      case .success(let body) where body.advanceSeconds >= 0:
        struct Now: Encodable { var now: String }
        return .json(200, Now(now: await service.advanceClock(body.advanceSeconds)))
      case .success: return .error(422, "validation_error", "advance_seconds must be ≥ 0", requestID: requestID)
      case .failure(let e): return e.reply
      }
    case "testListWebhookDeliveries":
      return .json(200, await service.webhookDeliveries())
    default:
      return .error(404, "not_found", "no operation \(operation)", requestID: requestID)
    }
  }

  private static func upload(_ request: Request, key: String?, service: ReferenceService, requestID: String) async
    -> Reply
  {
    guard let contentType = request.headers[.contentType], let boundary = Multipart.boundary(contentType: contentType)
    else {
      return .error(
        400, "invalid_request", "the body must be multipart/form-data with a boundary", requestID: requestID)
    }
    let body: Data
    do {
      body = Data(try await request.body.collect(upTo: ReferenceService.maxVideoBytes + 65536).readableBytesView)
    } catch {
      return .error(
        413, "payload_too_large", "the upload exceeds \(ReferenceService.maxVideoBytes) bytes", requestID: requestID,
        details: ["max_bytes": .int(ReferenceService.maxVideoBytes)])
    }
    let parts: [MultipartPart]
    switch Multipart.parse(body, boundary: boundary) {
    case .success(let p): parts = p
    case .failure(let e): return .error(400, "invalid_request", "multipart body: \(e.message)", requestID: requestID)
    }
    guard let file = parts.first(where: { $0.name == "file" }),
      let purpose = parts.first(where: { $0.name == "purpose" }).map({ String(decoding: $0.body, as: UTF8.self) })
    else {
      return .error(400, "invalid_request", "the multipart body needs the parts file and purpose", requestID: requestID)
    }
    guard ["source_video", "background_image", "background_video"].contains(purpose) else {
      return .error(
        422, "validation_error", "purpose '\(purpose)' is not source_video, background_image or background_video",
        requestID: requestID, details: ["field": .string("purpose")])
    }
    let allowed = [
      "video/mp4", "video/quicktime", "video/webm", "video/x-msvideo", "video/x-matroska", "image/png", "image/jpeg",
      "image/webp", "application/octet-stream",
    ]
    let type = file.contentType ?? "application/octet-stream"
    guard allowed.contains(type) else {
      return .error(
        415, "unsupported_media_type", "content type \(type) is not accepted", requestID: requestID,
        details: ["allowed": .string(allowed.joined(separator: ", "))])
    }
    if purpose == "background_image" && file.body.count > ReferenceService.maxImageBytes {
      return .error(
        413, "payload_too_large", "images are limited to \(ReferenceService.maxImageBytes) bytes", requestID: requestID,
        details: ["max_bytes": .int(ReferenceService.maxImageBytes)])
    }
    return await service.createUpload(
      purpose: purpose, filename: file.filename ?? "upload", contentType: type, data: file.body, key: key,
      requestID: requestID)
  }

  private static func download(_ id: String, token: String?, request: Request, service: ReferenceService) async
    -> Reply
  {
    let requestID = await service.requestID()
    switch await service.file(id: id, token: token) {
    case .notFound: return .error(404, "not_found", "no file '\(id)'", requestID: requestID)
    case .forbidden: return .error(403, "forbidden", "bad token for file '\(id)'", requestID: requestID)
    case .gone: return .error(410, "expired", "the URL of file '\(id)' has expired", requestID: requestID)
    case .found(let path, let contentType):
      guard let data = FileManager.default.contents(atPath: path) else {
        return .error(404, "not_found", "file '\(id)' is gone from storage", requestID: requestID)
      }
      // One byte range (bytes=a-b, a-, -n) is honoured; anything else gets the whole file.
      if let range = request.headers[.range], let r = byteRange(range, size: data.count) {
        return Reply(
          status: 206, body: data.subdata(in: r), contentType: contentType,
          headers: [
            "Content-Range": "bytes \(r.lowerBound)-\(r.upperBound - 1)/\(data.count)", "Accept-Ranges": "bytes",
          ])
      }
      return Reply(status: 200, body: data, contentType: contentType, headers: ["Accept-Ranges": "bytes"])
    }
  }

  static func byteRange(_ header: String, size: Int) -> Range<Int>? {
    guard header.hasPrefix("bytes="), !header.contains(","), size > 0 else { return nil }
    let spec = header.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false).map(String.init)
    guard spec.count == 2 else { return nil }
    if spec[0].isEmpty, let n = Int(spec[1]), n > 0 { return max(0, size - n)..<size }
    guard let a = Int(spec[0]), a < size else { return nil }
    let b = spec[1].isEmpty ? size - 1 : min(Int(spec[1]) ?? -1, size - 1)
    return b >= a ? a..<(b + 1) : nil
  }
}

// MARK: Processing

extension ReferenceService {
  /// Fetches the inputs, checks them and runs the embedded engine: one job, outside the actor.
  static func process(_ item: WorkItem, service: ReferenceService) async -> WorkOutcome {
    do {
      try FileManager.default.createDirectory(atPath: item.scratch, withIntermediateDirectories: true)
    } catch {
      return .failed(code: "internal_error", message: "cannot create scratch space", retryable: true)
    }
    guard let source = await fetch(item.videoURL, to: item.scratch + "/source", service: service) else {
      return .failed(
        code: "input_unreachable",
        message: "video_url could not be fetched (this server fetches its own files and loopback addresses only)",
        retryable: true)
    }
    var background: String?
    if let url = item.backgroundURL {
      guard let path = await fetch(url, to: item.scratch + "/background", service: service) else {
        return .failed(
          code: "background_unreachable",
          message: "bg_image_url could not be fetched (own files and loopback addresses only)", retryable: true)
      }
      background = path
    }
    var media = JobAPI.MediaInfo()
    do {
      let video = try VideoReader(path: source, options: ReadOptions(rgb: .none))
      media.width = video.width
      media.height = video.height
      media.frameRate = video.frameRate
      media.durationSeconds = video.declaredDuration
    } catch {
      return .failed(code: "input_invalid", message: "the source is not a readable video", retryable: false)
    }
    if (media.durationSeconds ?? 0) > maxDuration {
      return .failed(code: "duration_exceeded", message: "the source is longer than 300 s", retryable: false)
    }
    if media.width! > maxWidth || media.height! > maxHeight {
      return .failed(code: "resolution_exceeded", message: "the source exceeds 3840x2160", retryable: false)
    }
    var warnings: [JobAPI.Warning] = []
    if let background {
      guard let size = try? MediaInput.open(background, options: ReadOptions(rgb: .none)).size else {
        return .failed(
          code: "background_invalid", message: "the background is not a readable picture", retryable: false)
      }
      let match = AspectMatch(source: (media.width!, media.height!), background: (size.width, size.height))
      if match.match == .large && item.settings.strictAspect == true {
        return .failed(
          code: "aspect_ratio_mismatch",
          message: String(
            format: "background %dx%d against source %dx%d: relative aspect difference %.3f > 0.10", size.width,
            size.height, media.width!, media.height!, match.relativeDifference), retryable: false)
      }
      if match.match != .exact {
        warnings.append(
          JobAPI.Warning(
            code: "aspect_ratio_mismatch", message: "the background's aspect ratio differs from the source's",
            details: [
              "source_aspect": .double(Double(media.width!) / Double(media.height!)),
              "background_aspect": .double(Double(size.width) / Double(size.height)),
              "relative_difference": .double(match.relativeDifference), "match": .string(match.match.rawValue),
              "applied_fit": .string(item.settings.fit ?? "cover"),
            ]))
      }
      if size.width < media.width! || size.height < media.height! {
        warnings.append(
          JobAPI.Warning(code: "background_upscaled", message: "the background is smaller than the canvas"))
      }
    }
    await service.setMedia(item.jobID, media: media, warnings: warnings)
    await service.markStage(item.jobID, stage: "segmenting", progress: 30)
    guard await service.isActive(item.jobID) else { return .failed(code: "canceled", message: "", retryable: false) }
    let backgroundPath = background
    let size = (width: media.width!, height: media.height!)
    let outcome: Result<Void, any Error> = await withCheckedContinuation { continuation in
      DispatchQueue.global().async {
        continuation.resume(
          returning: Result {
            var settings = EngineSettings(model: item.keyer)
            settings.crf = 30
            let composite = try LocalProvider.fittedBackground(
              bgType: item.settings.bgType ?? "transparent", bgColor: item.settings.bgColor, bgImage: backgroundPath,
              fit: item.settings.fit ?? "cover", width: size.width, height: size.height
            ).map { CompositeRequest(background: $0) }
            _ = try EmbeddedEngine.removeBackground(
              sourcePath: source, cleanPlatePath: nil, settings: settings, outputPath: item.outputPath,
              format: TransparentFormat(rawValue: item.settings.outputFormat ?? "webm") ?? .webm, composite: composite)
          })
      }
    }
    switch outcome {
    case .success: return .done(path: item.outputPath, media: media)
    case .failure(let error):
      return .failed(code: "processing_failed", message: "the engine failed: \(error)", retryable: false)
    }
  }

  /// A local copy of `url`: this server's own file, or a download from a loopback address.
  /// Anything else is unreachable by design (nil).
  static func fetch(_ url: String, to path: String, service: ReferenceService) async -> String? {
    if let own = await service.ownFile(url) {
      if case .found(let stored, _) = own { return stored }
      return nil
    }
    guard let host = URLComponents(string: url)?.host, ReferenceServer.isLoopback(host) else { return nil }
    guard let data = await Fetcher.get(url, limit: maxVideoBytes) else { return nil }
    do { try data.write(to: URL(fileURLWithPath: path)) } catch { return nil }
    return path
  }
}

/// Outgoing HTTP of the reference server (loopback fetches and webhook deliveries).
enum Fetcher {
  static func get(_ url: String, limit: Int) async -> Data? {
    do {
      let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
      guard response.status.code == 200 else { return nil }
      return Data(try await response.body.collect(upTo: limit).readableBytesView)
    } catch {
      return nil
    }
  }

  /// POSTs `body`; the status code, or nil when nothing answered within 5 s.
  static func post(_ url: String, body: Data, headers: [String: String]) async -> Int? {
    guard let host = URLComponents(string: url)?.host, ReferenceServer.isLoopback(host) else { return nil }
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    for (k, v) in headers { request.headers.add(name: k, value: v) }
    request.body = .bytes(ByteBuffer(bytes: body))
    do {
      let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
      _ = try? await response.body.collect(upTo: 1 << 20)
      return Int(response.status.code)
    } catch {
      return nil
    }
  }
}

/// Stops a running reference server the graceful way: it stops accepting, finishes what is
/// open, and `run` returns. `stop()` may come before the server has started; it then stops as
/// soon as it does.
///
/// `Sendable`: its state sits behind a `Mutex`.
public final class ReferenceServerStopper: Sendable {
  private struct State {
    var group: ServiceGroup?
    var requested = false
  }

  private let state = Mutex(State())

  public init() {}

  /// Asks the server to shut down; returns at once.
  public func stop() {
    let group = state.withLock { s -> ServiceGroup? in
      s.requested = true
      return s.group
    }
    if let group { Task { await group.triggerGracefulShutdown() } }
  }

  package func attach(_ group: ServiceGroup) async {
    let requested = state.withLock { s -> Bool in
      s.group = group
      return s.requested
    }
    if requested { Task { await group.triggerGracefulShutdown() } }
  }
}
