import APIServer
import AsyncHTTPClient
import Clips
import Foundation
import MediaIO
import NIOHTTP1
import TestSupport
import Testing

@testable import Services

extension LiveServer {
  func videoBGRemover(log: RequestLog = RequestLog(), startConfirmation: Double = 30) -> VideoBGRemoverProvider {
    VideoBGRemoverProvider(settings: settings(), log: log, startConfirmation: startConfirmation)
  }
}

/// The videobgremover provider against `serve-api --dialect videobgremover` over real HTTP on
/// loopback.
@Suite(.serialized) struct VideoBGRemoverTests {
  /// Create → PUT to the signed URL → start (1 credit a second: 0.12 s bills 1) → poll →
  /// download, for each transparent format this server writes.
  @Test(arguments: [("webm", "webm_vp9"), ("mov", "mov_prores"), ("png_sequence", "png_sequence")])
  func transparentJobsRunEndToEnd(format: String, vendorFormat: String) async throws {
    let server = try await LiveServer.start(dialect: .videobgremover)
    defer { server.stop() }
    let log = RequestLog()
    let provider = server.videoBGRemover(log: log)
    let config = try server.config(model: "light", format: format)
    try provider.validate(config)
    #expect((provider.startBody(config)["background"] as? [String: String])?["transparent_format"] == vendorFormat)
    try await provider.preflight([config])
    var request = try server.request(config, key: "run1.clip-1.A")
    request.owner = "team-7"
    let outcome = try await provider.submit(request)
    // The create carried mattegate's metadata (the server echoes it in the status).
    let (_, statusBody) = try await server.send(.GET, "/v1/jobs/\(outcome.providerJobID)/status")
    let status = try JSONSerialization.jsonObject(with: statusBody) as? [String: Any]
    #expect(status?["metadata"] as? [String: String] == ["mattegate_key": "run1.clip-1.A", "owner": "team-7"])
    let reader = try MediaInput.open(outcome.outputPath, options: ReadOptions(rgb: .none, alpha: .alphaChannel))
    #expect(reader.size.width == 32 && reader.size.height == 16)
    #expect(try reader.nextFrame()?.alpha != nil)
    #expect(outcome.creditsCharged == 1 && outcome.credits == 1)
    let jobs = try await server.allJobs()
    #expect(jobs.count == 1 && jobs[0].status == "completed" && jobs[0].settings.model == "videobgremover-light")
    #expect(jobs[0].settings.outputFormat == format)
    // The signed upload URL's token never reaches the log; the key never does.
    let put = try #require(log.entries.first { $0.method == "PUT" })
    #expect(put.path.contains("/v1/uploads/put/\(outcome.providerJobID)?token=REDACTED"))
    let text = String(decoding: try JSONEncoder().encode(log.entries), as: UTF8.self)
    #expect(!text.contains(LiveServer.apiKey))
    #expect(log.entries.filter { $0.path.hasSuffix("/start") }.count == 1)
    #expect(provider.retryLog.isEmpty)
  }

  /// A colour goes as `background.color "#09A246"`; a picture as `composition.background_url`.
  @Test func colourAndPictureBackgrounds() async throws {
    let server = try await LiveServer.start(dialect: .videobgremover)
    defer { server.stop() }
    let colour = try server.config(format: "mp4", background: "bg_type: color\nbg_color: \"#09A246\"")
    _ = try await server.videoBGRemover().submit(try server.request(colour))
    let url = try await server.stage(try server.picture())
    let picture = try server.config(
      format: "mp4", background: "bg_type: image\nbg_image: \(try server.picture())\nbg_image_url: \(url)")
    _ = try await server.videoBGRemover().submit(try server.request(picture))
    let jobs = try await server.allJobs()
    #expect(jobs.count == 2 && jobs.allSatisfy { $0.status == "completed" })
    #expect(jobs[0].settings.bgType == "color" && jobs[0].settings.bgColor == "#09A246")
    #expect(jobs[1].settings.bgType == "image" && jobs[1].settings.bgImageUrl == url)
    // Without bg_image_url a picture cannot reach VideoBGRemover: refused before anything is sent.
    let byFile = try server.config(format: "mp4", background: "bg_type: image\nbg_image: \(try server.picture())")
    let refused = #expect(throws: ConfigError.self) { try server.videoBGRemover().validate(byFile) }
    #expect(refused?.field == "bg_image_url")
  }

  /// Start's answer is lost after the service committed it: the status shows the job
  /// started, so start is not sent again; one charge.
  @Test func aLostStartAnswerIsNeverFollowedByASecondStart() async throws {
    let server = try await LiveServer.start(dialect: .videobgremover)
    defer { server.stop() }
    try await server.fault(#"{"fault":"drop_after_commit","operation":"startJob"}"#)
    let log = RequestLog()
    let provider = server.videoBGRemover(log: log)
    let outcome = try await provider.submit(try server.request(try server.config()))
    let jobs = try await server.allJobs()
    #expect(jobs.count == 1 && jobs[0].status == "completed" && jobs[0].credits.charged == 1)
    #expect(log.entries.filter { $0.path.hasSuffix("/start") }.count == 1)
    // Processing or already completed, depending on how fast the engine is: either shows the start.
    let notes = provider.retryLog
    #expect(notes.count == 1, "\(notes)")
    #expect(
      notes.first.map {
        ["processing", "completed"].map { state in
          "POST /v1/jobs/\(outcome.providerJobID)/start: no answer; the job reads \(state), so start is not sent again"
        }.contains($0)
      } == true, "\(notes)")
  }

