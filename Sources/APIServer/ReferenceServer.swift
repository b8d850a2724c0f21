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
  /// The API it speaks: mattegate's contract, or one vendor's dialect over the same engine,
  /// credits and fault controls.
  public var dialect: APIDialect = .contract
  /// How long a webhook delivery waits for the receiver's answer before it counts as failed
  /// (and is retried on the simulated clock). Tests on a loaded machine set a long one.
  public var webhookTimeoutSeconds: Double = 5

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
      webhookSecret: options.webhookSecret, webhookTimeout: options.webhookTimeoutSeconds)
    var logger = Logger(label: "mattegate.serve-api")
    // Shutting down by cancellation logs errors for open connections; only critical ones matter here.
    logger.logLevel = .critical
    let app = Application(
      router: router(options.dialect, service: service),
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

  /// The parts of a multipart upload, or the error reply (400 malformed, 413 too large).
  static func formParts(_ request: Request, requestID: String) async -> Result<[MultipartForm.Part], Reply> {
    guard let contentType = request.headers[.contentType],
      let boundary = MultipartForm.boundary(contentType: contentType)
    else {
      return .failure(
        .error(400, "invalid_request", "the body must be multipart/form-data with a boundary", requestID: requestID))
    }
    let body: Data
    do {
      body = Data(try await request.body.collect(upTo: ReferenceService.maxVideoBytes + 65536).readableBytesView)
    } catch {
      return .failure(
        .error(
          413, "payload_too_large", "the upload exceeds \(ReferenceService.maxVideoBytes) bytes", requestID: requestID,
          details: ["max_bytes": .int(ReferenceService.maxVideoBytes)]))
    }
    switch MultipartForm.parse(body, boundary: boundary) {
    case .success(let p): return .success(p)
    case .failure(let e):
      return .failure(.error(400, "invalid_request", "multipart body: \(e.message)", requestID: requestID))
    }
  }

  static func upload(_ request: Request, key: String?, service: ReferenceService, requestID: String) async
    -> Reply
  {
    let parts: [MultipartForm.Part]
    switch await formParts(request, requestID: requestID) {
    case .success(let p): parts = p
    case .failure(let reply): return reply
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

  static func download(_ id: String, token: String?, request: Request, service: ReferenceService, requestID: String)
    async -> Reply
  {
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
      let response = try await HTTPClient.deadlineOnly.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
      guard response.status.code == 200 else { return nil }
      return Data(try await response.body.collect(upTo: limit).readableBytesView)
    } catch {
      return nil
    }
  }

  /// POSTs `body`; the status code, or nil when nothing answered within `timeout` seconds.
  static func post(_ url: String, body: Data, headers: [String: String], timeout: Double) async -> Int? {
    guard let host = URLComponents(string: url)?.host, ReferenceServer.isLoopback(host) else { return nil }
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    for (k, v) in headers { request.headers.add(name: k, value: v) }
    request.body = .bytes(ByteBuffer(bytes: body))
    do {
      let response = try await HTTPClient.deadlineOnly.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
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
