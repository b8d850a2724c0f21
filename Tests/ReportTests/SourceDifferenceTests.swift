import Foundation
import Store
import Testing

@testable import Report

/// Two runs compared over different sources (issue 27, item 5): each clip whose source bytes or
/// compression differ, or that only one run has, is named.
@Test func compareNamesClipsWhoseSourcesDiffer() {
  func clip(_ run: String, _ id: String, _ sha: String, _ bpp: Double?) -> ClipRecord {
    var c = ClipRecord(runID: run, clipID: id, sha256: sha, tags: "", status: "scored", frames: 4)
    c.bitsPerPixel = bpp
    return c
  }
  let sha = String(repeating: "a", count: 64)
  let other = String(repeating: "b", count: 64)
  let one = [
    clip("r1", "same", sha, 0.12), clip("r1", "bytes", sha, 0.12), clip("r1", "crf", sha, 0.12),
    clip("r1", "tiny-drift", sha, 0.1200), clip("r1", "gone", sha, 0.1),
  ]
  let two = [
    clip("r2", "same", sha, 0.12), clip("r2", "bytes", other, 0.12), clip("r2", "crf", sha, 0.05),
    clip("r2", "tiny-drift", sha, 0.1205), clip("r2", "new", sha, 0.1),
  ]
  let notes = ServedPages.sourceDifferences(one, two)
  #expect(
    notes == [
      "clip 'bytes': the source bytes differ (sha256 aaaaaaaaaaaa… then bbbbbbbbbbbb…)",
      "clip 'crf': compressed differently (0.12 then 0.05 bits per pixel)",
      "clip 'gone' is in run 1 only",
      "clip 'new' is in run 2 only",
    ])
  #expect(ServedPages.sourceDifferences(one, one).isEmpty)
  // The compare page shows them as a warning, escaped.
  let run = RunRecord(
    id: "r1", createdAt: Date(timeIntervalSince1970: 0), status: "completed", clipsetName: "s", clipsetFolder: "f",
    clipsetSHA256: "x", configAName: "a", configAHash: "h", configAText: "t", configBName: "b", configBHash: "h",
    configBText: "t", provider: "local", harnessVersion: "1", metricsVersion: "1", regionsVersion: "1", gateText: "",
    seed: 1)
  let page = ServedPages.compare(run, [], run, [], sourceNotes: ["clip '<x>' is in run 1 only"])
  #expect(page.contains("<div class=\"warn source-differences\">"))
  #expect(page.contains("<li>clip &#39;&lt;x&gt;&#39; is in run 1 only</li>"))
}
