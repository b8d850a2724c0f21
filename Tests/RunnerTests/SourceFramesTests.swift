import Foundation
import MediaIO
import TestSupport
import Testing

@testable import Runner

/// The review crops' source pictures, read in one pass over the source.
@Suite struct SourceFramesTests {
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
