import Foundation
import Store
import TestSupport
import Testing

/// A provider per arm (issue 26, item 1): an arm config's `provider:` wins over `--provider`.
@Suite(.serialized) struct ArmProviderTests {
  @Test func armsOnDifferentProvidersRunTogether() throws {
    let clips = try CLI.tinyClipSet()
    let dir = try CLI.folder()
    let b = dir + "/colorkey.yaml"
    try """
    name: colorkey
    model: colorkey
    output_format: webm
    provider: exec
    owner: vendor-eval
    exec:
      command: >-
        \(CLI.colorKey) {output}
    """.write(toFile: b, atomically: true, encoding: .utf8)
    let db = dir + "/m.sqlite"
    // No --provider: arm A (no provider key) takes the default, local; arm B its own, exec.
    let r = try CLI.run([
      "run", "--clipset", clips, "--a", CLI.repository.path + "/configs/baseline.yaml", "--b", b, "--db", db,
      "--out", dir + "/reports", "--owner", "team-7",
    ])
    #expect([0, 2, 3].contains(r.status), "\(r.stdout) \(r.stderr)")
    #expect(r.stderr.contains("providers A local, B exec"), "\(r.stderr)")
    let runID = try printedRunID(r)
    let store = try ResultStore(path: db)
    let jobs = try store.jobs(runID: runID)
    #expect(jobs.count == 6)
    for job in jobs {
      #expect(job.status == "completed")
      #expect(job.provider == (job.arm == "A" ? "local" : "exec"), "\(job.clipID) \(job.arm): \(job.provider)")
      // The arm's own owner wins over --owner.
      #expect(job.owner == (job.arm == "A" ? "team-7" : "vendor-eval"))
    }
    let run = try #require(try store.run(id: runID))
    #expect(run.provider == "A: local, B: exec")
    #expect(run.owner == "team-7")
    #expect(run.providerIdentity?.hasPrefix("A: ") == true && run.providerIdentity?.contains("; B: ") == true)
    let report = try String(contentsOfFile: dir + "/reports/\(runID)/index.html", encoding: .utf8)
    #expect(report.contains("provider <b>A: local, B: exec</b>"))
    // The same configs again with --resume: the identity (each arm's provider) matches.
    let resumed = try CLI.run([
      "run", "--clipset", clips, "--a", CLI.repository.path + "/configs/baseline.yaml", "--b", b, "--db", db,
      "--out", dir + "/reports", "--resume", runID,
    ])
    #expect([0, 2, 3].contains(resumed.status), "\(resumed.stderr)")
    // Both arms on exec, A by --provider and B by its config: one shared provider.
    let a = dir + "/a.yaml"
    try """
    name: key
    model: key
    output_format: webm
    exec:
      command: >-
        \(CLI.colorKey) {output}
    """.write(toFile: a, atomically: true, encoding: .utf8)
    let mixed = try CLI.run([
      "run", "--clipset", clips, "--a", a, "--b", b, "--provider", "exec", "--db", db, "--out", dir + "/reports",
    ])
    #expect([0, 2, 3].contains(mixed.status), "\(mixed.stderr)")
    #expect(mixed.stderr.contains("on provider exec"), "\(mixed.stderr)")
  }

  @Test func badProviderSettingsAreOneErrorNamingFileFieldAndArm() throws {
    let clips = try CLI.tinyClipSet()
    let dir = try CLI.folder()
    let cases: [(yaml: String, expected: [String])] = [
      ("provider: bogus\n", ["field 'provider'", "'bogus' is not a provider"]),
      ("provider: http\n", ["field 'api_url'", "arm B: provider http needs api_url"]),
      (
        "provider: http\napi_url: http://127.0.0.1:9\napi_key_env: MATTEGATE_TEST_UNSET_KEY\n",
        ["field 'api_key_env'", "arm B:", "MATTEGATE_TEST_UNSET_KEY, which is unset or empty"]
      ),
      ("provider: removebgvideo\n", ["field 'provider'", "arm B: the removebgvideo dialect is not built yet"]),
      ("api_url: ftp://example.com\n", ["field 'api_url'", "is not an http:// or https:// URL"]),
      ("api_key_env: 9LIVES\n", ["field 'api_key_env'", "is not an environment variable name"]),
    ]
    for (n, c) in cases.enumerated() {
      let b = dir + "/b\(n).yaml"
      try "name: b\nmodel: b\noutput_format: webm\n\(c.yaml)".write(toFile: b, atomically: true, encoding: .utf8)
      let r = try CLI.run(
        [
          "run", "--clipset", clips, "--a", CLI.repository.path + "/configs/baseline.yaml", "--b", b, "--db",
          dir + "/m\(n).sqlite", "--out", dir + "/reports",
        ], environment: ["MATTEGATE_TEST_UNSET_KEY": ""])
      #expect(r.status == 1, "\(c.yaml): \(r.stderr)")
      #expect(r.stderr.split(separator: "\n").count == 1, "\(c.yaml): \(r.stderr)")
      #expect(r.stderr.contains("b\(n).yaml"), "\(c.yaml): \(r.stderr)")
      for text in c.expected { #expect(r.stderr.contains(text), "\(c.yaml): \(r.stderr)") }
      #expect(!FileManager.default.fileExists(atPath: dir + "/m\(n).sqlite"), "nothing stored for \(c.yaml)")
    }
    // An empty --owner is a usage error.
    let owner = try CLI.run([
      "run", "--clipset", clips, "--a", CLI.repository.path + "/configs/baseline.yaml", "--b",
      CLI.repository.path + "/configs/candidate.yaml", "--owner", "", "--db", dir + "/o.sqlite",
    ])
    #expect(owner.status == 64 && owner.stderr.contains("--owner: '' is not an owner id"), "\(owner.stderr)")
  }
}
