import Dispatch
import Foundation
import MatteMetrics
import MediaIO
import Synchronization

/// The synthetic clip-set presets `mattegate synth` makes.
public enum SynthPreset: String, Sendable, CaseIterable {
  /// Three tiny clips (hair, glass with a panning camera, motion), 320×180, 1 s: for tests and
  /// quick checks.
  case smoke
  /// Eight clips at 640×360 combining hair, glass and motion (one with a panning camera): what
  /// `scripts/demo` runs.
  case demo
  /// The full set at 1920×1080: 20 short clips combining hair, glass and motion, one short clip
  /// of each alone, and two long clips of 20 s; static and panning cameras; CRF 18, 23 and 28.
  case standard

  /// One clip of a plan.
  struct ClipPlan {
    var id: String
    var kind: SceneKind
    var tags: [String]
    var crf: Int
    /// Frames at 25 fps.
    var frames: Int
    /// A panning camera: the pan's extent as a fraction of the frame width, and the frames it
    /// takes from one end to the other.
    var pan: (fraction: Double, period: Int)?
    /// Hair strands per 360 rows of frame height.
    var strandDensity: Int = 300
  }

  struct Plan {
    var width: Int
    var height: Int
    var clips: [ClipPlan]
  }

  /// The tags a clip of `kind` carries, before its length, camera and CRF tags.
  static func contentTags(_ kind: SceneKind) -> [String] {
    switch kind {
    case .hair: ["hair"]
    case .glass: ["glass", "hands"]
    case .motion: ["motion", "fast-turn"]
    case .mixed: ["hair", "glass", "motion", "fast-turn", "hands", "difficult"]
    case .glassAndMotion: ["glass", "hands", "motion", "fast-turn", "difficult"]
    }
  }

  static func clip(
    _ id: String, _ kind: SceneKind, crf: Int, frames: Int, long: Bool = false,
    pan: (fraction: Double, period: Int)? = nil, strandDensity: Int = 300
  ) -> ClipPlan {
    let tags = contentTags(kind) + [long ? "long" : "short", pan == nil ? "static" : "panning", "crf\(crf)"]
    return ClipPlan(
      id: id, kind: kind, tags: tags, crf: crf, frames: frames, pan: pan, strandDensity: strandDensity)
  }

  func plan() -> Plan {
    let crfs = [18, 23, 28]
    switch self {
    case .smoke:
      return Plan(
        width: 320, height: 180,
        clips: [
          Self.clip("hair-sway", .hair, crf: 18, frames: 25),
          Self.clip("glass-slide", .glass, crf: 18, frames: 25, pan: (0.25, 12)),
          Self.clip("motion-blur", .motion, crf: 18, frames: 25),
        ])
    case .demo:
      return Plan(
        width: 640, height: 360,
        clips: (0..<8).map { i in
          Self.clip(
            String(format: "mixed-%02d", i + 1), .mixed, crf: crfs[i % 3], frames: 30, pan: i == 7 ? (0.2, 30) : nil)
        })
    case .standard:
      // Short clips of 2 s; every fourth one pans. Hair density varies so that thin and thick
      // hair are both represented (and the set is made in minutes, not hours).
      var clips: [ClipPlan] = (0..<20).map { i in
        Self.clip(
          String(format: "mixed-%02d", i + 1), .mixed, crf: crfs[i % 3], frames: 50,
          pan: i % 4 == 3 ? (0.25, 50) : nil, strandDensity: [300, 200, 150][i % 3])
      }
      // One short clip of each region alone; the motion one pans.
      for (k, kind) in [SceneKind.hair, .glass, .motion].enumerated() {
        clips.append(
          Self.clip("\(kind.rawValue)-1", kind, crf: crfs[k], frames: 50, pan: kind == .motion ? (0.25, 50) : nil))
      }
      // Long clips of 20 s: one difficult clip with a static camera, one panning over glass and
      // fast motion.
      clips.append(Self.clip("long-mixed", .mixed, crf: 23, frames: 500, long: true, strandDensity: 100))
      clips.append(Self.clip("long-pan", .glassAndMotion, crf: 28, frames: 500, long: true, pan: (0.3, 125)))
      return Plan(width: 1920, height: 1080, clips: clips)
    }
  }
}

/// Writes a synthetic clip set with exact ground truth.
public enum SyntheticClipSet {
  public static let frameRate = 25

