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
      (
        "provider: removebgvideo\napi_key_env: MATTEGATE_TEST_UNSET_KEY\n",
        ["field 'api_key_env'", "arm B: the removebgvideo provider needs the API key", "MATTEGATE_TEST_UNSET_KEY"]
      ),
      ("provider: replicate\n", ["field 'api_url'", "arm B: provider replicate needs api_url"]),
      // What the vendor does not offer, before anything is uploaded (port 9 never answers).
      (
        "provider: removebgvideo\napi_url: http://127.0.0.1:9\napi_key_env: MATTEGATE_TEST_SET_KEY\n",
        ["field 'model'", "arm B: RemoveBGVideo does not offer model 'b'"]
      ),
      (
        "provider: videobgremover\napi_key_env: MATTEGATE_TEST_UNSET_KEY\n",
        ["field 'api_key_env'", "arm B: the videobgremover provider needs the API key", "MATTEGATE_TEST_UNSET_KEY"]
      ),
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
        ], environment: ["MATTEGATE_TEST_UNSET_KEY": "", "MATTEGATE_TEST_SET_KEY": "set"])
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

/// A run with arm B on a vendor dialect, against `serve-api --dialect …` as a child process.
@Suite(.serialized) struct VendorRunTests {
  @Test func localAgainstRemoveBGVideoStoresTheVendorsRecordAndLogsEveryRequest() throws {
    let key = "rbv-secret-\(UUID().uuidString)"
    let clips = try CLI.tinyClipSet()
    let work = try CLI.folder()
    let serverLog = work + "/serve-api.log"
    let (server, port) = try HTTPProviderEndToEndTests.startServer(
      key: key, storage: work + "/server", log: serverLog, dialect: "removebgvideo")
    defer { server.terminate() }
    let b = work + "/rbv-light.yaml"
    try """
    name: rbv-light
    model: light
    output_format: webm
    provider: removebgvideo
    api_url: http://127.0.0.1:\(port)
    api_key_env: RBV_TEST_KEY
    """.write(toFile: b, atomically: true, encoding: .utf8)
    let db = work + "/m.sqlite"
    // The first job the service processes fails.
    let armed = try CLI.tool(
      URL(fileURLWithPath: "/usr/bin/curl"),
      [
        "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "X-Api-Key: \(key)", "-H",
        "Content-Type: application/json", "-d", #"{"fault":"job_fail"}"#, "http://127.0.0.1:\(port)/_test/faults",
      ])
    #expect(armed.stdout == "201", "\(armed.stdout) \(armed.stderr)")
    let r = try CLI.run(
      [
        "run", "--clipset", clips, "--a", CLI.repository.path + "/configs/baseline.yaml", "--b", b, "--db", db,
        "--out", work + "/reports", "--poll-interval", "0.1", "--owner", "team-7", "--jobs", "1",
      ], environment: ["RBV_TEST_KEY": key])
    // A failed clip is a pipeline error: exit 1, never a pass (docs/statistics.md).
    #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
    #expect(r.stderr.contains("providers A local, B removebgvideo"), "\(r.stderr)")
    let runID = try printedRunID(r)
    let store = try ResultStore(path: db)
    var jobs = try store.jobs(runID: runID)
    // The failed job: the vendor's text word for word, and a link from the report to its lines.
    let failed = jobs.filter { $0.status == "failed" }
    #expect(failed.count == 1 && failed.first?.arm == "B", "\(failed)")
    let broken = try #require(failed.first)
    #expect(broken.provider == "removebgvideo" && broken.errorMessage == "failed on purpose (job_fail fault)")
    let report = try String(contentsOfFile: work + "/reports/\(runID)/index.html", encoding: .utf8)
    let link = "requests/\(broken.clipID).B.jsonl"
    #expect(report.contains("href=\"\(link)\""), "no link to \(link)")
    let failedLines = try String(contentsOfFile: work + "/reports/\(runID)/" + link, encoding: .utf8)
    #expect(failedLines.contains("\"path\":\"/v1/jobs\"") && failedLines.contains("\"clip\":\"\(broken.clipID)\""))
    jobs = jobs.filter { $0.status != "failed" }
    #expect(jobs.count == 5)
    for job in jobs where job.arm == "B" {
      #expect(job.provider == "removebgvideo" && job.status == "completed", "\(job)")
      #expect(job.providerJobID?.hasPrefix("job_") == true)
      #expect(job.model == "light" && job.outputFormat == "webm" && job.bgType == "transparent")
      // 4 frames at 25 fps are billed 1 s; light is 45 credits a minute: 45 / 60 = 0.75, kept as a real.
      #expect(job.creditsCharged == 0.75 && job.credits == 0.75)
      #expect(job.owner == "team-7")
      #expect(job.inputReference?.hasPrefix("video_id up_") == true, "\(job.inputReference ?? "nil")")
    }
    for job in jobs where job.arm == "A" {
      #expect(job.inputReference?.hasPrefix("clipset:") == true, "\(job.inputReference ?? "nil")")
    }
    // The operational log: B's requests, one file per clip, no key anywhere.
    let folder = work + "/reports/\(runID)"
    let lines = try String(contentsOfFile: folder + "/requests.jsonl", encoding: .utf8).split(separator: "\n")
    let entries = try lines.map { try JSONDecoder().decode(RequestLogLine.self, from: Data($0.utf8)) }
    #expect(entries.contains { $0.method == "POST" && $0.path == "/v1/jobs" && $0.arm == "B" })
    #expect(entries.allSatisfy { $0.provider == "removebgvideo" && $0.latencyMS >= 0 })
    for job in jobs where job.arm == "B" {
      let perClip = folder + "/requests/\(job.clipID).B.jsonl"
      #expect(FileManager.default.fileExists(atPath: perClip), "\(perClip)")
    }
    let found = HTTPProviderEndToEndTests.filesContaining(key, under: work + "/reports", plus: [db, serverLog])
    #expect(found.isEmpty, "the API key appears in \(found)")
  }

