public import Foundation
import GRDB

/// One change of a default config file, made by `mattegate promote` or `mattegate rollback`.
public struct DefaultChangeRecord: Sendable, Equatable {
  /// The change's number (1, 2, …, across every config file in the database).
  public var id: Int64
  /// The default config file, relative to the repository's top folder.
  public var configPath: String
  /// `promote` or `rollback`.
  public var action: String
  /// The evidence: the run whose arm B was promoted, or the run behind the restored version.
  public var runID: String?
  /// For a rollback: the change whose result was restored (nil: the file as it was before
  /// mattegate first changed it).
  public var restores: Int64?
  public var owner: String
  public var createdAt: Date
  /// Where the new content came from: arm B's config name, or `change N`.
  public var fromConfig: String
  /// The evidence run's gate mode and outcome.
  public var gateMode: String?
  public var gateOutcome: String?
  public var previousSHA256: String
  public var previousYAML: String
  public var newSHA256: String
  public var newYAML: String
  /// The evidence run's report page, when known.
  public var report: String?
  /// The commit of the repository when the change was made.
  public var gitCommit: String?
  /// Why (`--reason`).
  public var reason: String?

  public init(
    id: Int64 = 0, configPath: String, action: String, runID: String?, restores: Int64?, owner: String,
    createdAt: Date, fromConfig: String, gateMode: String?, gateOutcome: String?, previousSHA256: String,
    previousYAML: String, newSHA256: String, newYAML: String, report: String?, gitCommit: String?, reason: String?
  ) {
    self.id = id
    self.configPath = configPath
    self.action = action
    self.runID = runID
    self.restores = restores
    self.owner = owner
    self.createdAt = createdAt
    self.fromConfig = fromConfig
    self.gateMode = gateMode
    self.gateOutcome = gateOutcome
    self.previousSHA256 = previousSHA256
    self.previousYAML = previousYAML
    self.newSHA256 = newSHA256
    self.newYAML = newYAML
    self.report = report
    self.gitCommit = gitCommit
    self.reason = reason
  }
}

extension ResultStore {
  /// Records a change and returns its number.
  @discardableResult
  public func addDefaultChange(_ c: DefaultChangeRecord) throws -> Int64 {
    try write { db in
      try db.execute(
        sql: """
          INSERT INTO default_changes (config_path, action, run_id, restores, owner, created_at, from_config,
            gate_mode, gate_outcome, previous_sha256, previous_yaml, new_sha256, new_yaml, report, git_commit, reason)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          c.configPath, c.action, c.runID, c.restores, c.owner, c.createdAt, c.fromConfig, c.gateMode, c.gateOutcome,
          c.previousSHA256, c.previousYAML, c.newSHA256, c.newYAML, c.report, c.gitCommit, c.reason,
        ])
      return db.lastInsertedRowID
    }
  }

  /// The changes of one config file (every file when nil), oldest first.
  public func defaultChanges(configPath: String? = nil) throws -> [DefaultChangeRecord] {
    try read { db in
      let rows =
        if let configPath {
          try Row.fetchAll(
            db, sql: "SELECT * FROM default_changes WHERE config_path = ? ORDER BY id", arguments: [configPath])
        } else {
          try Row.fetchAll(db, sql: "SELECT * FROM default_changes ORDER BY id")
        }
      return rows.map(Self.defaultChange)
    }
  }

  /// The changes whose evidence is `runID`, oldest first.
  public func defaultChanges(runID: String) throws -> [DefaultChangeRecord] {
    try read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM default_changes WHERE run_id = ? ORDER BY id", arguments: [runID])
        .map(Self.defaultChange)
    }
  }

  static func defaultChange(_ row: Row) -> DefaultChangeRecord {
    DefaultChangeRecord(
      id: row["id"], configPath: row["config_path"], action: row["action"], runID: row["run_id"],
      restores: row["restores"], owner: row["owner"], createdAt: row["created_at"], fromConfig: row["from_config"],
      gateMode: row["gate_mode"], gateOutcome: row["gate_outcome"], previousSHA256: row["previous_sha256"],
      previousYAML: row["previous_yaml"], newSHA256: row["new_sha256"], newYAML: row["new_yaml"],
      report: row["report"], gitCommit: row["git_commit"], reason: row["reason"])
  }
}
