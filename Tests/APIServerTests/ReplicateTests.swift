import APIServer
import AsyncHTTPClient
import Clips
import Foundation
import MediaIO
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

@testable import Services

extension LiveServer {
  func replicate(deadline: Double = 900, log: RequestLog = RequestLog()) -> ReplicateProvider {
    ReplicateProvider(settings: settings(deadline: deadline), log: log)
  }

  func replicateConfig(
    model: String = "arielreplicate/robust_video_matting", server: String = "hosted", outputType: String = "alpha-mask"
  ) throws -> ArmConfig {
    let format = outputType == "alpha-mask" ? "matte_mp4" : "mp4"
    let background = outputType == "alpha-mask" ? "bg_type: transparent" : "bg_type: color\nbg_color: \"#00FF00\""
    return try config(
      model: model, format: format, background: background,
      extra: "provider: replicate\nreplicate:\n  server: \(server)\n  input:\n    output_type: \(outputType)\n")
  }

  /// Every prediction on the server, newest first.
  func predictions() async throws -> [[String: Any]] {
    var request = HTTPClientRequest(url: base + "/v1/predictions")
    request.headers.add(name: "Authorization", value: "Bearer \(Self.apiKey)")
    let response = try await HTTPClient.deadlineOnly.execute(request, timeout: .seconds(600))
    let body = Data(try await response.body.collect(upTo: 1 << 24).readableBytesView)
    return (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["results"] as? [[String: Any]] ?? []
  }
}

/// The replicate provider against `serve-api --dialect replicate` (hosted API and Cog routes).
@Suite(.serialized) struct ReplicateTests {
  /// An `alpha-mask` output is an MP4 whose luma is alpha, limited range: read back, it equals
  /// the ffmpeg CLI's luma expanded by hand, (Y − 16)·255/219, within a code.
  @Test(arguments: [
    "arielreplicate/robust_video_matting",
    "arielreplicate/robust_video_matting:73d2128a371922d5d1abf0712a1d974be0e4e2358cc1218e4e34714767232bac",
  ])
  func alphaMaskIsReadAsAMatte(model: String) async throws {
    let server = try await LiveServer.start(dialect: .replicate)
    defer { server.stop() }
    let log = RequestLog()
    let provider = server.replicate(log: log)
    let config = try server.replicateConfig(model: model)
    try provider.validate(config)
    try await provider.preflight([config])
    var request = try server.request(config, key: "run1.clip-1.B")
    request.owner = "team-7"
    let outcome = try await provider.submit(request)
    #expect(outcome.providerJobID.hasPrefix("pred_"))
    let created = try #require(try await server.predictions().first)
    #expect(created["metadata"] as? [String: String] == ["mattegate_key": "run1.clip-1.B", "owner": "team-7"])
    #expect(outcome.processingMS != nil)
    let createPath = log.entries.first { $0.method == "POST" && $0.path.hasSuffix("predictions") }?.path
    #expect(
      createPath
        == (model.contains(":") ? "/v1/predictions" : "/v1/models/arielreplicate/robust_video_matting/predictions"))
    let luma = try FFmpegCLI.raw8(["-i", outcome.outputPath], pixelFormat: "yuv420p")
    let frameBytes = 32 * 16 * 3 / 2
    #expect(luma.count == 3 * frameBytes)
    let reader = try MediaInput.open(outcome.outputPath, options: ReadOptions(rgb: .none, alpha: .matteLuma))
    var index = 0
    var worst = 0.0
    var opaque = 0
    while let frame = try reader.nextFrame() {
      let alpha = try #require(frame.alpha)
      for i in 0..<(32 * 16) {
        let y = Double(luma[index * frameBytes + i])
        let expected = min(255, max(0, (y - 16) * 255 / 219))
        let read = Double(alpha.samples[i]) * 255 / Double(alpha.maxValue)
        worst = max(worst, abs(read - expected))
        if read > 250 { opaque += 1 }
      }
      index += 1
    }
    #expect(index == 3 && worst <= 1, "worst difference \(worst) codes")
    #expect(opaque >= 3 * 32)  // the moving square is matted as foreground
    #expect(try await server.predictions().count == 1)
  }

