import Clips
import Foundation
import MediaIO
import Services
import TestSupport
import Testing

@testable import Runner

/// Scoring a clip for real: ground truth from the synthetic generator, outputs made from it with
/// the project's writer and then damaged with the ffmpeg CLI.
@Suite(.serialized) struct ClipScorerAlignmentTests {
  /// A tiny clip set, one output per arm that is exactly the ground truth (VP9 with alpha),
  /// and two configs.
  func fixture() throws -> (set: ClipSet, clip: Clip, exact: String, dir: String) {
    let dir = try temporaryFolder()
    let set = try SyntheticClipSet.generate(preset: .smoke, folder: dir + "/set", size: (64, 36), frames: 8)
    let clip = set.clips[0]
    let truth = try VideoReader(path: set.path(of: clip.alpha!), options: ReadOptions(rgb: .none, alpha: .luma))
    let exact = dir + "/exact.webm"
    let writer = try VideoWriter(
      path: exact, width: 64, height: 36, frameRate: Int(truth.frameRate.rounded()), encoding: .vp9Alpha(crf: 10))
    while let f = try truth.nextFrame() {
      let a = f.alpha!
      try writer.append(
        rgb: RGBImage(width: 64, height: 36),
        alpha: GrayImage(width: 64, height: 36, maxValue: 255, samples: a.eightBit().map { UInt16($0) }))
    }
    try writer.finish()
    return (set, clip, exact, dir)
  }

  func config(_ dir: String, _ extra: String = "") throws -> ArmConfig {
    let path = dir + "/\(UUID().uuidString).yaml"
    try "name: x\nmodel: soft-keyer\n\(extra)".write(toFile: path, atomically: true, encoding: .utf8)
    return try ArmConfig.load(path)
  }

  @Test func aDroppedFrameMakesTheClipInconclusiveWithItsCounts() throws {
    let (set, clip, exact, dir) = try fixture()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let dropped = dir + "/dropped.webm"
    try FFmpegCLI.run([
      "-c:v", "libvpx-vp9", "-i", exact, "-vf", "select=not(eq(n\\,3))", "-fps_mode", "passthrough", "-c:v",
      "libvpx-vp9", "-pix_fmt", "yuva420p", dropped,
    ])
    let c = try config(dir)
    let score = try ClipScorer.score(
      clip: clip, in: set, outputA: exact, outputB: dropped, configA: c, configB: c, alignment: AlignmentPolicy())
    let a = try #require(score.alignment["A"])
    let b = try #require(score.alignment["B"])
    #expect(a.matched == 8 && a.dropped == 0 && a.duplicated == 0 && a.maxOffset < 1e-6)
    #expect(b.matched == 7 && b.dropped == 1 && b.referenceFrames == 8 && b.outputFrames == 7)
    // 1 of 8 frames dropped is beyond 5%: not scored, and the reason names the arm and the file.
    let reason = try #require(score.misalignment)
    #expect(reason.contains("arm B (\(dropped))") && reason.contains("1 of 8 reference frames"))
    // Paired frames only: the dropped frame is left out of both arms.
    #expect(score.frames == 7)
    // A looser policy scores the same clip.
    let loose = try ClipScorer.score(
      clip: clip, in: set, outputA: exact, outputB: dropped, configA: c, configB: c,
      alignment: AlignmentPolicy(maxDroppedFraction: 0.2))
    #expect(loose.misalignment == nil && loose.frames == 7)
  }

  @Test func aSmallerOutputIsAnErrorNamingBothSizesUnlessScalingIsAllowed() throws {
    let (set, clip, exact, dir) = try fixture()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let small = dir + "/small.webm"
    try FFmpegCLI.run([
      "-c:v", "libvpx-vp9", "-i", exact, "-vf", "scale=32:18", "-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p", small,
    ])
    let strict = try config(dir)
    let error = #expect(throws: MediaError.self) {
      _ = try ClipScorer.score(
        clip: clip, in: set, outputA: exact, outputB: small, configA: strict, configB: strict,
        alignment: AlignmentPolicy())
    }
    #expect(error?.path == small)
    #expect(error?.reason.contains("arm B output") == true)
    #expect(error?.reason.contains("is 32x18 but the source is 64x36") == true)
    let scaling = try config(dir, "allow_scaling: true\n")
    let score = try ClipScorer.score(
      clip: clip, in: set, outputA: exact, outputB: small, configA: strict, configB: scaling,
      alignment: AlignmentPolicy())
    #expect(score.misalignment == nil && score.frames == 8)
  }

  @Test func regionMasksOfAnotherSizeAreAnErrorNamingTheFileAndBothSizes() throws {
    let (set, clip, exact, dir) = try fixture()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let masks = set.path(of: try #require(clip.regionMasks))
    let small = dir + "/small-masks.mkv"
    try FFmpegCLI.run(["-i", masks, "-vf", "scale=32:18:flags=neighbor", "-c:v", "ffv1", small])
    try FileManager.default.removeItem(atPath: masks)
    try FileManager.default.moveItem(atPath: small, toPath: masks)
    let c = try config(dir)
    let error = #expect(throws: ClipScoringError.self) {
      _ = try ClipScorer.score(
        clip: clip, in: set, outputA: exact, outputB: exact, configA: c, configB: c, alignment: AlignmentPolicy())
    }
    #expect(error?.description == "\(masks): region masks are 32x18 but ground truth is 64x36")
  }
}
