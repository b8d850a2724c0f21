import APIServer
import AsyncHTTPClient
import Foundation
import MediaIO
import NIOCore
import NIOHTTP1
import Report
import ReviewServer
import Store
import TestSupport
import Testing
import Verdict

/// `mattegate serve` on loopback, over real HTTP, reading a real SQLite store.
struct LiveReviewServer {
  let port: Int
  let stopper: ReferenceServerStopper
  let task: Task<Void, any Error>
  /// A client that shows redirects instead of following them; shut down by `stop()`, or when
  /// a test that threw is unwound without reaching it.
  let owned = OwnedClient()
  var client: HTTPClient { owned.client }
  var base: String { "http://127.0.0.1:\(port)" }

  static func start(database: String, reports: String) async throws -> LiveReviewServer {
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let stopper = ReferenceServerStopper()
    let options = ReviewServerOptions(database: database, reports: reports, port: 0)
    let task = Task { try await ReviewServer.run(options, stopper: stopper) { continuation.yield($0) } }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw ServerError("serve did not start") }
    return LiveReviewServer(port: port, stopper: stopper, task: task)
  }

  func get(_ path: String, range: String? = nil) async throws -> (status: Int, body: Data, headers: HTTPHeaders) {
    var request = HTTPClientRequest(url: base + path)
    if let range { request.headers.add(name: "Range", value: range) }
    return try await send(request)
  }

  func post(_ path: String, form: String) async throws -> (status: Int, body: Data, headers: HTTPHeaders) {
    var request = HTTPClientRequest(url: base + path)
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
    request.body = .bytes(ByteBuffer(string: form))
    return try await send(request)
  }

  private func send(_ request: HTTPClientRequest) async throws -> (status: Int, body: Data, headers: HTTPHeaders) {
    let response = try await client.execute(request, timeout: .seconds(600))
    let body = Data(try await response.body.collect(upTo: 1 << 24).readableBytesView)
    return (Int(response.status.code), body, response.headers)
  }

  func stop() async {
    try? await client.shutdown()
    stopper.stop()
    _ = try? await task.value
  }
}

/// An HTTP client that is shut down when its owner goes away, so that a test that throws
/// before `stop()` fails with its own error instead of AsyncHTTPClient's fatal
/// "not shut down before the deinit" taking the whole test process down.
final class OwnedClient: Sendable {
  let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
  deinit { try? client.syncShutdown() }
}

/// Two finished runs in a fresh store, the first with a clip whose id is a script and configs
/// whose names carry quotes, the second plain; review crops of clip `hair-1` of the first run
/// (A's alpha all 10, B's all 200, so a test can tell them apart).
struct Fixture {
  let folder: String
  var database: String { folder + "/m.sqlite" }
  var reports: String { folder + "/reports" }
  static let script = "<script>alert(1)</script>"
  static let quoted = #"say "hi" 'A'"#
  static let attribute = #"B" onmouseover="alert(3)"#

