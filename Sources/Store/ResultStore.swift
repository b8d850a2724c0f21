import Foundation
import GRDB

/// An error of the result database, naming the file.
public struct StoreError: Error, Sendable, CustomStringConvertible, Equatable {
  public var path: String
  public var reason: String
  public var description: String { "\(path): \(reason)" }
}

/// The SQLite database every result lands in (GRDB over the system SQLite).
///
/// `Sendable`: GRDB's `DatabaseQueue` serializes every access on its own queue.
public final class ResultStore: Sendable {
  public let path: String
  let queue: DatabaseQueue

  /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
  public init(path: String) throws {
    self.path = path
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    // A database is a regular file: a FIFO, socket, device or folder here is a mistake.
    if let type = try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType,
      type != .typeRegular
    {
      let what: String
      switch type {
      case .typeDirectory: what = "a folder"
      case .typeCharacterSpecial, .typeBlockSpecial: what = "a device"
      case .typeSocket: what = "a socket"
      default: what = "a FIFO or other special file"
      }
      throw StoreError(path: path, reason: "is \(what), not a database file")
    }
    do {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      var config = Configuration()
      config.foreignKeysEnabled = true
      // Another process may read the file meanwhile (the sqlite3 shell, a report, a test):
      // wait for its lock instead of failing the write.
      config.busyMode = .timeout(30)
      queue = try DatabaseQueue(path: path, configuration: config)
      let migrator = Self.migrator
      let applied = try queue.read { try migrator.appliedIdentifiers($0) }
      let unknown = applied.subtracting(migrator.migrations).sorted()
      guard unknown.isEmpty else {
        throw StoreError(
          path: path,
          reason:
            "written by a newer mattegate (schema \(unknown.joined(separator: ", ")) is unknown to this version); open it with that version"
        )
      }
      try migrator.migrate(queue)
    } catch let error as StoreError {
      throw error
    } catch let error as DatabaseError {
      throw StoreError(path: path, reason: "database error: \(error.message ?? "\(error)")")
    } catch {
      throw StoreError(path: path, reason: "cannot open the database: \(error)")
    }
  }

