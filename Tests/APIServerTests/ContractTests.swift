import APIServer
import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import MediaIO
import NIOCore
import NIOHTTP1
import Testing

@testable import Services

/// The reference server's contract rules that the client does not exercise by itself.
@Suite(.serialized) struct ContractTests {
  /// semantics.md: a 12.3 s clip is billed 13 s: original 13, light 10, pro 39.
  @Test func creditArithmetic() {
    #expect(JobAPI.charge(durationSeconds: 12.3, creditsPerMinute: 60) == (13, 13))
    #expect(JobAPI.charge(durationSeconds: 12.3, creditsPerMinute: 45) == (13, 10))
    #expect(JobAPI.charge(durationSeconds: 12.3, creditsPerMinute: 180) == (13, 39))
    #expect(JobAPI.charge(durationSeconds: 0.12, creditsPerMinute: 45) == (1, 1))
    #expect(JobAPI.charge(durationSeconds: 60, creditsPerMinute: 45) == (60, 45))
  }

  /// RFC 4231, test case 2.
  @Test func hmacMatchesRFC4231() {
    #expect(
      FileHash.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
  }

  func upload(_ server: LiveServer) async throws -> String {
    let provider = server.provider()
    let key = UUID().uuidString
    let request = try server.request(try server.config(), key: key)
    let boundary = "b-\(key)"
    var body = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nsource_video\r\n".utf8)
    body.append(
      Data(
        "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"
          .utf8))
    body.append(try Data(contentsOf: URL(fileURLWithPath: request.sourcePath)))
    body.append(Data("\r\n--\(boundary)--\r\n".utf8))
    let answer = try await provider.call(
      "POST", "/v1/uploads", body: body, contentType: "multipart/form-data; boundary=\(boundary)", operation: "test")
    #expect(answer.status == 201)
    let upload = try JobAPI.decoder.decode(JobAPI.Upload.self, from: answer.body)
    #expect(upload.media?.width == 32 && upload.media?.height == 16 && upload.media?.durationSeconds == 0.12)
    return upload.url
  }

  @Test func validationIdempotencyAndStateRules() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    let url = try await upload(server)
    let provider = server.provider()
    func create(_ json: String, key: String? = nil) async throws -> (Int, String?) {
      let a = try await provider.call(
        "POST", "/v1/jobs", body: Data(json.utf8), contentType: "application/json", idempotencyKey: key,
        operation: "test")
      return (a.status, HTTPProvider.errorCode(a.body))
    }
    #expect(try await create(#"{"video_url":"\#(url)","output_format":"mp4"}"#) == (422, "format_incompatible"))
    #expect(
      try await create(#"{"video_url":"\#(url)","bg_type":"image","output_format":"mp4"}"#)
        == (422, "bg_image_url_required"))
    #expect(
      try await create(##"{"video_url":"\##(url)","bg_type":"transparent","bg_color":"#00FF00"}"##)
        == (422, "conflicting_background"))
    #expect(try await create(#"{"video_url":"\#(url)","text_prompt":"hair"}"#) == (422, "text_prompt_unsupported"))
    #expect(try await create(#"{"video_url": 5}"#) == (400, "invalid_request"))
    // Rejected requests are not recorded: the same key works once the body is fixed.
    #expect(
      try await create(#"{"video_url":"\#(url)","output_format":"mp4"}"#, key: "k1") == (422, "format_incompatible"))
    #expect(try await create(#"{"video_url":"\#(url)"}"#, key: "k1") == (201, nil))
    #expect(try await create(#"{"video_url":"\#(url)","model":"pro"}"#, key: "k1") == (422, "idempotency_key_reused"))
    let replay = try await provider.call(
      "POST", "/v1/jobs", body: Data(#"{"video_url":"\#(url)"}"#.utf8), contentType: "application/json",
      idempotencyKey: "k1", operation: "test")
    #expect(replay.status == 201 && replay.headers.first(name: "Idempotent-Replayed") == "true")
    let job = try JobAPI.decoder.decode(JobAPI.Job.self, from: replay.body)
    #expect(try await server.jobs().total == 1)
    // State rules: cancel a created job, then start is 409 and DELETE works.
    #expect(try await provider.call("POST", "/v1/jobs/\(job.id)/cancel", operation: "test").status == 200)
    #expect(try await provider.call("POST", "/v1/jobs/\(job.id)/cancel", operation: "test").status == 200)
    let start = try await provider.call("POST", "/v1/jobs/\(job.id)/start", operation: "test")
    #expect(start.status == 409 && HTTPProvider.errorCode(start.body) == "invalid_state")
    #expect(try await provider.call("GET", "/v1/jobs/\(job.id)/result", operation: "test").status == 409)
    #expect(try await provider.call("DELETE", "/v1/jobs/\(job.id)", operation: "test").status == 204)
    #expect(try await provider.call("DELETE", "/v1/jobs/\(job.id)", operation: "test").status == 404)
    // Files: a bad token is 403; a range is honoured.
    let forbidden = try await HTTPClient.deadlineOnly.execute(
      HTTPClientRequest(url: url.replacingOccurrences(of: "token=", with: "token=x")), timeout: .seconds(600))
    #expect(forbidden.status.code == 403)
    var ranged = HTTPClientRequest(url: url)
    ranged.headers.add(name: "Range", value: "bytes=4-11")
    let part = try await HTTPClient.deadlineOnly.execute(ranged, timeout: .seconds(600))
    let bytes = Data(try await part.body.collect(upTo: 1 << 20).readableBytesView)
    let whole = try Data(contentsOf: URL(fileURLWithPath: try server.source()))
    #expect(part.status.code == 206 && bytes == whole.subdata(in: 4..<12))
  }

  /// Inputs are fetched from the server itself or loopback only; anything else fails the job.
  @Test func nonLoopbackInputsFailWithInputUnreachable() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    let provider = server.provider()
    let created = try await provider.call(
      "POST", "/v1/jobs", body: Data(#"{"video_url":"http://192.0.2.7/clip.mp4","auto_start":true}"#.utf8),
      contentType: "application/json", operation: "test")
    let id = try JobAPI.decoder.decode(JobAPI.Job.self, from: created.body).id
    var job = try await server.job(id)
    for _ in 0..<200 where !job.isTerminal {
      try await Task.sleep(for: .milliseconds(20))
      job = try await server.job(id)
    }
    #expect(job.status == "failed" && job.error?.code == "input_unreachable" && job.error?.retryable == true)
    #expect(job.credits.state == "refunded")
  }
}

/// Records webhook deliveries on a loopback port.
actor WebhookReceiver {
  struct Delivery: Sendable {
    var event: String
    var id: String
    var timestamp: String
    var signature: String
    var body: Data
  }
  var received: [Delivery] = []
  func record(_ d: Delivery) { received.append(d) }
}

@Suite(.serialized) struct WebhookTests {
  @Test func deliveriesAreSignedAndRetriedOnTheSimulatedClock() async throws {
    let receiver = WebhookReceiver()
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let app = Application(
      responder: CallbackResponder<BasicRequestContext> { request, _ in
        let body = Data(try await request.body.collect(upTo: 1 << 22).readableBytesView)
        await receiver.record(
          .init(
            event: request.headers[HTTPField.Name("X-Webhook-Event")!] ?? "",
            id: request.headers[HTTPField.Name("X-Webhook-Delivery-Id")!] ?? "",
            timestamp: request.headers[HTTPField.Name("X-Webhook-Timestamp")!] ?? "",
            signature: request.headers[HTTPField.Name("X-Webhook-Signature")!] ?? "", body: body))
        return Response(status: .ok)
      }, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
      onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) })
    let receiverTask = Task { try await app.run() }
    defer { receiverTask.cancel() }
    var iterator = ports.makeAsyncIterator()
    let receiverPort = try #require(await iterator.next())