  /// Start is lost before the service saw it: the job stays `uploaded`, and the clip fails as
  /// unconfirmed rather than send the charging call twice; nothing is charged.
  @Test func anUnconfirmedStartFailsTheClipWithoutASecondStart() async throws {
    let server = try await LiveServer.start(dialect: .videobgremover)
    defer { server.stop() }
    try await server.fault(#"{"fault":"drop_before_commit","operation":"startJob"}"#)
    let log = RequestLog()
    let error = await #expect(throws: ProviderError.self) {
      try await server.videoBGRemover(log: log, startConfirmation: 0.3).submit(try server.request(try server.config()))
    }
    #expect(error?.code == "start_unconfirmed")
    #expect(error?.message.contains("the job still reads uploaded") == true)
    #expect(log.entries.filter { $0.path.hasSuffix("/start") }.count == 1)
    #expect(try await server.allJobs().isEmpty)  // no contract job: nothing started, nothing charged
  }

  /// 429 on start is a refusal and is the one answer start is sent again after; a 503 on
  /// create is retried (creating charges nothing).
  @Test func rateLimitOnStartAndServerErrorOnCreate() async throws {
    let server = try await LiveServer.start(dialect: .videobgremover)
    defer { server.stop() }
    try await server.fault(#"{"fault":"rate_limit","operation":"startJob","retry_after_seconds":1}"#)
    try await server.fault(#"{"fault":"http_503","operation":"createJob"}"#)
    let provider = server.videoBGRemover()
    let outcome = try await provider.submit(try server.request(try server.config()))
    #expect(
      provider.retryLog.contains(
        "POST /v1/jobs/\(outcome.providerJobID)/start: HTTP 429; attempt 2 after 1.00 s (Retry-After)"))
    #expect(provider.retryLog.contains { $0.hasPrefix("POST /v1/jobs: HTTP 503; attempt 2") })
    let jobs = try await server.allJobs()
    #expect(jobs.count == 1 && jobs[0].credits.charged == 1)
  }

  /// A failed job: the vendor's text word for word, refunded, not submitted again.
  @Test func aFailedJobKeepsTheVendorsTextAndIsNotCharged() async throws {
    let server = try await LiveServer.start(dialect: .videobgremover)
    defer { server.stop() }
    try await server.fault(#"{"fault":"job_fail"}"#)
    let error = await #expect(throws: ProviderError.self) {
      try await server.videoBGRemover().submit(try server.request(try server.config()))
    }
    #expect(error?.code == "job_failed" && error?.message == "failed on purpose (job_fail fault)")
    #expect(error?.creditsReserved == 1 && error?.creditsRefunded == 1)
    let jobs = try await server.allJobs()
    #expect(jobs.count == 1 && jobs[0].status == "failed" && jobs[0].credits.charged == 0)
  }

  /// 402 on start (`{"error": "…"}`): the clip fails saying what it needed; nothing more is sent.
  @Test func insufficientCreditsStopFurtherSubmissions() async throws {
    let server = try await LiveServer.start(dialect: .videobgremover)
    defer { server.stop() }
    #expect(try await server.send(.PUT, "/_test/credits", json: #"{"balance":0}"#).0 == 200)
    let log = RequestLog()
    let provider = server.videoBGRemover(log: log)
    let error = await #expect(throws: ProviderError.self) {
      try await provider.submit(try server.request(try server.config()))
    }
    #expect(error?.code == "insufficient_credits")
    #expect(
      error?.message.contains("needs 1 credits (1 a second); the service said: Job needs 1 credits, 0 available.")
        == true)
    let count = log.entries.count
    let second = await #expect(throws: ProviderError.self) {
      try await provider.submit(try server.request(try server.config()))
    }
    #expect(second?.code == "not_submitted" && log.entries.count == count)
  }

  /// An expired `processed_video_url` is renewed through `POST /v1/jobs/{id}/result`.
  @Test func anExpiredOutputURLIsRenewed() async throws {
    let server = try await LiveServer.start(dialect: .videobgremover)
    defer { server.stop() }
    let provider = server.videoBGRemover()
    let outcome = try await provider.submit(try server.request(try server.config()))
    let (_, body) = try await server.send(.GET, "/v1/jobs/\(outcome.providerJobID)/status")
    let status = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
    let oldURL = try #require(status["processed_video_url"] as? String)
    #expect(try await server.send(.POST, "/_test/clock", json: #"{"advance_seconds":90000}"#).0 == 200)
    let again = server.folder + "/again.webm"
    try await provider.fetchOutput(jobID: outcome.providerJobID, url: oldURL, to: again, tag: nil)
    #expect(provider.retryLog == ["output of \(outcome.providerJobID): HTTP 410; a fresh URL from /result"])
    #expect(try FileHash.sha256(ofFile: again) == outcome.outputSHA256)
  }

  /// `matte_mp4` takes `processed_mask_url`: an MP4 whose luma is the output's alpha. Read
  /// as a matte it equals the transparent video's own alpha channel within a code.
  @Test func theMaskURLIsReadAsAMatte() async throws {
    let server = try await LiveServer.start(dialect: .videobgremover)
    defer { server.stop() }
    let provider = server.videoBGRemover()
    let outcome = try await provider.submit(try server.request(try server.config(format: "matte_mp4")))
    let (_, body) = try await server.send(.GET, "/v1/jobs/\(outcome.providerJobID)/status")
    let status = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
    let video = server.folder + "/video.webm"
    try await provider.fetchOutput(
      jobID: outcome.providerJobID, url: try #require(status["processed_video_url"] as? String), to: video, tag: nil)
    let matte = try MediaInput.open(outcome.outputPath, options: ReadOptions(rgb: .none, alpha: .matteLuma))
    let transparent = try MediaInput.open(video, options: ReadOptions(rgb: .none, alpha: .alphaChannel))
    var frames = 0
    var worst = 0.0
    while let m = try matte.nextFrame()?.alpha, let t = try transparent.nextFrame()?.alpha {
      for i in 0..<m.samples.count {
        let a = Double(m.samples[i]) * 255 / Double(m.maxValue)
        let b = Double(t.samples[i]) * 255 / Double(t.maxValue)
        worst = max(worst, abs(a - b))
      }
      frames += 1
    }
    #expect(frames == 3 && worst <= 1.01, "worst \(worst) codes over \(frames) frames")
  }

  /// A create answered after commit but lost: VideoBGRemover lists no jobs, so the create is
  /// sent again and the first job stays behind unstarted. It costs nothing: one job is
  /// started and charged. A 429 without Retry-After backs off.
  @Test func aLostCreateLeavesAnUnstartedJobAndOneCharge() async throws {
    let server = try await LiveServer.start(dialect: .videobgremover)
    defer { server.stop() }
    try await server.fault(#"{"fault":"drop_after_commit","operation":"createJob"}"#)
    try await server.fault(#"{"fault":"rate_limit_bare","operation":"putUpload"}"#)
    let provider = server.videoBGRemover()
    let outcome = try await provider.submit(try server.request(try server.config()))
    let jobs = try await server.allJobs()
    #expect(jobs.count == 1 && jobs[0].status == "completed" && jobs[0].credits.charged == 1)
    #expect(outcome.providerJobID == "vbr_2")  // vbr_1 was created, its answer lost, never started
    #expect(provider.retryLog.contains { $0.hasPrefix("POST /v1/jobs: no answer") })
    #expect(provider.retryLog.contains { $0.contains("HTTP 429; attempt 2 after") && $0.hasSuffix("(backoff)") })
  }

  @Test func modelsAndFormatsItDoesNotOfferAreRefusedFirst() async throws {
    let server = try await LiveServer.start(dialect: .videobgremover)
    defer { server.stop() }
    let provider = server.videoBGRemover()
    let model = #expect(throws: ConfigError.self) { try provider.validate(try server.config(model: "soft-keyer")) }
    #expect(model?.field == "model" && model?.description.contains("videobgremover-original") == true)
    #expect(throws: Never.self) { try provider.validate(try server.config(model: "videobgremover-pro")) }
    #expect(throws: Never.self) {
      try provider.validate(try server.config(format: "mp4", background: "bg_type: color\nbg_color: \"#000000\"\n"))
    }
    let gif = #expect(throws: ConfigError.self) { try provider.validate(try server.config(format: "gif")) }
    #expect(gif?.field == "output_format")
    #expect(try await server.allJobs().isEmpty)
  }
}

/// The vendor configs shipped in configs/ load and pass their provider's offline checks.
@Test func shippedVendorConfigsAreValid() throws {
  let root =
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path + "/configs/"
  var settings = HTTPProviderSettings(baseURL: "http://127.0.0.1:9", apiKey: "unused")
  settings.retryBase = 0.01
  let rbv = try ArmConfig.load(root + "removebgvideo-light.yaml")
  #expect(rbv.provider == "removebgvideo" && rbv.apiKeyEnv == "RBV_API_KEY")
  try RemoveBGVideoProvider(settings: settings).validate(rbv)
  let vbr = try ArmConfig.load(root + "videobgremover-light.yaml")
  #expect(vbr.provider == "videobgremover")
  try VideoBGRemoverProvider(settings: settings).validate(vbr)
  let rvm = try ArmConfig.load(root + "replicate-rvm.yaml")
  #expect(rvm.model == "arielreplicate/robust_video_matting" && rvm.outputFormat == "matte_mp4")
  #expect(rvm.replicateServer == "hosted" && rvm.replicateInput == ["output_type": "alpha-mask"])
  try ReplicateProvider(settings: settings).validate(rvm)
}
