import Foundation
import MediaIO
import Report
import Store
import TestSupport
import Testing

/// Runs the built `mattegate` executable as a user would.
struct CLI {
  /// An exec provider's command (without its `{output}`): the ffmpeg CLI keying the tiny clip
  /// set's green backdrop into VP9 with alpha.
  static let colorKey =
    "ffmpeg -v error -y -i {input} -vf colorkey=0x50a078:0.2:0.1,format=yuva420p -c:v libvpx-vp9 -metadata:s:v:0 alpha_mode=1"

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  static let executable: URL = {
    // The test bundle sits in the products folder beside the executable.
    var dir = Bundle.main.bundleURL
    for _ in 0..<3 {
      let candidate = dir.appendingPathComponent("mattegate")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      dir = dir.deletingLastPathComponent()
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/mattegate")
  }()

  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static func run(_ arguments: [String], environment: [String: String] = [:], in directory: String? = nil) throws
    -> Result
  {
    try tool(executable, arguments, environment: environment, in: directory)
  }

  /// Runs another program (sqlite3, script) from the repository folder (or `directory`).
  static func tool(
    _ program: URL, _ arguments: [String], environment: [String: String] = [:], in directory: String? = nil
  ) throws -> Result {
    let process = Process()
    process.executableURL = program
    process.arguments = arguments
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
    process.currentDirectoryURL = directory.map { URL(fileURLWithPath: $0) } ?? repository
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Result(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }

  static func folder() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("mattegate-e2e-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// A tiny smoke clip set (64×36, 4 frames), made by the CLI itself.
  static func tinyClipSet() throws -> String {
    let dir = try folder() + "/smoke"
    let r = try run(["synth", "--preset", "smoke", "--out", dir, "--size", "64x36", "--frames", "4"])
    precondition(r.status == 0, "synth failed: \(r.stderr)")
    return dir
  }
}

@Suite(.serialized) struct CLIEndToEndTests {
  @Test func extractWritesAlphaPNGsAndFramesJSON() throws {
    let clips = try CLI.tinyClipSet()
    let out = try CLI.folder() + "/x"
    let r = try CLI.run(["extract", clips + "/hair-sway/alpha.mkv", "--out", out, "--alpha"])
    #expect(r.status == 0, "stderr: \(r.stderr)")
    #expect(r.stdout.contains("wrote 4 of 4 frames (alpha 16-bit as 16-bit PNG)"))
    for i in 0..<4 { #expect(FileManager.default.fileExists(atPath: out + "/alpha/00000\(i).png")) }
    #expect(FileManager.default.fileExists(atPath: out + "/frames.json"))
    // The ground truth's 16-bit codes come back from the PNG unchanged.
    let truth = try VideoReader(path: clips + "/hair-sway/alpha.mkv", options: ReadOptions(rgb: .none, alpha: .luma))
    let first = try #require(try truth.nextFrame()?.alpha)
    let png = try VideoReader(path: out + "/alpha/000000.png", options: ReadOptions(rgb: .none, alpha: .luma))
    #expect(try png.nextFrame()?.alpha == first)
    let both = try CLI.run(["extract", clips + "/hair-sway/alpha.mkv", "--out", out, "--alpha", "--rgb"])
    #expect(both.status == 64 && both.stderr.contains("--alpha and --rgb exclude each other"))
    let missing = try CLI.run(["extract", "/nonexistent/x.webm", "--out", out])
    #expect(missing.status == 1 && missing.stderr.contains("/nonexistent/x.webm: no such file or folder"))
  }

  /// With previews on, the review images take their source pictures from the preview's decode
  /// of the source instead of a pass of their own: every file they write is the same, byte for
  /// byte, as a run without previews writes.
  @Test func reviewImagesAreTheSameWithAndWithoutPreviews() throws {
    let clips = try CLI.tinyClipSet()
    let work = try CLI.folder()
    var folders: [String] = []
    for (name, extra) in [("with", [String]()), ("without", ["--no-previews"])] {
      let r = try CLI.run(
        [
          "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", "configs/candidate.yaml",
          "--db", work + "/\(name).sqlite", "--out", work + "/\(name)",
        ] + extra)
      #expect(r.status == 3, "stderr: \(r.stderr)")
      let line = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("report: ") })
      folders.append(URL(fileURLWithPath: String(line.dropFirst("report: ".count))).deletingLastPathComponent().path)
    }
    func files(_ folder: String) throws -> [String] {
      try FileManager.default.subpathsOfDirectory(atPath: folder + "/clips").filter {
        $0.hasSuffix(".png") || $0.hasSuffix("-crop.txt")
      }.sorted()
    }
    let with = try files(folders[0])
    #expect(with == (try files(folders[1])))
    #expect(with.filter { $0.hasSuffix("-source.png") }.count >= 3)
    #expect(FileManager.default.fileExists(atPath: folders[0] + "/clips/hair-sway/preview.webm"))
    for file in with {
      let a = try Data(contentsOf: URL(fileURLWithPath: folders[0] + "/clips/" + file))
      let b = try Data(contentsOf: URL(fileURLWithPath: folders[1] + "/clips/" + file))
      #expect(a == b, "\(file) differs")
    }
  }

  @Test func runScoresStoresReportsAndDecides() throws {
    let clips = try CLI.tinyClipSet()
    let work = try CLI.folder()
    let db = work + "/m.sqlite"
    let r = try CLI.run([
      "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", "configs/candidate.yaml",
      "--db", db, "--out", work + "/reports",
    ])
    // Three clips cannot support a verdict: inconclusive, exit 3.
    #expect(r.status == 3, "stderr: \(r.stderr)")
    let lines = r.stdout.split(separator: "\n").map(String.init)
    // The mode, then one line per primary endpoint of the default gate.
    #expect(lines.contains("gate mode: rollout (B passes when every primary is non-inferior)"))
    for endpoint in ["frame/MSE", "transition/Conn", "hair/Grad", "glass/MSE", "motion/MAD"] {
      #expect(lines.contains { $0.hasPrefix(endpoint + " ") }, "no verdict line for \(endpoint)")
    }
    let reportLine = try #require(lines.first { $0.hasPrefix("report: ") })
    let reportPath = String(reportLine.dropFirst("report: ".count))
    let runID = URL(fileURLWithPath: reportPath).deletingLastPathComponent().lastPathComponent

    // SQLite: one run, six jobs with every output pinned, per-frame and per-clip metrics.
    let store = try ResultStore(path: db)
    let counts = try store.counts(runID: runID)
    #expect(counts["runs"] == 1)
    #expect(counts["clips"] == 3)
    #expect(counts["jobs"] == 6)
    // 5 regions × 7 metrics (MESSDdt rows too, null without motion vectors).
    #expect(counts["clip_metrics"] == 3 * 2 * 5 * 7)
    #expect(counts["comparisons"] == 5 * 7)
    // Every clip records how both arms lined up with the ground truth: all 4 frames, exactly.
    let alignment = try store.alignment(runID: runID)
    #expect(alignment.count == 3 * 2)
    for (_, a) in alignment {
      #expect(a.referenceFrames == 4 && a.matched == 4 && a.dropped == 0 && a.duplicated == 0 && a.extra == 0)
      #expect(a.maxOffsetSeconds < 1e-6 && a.status == "aligned")
    }
    // Every clip has the frame and transition regions on all 4 frames for both arms.
    #expect((counts["frame_metrics"] ?? 0) >= 3 * 2 * 4 * 2 * 5)
    #expect(try store.runStatus(id: runID)?.exitCode == 3)
    let jobs = try store.jobs(runID: runID)
    #expect(Set(jobs.map(\.arm)) == ["A", "B"])
    for job in jobs {
      #expect(job.status == "completed")
      #expect(job.provider == "local")
      #expect(job.outputFormat == "webm")
      let output = try #require(job.outputPath)
      #expect(try FileHash.sha256(ofFile: output) == job.outputSHA256)
      #expect(job.model == (job.arm == "A" ? "threshold-keyer" : "soft-keyer"))
      // Local jobs: no queue, no credits, timings recorded.
      #expect(job.queuedMS == 0 && job.creditsCharged == 0 && job.creditsReserved == 0)
      #expect((job.processingMS ?? -1) >= 0 && (job.totalMS ?? -1) >= (job.processingMS ?? 0))
    }
    // The two keyers genuinely differ on the hair clip.
    let a = try #require(
      try store.clipValue(runID: runID, clipID: "hair-sway", arm: "A", region: "frame", metric: "MAD"))
    let b = try #require(
      try store.clipValue(runID: runID, clipID: "hair-sway", arm: "B", region: "frame", metric: "MAD"))
    #expect(a > 0 && b > 0 && a != b)

    // HTML: every clip, for its transition band and its own hard region the worst frame's six
    // PNG crops (written through libpng: source, truth, both alphas, both heatmaps), the crop's
    // place, composites, an A/B viewer per review, per-frame curves, a per-region table.
    let html = try String(contentsOfFile: reportPath, encoding: .utf8)
    #expect(html.contains("data-exit-code=\"3\""))
    let folder = URL(fileURLWithPath: reportPath).deletingLastPathComponent().path
    for (clip, region) in [("hair-sway", "hair"), ("glass-slide", "glass"), ("motion-blur", "motion")] {
      #expect(html.contains("id=\"clip-\(clip)\""))
      for r in ["transition", region] {
        #expect(html.contains("id=\"clip-\(clip)-\(r)\""))
        for role in ["source", "truth", "a", "b", "heat-a", "heat-b"] {
          let range = try #require(
            html.range(of: "clips/\(clip)/\(r)-frame[0-9]+-\(role).png", options: .regularExpression))
          let png = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + html[range]))
          #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        }
      }
      #expect(html.contains("aria-label=\"transition MAD per frame of \(clip)"))
      #expect(html.contains("aria-label=\"\(region) MAD per frame of \(clip)"))
    }
    #expect(html.contains("<th scope=\"col\">B vs A</th>"))
    let reviews = html.components(separatedBy: "<details class=\"review\"").count - 1
    #expect(reviews >= 6)
    #expect(html.components(separatedBy: "<div class=\"viewer\"").count - 1 == reviews)
    #expect(html.components(separatedBy: "<figure class=\"composite\"").count - 1 == reviews)
    #expect(html.contains(" window of frame "))
    #expect(html.contains("<section id=\"runbook\">") && html.contains("<section id=\"clip-table\">"))
    // Each clip shows how both arms lined up with the ground truth.
    #expect(
      html.components(separatedBy: "Frame alignment by timestamp: A: matched 4/4, dropped 0, duplicated 0").count
        == 4)

    // Each clip's preview: one VP9 WebM with alpha holding A, B and the truth side by side, one
    // frame per scored frame; its truth tile's alpha is the ground truth's
    // (decoded here on its own) up to VP9's loss.
    for clip in ["hair-sway", "glass-slide", "motion-blur"] {
      #expect(html.contains("id=\"player-\(clip)\""))
      let layout = try JSONDecoder().decode(
        PreviewLayout.self, from: Data(contentsOf: URL(fileURLWithPath: "\(folder)/clips/\(clip)/preview.json")))
      #expect(layout.frames == [0, 1, 2, 3] && layout.tileWidth == 64 && layout.tileHeight == 36)
      let preview = try VideoReader(
        path: "\(folder)/clips/\(clip)/preview.webm", options: ReadOptions(rgb: .none, alpha: .alphaChannel))
      let truth = try VideoReader(path: "\(clips)/\(clip)/alpha.mkv", options: ReadOptions(rgb: .none, alpha: .luma))
      #expect(preview.size == PixelSize(width: 3 * 64, height: 36))
      var frames = 0
      while let f = try preview.nextFrame(), let alpha = f.alpha, let t = try truth.nextFrame()?.alpha {
        let tile = 2 * 64
        var diff = 0.0
        for y in 0..<36 {
          for x in 0..<64 {
            let shown = Double(alpha.samples[y * alpha.width + tile + x]) / Double(alpha.maxValue)
            diff += abs(shown - Double(t.samples[y * 64 + x]) / Double(t.maxValue))
          }
        }
        #expect(
          diff / Double(64 * 36) < 0.03, "\(clip) frame \(frames): truth tile differs by \(diff / Double(64 * 36))")
        frames += 1
      }
      #expect(frames == 4)
    }
  }

  /// A preview that cannot be written (its path is taken by a folder) is a warning naming the
  /// clip and the file; the clip is scored and the others get theirs. A preview deleted after
  /// the run is marked missing when the report is rendered again.
  @Test func aPreviewThatCannotBeMadeIsAWarning() throws {
    let clips = try CLI.tinyClipSet()
    let work = try CLI.folder()
    let db = work + "/m.sqlite"
    let blocked = work + "/reports/pv/clips/hair-sway/preview.webm"
    try FileManager.default.createDirectory(atPath: blocked, withIntermediateDirectories: true)
    let r = try CLI.run([
      "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", "configs/candidate.yaml",
      "--db", db, "--out", work + "/reports", "--run-id", "pv",
    ])
    #expect(r.status == 3, "stderr: \(r.stderr)")
    let all = r.stdout + r.stderr
    #expect(all.contains("hair-sway: warning: no preview: \(blocked): creating the file failed"), "\(all)")
    #expect(try ResultStore(path: db).clips(runID: "pv").allSatisfy { $0.status == "scored" })
    var html = try String(contentsOfFile: work + "/reports/pv/index.html", encoding: .utf8)
    #expect(html.contains("<p class=\"warning preview-missing\">no preview: \(blocked)"))
    #expect(!html.contains("id=\"player-hair-sway\"") && html.contains("id=\"player-glass-slide\""))
    try FileManager.default.removeItem(atPath: work + "/reports/pv/clips/glass-slide/preview.webm")
    #expect(try CLI.run(["report", "pv", "--db", db, "--out", work + "/reports"]).status != 1)
    html = try String(contentsOfFile: work + "/reports/pv/index.html", encoding: .utf8)
    #expect(html.contains("preview missing: \(work)/reports/pv/clips/glass-slide/preview.webm was deleted"))
    #expect(!html.contains("id=\"player-glass-slide\"") && html.contains("id=\"player-motion-blur\""))
  }

  @Test func identicalArmsGiveRatiosOfExactlyOne() throws {
    // The embedded engine is deterministic, so A = B must score identically on every clip.
    let clips = try CLI.tinyClipSet()
    let work = try CLI.folder()
    let r = try CLI.run([
      "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", "configs/baseline.yaml",
      "--db", work + "/m.sqlite", "--out", work,
    ])
    #expect(r.status == 3)
    let runID = try #require(
      r.stdout.split(separator: "\n").first { $0.hasPrefix("results: ") }?.split(separator: " ").last
    )
    .dropLast()
    let store = try ResultStore(path: work + "/m.sqlite")
    for clip in ["hair-sway", "glass-slide", "motion-blur"] {
      for metric in ["SAD", "MAD", "MSE", "Grad", "Conn"] {
        let a = try store.clipValue(runID: String(runID), clipID: clip, arm: "A", region: "frame", metric: metric)
        let b = try store.clipValue(runID: String(runID), clipID: clip, arm: "B", region: "frame", metric: metric)
        #expect(a != nil && a == b)
      }
    }
  }

  @Test func badInputGivesOneClearLineAndExitOne() throws {
    let work = try CLI.folder()
    // A missing clip set.
    let missing = try CLI.run([
      "run", "--clipset", work + "/nowhere", "--a", "configs/baseline.yaml", "--b", "configs/candidate.yaml",
      "--db", work + "/m.sqlite", "--out", work,
    ])
    #expect(missing.status == 1)
    #expect(missing.stderr == "Error: \(work)/nowhere: clip set folder not found\n")

    // A config with an unknown key.
    let config = work + "/bad.yaml"
    try "name: x\nmodel: soft-keyer\ncolour: red\n".write(toFile: config, atomically: true, encoding: .utf8)
    let clips = try CLI.tinyClipSet()
    let unknown = try CLI.run([
      "run", "--clipset", clips, "--a", config, "--b", "configs/candidate.yaml", "--db", work + "/m.sqlite", "--out",
      work,
    ])
    #expect(unknown.status == 1)
    let errorLines = unknown.stderr.split(separator: "\n")
    #expect(errorLines.count == 1)
    #expect(errorLines.first?.hasPrefix("Error: \(config):3: field 'colour': unknown key") == true)
    #expect(!FileManager.default.fileExists(atPath: work + "/m.sqlite"))  // nothing was submitted

    // A source that does not decode (re-pinned so the manifest accepts it): that clip fails with
    // an error naming the file; the other clips are still scored and stored; exit 1.
    let source = clips + "/glass-slide/source.mp4"
    try Data("definitely not a video\n".utf8).write(to: URL(fileURLWithPath: source))
    let manifest = clips + "/clipset.yaml"
    var yaml = try String(contentsOfFile: manifest, encoding: .utf8)
    let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let at = try #require(lines.firstIndex { $0.contains("source: glass-slide/source.mp4") })
    yaml = lines.enumerated().map {
      $0.offset == at + 1 ? "    sha256: \(try! FileHash.sha256(ofFile: source))" : $0.element
    }
    .joined(separator: "\n")
    try yaml.write(toFile: manifest, atomically: true, encoding: .utf8)
    let broken = try CLI.run([
      "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", "configs/candidate.yaml",
      "--db", work + "/broken.sqlite", "--out", work,
    ])
    #expect(broken.status == 1)
    #expect(broken.stdout.contains("ERROR"))
    let errors = broken.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
    #expect(errors.count == 1)
    #expect(errors.first?.contains("glass-slide") == true)
    #expect(errors.first?.contains(source) == true)
    #expect(!broken.stderr.contains("Fatal error"))
    let runID = try #require(
      broken.stdout.split(separator: "\n").first { $0.hasPrefix("results: ") }?.split(separator: " ").last
    )
    .dropLast()
    let store = try ResultStore(path: work + "/broken.sqlite")
    #expect(
      try store.clipValue(runID: String(runID), clipID: "hair-sway", arm: "A", region: "frame", metric: "MAD") != nil)
    #expect(
      try store.clipValue(runID: String(runID), clipID: "motion-blur", arm: "B", region: "frame", metric: "MAD") != nil)
    #expect(try store.counts(runID: String(runID))["clips"] == 3)
  }

  @Test func usageErrorsExitSixtyFour() throws {
    let r = try CLI.run(["run", "--clipset", "x", "--a", "a.yaml", "--b", "b.yaml", "--jobs", "0"])
    #expect(r.status == 64)
    let s = try CLI.run(["synth", "--out", "/tmp/x", "--preset", "huge"])
    #expect(s.status == 64)
  }
}

