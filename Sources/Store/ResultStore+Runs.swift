public import Foundation
import GRDB

/// An output the cache can hand to a later job: the same source bytes under the same config on
/// the same provider identity.
public struct CachedOutput: Sendable, Equatable {
  public var sourceSHA256: String
  public var configKey: String
  public var providerIdentity: String
  public var outputPath: String
  public var outputSHA256: String
  /// The idempotency key of the job that made it, and its run.
  public var jobKey: String
  public var runID: String

  public init(
    sourceSHA256: String, configKey: String, providerIdentity: String, outputPath: String, outputSHA256: String,
    jobKey: String, runID: String
  ) {
    self.sourceSHA256 = sourceSHA256
    self.configKey = configKey
    self.providerIdentity = providerIdentity
    self.outputPath = outputPath
    self.outputSHA256 = outputSHA256
    self.jobKey = jobKey
    self.runID = runID
  }
}

/// One run's comparison of one endpoint, for `mattegate history`.
public struct EndpointHistoryRow: Sendable, Equatable {
  public var runID: String
  public var createdAt: Date
  public var configA: String
  public var configB: String
  public var clips: Int
  public var estimatePercent: Double?
  public var ciLowPercent: Double?
  public var ciHighPercent: Double?
  public var verdict: String
  public var clipset: String = ""
  public var marginPercent: Double?
  /// Whether the endpoint was primary under this run's own gate.
  public var isPrimary = false
  /// The run's arm settings hashes (equal for an A/A calibration) and its gate, as stored.
  public var configAHash = ""
  public var configBHash = ""
  public var gateText = ""
  public var clipsetSHA256 = ""
  /// Whether the run is archived (history leaves it out).
  public var archived = false

  public init(
    runID: String, createdAt: Date, configA: String, configB: String, clips: Int, estimatePercent: Double?,
    ciLowPercent: Double?, ciHighPercent: Double?, verdict: String
  ) {
    self.runID = runID
    self.createdAt = createdAt
    self.configA = configA
    self.configB = configB
    self.clips = clips
    self.estimatePercent = estimatePercent
    self.ciLowPercent = ciLowPercent
    self.ciHighPercent = ciHighPercent
    self.verdict = verdict
  }
}

extension ResultStore {
  /// A stored run, or `nil` when there is none with this id.
  public func run(id: String) throws -> RunRecord? {
    try read { db in
      try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(Self.run)
    }
  }

