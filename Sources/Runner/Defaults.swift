import Clips
public import Foundation
import MediaIO
public import Report
import Services
public import Store
import Verdict

/// `mattegate promote`, `rollback` and `defaults history`: a default config file changed only on
/// evidence, every change recorded in SQLite with who, when, from what and on which run.
public enum Defaults {
  /// A default config file: its absolute path and its path relative to the repository's top
  /// folder (what the store records, the same in every clone).
  public struct ConfigFile: Sendable, Equatable {
    public var absolute: String
    public var relative: String
  }

  /// The top folder of the git work tree holding `directory`, or `directory` itself outside git.
  public static func repositoryRoot(from directory: String = FileManager.default.currentDirectoryPath) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "-C", directory, "rev-parse", "--show-toplevel"]
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    let resolved = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
    do { try process.run() } catch { return resolved }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard process.terminationStatus == 0, !text.isEmpty else { return resolved }
    return URL(fileURLWithPath: text).resolvingSymlinksInPath().path
  }

  /// `path` as a default config file: a YAML file inside the repository (symbolic links
  /// resolved), or why not.
  public static func configFile(_ path: String, root: String) throws -> ConfigFile {
    let url = URL(fileURLWithPath: path).standardizedFileURL
    let absolute = url.resolvingSymlinksInPath().path
    guard absolute.hasPrefix(root + "/") else {
      throw RunError(
        "\(path): the default config file must be inside the repository (\(root)); it resolves to \(absolute)")
    }
    guard absolute.hasSuffix(".yaml") || absolute.hasSuffix(".yml") else {
      throw RunError("\(path): a default config file is a .yaml file")
    }
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isFolder), !isFolder.boolValue else {
      throw RunError("\(path): no such file (the default config file must exist before it can be replaced)")
    }
    return ConfigFile(absolute: absolute, relative: String(absolute.dropFirst(root.count + 1)))
  }

  /// What a promote or rollback did.
  public struct Outcome: Sendable {
    public var change: DefaultChangeRecord
    /// Warnings shown but overridden (clip set differences with `--allow-clipset-change`).
    public var warnings: [String] = []
    /// The reports rendered again with the change in their banner, and those that could not be.
    public var reports: [String] = []
    public var notes: [String] = []
  }

  /// Replaces the default config file with arm B's config file of `runID`, when the run is the
  /// evidence a rollout needs: a finished, unsharded A/B run that passed its rollout gate, whose
  /// arm A is the file's current default, on a clip set that is still pinned and unchanged, and
  /// (unless `allowClipsetChange`) whose clips match, in source bytes and compression, those of
  /// the latest run that was the evidence for a change of this file.
  public static func promote(
    runID: String, config path: String, database: String, owner: String, reason: String?,
    allowClipsetChange: Bool, root: String = repositoryRoot()
  ) throws -> Outcome {
    guard FileManager.default.fileExists(atPath: database) else { throw RunError("\(database): no such database") }
    let file = try configFile(path, root: root)
    let store = try ResultStore(path: database)
    guard let run = try store.run(id: runID) else { throw RunError("\(database): there is no run \(runID)") }
    let refuse = { (why: String) in RunError("refused: run \(runID) \(why); \(file.relative) is unchanged") }
    guard let exitCode = run.exitCode else {
      throw refuse("has not finished (resume it with mattegate run --resume \(runID))")
    }
    if let shard = run.shard, let total = Int(shard.split(separator: "/").last ?? ""), total > 1 {
      throw refuse("is shard \(shard) of a split run; merge the shards (mattegate merge) and promote the merged run")
    }
    guard run.configAHash != run.configBHash else {
      throw refuse("compares a config with itself (an A/A calibration); there is no candidate to promote")
    }
    guard let policy = GatePolicy(canonicalText: run.gateText) else {
      throw refuse("has a stored gate that cannot be read")
    }
    guard policy.mode == .rollout else {
      throw refuse(
        "was gated in \(policy.mode.rawValue) mode, which does not show non-inferiority; promote needs a rollout run")
    }
    guard exitCode == 0 else {
      let status = GateOutcome.status(exitCode: Int32(exitCode)).rawValue
      let first = (run.gateReasons ?? "").split(separator: "\n").first.map { ": \($0)" } ?? ""
      throw refuse("did not pass its rollout gate (\(status), exit \(exitCode)\(first))")
    }
    guard let newYAML = run.configBYAML, run.configAYAML != nil else {
      throw refuse("was made before runs kept their config files (mattegate 0.12); run it again")
    }
    // Stale: the file must still be the default the run compared against.
    let current: ArmConfig
    do { current = try ArmConfig.load(file.absolute) } catch {
      throw RunError("refused: \(error); \(file.relative) is unchanged")
    }
    if current.settingsHash == run.configBHash {
      throw RunError(
        "refused: \(file.relative) already holds the settings of run \(runID)'s arm B ('\(run.configBName)'); nothing to promote"
      )
    }
    guard current.settingsHash == run.configAHash else {
      throw refuse(
        "is stale: it compared B against '\(run.configAName)' (settings \(run.configAHash.prefix(12))…), but \(file.relative) now holds settings \(current.settingsHash.prefix(12))…; run A against B again"
      )
    }
    // Stale: the clip set must be pinned and unchanged since the run.
    let clipSet: ClipSet
    do { clipSet = try ClipSet.load(folder: run.clipsetFolder) } catch {
      throw refuse("is stale: its clip set no longer loads as pinned (\(error))")
    }
    guard clipSet.manifestSHA256 == run.clipsetSHA256 else {
      throw refuse(
        "is stale: \(run.clipsetFolder)/clipset.yaml changed since the run (pinned \(run.clipsetSHA256.prefix(12))…, now \(clipSet.manifestSHA256.prefix(12))…)"
      )
    }
    // The seed's rule across runs: the evidence must be on the clips (bytes and compression)
    // that made the current default.
    var warnings: [String] = []
    let changes = try store.defaultChanges(configPath: file.relative)
    if let last = changes.last(where: { $0.runID != nil }), let before = last.runID, before != runID,
      try store.run(id: before) != nil
    {
      let differences = ServedPages.sourceDifferences(try store.clips(runID: before), try store.clips(runID: runID))
        .map {
          $0.replacingOccurrences(of: "run 1", with: "run \(before)").replacingOccurrences(
            of: "run 2", with: "run \(runID)")
        }
      if !differences.isEmpty {
        guard allowClipsetChange else {
          throw refuse(
            "is on clips that differ from those of run \(before), the evidence for \(file.relative)'s change #\(last.id): \(differences.joined(separator: "; ")); pass --allow-clipset-change to promote anyway"
          )
        }
        warnings = differences
      }
    }
    let previousYAML = try readText(file)
    let report = run.reportFolder.map { $0 + "/index.html" }
    var record = DefaultChangeRecord(
      configPath: file.relative, action: "promote", runID: runID, restores: nil, owner: owner, createdAt: Date(),
      fromConfig: run.configBName, gateMode: policy.mode.rawValue,
      gateOutcome: GateOutcome.status(exitCode: Int32(exitCode)).rawValue,
      previousSHA256: FileHash.sha256(of: Data(previousYAML.utf8)), previousYAML: previousYAML,
      newSHA256: FileHash.sha256(of: Data(newYAML.utf8)), newYAML: newYAML, report: report,
      gitCommit: RunLabel.git(in: root).commit,
      reason: reason.map { r in warnings.isEmpty ? r : r + " (clip set differences overridden)" }
        ?? (warnings.isEmpty ? nil : "clip set differences overridden"))
    record.id = try replace(file, with: newYAML, previous: previousYAML) { try store.addDefaultChange(record) }
    var outcome = Outcome(change: record, warnings: warnings)
    rerender([runID], store: store, database: database, into: &outcome)
    return outcome
  }

  /// Restores an earlier version of the default config file: the one change `to` wrote (0: the
  /// file as it was before its first recorded change), or, without `to`, the version before the
  /// latest change. Refused when the file was edited since mattegate last wrote it (unless
  /// `force`), or when it already holds that version.
  public static func rollback(
    config path: String, to target: Int64?, database: String, owner: String, reason: String?, force: Bool,
    root: String = repositoryRoot()
  ) throws -> Outcome {
    guard FileManager.default.fileExists(atPath: database) else { throw RunError("\(database): no such database") }
    let file = try configFile(path, root: root)
    let store = try ResultStore(path: database)
    let changes = try store.defaultChanges(configPath: file.relative)
    guard let latest = changes.last else {
      throw RunError("\(database): no recorded change of \(file.relative); there is nothing to roll back")
    }
    let refuse = { (why: String) in RunError("refused: \(why); \(file.relative) is unchanged") }
    let currentYAML = try readText(file)
    let currentSHA = FileHash.sha256(of: Data(currentYAML.utf8))
    if currentSHA != latest.newSHA256 && !force {
      throw refuse(
        "\(file.relative) was edited since change #\(latest.id) wrote it (sha256 \(latest.newSHA256.prefix(12))…, now \(currentSHA.prefix(12))…); commit or discard that edit, or pass --force"
      )
    }
    let restoredYAML: String
    let restores: Int64?
    switch target {
    case nil:
      restoredYAML = latest.previousYAML
      restores = changes.dropLast().last(where: { $0.newSHA256 == latest.previousSHA256 })?.id
    case 0?:
      restoredYAML = changes[0].previousYAML
      restores = nil
    case let n?:
      guard let change = changes.first(where: { $0.id == n }) else {
        let all = try store.defaultChanges()
        if let other = all.first(where: { $0.id == n }) {
          throw refuse("change #\(n) changed \(other.configPath), not \(file.relative)")
        }
        throw refuse(
          "there is no change #\(n) of \(file.relative) (its changes: \(changes.map { "#\($0.id)" }.joined(separator: ", ")); 0 is the file before them)"
        )
      }
      restoredYAML = change.newYAML
      restores = n
    }
    let restoredSHA = FileHash.sha256(of: Data(restoredYAML.utf8))
    guard restoredSHA != currentSHA else {
      throw refuse("\(file.relative) already holds that version")
    }
    let evidence = restores.flatMap { n in changes.first { $0.id == n } }
    var record = DefaultChangeRecord(
      configPath: file.relative, action: "rollback", runID: evidence?.runID, restores: restores, owner: owner,
      createdAt: Date(), fromConfig: restores.map { "change #\($0)" } ?? "the file before change #\(changes[0].id)",
      gateMode: evidence?.gateMode, gateOutcome: evidence?.gateOutcome, previousSHA256: currentSHA,
      previousYAML: currentYAML, newSHA256: restoredSHA, newYAML: restoredYAML, report: evidence?.report,
      gitCommit: RunLabel.git(in: root).commit, reason: reason)
    record.id = try replace(file, with: restoredYAML, previous: currentYAML) { try store.addDefaultChange(record) }
    var outcome = Outcome(change: record)
    rerender(
      Array(Set([latest.runID, evidence?.runID].compactMap { $0 })).sorted(), store: store, database: database,
      into: &outcome)
    return outcome
  }

  /// The changes recorded in `database` (of one file when `config` is given), as lines.
  public static func history(database: String, config path: String?, root: String = repositoryRoot()) throws
    -> [String]
  {
    guard FileManager.default.fileExists(atPath: database) else { throw RunError("\(database): no such database") }
    let store = try ResultStore(path: database)
    let relative: String? = try path.map { p in
      let absolute = URL(fileURLWithPath: p).standardizedFileURL.resolvingSymlinksInPath().path
      guard absolute.hasPrefix(root + "/") else {
        throw RunError("\(p): the default config file must be inside the repository (\(root))")
      }
      return String(absolute.dropFirst(root.count + 1))
    }
    let changes = try store.defaultChanges(configPath: relative)
    guard !changes.isEmpty else {
      return ["no recorded default changes" + (relative.map { " of \($0)" } ?? "") + " in \(database)"]
    }
    let formatter = ISO8601DateFormatter()
    var lines = ["#  when                  action    config  ←  from  ·  evidence  ·  owner"]
    for c in changes {
      var line =
        "\(c.id)  \(formatter.string(from: c.createdAt))  \(c.action.padding(toLength: 8, withPad: " ", startingAt: 0))  \(c.configPath) ← \(c.fromConfig)"
      if let run = c.runID {
        line += "  ·  run \(run)"
        if let mode = c.gateMode, let outcome = c.gateOutcome { line += " (\(mode), \(outcome))" }
      } else {
        line += "  ·  no evidence run"
      }
      line += "  ·  by \(c.owner)"
      if let commit = c.gitCommit { line += "  ·  at git \(commit.prefix(12))" }
      lines.append(line)
      if let reason = c.reason { lines.append("     why: \(reason)") }
      if let report = c.report { lines.append("     report: \(report)") }
    }
    for (config, list) in Dictionary(grouping: changes, by: \.configPath).sorted(by: { $0.key < $1.key }) {
      lines.append("current \(config): change #\(list.last!.id) (sha256 \(list.last!.newSHA256.prefix(12))…)")
    }
    return lines
  }

  /// What a run's report says about the default changes it was the evidence for.
  public static func banner(runID: String, store: ResultStore) throws -> [ReportModel.DefaultChange] {
    let own = try store.defaultChanges(runID: runID).filter { $0.action == "promote" }
    guard !own.isEmpty else { return [] }
    let all = try store.defaultChanges()
    return own.map { c in
      var entry = ReportModel.DefaultChange(
        number: Int(c.id), configPath: c.configPath, fromConfig: c.fromConfig, owner: c.owner, date: c.createdAt)
      if let later = all.first(where: { $0.configPath == c.configPath && $0.id > c.id }) {
        entry.replacedBy = (Int(later.id), later.action, later.owner, later.createdAt)
      }
      return entry
    }
  }

  private static func readText(_ file: ConfigFile) throws -> String {
    do { return try String(contentsOfFile: file.absolute, encoding: .utf8) } catch {
      throw RunError("\(file.relative): cannot be read as UTF-8 text")
    }
  }

  /// Writes `text` over the file, then records the change; when recording fails the file gets
  /// its previous text back, so the file and the store never disagree.
  private static func replace(_ file: ConfigFile, with text: String, previous: String, record: () throws -> Int64)
    throws -> Int64
  {
    do { try text.write(toFile: file.absolute, atomically: true, encoding: .utf8) } catch {
      throw RunError("\(file.relative): cannot be written: \(ErrorText.plain(error))")
    }
    do { return try record() } catch {
      try? previous.write(toFile: file.absolute, atomically: true, encoding: .utf8)
      throw error
    }
  }

  /// Renders the runs' HTML reports again so their banners show the change; a report folder
  /// that is gone (a CI artifact) is a note, not an error.
  private static func rerender(_ runs: [String], store: ResultStore, database: String, into outcome: inout Outcome) {
    for id in runs {
      guard let run = try? store.run(id: id), let folder = run.reportFolder,
        FileManager.default.fileExists(atPath: folder + "/index.html")
      else {
        outcome.notes.append(
          "run \(id)'s report folder is not here; `mattegate report \(id)` renders it with the change")
        continue
      }
      do {
        _ = try RunReport.render(
          runID: id, database: database, outputFolder: (folder as NSString).deletingLastPathComponent, format: "html")
        outcome.reports.append(folder + "/index.html")
      } catch {
        outcome.notes.append("run \(id)'s report could not be rendered again: \(error)")
      }
    }
  }
}