/// Clip sets through the CLI: verify, add a user's clip without ground truth, run with it.
@Suite(.serialized) struct ClipSetCLITests {
  @Test func aUserClipWithoutGroundTruthGetsOnlyItsOwnMeasures() throws {
    let clips = try CLI.tinyClipSet()
    let verify = try CLI.run(["clipset", "verify", clips])
    #expect(verify.status == 0 && verify.stdout.contains("3 clips") && verify.stdout.contains("every sha256 matches"))
    // --deep decodes every frame of a synthetic set (whose masks also carry the motion bit).
    let deep = try CLI.run(["clipset", "verify", clips, "--deep"])
    #expect(deep.status == 0, "\(deep.stderr)")
    #expect(deep.stdout.contains("every frame decoded in"))
    // The user's own footage: the same pictures as motion-blur in a file of its own (the same
    // bytes under a second id would be refused as one clip counted twice).
    let userSource = try CLI.folder() + "/street.mp4"
    try FFmpegCLI.run([
      "-i", clips + "/motion-blur/source.mp4", "-c", "copy", "-metadata", "title=street", userSource,
    ])
    let add = try CLI.run([
      "clipset", "add", clips, "--id", "user-street", "--source", userSource, "--tags", "motion,short",
    ])
    #expect(add.status == 0 && add.stdout.contains("64x36, 0.160 s") && add.stdout.contains("(no ground truth)"))
    let out = try CLI.folder()
    let db = out + "/m.sqlite"
    let run = try CLI.run([
      "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", "configs/candidate.yaml", "--db", db,
      "--out", out + "/reports",
    ])
    #expect([0, 2, 3].contains(run.status), "stderr: \(run.stderr)")
    // The three clips with ground truth are compared; the user's clip is not among them.
    #expect(run.stdout.split(separator: "\n").contains { $0.hasPrefix("frame/MSE ") && $0.contains(" n=3 ") })
    let store = try ResultStore(path: db)
    let results = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("results: ") })
    let runID = String(try #require(results.split(separator: "(run ").last).dropLast())
    let extras = try store.extraMeasures(runID: runID)
    #expect(
      Set(extras.filter { $0.clipID == "user-street" }.map(\.measure)) == ["flicker", "edge_alignment", "disagreement"])
    #expect(extras.allSatisfy { $0.clipID == "user-street" && $0.version == "NoTruth/1" })
    let report = try String(
      contentsOfFile: try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("report: ") }).dropFirst(8)
        .description, encoding: .utf8)
    #expect(report.contains("No ground truth: these measures are not ground-truth metrics"))
    // A changed file: verify and run refuse, naming it.
    try Data("x".utf8).write(to: URL(fileURLWithPath: clips + "/hair-sway/plate.png"))
    let changed = try CLI.run(["clipset", "verify", clips])
    #expect(
      changed.status == 1 && changed.stderr.contains("1 file changed since pinning")
        && changed.stderr.contains("hair-sway/plate.png"))
  }
}

