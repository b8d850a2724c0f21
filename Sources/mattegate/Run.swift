import ArgumentParser
import Foundation
import Runner

#if canImport(Glibc)
import Glibc
#endif

struct Run: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run A and B over a clip set, score them against ground truth and decide.")

  @Option(help: "Clip set folder (holding clipset.yaml).")
  var clipset: String

  @Option(name: .customLong("a"), help: "Config of arm A (today's default).")
  var configA: String

  @Option(name: .customLong("b"), help: "Config of arm B (the candidate).")
  var configB: String

  @Option(
    help:
      "Provider: local (the embedded engine), http (the job API at --api-url; key in MATTEGATE_API_KEY) or exec (each config's exec.command)."
  )
  var provider: String = "local"

  @Option(help: "Base URL of the job API, for --provider http (e.g. http://127.0.0.1:8080).")
  var apiURL: String?

  @Option(help: "First poll interval of the http provider, in seconds (it backs off to 10 s).")
  var pollInterval: Double = 2

  @Option(help: "The http provider's deadline per job, in seconds; a job still running then is canceled.")
  var jobDeadline: Double = 3600

  @Option(help: "Gate policy (gate.yaml); the built-in default matches configs/gate.yaml.")
  var gate: String?

  @Option(help: "SQLite database for results.")
  var db: String = "reports/mattegate.sqlite"

  @Option(help: "Folder for reports; each run writes <out>/<run-id>/index.html.")
  var out: String = "reports"

  @Option(help: "Clips processed at once.")
  var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

  @Option(help: "Seed for Monte Carlo statistics.")
  var seed: UInt64 = 1

  @Option(
    help:
      "Finish the stored run RUN after an interruption: clips already stored are kept, jobs already created are not created again."
  )
  var resume: String?

  @Option(help: "Run only shard K of N (clips whose place in the clip set is K-1 modulo N); join shards with merge.")
  var shard: String?

  @Option(help: "Reuse arm A's outputs from the stored run RUN where clip, config and provider match.")
  var baselineRun: String?

  @Flag(help: "Do not reuse outputs from the output cache (every job is submitted).")
  var noCache = false

  func validate() throws {
    guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    guard ["local", "http", "exec"].contains(provider) else {
      throw ValidationError("--provider must be local, http or exec, not '\(provider)'")
    }
    guard provider != "http" || apiURL != nil else { throw ValidationError("--provider http needs --api-url URL") }
    guard pollInterval > 0, jobDeadline > 0 else {
      throw ValidationError("--poll-interval and --job-deadline must be positive")
    }
    if let shard {
      do { _ = try RunCoordinator.parseShard(shard) } catch { throw ValidationError("--shard: \(error)") }
    }
  }

  func run() async throws {
    var options = RunOptions(
      clipsetFolder: clipset, configAPath: configA, configBPath: configB, gatePath: gate, databasePath: db,
      outputFolder: out, provider: provider, jobs: jobs, seed: seed)
    options.apiURL = apiURL
    options.pollInterval = pollInterval
    options.jobDeadline = jobDeadline
    options.resumeRunID = resume
    options.shard = try shard.map(RunCoordinator.parseShard)
    options.baselineRunID = baselineRun
    options.useCache = !noCache
    options.progressStyle = isatty(STDERR_FILENO) == 1 ? .bar : .lines
    let result = try await RunCoordinator.run(options) { FileHandle.standardError.write(Data($0.utf8)) }
    try report(result)
  }
}

/// Prints a finished run's verdict lines, errors, gate outcome, report and database, and exits
/// with the gate's code.
func report(_ result: RunResult) throws {
  for line in result.verdictLines { print(line) }
  for error in result.errors { printError("error: \(error)") }
  print(result.gateSummary)
  for reason in result.gateReasons { print("  - \(reason)") }
  print("report: \(result.reportPath)")
  if !result.ciFiles.isEmpty { print("for CI: \(result.ciFiles.joined(separator: ", "))") }
  print("results: \(result.databasePath) (run \(result.runID))")
  if result.exitCode != 0 { throw ExitCode(result.exitCode) }
}