  static var migrator: DatabaseMigrator {
    var m = DatabaseMigrator()
    m.registerMigration("v1") { db in
      try db.execute(
        sql: """
          CREATE TABLE runs (
            id TEXT PRIMARY KEY NOT NULL,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            clipset_name TEXT NOT NULL,
            clipset_folder TEXT NOT NULL,
            clipset_sha256 TEXT NOT NULL,
            config_a_name TEXT NOT NULL,
            config_a_hash TEXT NOT NULL,
            config_a_text TEXT NOT NULL,
            config_b_name TEXT NOT NULL,
            config_b_hash TEXT NOT NULL,
            config_b_text TEXT NOT NULL,
            provider TEXT NOT NULL,
            harness_version TEXT NOT NULL,
            metrics_version TEXT NOT NULL,
            regions_version TEXT NOT NULL,
            gate_text TEXT NOT NULL,
            seed INTEGER NOT NULL,
            exit_code INTEGER,
            outcome TEXT
          );
          CREATE TABLE clips (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            clip_id TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            tags TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            frames INTEGER NOT NULL,
            review_frame INTEGER,
            PRIMARY KEY (run_id, clip_id)
          );
          CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            clip_id TEXT NOT NULL,
            clip_sha256 TEXT NOT NULL,
            arm TEXT NOT NULL CHECK (arm IN ('A', 'B')),
            provider TEXT NOT NULL,
            provider_job_id TEXT,
            idempotency_key TEXT NOT NULL UNIQUE,
            model TEXT NOT NULL,
            output_format TEXT NOT NULL,
            bg_type TEXT NOT NULL,
            bg_color TEXT,
            bg_image TEXT,
            fit TEXT NOT NULL,
            status TEXT NOT NULL,
            error_code TEXT,
            error_message TEXT,
            credits REAL,
            submitted_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            duration_ms INTEGER,
            output_path TEXT,
            output_sha256 TEXT,
            service_version TEXT
          );
          CREATE INDEX jobs_run ON jobs(run_id, clip_id, arm);
          CREATE TABLE frame_metrics (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            clip_id TEXT NOT NULL,
            arm TEXT NOT NULL,
            frame INTEGER NOT NULL,
            region TEXT NOT NULL,
            metric TEXT NOT NULL,
            error_sum REAL NOT NULL,
            pixels INTEGER NOT NULL,
            PRIMARY KEY (run_id, clip_id, arm, frame, region, metric)
          ) WITHOUT ROWID;
          CREATE TABLE clip_metrics (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            clip_id TEXT NOT NULL,
            arm TEXT NOT NULL,
            region TEXT NOT NULL,
            metric TEXT NOT NULL,
            value REAL,
            error_sum REAL NOT NULL,
            pixels INTEGER NOT NULL,
            frames INTEGER NOT NULL,
            PRIMARY KEY (run_id, clip_id, arm, region, metric)
          ) WITHOUT ROWID;
          CREATE TABLE comparisons (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            region TEXT NOT NULL,
            metric TEXT NOT NULL,
            is_primary INTEGER NOT NULL,
            clips INTEGER NOT NULL,
            estimate_pct REAL,
            ci_low_pct REAL,
            ci_high_pct REAL,
            ci_level REAL NOT NULL,
            p_value REAL,
            hl_pct REAL,
            wins INTEGER NOT NULL,
            ties INTEGER NOT NULL,
            losses INTEGER NOT NULL,
            margin_pct REAL NOT NULL,
            noise_pct REAL NOT NULL,
            verdict TEXT NOT NULL,
            note TEXT,
            PRIMARY KEY (run_id, region, metric)
          ) WITHOUT ROWID;
          """)
    }
    m.registerMigration("v2-alignment") { db in
      try db.execute(
        sql: """
          CREATE TABLE alignment (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            clip_id TEXT NOT NULL,
            arm TEXT NOT NULL,
            reference_frames INTEGER NOT NULL,
            output_frames INTEGER NOT NULL,
            matched INTEGER NOT NULL,
            dropped INTEGER NOT NULL,
            duplicated INTEGER NOT NULL,
            extra INTEGER NOT NULL,
            max_offset_s REAL NOT NULL,
            window_s REAL NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('aligned', 'misaligned')),
            PRIMARY KEY (run_id, clip_id, arm)
          ) WITHOUT ROWID;
          """)
    }
    m.registerMigration("v3-metric-versions") { db in
      // Every result row names the version of its metric's definition (a short tag such as
      // 'Grad/1'); the tag's full definition is in metric_versions.
      try db.execute(
        sql: """
          CREATE TABLE metric_versions (
            version TEXT PRIMARY KEY,
            metric TEXT NOT NULL,
            definition TEXT NOT NULL
          ) WITHOUT ROWID;
          ALTER TABLE frame_metrics ADD COLUMN metric_version TEXT NOT NULL DEFAULT '';
          ALTER TABLE clip_metrics ADD COLUMN metric_version TEXT NOT NULL DEFAULT '';
          ALTER TABLE comparisons ADD COLUMN metric_version TEXT NOT NULL DEFAULT '';
          """)
    }
    m.registerMigration("v4-extra-measures") { db in
      // Measures that are not ground-truth alpha metrics, under their own names: composite MSE
      // and PSNR, applied fit and aspect class of composited outputs; flicker, edge alignment
      // and A-vs-B disagreement of clips without ground truth. They never feed a verdict.
      try db.execute(
        sql: """
          CREATE TABLE extra_measures (
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            clip_id TEXT NOT NULL,
            arm TEXT NOT NULL,
            region TEXT NOT NULL,
            measure TEXT NOT NULL,
            value REAL,
            detail TEXT,
            version TEXT NOT NULL,
            PRIMARY KEY (run_id, clip_id, arm, region, measure)
          ) WITHOUT ROWID;
          """)
    }
    m.registerMigration("v5-job-details") { db in
      // What the job API reports per job beyond the first version's columns.
      for column in [
        "bg_image_sha256 TEXT", "error_retryable INTEGER", "credits_reserved REAL", "credits_charged REAL",
        "credits_refunded REAL", "queued_ms INTEGER", "processing_ms INTEGER", "total_ms INTEGER", "stderr_path TEXT",
      ] {
        try db.execute(sql: "ALTER TABLE jobs ADD COLUMN \(column)")
      }
    }
    m.registerMigration("v6-identity-cache-votes") { db in
      // Run identity (what must match for a resume, a merge or a reused baseline), shards, the
      // output cache, configs by hash, blind votes, and views for the common questions.
      for column in [
        "identity_sha256 TEXT", "identity_text TEXT", "provider_identity TEXT", "service_version TEXT",
        "shard TEXT", "merged_from TEXT", "baseline_run TEXT",
      ] {
        try db.execute(sql: "ALTER TABLE runs ADD COLUMN \(column)")
      }
      for column in ["has_truth INTEGER NOT NULL DEFAULT 1", "position INTEGER", "scored_at TEXT"] {
        try db.execute(sql: "ALTER TABLE clips ADD COLUMN \(column)")
      }
      for column in ["cache_key TEXT", "reused_from TEXT", "attempt INTEGER NOT NULL DEFAULT 1"] {
        try db.execute(sql: "ALTER TABLE jobs ADD COLUMN \(column)")
      }
      try db.execute(
        sql: """
          CREATE TABLE configs (
            hash TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            settings TEXT NOT NULL,
            first_run TEXT NOT NULL
          ) WITHOUT ROWID;
          INSERT OR IGNORE INTO configs (hash, name, settings, first_run)
            SELECT config_a_hash, config_a_name, config_a_text, id FROM runs;
          INSERT OR IGNORE INTO configs (hash, name, settings, first_run)
            SELECT config_b_hash, config_b_name, config_b_text, id FROM runs;
          CREATE TABLE output_cache (
            source_sha256 TEXT NOT NULL,
            config_key TEXT NOT NULL,
            provider_identity TEXT NOT NULL,
            output_path TEXT NOT NULL,
            output_sha256 TEXT NOT NULL,
            job_key TEXT NOT NULL,
            run_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (source_sha256, config_key, provider_identity)
          ) WITHOUT ROWID;
          CREATE TABLE votes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            clip_id TEXT NOT NULL,
            left_arm TEXT NOT NULL CHECK (left_arm IN ('A', 'B')),
            choice TEXT NOT NULL CHECK (choice IN ('A', 'B', 'tie')),
            voter TEXT,
            created_at TEXT NOT NULL
          );
          CREATE INDEX votes_run ON votes(run_id, clip_id);
          CREATE VIEW clip_deltas AS
            SELECT a.run_id, a.clip_id, a.region, a.metric, a.value AS a_value, b.value AS b_value,
              b.value - a.value AS delta,
              CASE WHEN a.value > 0 AND b.value > 0 THEN 100.0 * (b.value / a.value - 1.0) END AS change_pct
            FROM clip_metrics a
            JOIN clip_metrics b ON b.run_id = a.run_id AND b.clip_id = a.clip_id AND b.region = a.region
              AND b.metric = a.metric AND b.arm = 'B'
            WHERE a.arm = 'A' AND a.value IS NOT NULL AND b.value IS NOT NULL;
          CREATE VIEW failures_by_model AS
            SELECT provider, model, output_format, error_code, COUNT(*) AS failures,
              COUNT(DISTINCT run_id) AS runs, group_concat(DISTINCT clip_id) AS clips,
              MAX(finished_at) AS last_seen
            FROM jobs WHERE status = 'failed'
            GROUP BY provider, model, output_format, error_code;
          CREATE VIEW endpoint_history AS
            SELECT c.region || '.' || c.metric AS endpoint, c.region, c.metric, r.id AS run_id,
              r.created_at, r.clipset_name, r.config_a_name, r.config_b_name, r.provider, c.clips,
              c.estimate_pct, c.ci_low_pct, c.ci_high_pct, c.p_value, c.verdict, c.is_primary,
              r.exit_code, r.outcome
            FROM comparisons c JOIN runs r ON r.id = c.run_id;
          """)
    }
    m.registerMigration("v7-verdict-details-calibration") { db in
      // The rest of each comparison's statistics, and the noise bands A/A calibration measured.
      for column in [
        "adjusted_p REAL", "wilcoxon_p REAL", "interval_method TEXT", "detectable_pct REAL", "alpha REAL",
        "ci90_low_pct REAL", "ci90_high_pct REAL", "worst_clip TEXT", "worst_clip_pct REAL",
      ] {
        try db.execute(sql: "ALTER TABLE comparisons ADD COLUMN \(column)")
      }
      try db.execute(sql: "ALTER TABLE runs ADD COLUMN gate_reasons TEXT")
      try db.execute(
        sql: """
          CREATE TABLE calibrations (
            clipset_sha256 TEXT NOT NULL,
            config_hash TEXT NOT NULL,
            provider_identity TEXT NOT NULL,
            region TEXT NOT NULL,
            metric TEXT NOT NULL,
            noise REAL NOT NULL,
            clips INTEGER NOT NULL,
            run_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (clipset_sha256, config_hash, provider_identity, region, metric)
          ) WITHOUT ROWID;
          """)
    }
    m.registerMigration("v8-verdict-warnings") { db in
      // The "worse, within margin" warning and the clips that would show the margin.
      try db.execute(sql: "ALTER TABLE comparisons ADD COLUMN warning TEXT")
      try db.execute(sql: "ALTER TABLE comparisons ADD COLUMN clips_for_margin INTEGER")
    }
    m.registerMigration("v9-clip-provenance") { db in
      // Where each clip's hard regions came from, and how hard its source was compressed.
      try db.execute(sql: "ALTER TABLE clips ADD COLUMN regions TEXT")
      try db.execute(sql: "ALTER TABLE clips ADD COLUMN bits_per_pixel REAL")
    }
    m.registerMigration("v10-owner") { db in
      // The team's own user or project id (`--owner`, or `owner:` in an arm config).
      try db.execute(sql: "ALTER TABLE runs ADD COLUMN owner TEXT")
      try db.execute(sql: "ALTER TABLE jobs ADD COLUMN owner TEXT")
    }
    m.registerMigration("v11-input-reference") { db in
      // What the service knows the job's input by (its upload or file id), never a signed URL.
      try db.execute(sql: "ALTER TABLE jobs ADD COLUMN input_reference TEXT")
    }
    m.registerMigration("v12-run-labels") { db in
      // What CI and people call a run, and the commit, branch and command line that made it.
      for column in [
        "name", "description", "tags", "git_commit", "git_branch", "command_line", "report_folder", "config_a_yaml",
        "config_b_yaml",
      ] {
        try db.execute(sql: "ALTER TABLE runs ADD COLUMN \(column) TEXT")
      }
    }
    m.registerMigration("v13-default-changes") { db in
      // Every change of a default config file by `promote` or `rollback`: who, when, what it
      // was and became, and the run that was the evidence.
      try db.execute(
        sql: """
          CREATE TABLE default_changes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            config_path TEXT NOT NULL,
            action TEXT NOT NULL,
            run_id TEXT,
            restores INTEGER,
            owner TEXT NOT NULL,
            created_at TEXT NOT NULL,
            from_config TEXT NOT NULL,
            gate_mode TEXT,
            gate_outcome TEXT,
            previous_sha256 TEXT NOT NULL,
            previous_yaml TEXT NOT NULL,
            new_sha256 TEXT NOT NULL,
            new_yaml TEXT NOT NULL,
            report TEXT,
            git_commit TEXT,
            reason TEXT
          )
          """)
      try db.execute(sql: "CREATE INDEX default_changes_path ON default_changes (config_path, id)")
    }
    m.registerMigration("v14-endpoint-notation") { db in
      // One endpoint notation everywhere, `hair/Grad` as in the gate and the reports; and
      // whether the run was an A/A calibration, which history keeps apart.
      try db.execute(
        sql: """
          DROP VIEW endpoint_history;
          CREATE VIEW endpoint_history AS
            SELECT c.region || '/' || c.metric AS endpoint, c.region, c.metric, r.id AS run_id,
              r.created_at, r.clipset_name, r.config_a_name, r.config_b_name, r.provider, c.clips,
              c.estimate_pct, c.ci_low_pct, c.ci_high_pct, c.p_value, c.verdict, c.is_primary,
              r.exit_code, r.outcome, (r.config_a_hash = r.config_b_hash) AS is_calibration
            FROM comparisons c JOIN runs r ON r.id = c.run_id;
          """)
    }
    m.registerMigration("v15-archive-notes") { db in
      // Runs put away from the lists (`runs archive`), and reviewers' quality notes on a run, a
      // clip, an arm or a frame, with who and when.
      try db.execute(sql: "ALTER TABLE runs ADD COLUMN archived_at TEXT")
      try db.execute(
        sql: """
          CREATE TABLE notes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            clip_id TEXT,
            arm TEXT,
            frame INTEGER,
            author TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL
          );
          CREATE INDEX notes_run ON notes (run_id, clip_id);
          """)
    }
    return m
  }

