import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Services

/// The API a reference server speaks.
public enum APIDialect: String, CaseIterable, Sendable {
  /// mattegate's own job API (docs/api).
  case contract
  /// RemoveBGVideo's documented API (docs/providers.md).
  case removebgvideo
  /// VideoBGRemover's documented API.
  case videobgremover
  /// A Replicate-style prediction server: the hosted API and a Cog container's.
  case replicate
}

/// What every route handler gets besides the request: the request id and the operation.
struct CallInfo: Sendable {
  var requestID: String
  var operation: String
}

/// Registers routes on Hummingbird's router with what every route of the reference server
/// shares: a request id, the dialect's key check, the armed request faults (500, 503, 429,
/// delays, a dropped connection after commit) and the dialect's error shape.
struct Endpoints {
  let router: Router<APIContext>
  let service: ReferenceService
  let dialect: APIDialect

  typealias Handler = @Sendable (Request, APIContext, CallInfo) async -> Reply

  func add(
    _ method: HTTPRequest.Method, _ path: RouterPath, _ operation: String, authenticated: Bool = true,
    _ handler: @escaping Handler
  ) {
    let service = self.service
    let dialect = self.dialect
    router.on(path, method: method) { request, context -> Response in
      let requestID = await service.requestID()
      var reply: Reply
      var drop = false
      // The test controls take X-Api-Key in every dialect.
      if authenticated
        && !Self.authorized(request, dialect: operation.hasPrefix("test") ? .contract : dialect, key: service.apiKey)
      {
        reply = .error(401, "invalid_api_key", "missing or unknown API key", requestID: requestID)
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
        case "drop_before_commit":
          // The request is lost on the way in: nothing is done, no answer comes.
          try? await context.channel.close()
          throw ServerError("connection dropped before commit (fault drop_before_commit)")
        case "rate_limit_bare":
          // RemoveBGVideo does not document Retry-After: a 429 without it.
          reply = .error(429, "rate_limited", "injected fault rate_limit_bare", requestID: requestID)
        default:
          if fault?.fault == "delay_response" {
            try? await Task.sleep(for: .milliseconds(fault?.delayMs ?? 1000))
          }
          drop = fault?.fault == "drop_after_commit"
          reply = await handler(request, context, CallInfo(requestID: requestID, operation: operation))
        }
      }
      if drop {
        // The operation is committed; the connection closes without an answer.
        try? await context.channel.close()
        throw ServerError("connection dropped after commit (fault drop_after_commit)")
      }
      return Self.response(await Self.shaped(reply, dialect: dialect, service: service), requestID: requestID)
    }
  }

  static func authorized(_ request: Request, dialect: APIDialect, key: String) -> Bool {
    switch dialect {
    case .replicate: request.headers[.authorization] == "Bearer \(key)"
    default: request.headers[HTTPField.Name("X-Api-Key")!] == key
    }
  }

  /// The contract's error body, in the dialect's shape.
  static func shaped(_ reply: Reply, dialect: APIDialect, service: ReferenceService) async -> Reply {
    guard reply.status >= 400, reply.contentType == "application/json",
      let body = try? JobAPI.decoder.decode(JobAPI.ErrorBody.self, from: reply.body)
    else { return reply }
    var out = reply
    switch dialect {
    case .contract:
      return reply
    case .videobgremover:
      out.body = Self.json(["error": body.error.message])
    case .replicate:
      out.body = Self.json(["detail": body.error.message, "title": body.error.code, "status": reply.status])
    case .removebgvideo:
      // Two documented shapes: `{"error":{code,message,request_id}}` and, in places, a bare string.
      if await service.variant.errorShape == "string" {
        out.body = Self.json(["error": body.error.message])
      } else {
        out.body = Self.json([
          "error": ["code": body.error.code, "message": body.error.message, "request_id": body.error.requestId]
        ])
      }
    }
    return out
  }

  static func json(_ object: Any) -> Data {
    (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
  }

  static func response(_ reply: Reply, requestID: String) -> Response {
    var fields = HTTPFields()
    fields[HTTPField.Name("X-Request-Id")!] = requestID
    if !reply.contentType.isEmpty { fields[.contentType] = reply.contentType }
    for (name, value) in reply.headers { fields[HTTPField.Name(name)!] = value }
    return Response(
      status: HTTPResponse.Status(code: reply.status), headers: fields,
      body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
  }
}

/// Answers the router's own 404 and 405 in the dialect's error shape.
struct RouteErrors: RouterMiddleware {
  typealias Context = APIContext
  let service: ReferenceService
  let dialect: APIDialect

  func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response)
    async throws -> Response
  {
    do {
      return try await next(request, context)
    } catch let error as HTTPError {
      let requestID = await service.requestID()
      let status = Int(error.status.code)
      let reply = Reply.error(
        status, status == 405 ? "method_not_allowed" : "not_found",
        "no route \(request.method.rawValue) \(request.uri.path)", requestID: requestID)
      return Endpoints.response(await Endpoints.shaped(reply, dialect: dialect, service: service), requestID: requestID)
    }
  }
}

