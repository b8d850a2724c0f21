import ArgumentParser
import Foundation
import Runner

struct ReportCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Render a stored run again from SQLite: the HTML report, or the Markdown, JUnit or JSON CI reads.",
    discussion: "Exits with the run's gate code (0 passed, 2 regression, 3 inconclusive, 1 error), as run does.")

  enum Format: String, ExpressibleByArgument, CaseIterable {
    case html, md, junit, json
  }

  @Argument(help: "The run's id.")
  var runID: String

  @Option(help: "html, md, junit or json.")
  var format: Format = .html

  @Option(help: "SQLite database of results.")
  var db: String = "reports/mattegate.sqlite"

  @Option(help: "Folder of run reports (html writes <out>/<run>/index.html and the CI files beside it).")
  var out: String = "reports"

  @Option(help: "Write md, junit or json to this file instead of standard output.")
  var output: String?

  func run() async throws {
    let rendered = try RunReport.render(
      runID: runID, database: db, outputFolder: out, format: format.rawValue)
    if let text = rendered.text {
      if let output {
        do {
          try text.write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
          throw RunError("\(output): cannot write: \(error.localizedDescription)")
        }
      } else {
        FileHandle.standardOutput.write(Data(text.utf8))
      }
    } else {
      try report(rendered.result!)
    }
    if rendered.exitCode != 0 { throw ExitCode(rendered.exitCode) }
  }
}
