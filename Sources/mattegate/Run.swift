import ArgumentParser
import Foundation
import Runner

struct Run: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run A and B over a clip set, score them against ground truth and decide.")

  @Option(help: "Clip set folder (holding clipset.yaml).")
  var clipset: String

  @Option(name: .customLong("a"), help: "Config of arm A (today's default).")
  var configA: String

  @Option(name: .customLong("b"), help: "Config of arm B (the candidate).")
  var configB: String

  @Option(help: "Provider: local (the embedded engine) or exec (each config's exec.command).")
  var provider: String = "local"

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

  func validate() throws {
    guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    guard ["local", "exec"].contains(provider) else {
      throw ValidationError(
        "--provider \(provider) is not available yet; 'local' (the embedded engine) and 'exec' (exec.command in each config) are"
      )
    }
  }

  func run() async throws {
    let options = RunOptions(
      clipsetFolder: clipset, configAPath: configA, configBPath: configB, gatePath: gate, databasePath: db,
      outputFolder: out, provider: provider, jobs: jobs, seed: seed)
    let result = try await RunCoordinator.run(options) { printError($0) }
    for line in result.verdictLines { print(line) }
    for error in result.errors { printError("error: \(error)") }
    print(result.gateSummary)
    for reason in result.gateReasons { print("  - \(reason)") }
    print("report: \(result.reportPath)")
    print("results: \(result.databasePath) (run \(result.runID))")
    if result.exitCode != 0 { throw ExitCode(result.exitCode) }
  }
}