  /// Records metric definitions (tag, metric name, full definition); a tag already stored must
  /// keep its definition, or the store refuses: a changed definition needs a new tag.
  public func registerMetricVersions(_ versions: [(tag: String, metric: String, definition: String)]) throws {
    try write { db in
      for v in versions {
        if let stored = try String.fetchOne(
          db, sql: "SELECT definition FROM metric_versions WHERE version = ?", arguments: [v.tag])
        {
          guard stored == v.definition else {
            throw StoreError(
              path: path,
              reason:
                "metric version '\(v.tag)' is stored with a different definition ('\(stored)' vs '\(v.definition)'); a changed definition needs a new version"
            )
          }
          continue
        }
        try db.execute(
          sql: "INSERT INTO metric_versions (version, metric, definition) VALUES (?, ?, ?)",
          arguments: [v.tag, v.metric, v.definition])
      }
    }
  }

  func write<T>(_ body: (Database) throws -> T) throws -> T {
    do {
      return try queue.write(body)
    } catch let error as DatabaseError {
      throw StoreError(path: path, reason: "database error: \(error.message ?? "\(error)")")
    }
  }

  func read<T>(_ body: (Database) throws -> T) throws -> T {
    do {
      return try queue.read(body)
    } catch let error as DatabaseError {
      throw StoreError(path: path, reason: "database error: \(error.message ?? "\(error)")")
    }
  }