    let server = try await LiveServer.start(webhookSecret: "whsec-test")
    defer { server.stop() }
    let url = try await ContractTests().upload(server)
    // The receiver is down for the first attempt (job.started).
    try await server.fault(#"{"fault":"webhook_receiver_down"}"#)
    let provider = server.provider()
    let created = try await provider.call(
      "POST", "/v1/jobs",
      body: Data(
        #"{"video_url":"\#(url)","auto_start":true,"webhook_url":"http://127.0.0.1:\#(receiverPort)/hook"}"#.utf8),
      contentType: "application/json", operation: "test")
    let id = try JobAPI.decoder.decode(JobAPI.Job.self, from: created.body).id
    var job = try await server.job(id)
    for _ in 0..<400
    where job.status != "completed" || job.webhook?.deliveries.count != 2
      || job.webhook?.deliveries.contains(where: { $0.attempts == 0 }) == true
    {
      try await Task.sleep(for: .milliseconds(20))
      job = try await server.job(id)
    }
    #expect(job.status == "completed")
    var deliveries = try JobAPI.decoder.decode(
      [JobAPI.WebhookDelivery].self, from: try await server.send(.GET, "/_test/webhook-deliveries").1)
    #expect(deliveries.map(\.event) == ["job.started", "job.completed"])
    #expect(deliveries.map(\.state) == ["pending", "delivered"])
    #expect(deliveries[0].attempts == 1 && deliveries[1].attempts == 1)
    // 10 s later (simulated) the first delivery is retried and arrives, with the same id.
    _ = try await server.send(.POST, "/_test/clock", json: #"{"advance_seconds":10}"#)
    for _ in 0..<200 where deliveries[0].state != "delivered" {
      try await Task.sleep(for: .milliseconds(20))
      deliveries = try JobAPI.decoder.decode(
        [JobAPI.WebhookDelivery].self, from: try await server.send(.GET, "/_test/webhook-deliveries").1)
    }
    #expect(deliveries[0].state == "delivered" && deliveries[0].attempts == 2)
    let received = await receiver.received
    #expect(received.map(\.event) == ["job.completed", "job.started"])
    #expect(received.map(\.id) == [deliveries[1].deliveryId, deliveries[0].deliveryId])
    for d in received {
      let expected = FileHash.hmacSHA256(
        key: Array("whsec-test".utf8), message: Array(Data((d.timestamp + ".").utf8) + d.body))
      #expect(d.signature == "sha256=" + expected)
      let event = try JSONSerialization.jsonObject(with: d.body) as? [String: Any]
      #expect(event?["type"] as? String == d.event && event?["id"] as? String == d.id)
    }
  }
}