  /// Every stored run, oldest first.
  public func runs() throws -> [RunRecord] {
    try read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY created_at, id").map(Self.run)
    }
  }

  static func run(_ row: Row) -> RunRecord {
    var r = RunRecord(
      id: row["id"], createdAt: row["created_at"], finishedAt: row["finished_at"], status: row["status"],
      clipsetName: row["clipset_name"], clipsetFolder: row["clipset_folder"], clipsetSHA256: row["clipset_sha256"],
      configAName: row["config_a_name"], configAHash: row["config_a_hash"], configAText: row["config_a_text"],
      configBName: row["config_b_name"], configBHash: row["config_b_hash"], configBText: row["config_b_text"],
      provider: row["provider"], harnessVersion: row["harness_version"], metricsVersion: row["metrics_version"],
      regionsVersion: row["regions_version"], gateText: row["gate_text"], seed: row["seed"],
      exitCode: row["exit_code"], outcome: row["outcome"])
    r.identitySHA256 = row["identity_sha256"]
    r.identityText = row["identity_text"]
    r.providerIdentity = row["provider_identity"]
    r.serviceVersion = row["service_version"]
    r.shard = row["shard"]
    r.mergedFrom = row["merged_from"]
    r.baselineRun = row["baseline_run"]
    r.gateReasons = row["gate_reasons"]
    r.owner = row["owner"]
    r.name = row["name"]
    r.runDescription = row["description"]
    r.tags = row["tags"]
    r.gitCommit = row["git_commit"]
    r.gitBranch = row["git_branch"]
    r.commandLine = row["command_line"]
    r.reportFolder = row["report_folder"]
    r.configAYAML = row["config_a_yaml"]
    r.configBYAML = row["config_b_yaml"]
    r.archivedAt = row["archived_at"]
    return r
  }

  /// Records the service version a run's jobs reported.
  public func setServiceVersion(runID: String, _ version: String) throws {
    try write { db in
      try db.execute(sql: "UPDATE runs SET service_version = ? WHERE id = ?", arguments: [version, runID])
    }
  }

  /// Marks a run as running again (a resume).
  public func reopenRun(id: String) throws {
    try write { db in
      try db.execute(
        sql: "UPDATE runs SET status = 'running', exit_code = NULL, outcome = NULL, finished_at = NULL WHERE id = ?",
        arguments: [id])
    }
  }

  /// Stores the service's job id on a job row as soon as the service has created the job.
  public func setProviderJobID(row: Int64, _ jobID: String) throws {
    try write { db in
      try db.execute(sql: "UPDATE jobs SET provider_job_id = ? WHERE id = ?", arguments: [jobID, row])
    }
  }

  /// The clips of a run, in clip-set order.
  public func clips(runID: String) throws -> [ClipRecord] {
    try read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM clips WHERE run_id = ? ORDER BY position, clip_id", arguments: [runID]
      ).map { row in
        var c = ClipRecord(
          runID: row["run_id"], clipID: row["clip_id"], sha256: row["sha256"], tags: row["tags"],
          status: row["status"], error: row["error"], frames: row["frames"], reviewFrame: row["review_frame"])
        c.hasTruth = row["has_truth"]
        c.position = row["position"]
        c.scoredAt = row["scored_at"]
        c.regions = row["regions"]
        c.bitsPerPixel = row["bits_per_pixel"]
        return c
      }
    }
  }

  /// Every pooled clip value of a run.
  public func clipMetrics(runID: String) throws -> [ClipMetricRecord] {
    try read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM clip_metrics WHERE run_id = ? ORDER BY clip_id, arm, region, metric",
        arguments: [runID]
      ).map { row in
        ClipMetricRecord(
          clipID: row["clip_id"], arm: row["arm"], region: row["region"], metric: row["metric"], value: row["value"],
          errorSum: row["error_sum"], pixels: row["pixels"], frames: row["frames"], metricVersion: row["metric_version"]
        )
      }
    }
  }

  /// The paired comparisons of a run, by region and metric.
  public func comparisons(runID: String) throws -> [ComparisonRecord] {
    try read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM comparisons WHERE run_id = ? ORDER BY region, metric", arguments: [runID]
      ).map { row in
        var c = ComparisonRecord(
          region: row["region"], metric: row["metric"], isPrimary: row["is_primary"], clips: row["clips"],
          estimatePercent: row["estimate_pct"], ciLowPercent: row["ci_low_pct"], ciHighPercent: row["ci_high_pct"],
          ciLevel: row["ci_level"], pValue: row["p_value"], hodgesLehmannPercent: row["hl_pct"], wins: row["wins"],
          ties: row["ties"], losses: row["losses"], marginPercent: row["margin_pct"], noisePercent: row["noise_pct"],
          verdict: row["verdict"], note: row["note"], metricVersion: row["metric_version"])
        c.adjustedP = row["adjusted_p"]
        c.wilcoxonP = row["wilcoxon_p"]
        c.intervalMethod = row["interval_method"]
        c.detectablePercent = row["detectable_pct"]
        c.alpha = row["alpha"]
        c.ci90LowPercent = row["ci90_low_pct"]
        c.ci90HighPercent = row["ci90_high_pct"]
        c.worstClip = row["worst_clip"]
        c.worstClipPercent = row["worst_clip_pct"]
        c.warning = row["warning"]
        c.clipsForMargin = row["clips_for_margin"]
        return c
      }
    }
  }

  /// The cached output for this key, if one is stored.
  public func cachedOutput(sourceSHA256: String, configKey: String, providerIdentity: String) throws -> CachedOutput? {
    try read { db in
      try Row.fetchOne(
        db,
        sql: "SELECT * FROM output_cache WHERE source_sha256 = ? AND config_key = ? AND provider_identity = ?",
        arguments: [sourceSHA256, configKey, providerIdentity]
      ).map { row in
        CachedOutput(
          sourceSHA256: row["source_sha256"], configKey: row["config_key"], providerIdentity: row["provider_identity"],
          outputPath: row["output_path"], outputSHA256: row["output_sha256"], jobKey: row["job_key"],
          runID: row["run_id"])
      }
    }
  }

  /// Stores (or replaces) a completed job's output under its cache key. Failed jobs are never
  /// stored.
  public func cache(_ c: CachedOutput) throws {
    try write { db in
      try db.execute(
        sql: """
          INSERT OR REPLACE INTO output_cache (source_sha256, config_key, provider_identity, output_path,
            output_sha256, job_key, run_id, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          c.sourceSHA256, c.configKey, c.providerIdentity, c.outputPath, c.outputSHA256, c.jobKey, c.runID, Date(),
        ])
    }
  }

  /// Forgets a cache entry whose file is gone or changed.
  public func forgetCachedOutput(sourceSHA256: String, configKey: String, providerIdentity: String) throws {
    try write { db in
      try db.execute(
        sql: "DELETE FROM output_cache WHERE source_sha256 = ? AND config_key = ? AND provider_identity = ?",
        arguments: [sourceSHA256, configKey, providerIdentity])
    }
  }

  /// Every run's comparison of the endpoint `region/metric`, oldest first.
  public func history(region: String, metric: String) throws -> [EndpointHistoryRow] {
    try read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT c.run_id, r.created_at, r.config_a_name, r.config_b_name, r.clipset_name, c.clips, c.estimate_pct,
            c.ci_low_pct, c.ci_high_pct, c.verdict, c.margin_pct, c.is_primary, r.config_a_hash, r.config_b_hash,
            r.gate_text, r.clipset_sha256, r.archived_at
          FROM comparisons c JOIN runs r ON r.id = c.run_id
          WHERE c.region = ? AND c.metric = ? ORDER BY r.created_at, c.run_id
          """,
        arguments: [region, metric]
      ).map { row in
        var h = EndpointHistoryRow(
          runID: row["run_id"], createdAt: row["created_at"], configA: row["config_a_name"],
          configB: row["config_b_name"], clips: row["clips"], estimatePercent: row["estimate_pct"],
          ciLowPercent: row["ci_low_pct"], ciHighPercent: row["ci_high_pct"], verdict: row["verdict"])
        h.clipset = row["clipset_name"]
        h.marginPercent = row["margin_pct"]
        h.isPrimary = row["is_primary"]
        h.configAHash = row["config_a_hash"]
        h.configBHash = row["config_b_hash"]
        h.gateText = row["gate_text"]
        h.clipsetSHA256 = row["clipset_sha256"]
        h.archived = (row["archived_at"] as String?) != nil
        return h
      }
    }
  }

  /// Copies every row of `runID` in the database at `source` into this one under `newRunID`:
  /// clips, jobs, frame and clip metrics, alignment, extra measures and votes. Comparisons are
  /// left out: a merged run recomputes them over all its clips.
  ///
  /// - Throws: `StoreError` when a job's idempotency key is already here (the same shard merged
  ///   twice), naming the key.
  public func copyRows(of runID: String, from source: String, as newRunID: String) throws {
    do {
      try queue.writeWithoutTransaction { db in
        try db.execute(sql: "ATTACH DATABASE ? AS shard", arguments: [source])
        defer { try? db.execute(sql: "DETACH DATABASE shard") }
        try db.inTransaction {
          for table in ["clips", "jobs", "frame_metrics", "clip_metrics", "alignment", "extra_measures", "votes"] {
            let columns = try Row.fetchAll(db, sql: "PRAGMA main.table_info(\(table))").map { $0["name"] as String }
              .filter { $0 != "id" }
            let select = columns.map { $0 == "run_id" ? "? AS run_id" : $0 }.joined(separator: ", ")
            try db.execute(
              sql:
                "INSERT INTO main.\(table) (\(columns.joined(separator: ", "))) SELECT \(select) FROM shard.\(table) WHERE run_id = ?",
              arguments: [newRunID, runID])
          }
          return .commit
        }
      }
    } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
      throw StoreError(
        path: path,
        reason:
          "run \(runID) of \(source) holds rows already in this database (\(error.message ?? "constraint")); was it merged before?"
      )
    } catch let error as DatabaseError {
      throw StoreError(path: path, reason: "database error: \(error.message ?? "\(error)")")
    }
  }
}

