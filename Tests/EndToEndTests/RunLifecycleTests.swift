import Foundation
import GRDB
import MediaIO
import Store
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The run id a `run` or `merge` printed on its `results:` line.
func printedRunID(_ r: CLI.Result) throws -> String {
  let line = try #require(
    r.stdout.split(separator: "\n").first { $0.hasPrefix("results: ") }, "\(r.stdout)\n\(r.stderr)")
  return String(try #require(line.split(separator: "(run ").last).dropLast())
}

/// Shards, merge, cache, baseline reuse, identity checks, history and progress, through the CLI.
@Suite(.serialized) struct RunLifecycleTests {
  static let local = ["--a", "configs/baseline.yaml", "--b", "configs/candidate.yaml"]

  /// Shards 1/2 and 2/2 on separate databases, merged, decide exactly as one unsharded run.
  @Test func mergedShardsEqualTheUnshardedRun() throws {
    let clips = try CLI.tinyClipSet()
    let dir = try CLI.folder()
    func run(_ db: String, _ extra: [String]) throws -> CLI.Result {
      try CLI.run(["run", "--clipset", clips] + Self.local + ["--db", db, "--out", dir + "/reports"] + extra)
    }
    let whole = try run(dir + "/whole.sqlite", [])
    let one = try run(dir + "/s1.sqlite", ["--shard", "1/2"])
    let two = try run(dir + "/s2.sqlite", ["--shard", "2/2"])
    #expect(one.stderr.contains("(shard 1/2 of 3 clips)") && one.stderr.contains("2 clips × 2 arms"), "\(one.stderr)")
    #expect(two.stderr.contains("1 clips × 2 arms"), "\(two.stderr)")
    let merged = try CLI.run([
      "merge", dir + "/s2.sqlite", dir + "/s1.sqlite", "--into", dir + "/all.sqlite", "--out", dir + "/reports",
      "--run-id", "nightly-7", "--name", "nightly", "--tag", "shards=2",
    ])
    #expect(merged.status == whole.status, "\(merged.stderr)")
    // The merged run takes the merge's own id and labels.
    #expect(try printedRunID(merged) == "nightly-7")
    let labelled = try #require(try ResultStore(path: dir + "/all.sqlite").run(id: "nightly-7"))
    #expect(labelled.name == "nightly" && labelled.tags == "shards=2")
    // The merged report is whole: the unsharded report's structure (apart from the name and
    // tags shown for the merged run), and every crop and viewer image, byte for byte.
    let wholeFolder = dir + "/reports/" + (try printedRunID(whole))
    let mergedFolder = dir + "/reports/nightly-7"
    func files(_ folder: String) throws -> [String: String] {
      var out: [String: String] = [:]
      let walker = try #require(FileManager.default.enumerator(atPath: folder + "/clips"))
      for case let relative as String in walker {
        var isFolder: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: folder + "/clips/" + relative, isDirectory: &isFolder)
        if !isFolder.boolValue { out[relative] = try FileHash.sha256(ofFile: folder + "/clips/" + relative) }
      }
      return out
    }
    let wholeFiles = try files(wholeFolder)
    #expect(wholeFiles.count >= 3 * 8 && wholeFiles.keys.contains { $0.hasSuffix(".png") })
    #expect(try files(mergedFolder) == wholeFiles)
    // Both runs show their git commit; only the merged one has a name and a tag.
    let extra: Set<String> = ["b.run-name", "span.tag.run-tag"]
    let wholeStructure = try HTMLStructure.lines(String(contentsOfFile: wholeFolder + "/index.html", encoding: .utf8))
    let mergedStructure = try HTMLStructure.lines(String(contentsOfFile: mergedFolder + "/index.html", encoding: .utf8))
      .filter { !extra.contains($0.trimmingCharacters(in: .whitespaces)) }
    let firstDifference = zip(mergedStructure, wholeStructure).enumerated().first { $0.element.0 != $0.element.1 }
    #expect(
      mergedStructure == wholeStructure,
      "\(mergedStructure.count) vs \(wholeStructure.count) lines; first difference at line \(firstDifference?.offset ?? -1): \(firstDifference.map { "'\($0.element.0)' vs '\($0.element.1)'" } ?? "one is a prefix of the other")"
    )
    #expect(mergedStructure.filter { $0.contains("img") }.count == wholeStructure.filter { $0.contains("img") }.count)

    let wholeStore = try ResultStore(path: dir + "/whole.sqlite")
    let mergedStore = try ResultStore(path: dir + "/all.sqlite")
    let wholeID = try printedRunID(whole)
    let mergedID = try printedRunID(merged)
    let a = try wholeStore.comparisons(runID: wholeID)
    let b = try mergedStore.comparisons(runID: mergedID)
    #expect(a.count == 5 * 7 && a.contains { $0.estimatePercent != nil })
    #expect(a == b)
    #expect(try wholeStore.clipMetrics(runID: wholeID) == (try mergedStore.clipMetrics(runID: mergedID)))
    #expect(try mergedStore.clips(runID: mergedID).map(\.clipID) == ["hair-sway", "glass-slide", "motion-blur"])
    var counts = try mergedStore.counts(runID: mergedID)
    counts["comparisons"] = nil
    var wholeCounts = try wholeStore.counts(runID: wholeID)
    wholeCounts["comparisons"] = nil
    #expect(counts == wholeCounts)
    let record = try #require(try mergedStore.run(id: mergedID))
    #expect(record.mergedFrom?.split(separator: ",").count == 2 && record.shard == nil)
    #expect(
      merged.stdout.split(separator: "\n").filter { $0.hasPrefix("hair") }
        == whole.stdout.split(separator: "\n").filter { $0.hasPrefix("hair") })

    // Shards that do not fit together are refused, saying why.
    let missing = try CLI.run(["merge", dir + "/s1.sqlite", "--into", dir + "/x.sqlite"])
    #expect(missing.status == 1 && missing.stderr.contains("shard 2/2 is missing"), "\(missing.stderr)")
    let twice = try CLI.run([
      "merge", dir + "/s1.sqlite", dir + "/s1.sqlite", dir + "/s2.sqlite", "--into", dir + "/y.sqlite",
    ])
    #expect(twice.status == 1 && twice.stderr.contains("shard 1/2 appears 2 times"), "\(twice.stderr)")
    let other = try run(dir + "/s3.sqlite", ["--shard", "2/2", "--seed", "9"])
    #expect(other.status != 1)
    let mixed = try CLI.run(["merge", dir + "/s1.sqlite", dir + "/s3.sqlite", "--into", dir + "/z.sqlite"])
    #expect(mixed.status == 1 && mixed.stderr.contains("the seed differs"), "\(mixed.stderr)")
  }

  /// A second run reuses every completed output from the cache and submits the failed job
  /// again; --no-cache submits everything.
  @Test func theCacheReusesOutputsButNeverErrors() throws {
    let clips = try CLI.tinyClipSet()
    let dir = try CLI.folder()
    let calls = dir + "/calls.txt"
    let count = "echo x >> '\(calls)'"
    let key = CLI.colorKey + " {output}"
    try "name: key\nmodel: key\noutput_format: webm\nexec:\n  command: >-\n    \(count); \(key)\n".write(
      toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
    try """
    name: picky
    model: picky
    output_format: webm
    exec:
      command: >-
        \(count); case {input} in *glass-slide*) echo "no glass" >&2; exit 4;; esac; \(key) -crf 40
    """.write(toFile: dir + "/b.yaml", atomically: true, encoding: .utf8)
    let db = dir + "/m.sqlite"
    func run(_ extra: [String] = []) throws -> (CLI.Result, [JobRecord], Int) {
      try? FileManager.default.removeItem(atPath: calls)
      let r = try CLI.run(
        [
          "run", "--clipset", clips, "--a", dir + "/a.yaml", "--b", dir + "/b.yaml", "--provider", "exec", "--db", db,
          "--out", dir + "/reports",
        ] + extra)
      let lines = ((try? String(contentsOfFile: calls, encoding: .utf8)) ?? "").split(separator: "\n").count
      return (r, try ResultStore(path: db).jobs(runID: try printedRunID(r)), lines)
    }
    let (first, firstJobs, firstCalls) = try run()
    #expect(first.status == 1)
    // glass-slide is the second clip, so B goes first and fails: A is never sent.
    #expect(firstCalls == 5 && firstJobs.count == 5)
    #expect(firstJobs.filter { $0.status == "failed" }.map(\.clipID) == ["glass-slide"])

    let (second, secondJobs, secondCalls) = try run()
    #expect(second.status == 1)
    #expect(secondCalls == 1, "only the failed job is submitted again")
    #expect(secondJobs.filter { $0.status == "reused" }.count == 4)
    for job in secondJobs where job.status == "reused" {
      let original = try #require(firstJobs.first { $0.clipID == job.clipID && $0.arm == job.arm })
      #expect(job.reusedFrom == original.idempotencyKey && job.outputSHA256 == original.outputSHA256)
      #expect(job.cacheKey == original.cacheKey && job.cacheKey != nil)
    }
    #expect(secondJobs.filter { $0.status == "failed" }.map(\.clipID) == ["glass-slide"])
    // The reused outputs score exactly as before.
    let store = try ResultStore(path: db)
    for clip in ["hair-sway", "motion-blur"] {
      #expect(
        try store.clipValue(runID: try printedRunID(first), clipID: clip, arm: "B", region: "frame", metric: "MSE")
          == (try store.clipValue(
            runID: try printedRunID(second), clipID: clip, arm: "B", region: "frame", metric: "MSE")))
    }

    let (_, thirdJobs, thirdCalls) = try run(["--no-cache"])
    #expect(thirdCalls == 5 && !thirdJobs.contains { $0.status == "reused" })

    // A changed config is another key: nothing reused.
    try "name: key\nmodel: key\noutput_format: webm\nexec:\n  command: >-\n    \(count); \(key) -crf 30\n".write(
      toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
    let (_, fourthJobs, _) = try run()
    #expect(fourthJobs.filter { $0.arm == "A" }.allSatisfy { $0.status != "reused" })
    #expect(fourthJobs.filter { $0.arm == "B" && $0.status == "reused" }.count == 2)
    // Four runs, glass-slide's B failed in each: the failures_by_model view counts them.
    let failures = try CLI.tool(
      URL(fileURLWithPath: "/usr/bin/sqlite3"),
      [db, "SELECT provider, model, error_code, failures, runs, clips FROM failures_by_model"])
    #expect(failures.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "exec|picky|exec_failed|4|4|glass-slide")
  }

  /// --baseline-run takes arm A from a stored run when its config and provider match, and
  /// refuses with the reason when they do not.
  @Test func aBaselineRunLendsArmA() throws {
    let clips = try CLI.tinyClipSet()
    let dir = try CLI.folder()
    let db = dir + "/m.sqlite"
    let first = try CLI.run(["run", "--clipset", clips] + Self.local + ["--db", db, "--out", dir + "/r"])
    let baseID = try printedRunID(first)
    let second = try CLI.run(
      ["run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", "configs/refined.yaml"]
        + ["--db", db, "--out", dir + "/r", "--baseline-run", baseID, "--no-cache"])
    #expect(second.status == first.status || second.status == 3, "\(second.stderr)")
    let store = try ResultStore(path: db)
    let baseJobs = try store.jobs(runID: baseID)
    let jobs = try store.jobs(runID: try printedRunID(second))
    #expect(jobs.count == 6)
    for job in jobs {
      if job.arm == "A" {
        let lent = try #require(baseJobs.first { $0.clipID == job.clipID && $0.arm == "A" })
        #expect(job.status == "reused" && job.reusedFrom == lent.idempotencyKey && job.outputPath == lent.outputPath)
      } else {
        #expect(job.status == "completed" && job.model == "refined-keyer")
      }
    }
    #expect(try store.run(id: try printedRunID(second))?.baselineRun == baseID)
    // Arm A under other settings cannot borrow it.
    let refused = try CLI.run(
      ["run", "--clipset", clips, "--a", "configs/candidate.yaml", "--b", "configs/refined.yaml"]
        + ["--db", db, "--out", dir + "/r", "--baseline-run", baseID])
    #expect(refused.status == 1 && refused.stderr.contains("cannot reuse arm A of run \(baseID)"), "\(refused.stderr)")
  }

  /// Resuming a finished run redoes nothing; resuming under other settings is refused with
  /// the field that differs.
  @Test func resumeChecksTheIdentityAndKeepsStoredClips() throws {
    let clips = try CLI.tinyClipSet()
    let dir = try CLI.folder()
    let db = dir + "/m.sqlite"
    let first = try CLI.run(["run", "--clipset", clips] + Self.local + ["--db", db, "--out", dir + "/r"])
    let id = try printedRunID(first)
    let store = try ResultStore(path: db)
    let before = try store.clips(runID: id)
    let countsBefore = try store.counts(runID: id)
    let again = try CLI.run(
      ["run", "--clipset", clips] + Self.local + ["--db", db, "--out", dir + "/r", "--resume", id])
    #expect(again.status == first.status)
    #expect(again.stderr.contains("resuming: 3 clips already stored, 0 to go"), "\(again.stderr)")
    #expect(try store.clips(runID: id) == before, "stored clips are not scored again")
    #expect(try store.counts(runID: id) == countsBefore)

    let other = try CLI.run(
      ["run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", "configs/refined.yaml"]
        + ["--db", db, "--out", dir + "/r", "--resume", id])
    #expect(other.status == 1)
    #expect(other.stderr.contains("cannot resume run \(id)") && other.stderr.contains("config B's settings differs"))
    let seed = try CLI.run(["run", "--clipset", clips] + Self.local + ["--db", db, "--resume", id, "--seed", "5"])
    #expect(seed.status == 1 && seed.stderr.contains("the seed differs: '1' then, '5' now"), "\(seed.stderr)")
  }

  /// `history` lists runs and an endpoint's trend; the SQL views answer from the sqlite3 shell.
  @Test func historyAndViews() throws {
    let clips = try CLI.tinyClipSet()
    let dir = try CLI.folder()
    let db = dir + "/m.sqlite"
    var ids: [String] = []
    for b in ["configs/candidate.yaml", "configs/refined.yaml"] {
      let r = try CLI.run([
        "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", b, "--db", db, "--out", dir,
      ])
      ids.append(try printedRunID(r))
    }
    // The old notation is still read; the output uses hair/Grad, as the gate and reports do.
    let h = try CLI.run(["history", "--db", db, "--endpoint", "hair.Grad"])
    #expect(h.status == 0, "\(h.stderr)")
    let lines = h.stdout.split(separator: "\n").map(String.init)
    #expect(lines.filter { $0.hasPrefix(ids[0]) || $0.hasPrefix(ids[1]) }.count == 2)
    #expect(lines.contains { $0.contains(ids[1]) && $0.contains("baseline → refined") })
    #expect(lines.contains("hair/Grad, B/A per run (oldest first):"))
    #expect(lines.contains { $0.hasPrefix("  trend: ") })

    // The sqlite3 shell reads the views.
    let store = try ResultStore(path: db)
    let a = try #require(
      try store.clipValue(runID: ids[0], clipID: "hair-sway", arm: "A", region: "hair", metric: "Grad"))
    let b = try #require(
      try store.clipValue(runID: ids[0], clipID: "hair-sway", arm: "B", region: "hair", metric: "Grad"))
    let sqlite3 = URL(fileURLWithPath: "/usr/bin/sqlite3")
    let shell = try CLI.tool(
      sqlite3,
      [
        db,
        "SELECT delta, change_pct FROM clip_deltas WHERE run_id = '\(ids[0])' AND clip_id = 'hair-sway' AND region = 'hair' AND metric = 'Grad'",
      ])
    let fields = shell.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").compactMap {
      Double($0)
    }
    #expect(fields.count == 2, "\(shell.stdout) \(shell.stderr)")
    #expect(abs(fields[0] - (b - a)) < 1e-9 && abs(fields[1] - 100 * (b / a - 1)) < 1e-9)
    let history = try CLI.tool(
      sqlite3,
      [
        db,
        "SELECT run_id, verdict FROM endpoint_history WHERE endpoint = 'hair/Grad' AND NOT is_calibration ORDER BY created_at",
      ])
    #expect(history.stdout.split(separator: "\n").map { String($0.prefix { $0 != "|" }) } == ids)
  }

  /// Plain progress lines when not on a terminal; a bar redrawn in place on one.
  @Test func progressIsLinesInLogsAndABarOnATerminal() throws {
    let clips = try CLI.tinyClipSet()
    let dir = try CLI.folder()
    let plain = try CLI.run(
      ["run", "--clipset", clips] + Self.local + ["--db", dir + "/m.sqlite", "--out", dir, "--jobs", "1"])
    let progress = plain.stderr.split(separator: "\n").filter { $0.hasPrefix("progress: ") }
    #expect(progress.count == 3, "\(plain.stderr)")
    #expect(progress.first?.hasPrefix("progress: 1/3 clips, ") == true && progress.first?.contains("ETA") == true)
    #expect(progress.last?.hasPrefix("progress: 3/3 clips, 0 jobs in flight, 0 failed, done in") == true)
    #expect(!plain.stderr.contains("\r"))

    // Under a pseudo-terminal (script(1)), the bar.
    let command =
      ([CLI.executable.path, "run", "--clipset", clips] + Self.local + ["--db", dir + "/t.sqlite", "--out", dir])
      .map { "'\($0)'" }.joined(separator: " ")
    let tty = try CLI.tool(URL(fileURLWithPath: "/usr/bin/script"), ["-qec", command, "/dev/null"])
    #expect(tty.stdout.contains("\r\u{1B}[2K[") && tty.stdout.contains("3/3 clips"), "\(tty.stdout)")
    #expect(tty.stdout.contains("1 job in flight") || tty.stdout.contains("2 jobs in flight"))
  }
}

