import Foundation
import MediaIO
import TestSupport
import Testing

/// At least twenty broken inputs: each must end in a `MediaError` that names the file and says
/// what is wrong; nothing crashes and nothing is written outside the folder.
@Suite struct BadInputCorpusTests {
  struct Case {
    var name: String
    var path: String
    /// A fragment the reason must contain.
    var expect: String
  }

  /// Writes the corpus into `dir` (fixtures made now by the ffmpeg CLI, then damaged).
  func makeCorpus(_ dir: String) throws -> [Case] {
    let fm = FileManager.default
    func write(_ name: String, _ data: Data) -> String {
      let p = dir + "/" + name
      _ = fm.createFile(atPath: p, contents: data)
      return p
    }
    func truncated(_ source: String, _ name: String, keep fraction: Double) throws -> String {
      let data = try Data(contentsOf: URL(fileURLWithPath: source))
      return write(name, data.prefix(Int(Double(data.count) * fraction)))
    }
    var rng = SystemRandomNumberGenerator()
    let random = Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) })
    let good = dir + "/good"
    try fm.createDirectory(atPath: good, withIntermediateDirectories: true)
    let (webm, _) = try OutputFormat.webmVP9Alpha.make(in: good)
    let (prores, _) = try OutputFormat.movProRes4444.make(in: good)
    let (ffv1, _) = try OutputFormat.mkvFFV1YUVA10.make(in: good)
    let (gif, _) = try OutputFormat.gif.make(in: good)
    let (png, _) = try OutputFormat.singlePNG16.make(in: good)
    let pngBytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))

    var cases: [Case] = [
      Case(name: "empty", path: write("empty.mp4", Data()), expect: "empty"),
      Case(name: "random bytes", path: write("random.mp4", random), expect: "not a media file"),
      Case(name: "random bytes .webm", path: write("random.webm", random), expect: "not a media file"),
      Case(
        name: "text named .mp4", path: write("notes.mp4", Data(String(repeating: "not a video\n", count: 40).utf8)),
        expect: "not a media file"),
      Case(name: "missing file", path: dir + "/nowhere.mov", expect: "no such file"),
      Case(name: "webm cut at 40%", path: try truncated(webm, "cut40.webm", keep: 0.4), expect: "truncated or corrupt"),
      Case(name: "webm cut at 80%", path: try truncated(webm, "cut80.webm", keep: 0.8), expect: "truncated or corrupt"),
      Case(name: "mov cut in the header", path: try truncated(prores, "cut-head.mov", keep: 0.002), expect: ""),
      Case(name: "mov cut at 50%", path: try truncated(prores, "cut50.mov", keep: 0.5), expect: ""),
      Case(name: "mkv cut at 30%", path: try truncated(ffv1, "cut30.mkv", keep: 0.3), expect: "truncated"),
      Case(name: "gif cut at 50%", path: try truncated(gif, "cut50.gif", keep: 0.5), expect: ""),
      Case(name: "png cut at 50%", path: try truncated(png, "cut50.png", keep: 0.5), expect: ""),
    ]
    // Audio only.
    let audio = dir + "/audio.mp4"
    try FFmpegCLI.run(["-f", "lavfi", "-i", "sine=d=0.3", "-c:a", "aac", audio])
    cases.append(Case(name: "audio only", path: audio, expect: "no video stream"))
    // A video stream with no frames.
    let noFrames = dir + "/noframes.mkv"
    try FFmpegCLI.run(["-f", "lavfi", "-i", "testsrc2=s=32x24:r=5:d=0.2", "-frames:v", "0", "-c:v", "ffv1", noFrames])
    cases.append(Case(name: "zero video frames", path: noFrames, expect: "empty, truncated or without frames"))
    // Absurd dimensions in a header: a Y4M stream declaring 20000×20000, and a PNG declaring 100000×100000.
    var y4m = Data("YUV4MPEG2 W20000 H20000 F25:1 Ip A1:1 C420jpeg\nFRAME\n".utf8)
    y4m.append(Data(repeating: 0, count: 1024))
    cases.append(Case(name: "y4m 20000x20000", path: write("huge.y4m", y4m), expect: "20000x20000"))
    var hugePNG = pngBytes
    for (k, b) in [UInt8(0), 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0].enumerated() { hugePNG[16 + k] = b }
    cases.append(Case(name: "png 100000x100000", path: write("huge.png", Data(hugePNG)), expect: "100000x100000"))
    // Sequences: a corrupt PNG among good ones, in a folder and in a ZIP; an empty folder.
    let seq = dir + "/seq"
    try fm.createDirectory(atPath: seq, withIntermediateDirectories: true)
    for i in 0..<3 { _ = fm.createFile(atPath: seq + "/f\(i).png", contents: Data(pngBytes)) }
    _ = fm.createFile(atPath: seq + "/f3.png", contents: Data(pngBytes.prefix(60)) + random.prefix(200))
    cases.append(Case(name: "corrupt PNG in a folder sequence", path: seq, expect: "frame 3 ('f3.png')"))
    let zipSeq = write(
      "seq.zip",
      craftZip([
        ("f0.png", pngBytes, nil, 0), ("f1.png", pngBytes, nil, 0), ("f2.png", Array(random.prefix(300)), nil, 0),
      ]))
    cases.append(Case(name: "corrupt PNG in a ZIP sequence", path: zipSeq, expect: "frame 2 ('f2.png')"))
    let emptyDir = dir + "/emptyseq"
    try fm.createDirectory(atPath: emptyDir, withIntermediateDirectories: true)
    cases.append(Case(name: "empty folder", path: emptyDir, expect: "no PNG frames"))
    // Hostile ZIPs.
    cases.append(
      Case(
        name: "ZIP with ../", path: write("dotdot.zip", craftZip([("../evil.png", pngBytes, nil, 0)])),
        expect: "leaves the archive"))
    cases.append(
      Case(
        name: "ZIP with absolute path", path: write("abs.zip", craftZip([("/tmp/evil.png", pngBytes, nil, 0)])),
        expect: "absolute path"))
    cases.append(
      Case(
        name: "ZIP bomb: 4 GB declared", path: write("bomb.zip", craftZip([("f0.png", [3, 0], 0xFFFF_0000, 8)])),
        expect: "limit"))
    cases.append(
      Case(
        name: "ZIP bomb: impossible ratio",
        path: write("ratio.zip", craftZip([("f0.png", Array(random.prefix(100)), 900_000_000, 8)])),
        expect: "no real compression gives"))
    cases.append(
      Case(
        name: "ZIP stored entry lying about its size",
        path: write("lie.zip", craftZip([("f0.png", pngBytes, UInt32(pngBytes.count * 3), 0)])),
        expect: "no real compression gives"))
    // A stored entry whose bytes were damaged after its CRC was written.
    var damaged = [UInt8](craftZip([("f0.png", pngBytes, nil, 0)]))
    damaged[30 + 6 + 100] ^= 0xFF
    cases.append(Case(name: "ZIP entry failing its CRC", path: write("crc.zip", Data(damaged)), expect: "CRC-32"))
    cases.append(
      Case(
        name: "ZIP of garbage", path: write("garbage.zip", Data([0x50, 0x4B, 0x03, 0x04]) + random),
        expect: "ZIP"))
    cases.append(
      Case(
        name: "pro_bundle without alpha.mp4",
        path: write("bundle.zip", craftZip([("color.mp4", Array(random.prefix(64)), nil, 0)])),
        expect: "no alpha.mp4"))
    return cases
  }

  @Test func everyBadInputIsATypedErrorNamingTheFile() throws {
    let root = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: root) }
    let dir = root + "/corpus"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let cases = try makeCorpus(dir)
    #expect(cases.count >= 20)
    let before = Set(try FileManager.default.subpathsOfDirectory(atPath: root))
    for c in cases {
      do {
        let reader = try MediaInput.open(c.path, options: ReadOptions(rgb: .eight, alpha: .none))
        var n = 0
        while try reader.nextFrame() != nil { n += 1 }
        Issue.record("\(c.name): \(c.path) read \(n) frames without an error")
      } catch {
        #expect(error.path == c.path, "\(c.name): the error names \(error.path), not the file")
        #expect(!error.reason.isEmpty)
        #expect(
          c.expect.isEmpty || error.reason.contains(c.expect), "\(c.name): '\(error.reason)' lacks '\(c.expect)'")
      }
    }
    // Nothing was written anywhere near the corpus (no ../evil.png, nothing extracted).
    let after = Set(try FileManager.default.subpathsOfDirectory(atPath: root))
    #expect(after == before)
    #expect(!FileManager.default.fileExists(atPath: "/tmp/evil.png"))
  }
}