/// A noise band measured by A/A calibration for one endpoint.
public struct CalibrationRecord: Sendable, Equatable {
  public var region: String
  public var metric: String
  /// Relative noise band δ_noise (0.01 = 1%).
  public var noise: Double
  public var clips: Int
  public var runID: String

  public init(region: String, metric: String, noise: Double, clips: Int, runID: String) {
    self.region = region
    self.metric = metric
    self.noise = noise
    self.clips = clips
    self.runID = runID
  }
}

extension ResultStore {
  /// Stores the noise bands of an A/A calibration, replacing earlier ones for the same clip
  /// set, config and provider.
  public func saveCalibration(
    clipsetSHA256: String, configHash: String, providerIdentity: String, _ records: [CalibrationRecord]
  ) throws {
    try write { db in
      try db.execute(
        sql: "DELETE FROM calibrations WHERE clipset_sha256 = ? AND config_hash = ? AND provider_identity = ?",
        arguments: [clipsetSHA256, configHash, providerIdentity])
      let now = Date()  // stored as the other tables' times are
      for r in records {
        try db.execute(
          sql: """
            INSERT INTO calibrations (clipset_sha256, config_hash, provider_identity, region, metric, noise, clips,
              run_id, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
          arguments: [
            clipsetSHA256, configHash, providerIdentity, r.region, r.metric, r.noise, r.clips, r.runID, now,
          ])
      }
    }
  }

  /// The stored noise bands for a clip set, config (arm A's) and provider.
  public func calibration(
    clipsetSHA256: String, configHash: String, providerIdentity: String
  ) throws -> [CalibrationRecord] {
    try read { db in
      try Row.fetchAll(
        db,
        sql: """
          SELECT region, metric, noise, clips, run_id FROM calibrations
          WHERE clipset_sha256 = ? AND config_hash = ? AND provider_identity = ? ORDER BY region, metric
          """,
        arguments: [clipsetSHA256, configHash, providerIdentity]
      ).map {
        CalibrationRecord(
          region: $0["region"], metric: $0["metric"], noise: $0["noise"], clips: $0["clips"], runID: $0["run_id"])
      }
    }
  }
}

/// One blind A/B vote on a clip of a run: which arm was on the left, and what the reviewer chose.
public struct VoteRecord: Sendable, Equatable {
  public var runID: String
  public var clipID: String
  /// "A" or "B": the arm shown on the left.
  public var leftArm: String
  /// "A", "B" or "tie": the arm the reviewer preferred, unblinded.
  public var choice: String
  public var voter: String?
  public var createdAt: Date

  public init(runID: String, clipID: String, leftArm: String, choice: String, voter: String?, createdAt: Date) {
    self.runID = runID
    self.clipID = clipID
    self.leftArm = leftArm
    self.choice = choice
    self.voter = voter
    self.createdAt = createdAt
  }
}

extension ResultStore {
  /// A run's per-frame rows (every clip, or one), ordered by clip, arm, frame, region, metric.
  public func frameMetrics(runID: String, clipID: String? = nil) throws -> [FrameMetricRecord] {
    try read { db in
      var sql = "SELECT clip_id, arm, frame, region, metric, error_sum, pixels, metric_version FROM frame_metrics"
      sql += " WHERE run_id = ?"
      var arguments: StatementArguments = [runID]
      if let clipID {
        sql += " AND clip_id = ?"
        arguments += [clipID]
      }
      sql += " ORDER BY clip_id, arm, frame, region, metric"
      return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
        FrameMetricRecord(
          clipID: row[0], arm: row[1], frame: row[2], region: row[3], metric: row[4], errorSum: row[5], pixels: row[6],
          metricVersion: row[7])
      }
    }
  }

  /// Stores a blind vote; the run must exist and the clip must be one of its clips.
  public func addVote(_ v: VoteRecord) throws {
    try write { db in
      guard
        try Int.fetchOne(
          db, sql: "SELECT COUNT(*) FROM clips WHERE run_id = ? AND clip_id = ?", arguments: [v.runID, v.clipID]) == 1
      else {
        throw StoreError(path: path, reason: "run \(v.runID) has no clip '\(v.clipID)' to vote on")
      }
      try db.execute(
        sql: """
          INSERT INTO votes (run_id, clip_id, left_arm, choice, voter, created_at) VALUES (?, ?, ?, ?, ?, ?)
          """, arguments: [v.runID, v.clipID, v.leftArm, v.choice, v.voter, v.createdAt])
    }
  }

  /// How many votes each run has (runs without votes are left out).
  public func voteCounts() throws -> [String: Int] {
    try read { db in
      Dictionary(
        uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT run_id, COUNT(*) FROM votes GROUP BY run_id").map {
          (row: Row) -> (String, Int) in (row[0], row[1])
        })
    }
  }

  /// A run's votes, oldest first.
  public func votes(runID: String) throws -> [VoteRecord] {
    try read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM votes WHERE run_id = ? ORDER BY id", arguments: [runID]
      ).map { row in
        VoteRecord(
          runID: row["run_id"], clipID: row["clip_id"], leftArm: row["left_arm"], choice: row["choice"],
          voter: row["voter"], createdAt: row["created_at"])
      }
    }
  }
}
