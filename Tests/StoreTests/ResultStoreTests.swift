import Foundation
import Testing

@testable import Store

@Suite struct ResultStoreTests {
  func tempDB() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("mattegate-store-\(UUID().uuidString)/m.sqlite").path
  }

  func run(_ id: String) -> RunRecord {
    RunRecord(
      id: id, createdAt: Date(), status: "running", clipsetName: "s", clipsetFolder: "/s", clipsetSHA256: "h",
      configAName: "a", configAHash: "ha", configAText: "model=a", configBName: "b", configBHash: "hb",
      configBText: "model=b", provider: "local", harnessVersion: "v", metricsVersion: "m", regionsVersion: "r",
      gateText: "g", seed: 1)
  }

  @Test func jobsKeepEveryFieldAndClipsSaveAtomically() throws {
    let path = tempDB()
    let store = try ResultStore(path: path)
    try store.insert(run("r1"))
    var job = JobRecord(
      runID: "r1", clipID: "c1", clipSHA256: "abc", arm: "A", provider: "local", idempotencyKey: "r1/c1/A",
      model: "soft-keyer", outputFormat: "webm", bgType: "transparent", fit: "cover", status: "submitted",
      submittedAt: Date(timeIntervalSince1970: 1000))
    let id = try store.insert(job)
    job.status = "completed"
    job.providerJobID = "local-r1/c1/A"
    job.outputSHA256 = "def"
    job.durationMS = 12
    job.serviceVersion = "engine/1"
    try store.updateJob(id: id, with: job)
    let stored = try store.jobs(runID: "r1")
    #expect(stored.count == 1)
    #expect(stored[0].status == "completed")
    #expect(stored[0].outputSHA256 == "def")
    #expect(stored[0].serviceVersion == "engine/1")
    #expect(stored[0].submittedAt == Date(timeIntervalSince1970: 1000))
    // The idempotency key is unique: a second submission under the same key is refused.
    #expect(throws: StoreError.self) { _ = try store.insert(job) }

    try store.saveClip(
      runID: "r1",
      clip: ClipRecord(runID: "r1", clipID: "c1", sha256: "abc", tags: "hair", status: "scored", frames: 2),
      frameMetrics: [
        FrameMetricRecord(clipID: "c1", arm: "A", frame: 0, region: "frame", metric: "MAD", errorSum: 1.5, pixels: 10)
      ],
      clipMetrics: [
        ClipMetricRecord(
          clipID: "c1", arm: "A", region: "frame", metric: "MAD", value: 150, errorSum: 1.5, pixels: 10, frames: 1)
      ],
      alignment: [
        AlignmentRecord(
          arm: "A", referenceFrames: 3, outputFrames: 3, matched: 2, dropped: 1, duplicated: 1, extra: 0,
          maxOffsetSeconds: 0.004, windowSeconds: 0.02, status: "aligned")
      ],
      extras: [
        ExtraMeasureRecord(
          clipID: "c1", arm: "A-B", region: "hair", measure: "disagreement", value: 12.5, detail: nil,
          version: "NoTruth/1")
      ])
    #expect(
      try store.extraMeasures(runID: "r1") == [
        ExtraMeasureRecord(
          clipID: "c1", arm: "A-B", region: "hair", measure: "disagreement", value: 12.5, detail: nil,
          version: "NoTruth/1")
      ])
    // Metric versions: a tag keeps its definition; a changed definition under the same tag is refused.
    try store.registerMetricVersions([("Grad/1", "Grad", "definition one")])
    try store.registerMetricVersions([("Grad/1", "Grad", "definition one")])
    #expect(throws: StoreError.self) { try store.registerMetricVersions([("Grad/1", "Grad", "definition two")]) }
    #expect(try store.clipValue(runID: "r1", clipID: "c1", arm: "A", region: "frame", metric: "MAD") == 150)
    let counts = try store.counts(runID: "r1")
    #expect(
      counts == [
        "runs": 1, "clips": 1, "jobs": 1, "frame_metrics": 1, "clip_metrics": 1, "comparisons": 0, "alignment": 1,
        "extra_measures": 1,
      ])
    let aligned = try store.alignment(runID: "r1")
    #expect(aligned.count == 1)
    #expect(aligned.first?.clipID == "c1")
    #expect(aligned.first?.record.dropped == 1 && aligned.first?.record.duplicated == 1)
    #expect(aligned.first?.record.maxOffsetSeconds == 0.004)
    try store.finishRun(id: "r1", status: "completed", exitCode: 3, outcome: "INCONCLUSIVE")
    #expect(try store.runStatus(id: "r1")?.exitCode == 3)
    // Reopening migrates nothing twice and keeps the data.
    let again = try ResultStore(path: path)
    #expect(try again.counts(runID: "r1")["jobs"] == 1)
  }

  @Test func unwritableLocationIsAClearError() {
    let error = #expect(throws: (any Error).self) { _ = try ResultStore(path: "/proc/mattegate/m.sqlite") }
    #expect("\(error!)".contains("/proc/mattegate"))
  }
}
