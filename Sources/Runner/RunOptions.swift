public import Foundation

/// What `mattegate run` was asked to do.
public struct RunOptions: Sendable {
  public var clipsetFolder: String
  public var configAPath: String
  public var configBPath: String
  public var gatePath: String?
  public var databasePath: String
  public var outputFolder: String
  public var provider: String
  public var jobs: Int
  public var seed: UInt64
  /// The job API's base URL (`--api-url`), for the http provider.
  public var apiURL: String?
  /// The http provider's first poll interval and per-job deadline, in seconds.
  public var pollInterval: Double = 2
  public var jobDeadline: Double = 3600
  /// Finish this stored run instead of starting a new one (`--resume RUN`).
  public var resumeRunID: String?
  /// Run only clips whose place in the clip set is K−1 modulo N (`--shard K/N`).
  public var shard: (index: Int, count: Int)?
  /// Reuse arm A's outputs from this stored run where the keys match (`--baseline-run RUN`).
  public var baselineRunID: String?
  /// Whether outputs may come from the output cache (`--no-cache` clears it).
  public var useCache = true
  /// Whether each clip gets a preview video for the report's player (`--no-previews` clears it).
  public var previews = true
  /// The team's own user or project id, stored on the run and every job (`--owner`).
  public var owner: String?
  /// The new run's id (`--run-id`); a fresh one when nil.
  public var runID: String?
  /// Its name, description, tags and provenance.
  public var label = RunLabel()
  public var progressStyle: ProgressStyle = .lines

  public init(
    clipsetFolder: String, configAPath: String, configBPath: String, gatePath: String? = nil,
    databasePath: String = "reports/mattegate.sqlite", outputFolder: String = "reports",
    provider: String = "local", jobs: Int = ProcessInfo.processInfo.activeProcessorCount, seed: UInt64 = 1
  ) {
    self.clipsetFolder = clipsetFolder
    self.configAPath = configAPath
    self.configBPath = configBPath
    self.gatePath = gatePath
    self.databasePath = databasePath
    self.outputFolder = outputFolder
    self.provider = provider
    self.jobs = jobs
    self.seed = seed
  }
}

/// What a finished run reports back to the command line.
public struct RunResult: Sendable {
  public var runID: String
  public var exitCode: Int32
  public var gateSummary: String
  /// The reasons behind the gate's outcome, one per line.
  public var gateReasons: [String]
  /// One line per region: its primary endpoint's verdict.
  public var verdictLines: [String]
  public var reportPath: String
  public var databasePath: String
  /// Per-clip failures, each naming the clip and the file.
  public var errors: [String]
  /// JUnit XML, Markdown summary and JSON written beside the report.
  public var ciFiles: [String] = []
}

/// A run-level error: bad input before anything was submitted.
public struct RunError: Error, Sendable, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}