/// A run killed with SIGKILL in the middle of a job, then resumed: every job exists once on the
/// service and once in the database, and what was stored is not computed again.
@Suite(.serialized) struct KilledRunResumeTests {
  /// A JSON call to the reference server, through curl.
  static func call(_ method: String, _ url: String, key: String, json: String? = nil) throws -> (Int, Data) {
    var arguments = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, "-H", "X-Api-Key: \(key)", url]
    if let json { arguments += ["-H", "Content-Type: application/json", "--data", json] }
    let r = try CLI.tool(URL(fileURLWithPath: "/usr/bin/curl"), arguments)
    let cut = r.stdout.lastIndex(of: "\n") ?? r.stdout.startIndex
    return (Int(r.stdout[cut...].trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, Data(r.stdout[..<cut].utf8))
  }

  /// Synchronous on purpose: the watch-then-kill loop must not wait for a turn on the shared
  /// task pool (other tests block it), or the child finishes between seeing the job and the kill.
  @Test func aKilledRunResumesWithoutASecondJobOrCharge() throws {
    let key = "mg-resume-\(UUID().uuidString)"
    let clips = try CLI.tinyClipSet()
    let work = try CLI.folder()
    let (server, port) = try HTTPProviderEndToEndTests.startServer(
      key: key, storage: work + "/server", log: work + "/serve-api.log")
    defer { server.terminate() }
    let base = "http://127.0.0.1:\(port)"
    // Every poll answers 1 s late, so a job is in flight long enough to be killed in.
    let (armed, _) = try Self.call(
      "POST", base + "/_test/faults", key: key,
      json: #"{"fault":"delay_response","operation":"getJob","delay_ms":1000,"times":1000}"#)
    #expect(armed == 201)
    let db = work + "/m.sqlite"
    let arguments = [
      "run", "--clipset", clips, "--a", "configs/api-light.yaml", "--b", "configs/api-pro.yaml", "--provider", "http",
      "--api-url", base, "--poll-interval", "0.05", "--jobs", "1", "--db", db, "--out", work + "/reports",
    ]
    let child = Process()
    child.executableURL = CLI.executable
    child.arguments = arguments
    child.currentDirectoryURL = CLI.repository
    child.environment = ProcessInfo.processInfo.environment.merging(["MATTEGATE_API_KEY": key]) { _, new in new }
    let log = work + "/run.log"
    #expect(FileManager.default.createFile(atPath: log, contents: nil))
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    child.standardOutput = handle
    child.standardError = handle
    try child.run()
    // Wait for the first clip to be stored and the next job to be created but not finished,
    // reading the database in process (read-only, waiting out the writer's locks).
    var inFlight = ""
    var reader: DatabaseQueue?
    for _ in 0..<2000 {
      let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
      if text.contains(": scored ") {
        if reader == nil {
          var configuration = Configuration()
          configuration.readonly = true
          configuration.busyMode = .timeout(5)
          reader = try DatabaseQueue(path: db, configuration: configuration)
        }
        inFlight =
          try reader!.read { db in
            try String.fetchOne(
              db, sql: "SELECT provider_job_id FROM jobs WHERE status = 'submitted' AND provider_job_id IS NOT NULL")
          } ?? ""
        if !inFlight.isEmpty { break }
      }
      guard child.isRunning else { break }
      Thread.sleep(forTimeInterval: 0.01)
    }
    reader = nil
    kill(child.processIdentifier, SIGKILL)
    child.waitUntilExit()
    #expect(child.terminationReason == .uncaughtSignal)
    try #require(
      !inFlight.isEmpty, "no job was in flight: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")

    let store = try ResultStore(path: db)
    let runID = try #require(try store.runs().first?.id)
    #expect(try store.run(id: runID)?.status == "running")
    let scoredBefore = try store.clips(runID: runID).filter { $0.status == "scored" }
    #expect(!scoredBefore.isEmpty && scoredBefore.count < 3)
    let framesBefore = try store.counts(runID: runID)["frame_metrics"]!
    let jobsBefore = try store.jobRows(runID: runID)

    let resumed = try CLI.run(arguments + ["--resume", runID], environment: ["MATTEGATE_API_KEY": key])
    #expect(resumed.status == 3, "\(resumed.stderr)")
    #expect(resumed.stderr.contains("resuming: \(scoredBefore.count) clips already stored"), "\(resumed.stderr)")

    // Six jobs, each once: in the database (same rows, same keys) and on the service.
    let jobs = try store.jobRows(runID: runID)
    #expect(jobs.count == 6)
    #expect(Set(jobs.map(\.record.idempotencyKey)).count == 6)
    #expect(jobs.allSatisfy { $0.record.status == "completed" && $0.record.attempt == 1 })
    for before in jobsBefore {
      let after = try #require(jobs.first { $0.id == before.id })
      #expect(after.record.idempotencyKey == before.record.idempotencyKey)
      if let id = before.record.providerJobID { #expect(after.record.providerJobID == id) }
    }
    #expect(jobs.contains { $0.record.providerJobID == inFlight })
    let (_, listed) = try Self.call("GET", base + "/v1/jobs?limit=100", key: key)
    let list = try #require(try JSONSerialization.jsonObject(with: listed) as? [String: Any])
    #expect(list["total"] as? Int == 6)
    let serverIDs = Set(((list["data"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
    #expect(serverIDs == Set(jobs.compactMap(\.record.providerJobID)))
    let (_, creditData) = try Self.call("GET", base + "/v1/credits", key: key)
    let credits = try #require(try JSONSerialization.jsonObject(with: creditData) as? [String: Any])
    // Three clips, light 1 + pro 3 credits each: charged once.
    #expect(credits["used_total"] as? Double == 12 || credits["used_total"] as? Int == 12, "\(credits)")

    // Stored clips were not scored again; every clip is stored once.
    let clipsAfter = try store.clips(runID: runID)
    #expect(clipsAfter.map(\.clipID) == ["hair-sway", "glass-slide", "motion-blur"])
    #expect(clipsAfter.allSatisfy { $0.status == "scored" })
    for c in scoredBefore { #expect(clipsAfter.first { $0.clipID == c.clipID } == c) }
    #expect(try store.counts(runID: runID)["frame_metrics"]! > framesBefore)
    #expect(try store.run(id: runID)?.status == "completed")
  }
}

/// One clip's undecodable or misaligned output is recorded with its reason; the other clips
/// keep their results and the exit code follows DESIGN.md (1 for an error, 3 for inconclusive).
@Suite(.serialized) struct OneBadClipTests {
  static let key = CLI.colorKey

  func run(clips: String, dir: String, glassCommand: String) throws -> (CLI.Result, ResultStore, String) {
    try "name: key\nmodel: key\noutput_format: webm\nexec:\n  command: >-\n    \(Self.key) {output}\n".write(
      toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
    try """
    name: odd
    model: odd
    output_format: webm
    exec:
      command: >-
        case {input} in *glass-slide*) \(glassCommand);; *) \(Self.key) {output};; esac
    """.write(toFile: dir + "/b.yaml", atomically: true, encoding: .utf8)
    let db = dir + "/m.sqlite"
    let r = try CLI.run([
      "run", "--clipset", clips, "--a", dir + "/a.yaml", "--b", dir + "/b.yaml", "--provider", "exec", "--db", db,
      "--out", dir + "/reports",
    ])
    return (r, try ResultStore(path: db), try printedRunID(r))
  }

  @Test func anUndecodableOutputFailsOnlyItsClip() throws {
    let clips = try CLI.tinyClipSet()
    let dir = try CLI.folder()
    let (r, store, id) = try run(clips: clips, dir: dir, glassCommand: "echo not a video > {output}")
    #expect(r.status == 1, "\(r.stderr)")
    let rows = try store.clips(runID: id)
    let glass = try #require(rows.first { $0.clipID == "glass-slide" })
    #expect(glass.status == "failed")
    #expect(
      glass.error?.contains("clip 'glass-slide'") == true && glass.error?.contains("B.webm") == true,
      "\(glass.error ?? "")")
    #expect(rows.filter { $0.status == "scored" }.map(\.clipID) == ["hair-sway", "motion-blur"])
    #expect(r.stderr.contains("error: clip 'glass-slide'"), "\(r.stderr)")
  }

  @Test func aMisalignedOutputMakesItsClipInconclusive() throws {
    let clips = try CLI.tinyClipSet()
    let dir = try CLI.folder()
    let (r, store, id) = try run(clips: clips, dir: dir, glassCommand: "\(Self.key) -frames:v 2 {output}")
    #expect(r.status == 3, "\(r.stderr)")
    let rows = try store.clips(runID: id)
    let glass = try #require(rows.first { $0.clipID == "glass-slide" })
    #expect(glass.status == "inconclusive" && glass.error?.contains("misaligned") == true, "\(glass.error ?? "")")
    #expect(rows.filter { $0.status == "scored" }.map(\.clipID) == ["hair-sway", "motion-blur"])
    let alignment = try store.alignment(runID: id).filter { $0.clipID == "glass-slide" && $0.record.arm == "B" }
    #expect(alignment.first?.record.status == "misaligned" && alignment.first?.record.dropped == 2)
    // The gate counts primaries and clips apart, and every primary's note names the clip left out
    // and why, beside the clips that lack the region.
    let outcome = try #require(try store.run(id: id)?.outcome)
    #expect(
      outcome == "INCONCLUSIVE (rollout): non-inferiority not shown on 5 primary endpoints; 1 misaligned (glass-slide)",
      "\(outcome)")
    let primaries = try store.comparisons(runID: id).filter(\.isPrimary)
    #expect(primaries.count == 5)
    for c in primaries {
      #expect(c.note?.contains("1 misaligned (glass-slide)") == true, "\(c.region)/\(c.metric): \(c.note ?? "")")
      #expect(c.note?.contains("no clips with support") != true)
    }
  }
}