/// `--provider exec` end to end: a real ffmpeg command per clip, one clip failing on purpose.
@Suite(.serialized) struct ExecProviderEndToEndTests {
  @Test func aFailingClipIsRecordedAndTheOthersKeepTheirResults() throws {
    let clips = try CLI.tinyClipSet()
    let dir = try CLI.folder()
    let key = CLI.colorKey + " {output}"
    let a = dir + "/a.yaml"
    try """
    name: ffmpeg-key
    model: ffmpeg-colorkey
    output_format: webm
    exec:
      command: >-
        \(key)
    """.write(toFile: a, atomically: true, encoding: .utf8)
    let b = dir + "/b.yaml"
    try """
    name: picky-tool
    model: picky
    output_format: webm
    exec:
      command: >-
        case {input} in *glass-slide*) echo "no support for glass" >&2; exit 4;; esac;
        \(key)
      timeout: 60
    """.write(toFile: b, atomically: true, encoding: .utf8)
    let db = dir + "/m.sqlite"
    let r = try CLI.run([
      "run", "--clipset", clips, "--a", a, "--b", b, "--provider", "exec", "--db", db, "--out", dir + "/reports",
    ])
    #expect(r.status != 0 && r.status != 2, "a failed clip never passes: \(r.status)")
    #expect(r.stderr.contains("glass-slide") && r.stderr.contains("no support for glass"), "\(r.stderr)")
    let store = try ResultStore(path: db)
    let resultsLine = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("results: ") }, "\(r.stdout)")
    let runID = String(try #require(resultsLine.split(separator: " ").last).dropLast())
    let jobs = try store.jobs(runID: runID)
    // Both arms of the two other clips; glass-slide's B failed (its A may not have been sent).
    #expect(jobs.filter { $0.status == "completed" && $0.clipID != "glass-slide" }.count == 4)
    #expect(jobs.filter { $0.status == "failed" }.map { "\($0.clipID)/\($0.arm)" } == ["glass-slide/B"])
    for job in jobs {
      #expect(job.provider == "exec")
      let failed = job.clipID == "glass-slide" && job.arm == "B"
      #expect(job.status == (failed ? "failed" : "completed"), "\(job.clipID) \(job.arm)")
      #expect(job.stderrPath != nil)
      if failed {
        #expect(job.errorCode == "exec_failed" && job.errorRetryable == false)
        #expect(job.errorMessage?.contains("status 4") == true)
      } else {
        #expect(try FileHash.sha256(ofFile: try #require(job.outputPath)) == job.outputSHA256)
      }
    }
    // The other clips were scored for both arms.
    for clip in ["hair-sway", "motion-blur"] {
      #expect(try store.clipValue(runID: runID, clipID: clip, arm: "B", region: "frame", metric: "MAD") != nil)
    }
  }
}

