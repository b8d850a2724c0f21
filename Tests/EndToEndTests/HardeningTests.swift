import Foundation
import MediaIO
import Store
import TestSupport
import Testing

/// Bad and unusual input through the CLI, as a user meets it (issue 24). Each case failed
/// before its fix: crashed, hung, was accepted, or printed Foundation's error dump.
@Suite(.serialized) struct HardeningTests {
  /// Runs the CLI under `timeout`, so that a hang (the FIFO cases before their fix) fails the
  /// test with status 124 instead of stalling the suite. The limit is generous: no case here
  /// needs more than a few seconds, and the status is all that is checked.
  static func guarded(_ arguments: [String]) throws -> CLI.Result {
    try CLI.tool(URL(fileURLWithPath: "/usr/bin/timeout"), ["600", CLI.executable.path] + arguments)
  }

  /// One source per size: H.264 4:2:0 for even sizes (the stream that crashed at 2×2, 4×4 and
  /// 8×8), VP9 4:2:0 for odd ones (H.264 4:2:0 has no odd sizes); and a 16-bit gray matte.
  static func tinyMedia(_ n: Int, in dir: String) throws -> (source: String, alpha: String) {
    let source = dir + "/src\(n)" + (n % 2 == 0 ? ".mp4" : ".webm")
    let codec =
      n % 2 == 0 ? ["-c:v", "libx264", "-pix_fmt", "yuv420p"] : ["-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p"]
    try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc=size=\(n)x\(n):rate=25", "-frames:v", "3"] + codec + [source])
    let alpha = dir + "/alpha\(n).mkv"
    try FFmpegCLI.run([
      "-f", "lavfi", "-i", "gradients=size=\(n)x\(n):rate=25:seed=\(n)", "-frames:v", "3", "-vf", "format=gray16le",
      "-c:v", "ffv1", alpha,
    ])
    return (source, alpha)
  }

