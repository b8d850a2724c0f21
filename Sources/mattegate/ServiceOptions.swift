import ArgumentParser
import Foundation
import Runner
import Services

#if canImport(Glibc)
import Glibc
#endif

/// The options `run` and `calibrate` share: the provider, the gate and where results go.
struct ServiceOptions: ParsableArguments {
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

  @Option(help: "Your team's user or project id: stored on the run and every job, sent in job metadata.")
  var owner: String?

  func validate() throws {
    guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
    guard ["local", "http", "exec"].contains(provider) else {
      throw ValidationError("--provider must be local, http or exec, not '\(provider)'")
    }
    guard provider != "http" || apiURL != nil else { throw ValidationError("--provider http needs --api-url URL") }
    if let apiURL {
      guard let url = URL(string: apiURL), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
        let host = url.host, !host.isEmpty
      else {
        throw ValidationError("--api-url '\(apiURL)' is not an http:// or https:// URL with a host")
      }
    }
    if let owner, let problem = ArmConfig.ownerProblem(owner) { throw ValidationError("--owner: \(problem)") }
    guard pollInterval > 0, jobDeadline > 0 else {
      throw ValidationError("--poll-interval and --job-deadline must be positive")
    }
  }

  /// Run options for `clipset` with arms A and B, carrying these settings.
  func options(clipset: String, configA: String, configB: String, seed: UInt64) -> RunOptions {
    var options = RunOptions(
      clipsetFolder: clipset, configAPath: configA, configBPath: configB, gatePath: gate, databasePath: db,
      outputFolder: out, provider: provider, jobs: jobs, seed: seed)
    options.apiURL = apiURL
    options.pollInterval = pollInterval
    options.jobDeadline = jobDeadline
    options.owner = owner
    options.progressStyle = isatty(STDERR_FILENO) == 1 ? .bar : .lines
    return options
  }
}
