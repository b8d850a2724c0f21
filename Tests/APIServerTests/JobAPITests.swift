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

/// A reference server on a free loopback port, in process, for one test.
struct LiveServer {
  static let apiKey = "test-key-3f9a"
  let port: Int
  let task: Task<Void, any Error>
  let stopper: ReferenceServerStopper
  let folder: String

  var base: String { "http://127.0.0.1:\(port)" }

  static func start(webhookSecret: String? = nil, dialect: APIDialect = .contract) async throws -> LiveServer {
    let folder = try temporaryFolder()
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    var options = ReferenceServerOptions(port: 0, apiKey: apiKey, storage: folder + "/server")
    options.webhookSecret = webhookSecret
    options.dialect = dialect
    // A receiver on a loaded machine can take more than the default 5 s to answer: a delivery
    // counted as failed then is retried, and a test that counts deliveries sees one too many.
    options.webhookTimeoutSeconds = 600
    let stopper = ReferenceServerStopper()
    let task = Task { try await ReferenceServer.run(options, stopper: stopper) { continuation.yield($0) } }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw ProviderSetupError("the server did not start") }
    let server = LiveServer(port: port, task: task, stopper: stopper, folder: folder)
    // Simulated time moves only when a test moves it: a loaded machine's real seconds must not
    // fire a retry or a timeout that a test expects to fire only after its own advance.
    let (status, _) = try await server.send(.POST, "/_test/clock", json: #"{"advance_seconds":0,"freeze":true}"#)
    guard status == 200 else { throw ProviderSetupError("the server's clock could not be frozen (\(status))") }
    return server
  }

  /// Shuts the server down gracefully (cancelling its task could trap in NIO on a connection
  /// accepted but not yet served) and removes its storage.
  func stop() {
    stopper.stop()
    try? FileManager.default.removeItem(atPath: folder)
  }

  /// Posts `json` to `/_test/clock` and answers the server's simulated time.
  func clock(_ json: String) async throws -> Date {
    struct Now: Decodable { var now: String }
    let (status, body) = try await send(.POST, "/_test/clock", json: json)
    guard status == 200, let now = JobAPI.date(try JobAPI.decoder.decode(Now.self, from: body).now) else {
      throw ProviderSetupError("/_test/clock answered \(status)")
    }
    return now
  }

  /// A test-control or plain API call, answered JSON decoded as `T`.
  @discardableResult
  func send(_ method: HTTPMethod, _ path: String, json: String? = nil) async throws -> (Int, Data) {
    var request = HTTPClientRequest(url: base + path)
    request.method = method
    request.headers.add(name: "X-Api-Key", value: Self.apiKey)
    if let json {
      request.headers.add(name: "Content-Type", value: "application/json")
      request.body = .bytes(ByteBuffer(string: json))
    }
    let response = try await HTTPClient.deadlineOnly.execute(request, timeout: .seconds(600))
    return (Int(response.status.code), Data(try await response.body.collect(upTo: 1 << 24).readableBytesView))
  }

  func credits() async throws -> JobAPI.CreditBalance {
    try JobAPI.decoder.decode(JobAPI.CreditBalance.self, from: try await send(.GET, "/v1/credits").1)
  }

  func jobs() async throws -> JobAPI.JobList {
    try JobAPI.decoder.decode(JobAPI.JobList.self, from: try await send(.GET, "/v1/jobs?limit=100").1)
  }

  func job(_ id: String) async throws -> JobAPI.Job {
    try JobAPI.decoder.decode(JobAPI.Job.self, from: try await send(.GET, "/v1/jobs/\(id)").1)
  }

  func fault(_ json: String) async throws {
    let (status, _) = try await send(.POST, "/_test/faults", json: json)
    precondition(status == 201, "fault not armed: \(json)")
  }

  /// An http provider for this server, with short intervals so the tests stay quick. Its
  /// request timeout and job deadline are far beyond anything a loaded machine needs: a test
  /// that counts retries must never see one caused by the machine's speed (a 10 s request
  /// timeout once made `GET /health` retry under load). Tests of the deadline itself stall the
  /// job on the server, so that it fires whatever the speed.
  func provider(deadline: Double = 900) -> HTTPProvider {
    HTTPProvider(settings: settings(deadline: deadline))
  }

  /// Settings for any provider of this server: short polls and backoffs, long timeouts.
  func settings(deadline: Double = 900) -> HTTPProviderSettings {
    var settings = HTTPProviderSettings(baseURL: base, apiKey: Self.apiKey)
    settings.pollInitial = 0.05
    settings.pollMax = 0.2
    settings.retryBase = 0.05
    settings.requestTimeout = 900
    settings.deadline = deadline
    return settings
  }

