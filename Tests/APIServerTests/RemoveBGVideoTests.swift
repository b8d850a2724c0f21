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
  func removeBGVideo(deadline: Double = 900, log: RequestLog = RequestLog()) -> RemoveBGVideoProvider {
    RemoveBGVideoProvider(settings: settings(deadline: deadline), log: log)
  }

  /// Every job the server holds, in the contract's shape (the test control sees all dialects).
  func allJobs() async throws -> [JobAPI.Job] {
    try JobAPI.decoder.decode([JobAPI.Job].self, from: try await send(.GET, "/_test/jobs").1)
  }

  func variant(_ json: String) async throws {
    let (status, body) = try await send(.PUT, "/_test/variant", json: json)
    precondition(status == 200, "variant not set: \(String(decoding: body, as: UTF8.self))")
  }

  /// A 32×16 gray PNG, the source's size.
  func picture() throws -> String {
    let path = folder + "/background.png"
    try PNGFile.write(RGBImage(width: 32, height: 16, pixels: [UInt8](repeating: 40, count: 32 * 16 * 3)), to: path)
    return path
  }

  /// Stages `path` on the server and answers its URL (a background reachable by URL).
  func stage(_ path: String) async throws -> String {
    var request = HTTPClientRequest(url: base + "/_test/files")
    request.method = .POST
    request.headers.add(name: "X-Api-Key", value: Self.apiKey)
    request.headers.add(name: "Content-Type", value: "image/png")
    request.body = .bytes(ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: path))))
    let response = try await HTTPClient.deadlineOnly.execute(request, timeout: .seconds(600))
    let body = Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
    let object = try JSONSerialization.jsonObject(with: body) as? [String: Any]
    return try #require(object?["url"] as? String)
  }
}

/// The removebgvideo provider against `serve-api --dialect removebgvideo` over real HTTP on
/// loopback: each documented step, each contradiction read both ways, and each fault.
@Suite(.serialized) struct RemoveBGVideoTests {
  /// A 0.12 s clip is billed 1 s; light costs 45 credits a minute, so 45 × 1 / 60 = 0.75.
  @Test func transparentJobRunsEndToEndAndIsChargedExactly() async throws {
    let server = try await LiveServer.start(dialect: .removebgvideo)
    defer { server.stop() }
    let log = RequestLog()
    let provider = server.removeBGVideo(log: log)
    let config = try server.config(model: "light")
    try provider.validate(config)
    try await provider.preflight([config])
    var request = try server.request(config, key: "run1.clip-1.A")
    request.owner = "team-7"
    let outcome = try await provider.submit(request)
    let reader = try MediaInput.open(outcome.outputPath, options: ReadOptions(rgb: .none, alpha: .alphaChannel))
    #expect(reader.size.width == 32 && reader.size.height == 16)
    #expect(try reader.nextFrame()?.alpha != nil)
    #expect(outcome.creditsCharged == 0.75 && outcome.credits == 0.75)
    let jobs = try await server.allJobs()
    #expect(jobs.count == 1 && jobs[0].id == outcome.providerJobID && jobs[0].status == "completed")
    #expect(jobs[0].metadata == ["mattegate_key": "run1.clip-1.A", "owner": "team-7"])
    #expect(jobs[0].settings.model == "light" && jobs[0].settings.bgType == "transparent")
    #expect(provider.retryLog.isEmpty)
    // The operational log: every step, the service's request id, and no secret anywhere.
    let entries = log.entries
    let paths = entries.map { "\($0.method) \($0.path.split(separator: "?").first ?? "")" }
    #expect(paths.first == "GET /api/pricing")
    #expect(paths.contains("POST /v1/uploads") && paths.contains("POST /v1/jobs"))
    #expect(paths.contains("POST /v1/jobs/\(outcome.providerJobID)/start"))
    #expect(paths.contains("GET /api/download/\(outcome.providerJobID)") == false)  // output_url was fresh
    #expect(entries.allSatisfy { $0.status == 200 || $0.status == 201 })
    #expect(entries.allSatisfy { $0.requestID != nil })
    let download = try #require(entries.first { $0.path.contains("/v1/files/") })
    #expect(download.path.contains("token=REDACTED"))
    let text = String(decoding: try JSONEncoder().encode(entries), as: UTF8.self)
    #expect(!text.contains(LiveServer.apiKey))
  }

