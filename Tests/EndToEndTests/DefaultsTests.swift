import Foundation
import Store
import TestSupport
import Testing

/// Promote and roll back a default on evidence (issue 27, items 4 and 5), through the CLI in a
/// scratch git repository: what is written, what is recorded, and every refusal leaving the
/// file and the store as they were.
@Suite(.serialized) struct DefaultsTests {
  /// A scratch repository: configs/default.yaml (the baseline, with a comment line of its own),
  /// the candidate, a gate, and the demo clip set at 96×64, 4 frames (8 clips), outside git.
  struct Repo {
    var root: String
    var clips: String
    var db: String { root + "/reports/mattegate.sqlite" }
    var defaultPath: String { root + "/configs/default.yaml" }

    init() throws {
      let top = try CLI.folder()
      root = top + "/repo"
      clips = root + "/clips"
      try FileManager.default.createDirectory(atPath: root + "/configs", withIntermediateDirectories: true)
      let baseline = try String(contentsOfFile: CLI.repository.path + "/configs/baseline.yaml", encoding: .utf8)
      try ("# today's default\n" + baseline).write(toFile: defaultPath, atomically: true, encoding: .utf8)
      for name in ["candidate", "gate"] {
        try FileManager.default.copyItem(
          atPath: CLI.repository.path + "/configs/\(name).yaml", toPath: root + "/configs/\(name).yaml")
      }
      try "clips/\nreports/\nclips2/\n".write(toFile: root + "/.gitignore", atomically: true, encoding: .utf8)
      let git = URL(fileURLWithPath: "/usr/bin/git")
      for arguments in [
        ["init", "-q"], ["add", "."], ["-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qm", "init"],
      ] {
        let r = try CLI.tool(git, arguments, in: root)
        precondition(r.status == 0, "git \(arguments): \(r.stderr)")
      }
      try synth(clips, seed: 1)
    }

    func synth(_ folder: String, seed: Int) throws {
      let r = try CLI.run([
        "synth", "--preset", "demo", "--out", folder, "--size", "96x64", "--frames", "4", "--seed", "\(seed)",
      ])
      precondition(r.status == 0, "synth failed: \(r.stderr)")
    }

    func gate(_ name: String, _ edit: (String) -> String) throws -> String {
      let text = try String(contentsOfFile: root + "/configs/gate.yaml", encoding: .utf8)
      let path = root + "/configs/\(name).yaml"
      try edit(text).write(toFile: path, atomically: true, encoding: .utf8)
      return path
    }

    @discardableResult
    func mattegate(_ arguments: [String], environment: [String: String] = [:]) throws -> CLI.Result {
      try CLI.run(arguments, environment: environment, in: root)
    }

    func run(
      _ id: String, a: String = "configs/default.yaml", b: String = "configs/candidate.yaml", _ extra: [String] = []
    )
      throws -> Int32
    {
      let r = try mattegate(["run", "--clipset", clips, "--a", a, "--b", b, "--run-id", id] + extra)
      return r.status
    }

    func text(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }
    func changes() throws -> [DefaultChangeRecord] { try ResultStore(path: db).defaultChanges() }
  }

