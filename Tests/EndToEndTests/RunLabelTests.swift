import Foundation
import Store
import TestSupport
import Testing

/// Runs CI can address (issue 27, item 1): `--run-id`, `--name`, `--description`, `--tag`, the
/// git commit and branch, the command line, and `--json-summary` / `$GITHUB_OUTPUT`.
@Suite(.serialized) struct RunLabelTests {
  struct Summary: Decodable {
    var runID: String?
    var outcome: String
    var exitCode: Int32
    var report: String?
    var name: String?
    var tags: [String: String]
    enum CodingKeys: String, CodingKey {
      case outcome, report, name, tags
      case runID = "run_id"
      case exitCode = "exit_code"
    }
  }

  @Test func labelledRunIsStoredShownAndSummarised() throws {
    let clips = try CLI.tinyClipSet()
    let dir = try CLI.folder()
    let db = dir + "/m.sqlite"
    let githubOutput = dir + "/github-output"
    try "previous=1\n".write(toFile: githubOutput, atomically: true, encoding: .utf8)
    let arguments = [
      "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", "configs/candidate.yaml", "--db", db,
      "--out", dir + "/reports", "--run-id", "pr-42.a", "--name", "PR 42: softer keyer", "--description",
      "candidate keyer on the smoke set", "--tag", "pr=42", "--tag", "team=matte", "--json-summary", dir + "/s.json",
    ]
    let r = try CLI.run(arguments, environment: ["GITHUB_OUTPUT": githubOutput])
    #expect([0, 2, 3].contains(r.status), "\(r.stderr)")
    #expect(r.stdout.contains("(run pr-42.a)"))
    // The summary says what the process said: same run, exit code and report.
    let summary = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/s.json")))
    #expect(summary.runID == "pr-42.a" && summary.exitCode == r.status)
    #expect(summary.report == dir + "/reports/pr-42.a/index.html")
    #expect(r.stdout.contains(summary.outcome))
    #expect(summary.name == "PR 42: softer keyer" && summary.tags == ["pr": "42", "team": "matte"])
    let outputs = try String(contentsOfFile: githubOutput, encoding: .utf8)
    #expect(outputs.hasPrefix("previous=1\nrun_id=pr-42.a\n"))
    #expect(outputs.contains("\nexit_code=\(r.status)\n"))
    // Stored: name, description, tags, the repository's own commit and branch, the command line.
    let run = try #require(try ResultStore(path: db).run(id: "pr-42.a"))
    #expect(run.name == "PR 42: softer keyer" && run.runDescription == "candidate keyer on the smoke set")
    #expect(run.tags == "pr=42\nteam=matte")
    // Each arm's config file as it was, comments included (what promoting B writes back).
    let candidate = try String(contentsOfFile: CLI.repository.path + "/configs/candidate.yaml", encoding: .utf8)
    #expect(run.configBYAML == candidate && candidate.contains("#") == (run.configBYAML?.contains("#") ?? false))
    #expect(
      run.configAYAML == (try String(contentsOfFile: CLI.repository.path + "/configs/baseline.yaml", encoding: .utf8)))
    let head = try CLI.tool(URL(fileURLWithPath: "/usr/bin/git"), ["rev-parse", "HEAD"])
    #expect(run.gitCommit == head.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    #expect(
      run.commandLine?.contains("--run-id pr-42.a --name 'PR 42: softer keyer'") == true, "\(run.commandLine ?? "")")
    // Shown: the report's header and `history`.
    let report = try String(contentsOfFile: dir + "/reports/pr-42.a/index.html", encoding: .utf8)
    #expect(report.contains("<b class=\"run-name\">PR 42: softer keyer</b>"))
    #expect(report.contains("<span class=\"tag run-tag\">pr=42</span>"))
    let history = try CLI.run(["history", "--db", db])
    #expect(
      history.stdout.contains("pr-42.a") && history.stdout.contains("\"PR 42: softer keyer\"  [pr=42 team=matte]"))

    // The same id again: one error line, exit 1, and a summary without a run id.
    let again = try CLI.run(arguments, environment: ["GITHUB_OUTPUT": githubOutput])
    #expect(again.status == 1)
    #expect(again.stderr.contains("run id pr-42.a is already used"), "\(again.stderr)")
    let refused = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/s.json")))
    #expect(refused.runID == nil && refused.exitCode == 1 && refused.outcome.hasPrefix("error: "))
    #expect(
      try String(contentsOfFile: githubOutput, encoding: .utf8).hasSuffix(
        "run_id=\noutcome=\(refused.outcome)\nexit_code=1\nreport=\ndatabase=\n"))
  }

  /// A config error before any run exists writes a summary with no run id, so a CI step never
  /// reads an earlier run's outcome; bad ids and tags are usage errors.
  @Test func refusalsBeforeARunAndBadLabels() throws {
    let clips = try CLI.tinyClipSet()
    let dir = try CLI.folder()
    let broken = try CLI.run([
      "run", "--clipset", clips, "--a", dir + "/missing.yaml", "--b", "configs/candidate.yaml", "--db",
      dir + "/m.sqlite", "--json-summary", dir + "/s.json",
    ])
    #expect(broken.status == 1)
    let summary = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/s.json")))
    #expect(summary.runID == nil && summary.exitCode == 1 && summary.outcome.contains("missing.yaml"))
    for (flag, value, expected) in [
      ("--run-id", "../escape", "must start with a letter or digit"), ("--run-id", "a/../b", "may hold only letters"),
      ("--run-id", String(repeating: "x", count: 65), "1 to 64"), ("--tag", "novalue", "is not k=v"),
      ("--tag", "bad key=1", "tag key"),
    ] {
      let r = try CLI.run([
        "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", "configs/candidate.yaml", "--db",
        dir + "/u.sqlite", flag, value,
      ])
      #expect(r.status == 64 && r.stderr.contains(expected), "\(flag) \(value): \(r.stderr)")
      #expect(!FileManager.default.fileExists(atPath: dir + "/u.sqlite"))
    }
  }
}

