import Clips
import Foundation
import Store
import Verdict

/// Joins the shards of a run made on several workers (`mattegate merge`).
public enum RunMerger {
  /// Finds the shard runs in `databases`, checks that they are all the shards of one run (the
  /// same identity, each K of N once), copies their rows into `target` under a new run and
  /// decides over all clips as one run would.
  ///
  /// - Throws: `RunError` naming the databases and runs when the shards do not fit together.
  public static func merge(
    databases: [String], into target: String, outputFolder: String, runID runIDRequest: String? = nil,
    label: RunLabel = RunLabel(), output: @Sendable (String) -> Void = { _ in }
  ) throws -> RunResult {
    guard !databases.isEmpty else { throw RunError("merge needs at least one database") }
    let targetPath = URL(fileURLWithPath: target).standardizedFileURL.path
    var shards: [(db: String, run: RunRecord, index: Int, count: Int)] = []
    for db in databases {
      guard FileManager.default.fileExists(atPath: db) else { throw RunError("\(db): no such database") }
      guard URL(fileURLWithPath: db).standardizedFileURL.path != targetPath else {
        throw RunError("\(db): merge into a database that is not one of its inputs")
      }
      let store = try ResultStore(path: db)
      let runs = try store.runs().filter { $0.shard != nil }
      guard !runs.isEmpty else { throw RunError("\(db): holds no shard runs (made with run --shard K/N)") }
      for run in runs {
        let (k, n) = try RunCoordinator.parseShard(run.shard!)
        guard run.status != "running" else {
          throw RunError(
            "\(db): shard \(run.shard!) (run \(run.id)) did not finish; resume it with run --resume \(run.id)")
        }
        shards.append((db, run, k, n))
      }
    }
    let first = shards[0]
    let identity = RunIdentity(text: first.run.identityText ?? "")
    for s in shards.dropFirst() {
      let other = RunIdentity(text: s.run.identityText ?? "")
      guard other == identity else {
        throw RunError(
          "run \(s.run.id) (\(s.db)) is not a shard of the same run as \(first.run.id) (\(first.db)): "
            + other.differences(from: identity).joined(separator: "; "))
      }
      guard s.count == first.count else {
        throw RunError(
          "run \(s.run.id) (\(s.db)) is shard \(s.run.shard!), run \(first.run.id) is shard \(first.run.shard!)")
      }
    }
    for k in 1...first.count {
      let found = shards.filter { $0.index == k }
      guard found.count == 1 else {
        throw RunError(
          found.isEmpty
            ? "shard \(k)/\(first.count) is missing (found \(shards.map { $0.run.shard! }.sorted().joined(separator: ", ")))"
            : "shard \(k)/\(first.count) appears \(found.count) times (runs \(found.map(\.run.id).joined(separator: ", ")))"
        )
      }
    }
    guard let policy = GatePolicy(canonicalText: first.run.gateText) else {
      throw RunError("\(first.db): run \(first.run.id) has a gate policy this version cannot read")
    }

    let store = try ResultStore(path: target)
    let runID = runIDRequest ?? RunCoordinator.makeRunID()
    if runIDRequest != nil, try store.run(id: runID) != nil {
      throw RunError("\(target): run id \(runID) is already used; choose another --run-id")
    }
    var record = first.run
    record.id = runID
    record.createdAt = Date()
    record.finishedAt = nil
    record.status = "running"
    record.exitCode = nil
    record.outcome = nil
    record.shard = nil
    record.mergedFrom = shards.sorted { $0.index < $1.index }.map(\.run.id).joined(separator: ",")
    record.serviceVersion = shards.compactMap(\.run.serviceVersion).first
    // The merged run carries the merge's own labels and provenance (the CLI always gives them);
    // a caller passing no label keeps the first shard's.
    if label != RunLabel() { record.apply(label) }
    let runFolder = outputFolder + "/" + runID
    record.reportFolder = URL(fileURLWithPath: runFolder).standardizedFileURL.path
    try store.insert(record)
    for s in shards.sorted(by: { $0.index < $1.index }) {
      try store.copyRows(of: s.run.id, from: s.db, as: runID)
      try copyReviewFiles(of: s.run, db: s.db, into: runFolder)
      output("merged shard \(s.run.shard!) (run \(s.run.id), \(s.db))\n")
    }
    return try RunFinisher.finish(runID: runID, store: store, policy: policy, runFolder: runFolder)
  }

  /// A shard's review crops (`clips/<clip>/…`) and its operational log, so the merged report
  /// shows every crop and viewer and links every failed job's requests. The shard's folder is
  /// the one it recorded; a shard from before v12 is looked for beside its database.
  static func copyReviewFiles(of run: RunRecord, db: String, into runFolder: String) throws {
    let fm = FileManager.default
    let candidates = [run.reportFolder, URL(fileURLWithPath: db).deletingLastPathComponent().path + "/\(run.id)"]
    guard let folder = candidates.compactMap({ $0 }).first(where: { fm.fileExists(atPath: $0 + "/clips") }) else {
      return
    }
    try fm.createDirectory(atPath: runFolder + "/clips", withIntermediateDirectories: true)
    for clip in try fm.contentsOfDirectory(atPath: folder + "/clips") where ClipID.problem(clip) == nil {
      let to = try ClipID.path(clip, in: runFolder + "/clips")
      if !fm.fileExists(atPath: to) { try fm.copyItem(atPath: folder + "/clips/" + clip, toPath: to) }
    }
    // The operational log: per clip-arm files copied, the run's lines appended.
    if let files = try? fm.contentsOfDirectory(atPath: folder + "/requests"), !files.isEmpty {
      try fm.createDirectory(atPath: runFolder + "/requests", withIntermediateDirectories: true)
      for file in files where file.hasSuffix(".jsonl") && !file.contains("/") {
        let to = runFolder + "/requests/" + file
        if !fm.fileExists(atPath: to) { try fm.copyItem(atPath: folder + "/requests/" + file, toPath: to) }
      }
    }
    if let lines = fm.contents(atPath: folder + "/requests.jsonl") {
      let target = runFolder + "/requests.jsonl"
      if !fm.fileExists(atPath: target) { _ = fm.createFile(atPath: target, contents: nil) }
      guard let handle = FileHandle(forWritingAtPath: target) else {
        throw RunError("\(target): cannot be written")
      }
      defer { try? handle.close() }
      _ = try handle.seekToEnd()
      try handle.write(contentsOf: lines)
    }
  }
}
