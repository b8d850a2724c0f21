import Clips
import Engine
import Foundation
import MediaIO
import TestSupport
import Testing

/// A panning camera's clean plate is a video with the plate of every frame, and the embedded
/// engine keys each frame against its own plate.
@Suite(.serialized) struct PanningPlateTests {
  @Test func theEngineKeysEachFrameAgainstItsOwnPlate() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let set = try SyntheticClipSet.generate(preset: .smoke, folder: dir + "/set", size: (64, 36), frames: 6)
    let clip = try #require(set.clips.first { $0.tags.contains("panning") })
    let platePath = set.path(of: try #require(clip.cleanPlate))
    #expect(platePath.hasSuffix("plate.mkv"))
    let settings = EngineSettings(model: .thresholdKeyer)
    // The plate video, against its first picture used for every frame (a wrong, static plate).
    let firstPicture = dir + "/first.png"
    try PNGFile.write(try CleanPlate(path: platePath).picture(at: 0), to: firstPicture)
    var falseForeground: [String: Int] = [:]
    for (name, plate) in [("video", platePath), ("first", firstPicture)] {
      let out = dir + "/\(name).webm"
      let result = try EmbeddedEngine.removeBackground(
        sourcePath: set.path(of: clip.source), cleanPlatePath: plate, settings: settings, outputPath: out)
      #expect(result.frames == 6 && !result.estimatedPlate)
      let output = try VideoReader(path: out, options: ReadOptions(rgb: .none, alpha: .alphaChannel))
      let truth = try VideoReader(
        path: set.path(of: try #require(clip.alpha)), options: ReadOptions(rgb: .none, alpha: .luma))
      var count = 0
      // Frames 1…5, where the camera has moved: pixels with no foreground keyed as foreground.
      var index = 0
      while let o = try output.nextFrame(), let g = try truth.nextFrame() {
        defer { index += 1 }
        guard index > 0, let oa = o.alpha, let ga = g.alpha else { continue }
        for k in ga.samples.indices where ga.samples[k] == 0 && oa.samples[k] > oa.maxValue / 2 { count += 1 }
      }
      falseForeground[name] = count
    }
    let video = try #require(falseForeground["video"])
    let first = try #require(falseForeground["first"])
    #expect(
      video * 10 < first, "background keyed as foreground: \(video) with the plate video, \(first) with frame 0's plate"
    )
  }
}