  init() throws {
    folder = try temporaryFolder()
    let store = try ResultStore(path: folder + "/m.sqlite")
    let gate = GatePolicy.standard.canonicalText
    for (n, (id, a, b, estimate)) in [("r1", Self.quoted, Self.attribute, -10.0), ("r2", "base", "cand", 5.0)]
      .enumerated()
    {
      try store.insert(
        RunRecord(
          id: id, createdAt: Date(timeIntervalSince1970: 1_000_000 + Double(n) * 3600), status: "running",
          clipsetName: "tiny", clipsetFolder: "/clips", clipsetSHA256: String(repeating: "c", count: 64),
          configAName: a, configAHash: "ha", configAText: "model=\(a)", configBName: b, configBHash: "hb",
          configBText: "model=\(b)", provider: "local", harnessVersion: "test", metricsVersion: "m",
          regionsVersion: "r", gateText: gate, seed: 1))
      for clip in [Self.script, "hair-1"] {
        try store.saveClip(
          runID: id, clip: ClipRecord(runID: id, clipID: clip, sha256: "s", tags: "hair", status: "scored", frames: 2),
          frameMetrics: [], clipMetrics: [])
      }
      var c = ComparisonRecord(
        region: "hair", metric: "Grad", isPrimary: true, clips: 2, estimatePercent: estimate,
        ciLowPercent: estimate - 4, ciHighPercent: estimate + 4, ciLevel: 0.95, pValue: 0.5,
        hodgesLehmannPercent: estimate,
        wins: 1, ties: 0, losses: 1, marginPercent: 5, noisePercent: 0, verdict: "Inconclusive", note: Self.script)
      c.ci90LowPercent = estimate - 3
      c.ci90HighPercent = estimate + 3
      try store.saveComparisons(runID: id, [c])
      try store.finishRun(id: id, status: "completed", exitCode: 3, outcome: "INCONCLUSIVE: \(Self.script)")
    }
    let crops = reports + "/r1/clips/hair-1"
    try FileManager.default.createDirectory(atPath: crops, withIntermediateDirectories: true)
    try "0 0 4 2\n".write(toFile: crops + "/transition-frame1-crop.txt", atomically: true, encoding: .utf8)
    for (role, value) in [("source", 90), ("truth", 255), ("a", 10), ("b", 200)] {
      try PNGFile.writeGray8(
        [UInt8](repeating: UInt8(value), count: 8), width: 4, height: 2, to: crops + "/transition-frame1-\(role).png")
    }
  }

  func remove() { try? FileManager.default.removeItem(atPath: folder) }
}