/// A composite arm over a background picture: its hash in every job, and the aspect-ratio
/// policy (warn, or refuse before anything is submitted under strict_aspect).
@Suite(.serialized) struct BackgroundPictureRunTests {
  @Test func jobsRecordTheBackgroundHashAndStrictAspectRefusesUpFront() throws {
    let clips = try CLI.tinyClipSet()
    let dir = try CLI.folder()
    // 36×36 against 64×36 sources: relative aspect difference 0.4375, large.
    let picture = dir + "/square.png"
    try PNGFile.write(RGBImage(width: 36, height: 36, pixels: [UInt8](repeating: 30, count: 36 * 36 * 3)), to: picture)
    let composite = dir + "/b.yaml"
    func write(strict: Bool) throws {
      try """
      name: over-square
      model: soft-keyer
      output_format: mp4
      bg_type: image
      bg_image: \(picture)
      fit: cover
      \(strict ? "strict_aspect: true" : "")
      """.write(toFile: composite, atomically: true, encoding: .utf8)
    }
    try write(strict: true)
    let strictDB = dir + "/strict.sqlite"
    let refused = try CLI.run([
      "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", composite, "--db", strictDB, "--out",
      dir + "/r1",
    ])
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("strict_aspect") && refused.stderr.contains("b.yaml"), "\(refused.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir + "/r1"), "nothing was submitted or written")

    try write(strict: false)
    let db = dir + "/m.sqlite"
    let r = try CLI.run([
      "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", composite, "--db", db, "--out", dir + "/r2",
    ])
    #expect(r.stderr.contains("aspect_ratio_mismatch"), "\(r.stderr)")
    // 36 px wide against 64: the service must upscale it (the seed's background policy).
    #expect(
      r.stderr.contains("arm B's background 36x36 is smaller than the source: upscaled background: expect blur"),
      "\(r.stderr)")
    let resultsLine = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("results: ") }, "\(r.stderr)")
    let runID = String(try #require(resultsLine.split(separator: " ").last).dropLast())
    let jobs = try ResultStore(path: db).jobs(runID: runID)
    #expect(jobs.count == 6)
    let hash = try FileHash.sha256(ofFile: picture)
    for job in jobs {
      #expect(job.bgImageSHA256 == (job.arm == "B" ? hash : nil), "\(job.clipID) \(job.arm)")
    }
    // A larger picture of the same aspect: neither warning. An exact-aspect smaller one: only
    // the upscaling warning.
    for (w, h, upscaled) in [(128, 72, false), (32, 18, true)] {
      try PNGFile.write(RGBImage(width: w, height: h, pixels: [UInt8](repeating: 30, count: w * h * 3)), to: picture)
      let again = try CLI.run([
        "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", composite, "--db", db, "--out",
        dir + "/r\(w)",
      ])
      #expect(again.status != 1, "\(again.stderr)")
      #expect(!again.stderr.contains("aspect_ratio_mismatch"), "\(w)x\(h): \(again.stderr)")
      #expect(again.stderr.contains("upscaled background: expect blur") == upscaled, "\(w)x\(h): \(again.stderr)")
    }
  }
}

