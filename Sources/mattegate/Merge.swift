import ArgumentParser
import Foundation
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

  func run() async throws {
    let result = try RunMerger.merge(databases: databases, into: into, outputFolder: out) {
      FileHandle.standardError.write(Data($0.utf8))
    }
    try report(result)
  }
}

struct History: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the stored runs with their verdicts, and the trend of one endpoint across them.")

  @Option(help: "SQLite database of results.")
  var db: String = "reports/mattegate.sqlite"

  @Option(help: "An endpoint as region.metric (e.g. hair.Grad): its estimate and CI per run, and the trend.")
  var endpoint: String?

  func run() async throws {
    for line in try RunHistory.lines(database: db, endpoint: endpoint) { print(line) }
  }
}