  struct RequestLogLine: Decodable {
    var provider: String
    var method: String
    var path: String
    var arm: String?
    var latencyMS: Int
    enum CodingKeys: String, CodingKey {
      case provider, method, path, arm
      case latencyMS = "latency_ms"
    }
  }
}

extension VendorRunTests {
  /// Vendor against vendor: A on RemoveBGVideo, B on VideoBGRemover, each on its own
  /// `serve-api` dialect with its own key; each arm keeps its vendor's charge.
  @Test func removeBGVideoAgainstVideoBGRemover() throws {
    let clips = try CLI.tinyClipSet()
    let work = try CLI.folder()
    let keys = ["RBV": "rbv-\(UUID().uuidString)", "VBR": "vbr-\(UUID().uuidString)"]
    let (rbv, rbvPort) = try HTTPProviderEndToEndTests.startServer(
      key: keys["RBV"]!, storage: work + "/rbv", log: work + "/rbv.log", dialect: "removebgvideo")
    defer { rbv.terminate() }
    let (vbr, vbrPort) = try HTTPProviderEndToEndTests.startServer(
      key: keys["VBR"]!, storage: work + "/vbr", log: work + "/vbr.log", dialect: "videobgremover")
    defer { vbr.terminate() }
    for (name, kind, port) in [("a", "removebgvideo", rbvPort), ("b", "videobgremover", vbrPort)] {
      try """
      name: \(kind)-light
      model: light
      output_format: webm
      provider: \(kind)
      api_url: http://127.0.0.1:\(port)
      api_key_env: \(kind == "removebgvideo" ? "RBV_KEY" : "VBR_KEY")
      """.write(toFile: work + "/\(name).yaml", atomically: true, encoding: .utf8)
    }
    let db = work + "/m.sqlite"
    let r = try CLI.run(
      [
        "run", "--clipset", clips, "--a", work + "/a.yaml", "--b", work + "/b.yaml", "--db", db, "--out",
        work + "/reports", "--poll-interval", "0.1",
      ], environment: ["RBV_KEY": keys["RBV"]!, "VBR_KEY": keys["VBR"]!])
    #expect([0, 2, 3].contains(r.status), "\(r.stdout) \(r.stderr)")
    let runID = try printedRunID(r)
    let store = try ResultStore(path: db)
    #expect(try store.run(id: runID)?.provider == "A: removebgvideo, B: videobgremover")
    let jobs = try store.jobs(runID: runID)
    #expect(jobs.count == 6 && jobs.allSatisfy { $0.status == "completed" })
    for job in jobs {
      #expect(job.provider == (job.arm == "A" ? "removebgvideo" : "videobgremover"))
      // 0.16 s bills 1 s: RemoveBGVideo light 45/60 = 0.75, VideoBGRemover 1 a second = 1.
      #expect(job.creditsCharged == (job.arm == "A" ? 0.75 : 1))
      #expect(job.providerJobID?.hasPrefix(job.arm == "A" ? "job_" : "vbr_") == true)
      #expect(
        job.inputReference?.hasPrefix(job.arm == "A" ? "video_id up_" : "upload_url of job vbr_") == true,
        "\(job.inputReference ?? "nil")")
    }
    let found = keys.values.flatMap {
      HTTPProviderEndToEndTests.filesContaining($0, under: work + "/reports", plus: [db])
    }
    #expect(found.isEmpty, "a key appears in \(found)")
  }
}
