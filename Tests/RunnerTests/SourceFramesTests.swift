import Foundation
import MediaIO
import TestSupport
import Testing

@testable import Runner

/// The review crops' source pictures, read in one pass over the source.
@Suite struct SourceFramesTests {
  /// Ten 32×16 frames at `fps`, frame k a pattern that moves with k (lossless H.264).
  static func patternSource(in dir: String, fps: Double) throws -> String {
    let path = dir + "/source-\(Int(fps)).mp4"
    let writer = try VideoWriter(
      path: path, width: 32, height: 16, frameRate: fps, encoding: .h264(crf: 0, preset: "medium"))
    for k in 0..<10 {
      let pixels = (0..<(32 * 16 * 3)).map { UInt8(truncatingIfNeeded: $0 * 7 + 20 * k) }
      try writer.append(rgb: RGBImage(width: 32, height: 16, pixels: pixels), alpha: nil)
    }
    try writer.finish()
    return path
  }

  /// A reader that resamples (here to 16×8) and keeps its last frame gives that frame at full
  /// size exactly as a reader opened at full size gives it; without `keepsLastFrame`, nothing.
  @Test func aKeptFrameIsTheFullSizePicture() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = try Self.patternSource(in: dir, fps: 25)
    let small = try VideoReader(
      path: path, options: ReadOptions(rgb: .eight, targetSize: PixelSize(width: 16, height: 8), decoderThreads: 1))
    small.keepsLastFrame = true
    let full = try VideoReader(path: path, options: ReadOptions(rgb: .eight, decoderThreads: 1))
    #expect(try small.lastFrame() == nil)
    var frames = 0
    while let f = try small.nextFrame() {
      let want = try #require(try full.nextFrame())
      #expect(f.rgb?.width == 16 && f.rgb?.height == 8)
      let kept = try #require(try small.lastFrame())
      #expect(kept.index == want.index && kept.time == want.time)
      #expect(kept.rgb?.width == 32 && kept.rgb?.height == 16)
      #expect(kept.rgb?.pixels == want.rgb?.pixels, "frame \(f.index)")
      frames += 1
    }
    #expect(frames == 10)
    let plain = try VideoReader(
      path: path, options: ReadOptions(rgb: .eight, targetSize: PixelSize(width: 16, height: 8), decoderThreads: 1))
    _ = try plain.nextFrame()
    #expect(try plain.lastFrame() == nil)
  }

  /// The preview's decode of the source gives the review images the picture their own pass
  /// would: at each appended frame's time, the same pixels as `sourceFrames`; nothing at a time
  /// the source has no picture for, and nothing when the source runs at another frame rate
  /// (the two would then pick within different half frames).
  @Test func thePreviewsSourcePictureIsTheReviewPassPicture() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = try Self.patternSource(in: dir, fps: 25)
    let size = PixelSize(width: 32, height: 16)
    let recorder = PreviewRecorder(folder: dir, sourcePath: path, truthSize: size, fps: 25, orderKey: "k")
    let gray = GrayImage(width: 32, height: 16, maxValue: 65535, samples: [UInt16](repeating: 30000, count: 32 * 16))
    let times = (0..<10).map { Double($0) / 25 }
    let review = try ClipScorer.sourceFrames(path: path, times: times)
    for (k, time) in times.enumerated() {
      recorder.append(index: k, time: time, truth: gray, a: .alpha(gray), b: .alpha(gray))
      let got = try #require(recorder.fullSizeSource(at: time), "frame \(k)")
      #expect(got.pixels == review[time]?.pixels, "frame \(k)")
      // Asked at another time than the frame appended: not that frame's picture.
      #expect(recorder.fullSizeSource(at: time + 0.5) == nil)
    }
    // Past the source's end the preview repeats its last picture; the review images get none.
    recorder.append(index: 10, time: 0.4, truth: gray, a: .alpha(gray), b: .alpha(gray))
    #expect(recorder.fullSizeSource(at: 0.4) == nil)
    #expect(recorder.finish() == nil)

    let other = try Self.patternSource(in: dir, fps: 50)
    let mismatched = PreviewRecorder(
      folder: dir + "/other", sourcePath: other, truthSize: size, fps: 25, orderKey: "k")
    mismatched.append(index: 0, time: 0, truth: gray, a: .alpha(gray), b: .alpha(gray))
    #expect(mismatched.fullSizeSource(at: 0) == nil)
  }

  /// Ten 16×8 frames at 25 fps, frame k a flat gray of 20·k + 10 (lossless H.264, with the
  /// encoder's own reference structure): each asked time gives the frame presented at it, within
  /// half a frame, whatever the order asked; times within one frame share it; past the end, none.
  @Test func eachTimeGetsItsFrameInOnePass() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/source.mp4"
    let writer = try VideoWriter(
      path: path, width: 16, height: 8, frameRate: 25, encoding: .h264(crf: 0, preset: "medium"))
    for k in 0..<10 {
      try writer.append(
        rgb: RGBImage(width: 16, height: 8, pixels: [UInt8](repeating: UInt8(20 * k + 10), count: 16 * 8 * 3)),
        alpha: nil)
    }
    try writer.finish()
    let times = [0.36, 0.04, 0.36, 0.21, 0.2, 0.12, 5.0]
    let got = try ClipScorer.sourceFrames(path: path, times: times)
    // Frame k is presented at k/25 s: 0.36 → 9, 0.04 → 1, 0.21 and 0.2 → 5, 0.12 → 3.
    let want: [Double: Int] = [0.36: 9, 0.04: 1, 0.21: 5, 0.2: 5, 0.12: 3]
    #expect(Set(got.keys) == Set(want.keys))
    for (time, k) in want {
      let pixels = try #require(got[time]).pixels
      // Lossless H.264 in 4:2:0 of a flat picture: every sample is the frame's gray, ±1 for
      // the RGB → YUV → RGB round trip.
      #expect(pixels.allSatisfy { abs(Int($0) - (20 * k + 10)) <= 1 }, "time \(time): \(pixels.prefix(3))")
    }
  }
}