extension ReferenceServer {
  /// The routes of `dialect`, plus the test controls and file downloads every dialect shares.
  static func router(_ dialect: APIDialect, service: ReferenceService) -> Router<APIContext> {
    let router = Router(context: APIContext.self)
    router.add(middleware: RouteErrors(service: service, dialect: dialect))
    let endpoints = Endpoints(router: router, service: service, dialect: dialect)
    sharedRoutes(endpoints)
    switch dialect {
    case .contract: contractRoutes(endpoints)
    case .removebgvideo: RemoveBGVideoDialect.routes(endpoints)
    case .videobgremover: VideoBGRemoverDialect.routes(endpoints)
    case .replicate: ReplicateDialect.routes(endpoints)
    }
    return router
  }

  static func decode<T: Decodable>(_ type: T.Type, _ request: Request, requestID: String) async -> Result<T, Reply> {
    do {
      let buffer = try await request.body.collect(upTo: 1 << 20)
      return .success(try JobAPI.decoder.decode(T.self, from: Data(buffer.readableBytesView)))
    } catch {
      return .failure(.error(400, "invalid_request", "the JSON body is malformed: \(error)", requestID: requestID))
    }
  }

  static func idempotencyKey(_ request: Request, requestID: String) -> Result<String?, Reply> {
    let key = request.headers[HTTPField.Name("Idempotency-Key")!]
    if let key, key.isEmpty || key.count > 255 || !key.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) {
      return .failure(
        .error(400, "invalid_request", "Idempotency-Key must be 1-255 visible ASCII characters", requestID: requestID))
    }
    return .success(key)
  }

  static func parameter(_ context: APIContext, _ name: String) -> String {
    context.parameters.get(name) ?? ""
  }

  /// Health, signed file downloads and the test controls: the same in every dialect.
  static func sharedRoutes(_ e: Endpoints) {
    let service = e.service
    e.add(.get, "/health", "getHealth", authenticated: false) { _, _, _ in
      .json(200, JobAPI.Health(status: "ok", version: service.version))
    }
    e.add(.get, "/v1/files/:id", "downloadFile", authenticated: false) { request, context, call in
      await download(
        parameter(context, "id"), token: request.uri.queryParameters["token"].map(String.init), request: request,
        service: service, requestID: call.requestID)
    }
    e.add(.post, "/_test/reset", "testReset") { _, _, _ in
      await service.reset()
      return Reply(status: 204, body: Data(), contentType: "")
    }
    e.add(.put, "/_test/credits", "testSetCredits") { request, _, call in
      struct Body: Decodable { var balance: Int }
      switch await decode(Body.self, request, requestID: call.requestID) {
      case .success(let body) where body.balance >= 0: return .json(200, await service.setCredits(body.balance))
      case .success: return .error(422, "validation_error", "balance must be ≥ 0", requestID: call.requestID)
      case .failure(let reply): return reply
      }
    }
    e.add(.post, "/_test/faults", "testInjectFault") { request, _, call in
      switch await decode(JobAPI.FaultSpec.self, request, requestID: call.requestID) {
      case .success(let spec):
        guard
          ReferenceService.requestFaults.union(ReferenceService.jobFaults).contains(spec.fault)
            || spec.fault == "webhook_receiver_down"
        else {
          return .error(
            422, "validation_error", "unknown fault '\(spec.fault)'", requestID: call.requestID,
            details: ["field": .string("fault")])
        }
        return .json(201, await service.arm(spec))
      case .failure(let reply): return reply
      }
    }
    e.add(.post, "/_test/clock", "testAdvanceClock") { request, _, call in
      struct Body: Decodable {
        var advanceSeconds: Double
        var freeze: Bool?
      }
      switch await decode(Body.self, request, requestID: call.requestID) {
      case .success(let body) where body.advanceSeconds >= 0:
        struct Now: Encodable { var now: String }
        return .json(200, Now(now: await service.advanceClock(body.advanceSeconds, freeze: body.freeze)))
      case .success: return .error(422, "validation_error", "advance_seconds must be ≥ 0", requestID: call.requestID)
      case .failure(let reply): return reply
      }
    }
    e.add(.get, "/_test/webhook-deliveries", "testListWebhookDeliveries") { _, _, _ in
      .json(200, await service.webhookDeliveries())
    }
    // Which reading of a vendor's contradictory docs this server follows.
    e.add(.put, "/_test/variant", "testSetVariant") { request, _, call in
      switch await decode(DialectVariant.self, request, requestID: call.requestID) {
      case .success(let variant):
        if let problem = variant.problem {
          return .error(422, "validation_error", problem, requestID: call.requestID)
        }
        await service.setVariant(variant)
        return .json(200, variant)
      case .failure(let reply): return reply
      }
    }
    // A file staged on the server (a background picture reachable by URL, for services that
    // take `bg_image_url` only); answers its signed URL.
    e.add(.post, "/_test/files", "testStageFile") { request, _, call in
      guard let data = try? await request.body.collect(upTo: ReferenceService.maxImageBytes) else {
        return .error(413, "payload_too_large", "staged files are limited to 20 MB", requestID: call.requestID)
      }
      let type = request.headers[.contentType] ?? "application/octet-stream"
      struct Staged: Encodable { var url: String }
      return .json(201, Staged(url: await service.stageFile(Data(data.readableBytesView), contentType: type)))
    }
    e.add(.get, "/_test/jobs", "testListAllJobs") { _, _, _ in
      .json(200, await service.allJobs())
    }
  }

  /// mattegate's own contract (docs/api).
  static func contractRoutes(_ e: Endpoints) {
    let service = e.service
    e.add(.get, "/v1/models", "listModels") { _, _, _ in .json(200, await service.capabilities()) }
    e.add(.post, "/v1/uploads", "createUpload") { request, _, call in
      switch idempotencyKey(request, requestID: call.requestID) {
      case .success(let key): return await upload(request, key: key, service: service, requestID: call.requestID)
      case .failure(let reply): return reply
      }
    }
    e.add(.get, "/v1/uploads/:id", "getUpload") { _, context, call in
      await service.getUpload(parameter(context, "id"), requestID: call.requestID)
    }
    e.add(.post, "/v1/jobs", "createJob") { request, _, call in
      let key: String?
      switch idempotencyKey(request, requestID: call.requestID) {
      case .success(let k): key = k
      case .failure(let reply): return reply
      }
      switch await decode(JobAPI.CreateJobRequest.self, request, requestID: call.requestID) {
      case .success(let body): return await service.createJob(body, key: key, requestID: call.requestID)
      case .failure(let reply): return reply
      }
    }
    e.add(.get, "/v1/jobs", "listJobs") { request, _, call in
      let query = request.uri.queryParameters
      return await service.listJobs(
        limit: query["limit"].flatMap { Int(String($0)) } ?? 20,
        offset: query["offset"].flatMap { Int(String($0)) } ?? 0,
        status: query["status"].map(String.init), requestID: call.requestID)
    }
    e.add(.get, "/v1/jobs/:id", "getJob") { _, context, call in
      await service.getJob(parameter(context, "id"), requestID: call.requestID)
    }
    e.add(.delete, "/v1/jobs/:id", "deleteJob") { _, context, call in
      await service.deleteJob(parameter(context, "id"), requestID: call.requestID)
    }
    e.add(.post, "/v1/jobs/:id/start", "startJob") { request, context, call in
      switch idempotencyKey(request, requestID: call.requestID) {
      case .success(let key):
        return await service.startJob(parameter(context, "id"), key: key, requestID: call.requestID)
      case .failure(let reply): return reply
      }
    }
    e.add(.post, "/v1/jobs/:id/cancel", "cancelJob") { _, context, call in
      await service.cancelJob(parameter(context, "id"), requestID: call.requestID)
    }
    e.add(.get, "/v1/jobs/:id/result", "getJobResult") { _, context, call in
      await service.result(parameter(context, "id"), requestID: call.requestID)
    }
    e.add(.get, "/v1/credits", "getCredits") { _, _, _ in .json(200, await service.credits()) }
  }
}
