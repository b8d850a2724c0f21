import Foundation
import MediaIO
import Store
import TestSupport
import Testing

/// A user's own footage (issue 25): a set built only through `clipset add` and `clipset
/// import`, from sources the ffmpeg CLI encodes and mattes written as PNG frames.
@Suite(.serialized) struct OwnFootageTests {
  static let (width, height, frames) = (320, 180, 25)

  /// A scene with what the hard regions are about: a solid body, eight one-pixel strands of
  /// hair at α = 0.6 above it, and a sheet of glass at α = 0.4 sliding one pixel per frame.
  /// Returns the 8-bit matte, the composite over a textured background, the background, and
  /// the exact hair and glass pixels.
  static func scene(frame t: Int, shift: Int = 0) -> (
    alpha: [UInt8], rgb: [UInt8], plate: [UInt8], hair: [Bool], glass: [Bool]
  ) {
    let (w, h) = (width, height)
    var alpha = [UInt8](repeating: 0, count: w * h)
    var colour = [(UInt8, UInt8, UInt8)](repeating: (0, 0, 0), count: w * h)
    var hair = [Bool](repeating: false, count: w * h)
    var glass = [Bool](repeating: false, count: w * h)
    var plate = [UInt8](repeating: 0, count: w * h * 3)
    for y in 0..<h {
      for x in 0..<w {
        let k = y * w + x
        plate[3 * k] = UInt8(40 + (x * 3 + shift) % 60)
        plate[3 * k + 1] = UInt8(90 + (y * 5) % 50)
        plate[3 * k + 2] = UInt8(160 - (x + y) % 40)
        // The body: an ellipse, hard-edged.
        let dx = Double(x - 100) / 60
        let dy = Double(y - 140) / 70
        if dx * dx + dy * dy <= 1 {
          alpha[k] = 255
          colour[k] = (200, 150, 120)
        }
        // The glass: a flat sheet at 0.4 (102 of 255).
        if x >= 200 + t && x < 250 + t && y >= 30 && y < 120 {
          alpha[k] = 102
          colour[k] = (180, 210, 240)
          glass[k] = true
        }
      }
    }
    // Strands: one pixel wide, leaning with the frame.
    for s in 0..<8 {
      let x0 = 70 + s * 8
      for y in 20..<75 {
        let x = x0 + (y * (s % 3 - 1) + t) / 12
        let k = y * w + x
        guard alpha[k] == 0 else { continue }
        alpha[k] = 153
        colour[k] = (60, 40, 20)
        hair[k] = true
      }
    }
    var rgb = [UInt8](repeating: 0, count: w * h * 3)
    for k in 0..<(w * h) {
      let a = Int(alpha[k])
      let f = [Int(colour[k].0), Int(colour[k].1), Int(colour[k].2)]
      for c in 0..<3 { rgb[3 * k + c] = UInt8((a * f[c] + (255 - a) * Int(plate[3 * k + c]) + 127) / 255) }
    }
    return (alpha, rgb, plate, hair, glass)
  }

  /// Writes a clip's files: `source.mp4` (H.264 by the ffmpeg CLI), `plate.png`, the matte as
  /// 8-bit PNG frames in `alpha/` (or 16-bit ones with `sixteen`), hair and glass masks as PNG
  /// frames when asked.
  static func writeClip(
    in dir: String, frames n: Int = frames, alpha: Bool = true, sixteen: Bool = false, masks: Bool = false,
    shift: Int = 0
  ) throws {
    let fm = FileManager.default
    try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var raw = Data()
    for t in 0..<n {
      let s = scene(frame: t, shift: shift)
      raw.append(contentsOf: s.rgb)
      if t == 0 { try PNGFile.write(RGBImage(width: width, height: height, pixels: s.plate), to: dir + "/plate.png") }
      let name = String(format: "%04d.png", t + 1)
      if alpha {
        try fm.createDirectory(atPath: dir + "/alpha", withIntermediateDirectories: true)
        if sixteen {
          try PNGFile.writeGray16(
            GrayImage(width: width, height: height, maxValue: 65535, samples: s.alpha.map { UInt16($0) * 257 }),
            to: dir + "/alpha/" + name)
        } else {
          try PNGFile.writeGray8(s.alpha, width: width, height: height, to: dir + "/alpha/" + name)
        }
      }
      if masks {
        // Motion: where the matte changed since the frame before (none on frame 0).
        let before = t > 0 ? scene(frame: t - 1, shift: shift).alpha : s.alpha
        let motion = zip(s.alpha, before).map { $0 != $1 }
        for (region, mask) in [("hair", s.hair), ("glass", s.glass), ("motion", motion)] {
          try fm.createDirectory(atPath: dir + "/masks/" + region, withIntermediateDirectories: true)
          try PNGFile.writeGray8(
            mask.map { $0 ? 255 : 0 }, width: width, height: height, to: dir + "/masks/\(region)/" + name)
        }
      }
    }
    try raw.write(to: URL(fileURLWithPath: dir + "/frames.rgb"))
    try FFmpegCLI.run([
      "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)", "-r", "25", "-i", dir + "/frames.rgb",
      "-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p", dir + "/source.mp4",
    ])
    try fm.removeItem(atPath: dir + "/frames.rgb")
  }

