import Clips
import Foundation
import MediaIO
import Runner
import TestSupport
import Testing

/// `clipset add` as a library call: probing, pinning, and refusals that leave the set as it was.
@Suite struct ClipIntakeTests {
  @Test func addRegistersAUserClipProbedAndPinned() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // A 32×16 H.264 clip of 5 frames at 25 fps, outside the set's folder.
    let source = dir + "/upload.mp4"
    let writer = try VideoWriter(
      path: source, width: 32, height: 16, frameRate: 25, encoding: .h264(crf: 23, preset: "medium"))
    for _ in 0..<5 { try writer.append(rgb: RGBImage(width: 32, height: 16), alpha: nil) }
    try writer.finish()
    let added = try ClipIntake.add(
      .init(id: "street-01", source: source, tags: ["motion", "short"]), to: dir + "/set")
    #expect(added.clip.size == "32x16" && added.clip.duration == 0.2)
    #expect(added.clip.tags == ["motion", "short", "no-gt"] && !added.clip.hasGroundTruth)
    #expect(added.clip.source.path == "street-01/source.mp4")
    #expect(added.clip.source.sha256 == (try FileHash.sha256(ofFile: source)))
    // A second clip appends; a repeated id, the same source again, a malformed tag and a file
    // FFmpeg cannot read are refused.
    let second = dir + "/upload-2.mp4"
    let other = try VideoWriter(
      path: second, width: 32, height: 16, frameRate: 25, encoding: .h264(crf: 23, preset: "medium"))
    for _ in 0..<5 {
      try other.append(
        rgb: RGBImage(width: 32, height: 16, pixels: [UInt8](repeating: 200, count: 32 * 16 * 3)), alpha: nil)
    }
    try other.finish()
    _ = try ClipIntake.add(.init(id: "street-02", source: second, tags: ["hands"]), to: dir + "/set")
    let twice = #expect(throws: ConfigError.self) {
      try ClipIntake.add(.init(id: "street-03", source: source), to: dir + "/set")
    }
    #expect(twice?.message.contains("is the same source as clip 'street-01'") == true)
    #expect(!FileManager.default.fileExists(atPath: dir + "/set/street-03"))
    #expect(try ClipSet.load(folder: dir + "/set").clips.map(\.id) == ["street-01", "street-02"])
    #expect(
      (#expect(throws: ConfigError.self) {
        try ClipIntake.add(.init(id: "street-01", source: source), to: dir + "/set")
      })?.field == "id")
    #expect(
      (#expect(throws: ConfigError.self) {
        try ClipIntake.add(.init(id: "x", source: source, tags: ["two words"]), to: dir + "/set")
      })?.field == "tags")
    try Data("not a video".utf8).write(to: URL(fileURLWithPath: dir + "/text.mp4"))
    let unreadable = #expect(throws: ConfigError.self) {
      try ClipIntake.add(.init(id: "y", source: dir + "/text.mp4"), to: dir + "/set")
    }
    #expect(unreadable?.field == "source" && unreadable?.file.hasSuffix("text.mp4") == true)
    #expect(try ClipSet.load(folder: dir + "/set").clips.count == 2)
    // A missing alpha is refused before anything is copied, naming the file and the field.
    let missing = #expect(throws: ConfigError.self) {
      try ClipIntake.add(.init(id: "z", source: source, alpha: dir + "/none.mkv"), to: dir + "/set")
    }
    #expect(missing?.field == "alpha" && missing?.description.contains("none.mkv") == true)
    #expect(!FileManager.default.fileExists(atPath: dir + "/set/z"))
  }
}
