public import APIServer
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MatteMetrics
import NIOCore
import Report
import Runner
import ServiceLifecycle
import Store
import UnixSignals

/// Where `mattegate serve` reads runs and their review crops, and where it listens.
public struct ReviewServerOptions: Sendable {
  public var database: String
  /// The folder holding run folders (`REPORTS/RUN/clips/…`), as `mattegate run --out` wrote them.
  public var reports: String
  public var host = "127.0.0.1"
  public var port: Int

  public init(database: String, reports: String, port: Int) {
    self.database = database
    self.reports = reports
    self.port = port
  }
}

/// `mattegate serve`: the runs in a SQLite store as pages, on loopback. Every page is rendered
/// from SQLite when asked for; the only state of its own is the pending blind votes.
public enum ReviewServer {
  /// Serves until stopped (SIGINT, SIGTERM or `stopper`). `onListening` gets the bound port.
  public static func run(
    _ options: ReviewServerOptions, stopper: ReferenceServerStopper? = nil,
    onListening: @escaping @Sendable (Int) -> Void = { _ in }
  ) async throws {
    guard ["localhost", "::1", "[::1]"].contains(options.host) || options.host.hasPrefix("127.") else {
      throw ServerError("serve binds loopback only (127.0.0.1, ::1 or localhost), not '\(options.host)'")
    }
    guard FileManager.default.fileExists(atPath: options.database) else {
      throw ServerError("\(options.database): no such database (run `mattegate run` first, or pass --db)")
    }
    let site = try Site(options: options)
    var logger = Logger(label: "mattegate.serve")
    logger.logLevel = .critical
    let app = Application(
      router: site.router(),
      configuration: ApplicationConfiguration(address: .hostname(options.host, port: options.port)),
      onServerRunning: { channel in onListening(channel.localAddress?.port ?? options.port) },
      logger: logger)
    let group = ServiceGroup(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    await stopper?.attach(group)
    try await group.run()
  }
}

/// The router's own 404 and 405 as the site's problem page.
struct NotFoundPage: RouterMiddleware {
  typealias Context = BasicRequestContext
  let site: Site

  func handle(
    _ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response
  ) async throws -> Response {
    do {
      return try await next(request, context)
    } catch let error as HTTPError where error.status == .notFound || error.status == .methodNotAllowed {
      return site.page(.notFound, ServedPages.problem("Not found", "There is no page at \(request.uri.path)."))
    }
  }
}

/// A blind vote handed out and not yet answered.
struct PendingVote: Sendable {
  var runID: String
  var clipID: String
  /// "A" or "B": the arm shown on the left.
  var leftArm: String
  /// Files by the opaque names the page uses: source, truth, left, right.
  var files: [String: String]
  var size: (width: Int, height: Int)?
  /// The clip's preview video (served as `clip.webm`), when it has one.
  var video: String?
}

/// The pending blind votes, by token.
actor VoteBook {
  private var pending: [String: PendingVote] = [:]
  private var order: [String] = []
  static let limit = 10_000

  func add(_ v: PendingVote) -> String {
    var g = SystemRandomNumberGenerator()
    let token = (0..<4).map { _ in String(format: "%08x", UInt32.random(in: .min ... .max, using: &g)) }.joined()
    pending[token] = v
    order.append(token)
    if order.count > Self.limit {
      pending[order.removeFirst()] = nil
    }
    return token
  }

  func peek(_ token: String) -> PendingVote? { pending[token] }

  func take(_ token: String) -> PendingVote? {
    guard let v = pending.removeValue(forKey: token) else { return nil }
    order.removeAll { $0 == token }
    return v
  }
}

/// The routes.
final class Site: Sendable {
  let options: ReviewServerOptions
  let store: ResultStore
  let votes = VoteBook()

  init(options: ReviewServerOptions) throws {
    self.options = options
    do {
      store = try ResultStore(path: options.database)
    } catch {
      throw ServerError("\(options.database): \(error)")
    }
  }