@Suite struct ReviewServerTests {
  /// Every served page shows the script clip id, the quoted config names and the markup in
  /// notes and outcomes as text: never as markup, and with no script but the page's own.
  @Test func hostileNamesAreInertInServedPages() async throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    try ResultStore(path: fixture.database).addVote(
      VoteRecord(
        runID: "r1", clipID: Fixture.script, leftArm: "A", choice: "B", voter: Fixture.script, createdAt: Date()))
    let server = try await LiveReviewServer.start(database: fixture.database, reports: fixture.reports)
    for path in [
      "/", "/runs/r1/", "/compare?a=r1&b=r2", "/history", "/history?clipset=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
      "/runs/r1/vote", "/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
      "/runs/%3Cscript%3E/",
    ] {
      let (status, body, _) = try await server.get(path)
      let html = String(decoding: body, as: UTF8.self)
      #expect([200, 404].contains(status), "\(path): \(status)")
      for raw in [Fixture.script, #"onmouseover="alert(3)""#, #""hi""#, "<script>alert"] {
        #expect(!html.contains(raw), "\(path) has \(raw) unescaped")
      }
      #expect(html.components(separatedBy: "<script").count <= 2, "\(path) has a script of its own beyond one")
      #expect(!html.contains("<script src"))
    }
    let report = String(decoding: try await server.get("/runs/r1/").body, as: UTF8.self)
    #expect(report.contains("id=\"clip-&lt;script&gt;alert(1)&lt;/script&gt;\""))
    #expect(report.contains("say &quot;hi&quot; &#39;A&#39;"))
    let notFound = try await server.get("/runs/%3Cscript%3E/")
    #expect(notFound.status == 404)
    #expect(String(decoding: notFound.body, as: UTF8.self).contains("has no run &lt;script&gt;."))
    await server.stop()
  }

  /// The vote page names neither arm, its images come under opaque names, and a vote is stored
  /// as the arm that was on the left or right; the report then counts the votes with a sign test.
  @Test func blindVotesAreStoredUnblindedAndCountedWithASignTest() async throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let server = try await LiveReviewServer.start(database: fixture.database, reports: fixture.reports)
    let a = try Data(contentsOf: URL(fileURLWithPath: fixture.reports + "/r1/clips/hair-1/transition-frame1-a.png"))
    let b = try Data(contentsOf: URL(fileURLWithPath: fixture.reports + "/r1/clips/hair-1/transition-frame1-b.png"))
    var expected: [String] = []
    var tokens: [String] = []
    for choice in ["left", "right", "left", "tie"] {
      let page = String(decoding: try await server.get("/runs/r1/vote").body, as: UTF8.self)
      for giveaway in ["-a.png", "-b.png", "say &quot;hi", "onmouseover", "Arm A", "Arm B"] {
        #expect(!page.contains(giveaway), "the vote page gives away \(giveaway)")
      }
      let range = try #require(page.range(of: #"name="token" value="[0-9a-f]{32}""#, options: .regularExpression))
      let token = String(page[range].dropFirst(20).dropLast())
      tokens.append(token)
      let left = try await server.get("/vote/\(token)/left.png")
      let right = try await server.get("/vote/\(token)/right.png")
      #expect(left.status == 200 && right.status == 200)
      #expect(Set([left.body, right.body]) == Set([a, b]))
      let leftArm = left.body == a ? "A" : "B"
      expected.append(choice == "tie" ? "tie" : choice == "left" ? leftArm : (leftArm == "A" ? "B" : "A"))
      let posted = try await server.post("/runs/r1/vote", form: "token=\(token)&choice=\(choice)&voter=r%C3%A9viewer+1")
      #expect(posted.status == 303)
      #expect(posted.headers.first(name: "location") == "/runs/r1/vote?thanks=1")
    }
    let stored = try ResultStore(path: fixture.database).votes(runID: "r1")
    #expect(stored.map(\.choice) == expected)
    #expect(stored.allSatisfy { $0.clipID == "hair-1" && $0.voter == "réviewer 1" })
    // A token answers once, and only for its run.
    #expect(try await server.post("/runs/r1/vote", form: "token=\(tokens[0])&choice=left").status == 400)
    let fresh = String(decoding: try await server.get("/runs/r1/vote").body, as: UTF8.self)
    let range = try #require(fresh.range(of: #"name="token" value="[0-9a-f]{32}""#, options: .regularExpression))
    #expect(
      try await server.post("/runs/r2/vote", form: "token=\(fresh[range].dropFirst(20).dropLast())&choice=left").status
        == 400)
    // The report counts them: B's wins against A's, with the exact two-sided sign test.
    let aWins = expected.filter { $0 == "A" }.count
    let bWins = expected.filter { $0 == "B" }.count
    let report = String(decoding: try await server.get("/runs/r1/").body, as: UTF8.self)
    #expect(report.contains("Blind review: 4 votes — B preferred \(bWins), A preferred \(aWins), ties 1; sign test"))
    let p = SignTest.twoSided(wins: bWins, losses: aWins)
    #expect(report.contains("p = \(String(format: "%.3g", p))."))
    await server.stop()
  }

  /// Only the run's own PNGs, by plain names, inside its folder.
  @Test func imagesStayInsideTheRunFolder() async throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let server = try await LiveReviewServer.start(database: fixture.database, reports: fixture.reports)
    #expect(try await server.get("/runs/r1/clips/hair-1/transition-frame1-a.png").status == 200)
    for path in [
      "/runs/r1/clips/hair-1/..%2F..%2F..%2Fm.sqlite", "/runs/r1/clips/hair-1/transition-frame1-crop.txt",
      "/runs/r1/clips/nope/transition-frame1-a.png", "/runs/r9/clips/hair-1/transition-frame1-a.png",
      "/runs/r1/clips/..%2F..%2F..%2F/m.sqlite",
    ] {
      #expect(try await server.get(path).status == 404, "\(path)")
    }
    await server.stop()
  }

  /// A clip's preview is served whole or by the byte range a video element asks for.
  @Test func previewsAreServedByByteRanges() async throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let bytes = Data((0..<100).map { UInt8($0) })
    try bytes.write(to: URL(fileURLWithPath: fixture.reports + "/r1/clips/hair-1/preview.webm"))
    let server = try await LiveReviewServer.start(database: fixture.database, reports: fixture.reports)
    let path = "/runs/r1/clips/hair-1/preview.webm"
    let whole = try await server.get(path)
    #expect(whole.status == 200 && whole.body == bytes)
    #expect(whole.headers.first(name: "accept-ranges") == "bytes")
    #expect(whole.headers.first(name: "content-type") == "video/webm")
    let part = try await server.get(path, range: "bytes=10-19")
    #expect(part.status == 206 && part.body == bytes[10...19])
    #expect(part.headers.first(name: "content-range") == "bytes 10-19/100")
    let tail = try await server.get(path, range: "bytes=-5")
    #expect(tail.status == 206 && tail.body == bytes[95...99])
    let past = try await server.get(path, range: "bytes=100-")
    #expect(past.status == 416 && past.headers.first(name: "content-range") == "bytes */100")
    #expect(try await server.get("/runs/r1/clips/nope/preview.webm").status == 404)
    await server.stop()
  }

  /// With a preview, the vote page plays the clip: its left canvas draws the tile of the arm
  /// the server put on the left (a vote for "left" is stored as that arm), the video comes
  /// under the vote's opaque name, and the page names no arm.
  @Test func votesInMotionShowTheLeftArmsTile() async throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let folder = fixture.reports + "/r1/clips/hair-1"
    let video = Data((0..<64).map { UInt8($0) })
    try video.write(to: URL(fileURLWithPath: folder + "/preview.webm"))
    let tiles = ["B", "A", "truth"]
    let layout = PreviewLayout(
      file: "preview.webm", tileWidth: 32, tileHeight: 18, tiles: tiles, fps: 25, frames: [0, 1, 2, 3], bytes: 64,
      sourceWidth: 64, sourceHeight: 36)
    try JSONEncoder().encode(layout).write(to: URL(fileURLWithPath: folder + "/preview.json"))
    let server = try await LiveReviewServer.start(database: fixture.database, reports: fixture.reports)
    for _ in 0..<4 {
      let page = String(decoding: try await server.get("/runs/r1/vote").body, as: UTF8.self)
      #expect(page.contains("class=\"vote-motion\"") && !page.contains("preview.webm"))
      let range = try #require(page.range(of: #"name="token" value="[0-9a-f]{32}""#, options: .regularExpression))
      let token = String(page[range].dropFirst(20).dropLast())
      let clip = try await server.get("/vote/\(token)/clip.webm", range: "bytes=0-9")
      #expect(clip.status == 206 && clip.body == video[0...9])
      let left = try #require(page.range(of: #"data-tile="[0-9]" [^>]*aria-label="Left"#, options: .regularExpression))
      let tile = Int(String(page[left].dropFirst(11).prefix(1)))!
      #expect(try await server.post("/runs/r1/vote", form: "token=\(token)&choice=left").status == 303)
      #expect(try ResultStore(path: fixture.database).votes(runID: "r1").last?.choice == tiles[tile])
    }
    await server.stop()
  }

  @Test func byteRangesAreReadAsRFC9110Says() {
    #expect(ReviewServer.byteRange("bytes=0-99", count: 1000) == 0...99)
    #expect(ReviewServer.byteRange("bytes=990-", count: 1000) == 990...999)
    #expect(ReviewServer.byteRange("bytes=-10", count: 1000) == 990...999)
    #expect(ReviewServer.byteRange("bytes=-5000", count: 1000) == 0...999)
    #expect(ReviewServer.byteRange("bytes=0-5000", count: 1000) == 0...999)
    for bad in ["bytes=1000-", "bytes=5-2", "bytes=0-1,4-5", "items=0-1", "bytes=a-b", "bytes=-0", "bytes=-"] {
      #expect(ReviewServer.byteRange(bad, count: 1000) == nil, "\(bad)")
    }
  }

  /// The comparison puts the two runs' estimates side by side with the change between them; the
  /// history draws each run's estimate of an endpoint, linked to its report.
  @Test func compareAndHistoryShowBothRuns() async throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let server = try await LiveReviewServer.start(database: fixture.database, reports: fixture.reports)
    let compare = String(decoding: try await server.get("/compare?a=r1&b=r2").body, as: UTF8.self)
    // hair.Grad: −10.0% in r1, +5.0% in r2, a change of +15.0 points.
    #expect(compare.contains("-10.0%"))
    #expect(compare.contains("+5.0%"))
    #expect(compare.contains(#"data-v="15">+15.0</td>"#))
    #expect(try await server.get("/compare?a=r1").status == 400)
    #expect(try await server.get("/compare?a=r1&b=nope").status == 404)
    let history = String(decoding: try await server.get("/history").body, as: UTF8.self)
    #expect(history.contains("aria-label=\"hair/Grad over 2 runs\""))
    // The arm-pair filter arrives percent-encoded and is read back: r2 is base → cand.
    let pair = String(decoding: try await server.get("/history?arms=base%20%E2%86%92%20cand").body, as: UTF8.self)
    #expect(pair.contains("<a href=\"/runs/r2/\">") && !pair.contains("<a href=\"/runs/r1/\">"))
    #expect(history.contains("<a href=\"/runs/r1/\">") && history.contains("<a href=\"/runs/r2/\">"))
    // Filtered by a clip set the runs did not use, nothing is left to draw.
    let other = String(decoding: try await server.get("/history?clipset=other").body, as: UTF8.self)
    #expect(other.contains("No run has compared any endpoint yet."))
    #expect(other.contains("<a href=\"/history?clipset=tiny\">tiny</a>"))
    let runs = String(decoding: try await server.get("/").body, as: UTF8.self)
    #expect(runs.contains("<form class=\"compare-form\" method=\"get\" action=\"/compare\">"))
    await server.stop()
  }

  /// A run renamed, re-tagged, archived and deleted from its manage page (deletion confirmed by
  /// typing the id, folders removed), and quality notes added from the served report.
  @Test func manageRunsAndAddNotes() async throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let store = try ResultStore(path: fixture.database)
    for path in [fixture.reports + "/r2", fixture.reports + "/outputs/r2"] {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
      try "x".write(toFile: path + "/file", atomically: true, encoding: .utf8)
    }
    let server = try await LiveReviewServer.start(database: fixture.database, reports: fixture.reports)
    let manage = String(decoding: try await server.get("/runs/r2/manage").body, as: UTF8.self)
    #expect(manage.contains("value=\"rename\"") && manage.contains("Type <code>r2</code> to confirm"))
    #expect(manage.contains("<code>\(fixture.reports)/r2</code>, <code>\(fixture.reports)/outputs/r2</code>"))
    var r = try await server.post("/runs/r2/manage", form: "action=rename&name=Second+try")
    #expect(r.status == 303 && r.headers["Location"].first == "/runs/r2/manage?done=Renamed.")
    #expect(try store.run(id: "r2")?.name == "Second try")
    _ = try await server.post("/runs/r2/manage", form: "action=tags&tags=a%3D1%0Ab%3D2")
    #expect(try store.run(id: "r2")?.tags == "a=1\nb=2")
    _ = try await server.post("/runs/r2/manage", form: "action=tags&tags=b%3D3")
    #expect(try store.run(id: "r2")?.tags == "b=3")
    r = try await server.post("/runs/r2/manage", form: "action=tags&tags=nonsense")
    #expect(
      r.status == 400
        && String(decoding: r.body, as: UTF8.self).contains("Not done: tag: &#39;nonsense&#39; is not k=v"))
    _ = try await server.post("/runs/r2/manage", form: "action=archive")
    let list = String(decoding: try await server.get("/").body, as: UTF8.self)
    #expect(!list.contains("<a href=\"/runs/r2/\">") && list.contains("<a href=\"/?archived=1\">show 1 archived</a>"))
    let all = String(decoding: try await server.get("/?archived=1").body, as: UTF8.self)
    #expect(all.contains("<a href=\"/runs/r2/\">") && all.contains("<span class=\"tag\">archived</span>"))
    // Deletion: refused with a wrong confirmation, done with the id.
    r = try await server.post("/runs/r2/manage", form: "action=delete&confirm=r1")
    #expect(r.status == 400)
    #expect(try store.run(id: "r2") != nil)
    r = try await server.post("/runs/r2/manage", form: "action=delete&confirm=r2")
    #expect(r.status == 303 && r.headers["Location"].first == "/?deleted=r2")
    #expect(try store.run(id: "r2") == nil && (try store.clips(runID: "r2")).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: fixture.reports + "/r2"))
    #expect(!FileManager.default.fileExists(atPath: fixture.reports + "/outputs/r2"))
    #expect(FileManager.default.fileExists(atPath: fixture.reports + "/r1"))
    #expect(String(decoding: try await server.get("/?deleted=r2").body, as: UTF8.self).contains("Run r2 was deleted."))

    // A note from the served report's form, on arm A at frame 1 of clip hair-1; escaped.
    let report = String(decoding: try await server.get("/runs/r1/").body, as: UTF8.self)
    #expect(report.contains("<form class=\"note-form\" method=\"post\" action=\"/runs/r1/notes\">"))
    r = try await server.post(
      "/runs/r1/notes", form: "clip=hair-1&arm=A&frame=1&author=rev&text=%3Cb%3Ehalo%3C%2Fb%3E+on+the+left")
    #expect(r.status == 303 && r.headers["Location"].first == "/runs/r1/#clip-hair-1")
    let noted = String(decoding: try await server.get("/runs/r1/").body, as: UTF8.self)
    #expect(noted.contains("frame 1: <q>&lt;b&gt;halo&lt;/b&gt; on the left</q> <span class=\"small\">— rev,"))
    r = try await server.post("/runs/r1/notes", form: "clip=hair-1&frame=5&text=x")
    #expect(r.status == 400 && String(decoding: r.body, as: UTF8.self).contains("there is no frame 5"))
    #expect(try store.notes(runID: "r1").count == 1)
    // A form over 16 KB is refused whole, on every form.
    for path in ["/runs/r1/notes", "/runs/r1/manage", "/runs/r1/vote"] {
      let big = try await server.post(path, form: "text=" + String(repeating: "x", count: 20_000))
      #expect(big.status == 413, "\(path)")
      #expect(String(decoding: big.body, as: UTF8.self).contains("The form must be under 16 KB"))
    }
    #expect(try store.notes(runID: "r1").count == 1)
    await server.stop()
  }

  /// The defaults page lists every change newest first, links each evidence run the store
  /// holds, marks each file's current change; the runs list says which run was promoted.
  @Test func defaultsPageAndPromotedRuns() async throws {
    let fixture = try Fixture()
    defer { fixture.remove() }
    let store = try ResultStore(path: fixture.database)
    let empty = try await LiveReviewServer.start(database: fixture.database, reports: fixture.reports)
    let none = String(decoding: try await empty.get("/defaults").body, as: UTF8.self)
    #expect(none.contains("No default has been changed through mattegate yet."))
    await empty.stop()
    func change(_ action: String, run: String?, owner: String, reason: String?) -> DefaultChangeRecord {
      DefaultChangeRecord(
        configPath: "configs/default.yaml", action: action, runID: run, restores: nil, owner: owner,
        createdAt: Date(timeIntervalSince1970: 1_000_000), fromConfig: action == "promote" ? "cand" : "change #0",
        gateMode: run == nil ? nil : "rollout", gateOutcome: run == nil ? nil : "passed",
        previousSHA256: String(repeating: "a", count: 64), previousYAML: "old",
        newSHA256: String(repeating: "b", count: 64), newYAML: "new", report: nil, gitCommit: nil, reason: reason)
    }
    #expect(try store.addDefaultChange(change("promote", run: "r2", owner: "alice", reason: Fixture.script)) == 1)
    #expect(try store.addDefaultChange(change("rollback", run: nil, owner: "bob", reason: nil)) == 2)
    #expect(try store.addDefaultChange(change("promote", run: "gone", owner: "carol", reason: nil)) == 3)
    let server = try await LiveReviewServer.start(database: fixture.database, reports: fixture.reports)
    let page = String(decoding: try await server.get("/defaults").body, as: UTF8.self)
    let rows = page.components(separatedBy: "<tr id=\"change-").dropFirst().map {
      String($0.prefix(while: { $0 != "\"" }))
    }
    #expect(rows == ["3", "2", "1"])
    #expect(page.contains("<tr id=\"change-3\" class=\"current\">"))
    #expect(page.contains("<a href=\"/runs/r2/\">r2</a> <span class=\"small\">rollout, passed</span>"))
    #expect(page.contains("gone <span class=\"small\">(not in this store)</span>"))
    #expect(!page.contains(Fixture.script) && page.contains("&lt;script&gt;"))
    let runs = String(decoding: try await server.get("/").body, as: UTF8.self)
    #expect(
      runs.contains(
        "<a href=\"/defaults#change-1\">promoted</a> to <code>configs/default.yaml</code> (change #1)"))
    #expect(runs.components(separatedBy: "promoted-to").count == 2)
    await server.stop()
  }
}