  /// A 32×16, 3-frame H.264 clip at 25 fps: a white square moving over gray.
  func source() throws -> String {
    let path = folder + "/source.mp4"
    if FileManager.default.fileExists(atPath: path) { return path }
    let writer = try VideoWriter(
      path: path, width: 32, height: 16, frameRate: 25, encoding: .h264(crf: 0, preset: "ultrafast"))
    for t in 0..<3 {
      var pixels = [UInt8](repeating: 90, count: 32 * 16 * 3)
      for y in 4..<12 { for x in (4 + 8 * t)..<(12 + 8 * t) { for c in 0..<3 { pixels[(y * 32 + x) * 3 + c] = 250 } } }
      try writer.append(rgb: RGBImage(width: 32, height: 16, pixels: pixels), alpha: nil)
    }
    try writer.finish()
    return path
  }

  func config(
    model: String = "light", format: String = "webm", background: String = "bg_type: transparent", extra: String = ""
  ) throws -> ArmConfig {
    let path = folder + "/arm-\(UUID().uuidString).yaml"
    try "name: api\nmodel: \(model)\noutput_format: \(format)\n\(background)\n\(extra)".write(
      toFile: path, atomically: true, encoding: .utf8)
    return try ArmConfig.load(path)
  }

  func request(_ config: ArmConfig, key: String = UUID().uuidString) throws -> JobRequest {
    JobRequest(
      clipID: "clip-1", sourcePath: try source(), sourceSHA256: "", cleanPlatePath: nil, arm: "A", config: config,
      outputPath: folder + "/out-\(key).webm", idempotencyKey: key)
  }
}

/// The http provider against the reference server over real HTTP on loopback: every path of
/// semantics.md's fault list.
@Suite(.serialized) struct JobAPITests {
  /// A request is limited by its own deadline only. `HTTPClient.shared` also gives up on a
  /// connection silent for 90 s, below the provider's request timeout (900 s here): an answer
  /// that comes after 95 s then failed with `readTimeout` and was tried again. Now it is taken
  /// on the first attempt. (95 s of real waiting: the server sleeps, the machine's speed does
  /// not matter.)
  @Test func anAnswerSlowerThanTheSharedClientsReadTimeoutIsTakenOnTheFirstAttempt() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    try await server.fault(#"{"fault":"delay_response","operation":"listModels","delay_ms":95000,"times":1}"#)
    let provider = server.provider()
    try await provider.preflight([try server.config(model: "pro")])
    #expect(provider.retryLog.isEmpty)
  }

