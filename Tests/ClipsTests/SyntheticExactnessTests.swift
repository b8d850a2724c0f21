import Foundation
import MatteMetrics
import MediaIO
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

  /// Every kind of scene, with a static and with a panning camera: the files on disk hold
  /// exactly the renderer's alpha, foreground and plate, and every pre-encoding source pixel
  /// equals α·F + (1 − α)·B of the stored values (B the stored plate of that frame).
  @Test(arguments: SceneKind.allCases, [false, true])
  func sourcesAreComposedFromTheStoredGroundTruth(_ kind: SceneKind, panning: Bool) throws {
    let dir = try makeFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (w, h, frames, seed) = (64, 36, 3, UInt64(42))
    let plan = SynthPreset.clip("c", kind, crf: 18, frames: frames, pan: panning ? (0.25, 2) : nil)
    let written = try SyntheticClipSet.writeClip(plan, folder: dir, width: w, height: h, seed: seed)
    #expect(written.plate == (panning ? "plate.mkv" : "plate.png"))
    let pan = panning ? SceneScript.Pan(amplitude: 16, period: 2) : nil
    let script = SyntheticClipSet.script(kind: kind, width: w, height: h, seed: seed, pan: pan)
    let plates = try CleanPlate(path: dir + "/" + written.plate)
    #expect(plates.isSequence == panning)
    let renderer = SceneRenderer(width: w, height: h, supersample: 4, background: try plates.picture(at: 0))
    let alpha = try VideoReader(path: dir + "/alpha.mkv", options: ReadOptions(rgb: .none, alpha: .luma))
    let foreground = try MediaInput.open(dir + "/foreground", options: ReadOptions(rgb: .sixteen))
    let background = script.background()
    var mismatches = 0
    for f in 0..<frames {
      let plate = try plates.picture(at: f)
      // The stored plate is the camera's window onto the background, byte for byte.
      #expect(plate == script.plate(frame: f, background: background), "frame \(f): stored plate differs")
      let out = renderer.render(script.layers(frame: f, motionSamples: 8), plate: plate)
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
    if !kind.hasHair {
      #expect(written.warp.warpError < 0.5 * written.warp.zeroFlowError, "\(kind): \(written.warp)")
    }
  }

  /// A panning camera moves the whole background by whole pixels: where no shape is, the motion
  /// vector carries each plate pixel of frame t − 1 exactly onto the same texture in frame t.
  @Test func panningBackgroundVectorsCarryThePlate() throws {
    let (w, h) = (64, 36)
    let script = SyntheticClipSet.script(
      kind: .motion, width: w, height: h, seed: 5, pan: SceneScript.Pan(amplitude: 12, period: 3))
    let background = script.background()
    #expect(background.width == w + 12)
    for t in 1...5 {
      let field = motionField(
        from: script.layers(frame: t - 1, motionSamples: 1), to: script.layers(frame: t, motionSamples: 1),
        width: w, height: h, backgroundShift: script.backgroundShift(toFrame: t))
      let before = script.plate(frame: t - 1, background: background)
      let after = script.plate(frame: t, background: background)
      // offsets 0, 4, 8, 12, 8, 4: the picture moves left by 4, 4, 4, then right by 4, 4.
      #expect(script.backgroundShift(toFrame: t) == (t <= 3 ? -4 : 4))
      var checked = 0
      for y in 0..<h {
        for x in 0..<w {
          let k = y * w + x
          guard field.dy[k] == 0, field.dx[k] == script.backgroundShift(toFrame: t) else { continue }
          let x2 = x + Int(field.dx[k])
          guard x2 >= 0, x2 < w else { continue }
          #expect(
            Array(after.pixels[(3 * (y * w + x2))..<(3 * (y * w + x2) + 3)])
              == Array(before.pixels[(3 * k)..<(3 * k + 3)]))
          checked += 1
        }
      }
      #expect(checked > w * h / 2)
    }
  }

  /// The exact motion mask (code 32): on where alpha changed or foreground moves a pixel or more,
  /// grown by two pixels; never on frame 0.
  @Test func motionMaskMarksChangedAndMovingForeground() {
    let (w, h) = (9, 7)
    var codes = GrayImage(width: w, height: h, maxValue: 255, samples: [UInt16](repeating: 0, count: w * h))
    var before = [UInt16](repeating: 0, count: w * h)
    var after = before
    after[3 * w + 4] = 1000  // alpha changed at (4, 3)
    before[0] = 65535
    after[0] = 65535  // unchanged foreground at (0, 0), moving 1.5 px
    var dx = [Float](repeating: 0, count: w * h)
    dx[0] = 1.5
    let field = MotionField(width: w, height: h, dx: dx, dy: [Float](repeating: 0, count: w * h))
    SyntheticClipSet.markMotion(
      in: &codes, alpha: GrayImage(width: w, height: h, maxValue: 65535, samples: after),
      previous: GrayImage(width: w, height: h, maxValue: 65535, samples: before), field: field)
    var expected = [UInt16](repeating: 0, count: w * h)
    for y in 0..<h {
      for x in 0..<w where (abs(x - 4) <= 2 && abs(y - 3) <= 2) || (x <= 2 && y <= 2) {
        expected[y * w + x] = RegionMaskCodes.motion
      }
    }
    #expect(codes.samples == expected)
  }

  /// Hair is never glass (docs/metrics.md, mattegate-regions/2): in a mixed scene large enough
  /// for strands to cross the glass, no pixel of the mask carries both codes, and both regions
  /// are there.
  @Test func hairAndGlassNeverShareAPixel() {
    let (w, h) = (320, 180)
    let script = SyntheticClipSet.script(kind: .mixed, width: w, height: h, seed: 3)
    let renderer = SceneRenderer(width: w, height: h, supersample: 2, background: script.background())
    let codes = renderer.render(script.layers(frame: 0, motionSamples: 1), plate: nil).regionCodes.samples
    let (hair, glass) = (RegionMaskCodes.hair, RegionMaskCodes.glass)
    #expect(codes.contains { $0 & hair != 0 } && codes.contains { $0 & glass != 0 })
    #expect(codes.filter { $0 & hair != 0 && $0 & glass != 0 }.count == 0)
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
    _ = try SyntheticClipSet.writeClip(
      SynthPreset.clip("m", .motion, crf: 18, frames: 3), folder: dir, width: 48, height: 32, seed: 1)
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

/// Item 5 of the clip-set issue: what the standard preset holds, read from its plan (making it
/// takes minutes in a release build; `mattegate synth --preset standard` is timed in the notes).
@Suite struct StandardPresetTests {
  @Test func standardHoldsTwentyClipsPerRegionShortLongPanningAndEveryCRF() {
    let plan = SynthPreset.standard.plan()
    #expect(plan.width == 1920 && plan.height == 1080)
    for region in ["hair", "glass", "motion"] {
      let count = plan.clips.filter { $0.tags.contains(region) }.count
      #expect(count >= 20, "\(region): \(count) clips")
    }
    let rate = SyntheticClipSet.frameRate
    let short = plan.clips.filter { $0.tags.contains("short") }
    let long = plan.clips.filter { $0.tags.contains("long") }
    #expect(short.allSatisfy { $0.frames >= 2 * rate && $0.frames <= 3 * rate })
    #expect(long.count >= 2 && long.allSatisfy { $0.frames >= 20 * rate })
    #expect(plan.clips.filter { $0.tags.contains("difficult") }.count >= 20)
    #expect(Set(plan.clips.map(\.crf)) == [18, 23, 28])
    #expect(plan.clips.allSatisfy { $0.tags.contains("crf\($0.crf)") })
    #expect(plan.clips.contains { $0.pan != nil && $0.tags.contains("panning") })
    #expect(plan.clips.allSatisfy { ($0.pan == nil) == $0.tags.contains("static") })
    #expect(Set(plan.clips.map(\.id)).count == plan.clips.count)
    // Every tag is one the manifest accepts.
    #expect(plan.clips.allSatisfy { $0.tags.allSatisfy { ClipSet.isKnownTag($0) } })
  }
}