/// Clips without ground truth are offered first in the blind vote, at every count of votes.
@Suite struct NoTruthVoteOrderTests {
  @Test func clipsWithoutGroundTruthComeFirst() async throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let store = try ResultStore(path: folder + "/m.sqlite")
    try store.insert(
      RunRecord(
        id: "r1", createdAt: Date(timeIntervalSince1970: 1_000_000), status: "running", clipsetName: "mine",
        clipsetFolder: "/clips", clipsetSHA256: String(repeating: "c", count: 64), configAName: "a",
        configAHash: "ha", configAText: "model=a", configBName: "b", configBHash: "hb", configBText: "model=b",
        provider: "local", harnessVersion: "test", metricsVersion: "m", regionsVersion: "r",
        gateText: GatePolicy.standard.canonicalText, seed: 1))
    for (clip, truth) in [("studio", true), ("customer", false)] {
      var record = ClipRecord(runID: "r1", clipID: clip, sha256: clip, tags: "", status: "scored", frames: 2)
      record.hasTruth = truth
      try store.saveClip(runID: "r1", clip: record, frameMetrics: [], clipMetrics: [])
      let crops = folder + "/reports/r1/clips/" + clip
      try FileManager.default.createDirectory(atPath: crops, withIntermediateDirectories: true)
      try "0 0 4 2\n".write(toFile: crops + "/transition-frame1-crop.txt", atomically: true, encoding: .utf8)
      for role in ["source", "a", "b"] {
        try PNGFile.writeGray8(
          [UInt8](repeating: 9, count: 8), width: 4, height: 2, to: crops + "/transition-frame1-\(role).png")
      }
    }
    try store.finishRun(id: "r1", status: "completed", exitCode: 3, outcome: "INCONCLUSIVE")
    let server = try await LiveReviewServer.start(database: folder + "/m.sqlite", reports: folder + "/reports")
    // Votes so far → the clip offered: customer (0, 0), studio (1, 0), customer (1, 1), studio (2, 1).
    var offered: [String] = []
    do {
      for _ in 0..<4 {
        let page = String(decoding: try await server.get("/runs/r1/vote").body, as: UTF8.self)
        offered.append(page.contains("customer") ? "customer" : page.contains("studio") ? "studio" : "neither")
        let range = try #require(page.range(of: #"name="token" value="[0-9a-f]{32}""#, options: .regularExpression))
        let token = String(page[range].dropFirst(20).dropLast())
        #expect(try await server.post("/runs/r1/vote", form: "token=\(token)&choice=tie").status == 303)
      }
    } catch {
      await server.stop()
      throw error
    }
    await server.stop()
    #expect(offered == ["customer", "studio", "customer", "studio"])
  }
}