  /// The pages on Hummingbird's router; each handler's errors become a problem page.
  func router() -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: NotFoundPage(site: self))
    func on(
      _ method: HTTPRequest.Method, _ path: RouterPath,
      _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response
    ) {
      router.on(path, method: method) { request, context in
        do {
          return try await handler(request, context)
        } catch let e as PageError {
          return self.page(e.status, ServedPages.problem(e.title, e.message))
        } catch {
          return self.page(.internalServerError, ServedPages.problem("Error", "\(error)"))
        }
      }
    }
    /// A path parameter, percent-decoded.
    @Sendable func parameter(_ context: BasicRequestContext, _ name: String) -> String {
      let raw = context.parameters.get(name) ?? ""
      return raw.removingPercentEncoding ?? raw
    }
    on(.get, "/") { request, _ in
      try self.runsPage(
        showArchived: request.uri.queryParameters["archived"] != nil,
        message: request.uri.queryParameters["deleted"].map { "Run \($0) was deleted." })
    }
    on(.post, "/runs/:run/notes") { request, context in
      try self.addNote(parameter(context, "run"), form: try await Self.formBody(request, title: "Note"))
    }
    on(.get, "/runs/:run/manage") { request, context in
      try self.managePage(parameter(context, "run"), message: request.uri.queryParameters["done"].map(String.init))
    }
    on(.post, "/runs/:run/manage") { request, context in
      try self.manage(parameter(context, "run"), form: try await Self.formBody(request, title: "Manage"))
    }
    on(.get, "/history") { request, _ in
      let query = request.uri.queryParameters
      return try self.historyPage(
        ServedPages.HistoryFilter(
          clipset: query["clipset"].map(String.init), arms: query["arms"].map(String.init),
          mode: query["mode"].map(String.init), calibrations: query["calibrations"] != nil))
    }
    on(.get, "/compare") { request, _ in try self.comparePage(request.uri.queryParameters) }
    on(.get, "/defaults") { _, _ in try self.defaultsPage() }
    on(.get, "/runs/:run") { request, context in
      let run = parameter(context, "run")
      // The report's images are relative to its folder, so its address ends in a slash.
      guard request.uri.path.hasSuffix("/") else {
        return self.redirect("/runs/\(self.percentEncoded(run))/", status: .movedPermanently)
      }
      return try self.reportPage(run)
    }
    on(.get, "/runs/:run/vote") { request, context in
      try await self.votePage(parameter(context, "run"), thanks: request.uri.queryParameters["thanks"] != nil)
    }
    on(.post, "/runs/:run/vote") { request, context in
      try await self.castVote(parameter(context, "run"), form: try await Self.formBody(request, title: "Vote"))
    }
    on(.get, "/runs/:run/clips/:clip/:file") { request, context in
      try self.image(
        run: parameter(context, "run"), clip: parameter(context, "clip"), file: parameter(context, "file"),
        range: request.headers[.range])
    }
    on(.get, "/vote/:token/:name") { request, context in
      await self.blindImage(
        token: parameter(context, "token"), name: parameter(context, "name"), range: request.headers[.range])
    }
    return router
  }

  struct PageError: Error {
    var status: HTTPResponse.Status
    var title: String
    var message: String
  }

  func page(_ status: HTTPResponse.Status, _ html: String) -> Response {
    var fields = HTTPFields()
    fields[.contentType] = "text/html; charset=utf-8"
    fields[.cacheControl] = "no-store"
    return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
  }

  func redirect(_ location: String, status: HTTPResponse.Status = .seeOther) -> Response {
    var fields = HTTPFields()
    fields[.location] = location
    return Response(status: status, headers: fields)
  }

  func percentEncoded(_ s: String) -> String {
    s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
  }

  func finishedRun(_ id: String) throws -> RunRecord {
    guard let run = try store.run(id: id) else {
      throw PageError(status: .notFound, title: "No such run", message: "\(options.database) has no run \(id).")
    }
    guard run.exitCode != nil else {
      throw PageError(
        status: .conflict, title: "Run not finished",
        message: "Run \(id) has not finished; resume it with `mattegate run --resume \(id)`.")
    }
    return run
  }

  func runsPage(showArchived: Bool = false, message: String? = nil) throws -> Response {
    page(
      .ok,
      ServedPages.runs(
        try store.runs(), votes: try store.voteCounts(), database: options.database,
        promotions: Dictionary(grouping: try store.defaultChanges().filter { $0.runID != nil }, by: { $0.runID! }),
        showArchived: showArchived, message: message))
  }

  func managePage(_ id: String, message: String?, status: HTTPResponse.Status = .ok) throws -> Response {
    guard let run = try store.run(id: id) else {
      throw PageError(status: .notFound, title: "No such run", message: "\(options.database) has no run \(id).")
    }
    let plan = try RunAdmin.plan(database: options.database, runID: id, reports: options.reports)
    return page(
      status,
      ServedPages.manage(
        run, folders: plan.folders, bytes: plan.bytes, reusedByOtherRuns: plan.reusedByOtherRuns,
        evidenceOf: try store.defaultChanges(runID: id).map(\.id), message: message))
  }

  /// A quality note from the served report's form; back to the clip it is on.
  func addNote(_ id: String, form: [String: String]) throws -> Response {
    _ = try finishedRun(id)
    let clip = form["clip"].flatMap { $0.isEmpty ? nil : $0 }
    let author = form["author"].map { String($0.prefix(80)) }.flatMap { $0.isEmpty ? nil : $0 } ?? "anonymous"
    do {
      try RunNotes.add(
        database: options.database, runID: id, text: form["text"] ?? "", clip: clip,
        arm: form["arm"].flatMap { $0.isEmpty ? nil : $0 }, frame: form["frame"].flatMap { $0.isEmpty ? nil : $0 },
        author: author)
    } catch let error as RunError {
      throw PageError(status: .badRequest, title: "Note", message: error.description)
    } catch let error as StoreError {
      throw PageError(status: .badRequest, title: "Note", message: error.reason)
    }
    return redirect("/runs/\(percentEncoded(id))/" + (clip.map { "#clip-\(percentEncoded($0))" } ?? "#runbook"))
  }

  /// Rename, tags, archive, unarchive or delete (confirmed by the run's id typed again).
  func manage(_ id: String, form: [String: String]) throws -> Response {
    let done: String
    do {
      switch form["action"] {
      case "rename":
        try RunAdmin.rename(database: options.database, runID: id, name: form["name"])
        done = "Renamed."
      case "tags":
        let lines = (form["tags"] ?? "").split(whereSeparator: \.isNewline).map {
          $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        let current = (try store.run(id: id)?.tags ?? "").split(separator: "\n").compactMap {
          $0.split(separator: "=", maxSplits: 1).first.map(String.init)
        }
        try RunAdmin.tag(database: options.database, runID: id, set: lines, remove: current)
        done = "Tags saved."
      case "archive":
        try RunAdmin.archive(database: options.database, runID: id, archived: true)
        done = "Archived."
      case "unarchive":
        try RunAdmin.archive(database: options.database, runID: id, archived: false)
        done = "Back in the lists."
      case "delete":
        guard form["confirm"] == id else {
          return try managePage(
            id, message: "Not deleted: type the run's id exactly to confirm.", status: .badRequest)
        }
        try RunAdmin.delete(database: options.database, runID: id, reports: options.reports)
        return redirect("/?deleted=\(percentEncoded(id))")
      default:
        throw PageError(
          status: .badRequest, title: "Manage",
          message: "Unknown action; use rename, tags, archive, unarchive or delete.")
      }
    } catch let error as RunError {
      return try managePage(id, message: "Not done: \(error.description)", status: .badRequest)
    } catch let error as StoreError {
      return try managePage(id, message: "Not done: \(error.reason)", status: .conflict)
    }
    return redirect("/runs/\(percentEncoded(id))/manage?done=\(percentEncoded(done))")
  }

  func defaultsPage() throws -> Response {
    page(
      .ok,
      ServedPages.defaults(
        try store.defaultChanges(), runs: Set(try store.runs().map(\.id)), database: options.database))
  }

  func historyPage(_ filter: ServedPages.HistoryFilter) throws -> Response {
    var series: [(region: String, metric: String, rows: [EndpointHistoryRow])] = []
    for region in RegionKind.allCases {
      for metric in MetricKind.allCases {
        series.append(
          (region.rawValue, metric.rawValue, try store.history(region: region.rawValue, metric: metric.rawValue)))
      }
    }
    return page(.ok, ServedPages.history(series, filter: filter))
  }

  func comparePage(_ query: Parameters) throws -> Response {
    guard let a = query["a"].map(String.init), let b = query["b"].map(String.init) else {
      throw PageError(status: .badRequest, title: "Compare", message: "Name two runs: /compare?a=RUN&b=RUN.")
    }
    let ra = try finishedRun(a)
    let rb = try finishedRun(b)
    let clipsA = try store.clips(runID: a)
    let clipsB = try store.clips(runID: b)
    let notes = ServedPages.sourceDifferences(clipsA, clipsB)
    let comparisonsA = try store.comparisons(runID: a)
    let primaries = comparisonsA.filter(\.isPrimary).sorted {
      ServedPages.order($0.region, $0.metric) < ServedPages.order($1.region, $1.metric)
    }.map { (region: $0.region, metric: $0.metric) }
    let lineup = ServedPages.Lineup(
      endpoints: primaries,
      rows: RunComparability.lineup(
        clips: clipsA, clipsB, metrics: try store.clipMetrics(runID: a), try store.clipMetrics(runID: b),
        endpoints: primaries))
    return page(
      .ok,
      ServedPages.compare(
        ra, comparisonsA, rb, try store.comparisons(runID: b), sourceNotes: notes, lineup: lineup))
  }

  func reportPage(_ id: String) throws -> Response {
    _ = try finishedRun(id)
    var model = try ReportBuilder.model(runID: id, store: store, runFolder: runFolder(id))
    model.noteAction = "/runs/\(percentEncoded(id))/notes"
    let nav = ServedPages.navigation + [("Blind vote on this run", "/runs/\(percentEncoded(id))/vote")]
    return page(.ok, HTMLReport.render(model, navigation: nav))
  }

  func runFolder(_ id: String) -> String { options.reports + "/" + id }

  /// A review crop of a run's clip (only PNGs named as the run writes them, in the run's
  /// folder) or its preview video, served with byte ranges so the player can seek.
  func image(run id: String, clip: String, file: String, range: String? = nil) throws -> Response {
    let run = try finishedRun(id)
    if file == "preview.webm", try store.clips(runID: run.id).contains(where: { $0.clipID == clip }) {
      return try video(runFolder(id) + "/clips/" + clip + "/" + file, range: range)
    }
    guard file.hasSuffix(".png"), !file.hasPrefix("."),
      file.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }),
      try store.clips(runID: run.id).contains(where: { $0.clipID == clip })
    else {
      throw PageError(status: .notFound, title: "Not found", message: "Run \(id) has no image \(clip)/\(file).")
    }
    return try png(runFolder(id) + "/clips/" + clip + "/" + file)
  }

  /// A video file, whole or the one byte range asked for (`bytes=A-B`, `bytes=A-`, `bytes=-N`):
  /// a media element seeks by asking for ranges. Written here because Hummingbird's file
  /// middleware serves a folder tree, not one checked file of a run.
  /// Only the bytes asked for are read: a player seeking through a preview asks for many ranges.
  func video(_ path: String, range: String?) throws -> Response {
    guard let file = FileHandle(forReadingAtPath: path),
      let count = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    else {
      throw PageError(status: .notFound, title: "Not found", message: "No preview at \(path).")
    }
    defer { try? file.close() }
    func read(_ span: ClosedRange<Int>) throws -> ByteBuffer {
      try file.seek(toOffset: UInt64(span.lowerBound))
      return ByteBuffer(bytes: try file.read(upToCount: span.count) ?? Data())
    }
    var fields = HTTPFields()
    fields[.contentType] = "video/webm"
    fields[.acceptRanges] = "bytes"
    fields[.cacheControl] = "no-store"
    guard let range, let span = ReviewServer.byteRange(range, count: count) else {
      if range != nil {
        fields[.contentRange] = "bytes */\(count)"
        return Response(status: .rangeNotSatisfiable, headers: fields)
      }
      return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: try read(0...max(0, count - 1))))
    }
    fields[.contentRange] = "bytes \(span.lowerBound)-\(span.upperBound)/\(count)"
    return Response(status: .partialContent, headers: fields, body: ResponseBody(byteBuffer: try read(span)))
  }

  func png(_ path: String) throws -> Response {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw PageError(status: .notFound, title: "Not found", message: "No image at \(path).")
    }
    var fields = HTTPFields()
    fields[.contentType] = "image/png"
    fields[.cacheControl] = "no-store"
    return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
  }

  /// The next clip to vote on: among the clips with both arms' review crops, one with the
  /// fewest votes so far, clips without ground truth first (a random one of those); sides
  /// drawn at random.
  func votePage(_ id: String, thanks: Bool) async throws -> Response {
    let run = try finishedRun(id)
    let stored = try store.votes(runID: run.id)
    typealias Candidate = (
      clip: String, files: [String: String], size: (width: Int, height: Int)?, truth: Bool, frame: Int
    )
    var candidates: [Candidate] = []
    for clip in try store.clips(runID: run.id) where clip.status == "scored" {
      let reviews = ReportBuilder.regionReviews(clipID: clip.clipID, runFolder: runFolder(run.id))
      guard
        let r = reviews.first(where: { $0.region == RegionKind.transition.rawValue }) ?? reviews.first,
        r.images["a"] != nil, r.images["b"] != nil
      else { continue }
      candidates.append(
        (clip.clipID, r.images.mapValues { runFolder(run.id) + "/" + $0 }, r.size, clip.hasTruth, r.frame))
    }
    guard !candidates.isEmpty else {
      throw PageError(
        status: .notFound, title: "Nothing to vote on",
        message: "Run \(id) has no clip with review crops of both arms in \(runFolder(id)).")
    }
    let counts = Dictionary(grouping: stored, by: \.clipID).mapValues(\.count)
    // Fewest votes first; at equal votes, clips without ground truth first: a person's eye is
    // the only judge they have.
    func rank(_ c: Candidate) -> Int {
      (counts[c.clip] ?? 0) * 2 + (c.truth ? 1 : 0)
    }
    let fewest = candidates.map(rank).min()!
    let pick = candidates.filter { rank($0) == fewest }.randomElement()!
    let leftArm = Bool.random() ? "A" : "B"
    let (l, r) = leftArm == "A" ? ("a", "b") : ("b", "a")
    var files: [String: String] = [:]
    for (name, role) in [("source", "source"), ("truth", "truth"), ("left", l), ("right", r)] {
      if let path = pick.files[role] { files[name] = path }
    }
    // In motion, when the clip has a preview: its tiles by position only (their order in the
    // file was drawn per clip), looping around the frame the crops come from.
    var motion: ServedPages.VoteMotion?
    var video: String?
    let (layout, path, _) = ReportBuilder.preview(clipID: pick.clip, runFolder: runFolder(run.id))
    if let layout, let path, let left = layout.tiles.firstIndex(of: leftArm),
      let right = layout.tiles.firstIndex(of: leftArm == "A" ? "B" : "A"),
      let truth = layout.tiles.firstIndex(of: "truth")
    {
      video = runFolder(run.id) + "/" + path
      let center = layout.frames.firstIndex(of: pick.frame) ?? layout.frames.count / 2
      let half = max(1, Int((layout.fps * 0.6).rounded()))
      motion = ServedPages.VoteMotion(
        tileWidth: layout.tileWidth, tileHeight: layout.tileHeight, fps: layout.fps, left: left, right: right,
        truth: pick.truth ? truth : nil, loop: max(0, center - half)...min(layout.frames.count - 1, center + half))
    }
    let token = await votes.add(
      PendingVote(runID: run.id, clipID: pick.clip, leftArm: leftArm, files: files, size: pick.size, video: video))
    return page(
      .ok,
      ServedPages.vote(
        runID: run.id, clip: pick.clip, token: token, size: files["source"] != nil ? pick.size : nil,
        votesSoFar: stored.count, thanks: thanks, motion: motion))
  }

  func blindImage(token: String, name: String, range: String? = nil) async -> Response {
    if name == "clip.webm", let v = await votes.peek(token), let path = v.video,
      let response = try? video(path, range: range)
    {
      return response
    }
    guard name.hasSuffix(".png"), let v = await votes.peek(token), let path = v.files[String(name.dropLast(4))],
      let response = try? png(path)
    else {
      return page(.notFound, ServedPages.problem("Not found", "No such image."))
    }
    return response
  }

  func castVote(_ id: String, form: [String: String]) async throws -> Response {
    guard let token = form["token"], let choice = form["choice"], ["left", "right", "tie"].contains(choice) else {
      throw PageError(
        status: .badRequest, title: "Vote", message: "A vote needs a token and a choice (left, right or tie).")
    }
    guard let v = await votes.take(token), v.runID == id else {
      throw PageError(
        status: .badRequest, title: "Vote",
        message: "This vote's token is unknown or already used (the server may have restarted); vote again.")
    }
    let other = v.leftArm == "A" ? "B" : "A"
    let arm = choice == "tie" ? "tie" : (choice == "left" ? v.leftArm : other)
    let voter = form["voter"].map { String($0.prefix(80)) }.flatMap { $0.isEmpty ? nil : $0 }
    try store.addVote(
      VoteRecord(runID: id, clipID: v.clipID, leftArm: v.leftArm, choice: arm, voter: voter, createdAt: Date()))
    return redirect("/runs/\(percentEncoded(id))/vote?thanks=1")
  }

  /// A posted form's fields; a body over 16 KB is refused (413) with the page's title.
  static func formBody(_ request: Request, title: String) async throws -> [String: String] {
    do {
      return form(String(buffer: try await request.body.collect(upTo: 16 * 1024)))
    } catch {
      throw PageError(
        status: .contentTooLarge, title: title, message: "The form must be under 16 KB; this one is larger.")
    }
  }

  /// An application/x-www-form-urlencoded body as fields (the last of a repeated name wins).
  static func form(_ body: String) -> [String: String] {
    var out: [String: String] = [:]
    for pair in body.split(separator: "&") {
      let kv = pair.split(separator: "=", maxSplits: 1).map {
        String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
      }
      if let key = kv.first { out[key] = kv.count > 1 ? kv[1] : "" }
    }
    return out
  }
}

extension ReviewServer {
  /// The bytes a single-range `Range` header asks for, within a file of `count` bytes; nil
  /// when it is malformed, asks for several ranges or starts past the end.
  public static func byteRange(_ header: String, count: Int) -> ClosedRange<Int>? {
    guard header.hasPrefix("bytes="), count > 0 else { return nil }
    let spec = header.dropFirst(6)
    guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return nil }
    let first = spec[..<dash].trimmingCharacters(in: .whitespaces)
    let last = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
    if first.isEmpty {
      guard let n = Int(last), n > 0 else { return nil }
      return max(0, count - n)...(count - 1)
    }
    guard let a = Int(first), a >= 0, a < count else { return nil }
    if last.isEmpty { return a...(count - 1) }
    guard let b = Int(last), b >= a else { return nil }
    return a...min(b, count - 1)
  }
}