  public func insert(_ r: RunRecord) throws {
    try write { db in
      try db.execute(
        sql: """
          INSERT INTO runs (id, created_at, finished_at, status, clipset_name, clipset_folder,
            clipset_sha256, config_a_name, config_a_hash, config_a_text, config_b_name, config_b_hash,
            config_b_text, provider, harness_version, metrics_version, regions_version, gate_text,
            seed, exit_code, outcome, identity_sha256, identity_text, provider_identity, service_version,
            shard, merged_from, baseline_run, owner, name, description, tags, git_commit, git_branch,
            command_line, report_folder, config_a_yaml, config_b_yaml)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
            ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          r.id, r.createdAt, r.finishedAt, r.status, r.clipsetName, r.clipsetFolder, r.clipsetSHA256,
          r.configAName, r.configAHash, r.configAText, r.configBName, r.configBHash, r.configBText,
          r.provider, r.harnessVersion, r.metricsVersion, r.regionsVersion, r.gateText, r.seed,
          r.exitCode, r.outcome, r.identitySHA256, r.identityText, r.providerIdentity, r.serviceVersion,
          r.shard, r.mergedFrom, r.baselineRun, r.owner, r.name, r.runDescription, r.tags, r.gitCommit,
          r.gitBranch, r.commandLine, r.reportFolder, r.configAYAML, r.configBYAML,
        ])
      for (hash, name, text) in [
        (r.configAHash, r.configAName, r.configAText), (r.configBHash, r.configBName, r.configBText),
      ] {
        try db.execute(
          sql: "INSERT OR IGNORE INTO configs (hash, name, settings, first_run) VALUES (?, ?, ?, ?)",
          arguments: [hash, name, text, r.id])
      }
    }
  }

  /// Marks a run finished with its exit code and one-line outcome.
  public func finishRun(id: String, status: String, exitCode: Int, outcome: String, reasons: [String] = []) throws {
    try write { db in
      try db.execute(
        sql: "UPDATE runs SET status = ?, exit_code = ?, outcome = ?, gate_reasons = ?, finished_at = ? WHERE id = ?",
        arguments: [status, exitCode, outcome, reasons.joined(separator: "\n"), Date(), id])
    }
  }

  /// Inserts a job in its submitted state and returns its row id.
  public func insert(_ j: JobRecord) throws -> Int64 {
    try write { db in
      try db.execute(
        sql: """
          INSERT INTO jobs (run_id, clip_id, clip_sha256, arm, provider, provider_job_id,
            idempotency_key, model, output_format, bg_type, bg_color, bg_image, fit, status,
            error_code, error_message, credits, submitted_at, started_at, finished_at, duration_ms,
            output_path, output_sha256, service_version, bg_image_sha256, cache_key, reused_from, attempt, owner,
            input_reference)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          j.runID, j.clipID, j.clipSHA256, j.arm, j.provider, j.providerJobID, j.idempotencyKey,
          j.model, j.outputFormat, j.bgType, j.bgColor, j.bgImage, j.fit, j.status, j.errorCode,
          j.errorMessage, j.credits, j.submittedAt, j.startedAt, j.finishedAt, j.durationMS,
          j.outputPath, j.outputSHA256, j.serviceVersion, j.bgImageSHA256, j.cacheKey, j.reusedFrom, j.attempt,
          j.owner, j.inputReference,
        ])
      return db.lastInsertedRowID
    }
  }

  /// Records how a job ended.
  public func updateJob(id: Int64, with j: JobRecord) throws {
    try write { db in
      try db.execute(
        sql: """
          UPDATE jobs SET provider_job_id = ?, status = ?, error_code = ?, error_message = ?,
            credits = ?, started_at = ?, finished_at = ?, duration_ms = ?, output_path = ?,
            output_sha256 = ?, service_version = ?, error_retryable = ?, credits_reserved = ?,
            credits_charged = ?, credits_refunded = ?, queued_ms = ?, processing_ms = ?, total_ms = ?,
            stderr_path = ?, reused_from = ?, input_reference = ?
          WHERE id = ?
          """,
        arguments: [
          j.providerJobID, j.status, j.errorCode, j.errorMessage, j.credits, j.startedAt,
          j.finishedAt, j.durationMS, j.outputPath, j.outputSHA256, j.serviceVersion, j.errorRetryable,
          j.creditsReserved, j.creditsCharged, j.creditsRefunded, j.queuedMS, j.processingMS, j.totalMS,
          j.stderrPath, j.reusedFrom, j.inputReference, id,
        ])
    }
  }

  /// Stores a scored (or failed) clip with its frame and clip metrics in one transaction, so a
  /// clip's results are either all there or not at all.
  public func saveClip(
    runID: String, clip: ClipRecord, frameMetrics: [FrameMetricRecord], clipMetrics: [ClipMetricRecord],
    alignment: [AlignmentRecord] = [], extras: [ExtraMeasureRecord] = []
  ) throws {
    try write { db in
      for e in extras {
        try db.execute(
          sql: """
            INSERT OR REPLACE INTO extra_measures (run_id, clip_id, arm, region, measure, value, detail, version)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
          arguments: [runID, clip.clipID, e.arm, e.region, e.measure, e.value, e.detail, e.version])
      }
      for a in alignment {
        try db.execute(
          sql: """
            INSERT OR REPLACE INTO alignment (run_id, clip_id, arm, reference_frames, output_frames, matched, dropped,
              duplicated, extra, max_offset_s, window_s, status)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
          arguments: [
            runID, clip.clipID, a.arm, a.referenceFrames, a.outputFrames, a.matched, a.dropped, a.duplicated,
            a.extra, a.maxOffsetSeconds, a.windowSeconds, a.status,
          ])
      }
      try db.execute(
        sql: """
          INSERT OR REPLACE INTO clips (run_id, clip_id, sha256, tags, status, error, frames, review_frame,
            has_truth, position, scored_at, regions, bits_per_pixel)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """,
        arguments: [
          runID, clip.clipID, clip.sha256, clip.tags, clip.status, clip.error, clip.frames,
          clip.reviewFrame, clip.hasTruth, clip.position, clip.scoredAt ?? Date(), clip.regions, clip.bitsPerPixel,
        ])
      let frameStatement = try db.cachedStatement(
        sql: """
          INSERT OR REPLACE INTO frame_metrics (run_id, clip_id, arm, frame, region, metric, error_sum, pixels,
            metric_version)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
          """)
      for f in frameMetrics {
        try frameStatement.execute(arguments: [
          runID, f.clipID, f.arm, f.frame, f.region, f.metric, f.errorSum, f.pixels, f.metricVersion,
        ])
      }
      let clipStatement = try db.cachedStatement(
        sql: """
          INSERT OR REPLACE INTO clip_metrics (run_id, clip_id, arm, region, metric, value, error_sum, pixels, frames,
            metric_version)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """)
      for c in clipMetrics {
        try clipStatement.execute(arguments: [
          runID, c.clipID, c.arm, c.region, c.metric, c.value, c.errorSum, c.pixels, c.frames, c.metricVersion,
        ])
      }
    }
  }

  public func saveComparisons(runID: String, _ comparisons: [ComparisonRecord]) throws {
    try write { db in
      let statement = try db.cachedStatement(
        sql: """
          INSERT OR REPLACE INTO comparisons (run_id, region, metric, is_primary, clips, estimate_pct,
            ci_low_pct, ci_high_pct, ci_level, p_value, hl_pct, wins, ties, losses, margin_pct,
            noise_pct, verdict, note, metric_version, adjusted_p, wilcoxon_p, interval_method,
            detectable_pct, alpha, ci90_low_pct, ci90_high_pct, worst_clip, worst_clip_pct, warning,
            clips_for_margin)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
          """)
      for c in comparisons {
        try statement.execute(arguments: [
          runID, c.region, c.metric, c.isPrimary, c.clips, c.estimatePercent, c.ciLowPercent,
          c.ciHighPercent, c.ciLevel, c.pValue, c.hodgesLehmannPercent, c.wins, c.ties, c.losses,
          c.marginPercent, c.noisePercent, c.verdict, c.note, c.metricVersion, c.adjustedP, c.wilcoxonP,
          c.intervalMethod, c.detectablePercent, c.alpha, c.ci90LowPercent, c.ci90HighPercent, c.worstClip,
          c.worstClipPercent, c.warning, c.clipsForMargin,
        ])
      }
    }
  }

  /// Row counts per table for one run (for summaries and tests).
  /// The alignment rows of a run, by clip then arm.
  /// The extra measures of a run: (clip, arm, region, measure, value, detail).
  public func extraMeasures(runID: String) throws -> [ExtraMeasureRecord] {
    try read { db in
      try Row.fetchAll(
        db,
        sql:
          "SELECT clip_id, arm, region, measure, value, detail, version FROM extra_measures WHERE run_id = ? ORDER BY clip_id, arm, region, measure",
        arguments: [runID]
      ).map {
        ExtraMeasureRecord(
          clipID: $0["clip_id"], arm: $0["arm"], region: $0["region"], measure: $0["measure"], value: $0["value"],
          detail: $0["detail"], version: $0["version"])
      }
    }
  }

  public func alignment(runID: String) throws -> [(clipID: String, record: AlignmentRecord)] {
    try read { db in
      try Row.fetchAll(
        db, sql: "SELECT * FROM alignment WHERE run_id = ? ORDER BY clip_id, arm", arguments: [runID]
      ).map { row in
        (
          row["clip_id"],
          AlignmentRecord(
            arm: row["arm"], referenceFrames: row["reference_frames"], outputFrames: row["output_frames"],
            matched: row["matched"], dropped: row["dropped"], duplicated: row["duplicated"], extra: row["extra"],
            maxOffsetSeconds: row["max_offset_s"], windowSeconds: row["window_s"], status: row["status"])
        )
      }
    }
  }

  public func counts(runID: String) throws -> [String: Int] {
    try read { db in
      var out: [String: Int] = [:]
      for table in ["clips", "jobs", "frame_metrics", "clip_metrics", "comparisons", "alignment", "extra_measures"] {
        out[table] =
          try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE run_id = ?", arguments: [runID]) ?? 0
      }
      out["runs"] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM runs WHERE id = ?", arguments: [runID]) ?? 0
      return out
    }
  }

  /// Every job of a run, in submission order.
  public func jobs(runID: String) throws -> [JobRecord] {
    try jobRows(runID: runID).map(\.record)
  }

  /// Every job of a run with its row id, in submission order.
  public func jobRows(runID: String) throws -> [(id: Int64, record: JobRecord)] {
    try read { db in
      try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE run_id = ? ORDER BY id", arguments: [runID]).map { row in
        (id: row["id"], record: Self.job(row))
      }
    }
  }

  static func job(_ row: Row) -> JobRecord {
    var record = JobRecord(
      runID: row["run_id"], clipID: row["clip_id"], clipSHA256: row["clip_sha256"], arm: row["arm"],
      provider: row["provider"], providerJobID: row["provider_job_id"],
      idempotencyKey: row["idempotency_key"], model: row["model"], outputFormat: row["output_format"],
      bgType: row["bg_type"], bgColor: row["bg_color"], bgImage: row["bg_image"], fit: row["fit"],
      status: row["status"], errorCode: row["error_code"], errorMessage: row["error_message"],
      credits: row["credits"], submittedAt: row["submitted_at"], startedAt: row["started_at"],
      finishedAt: row["finished_at"], durationMS: row["duration_ms"], outputPath: row["output_path"],
      outputSHA256: row["output_sha256"], serviceVersion: row["service_version"])
    record.bgImageSHA256 = row["bg_image_sha256"]
    record.errorRetryable = row["error_retryable"]
    record.creditsReserved = row["credits_reserved"]
    record.creditsCharged = row["credits_charged"]
    record.creditsRefunded = row["credits_refunded"]
    record.queuedMS = row["queued_ms"]
    record.processingMS = row["processing_ms"]
    record.totalMS = row["total_ms"]
    record.stderrPath = row["stderr_path"]
    record.cacheKey = row["cache_key"]
    record.reusedFrom = row["reused_from"]
    record.attempt = row["attempt"]
    record.owner = row["owner"]
    record.inputReference = row["input_reference"]
    return record
  }

  /// A clip's pooled value for one arm, region and metric, if stored.
  public func clipValue(runID: String, clipID: String, arm: String, region: String, metric: String) throws -> Double? {
    try read { db in
      try Double.fetchOne(
        db,
        sql:
          "SELECT value FROM clip_metrics WHERE run_id = ? AND clip_id = ? AND arm = ? AND region = ? AND metric = ?",
        arguments: [runID, clipID, arm, region, metric])
    }
  }

  /// The run's stored status and exit code.
  public func runStatus(id: String) throws -> (status: String, exitCode: Int?)? {
    try read { db in
      guard let row = try Row.fetchOne(db, sql: "SELECT status, exit_code FROM runs WHERE id = ?", arguments: [id])
      else {
        return nil
      }
      return (row["status"], row["exit_code"])
    }
  }
}