  /// A refused command: exit 1, one error line naming what is wrong, and nothing changed.
  func expectRefused(
    _ repo: Repo, _ arguments: [String], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let before = try repo.text(repo.defaultPath)
    let count = try repo.changes().count
    let r = try repo.mattegate(arguments)
    #expect(r.status == 1, "\(arguments): exit \(r.status) \(r.stderr)", sourceLocation: sourceLocation)
    let lines = r.stderr.split(separator: "\n")
    #expect(
      lines.count == 1 && r.stderr.contains(fragment), "\(arguments): \(r.stderr)", sourceLocation: sourceLocation)
    #expect(try repo.text(repo.defaultPath) == before, sourceLocation: sourceLocation)
    #expect(try repo.changes().count == count, sourceLocation: sourceLocation)
  }

  @Test func promoteRollBackAndTheirRecord() throws {
    let repo = try Repo()
    let original = try repo.text(repo.defaultPath)
    let candidate = try repo.text(repo.root + "/configs/candidate.yaml")
    #expect(try repo.run("good") == 0)
    // Runs that are not rollout evidence, each refused with its reason.
    #expect(try repo.run("worse", a: "configs/candidate.yaml", b: "configs/default.yaml") == 2)
    let tooFew = try repo.gate("gate-min20") { $0.replacingOccurrences(of: "min_clips: 8", with: "min_clips: 20") }
    #expect(try repo.run("few", ["--gate", tooFew]) == 3)
    let alarm = try repo.gate("gate-alarm") { $0.replacingOccurrences(of: "mode: rollout", with: "mode: alarm") }
    #expect(try repo.run("alarm", ["--gate", alarm]) == 0)
    #expect(try repo.run("shard", ["--shard", "1/2"]) != 1)
    #expect(
      try repo.mattegate(["calibrate", "--clipset", repo.clips, "--config", "configs/default.yaml", "--run-id", "aa"])
        .status == 0)

    let promote = ["promote", "--config", "configs/default.yaml", "--owner", "alice"]
    try expectRefused(repo, promote + ["worse"], "did not pass its rollout gate (regression, exit 2")
    try expectRefused(repo, promote + ["few"], "did not pass its rollout gate (inconclusive, exit 3")
    try expectRefused(repo, promote + ["alarm"], "was gated in alarm mode")
    try expectRefused(repo, promote + ["shard"], "is shard 1/2 of a split run; merge the shards")
    try expectRefused(repo, promote + ["aa"], "compares a config with itself")
    try expectRefused(repo, promote + ["missing"], "there is no run missing")
    try expectRefused(
      repo, ["promote", "good", "--config", "/tmp/../etc/default.yaml", "--owner", "alice"],
      "must be inside the repository")
    try expectRefused(
      repo, ["promote", "good", "--config", "configs/default.yaml", "--owner", "alice", "--db", "nope.sqlite"],
      "nope.sqlite: no such database")
    // Stale: the clip set's manifest changed since the run (restored afterwards).
    let manifest = repo.clips + "/clipset.yaml"
    let pinned = try repo.text(manifest)
    try (pinned + "# edited\n").write(toFile: manifest, atomically: true, encoding: .utf8)
    try expectRefused(repo, promote + ["good"], "is stale: \(repo.clips)/clipset.yaml changed since the run")
    try pinned.write(toFile: manifest, atomically: true, encoding: .utf8)
    // Stale: the default's settings changed since the run compared against it.
    let edited = original.replacingOccurrences(of: "# today's default\n", with: "# today's default\nfit: stretch\n")
    #expect(edited != original)
    try edited.write(toFile: repo.defaultPath, atomically: true, encoding: .utf8)
    try expectRefused(repo, promote + ["good"], "is stale: it compared B against")
    try original.write(toFile: repo.defaultPath, atomically: true, encoding: .utf8)
    // No owner anywhere: a usage error.
    let noOwner = try repo.mattegate(
      ["promote", "good", "--config", "configs/default.yaml"],
      environment: ["MATTEGATE_OWNER": "", "GITHUB_ACTOR": "", "GITLAB_USER_LOGIN": "", "USER": ""])
    #expect(noOwner.status == 64 && noOwner.stderr.contains("give --owner"), "\(noOwner.stderr)")
    #expect(try repo.changes().isEmpty)

    // The promotion: the file becomes arm B's config byte for byte, recorded with its evidence.
    let promoted = try repo.mattegate(promote + ["good", "--reason", "candidate is better on hair"])
    #expect(promoted.status == 0, "\(promoted.stderr)")
    #expect(try repo.text(repo.defaultPath) == candidate)
    let first = try #require(try repo.changes().first)
    #expect(first.id == 1 && first.action == "promote" && first.runID == "good" && first.owner == "alice")
    #expect(first.configPath == "configs/default.yaml" && first.fromConfig == "candidate")
    #expect(first.gateMode == "rollout" && first.gateOutcome == "passed")
    #expect(first.previousYAML == original && first.newYAML == candidate)
    #expect(first.reason == "candidate is better on hair")
    let head = try CLI.tool(URL(fileURLWithPath: "/usr/bin/git"), ["rev-parse", "HEAD"], in: repo.root)
    #expect(first.gitCommit == head.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    let report = repo.root + "/reports/good/index.html"
    #expect(first.report == report)
    #expect(
      try repo.text(report).contains(
        "<b>Promoted</b>: arm B (<code>candidate</code>) became the default <code>configs/default.yaml</code>"))
    // Promoting it again: the file already holds B.
    try expectRefused(repo, promote + ["good"], "already holds the settings of run good's arm B")

    // Roll back: the file before the promotion, comment and all.
    let back = try repo.mattegate(["rollback", "--config", "configs/default.yaml", "--owner", "bob"])
    #expect(back.status == 0, "\(back.stderr)")
    #expect(try repo.text(repo.defaultPath) == original)
    let second = try #require(try repo.changes().last)
    #expect(second.id == 2 && second.action == "rollback" && second.restores == nil && second.owner == "bob")
    #expect(second.previousYAML == candidate && second.newYAML == original)
    let replaced = try repo.text(report)
    #expect(replaced.contains("<p class=\"promoted replaced\" data-change=\"1\">"))
    #expect(replaced.contains("since replaced by change #2 (rollback"))
    try expectRefused(
      repo, ["rollback", "--config", "configs/default.yaml", "--to", "0", "--owner", "bob"],
      "already holds that version")
    try expectRefused(
      repo, ["rollback", "--config", "configs/default.yaml", "--to", "7", "--owner", "bob"], "there is no change #7")
    // Forward again to what change 1 wrote, with change 1's evidence.
    #expect(
      try repo.mattegate(["rollback", "--config", "configs/default.yaml", "--to", "1", "--owner", "bob"]).status == 0)
    #expect(try repo.text(repo.defaultPath) == candidate)
    let third = try #require(try repo.changes().last)
    #expect(third.restores == 1 && third.runID == "good" && third.gateOutcome == "passed")
    // A hand edit since mattegate wrote the file is refused unless forced.
    try (candidate + "# hand edit\n").write(toFile: repo.defaultPath, atomically: true, encoding: .utf8)
    try expectRefused(
      repo, ["rollback", "--config", "configs/default.yaml", "--owner", "bob"], "was edited since change #3 wrote it")
    let forced = try repo.mattegate(["rollback", "--config", "configs/default.yaml", "--owner", "bob", "--force"])
    #expect(forced.status == 0, "\(forced.stderr)")
    #expect(try repo.text(repo.defaultPath) == original)

    // defaults history: every change, its evidence and its report.
    let history = try repo.mattegate(["defaults", "history"])
    #expect(history.status == 0)
    let lines = history.stdout.split(separator: "\n").map(String.init)
    #expect(lines.filter { $0.first?.isNumber == true }.count == 4, "\(history.stdout)")
    #expect(
      lines.contains {
        $0.hasPrefix("1  ") && $0.contains("promote") && $0.contains("run good (rollout, passed)")
          && $0.contains("by alice")
      })
    #expect(lines.contains { $0.hasPrefix("3  ") && $0.contains("rollback") && $0.contains("← change #1") })
    #expect(lines.contains("     report: \(report)"))
    #expect(lines.last?.hasPrefix("current configs/default.yaml: change #4") == true)
  }

  /// The seed's rule across runs: a promotion on clips whose sources differ from those of the
  /// file's last evidence run is refused, naming the clips, unless overridden.
  @Test func promotionOnADifferentClipSetIsRefusedUnlessOverridden() throws {
    var repo = try Repo()
    let original = try repo.text(repo.defaultPath)
    #expect(try repo.run("first") == 0)
    #expect(try repo.mattegate(["promote", "first", "--config", "configs/default.yaml", "--owner", "a"]).status == 0)
    #expect(try repo.mattegate(["rollback", "--config", "configs/default.yaml", "--owner", "a"]).status == 0)
    #expect(try repo.text(repo.defaultPath) == original)
    // Same clip ids, other sources (seed 2).
    repo.clips = repo.root + "/clips2"
    try repo.synth(repo.clips, seed: 2)
    #expect(try repo.run("second") == 0)
    let arguments = ["promote", "second", "--config", "configs/default.yaml", "--owner", "a"]
    try expectRefused(repo, arguments, "is on clips that differ from those of run first")
    let refused = try repo.mattegate(arguments)
    #expect(refused.stderr.contains("clip 'mixed-01': the source bytes differ"), "\(refused.stderr)")
    #expect(refused.stderr.contains("--allow-clipset-change"))
    let overridden = try repo.mattegate(arguments + ["--allow-clipset-change"])
    #expect(overridden.status == 0, "\(overridden.stderr)")
    #expect(overridden.stderr.contains("warning (overridden): clip 'mixed-01': the source bytes differ"))
    let last = try #require(try repo.changes().last)
    #expect(last.runID == "second" && last.reason == "clip set differences overridden")
  }
}
