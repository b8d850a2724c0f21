import ArgumentParser
import Foundation
import Runner

/// `--run-id`, `--name`, `--description`, `--tag k=v` and `--json-summary` of run, calibrate
/// and merge.
struct RunLabelOptions: ParsableArguments {
  @Option(help: "The new run's id (1-64 letters, digits, '.', '_', '-'; must not be used in the database yet).")
  var runID: String?

  @Option(help: "A name for the run, shown in the report, history, compare and serve.")
  var name: String?

  @Option(help: "A sentence about the run.")
  var description: String?

  @Option(name: .customLong("tag"), help: "A tag k=v (repeatable), e.g. --tag pr=123 --tag branch=main.")
  var tags: [String] = []

  @Option(
    help: "Write the run id, outcome, exit code and report path as JSON to FILE (also to $GITHUB_OUTPUT when set).")
  var jsonSummary: String?

  func validate() throws {
    if let runID, let problem = RunLabel.idProblem(runID) { throw ValidationError("--run-id: \(problem)") }
    for tag in tags {
      if case .failure(let e) = RunLabel.parseTag(tag) { throw ValidationError("--tag: \(e)") }
    }
    if let name, name.isEmpty || name.count > 200 || name.contains(where: \.isNewline) {
      throw ValidationError("--name must be 1 to 200 characters on one line")
    }
    if let description, description.count > 2000 {
      throw ValidationError("--description must be at most 2000 characters")
    }
  }

  /// The label, with the git commit and branch of the working directory and the command line.
  func label() -> RunLabel {
    var label = RunLabel()
    label.name = name
    label.description = description
    for tag in tags {
      if case .success(let (k, v)) = RunLabel.parseTag(tag) { label.tags[k] = v }
    }
    let git = RunLabel.git()
    label.gitCommit = git.commit
    label.gitBranch = git.branch
    label.commandLine = CommandLine.arguments.map(Self.shellQuoted).joined(separator: " ")
    return label
  }

  /// `s` as one shell word.
  static func shellQuoted(_ s: String) -> String {
    let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/=:,+@%")
    if !s.isEmpty, s.allSatisfy(plain.contains) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  /// Runs `body` (which produces the run) and writes the summary whatever happens: the run's,
  /// or the error's with no run id, so CI never reads an earlier run's outcome.
  func summarizing(_ label: RunLabel, _ body: () async throws -> RunResult) async throws -> RunResult {
    do {
      let result = try await body()
      try RunSummary(result, label: label).write(to: jsonSummary)
      return result
    } catch {
      try? RunSummary(error: "\(error)", exitCode: 1, label: label).write(to: jsonSummary)
      throw error
    }
  }
}
