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

  @OptionGroup var service: ServiceOptions

  @Option(help: "Seed for Monte Carlo statistics.")
  var seed: UInt64 = 1

  @Option(
    help:
      "Finish the stored run RUN after an interruption: clips already stored are kept, jobs already created are not created again."
  )
  var resume: String?

  @Option(
    help:
      "Run only shard K of N (clips whose place in the clip set is K-1 modulo N); join shards with merge. 'env' reads it from CI_NODE_INDEX/CI_NODE_TOTAL or JOB_COMPLETION_INDEX/MATTEGATE_SHARD_COUNT."
  )
  var shard: String?

  @Option(help: "Reuse arm A's outputs from the stored run RUN where clip, config and provider match.")
  var baselineRun: String?

  @Flag(help: "Do not reuse outputs from the output cache (every job is submitted).")
  var noCache = false

  @Flag(help: "Make no preview videos (the report's player then shows the crops only).")
  var noPreviews = false

  @OptionGroup var labels: RunLabelOptions

  func validate() throws {
    if resume != nil && labels.runID != nil {
      throw ValidationError("--run-id names a new run; --resume finishes the stored run it names")
    }
    if let shard {
      do { _ = try RunCoordinator.parseShard(shard) } catch { throw ValidationError("--shard: \(error)") }
    }
  }

  func run() async throws {
    var options = service.options(clipset: clipset, configA: configA, configB: configB, seed: seed)
    options.resumeRunID = resume
    options.shard = try shard.map(RunCoordinator.parseShard)
    options.baselineRunID = baselineRun
    options.useCache = !noCache
    options.previews = !noPreviews
    options.runID = labels.runID
    let label = labels.label()
    options.label = label
    let result = try await labels.summarizing(label) {
      try await RunCoordinator.run(options) { FileHandle.standardError.write(Data($0.utf8)) }
    }
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