  @Test func everyTinySizeExtractsScoresAndRuns() throws {
    let dir = try CLI.folder()
    var sizes: [Int: (source: String, alpha: String)] = [:]
    for n in 1...17 { sizes[n] = try Self.tinyMedia(n, in: dir) }

    // extract: every frame, RGB equal to the ffmpeg CLI's decode with the same swscale flags.
    for n in 1...17 {
      let out = dir + "/x\(n)"
      let r = try Self.guarded(["extract", sizes[n]!.source, "--out", out, "--rgb"])
      #expect(r.status == 0, "\(n)x\(n): \(r.stderr)")
      #expect(r.stdout.contains("wrote 3 of 3 frames"), "\(n)x\(n)")
      let ours = try FFmpegCLI.raw8(["-i", out + "/rgb/%06d.png"], pixelFormat: "rgb24")
      let reference = try FFmpegCLI.raw8(["-i", sizes[n]!.source], pixelFormat: "rgb24")
      #expect(ours.count == n * n * 3 * 3)
      #expect(firstMismatch(ours, reference) == nil, "\(n)x\(n): \(firstMismatch(ours, reference) ?? "")")
    }

    // score: the pooled frame MAD against one worked out here from the raw 16-bit samples.
    for n in 1...17 {
      let pred = sizes[n]!.alpha
      let other = dir + "/pred\(n).mkv"
      try FFmpegCLI.run([
        "-f", "lavfi", "-i", "gradients=size=\(n)x\(n):rate=25:seed=\(n + 100)", "-frames:v", "3", "-vf",
        "format=gray16le", "-c:v", "ffv1", other,
      ])
      let r = try Self.guarded(["score", "--pred", other, "--gt", pred])
      #expect(r.status == 0, "\(n)x\(n): \(r.stderr)")
      let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
      let pooled = try #require((doc["pooled"] as? [String: Any])?["frame"] as? [String: Any])
      let mad = try #require(pooled["mad"] as? Double)
      let g = try FFmpegCLI.raw16(["-i", pred], pixelFormat: "gray16le")
      let p = try FFmpegCLI.raw16(["-i", other], pixelFormat: "gray16le")
      #expect(g.count == n * n * 3 && p.count == g.count)
      let expected = zip(g, p).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) / 65535 } / Double(g.count) * 1000
      #expect(abs(mad - expected) <= 1e-9 * max(1, expected), "\(n)x\(n): MAD \(mad) vs \(expected)")
    }

    // run: one clip per size in one set; every clip scored on both arms, none failed.
    let set = dir + "/set"
    for n in 1...17 {
      let add = try Self.guarded([
        "clipset", "add", set, "--id", "tiny-\(n)", "--source", sizes[n]!.source, "--alpha", sizes[n]!.alpha,
      ])
      #expect(add.status == 0, "\(n)x\(n): \(add.stderr)")
    }
    let db = dir + "/m.sqlite"
    let run = try Self.guarded([
      "run", "--clipset", set, "--a", "configs/baseline.yaml", "--b", "configs/candidate.yaml", "--db", db, "--out",
      dir + "/reports",
    ])
    #expect([0, 2, 3].contains(run.status), "stderr: \(run.stderr)")
    #expect(!run.stderr.contains("error: "))
    let results = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("results: ") })
    let runID = String(try #require(results.split(separator: "(run ").last).dropLast())
    let store = try ResultStore(path: db)
    for n in 1...17 {
      for arm in ["A", "B"] {
        #expect(
          try store.clipValue(runID: runID, clipID: "tiny-\(n)", arm: arm, region: "frame", metric: "MAD") != nil,
          "tiny-\(n) arm \(arm) not scored")
      }
    }
  }

  @Test func clipIDsThatWouldLeaveTheirFoldersAreRefused() throws {
    for bad in ["..", ".", ".hidden", String(repeating: "a", count: 300), "a/b", "caf\u{E9}"] {
      let clips = try CLI.tinyClipSet()
      let manifest = clips + "/clipset.yaml"
      let yaml = try String(contentsOfFile: manifest, encoding: .utf8)
      try yaml.replacingOccurrences(of: "id: hair-sway", with: "id: \"\(bad)\"").write(
        toFile: manifest, atomically: true, encoding: .utf8)
      let verify = try CLI.run(["clipset", "verify", clips])
      #expect(verify.status == 1, "id '\(bad)' accepted")
      #expect(
        verify.stderr.contains("field 'id'") && verify.stderr.contains("ids use ASCII letters"), "\(verify.stderr)")
      let out = try CLI.folder()
      let run = try CLI.run([
        "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", "configs/candidate.yaml", "--db",
        out + "/m.sqlite", "--out", out + "/reports",
      ])
      #expect(run.status == 1 && run.stderr.contains("ids use ASCII letters"))
      // Nothing was written anywhere: no database, no outputs beside the report folder.
      #expect(!FileManager.default.fileExists(atPath: out + "/m.sqlite"))
      #expect(!FileManager.default.fileExists(atPath: out + "/reports"))
    }
    // clipset add refuses before creating anything, and never prints Foundation's errors.
    let clips = try CLI.tinyClipSet()
    let target = try CLI.folder() + "/new-set"
    let long = String(repeating: "a", count: 300)
    let add = try CLI.run(["clipset", "add", target, "--id", long, "--source", clips + "/hair-sway/source.mp4"])
    #expect(add.status == 1 && add.stderr.contains("is 300 characters long"))
    #expect(!add.stderr.contains("NSCocoaErrorDomain") && !add.stderr.contains(long))
    #expect(!FileManager.default.fileExists(atPath: target))
    for bad in ["..", "."] {
      let r = try CLI.run(["clipset", "add", target, "--id", bad, "--source", clips + "/hair-sway/source.mp4"])
      #expect(r.status == 1 && r.stderr.contains("starts with '.'"))
    }
  }

  @Test func brokenGroundTruthFailsItsClipInARunAndInVerify() throws {
    let clips = try CLI.tinyClipSet()
    let manifest = clips + "/clipset.yaml"
    // hair-sway: an alpha with 2 of its source's 4 frames; glass-slide: a colour RGB video.
    let short = clips + "/hair-sway/alpha.mkv"
    try FFmpegCLI.run(["-i", short, "-frames:v", "2", "-c:v", "ffv1", short + ".tmp.mkv"])
    try FileManager.default.removeItem(atPath: short)
    try FileManager.default.moveItem(atPath: short + ".tmp.mkv", toPath: short)
    let colour = clips + "/glass-slide/alpha.mkv"
    try FileManager.default.removeItem(atPath: colour)
    try FFmpegCLI.run([
      "-f", "lavfi", "-i", "testsrc=size=64x36:rate=25", "-frames:v", "4", "-pix_fmt", "bgr0", "-c:v", "ffv1", colour,
    ])
    var yaml = try String(contentsOfFile: manifest, encoding: .utf8)
    for (clip, path) in [("hair-sway", short), ("glass-slide", colour)] {
      let range = try #require(yaml.range(of: "\(clip)/alpha.mkv, sha256: "))
      let end = yaml.index(range.upperBound, offsetBy: 64)
      yaml.replaceSubrange(range.upperBound..<end, with: try FileHash.sha256(ofFile: path))
    }
    try yaml.write(toFile: manifest, atomically: true, encoding: .utf8)

    let verify = try CLI.run(["clipset", "verify", clips])
    #expect(verify.status == 1)
    #expect(verify.stderr.contains("has 2 frames but the source") && verify.stderr.contains("hair-sway"))
    #expect(verify.stderr.contains("glass-slide") && verify.stderr.contains("channels that differ"))

    let out = try CLI.folder()
    let db = out + "/m.sqlite"
    let run = try CLI.run([
      "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", "configs/candidate.yaml", "--db", db, "--out",
      out,
    ])
    #expect(run.status == 1)
    let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
    #expect(errors.count == 2)
    #expect(errors.contains { $0.contains("hair-sway") && $0.contains("has 2 frames but the source") })
    #expect(errors.contains { $0.contains("glass-slide") && $0.contains("channels that differ") })
    // The good clip kept its results; the broken ones were never submitted.
    let results = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("results: ") })
    let runID = String(try #require(results.split(separator: "(run ").last).dropLast())
    let store = try ResultStore(path: db)
    #expect(try store.clipValue(runID: runID, clipID: "motion-blur", arm: "A", region: "frame", metric: "MAD") != nil)
    #expect(try store.clipValue(runID: runID, clipID: "hair-sway", arm: "A", region: "frame", metric: "MAD") == nil)
    #expect(!FileManager.default.fileExists(atPath: out + "/outputs/\(runID)/hair-sway/A.webm"))
  }

  @Test func specialFilesAreRefusedWithoutHanging() throws {
    let dir = try CLI.folder()
    let fifo = dir + "/pipe.mp4"
    #expect(mkfifo(fifo, 0o600) == 0)
    let extract = try Self.guarded(["extract", fifo, "--out", dir + "/x"])
    #expect(
      extract.status == 1
        && extract.stderr
          == "Error: \(fifo): is a FIFO (named pipe), not a regular file; mattegate reads only regular files\n"
    )
    let device = try Self.guarded(["extract", "/dev/zero", "--out", dir + "/x"])
    #expect(device.status == 1 && device.stderr.contains("/dev/zero: is a device"))

    // A clip set whose source is a FIFO: verify names it and returns.
    let clips = try CLI.tinyClipSet()
    let source = clips + "/hair-sway/source.mp4"
    try FileManager.default.removeItem(atPath: source)
    #expect(mkfifo(source, 0o600) == 0)
    let verify = try Self.guarded(["clipset", "verify", clips])
    #expect(verify.status == 1 && verify.stderr.contains("hair-sway/source.mp4' is a FIFO"), "\(verify.stderr)")
    // A folder where a file is expected.
    try FileManager.default.removeItem(atPath: source)
    try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: false)
    let folder = try Self.guarded(["clipset", "verify", clips])
    #expect(folder.status == 1 && folder.stderr.contains("hair-sway"), "\(folder.stderr)")
  }

  @Test func manifestValuesThatCannotBeTrueAreRefused() throws {
    let cases: [(String, String, String)] = [
      ("duration: 0.16", "duration: -1", "must be a positive number of seconds"),
      ("duration: 0.16", "duration: .nan", "must be a positive number of seconds"),
      ("crf: 18", "crf: 999", "is not a CRF"),
    ]
    for (from, to, message) in cases {
      let clips = try CLI.tinyClipSet()
      let manifest = clips + "/clipset.yaml"
      let yaml = try String(contentsOfFile: manifest, encoding: .utf8)
      let first = try #require(yaml.range(of: from))
      try yaml.replacingCharacters(in: first, with: to).write(toFile: manifest, atomically: true, encoding: .utf8)
      let verify = try CLI.run(["clipset", "verify", clips])
      #expect(verify.status == 1 && verify.stderr.contains(message), "\(to): \(verify.stderr)")
    }
    // Two ids for one source (the same path, or byte-identical copies): one clip counted twice.
    let clips = try CLI.tinyClipSet()
    let manifest = clips + "/clipset.yaml"
    let yaml = try String(contentsOfFile: manifest, encoding: .utf8)
    try
      (yaml.replacingOccurrences(of: "source: glass-slide/source.mp4", with: "source: hair-sway/source.mp4")
      .replacingOccurrences(of: try sourceHash(yaml, "glass-slide"), with: try sourceHash(yaml, "hair-sway")))
      .write(toFile: manifest, atomically: true, encoding: .utf8)
    let shared = try CLI.run(["clipset", "verify", clips])
    #expect(shared.status == 1 && shared.stderr.contains("is the same source as clip 'hair-sway'"), "\(shared.stderr)")

    let copies = try CLI.tinyClipSet()
    try FileManager.default.removeItem(atPath: copies + "/glass-slide/source.mp4")
    try FileManager.default.copyItem(
      atPath: copies + "/hair-sway/source.mp4", toPath: copies + "/glass-slide/source.mp4")
    let text = try String(contentsOfFile: copies + "/clipset.yaml", encoding: .utf8)
    try text.replacingOccurrences(of: try sourceHash(text, "glass-slide"), with: try sourceHash(text, "hair-sway"))
      .write(toFile: copies + "/clipset.yaml", atomically: true, encoding: .utf8)
    let identical = try CLI.run(["clipset", "verify", copies])
    #expect(identical.status == 1 && identical.stderr.contains("is the same source as clip 'hair-sway'"))
    // clipset add refuses a source already in the set, before writing anything.
    let before = try String(contentsOfFile: clips + "/clipset.yaml", encoding: .utf8)
    let fresh = try CLI.tinyClipSet()
    let add = try CLI.run(["clipset", "add", fresh, "--id", "again", "--source", fresh + "/hair-sway/source.mp4"])
    #expect(add.status == 1 && add.stderr.contains("is the same source as clip 'hair-sway'"), "\(add.stderr)")
    #expect(!FileManager.default.fileExists(atPath: fresh + "/again"))
    #expect(try String(contentsOfFile: clips + "/clipset.yaml", encoding: .utf8) == before)
  }

  func sourceHash(_ yaml: String, _ clip: String) throws -> String {
    let lines = yaml.split(separator: "\n").map(String.init)
    let at = try #require(lines.firstIndex { $0.contains("source: \(clip)/source.mp4") })
    return String(try #require(lines[at + 1].split(separator: " ").last))
  }

  @Test func configAndUsageErrors() throws {
    let dir = try CLI.folder()
    let config = dir + "/negative.yaml"
    try "name: neg\nmodel: threshold-keyer\nengine:\n  threshold: -40\n".write(
      toFile: config, atomically: true, encoding: .utf8)
    let clips = try CLI.tinyClipSet()
    let run = try CLI.run([
      "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", config, "--db", dir + "/m.sqlite", "--out", dir,
    ])
    #expect(run.status == 1 && run.stderr.contains("field 'engine.threshold'") && run.stderr.contains("-40"))
    #expect(!FileManager.default.fileExists(atPath: dir + "/m.sqlite"))

    let usage: [[String]] = [
      ["history", "--endpoint", "hair.Blur", "--db", dir + "/none.sqlite"],
      ["history", "--endpoint", "skin.MAD", "--db", dir + "/none.sqlite"],
      [
        "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", "configs/candidate.yaml", "--provider",
        "http", "--api-url", "not a url",
      ],
      ["merge", dir + "/a.sqlite", "--into", dir + "/a.sqlite"],
      ["merge", dir + "/a.sqlite", "--into", dir + "/./a.sqlite"],
      [
        "score", "--pred", "p.webm", "--gt", "g.mkv", "--source", "s.mp4", "--plate", "p.png", "--background",
        "#GGHHII",
      ],
      ["synth", "--out", dir + "/huge", "--size", "100000x100000", "--frames", "2"],
      ["synth", "--out", dir + "/long", "--frames", "100000000"],
    ]
    for args in usage {
      let r = try CLI.run(args)
      #expect(r.status == 64, "\(args.joined(separator: " ")): \(r.status) \(r.stderr)")
      #expect(!r.stderr.contains("Fatal error"))
    }
    #expect(!FileManager.default.fileExists(atPath: dir + "/huge"))
  }

  @Test func foundationErrorsReachNoUser() throws {
    let dir = try CLI.folder()
    let file = dir + "/not-a-folder"
    try Data("x".utf8).write(to: URL(fileURLWithPath: file))
    let clips = try CLI.tinyClipSet()
    let extract = try CLI.run(["extract", clips + "/hair-sway/source.mp4", "--out", file])
    #expect(extract.status == 1)
    #expect(extract.stderr == "Error: \(file)/rgb: cannot create the folder: \(file) exists and is not a folder\n")
    // A PNG cut short, and a ZIP of PNGs whose entries are flagged encrypted.
    try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc=size=64x36", "-frames:v", "1", dir + "/full.png"])
    let png = try Data(contentsOf: URL(fileURLWithPath: dir + "/full.png"))
    try png.prefix(40).write(to: URL(fileURLWithPath: dir + "/cut.png"))
    let cut = try CLI.run(["extract", dir + "/cut.png", "--out", dir + "/cut"])
    #expect(cut.status == 1 && cut.stderr.contains("cut short"), "\(cut.stderr)")
    var zip = [UInt8](
      craftZip([
        (name: "0001.png", data: [UInt8](png), declared: nil, method: 0),
        (name: "0002.png", data: [UInt8](png), declared: nil, method: 0),
      ]))
    for signature in [[0x50, 0x4B, 0x03, 0x04] as [UInt8], [0x50, 0x4B, 0x01, 0x02]] {
      var i = 0
      while i + 4 <= zip.count {
        if Array(zip[i..<(i + 4)]) == signature { zip[i + (signature[2] == 3 ? 6 : 8)] |= 1 }
        i += 1
      }
    }
    try Data(zip).write(to: URL(fileURLWithPath: dir + "/enc.zip"))
    let encrypted = try CLI.run(["extract", dir + "/enc.zip", "--out", dir + "/enc"])
    #expect(encrypted.status == 1)
    #expect(
      encrypted.stderr
        == "Error: \(dir)/enc.zip: ZIP entry '0001.png' is encrypted; mattegate reads only unencrypted archives\n")
  }
}
