public import Foundation

/// The few facts CI needs about a finished (or refused) run, as a JSON file (`--json-summary`)
/// and as `key=value` lines appended to `$GITHUB_OUTPUT` when that is set.
public struct RunSummary: Codable, Sendable, Equatable {
  /// nil when the command failed before a run existed (a bad config, say).
  public var runID: String?
  public var outcome: String
  public var exitCode: Int32
  public var report: String?
  public var database: String?
  public var name: String?
  public var tags: [String: String]

  enum CodingKeys: String, CodingKey {
    case outcome, report, database, name, tags
    case runID = "run_id"
    case exitCode = "exit_code"
  }

  public init(_ result: RunResult, label: RunLabel) {
    runID = result.runID
    outcome = result.gateSummary
    exitCode = result.exitCode
    report = result.reportPath
    database = result.databasePath
    name = label.name
    tags = label.tags
  }

  /// A command that stopped before its run existed (or failed in the middle).
  public init(error: String, exitCode: Int32, label: RunLabel) {
    outcome = "error: " + error
    self.exitCode = exitCode
    name = label.name
    tags = label.tags
  }

  /// Writes the JSON to `path` (when given) and the outputs to `$GITHUB_OUTPUT` (when set).
  public func write(to path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
    if let path {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      do {
        try (encoder.encode(self) + Data("\n".utf8)).write(to: URL(fileURLWithPath: path), options: .atomic)
      } catch {
        throw RunError("\(path): cannot write the JSON summary: \(error.localizedDescription)")
      }
    }
    if let output = environment["GITHUB_OUTPUT"], !output.isEmpty {
      // One line each; the outcome is one line already, a run id and paths never hold newlines.
      let lines = [
        "run_id=\(runID ?? "")", "outcome=\(outcome.replacingOccurrences(of: "\n", with: " "))",
        "exit_code=\(exitCode)", "report=\(report ?? "")", "database=\(database ?? "")",
      ]
      guard let handle = FileHandle(forWritingAtPath: output) else {
        throw RunError("GITHUB_OUTPUT \(output): cannot be opened for appending")
      }
      defer { try? handle.close() }
      _ = try? handle.seekToEnd()
      handle.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
  }
}
