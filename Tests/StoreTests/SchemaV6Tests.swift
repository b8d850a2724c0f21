import Foundation
import GRDB
import Testing

@testable import Store

/// Run identity columns, the output cache, the views and the schema guard.
@Suite struct SchemaV6Tests {
  func tempDB() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("mattegate-v6-\(UUID().uuidString)/m.sqlite").path
  }

  func run(_ id: String, at seconds: Double) -> RunRecord {
    var r = RunRecord(
      id: id, createdAt: Date(timeIntervalSince1970: seconds), status: "running", clipsetName: "s",
      clipsetFolder: "/s", clipsetSHA256: "h", configAName: "a", configAHash: "ha", configAText: "model=a",
      configBName: "b", configBHash: "hb", configBText: "model=b", provider: "local", harnessVersion: "v",
      metricsVersion: "m", regionsVersion: "r", gateText: "g", seed: 1)
    r.identityText = "seed=1"
    r.identitySHA256 = "i"
    r.shard = "1/2"
    return r
  }

  @Test func runsRoundTripWithIdentityAndConfigs() throws {
    let store = try ResultStore(path: tempDB())
    try store.insert(run("r1", at: 1000))
    let back = try #require(try store.run(id: "r1"))
    #expect(back == run("r1", at: 1000))
    #expect(try store.run(id: "nope") == nil)
    let configs = try store.read { db in try Row.fetchAll(db, sql: "SELECT hash, name FROM configs ORDER BY hash") }
    #expect(configs.map { $0["hash"] as String } == ["ha", "hb"])
  }

  /// Hand values: A = 2.0, B = 3.0 → delta 1.0, change +50 %; B = 1.5 → −25 %.
  @Test func viewsAnswerFromStoredRows() throws {
    let store = try ResultStore(path: tempDB())
    try store.insert(run("r1", at: 1000))
    try store.insert(run("r2", at: 2000))
    for (runID, b) in [("r1", 3.0), ("r2", 1.5)] {
      try store.saveClip(
        runID: runID,
        clip: ClipRecord(runID: runID, clipID: "c1", sha256: "s", tags: "hair", status: "scored", frames: 2),
        frameMetrics: [],
        clipMetrics: [
          ClipMetricRecord(
            clipID: "c1", arm: "A", region: "hair", metric: "Grad", value: 2.0, errorSum: 4, pixels: 10, frames: 2),
          ClipMetricRecord(
            clipID: "c1", arm: "B", region: "hair", metric: "Grad", value: b, errorSum: 2 * b, pixels: 10, frames: 2),
        ])
      try store.saveComparisons(
        runID: runID,
        [
          ComparisonRecord(
            region: "hair", metric: "Grad", isPrimary: true, clips: 1, estimatePercent: (b / 2 - 1) * 100,
            ciLowPercent: nil, ciHighPercent: nil, ciLevel: 0.95, pValue: nil, hodgesLehmannPercent: nil, wins: 0,
            ties: 0, losses: 1, marginPercent: 5, noisePercent: 0, verdict: "inconclusive", note: nil)
        ])
    }
    let deltas = try store.read { db in
      try Row.fetchAll(db, sql: "SELECT run_id, delta, change_pct FROM clip_deltas ORDER BY run_id")
    }
    #expect(deltas.map { $0["delta"] as Double } == [1.0, -0.5])
    #expect(deltas.map { $0["change_pct"] as Double } == [50.0, -25.0])
    #expect(try store.history(region: "hair", metric: "Grad").map(\.runID) == ["r1", "r2"])
    #expect(try store.history(region: "hair", metric: "Grad").map(\.estimatePercent) == [50.0, -25.0])

    for (key, status, code) in [
      ("k1", "failed", "processing_failed"), ("k2", "failed", "processing_failed"), ("k3", "completed", nil),
    ] {
      var job = JobRecord(
        runID: key == "k2" ? "r2" : "r1", clipID: "c1", clipSHA256: "s", arm: "B", provider: "http",
        idempotencyKey: key, model: "pro", outputFormat: "webm", bgType: "transparent", fit: "cover", status: status,
        submittedAt: Date())
      job.errorCode = code
      _ = try store.insert(job)
    }
    let failures = try store.read { db in try Row.fetchAll(db, sql: "SELECT * FROM failures_by_model") }
    #expect(failures.count == 1)
    #expect(
      failures[0]["model"] as String == "pro" && failures[0]["failures"] as Int == 2 && failures[0]["runs"] as Int == 2)
  }

  @Test func theCacheHoldsOneOutputPerKey() throws {
    let store = try ResultStore(path: tempDB())
    let entry = CachedOutput(
      sourceSHA256: "src", configKey: "cfg", providerIdentity: "local e/1", outputPath: "/o.webm", outputSHA256: "out",
      jobKey: "r1/c1/A", runID: "r1")
    try store.cache(entry)
    #expect(try store.cachedOutput(sourceSHA256: "src", configKey: "cfg", providerIdentity: "local e/1") == entry)
    #expect(try store.cachedOutput(sourceSHA256: "src", configKey: "cfg", providerIdentity: "local e/2") == nil)
    var newer = entry
    newer.outputPath = "/p.webm"
    try store.cache(newer)
    #expect(
      try store.cachedOutput(sourceSHA256: "src", configKey: "cfg", providerIdentity: "local e/1")?.outputPath
        == "/p.webm")
    try store.forgetCachedOutput(sourceSHA256: "src", configKey: "cfg", providerIdentity: "local e/1")
    #expect(try store.cachedOutput(sourceSHA256: "src", configKey: "cfg", providerIdentity: "local e/1") == nil)
  }

  /// A database from a newer mattegate (a migration this version does not know) is refused.
  @Test func aNewerSchemaIsRefused() throws {
    let path = tempDB()
    _ = try ResultStore(path: path)
    let queue = try DatabaseQueue(path: path)
    try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')") }
    let error = try #require(throws: StoreError.self) { try ResultStore(path: path) }
    #expect(error.description.contains("written by a newer mattegate") && error.description.contains("v99-future"))
  }
}