  /// Generates `preset` into `folder` (created if needed) and returns the loaded, verified set.
  ///
  /// - Parameters:
  ///   - seed: the same seed gives byte-identical ground truth.
  ///   - size: overrides the preset's frame size (even numbers), for tests and quick checks.
  ///   - frames: overrides the preset's frame count.
  ///   - progress: called with each clip id as it is written, then with a line on how well its
  ///     motion vectors carry the ground-truth alpha of frame t − 1 onto frame t.
  /// Largest synthetic frame area: 8K UHD (7680×4320). The renderer holds a few float planes
  /// per frame, so this bounds synth's memory well below what a frame at the reader's limit would take.
  public static let maxPixels = 7680 * 4320

  /// Why a synthetic frame size is refused, or `nil`.
  public static func sizeProblem(width: Int, height: Int) -> String? {
    if width < 16 || height < 16 || width % 2 != 0 || height % 2 != 0 {
      return "frame size \(width)x\(height) must be even and at least 16x16"
    }
    if width > InputLimits.maxSide || height > InputLimits.maxSide || width * height > maxPixels {
      return
        "frame size \(width)x\(height) is beyond synth's limit of \(maxPixels) pixels (7680x4320) and \(InputLimits.maxSide) per side"
    }
    return nil
  }

  public static func generate(
    preset: SynthPreset, folder: String, seed: UInt64 = 1, size: (Int, Int)? = nil,
    frames: Int? = nil, progress: @Sendable (String) -> Void = { _ in }
  ) throws -> ClipSet {
    var plan = preset.plan()
    if let size {
      if let problem = Self.sizeProblem(width: size.0, height: size.1) {
        throw ConfigError(file: folder, field: "size", message: problem)
      }
      plan.width = size.0
      plan.height = size.1
    }
    if let frames {
      guard frames >= 2 else { throw ConfigError(file: folder, field: "frames", message: "need at least 2 frames") }
      guard frames <= InputLimits.maxFrames else {
        throw ConfigError(
          file: folder, field: "frames", message: "\(frames) frames is more than the limit of \(InputLimits.maxFrames)")
      }
      for i in plan.clips.indices { plan.clips[i].frames = frames }
    }
    for clip in plan.clips {
      if let problem = ClipID.problem(clip.id) {
        throw ConfigError(file: folder, clip: clip.id, field: "id", message: problem)
      }
    }
    try OutputFolder.create(folder)
    let lengths = Set(plan.clips.map(\.frames)).sorted().map(String.init).joined(separator: ", ")
    var yaml = """
      # Generated by `mattegate synth --preset \(preset.rawValue) --seed \(seed)`: \(plan.width)x\(plan.height), \
      \(lengths) frames at \(frameRate) fps.
      # Sources are H.264 at the stated CRF, composed before encoding from exactly the stored alpha
      # (16-bit FFV1), foreground (16-bit PNG per frame) and clean plate (a PNG for a static camera,
      # FFV1 RGB with a picture per frame for a panning one); region masks are 8-bit FFV1 with
      # code 32 = motion, 64 = hair and 128 = glass; motion.zip holds <t>.npy (H×W×2 float32, dx,
      # dy, forward t−1→t); backgrounds/ has one picture per aspect class (exact, close, large).
      name: \(preset.rawValue)
      version: 1
      description: synthetic \(preset.rawValue) clip set, seed \(seed)
      clips:

      """
    // Clips are independent: write and pin them on every core, the longest first so that no core
    // is left with a long clip at the end; the manifest lists them in plan order.
    let clips = plan.clips
    let order = clips.indices.sorted { clips[$0].frames > clips[$1].frames }
    let failures = Mutex<[Int: any Error]>([:])
    let entries = Mutex<[Int: String]>([:])
    let (w, h) = (plan.width, plan.height)
    DispatchQueue.concurrentPerform(iterations: clips.count) { position in
      let index = order[position]
      let clip = clips[index]
      progress(clip.id)
      let dir = folder + "/" + clip.id
      do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let written = try writeClip(
          clip, folder: dir, width: w, height: h, seed: seed &* 1000 &+ UInt64(index))
        progress(
          "\(clip.id): motion vectors carry alpha t−1 onto t with mean |error| "
            + "\(String(format: "%.5f", written.warp.warpError))"
            + " (zero flow: \(String(format: "%.5f", written.warp.zeroFlowError)))")
        func pin(_ name: String) throws -> String {
          "{path: \(clip.id)/\(name), sha256: \(try ClipSet.contentHash(of: dir + "/" + name))}"
        }
        let entry = """
            - id: \(clip.id)
              tags: [\(clip.tags.joined(separator: ", "))]
              source: \(clip.id)/source.mp4
              sha256: \(try FileHash.sha256(ofFile: dir + "/source.mp4"))
              crf: \(clip.crf)
              duration: \(String(format: "%.2f", Double(clip.frames) / Double(frameRate)))
              size: \(w)x\(h)
              alpha: \(try pin("alpha.mkv"))
              region_masks: \(try pin("regions.mkv"))
              clean_plate: \(try pin(written.plate))
              foreground: \(try pin("foreground"))
              motion: \(try pin("motion.zip"))
              backgrounds:
                exact: \(try pin("backgrounds/exact.png"))
                close: \(try pin("backgrounds/close.png"))
                large: \(try pin("backgrounds/large.png"))

          """
        entries.withLock { $0[index] = entry }
      } catch {
        failures.withLock { $0[index] = error }
      }
    }
    if let first = failures.withLock({ $0.sorted { $0.key < $1.key }.first }) { throw first.value }
    let written = entries.withLock { $0 }
    for index in clips.indices { yaml += written[index]! }
    try yaml.write(toFile: folder + "/" + ClipSet.manifestName, atomically: true, encoding: .utf8)
    // Every file was hashed a moment ago, as it was pinned; the load checks everything else.
    return try ClipSet.load(folder: folder, verifyHashes: false)
  }

  /// How well a clip's motion vectors carry its ground-truth alpha from frame t − 1 onto t: mean
  /// |α_t(x + v(x)) − α_{t−1}(x)| (α_t sampled bilinearly) over the pixels where α_{t−1} > 0,
  /// next to the same with zero flow.
  public struct WarpReport: Sendable {
    public var warpError: Double
    public var zeroFlowError: Double
  }

  /// The scene script a clip of `kind` is drawn from.
  static func script(
    kind: SceneKind, width: Int, height: Int, seed: UInt64, strandDensity: Int = 300,
    pan: SceneScript.Pan? = nil
  ) -> SceneScript {
    let strandCount = max(60, strandDensity * height / 360)
    return SceneScript(
      kind: kind, width: width, height: height, seed: seed, strandCount: kind.hasHair ? strandCount : 0, pan: pan)
  }

  /// What `writeClip` wrote besides the fixed file names.
  struct WrittenClip {
    var warp: WarpReport
    /// `plate.png` (static camera) or `plate.mkv` (panning camera).
    var plate: String
  }

  static func writeClip(
    _ clip: SynthPreset.ClipPlan, folder: String, width: Int, height: Int, seed: UInt64
  ) throws -> WrittenClip {
    let pan = clip.pan.map { SceneScript.Pan(amplitude: max(2, Int($0.fraction * Double(width))), period: $0.period) }
    let script = script(
      kind: clip.kind, width: width, height: height, seed: seed, strandDensity: clip.strandDensity, pan: pan)
    let background = script.background()
    let plateName = pan == nil ? "plate.png" : "plate.mkv"
    let plateVideo =
      pan == nil
      ? nil
      : try VideoWriter(
        path: folder + "/plate.mkv", width: width, height: height, frameRate: frameRate, encoding: .ffv1RGB)
    if pan == nil { try PNGFile.write(background, to: folder + "/plate.png", compression: .fast) }
    let fm = FileManager.default
    try fm.createDirectory(atPath: folder + "/backgrounds", withIntermediateDirectories: true)
    for (aspect, picture) in script.backgroundPictures() {
      try PNGFile.write(picture, to: folder + "/backgrounds/\(aspect).png", compression: .fast)
    }
    try fm.createDirectory(atPath: folder + "/foreground", withIntermediateDirectories: true)
    let renderer = SceneRenderer(
      width: width, height: height, supersample: 4, background: script.plate(frame: 0, background: background))
    let (frames, crf) = (clip.frames, clip.crf)
    let source = try VideoWriter(
      path: folder + "/source.mp4", width: width, height: height, frameRate: frameRate,
      encoding: .h264(crf: crf, preset: "medium"))
    let alpha = try VideoWriter(
      path: folder + "/alpha.mkv", width: width, height: height, frameRate: frameRate, encoding: .ffv1Gray16)
    let regions = try VideoWriter(
      path: folder + "/regions.mkv", width: width, height: height, frameRate: frameRate, encoding: .ffv1Gray8)
    // Motion vectors t−1 → t, one .npy per frame t ≥ 1, deflated in a ZIP (mostly zeros).
    let motion = try ZipWriter(path: folder + "/motion.zip")
    var previousLayers: [Layer]?
    var previousAlpha: GrayImage?
    var warp = (sum: 0.0, zero: 0.0, pixels: 0)
    for f in 0..<frames {
      let layers = script.layers(frame: f, motionSamples: 8)
      let plate = pan == nil ? nil : script.plate(frame: f, background: background)
      if let plateVideo, let plate { try plateVideo.append(rgb: plate, alpha: nil) }
      var out = renderer.render(layers, plate: plate)
      try source.append(rgb: out.rgb, alpha: nil)
      try alpha.append(rgb: nil, alpha: out.alpha16)
      try PNGFile.write(
        out.foreground16, to: folder + String(format: "/foreground/%05d.png", f), compression: .fast)
      if let previousLayers, let previousAlpha {
        let field = motionField(
          from: previousLayers, to: layers, width: width, height: height,
          backgroundShift: script.backgroundShift(toFrame: f))
        markMotion(in: &out.regionCodes, alpha: out.alpha16, previous: previousAlpha, field: field)
        try motion.add("\(f).npy", data: field.npyData())
        let e = warpError(field, before: previousAlpha, after: out.alpha16)
        warp.sum += e.sum
        warp.zero += e.zero
        warp.pixels += e.pixels
      }
      try regions.append(rgb: nil, alpha: out.regionCodes)
      previousLayers = layers
      previousAlpha = out.alpha16
    }
    try source.finish()
    try alpha.finish()
    try regions.finish()
    try motion.finish()
    try plateVideo?.finish()
    let n = Double(max(warp.pixels, 1))
    return WrittenClip(warp: WarpReport(warpError: warp.sum / n, zeroFlowError: warp.zero / n), plate: plateName)
  }

  /// Pixels the exact motion mask grows by (a square of this radius), as the derived motion
  /// region does (`RegionDeriver.motionRadius`).
  static let motionMaskRadius = 2

  /// Adds the motion code to frame t's masks: pixels whose exact alpha changed since t − 1, or
  /// that hold foreground (α > 0) moving at least one pixel, grown by `motionMaskRadius`.
  static func markMotion(in codes: inout GrayImage, alpha: GrayImage, previous: GrayImage, field: MotionField) {
    let (w, h) = (alpha.width, alpha.height)
    var seed = [Bool](repeating: false, count: w * h)
    for k in 0..<(w * h) {
      let moving = alpha.samples[k] > 0 && field.dx[k] * field.dx[k] + field.dy[k] * field.dy[k] >= 1
      seed[k] = alpha.samples[k] != previous.samples[k] || moving
    }
    let grown = Morphology.dilate(seed, width: w, height: h, radius: motionMaskRadius)
    for k in grown.indices where grown[k] { codes.samples[k] |= RegionMaskCodes.motion }
  }

  /// Σ |α_t(x + v) − α_{t−1}(x)| with α_t sampled bilinearly at x + v (clamped), the same with
  /// v = 0, and the pixels counted: those with content to carry (α_{t−1} > 0); values in [0, 1].
  static func warpError(_ field: MotionField, before: GrayImage, after: GrayImage) -> (
    sum: Double, zero: Double, pixels: Int
  ) {
    let (w, h) = (field.width, field.height)
    let scale = 1 / Double(after.maxValue)
    func at(_ x: Int, _ y: Int) -> Double { Double(after.samples[y * w + x]) * scale }
    var sum = 0.0
    var zero = 0.0
    var pixels = 0
    for y in 0..<h {
      for x in 0..<w {
        let k = y * w + x
        guard before.samples[k] > 0 else { continue }
        let u = min(max(Double(x) + Double(field.dx[k]), 0), Double(w - 1))
        let v = min(max(Double(y) + Double(field.dy[k]), 0), Double(h - 1))
        let x0 = Int(u)
        let y0 = Int(v)
        let x1 = min(x0 + 1, w - 1)
        let y1 = min(y0 + 1, h - 1)
        let fx = u - Double(x0)
        let fy = v - Double(y0)
        let warped =
          (at(x0, y0) * (1 - fx) + at(x1, y0) * fx) * (1 - fy) + (at(x0, y1) * (1 - fx) + at(x1, y1) * fx) * fy
        let a = Double(before.samples[k]) * scale
        sum += abs(warped - a)
        zero += abs(at(x, y) - a)
        pixels += 1
      }
    }
    return (sum, zero, pixels)
  }
}
