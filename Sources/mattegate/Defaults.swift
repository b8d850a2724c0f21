import ArgumentParser
import Foundation
import Runner
import Store

/// Who changes a default: `--owner`, else `$MATTEGATE_OWNER`, `$GITHUB_ACTOR`,
/// `$GITLAB_USER_LOGIN` or `$USER`.
struct OwnerOption: ParsableArguments {
  @Option(
    help:
      "Who makes the change (recorded). Default: $MATTEGATE_OWNER, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER.")
  var owner: String?

  @Option(help: "Why, in a sentence (recorded and listed by defaults history).")
  var reason: String?

  func validate() throws {
    guard let owner = resolved else {
      throw ValidationError("give --owner (no $MATTEGATE_OWNER, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER is set)")
    }
    if owner.count > 200 || owner.contains(where: \.isNewline) {
      throw ValidationError("--owner must be 1 to 200 characters on one line")
    }
    if let reason, reason.count > 2000 { throw ValidationError("--reason must be at most 2000 characters") }
  }

  var resolved: String? {
    let env = ProcessInfo.processInfo.environment
    return [owner, env["MATTEGATE_OWNER"], env["GITHUB_ACTOR"], env["GITLAB_USER_LOGIN"], env["USER"]]
      .compactMap { $0 }.first { !$0.isEmpty }
  }
}

struct Promote: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Make run RUN's arm B the default: write its config file over --config, on evidence.",
    discussion: """
      Refused (exit 1, the file unchanged) unless RUN finished, is not an unmerged shard, compared two \
      different configs, passed its rollout gate, used --config's current settings as arm A, and ran on a \
      clip set that is still pinned and unchanged; and unless its clips match, in source bytes and \
      compression, those of the evidence run of the file's latest recorded change (--allow-clipset-change overrides this \
      last rule only). The change is recorded in the database with the owner, time, configs, evidence \
      run and gate; the run's report says it was promoted.
      """)

  @Argument(help: "The evidence run's id.")
  var runID: String

  @Option(help: "The default config file to replace (inside the repository).")
  var config: String

  @Option(help: "SQLite database of results.")
  var db: String = "reports/mattegate.sqlite"

  @OptionGroup var who: OwnerOption

  @Flag(help: "Promote even when the run's clips differ in source bytes or compression from the current default's.")
  var allowClipsetChange = false

  func run() throws {
    let outcome = try Defaults.promote(
      runID: runID, config: config, database: db, owner: who.resolved!, reason: who.reason,
      allowClipsetChange: allowClipsetChange)
    for warning in outcome.warnings { printError("warning (overridden): \(warning)") }
    let c = outcome.change
    print(
      "promoted: \(c.configPath) now holds arm B's config '\(c.fromConfig)' of run \(runID) (change #\(c.id), by \(c.owner))"
    )
    finish(outcome)
  }
}

struct Rollback: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Restore an earlier version of a default config file, recorded like a promotion.",
    discussion: """
      Without --to, restores the version before the latest recorded change; --to N restores what change N \
      wrote (0: the file before its first recorded change). Refused when the file was edited since \
      mattegate last wrote it (--force overrides) or already holds that version.
      """)

  @Option(help: "The default config file (inside the repository).")
  var config: String

  @Option(help: "The change whose version to restore (see defaults history); 0 for the file before any change.")
  var to: Int64?

  @Option(help: "SQLite database of results.")
  var db: String = "reports/mattegate.sqlite"

  @OptionGroup var who: OwnerOption

  @Flag(help: "Roll back even though the file was edited since mattegate last wrote it.")
  var force = false

  func validate() throws {
    if let to, to < 0 { throw ValidationError("--to is a change number (0 or more)") }
  }

  func run() throws {
    let outcome = try Defaults.rollback(
      config: config, to: to, database: db, owner: who.resolved!, reason: who.reason, force: force)
    let c = outcome.change
    print("rolled back: \(c.configPath) restored to \(c.fromConfig) (change #\(c.id), by \(c.owner))")
    finish(outcome)
  }
}

struct DefaultsHistory: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "history", abstract: "List every recorded change of a default with its evidence and report.")

  @Option(help: "Only this default config file.")
  var config: String?

  @Option(help: "SQLite database of results.")
  var db: String = "reports/mattegate.sqlite"

  func run() throws {
    for line in try Defaults.history(database: db, config: config) { print(line) }
  }
}

struct DefaultsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "defaults", abstract: "Promote, roll back and list the changes of default configs.",
    subcommands: [DefaultsHistory.self, Promote.self, Rollback.self])
}

private func finish(_ outcome: Defaults.Outcome) {
  for report in outcome.reports { print("report: \(report)") }
  for note in outcome.notes { print("note: \(note)") }
}
