import ArgumentParser
import Foundation
import Runner

/// The database and report folder the `runs` subcommands work on.
struct StoreOptions: ParsableArguments {
  @Option(help: "SQLite database of results.")
  var db: String = "reports/mattegate.sqlite"
}

struct RunsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "runs", abstract: "Rename, tag, archive and delete stored runs.",
    subcommands: [RenameRun.self, TagRun.self, ArchiveRun.self, UnarchiveRun.self, DeleteRun.self])
}

struct RenameRun: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rename", abstract: "Set a run's name (an empty name clears it).")
  @Argument(help: "The run's id.") var runID: String
  @Argument(help: "The new name.") var name: String
  @OptionGroup var store: StoreOptions

  func run() throws {
    try RunAdmin.rename(database: store.db, runID: runID, name: name)
    print(name.isEmpty ? "run \(runID): name cleared" : "run \(runID) is now named \"\(name)\"")
  }
}

struct TagRun: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tag", abstract: "Add or replace a run's tags (k=v) and remove others (--remove k).")
  @Argument(help: "The run's id.") var runID: String
  @Argument(help: "Tags k=v to add or replace.") var tags: [String] = []
  @Option(help: "A tag key to remove (repeatable).") var remove: [String] = []
  @OptionGroup var store: StoreOptions

  func validate() throws {
    guard !tags.isEmpty || !remove.isEmpty else { throw ValidationError("give tags k=v to set or --remove KEY") }
  }

  func run() throws {
    let now = try RunAdmin.tag(database: store.db, runID: runID, set: tags, remove: remove)
    print("run \(runID) tags: " + (now.isEmpty ? "none" : now.joined(separator: " ")))
  }
}

struct ArchiveRun: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "archive", abstract: "Put a run away: kept in full, left out of serve's lists and of history.")
  @Argument(help: "The run's id.") var runID: String
  @OptionGroup var store: StoreOptions

  func run() throws {
    try RunAdmin.archive(database: store.db, runID: runID, archived: true)
    print("run \(runID) archived (mattegate runs unarchive \(runID) brings it back)")
  }
}

struct UnarchiveRun: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "unarchive", abstract: "Bring an archived run back.")
  @Argument(help: "The run's id.") var runID: String
  @OptionGroup var store: StoreOptions

  func run() throws {
    try RunAdmin.archive(database: store.db, runID: runID, archived: false)
    print("run \(runID) is back in the lists")
  }
}

struct DeleteRun: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "delete",
    abstract: "Delete a run: its rows, its report folder and its outputs.",
    discussion: """
      Asks for the run's id to be typed again unless --yes is given; without a terminal, --yes is \
      required. A run that is the evidence of a recorded default change cannot be deleted.
      """)
  @Argument(help: "The run's id.") var runID: String
  @Option(help: "Folder of run reports (where <out>/<run> and <out>/outputs/<run> are).") var out: String = "reports"
  @Flag(help: "Delete without asking.") var yes = false
  @OptionGroup var store: StoreOptions

  func run() throws {
    let plan = try RunAdmin.plan(database: store.db, runID: runID, reports: out)
    if !yes {
      guard isatty(STDIN_FILENO) == 1 else {
        throw RunError("deleting run \(runID) needs confirmation: run it in a terminal, or give --yes")
      }
      print("Delete run \(runID) from \(store.db)" + describe(plan) + "?")
      print("Type the run's id to confirm: ", terminator: "")
      guard readLine()?.trimmingCharacters(in: .whitespaces) == runID else {
        throw RunError("not confirmed: run \(runID) is unchanged")
      }
    }
    let done = try RunAdmin.delete(database: store.db, runID: runID, reports: out)
    print("deleted run \(runID)" + describe(done))
  }

  func describe(_ d: RunAdmin.Deletion) -> String {
    var s = d.folders.isEmpty ? "" : " and " + d.folders.joined(separator: ", ")
    s += d.bytes > 0 ? String(format: " (%.1f MB)", Double(d.bytes) / 1e6) : ""
    if d.reusedByOtherRuns > 0 {
      s += "; \(d.reusedByOtherRuns) job\(d.reusedByOtherRuns == 1 ? "" : "s") of other runs reused its outputs "
      s += "(their scores stay, those output files go)"
    }
    return s
  }
}
