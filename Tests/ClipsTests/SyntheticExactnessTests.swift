import Foundation
import MediaIO
import Metrics
import Testing

@testable import Clips

/// Item 4 of the clip-set issue: the sources are composed exactly from the stored ground truth,
/// and the motion vectors carry the alpha of frame t − 1 onto frame t.
@Suite(.serialized) struct SyntheticExactnessTests {
  @Test func composeRoundsTheExactValue() {
    // 255·I = (a·f·255 + (65535 − a)·b·65535) / 65535², rounded half up.
    #expect(SceneRenderer.compose(a: 65535, f: 65535, b: 0) == 255)
    #expect(SceneRenderer.compose(a: 0, f: 65535, b: 77) == 77)
    // a = 32768, f = 0, b = 255: 255·(32767/65535) = 127.498… → 127.
    #expect(SceneRenderer.compose(a: 32768, f: 0, b: 255) == 127)
    // a = 32767, f = 0, b = 255: 255·(32768/65535) = 127.502… → 128.
    #expect(SceneRenderer.compose(a: 32767, f: 0, b: 255) == 128)
  }

  /// Every kind of scene: the files on disk hold exactly the renderer's alpha and foreground,
  /// and every pre-encoding source pixel equals α·F + (1 − α)·B of the stored values.
  @Test(arguments: SceneKind.allCases)
  func sourcesAreComposedFromTheStoredGroundTruth(_ kind: SceneKind) throws {
    let dir = try makeFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (w, h, frames, seed) = (64, 36, 3, UInt64(42))
    let warp = try SyntheticClipSet.writeClip(
      kind: kind, folder: dir, width: w, height: h, frames: frames, seed: seed, crf: 18)
    let script = SyntheticClipSet.script(kind: kind, width: w, height: h, seed: seed)
    let plate = try PNGFile.readRGB(dir + "/plate.png")
    let renderer = SceneRenderer(width: w, height: h, supersample: 4, background: plate)
    let alpha = try VideoReader(path: dir + "/alpha.mkv", options: ReadOptions(rgb: .none, alpha: .luma))
    let foreground = try MediaInput.open(dir + "/foreground", options: ReadOptions(rgb: .sixteen))
    var mismatches = 0
    for f in 0..<frames {
      let out = renderer.render(script.layers(frame: f, motionSamples: 8))
      let a = try #require(try alpha.nextFrame()?.alpha)
      let fg = try #require(try foreground.nextFrame()?.rgb16)
      #expect(a.samples == out.alpha16.samples, "frame \(f): stored alpha differs from the rendered one")
      #expect(fg.samples == out.foreground16.samples, "frame \(f): stored foreground differs")
      for k in 0..<(w * h) {
        for c in 0..<3 {
          let composed = SceneRenderer.compose(a: a.samples[k], f: fg.samples[3 * k + c], b: plate.pixels[3 * k + c])
          if composed != out.rgb.pixels[3 * k + c] { mismatches += 1 }
        }
      }
    }
    #expect(mismatches == 0)
    // Motion vectors: warping beats zero flow by far where shapes are wider than a pixel (hair
    // strands, in hair and mixed scenes, are sub-pixel at this size; see hairMotionAtALargerSize).
    if kind == .glass || kind == .motion {
      #expect(warp.warpError < 0.5 * warp.zeroFlowError, "\(kind): \(warp)")
    }
  }

  @Test func hairMotionAtALargerSize() throws {
    // 320×180: strands about half a pixel wide, the head moving under a pixel per frame.
    let (w, h) = (320, 180)
    let script = SyntheticClipSet.script(kind: .hair, width: w, height: h, seed: 3)
    let renderer = SceneRenderer(width: w, height: h, supersample: 2, background: script.background())
    let l0 = script.layers(frame: 0, motionSamples: 1)
    let l1 = script.layers(frame: 1, motionSamples: 1)
    let field = motionField(from: l0, to: l1, width: w, height: h)
    let e = SyntheticClipSet.warpError(field, before: renderer.render(l0).alpha16, after: renderer.render(l1).alpha16)
    #expect(e.sum < 0.9 * e.zero, "warp \(e.sum / Double(e.pixels)), zero flow \(e.zero / Double(e.pixels))")
  }

  @Test func motionVectorsAreReadableAsScoreReadsThem() throws {
    let dir = try makeFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try SyntheticClipSet.writeClip(kind: .motion, folder: dir, width: 48, height: 32, frames: 3, seed: 1, crf: 18)
    let zip = try SafeZip(path: dir + "/motion.zip")
    #expect(zip.members.map(\.path).sorted() == ["1.npy", "2.npy"])
    let field = try MotionField(npy: [UInt8](try zip.read("1.npy")), width: 48, height: 32)
    // The disc moves horizontally: some pixels move, and the background does not.
    #expect(field.dx.contains { abs($0) > 1 } && field.dx.contains { $0 == 0 })
    // Round trip through the writer.
    let again = try MotionField(npy: [UInt8](field.npyData()), width: 48, height: 32)
    #expect(again == field)
  }
}