/// `mattegate run --provider http` against `mattegate serve-api`, both as child processes.
@Suite(.serialized) struct HTTPProviderEndToEndTests {
  /// Starts `serve-api --port 0` with its stdout and stderr in `log`, and returns it with the
  /// port it printed.
  static func startServer(key: String, storage: String, log: String, dialect: String = "contract") throws -> (
    Process, Int
  ) {
    let process = Process()
    process.executableURL = CLI.executable
    process.arguments = ["serve-api", "--port", "0", "--storage", storage, "--dialect", dialect]
    process.environment = ProcessInfo.processInfo.environment.merging(["MATTEGATE_API_KEY": key]) { _, new in new }
    guard FileManager.default.createFile(atPath: log, contents: nil) else {
      throw CLIError(description: "cannot create \(log)")
    }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    // "listening on http://127.0.0.1:PORT (storage …)"
    for _ in 0..<600 {
      let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
      if let range = text.range(of: "http://127.0.0.1:"),
        let port = Int(text[range.upperBound...].prefix { $0.isNumber }), text[range.upperBound...].contains(" ")
      {
        return (process, port)
      }
      guard process.isRunning else { break }
      Thread.sleep(forTimeInterval: 0.05)
    }
    process.terminate()
    throw CLIError(
      description: "serve-api printed no port: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
  }

  struct CLIError: Error, CustomStringConvertible { var description: String }

  /// Every file under `folder` (and the files given) that contains `needle`.
  static func filesContaining(_ needle: String, under folder: String, plus files: [String]) -> [String] {
    var paths = files
    if let walker = FileManager.default.enumerator(atPath: folder) {
      for case let relative as String in walker { paths.append(folder + "/" + relative) }
    }
    let bytes = Data(needle.utf8)
    return paths.filter { path in
      guard let data = FileManager.default.contents(atPath: path) else { return false }
      return data.range(of: bytes) != nil
    }
  }

  @Test func runOverTheJobAPIStoresEveryJobAndNeverTheKey() throws {
    let key = "mg-secret-\(UUID().uuidString)"
    let clips = try CLI.tinyClipSet()
    let work = try CLI.folder()
    let serverLog = work + "/serve-api.log"
    let (server, port) = try Self.startServer(key: key, storage: work + "/server", log: serverLog)
    defer { server.terminate() }
    let db = work + "/m.sqlite"
    let r = try CLI.run(
      [
        "run", "--clipset", clips, "--a", "configs/api-light.yaml", "--b", "configs/api-pro.yaml", "--provider", "http",
        "--api-url", "http://127.0.0.1:\(port)", "--poll-interval", "0.1", "--db", db, "--out", work + "/reports",
        "--owner", "team-7",
      ], environment: ["MATTEGATE_API_KEY": key])
    // Three clips cannot support a verdict: inconclusive, exit 3, with every job completed.
    #expect(r.status == 3, "stderr: \(r.stderr)")
    let store = try ResultStore(path: db)
    let results = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("results: ") })
    let runID = String(try #require(results.split(separator: "(run ").last?.dropLast()))
    let jobs = try store.jobs(runID: runID)
    #expect(jobs.count == 6)
    for job in jobs {
      #expect(job.provider == "http" && job.status == "completed")
      #expect(job.providerJobID?.hasPrefix("job_") == true)
      #expect(job.idempotencyKey == "\(runID)/\(job.clipID)/\(job.arm)")
      #expect(job.model == (job.arm == "A" ? "light" : "pro"))
      #expect(job.serviceVersion?.hasPrefix("mattegate-reference/") == true)
      // 4 frames at 25 fps bill 1 s: light ceil(45/60) = 1, pro ceil(180/60) = 3.
      #expect(job.creditsReserved == job.creditsCharged && job.creditsRefunded == 0)
      #expect(job.creditsCharged == (job.arm == "A" ? 1 : 3))
      #expect(job.queuedMS != nil && job.processingMS != nil && job.totalMS != nil)
      let output = try #require(job.outputPath)
      #expect(try FileHash.sha256(ofFile: output) == job.outputSHA256)
    }
    #expect(Set(jobs.compactMap(\.providerJobID)).count == 6)
    // --owner: on the run, on every job, and in every job's metadata on the service.
    #expect(try store.run(id: runID)?.owner == "team-7")
    for job in jobs {
      #expect(job.owner == "team-7")
      let answer = try CLI.tool(
        URL(fileURLWithPath: "/usr/bin/curl"),
        ["-s", "-H", "X-Api-Key: \(key)", "http://127.0.0.1:\(port)/v1/jobs/\(try #require(job.providerJobID))"])
      let body = try #require(try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any])
      let metadata = try #require(body["metadata"] as? [String: Any], "\(answer.stdout)")
      #expect(metadata["owner"] as? String == "team-7")
      #expect(metadata["mattegate_key"] as? String == job.idempotencyKey)
    }
    // The key is nowhere: not in the database, the reports, the outputs, what the run printed or
    // what the server logged.
    let logs = work + "/printed.txt"
    try (r.stdout + r.stderr).write(toFile: logs, atomically: true, encoding: .utf8)
    let found = Self.filesContaining(
      key, under: work + "/reports", plus: [db, db + "-wal", db + "-shm", logs, serverLog])
    #expect(found.isEmpty, "the API key appears in \(found)")
    // The search itself works: a file holding the key is found.
    try key.write(toFile: work + "/reports/control.txt", atomically: true, encoding: .utf8)
    #expect(Self.filesContaining(key, under: work + "/reports", plus: []) == [work + "/reports/control.txt"])

    // A run without the key is refused before anything is submitted.
    let noKey = try CLI.run(
      [
        "run", "--clipset", clips, "--a", "configs/api-light.yaml", "--b", "configs/api-pro.yaml", "--provider", "http",
        "--api-url", "http://127.0.0.1:\(port)", "--db", db, "--out", work + "/reports",
      ], environment: ["MATTEGATE_API_KEY": ""])
    #expect(noKey.status == 1 && noKey.stderr.contains("MATTEGATE_API_KEY"), "stderr: \(noKey.stderr)")
  }
}
