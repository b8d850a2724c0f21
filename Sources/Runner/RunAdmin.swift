import Foundation
import Store

/// Keeping the store tidy (`mattegate runs …` and `serve`'s manage page): rename, tag, archive
/// and delete runs; a deletion removes the run's report folder and its outputs too.
public enum RunAdmin {
  static func store(_ database: String) throws -> ResultStore {
    guard FileManager.default.fileExists(atPath: database) else { throw RunError("\(database): no such database") }
    return try ResultStore(path: database)
  }

  static func existing(_ store: ResultStore, _ runID: String) throws -> RunRecord {
    guard let run = try store.run(id: runID) else { throw RunError("\(store.path): there is no run \(runID)") }
    return run
  }

  /// Sets the run's name (nil or empty: clears it).
  public static func rename(database: String, runID: String, name: String?) throws {
    let name = name.flatMap { $0.isEmpty ? nil : $0 }
    if let name, name.count > 200 || name.contains(where: \.isNewline) {
      throw RunError("a run's name is 1 to 200 characters on one line")
    }
    let store = try store(database)
    _ = try existing(store, runID)
    try store.setName(runID: runID, name)
  }

  /// Removes the keys `remove`, then adds or replaces the tags `set` (`k=v`); returns the run's
  /// tags after the change as `k=v` lines.
  @discardableResult
  public static func tag(database: String, runID: String, set: [String], remove: [String]) throws -> [String] {
    var parsed: [(String, String)] = []
    for text in set {
      switch RunLabel.parseTag(text) {
      case .success(let kv): parsed.append(kv)
      case .failure(let e): throw RunError("tag: \(e)")
      }
    }
    let store = try store(database)
    let run = try existing(store, runID)
    var tags: [String: String] = [:]
    for line in (run.tags ?? "").split(separator: "\n") {
      guard let eq = line.firstIndex(of: "=") else { continue }
      tags[String(line[..<eq])] = String(line[line.index(after: eq)...])
    }
    for k in remove { tags[k] = nil }
    for (k, v) in parsed { tags[k] = v }
    var label = RunLabel()
    label.tags = tags
    try store.setTags(runID: runID, label.tagText)
    return label.tagText.map { $0.split(separator: "\n").map(String.init) } ?? []
  }

  /// Archives the run (kept in full, left out of `serve`'s lists and history) or brings it back.
  public static func archive(database: String, runID: String, archived: Bool) throws {
    let store = try store(database)
    _ = try existing(store, runID)
    try store.setArchived(runID: runID, archived ? Date() : nil)
  }

  /// What deleting a run removes besides its rows: its report folder and its outputs folder
  /// (`OUT/RUN/`, `OUT/outputs/RUN/`), their size, and how many jobs of other runs reused its
  /// outputs (their scores stay, the files they point to go).
  public struct Deletion: Sendable, Equatable {
    public var runID: String
    public var folders: [String]
    public var bytes: Int64
    public var reusedByOtherRuns: Int
  }

  /// The deletion `delete` would make, for a confirmation prompt; nothing is changed.
  public static func plan(database: String, runID: String, reports: String) throws -> Deletion {
    let store = try store(database)
    let run = try existing(store, runID)
    let reportFolder = run.reportFolder ?? (reports + "/" + runID)
    let outputs = (reportFolder as NSString).deletingLastPathComponent + "/outputs/" + runID
    var folders: [String] = []
    var bytes: Int64 = 0
    for folder in [reportFolder, outputs] {
      // Only a real folder named after the run, never a link to somewhere else.
      guard (folder as NSString).lastPathComponent == runID,
        let attributes = try? FileManager.default.attributesOfItem(atPath: folder),
        attributes[.type] as? FileAttributeType == .typeDirectory
      else { continue }
      folders.append(folder)
      bytes += size(of: folder)
    }
    return Deletion(
      runID: runID, folders: folders, bytes: bytes, reusedByOtherRuns: try store.reusesOfOutputs(runID: runID))
  }

  /// Deletes the run's rows and then its folders (as `plan` lists them).
  @discardableResult
  public static func delete(database: String, runID: String, reports: String) throws -> Deletion {
    let deletion = try plan(database: database, runID: runID, reports: reports)
    try store(database).deleteRun(id: runID)
    for folder in deletion.folders {
      do { try FileManager.default.removeItem(atPath: folder) } catch {
        throw RunError("run \(runID) is deleted from \(database), but \(folder) could not be removed: \(error)")
      }
    }
    return deletion
  }

  static func size(of folder: String) -> Int64 {
    guard let walker = FileManager.default.enumerator(atPath: folder) else { return 0 }
    var total: Int64 = 0
    while let name = walker.nextObject() as? String {
      if let attributes = try? FileManager.default.attributesOfItem(atPath: folder + "/" + name),
        attributes[.type] as? FileAttributeType == .typeRegular
      {
        total += (attributes[.size] as? NSNumber)?.int64Value ?? 0
      }
    }
    return total
  }
}

/// Reviewers' quality notes (`mattegate note`, `serve`'s report form).
public enum RunNotes {
  /// Checks and stores a note: 1–4000 characters; the clip one of the run's; the arm A or B;
  /// the frame (text, as a form sends it) a whole number inside the clip.
  @discardableResult
  public static func add(
    database: String, runID: String, text: String, clip: String?, arm: String?, frame: String?, author: String
  ) throws -> Int64 {
    let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !text.isEmpty, text.count <= 4000 else { throw RunError("a note is 1 to 4000 characters") }
    guard author.count <= 80, !author.isEmpty, !author.contains(where: \.isNewline) else {
      throw RunError("a note's author is 1 to 80 characters on one line")
    }
    if let arm, !["A", "B"].contains(arm) { throw RunError("a note's arm is A or B, not '\(arm.prefix(20))'") }
    let store = try RunAdmin.store(database)
    _ = try RunAdmin.existing(store, runID)
    var frameNumber: Int?
    if let frame {
      guard let n = Int(frame), n >= 0 else { throw RunError("a note's frame is a whole number from 0") }
      guard let clip else { throw RunError("a note on a frame names its clip") }
      guard let record = try store.clips(runID: runID).first(where: { $0.clipID == clip }) else {
        throw RunError("run \(runID) has no clip '\(clip)'")
      }
      guard n < max(record.frames, 1) else {
        throw RunError("clip '\(clip)' has \(record.frames) frames (0–\(record.frames - 1)); there is no frame \(n)")
      }
      frameNumber = n
    }
    return try store.addNote(
      NoteRecord(
        runID: runID, clipID: clip, arm: arm, frame: frameNumber, author: author, text: text, createdAt: Date()))
  }
}
