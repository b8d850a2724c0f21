import ArgumentParser
import Foundation
import MatteMetrics
import Report
import Runner

struct Merge: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Join the shards of a run (run --shard K/N on several workers) into one run and decide over all clips.")

  @Argument(help: "The shards' databases.")
  var databases: [String]

  @Option(help: "The database to merge into (not one of the inputs).")
  var into: String

  @Option(help: "Folder for the merged run's report.")
  var out: String = "reports"

  @OptionGroup var labels: RunLabelOptions

  func validate() throws {
    guard !databases.isEmpty else { throw ValidationError("give the shards' databases") }
    func same(_ a: String, _ b: String) -> Bool {
      let ra = URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath().path
      let rb = URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath().path
      return ra == rb
    }
    if let clash = databases.first(where: { same($0, into) }) {
      throw ValidationError("--into \(into) is one of the shards' databases (\(clash)); merge into a new database")
    }
  }

  func run() async throws {
    let label = labels.label()
    let result = try await labels.summarizing(label) {
      try RunMerger.merge(
        databases: databases, into: into, outputFolder: out, runID: labels.runID, label: label
      ) { FileHandle.standardError.write(Data($0.utf8)) }
    }
    try report(result)
  }
}

struct History: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the stored runs with their verdicts, and the trend of one endpoint across them.")

  @Option(help: "SQLite database of results.")
  var db: String = "reports/mattegate.sqlite"

  @Option(
    help:
      "An endpoint as region/metric (e.g. hair/Grad; hair.Grad is read too): its estimate and CI per run, and the trend."
  )
  var endpoint: String?

  @Option(help: "Only runs on this clip set (its name).")
  var clipset: String?

  @Option(help: "Only runs of this arm pair, as 'A → B' or A,B by config names (e.g. baseline,candidate).")
  var arms: String?

  @Option(help: "Only runs gated in this mode: rollout or alarm.")
  var mode: String?

  @Flag(help: "List the A/A calibrations (a config against itself) instead of the A/B runs.")
  var calibrations = false

  func validate() throws {
    if let endpoint, RunHistory.parseEndpoint(endpoint) == nil {
      throw ValidationError(
        "--endpoint '\(endpoint)' is not region/metric with region one of \(RegionKind.allCases.map(\.rawValue).joined(separator: ", ")) and metric one of \(MetricKind.allCases.map(\.rawValue).joined(separator: ", ")) (e.g. hair/Grad)"
      )
    }
    if let mode, !["rollout", "alarm"].contains(mode) { throw ValidationError("--mode is rollout or alarm") }
  }

  func run() async throws {
    let pair = arms.map { text in
      text.contains("→") ? text : text.split(separator: ",", maxSplits: 1).map(String.init).joined(separator: " → ")
    }
    let filter = ServedPages.HistoryFilter(clipset: clipset, arms: pair, mode: mode, calibrations: calibrations)
    for line in try RunHistory.lines(database: db, endpoint: endpoint, filter: filter) { print(line) }
  }
}