  /// Every file under `folder` with its size, to show that a refused clip left nothing behind.
  static func listing(_ folder: String) -> [String] {
    let e = FileManager.default.enumerator(atPath: folder)
    var out: [String] = []
    while let name = e?.nextObject() as? String {
      let size = (try? FileManager.default.attributesOfItem(atPath: folder + "/" + name)[.size] as? Int) ?? -1
      out.append("\(name) \(size)")
    }
    return out.sorted()
  }

  @Test func aSetBuiltFromOwnFootageGetsHairAndGlassEndpoints() throws {
    let dir = try CLI.folder()
    let from = dir + "/footage"
    // Through `import`: one clip with its own hair and glass masks, one without ground truth.
    try Self.writeClip(in: from + "/studio-masked", masks: true)
    try "person, short\n".write(toFile: from + "/studio-masked/tags.txt", atomically: true, encoding: .utf8)
    try Self.writeClip(in: from + "/customer-raw", alpha: false, shift: 7)
    let set = dir + "/set"
    let imported = try CLI.run(["clipset", "import", set, "--from", from])
    #expect(imported.status == 0, "\(imported.stdout) \(imported.stderr)")
    #expect(imported.stdout.contains("imported 2, skipped 0 already there, refused 0"), "\(imported.stdout)")
    #expect(imported.stdout.contains("imported studio-masked: 320x180, 1.000 s, own masks: hair, glass, motion"))
    #expect(imported.stdout.contains("imported customer-raw: 320x180, 1.000 s, no ground truth"))
    // Through `add`: a clip with a 16-bit PNG matte and no masks (its regions are derived).
    let derived = dir + "/derived-src"
    try Self.writeClip(in: derived, sixteen: true, shift: 13)
    let added = try CLI.run([
      "clipset", "add", set, "--id", "derived", "--source", derived + "/source.mp4", "--alpha", derived + "/alpha",
      "--plate", derived + "/plate.png", "--tags", "hair,glass,difficult,my-own-tag",
    ])
    #expect(added.status == 0, "\(added.stderr)")
    #expect(added.stdout.contains("added 'derived'"))
    let third = dir + "/third-src"
    try Self.writeClip(in: third, shift: 21)
    let thirdAdded = try CLI.run([
      "clipset", "add", set, "--id", "third", "--source", third + "/source.mp4", "--alpha", third + "/alpha",
      "--plate", third + "/plate.png",
    ])
    #expect(thirdAdded.status == 0, "\(thirdAdded.stderr)")

    // The stored matte is the PNG frames' codes, every frame, on the 16-bit scale.
    let stored = try FFmpegCLI.raw16(["-i", set + "/derived/alpha.mkv"], pixelFormat: "gray16le")
    var expected: [UInt16] = []
    for t in 0..<Self.frames { expected += Self.scene(frame: t).alpha.map { UInt16($0) * 257 } }
    #expect(stored.count == expected.count)
    #expect(firstMismatch(stored, expected) == nil)
    // The region-code video holds 64 where the hair mask is set and 128 where the glass mask is.
    let codes = try FFmpegCLI.raw8(["-i", set + "/studio-masked/regions.mkv"], pixelFormat: "gray")
    var expectedCodes: [UInt8] = []
    for t in 0..<Self.frames {
      let s = Self.scene(frame: t)
      let before = t > 0 ? Self.scene(frame: t - 1).alpha : s.alpha
      for k in s.alpha.indices {
        expectedCodes.append((s.hair[k] ? 64 : 0) | (s.glass[k] ? 128 : 0) | (s.alpha[k] != before[k] ? 32 : 0))
      }
    }
    #expect(expectedCodes.contains(32 | 128), "the glass moves, so some glass pixels are motion too")
    #expect(firstMismatch(codes, expectedCodes) == nil)
    let manifest = try String(contentsOfFile: set + "/clipset.yaml", encoding: .utf8)
    #expect(manifest.contains("regions: [hair, glass, motion]"))
    #expect(manifest.contains("tags: [person, short]"))
    #expect(manifest.contains("tags: [hair, glass, difficult, my-own-tag]"))
    #expect(manifest.contains("tags: [no-gt]"))

    // verify --deep: coverage with support counted from the regions a run derives.
    let verify = try CLI.run(["clipset", "verify", set, "--deep"])
    #expect(verify.status == 0, "\(verify.stderr)")
    #expect(verify.stdout.contains("every frame decoded in"))
    #expect(verify.stdout.contains("your own tags: my-own-tag 1, person 1"), "\(verify.stdout)")
    #expect(verify.stdout.contains("per region: frame 3, transition 3, hair 3, glass 3, motion 3"), "\(verify.stdout)")
    #expect(verify.stdout.contains("hair/Grad: 3 clips; 28 needed"), "\(verify.stdout)")
    #expect(verify.stdout.contains("at an assumed 10% spread (no run yet)"))
    #expect(verify.stderr.contains("too few clips to decide at the gate's margin"))
    #expect(verify.stderr.contains("the set lacks a longer clip"))

    // A run with the default gate: hair and glass endpoints with both clips' support.
    let db = dir + "/r.sqlite"
    let run = try CLI.run([
      "run", "--clipset", set, "--a", CLI.repository.path + "/configs/baseline.yaml", "--b",
      CLI.repository.path + "/configs/candidate.yaml", "--db", db, "--out", dir + "/reports",
    ])
    #expect([0, 2, 3].contains(run.status), "\(run.stdout) \(run.stderr)")
    let store = try ResultStore(path: db)
    let runID = try #require(try store.runs().first?.id)
    let comparisons = try store.comparisons(runID: runID)
    for (region, metric) in [("hair", "Grad"), ("glass", "MSE")] {
      let c = try #require(comparisons.first { $0.region == region && $0.metric == metric })
      #expect(c.clips == 3, "\(region)/\(metric) has \(c.clips) clips")
    }
    // verify --db: the clips needed at the spread of per-clip log-ratios this run observed.
    let values = try store.clipMetrics(runID: runID).filter { $0.region == "hair" && $0.metric == "Grad" }
    var ratios: [Double] = []
    for id in ["studio-masked", "derived", "third"] {
      let a = try #require(values.first { $0.clipID == id && $0.arm == "A" }?.value)
      let b = try #require(values.first { $0.clipID == id && $0.arm == "B" }?.value)
      ratios.append(log(b / a))
    }
    let mean = ratios.reduce(0, +) / 3
    let sd = (ratios.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2).squareRoot()
    let observed = try CLI.run(["clipset", "verify", set, "--deep", "--db", db])
    #expect(observed.status == 0, "\(observed.stderr)")
    #expect(
      observed.stdout.contains("hair/Grad: 3 clips; ")
        && observed.stdout.contains(String(format: "at the %.1f%% spread of run %@", sd * 100, runID)),
      "\(observed.stdout)")
    let clips = Dictionary(uniqueKeysWithValues: try store.clips(runID: runID).map { ($0.clipID, $0) })
    #expect(clips["studio-masked"]?.regions == "own: hair, glass, motion")
    #expect(clips["derived"]?.regions?.hasPrefix("derived: hair, glass, motion (mattegate-regions/3") == true)
    #expect(clips["customer-raw"]?.hasTruth == false)
    #expect(clips["customer-raw"]?.status == "scored")
    #expect((clips["derived"]?.bitsPerPixel ?? 0) > 0)
    let report = try String(contentsOfFile: dir + "/reports/\(runID)/index.html", encoding: .utf8)
    #expect(report.contains("Clips without ground truth (1)"))
    #expect(report.contains("These measures never move the verdict."))
    #expect(report.contains("Hard regions: derived: hair, glass, motion"))
  }

  @Test func everyMismatchIsOneErrorAndLeavesNothing() throws {
    let dir = try CLI.folder()
    let good = dir + "/good"
    try Self.writeClip(in: good)
    let set = dir + "/set"
    // A set with one clip in it already, so "nothing left" covers an existing manifest.
    let first = try CLI.run([
      "clipset", "add", set, "--id", "first", "--source", good + "/source.mp4", "--alpha", good + "/alpha", "--plate",
      good + "/plate.png",
    ])
    #expect(first.status == 0, "\(first.stderr)")
    let before = Self.listing(set)
    let manifestBefore = try String(contentsOfFile: set + "/clipset.yaml", encoding: .utf8)

    let bad = dir + "/bad"
    try Self.writeClip(in: bad, shift: 3)
    let fm = FileManager.default
    // Half-size matte, 12 of 25 frames, a matte at 12.5 fps, a colour picture, a cut file.
    try FFmpegCLI.run(["-i", good + "/alpha/%04d.png", "-vf", "scale=160:90", "-c:v", "ffv1", bad + "/small.mkv"])
    try FFmpegCLI.run(["-i", good + "/alpha/%04d.png", "-frames:v", "12", "-c:v", "ffv1", bad + "/short.mkv"])
    try FFmpegCLI.run(["-framerate", "12.5", "-i", good + "/alpha/%04d.png", "-c:v", "ffv1", bad + "/slow.mkv"])
    let cut = try Data(contentsOf: URL(fileURLWithPath: bad + "/slow.mkv"))
    try cut.prefix(cut.count / 3).write(to: URL(fileURLWithPath: bad + "/cut.mkv"))
    try FFmpegCLI.run([
      "-f", "lavfi", "-i", "testsrc=size=320x180:rate=25", "-frames:v", "25", "-c:v", "libx264", "-pix_fmt",
      "yuv420p", bad + "/colour.mp4",
    ])
    try "not a picture\n".write(toFile: bad + "/plate.txt", atomically: true, encoding: .utf8)
    try FFmpegCLI.run(["-i", good + "/plate.png", "-vf", "scale=160:90", bad + "/small-plate.png"])
    // A soft mask: the matte itself (0.4 and 0.6 are not 0 or 1).
    let source = bad + "/source.mp4"
    let cases: [(args: [String], expected: [String])] = [
      (["--alpha", bad + "/small.mkv"], ["small.mkv", "is 160x90 but the source", "is 320x180"]),
      (["--alpha", bad + "/short.mkv"], ["short.mkv", "has 12 frames but the source", "has 25"]),
      (["--alpha", bad + "/slow.mkv"], ["slow.mkv", "frame 1 is at 0.080 s but source frame 1 is at 0.040 s"]),
      (["--alpha", bad + "/cut.mkv"], ["cut.mkv"]),
      (["--alpha", bad + "/colour.mp4"], ["colour.mp4", "is a colour picture, not a matte"]),
      (
        ["--alpha", good + "/alpha", "--masks", "hair=" + good + "/alpha"],
        ["field 'masks.hair'", "is not a binary mask"]
      ),
      (["--alpha", good + "/alpha", "--crf", "999"], ["999 is not a plausible CRF"]),
      (["--alpha", good + "/alpha", "--plate", bad + "/plate.txt"], ["plate.txt", "is not a picture or video"]),
      (
        ["--alpha", good + "/alpha", "--plate", bad + "/small-plate.png"],
        ["the clean plate is 160x90 but the source is 320x180"]
      ),
      (["--alpha", bad + "/none"], ["none", "no such file"]),
    ]
    for c in cases {
      let r = try CLI.run(["clipset", "add", set, "--id", "second", "--source", source] + c.args)
      #expect(r.status == 1, "\(c.args): \(r.stdout) \(r.stderr)")
      #expect(r.stderr.split(separator: "\n").count == 1, "\(c.args): \(r.stderr)")
      #expect(r.stderr.contains("clip 'second'"), "\(c.args): \(r.stderr)")
      for text in c.expected { #expect(r.stderr.contains(text), "\(c.args): \(r.stderr)") }
      #expect(Self.listing(set) == before, "\(c.args) left files behind")
      #expect(try String(contentsOfFile: set + "/clipset.yaml", encoding: .utf8) == manifestBefore)
    }
    // The clip goes in once it is right, with a tag of the user's own and its matte as a ZIP of
    // PNG frames named 1.png … 25.png, taken in natural order (2 before 10).
    let zip = try ZipWriter(path: bad + "/alpha.zip")
    for t in (0..<Self.frames).reversed() {
      try zip.add(
        "\(t + 1).png",
        data: try Data(contentsOf: URL(fileURLWithPath: good + String(format: "/alpha/%04d.png", t + 1))))
    }
    try zip.finish()
    let fixed = try CLI.run([
      "clipset", "add", set, "--id", "second", "--source", source, "--alpha", bad + "/alpha.zip", "--tags", "person",
    ])
    #expect(fixed.status == 0, "\(fixed.stderr)")
    #expect(!fm.fileExists(atPath: set + "/.adding-second"))
    let stored = try FFmpegCLI.raw16(["-i", set + "/second/alpha.mkv"], pixelFormat: "gray16le")
    var expected: [UInt16] = []
    for t in 0..<Self.frames { expected += Self.scene(frame: t).alpha.map { UInt16($0) * 257 } }
    #expect(firstMismatch(stored, expected) == nil)
    // verify makes the same checks on a set edited by hand: the 12.5 fps matte swapped in and
    // re-pinned is refused for its frame times.
    try fm.removeItem(atPath: set + "/second/alpha.mkv")
    try fm.copyItem(atPath: bad + "/slow.mkv", toPath: set + "/second/alpha.mkv")
    // And the first clip's plate swapped for a half-size one.
    try fm.removeItem(atPath: set + "/first/plate.png")
    try fm.copyItem(atPath: bad + "/small-plate.png", toPath: set + "/first/plate.png")
    var text = try String(contentsOfFile: set + "/clipset.yaml", encoding: .utf8)
    for file in ["second/alpha.mkv", "first/plate.png"] {
      let hash = try FileHash.sha256(ofFile: set + "/" + file)
      let pinned = try #require(text.range(of: file + #", sha256: [0-9a-f]{64}"#, options: .regularExpression))
      text.replaceSubrange(pinned, with: "\(file), sha256: \(hash)")
    }
    try text.write(toFile: set + "/clipset.yaml", atomically: true, encoding: .utf8)
    let verify = try CLI.run(["clipset", "verify", set])
    #expect(verify.status == 1)
    #expect(
      verify.stderr.contains("2 clips whose ground truth, masks or plate do not match the source"), "\(verify.stderr)")
    #expect(verify.stderr.contains("clip 'second'"), "\(verify.stderr)")
    #expect(verify.stderr.contains("frame 1 is at 0.080 s but source frame 1 is at 0.040 s"), "\(verify.stderr)")
    #expect(verify.stderr.contains("clip 'first'"), "\(verify.stderr)")
    #expect(verify.stderr.contains("the clean plate is 160x90 but the source"), "\(verify.stderr)")
  }

  @Test func anInterruptedImportLeavesAValidManifestAndResumes() throws {
    let dir = try CLI.folder()
    let from = dir + "/footage"
    for (i, id) in ["a-clip", "b-clip", "c-clip"].enumerated() { try Self.writeClip(in: from + "/" + id, shift: i * 5) }
    // c-clip is broken: a matte with fewer frames than its source.
    try FileManager.default.removeItem(atPath: from + "/c-clip/alpha/0025.png")
    try "x".write(toFile: from + "/b-clip/notes.doc", atomically: true, encoding: .utf8)
    let set = dir + "/set"
    let r = try CLI.run(["clipset", "import", set, "--from", from])
    #expect(r.status == 1)
    #expect(r.stdout.contains("imported a-clip"))
    #expect(
      r.stdout.contains("refused b-clip:")
        && r.stdout.contains("notes.doc: clip 'b-clip', is not part of the import layout"))
    #expect(r.stdout.contains("refused c-clip:") && r.stdout.contains("has 24 frames but the source"))
    #expect(r.stdout.contains("imported 1, skipped 0 already there, refused 2"))
    // What a kill between two clips leaves: a staging folder and an unregistered clip folder.
    try FileManager.default.createDirectory(atPath: set + "/.adding-b-clip", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: set + "/b-clip", withIntermediateDirectories: true)
    try "partial".write(toFile: set + "/b-clip/source.mp4", atomically: true, encoding: .utf8)
    let verify = try CLI.run(["clipset", "verify", set])
    #expect(verify.status == 0, "\(verify.stderr)")
    #expect(verify.stdout.contains("1 clips"))
    // Fixed and run again: the imported clip is skipped, the others go in.
    try FileManager.default.removeItem(atPath: from + "/b-clip/notes.doc")
    try FileManager.default.removeItem(atPath: from + "/c-clip")
    let again = try CLI.run(["clipset", "import", set, "--from", from])
    #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
    #expect(again.stdout.contains("skipped a-clip: already in the set"))
    #expect(again.stdout.contains("was replaced"))
    #expect(again.stdout.contains("imported 1, skipped 1 already there, refused 0"))
    #expect(!FileManager.default.fileExists(atPath: set + "/.adding-b-clip"))
  }

  /// The compression guardrail, and both arms receiving the byte-identical pinned source: each
  /// exec arm records the sha256 of the file it was given.
  @Test func compressedSourcesWarnAndBothArmsGetTheSameBytes() throws {
    let dir = try CLI.folder()
    let clip = dir + "/clip"
    try Self.writeClip(in: clip)
    // The same frames at the lowest quality H.264 has: far below 0.02 bits per pixel.
    try FFmpegCLI.run(["-i", clip + "/source.mp4", "-c:v", "libx264", "-crf", "51", clip + "/crushed.mp4"])
    // The matte as the alpha plane of a red VP9 WebM (a colour picture whose alpha is the matte).
    try FFmpegCLI.run([
      "-f", "lavfi", "-i", "color=c=red:s=\(Self.width)x\(Self.height):r=25", "-i", clip + "/alpha/%04d.png",
      "-filter_complex", "[0][1]alphamerge,format=yuva420p", "-frames:v", "25", "-c:v", "libvpx-vp9", "-crf", "10",
      "-b:v", "0", "-metadata:s:v:0", "alpha_mode=1", clip + "/alpha.webm",
    ])
    let set = dir + "/set"
    let added = try CLI.run([
      "clipset", "add", set, "--id", "crushed", "--source", clip + "/crushed.mp4", "--alpha", clip + "/alpha.webm",
    ])
    #expect(added.status == 0, "\(added.stderr)")
    // Stored: the alpha plane as libvpx decodes it, on the 16-bit scale.
    let plane = try FFmpegCLI.raw8(
      ["-c:v", "libvpx-vp9", "-i", clip + "/alpha.webm"], filter: "alphaextract", pixelFormat: "gray")
    let stored = try FFmpegCLI.raw16(["-i", set + "/crushed/alpha.mkv"], pixelFormat: "gray16le")
    #expect(plane.count == Self.width * Self.height * Self.frames)
    #expect(firstMismatch(stored, plane.map { UInt16($0) * 257 }) == nil)
    #expect(added.stderr.contains("edge detail may already be lost in the source"), "\(added.stderr)")
    let manifest = try String(contentsOfFile: set + "/clipset.yaml", encoding: .utf8)
    let bytes = try #require(try FileManager.default.attributesOfItem(atPath: clip + "/crushed.mp4")[.size] as? Int)
    let bpp = Double(bytes) * 8 / Double(Self.width * Self.height * Self.frames)
    #expect(bpp < 0.02)
    #expect(manifest.contains(String(format: "bits_per_pixel: %.5f", bpp)))
    let verify = try CLI.run(["clipset", "verify", set])
    #expect(verify.stderr.contains("clip 'crushed': source is coded at"), "\(verify.stderr)")

    for arm in ["a", "b"] {
      try """
      name: \(arm)
      model: \(arm)
      output_format: webm
      exec:
        command: >-
          sha256sum {input} | cut -c1-64 >> \(dir)/inputs-\(arm).txt; \(CLI.colorKey) {output}
      """.write(toFile: dir + "/\(arm).yaml", atomically: true, encoding: .utf8)
    }
    let db = dir + "/r.sqlite"
    let run = try CLI.run([
      "run", "--clipset", set, "--a", dir + "/a.yaml", "--b", dir + "/b.yaml", "--provider", "exec", "--db", db,
      "--out", dir + "/reports",
    ])
    #expect([0, 2, 3].contains(run.status), "\(run.stdout) \(run.stderr)")
    #expect((run.stdout + run.stderr).contains("crushed: warning: source is coded at"), "\(run.stderr)")
    let pinned = try FileHash.sha256(ofFile: set + "/crushed/source.mp4")
    for arm in ["a", "b"] {
      let seen = try String(contentsOfFile: dir + "/inputs-\(arm).txt", encoding: .utf8)
      #expect(seen == pinned + "\n", "arm \(arm) got \(seen)")
    }
    let runID = try #require(try ResultStore(path: db).runs().first?.id)
    let report = try String(contentsOfFile: dir + "/reports/\(runID)/index.html", encoding: .utf8)
    #expect(report.contains("Warning: source is coded at"))
  }
}