  /// A create whose answer is lost after commit: found in the prediction list by our upload's
  /// URL, so one prediction; a 429 waits its Retry-After.
  @Test func aLostCreateAnswerMakesNoSecondPrediction() async throws {
    let server = try await LiveServer.start(dialect: .replicate)
    defer { server.stop() }
    try await server.fault(#"{"fault":"drop_after_commit","operation":"createJob"}"#)
    let provider = server.replicate()
    let outcome = try await provider.submit(try server.request(try server.replicateConfig()))
    #expect(try await server.predictions().count == 1)
    #expect(provider.retryLog.count == 1)
    #expect(
      provider.retryLog.first?.contains(
        "prediction \(outcome.providerJobID) holds our upload, so it is not created again") == true)
    try await server.fault(#"{"fault":"rate_limit","operation":"createJob","retry_after_seconds":1}"#)
    let second = server.replicate()
    _ = try await second.submit(try server.request(try server.replicateConfig()))
    #expect(second.retryLog.contains { $0.hasSuffix("HTTP 429; attempt 2 after 1.00 s (Retry-After)") })
    #expect(try await server.predictions().count == 2)
  }

  /// A 503 on create (nothing holds our upload, so it is created again), a 429 without
  /// Retry-After, and an expired output URL renewed by reading the prediction again.
  @Test func serverErrorsRateLimitsAndExpiredOutputs() async throws {
    let server = try await LiveServer.start(dialect: .replicate)
    defer { server.stop() }
    try await server.fault(#"{"fault":"http_503","operation":"createJob"}"#)
    try await server.fault(#"{"fault":"rate_limit_bare","operation":"getJob"}"#)
    let provider = server.replicate()
    let outcome = try await provider.submit(try server.request(try server.replicateConfig()))
    #expect(try await server.predictions().count == 1)
    #expect(provider.retryLog.contains { $0.contains("HTTP 503; attempt 2 after") })
    #expect(provider.retryLog.contains { $0.contains("HTTP 429; attempt 2 after") && $0.hasSuffix("(backoff)") })
    let prediction = try #require(try await server.predictions().first)
    let oldURL = try #require(prediction["output"] as? String)
    #expect(try await server.send(.POST, "/_test/clock", json: #"{"advance_seconds":90000}"#).0 == 200)
    let again = server.folder + "/again.mp4"
    let renewing = server.replicate()
    try await renewing.fetchOutput(predictionID: outcome.providerJobID, url: oldURL, to: again, tag: nil)
    #expect(renewing.retryLog == ["output of \(outcome.providerJobID): HTTP 410; a fresh URL from the prediction"])
    #expect(try FileHash.sha256(ofFile: again) == outcome.outputSHA256)
  }

  /// A failed prediction keeps the service's error text; a stalled one is canceled at the
  /// client's deadline (the server's job never moves, whatever the machine's speed).
  @Test func failedAndStalledPredictions() async throws {
    let server = try await LiveServer.start(dialect: .replicate)
    defer { server.stop() }
    try await server.fault(#"{"fault":"job_fail"}"#)
    let failed = await #expect(throws: ProviderError.self) {
      try await server.replicate().submit(try server.request(try server.replicateConfig()))
    }
    #expect(failed?.code == "job_failed" && failed?.message == "failed on purpose (job_fail fault)")
    try await server.fault(#"{"fault":"job_stall"}"#)
    let stalled = await #expect(throws: ProviderError.self) {
      try await server.replicate(deadline: 0.5).submit(try server.request(try server.replicateConfig()))
    }
    #expect(stalled?.code == "client_deadline" && stalled?.retryable == true)
    let statuses = try await server.predictions().map { $0["status"] as? String }
    #expect(statuses == ["canceled", "failed"])
  }

  /// 402: the run stops submitting; a model the service lacks is refused before any upload.
  @Test func paymentRequiredAndUnknownModels() async throws {
    let server = try await LiveServer.start(dialect: .replicate)
    defer { server.stop() }
    #expect(try await server.send(.PUT, "/_test/credits", json: #"{"balance":0}"#).0 == 200)
    let provider = server.replicate()
    let refused = await #expect(throws: ProviderError.self) {
      try await provider.submit(try server.request(try server.replicateConfig()))
    }
    #expect(refused?.code == "insufficient_credits")
    let again = await #expect(throws: ProviderError.self) {
      try await provider.submit(try server.request(try server.replicateConfig()))
    }
    #expect(again?.code == "not_submitted")
    let unknown = await #expect(throws: ConfigError.self) {
      try await server.replicate().preflight([try server.replicateConfig(model: "someone/other-model")])
    }
    #expect(unknown?.field == "model" && unknown?.description.contains("no model 'someone/other-model'") == true)
    #expect(try await server.predictions().isEmpty)
  }

  /// Cog: `PUT /predictions/{id}` with the source inline; the answer is lost after commit and
  /// the same PUT is sent again, which returns the same prediction: one prediction. The
  /// green-screen output is a composite.
  @Test func cogIsIdempotentByPredictionID() async throws {
    let server = try await LiveServer.start(dialect: .replicate)
    defer { server.stop() }
    try await server.fault(#"{"fault":"drop_after_commit","operation":"createJob"}"#)
    let provider = server.replicate()
    let config = try server.replicateConfig(model: "rvm", server: "cog", outputType: "green-screen")
    try provider.validate(config)
    try await provider.preflight([config])
    let outcome = try await provider.submit(try server.request(config, key: "run9.clip-1.B"))
    #expect(outcome.providerJobID.hasPrefix("mg-"))
    let predictions = try await server.predictions()
    #expect(predictions.count == 1 && predictions[0]["id"] as? String == outcome.providerJobID)
    #expect(provider.retryLog.contains { $0.hasPrefix("PUT /predictions/\(outcome.providerJobID): no answer") })
    let reader = try MediaInput.open(outcome.outputPath, options: ReadOptions(rgb: .eight))
    let first = try #require(try reader.nextFrame()?.rgb)
    // The corner is background: green.
    #expect(first.pixels[1] > 200 && first.pixels[0] < 60 && first.pixels[2] < 60)
  }
}