  /// `#09A246` goes out as [0.035, 0.635, 0.275] and the server reads back exactly #09A246; the
  /// flat fields and `pending` are one reading, the `background{}` object, the preset
  /// vocabulary (`custom`), `created` and string errors the other.
  @Test(arguments: [false, true])
  func colourBackgroundInBothReadings(other: Bool) async throws {
    #expect(RemoveBGVideoProvider.normalizedColor("#09A246") == [0.035, 0.635, 0.275])
    let server = try await LiveServer.start(dialect: .removebgvideo)
    defer { server.stop() }
    if other {
      try await server.variant(
        #"{"status_vocabulary":"created","error_shape":"string","bg_type_vocabulary":"preset","background_form":"object"}"#
      )
    }
    let provider = server.removeBGVideo()
    let config = try server.config(
      model: "original", format: "mp4", background: "bg_type: color\nbg_color: \"#09A246\"")
    let outcome = try await provider.submit(try server.request(config))
    let jobs = try await server.allJobs()
    #expect(jobs.count == 1 && jobs[0].status == "completed")
    #expect(jobs[0].settings.bgType == "color" && jobs[0].settings.bgColor == "#09A246")
    let reader = try MediaInput.open(outcome.outputPath, options: ReadOptions(rgb: .eight))
    #expect(reader.size.width == 32)
    // original: 60 a minute × 1 s = 1 credit.
    #expect(outcome.creditsCharged == 1)
    #expect(
      provider.retryLog
        == (other ? ["POST /v1/jobs: bg_type 'color' refused; sending 'custom' (the preset vocabulary)"] : []))
  }

  /// A picture: refused as an upload (video types only, as documented) → one clear error
  /// asking for bg_image_url and no job; accepted when the server takes pictures; and sent by
  /// URL when the config gives bg_image_url, with no upload of it.
  @Test func backgroundPictureByUploadOrByURL() async throws {
    let server = try await LiveServer.start(dialect: .removebgvideo)
    defer { server.stop() }
    let picture = try server.picture()
    let byFile = try server.config(format: "mp4", background: "bg_type: image\nbg_image: \(picture)")
    let refused = await #expect(throws: ProviderError.self) {
      try await server.removeBGVideo().submit(try server.request(byFile))
    }
    #expect(refused?.code == "bg_image_upload_refused")
    #expect(refused?.message.contains("set bg_image_url in \(byFile.file)") == true)
    #expect(refused?.message.contains("HTTP 415") == true)
    #expect(try await server.allJobs().isEmpty)

    try await server.variant(#"{"image_uploads":true}"#)
    _ = try await server.removeBGVideo().submit(try server.request(byFile))
    var jobs = try await server.allJobs()
    #expect(jobs.count == 1 && jobs[0].status == "completed" && jobs[0].settings.bgType == "image")

    try await server.variant(#"{"image_uploads":false}"#)
    let url = try await server.stage(picture)
    let byURL = try server.config(
      format: "mp4", background: "bg_type: image\nbg_image: \(picture)\nbg_image_url: \(url)")
    let log = RequestLog()
    _ = try await server.removeBGVideo(log: log).submit(try server.request(byURL))
    jobs = try await server.allJobs()
    #expect(jobs.count == 2 && jobs[1].status == "completed" && jobs[1].settings.bgImageUrl == url)
    #expect(log.entries.filter { $0.path == "/v1/uploads" }.count == 1)  // the source only
  }

  /// The create is committed but its answer is lost: the job is found by our key in
  /// `GET /v1/jobs`, so there is one job and one charge. The same for a lost start answer.
  @Test(arguments: ["createJob", "startJob"])
  func aLostAnswerMakesNoSecondJob(operation: String) async throws {
    let server = try await LiveServer.start(dialect: .removebgvideo)
    defer { server.stop() }
    try await server.fault(#"{"fault":"drop_after_commit","operation":"\#(operation)"}"#)
    let provider = server.removeBGVideo()
    let outcome = try await provider.submit(try server.request(try server.config()))
    let jobs = try await server.allJobs()
    #expect(jobs.count == 1 && jobs[0].id == outcome.providerJobID && jobs[0].status == "completed")
    #expect(jobs[0].credits.charged == 1 && jobs[0].credits.state == "charged")
    if operation == "createJob" {
      #expect(
        provider.retryLog == [
          "POST /v1/jobs: no answer; job \(outcome.providerJobID) carries our key, so it is not created again"
        ])
    } else {
      #expect(
        provider.retryLog == ["POST /v1/jobs/\(outcome.providerJobID)/start: no answer; the job reads as started"])
    }
  }

  /// 429 with Retry-After waits what it says; 429 without (RemoveBGVideo documents none) backs
  /// off; a 503 on create looks for the key first; a 500 on start reads the status first.
  @Test func rateLimitsAndServerErrorsAreRetriedWithoutDuplicates() async throws {
    let server = try await LiveServer.start(dialect: .removebgvideo)
    defer { server.stop() }
    try await server.fault(#"{"fault":"rate_limit","operation":"createJob","retry_after_seconds":1}"#)
    try await server.fault(#"{"fault":"rate_limit_bare","operation":"createUpload"}"#)
    try await server.fault(#"{"fault":"http_500","operation":"startJob"}"#)
    let provider = server.removeBGVideo()
    let outcome = try await provider.submit(try server.request(try server.config()))
    let log = provider.retryLog
    #expect(
      log.contains {
        $0.hasPrefix("POST /v1/uploads: HTTP 429 rate_limited; attempt 2 after") && $0.hasSuffix("(backoff)")
      })
    #expect(log.contains("POST /v1/jobs: HTTP 429; attempt 2 after 1.00 s (Retry-After)"))
    #expect(
      log.contains { $0.hasPrefix("POST /v1/jobs/\(outcome.providerJobID)/start: HTTP 500 and not started; attempt 2") }
    )
    try await server.fault(#"{"fault":"http_503","operation":"createJob"}"#)
    let second = try await provider.submit(try server.request(try server.config()))
    let jobs = try await server.allJobs()
    #expect(jobs.count == 2 && jobs.allSatisfy { $0.status == "completed" && $0.credits.charged == 1 })
    #expect(Set(jobs.map(\.id)) == [outcome.providerJobID, second.providerJobID])
  }

  /// A failed job carries the vendor's text word for word and is not submitted again.
  @Test func aFailedJobKeepsTheVendorsTextAndIsNotRetried() async throws {
    let server = try await LiveServer.start(dialect: .removebgvideo)
    defer { server.stop() }
    try await server.fault(#"{"fault":"job_fail"}"#)
    let error = await #expect(throws: ProviderError.self) {
      try await server.removeBGVideo().submit(try server.request(try server.config()))
    }
    #expect(error?.code == "job_failed" && error?.message == "failed on purpose (job_fail fault)")
    #expect(error?.providerJobID != nil)
    let jobs = try await server.allJobs()
    #expect(jobs.count == 1 && jobs[0].status == "failed" && jobs[0].credits.charged == 0)
  }

  /// 402 on start, in both error shapes: the clip fails saying what it needed, and the run
  /// submits nothing more (no request at all).
  @Test(arguments: ["object", "string"])
  func insufficientCreditsStopFurtherSubmissions(shape: String) async throws {
    let server = try await LiveServer.start(dialect: .removebgvideo)
    defer { server.stop() }
    try await server.variant(#"{"error_shape":"\#(shape)"}"#)
    #expect(try await server.send(.PUT, "/_test/credits", json: #"{"balance":0}"#).0 == 200)
    let log = RequestLog()
    let provider = server.removeBGVideo(log: log)
    let error = await #expect(throws: ProviderError.self) {
      try await provider.submit(try server.request(try server.config()))
    }
    #expect(error?.code == "insufficient_credits")
    #expect(error?.message.contains("needs 0.75 credits (45 a minute × 1 s)") == true)
    #expect(error?.message.contains("Job needs 1 credits, 0 available.") == true)
    let requests = log.entries.count
    let second = await #expect(throws: ProviderError.self) {
      try await provider.submit(try server.request(try server.config()))
    }
    #expect(second?.code == "not_submitted" && log.entries.count == requests)
    #expect(try await server.allJobs().count == 1)
  }

  /// An output URL that has expired (the clock moved 25 h) is replaced by /api/download's.
  @Test func anExpiredOutputURLIsRenewed() async throws {
    let server = try await LiveServer.start(dialect: .removebgvideo)
    defer { server.stop() }
    let provider = server.removeBGVideo()
    let outcome = try await provider.submit(try server.request(try server.config()))
    let (_, body) = try await server.send(.GET, "/v1/jobs/\(outcome.providerJobID)")
    let job = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
    let oldURL = try #require(job["output_url"] as? String)
    #expect(try await server.send(.POST, "/_test/clock", json: #"{"advance_seconds":90000}"#).0 == 200)
    let again = server.folder + "/again.webm"
    try await provider.fetchOutput(jobID: outcome.providerJobID, outputURL: oldURL, to: again, tag: nil)
    #expect(provider.retryLog == ["output of \(outcome.providerJobID): HTTP 410; a fresh URL from /api/download"])
    #expect(try FileHash.sha256(ofFile: again) == outcome.outputSHA256)
  }

  /// What the vendor does not offer is refused before anything is uploaded.
  @Test func modelsAndFormatsItDoesNotOfferAreRefusedFirst() async throws {
    let server = try await LiveServer.start(dialect: .removebgvideo)
    defer { server.stop() }
    let provider = server.removeBGVideo()
    let model = #expect(throws: ConfigError.self) { try provider.validate(try server.config(model: "soft-keyer")) }
    #expect(model?.field == "model" && model?.description.contains("does not offer model 'soft-keyer'") == true)
    let format = #expect(throws: ConfigError.self) { try provider.validate(try server.config(format: "gif")) }
    #expect(format?.field == "output_format")
    #expect(try await server.allJobs().isEmpty)
  }
}
