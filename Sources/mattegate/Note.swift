import ArgumentParser
import Foundation
import Runner

struct NoteCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "note",
    abstract: "Attach a quality note to a run, one of its clips, an arm or a frame; shown in the report and runbook.")

  @Argument(help: "The run's id.") var runID: String
  @Argument(help: "The note.") var text: String
  @Option(help: "The clip it is about.") var clip: String?
  @Option(help: "The arm it is about: A or B.") var arm: String?
  @Option(help: "The frame it is about (needs --clip).") var frame: Int?
  @Option(help: "Who writes it. Default: $MATTEGATE_OWNER or $USER.") var author: String?
  @Option(help: "SQLite database of results.") var db: String = "reports/mattegate.sqlite"

  func run() throws {
    let env = ProcessInfo.processInfo.environment
    guard let who = [author, env["MATTEGATE_OWNER"], env["USER"]].compactMap({ $0 }).first(where: { !$0.isEmpty })
    else { throw ValidationError("give --author (no $MATTEGATE_OWNER or $USER is set)") }
    let id = try RunNotes.add(
      database: db, runID: runID, text: text, clip: clip, arm: arm, frame: frame.map(String.init), author: who)
    print(
      "note #\(id) on run \(runID)\(clip.map { ", clip \($0)" } ?? "")\(arm.map { ", arm \($0)" } ?? "")\(frame.map { ", frame \($0)" } ?? "") by \(who)"
    )
    print("`mattegate report \(runID)` renders it into the static report; serve shows it at once")
  }
}
