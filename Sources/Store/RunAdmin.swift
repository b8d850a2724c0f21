public import Foundation
import GRDB

/// A reviewer's quality note on a run, one of its clips, an arm, or a frame of a clip.
public struct NoteRecord: Sendable, Equatable {
  public var id: Int64
  public var runID: String
  public var clipID: String?
  /// `A` or `B`, or nil for both.
  public var arm: String?
  public var frame: Int?
  public var author: String
  public var text: String
  public var createdAt: Date

  public init(
    id: Int64 = 0, runID: String, clipID: String?, arm: String?, frame: Int?, author: String, text: String,
    createdAt: Date
  ) {
    self.id = id
    self.runID = runID
    self.clipID = clipID
    self.arm = arm
    self.frame = frame
    self.author = author
    self.text = text
    self.createdAt = createdAt
  }
}

extension ResultStore {
  /// Sets (or, with nil, clears) a run's name.
  public func setName(runID: String, _ name: String?) throws {
    try updateRun(runID, sql: "UPDATE runs SET name = ? WHERE id = ?", [name, runID])
  }

  /// Replaces a run's tags (sorted `k=v` lines, nil for none).
  public func setTags(runID: String, _ tags: String?) throws {
    try updateRun(runID, sql: "UPDATE runs SET tags = ? WHERE id = ?", [tags, runID])
  }

  /// Archives a run (out of the lists, kept in full), or brings it back with nil.
  public func setArchived(runID: String, _ at: Date?) throws {
    try updateRun(runID, sql: "UPDATE runs SET archived_at = ? WHERE id = ?", [at, runID])
  }

  private func updateRun(_ runID: String, sql: String, _ arguments: StatementArguments) throws {
    try write { db in
      try db.execute(sql: sql, arguments: arguments)
      guard db.changesCount == 1 else { throw StoreError(path: path, reason: "there is no run \(runID)") }
    }
  }

  /// Deletes a run and every row of it (clips, jobs, metrics, comparisons, votes, notes, its
  /// calibration bands and output cache entries). Refused while the run is the evidence of a
  /// recorded default change: that record must keep its evidence.
  public func deleteRun(id: String) throws {
    try write { db in
      if let change = try Int64.fetchOne(
        db, sql: "SELECT MIN(id) FROM default_changes WHERE run_id = ?", arguments: [id])
      {
        throw StoreError(
          path: path,
          reason:
            "run \(id) is the evidence of default change #\(change) (mattegate defaults history); it cannot be deleted, archive it instead"
        )
      }
      try db.execute(sql: "DELETE FROM output_cache WHERE run_id = ?", arguments: [id])
      try db.execute(sql: "DELETE FROM calibrations WHERE run_id = ?", arguments: [id])
      try db.execute(sql: "DELETE FROM runs WHERE id = ?", arguments: [id])
      guard db.changesCount == 1 else { throw StoreError(path: path, reason: "there is no run \(id)") }
    }
  }

  /// How many jobs of other runs reused `runID`'s outputs (their scores stay; their output
  /// files are this run's).
  public func reusesOfOutputs(runID: String) throws -> Int {
    try read { db in
      try Int.fetchOne(
        db, sql: "SELECT COUNT(*) FROM jobs WHERE run_id != ? AND reused_from LIKE ? ESCAPE '\\'",
        arguments: [runID, Self.likePrefix(runID) + "/%"]) ?? 0
    }
  }

  static func likePrefix(_ s: String) -> String {
    s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
      .replacingOccurrences(of: "_", with: "\\_")
  }

  /// Stores a note; the run must exist, and the clip, when given, must be one of its clips.
  @discardableResult
  public func addNote(_ n: NoteRecord) throws -> Int64 {
    try write { db in
      guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs WHERE id = ?", arguments: [n.runID]) == 1 else {
        throw StoreError(path: path, reason: "there is no run \(n.runID)")
      }
      if let clip = n.clipID,
        try Int.fetchOne(
          db, sql: "SELECT COUNT(*) FROM clips WHERE run_id = ? AND clip_id = ?", arguments: [n.runID, clip]) != 1
      {
        throw StoreError(path: path, reason: "run \(n.runID) has no clip '\(clip)'")
      }
      try db.execute(
        sql: """
          INSERT INTO notes (run_id, clip_id, arm, frame, author, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
          """, arguments: [n.runID, n.clipID, n.arm, n.frame, n.author, n.text, n.createdAt])
      return db.lastInsertedRowID
    }
  }

  /// A run's notes, oldest first.
  public func notes(runID: String) throws -> [NoteRecord] {
    try read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM notes WHERE run_id = ? ORDER BY id", arguments: [runID]).map { row in
        NoteRecord(
          id: row["id"], runID: row["run_id"], clipID: row["clip_id"], arm: row["arm"], frame: row["frame"],
          author: row["author"], text: row["text"], createdAt: row["created_at"])
      }
    }
  }

  /// Every note on runs of the given configs (by settings hash), newest first: for the runbook.
  public func notes(configHash: String) throws -> [(note: NoteRecord, configName: String)] {
    try read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT n.*, CASE WHEN n.arm = 'A' THEN r.config_a_name ELSE r.config_b_name END AS config_name
          FROM notes n JOIN runs r ON r.id = n.run_id
          WHERE (n.arm = 'A' AND r.config_a_hash = ?) OR (n.arm = 'B' AND r.config_b_hash = ?)
          ORDER BY n.id DESC
          """, arguments: [configHash, configHash]
      ).map { row in
        (
          NoteRecord(
            id: row["id"], runID: row["run_id"], clipID: row["clip_id"], arm: row["arm"], frame: row["frame"],
            author: row["author"], text: row["text"], createdAt: row["created_at"]), row["config_name"]
        )
      }
    }
  }
}