/// `--shard env`: the shard from GitLab's or a Kubernetes Indexed Job's variables.
@Test func shardFromTheEnvironment() throws {
  let clips = try CLI.tinyClipSet()
  let dir = try CLI.folder()
  let none = ["CI_NODE_INDEX": "", "CI_NODE_TOTAL": "", "JOB_COMPLETION_INDEX": "", "MATTEGATE_SHARD_COUNT": ""]
  func run(_ env: [String: String], _ db: String) throws -> CLI.Result {
    try CLI.run(
      [
        "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", "configs/candidate.yaml", "--db",
        dir + "/" + db, "--out", dir + "/reports", "--shard", "env",
      ], environment: none.merging(env) { _, new in new })
  }
  let gitlab = try run(["CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "2"], "g.sqlite")
  #expect(gitlab.stderr.contains("(shard 1/2 of 3 clips)"), "\(gitlab.stderr)")
  let kubernetes = try run(["JOB_COMPLETION_INDEX": "1", "MATTEGATE_SHARD_COUNT": "2"], "k.sqlite")
  #expect(kubernetes.stderr.contains("(shard 2/2 of 3 clips)"), "\(kubernetes.stderr)")
  let missing = try run([:], "m.sqlite")
  #expect(missing.status == 64 && missing.stderr.contains("set CI_NODE_INDEX and CI_NODE_TOTAL"), "\(missing.stderr)")
  let outside = try run(["JOB_COMPLETION_INDEX": "2", "MATTEGATE_SHARD_COUNT": "2"], "o.sqlite")
  #expect(outside.status == 64 && outside.stderr.contains("shard 3/2 is not K/N"), "\(outside.stderr)")
}