  /// A 0.12 s clip is billed 1 s: light (45/min) costs ceil(45/60) = 1, pro (180/min) 3.
  @Test func successUploadsCreatesStartsPollsDownloadsAndCharges() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    let provider = server.provider()
    try await provider.preflight([try server.config(model: "pro")])
    let outcome = try await provider.submit(try server.request(try server.config(model: "pro")))
    // A real transparent WebM came back.
    let reader = try MediaInput.open(outcome.outputPath, options: ReadOptions(rgb: .none, alpha: .alphaChannel))
    #expect(reader.size.width == 32 && reader.size.height == 16)
    #expect(try reader.nextFrame()?.alpha != nil)
    #expect(outcome.outputSHA256 == (try FileHash.sha256(ofFile: outcome.outputPath)))
    #expect(outcome.creditsReserved == 3 && outcome.creditsCharged == 3 && outcome.creditsRefunded == 0)
    #expect(outcome.serviceVersion?.hasPrefix("mattegate-reference/") == true)
    #expect(outcome.queuedMS != nil && outcome.processingMS != nil)
    let credits = try await server.credits()
    #expect(credits == JobAPI.CreditBalance(balance: 997, reserved: 0, usedTotal: 3))
    let jobs = try await server.jobs()
    #expect(jobs.total == 1 && jobs.data[0].id == outcome.providerJobID && jobs.data[0].status == "completed")
    #expect(jobs.data[0].settings.model == "pro" && jobs.data[0].progress == 100)
    #expect(provider.retryLog.isEmpty)
  }

  /// An output beyond the download limit is refused and nothing of it is left on disk.
  @Test func anOutputBeyondTheDownloadLimitIsRefused() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    var settings = server.provider().settings
    settings.maxOutputBytes = 100
    let request = try server.request(try server.config())
    let error = await #expect(throws: (any Error).self) { try await HTTPProvider(settings: settings).submit(request) }
    #expect(error.map { "\($0)" }?.contains("is larger than the limit of 100 bytes for one output") == true)
    #expect(!FileManager.default.fileExists(atPath: request.outputPath))
  }

  @Test func aFailedJobIsRecordedWithItsCodeAndRefunded() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    try await server.fault(#"{"fault":"job_fail","error_code":"no_foreground_detected"}"#)
    let error = try await #require(throws: ProviderError.self) {
      try await server.provider().submit(try server.request(try server.config()))
    }
    #expect(error.code == "no_foreground_detected" && !error.retryable)
    #expect(error.creditsReserved == 1 && error.creditsRefunded == 1)
    let job = try await server.job(try #require(error.providerJobID))
    #expect(job.status == "failed" && job.credits.state == "refunded" && job.credits.charged == 0)
    #expect(try await server.credits() == JobAPI.CreditBalance(balance: 1000, reserved: 0, usedTotal: 0))
  }

  @Test func aProcessingTimeoutFailsRetryablyAndRefunds() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    try await server.fault(#"{"fault":"job_timeout"}"#)
    let error = try await #require(throws: ProviderError.self) {
      try await server.provider().submit(try server.request(try server.config()))
    }
    #expect(error.code == "processing_timeout" && error.retryable)
    #expect(try await server.job(try #require(error.providerJobID)).credits.state == "refunded")
    #expect(try await server.credits().reserved == 0)
  }

  /// A stalled job: the client gives up at its own deadline and cancels it on the server.
  @Test func theClientDeadlineCancelsTheJob() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    try await server.fault(#"{"fault":"job_stall"}"#)
    let error = try await #require(throws: ProviderError.self) {
      try await server.provider(deadline: 0.5).submit(try server.request(try server.config()))
    }
    #expect(error.code == "client_deadline" && error.retryable)
    let job = try await server.job(try #require(error.providerJobID))
    #expect(job.status == "canceled" && job.credits.state == "refunded" && job.credits.refunded == 1)
    #expect(try await server.credits() == JobAPI.CreditBalance(balance: 1000, reserved: 0, usedTotal: 0))
  }

  /// The same stall with the simulated clock moved past max(120 s, 10 × duration): the server
  /// times the job out itself.
  @Test func aFrozenClockMovesOnlyWhenAdvancedAndRunsAgainWhenThawed() async throws {
    let server = try await LiveServer.start()  // starts frozen
    defer { server.stop() }
    let clock = server.clock
    let t0 = try await clock(#"{"advance_seconds":0}"#)
    try await Task.sleep(for: .milliseconds(50))
    #expect(try await clock(#"{"advance_seconds":0}"#) == t0)
    #expect(try await clock(#"{"advance_seconds":7.5}"#) == t0.addingTimeInterval(7.5))
    // Thawing does not jump: it continues from the frozen instant, then follows real time.
    let thawed = try await clock(#"{"advance_seconds":0,"freeze":false}"#)
    #expect(thawed >= t0.addingTimeInterval(7.5))
    try await Task.sleep(for: .milliseconds(50))
    #expect(try await clock(#"{"advance_seconds":0}"#) > thawed)
  }

  @Test func aStalledJobTimesOutWhenTheClockPassesItsLimit() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    try await server.fault(#"{"fault":"job_stall"}"#)
    let task = Task { try await server.provider().submit(try server.request(try server.config())) }
    // Wait until the job is processing (stalled), then advance 121 s.
    var id: String?
    for _ in 0..<400 where id == nil {
      id = try await server.jobs().data.first { $0.status == "processing" }?.id
      if id == nil { try await Task.sleep(for: .milliseconds(25)) }
    }
    let jobID = try #require(id)
    #expect(try await server.send(.POST, "/_test/clock", json: #"{"advance_seconds":119}"#).0 == 200)
    #expect(try await server.job(jobID).status == "processing")
    #expect(try await server.send(.POST, "/_test/clock", json: #"{"advance_seconds":2}"#).0 == 200)
    let error = try await #require(throws: ProviderError.self) { try await task.value }
    #expect(error.code == "processing_timeout" && error.providerJobID == jobID)
  }

  @Test func rateLimitIsRetriedAfterRetryAfter() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    try await server.fault(#"{"fault":"rate_limit","operation":"createJob","retry_after_seconds":1}"#)
    let provider = server.provider()
    _ = try await provider.submit(try server.request(try server.config()))
    #expect(provider.retryLog == ["POST /v1/jobs: HTTP 429 rate_limited; attempt 2 after 1.00 s (Retry-After)"])
    #expect(try await server.jobs().total == 1)
  }

  @Test func serverErrorsAreRetriedWithoutDuplicates() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    try await server.fault(#"{"fault":"http_500","operation":"createUpload","times":2}"#)
    try await server.fault(#"{"fault":"http_503","operation":"startJob","retry_after_seconds":0}"#)
    let provider = server.provider()
    _ = try await provider.submit(try server.request(try server.config()))
    let log = provider.retryLog
    #expect(log.count == 3)
    #expect(
      log.filter { $0.hasPrefix("POST /v1/uploads: HTTP 500 internal_error; attempt") && $0.hasSuffix("(backoff)") }
        .count == 2)
    #expect(
      log.contains {
        $0.hasPrefix("POST /v1/jobs/job_1/start: HTTP 503 service_unavailable; attempt 2 after 0.00 s (Retry-After)")
      })
    #expect(try await server.jobs().total == 1)
    #expect(try await server.credits() == JobAPI.CreditBalance(balance: 999, reserved: 0, usedTotal: 1))
  }

  /// Other 4xx are never retried: an unknown job answers 404 once.
  @Test func otherClientErrorsAreNotRetried() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    let provider = server.provider()
    let answer = try await provider.call("GET", "/v1/jobs/job_404", operation: "test")
    #expect(answer.status == 404 && HTTPProvider.errorCode(answer.body) == "not_found")
    #expect(provider.retryLog.isEmpty)
    var wrong = HTTPProviderSettings(baseURL: server.base, apiKey: "not-the-key")
    wrong.retryBase = 0.01
    let unauthorized = try await HTTPProvider(settings: wrong).call("GET", "/v1/credits", operation: "test")
    #expect(unauthorized.status == 401 && HTTPProvider.errorCode(unauthorized.body) == "invalid_api_key")
  }

  /// The create is committed but the connection drops: the retry with the same key gets the
  /// stored answer, so there is one job and one charge.
  @Test func aConnectionDroppedAfterCommitMakesNoDuplicate() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    try await server.fault(#"{"fault":"drop_after_commit","operation":"createJob"}"#)
    try await server.fault(#"{"fault":"drop_after_commit","operation":"startJob"}"#)
    let provider = server.provider()
    let outcome = try await provider.submit(try server.request(try server.config(model: "pro")))
    let log = provider.retryLog
    #expect(log.count == 2)
    #expect(log.first?.hasPrefix("POST /v1/jobs: no answer") == true)
    #expect(log.last?.hasPrefix("POST /v1/jobs/\(outcome.providerJobID)/start: no answer") == true)
    let jobs = try await server.jobs()
    #expect(jobs.total == 1 && jobs.data[0].id == outcome.providerJobID)
    #expect(try await server.credits() == JobAPI.CreditBalance(balance: 997, reserved: 0, usedTotal: 3))
  }

  /// 402: the job stays created, nothing is charged, and the run submits nothing more.
  @Test func insufficientCreditsStopFurtherSubmissions() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    #expect(try await server.send(.PUT, "/_test/credits", json: #"{"balance":2}"#).0 == 200)
    let provider = server.provider()
    let first = try await #require(throws: ProviderError.self) {
      try await provider.submit(try server.request(try server.config(model: "pro")))
    }
    #expect(first.code == "insufficient_credits")
    #expect(first.message.contains("needs 3 credits, 2 available"))
    let job = try await server.job(try #require(first.providerJobID))
    #expect(job.status == "created" && job.credits.state == "none")
    let second = try await #require(throws: ProviderError.self) {
      try await provider.submit(try server.request(try server.config(model: "light")))
    }
    #expect(second.code == "not_submitted" && second.message.contains("needs 3 credits, 2 available"))
    #expect(try await server.jobs().total == 1)
    #expect(try await server.credits() == JobAPI.CreditBalance(balance: 2, reserved: 0, usedTotal: 0))
  }

  /// An output URL past its 24 h: 410, then a fresh URL from /result.
  @Test func anExpiredOutputURLIsRenewed() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    let provider = server.provider()
    let outcome = try await provider.submit(try server.request(try server.config()))
    let job = try await server.job(outcome.providerJobID)
    let oldURL = try #require(job.output?.url)
    #expect(try await server.send(.POST, "/_test/clock", json: #"{"advance_seconds":90000}"#).0 == 200)
    let expired = try await HTTPClient.deadlineOnly.execute(HTTPClientRequest(url: oldURL), timeout: .seconds(600))
    #expect(expired.status.code == 410)
    let again = server.folder + "/again.webm"
    #expect(try await provider.fetchOutput(jobID: job.id, url: oldURL, to: again) == 200)
    #expect(provider.retryLog == ["output of \(job.id): HTTP 410 expired; fresh URL from /result"])
    #expect(try FileHash.sha256(ofFile: again) == outcome.outputSHA256)
  }

  /// A model the service does not offer is refused before anything is uploaded.
  @Test func preflightRefusesWhatTheServiceDoesNotOffer() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    let error = try await #require(throws: ConfigError.self) {
      try await server.provider().preflight([try server.config(model: "hyper-9")])
    }
    #expect(error.field == "model" && error.description.contains("does not offer model 'hyper-9'"))
    #expect(try await server.jobs().total == 0)
    // Engine parameters cannot travel over the job API.
    #expect(throws: ConfigError.self) {
      try server.provider().validate(try server.config(extra: "engine:\n  threshold: 40\n"))
    }
  }
}
