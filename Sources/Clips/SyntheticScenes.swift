import Foundation
import MatteMetrics
import MediaIO

/// What a synthetic clip shows.
public enum SceneKind: String, Sendable, CaseIterable {
  /// A head and shoulders with hundreds of thin swaying hair strands.
  case hair
  /// A semi-transparent glass body with a highlight, held by fingers with thin gaps, moving.
  case glass
  /// A disc moving fast and a bar turning fast, with exact motion blur.
  case motion
  /// All of the above in one clip.
  case mixed
  /// Glass held by fingers, and fast motion, without hair.
  case glassAndMotion = "glass-motion"

  var hasHair: Bool { self == .hair || self == .mixed }
  var hasGlass: Bool { self == .glass || self == .mixed || self == .glassAndMotion }
  var hasMotion: Bool { self == .motion || self == .mixed || self == .glassAndMotion }
}

/// Builds the layers of a scene at a given frame. Deterministic from the seed.
struct SceneScript {
  let kind: SceneKind
  let width: Int
  let height: Int
  let strands: [Strand]
  let phase: Double
  let backgroundSeed: UInt64
  /// A panning camera, or nil for a static one.
  let pan: Pan?

  /// A horizontal camera pan back and forth by whole pixels: the background moves under a
  /// subject the camera follows. The plate of frame t is the window of a wider texture at
  /// `offset(t)`, so every frame's plate is exact.
  struct Pan {
    /// Pixels between the two ends of the pan.
    var amplitude: Int
    /// Frames from one end to the other.
    var period: Int

    /// The window's left edge in frame `frame`: a triangle wave between 0 and `amplitude`.
    func offset(frame: Int) -> Int {
      let phase = frame % (2 * period)
      let along = phase <= period ? phase : 2 * period - phase
      return amplitude * along / period
    }
  }

  struct Strand {
    var rootAngle: Double
    var length: Double
    var bend: Double
    var swayPhase: Double
    var halfWidth: Double
  }

  init(kind: SceneKind, width: Int, height: Int, seed: UInt64, strandCount: Int, pan: Pan? = nil) {
    self.kind = kind
    self.width = width
    self.height = height
    self.pan = pan
    var rng = SplitMix64(seed: seed)
    let unit = Double(height) / 180
    strands = (0..<strandCount).map { _ in
      Strand(
        rootAngle: rng.uniform(-Double.pi * 0.95, -Double.pi * 0.05),
        length: rng.uniform(0.12, 0.30) * Double(height),
        bend: rng.uniform(-0.25, 0.25),
        swayPhase: rng.uniform(0, 2 * Double.pi),
        halfWidth: rng.uniform(0.22, 0.45) * max(unit, 0.5))
    }
    phase = rng.uniform(0, 2 * Double.pi)
    backgroundSeed = rng.next()
  }

  /// The textured background: the clean plate of a static camera, or the wider picture a
  /// panning camera's window moves across.
  func background() -> RGBImage {
    Self.texture(width: width + (pan?.amplitude ?? 0), height: height, seed: backgroundSeed)
  }

  /// The clean plate of frame `frame`: the window of `background` the camera sees.
  func plate(frame: Int, background: RGBImage) -> RGBImage {
    guard let pan else { return background }
    let left = pan.offset(frame: frame)
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
      let from = (y * background.width + left) * 3
      pixels[(y * width * 3)..<((y + 1) * width * 3)] = background.pixels[from..<(from + width * 3)]
    }
    return RGBImage(width: width, height: height, pixels: pixels)
  }

  /// Where the background under pixel x of frame t − 1 is in frame t: the window moved right
  /// by offset(t) − offset(t − 1), so the picture moved left by as much.
  func backgroundShift(toFrame frame: Int) -> Float {
    guard let pan, frame > 0 else { return 0 }
    return Float(pan.offset(frame: frame - 1) - pan.offset(frame: frame))
  }

  /// Background pictures for bg_type=image tests in each aspect class against the clip's
  /// `width`×`height`: exact (1.5× the size), close (6 % wider: r = 0.06) and large (square).
  func backgroundPictures() -> [(aspect: String, picture: RGBImage)] {
    let even = { (v: Double) in max(2, Int((v / 2).rounded()) * 2) }
    return [
      (
        "exact",
        Self.texture(width: even(Double(width) * 1.5), height: even(Double(height) * 1.5), seed: backgroundSeed &+ 1)
      ),
      ("close", Self.texture(width: even(Double(width) * 1.06), height: height, seed: backgroundSeed &+ 2)),
      ("large", Self.texture(width: height, height: height, seed: backgroundSeed &+ 3)),
    ]
  }

  /// A procedural texture: two colour waves and hashed noise.
  static func texture(width: Int, height: Int, seed backgroundSeed: UInt64) -> RGBImage {
    var rng = SplitMix64(seed: backgroundSeed)
    let f1 = rng.uniform(0.02, 0.06) * 180 / Double(height)
    let f2 = rng.uniform(0.02, 0.06) * 180 / Double(height)
    let p1 = rng.uniform(0, 6.28)
    let p2 = rng.uniform(0, 6.28)
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
      for x in 0..<width {
        let xf = Double(x)
        let yf = Double(y)
        let wave = sin(xf * f1 + yf * f2 * 0.5 + p1)
        let wave2 = sin(yf * f2 - xf * f1 * 0.3 + p2)
        var h = UInt64(x) &* 0x9E37_79B9 ^ UInt64(y) &* 0x85EB_CA6B ^ backgroundSeed
        h = (h ^ (h >> 15)) &* 0x2C1B_3C6D
        h ^= h >> 13
        let noise = Double(h % 13) - 6
        let base: (Double, Double, Double) = (80 + 25 * wave, 150 + 25 * wave2, 120 + 20 * wave * wave2)
        let k = (y * width + x) * 3
        pixels[k] = UInt8(min(max(base.0 + noise, 0), 255))
        pixels[k + 1] = UInt8(min(max(base.1 + noise, 0), 255))
        pixels[k + 2] = UInt8(min(max(base.2 + noise, 0), 255))
      }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
  }

  /// The layers of frame `frame`, bottom to top; moving layers are sampled over a 180° shutter.
  func layers(frame: Int, motionSamples: Int) -> [Layer] {
    let t = Double(frame)
    let w = Double(width)
    let h = Double(height)
    var out: [Layer] = []
    func still(_ kind: LayerKind, _ color: SIMD3<Double>, _ opacity: Double, _ shapes: [Shape]) -> Layer {
      Layer(kind: kind, color: color, opacity: opacity, timeSamples: 1, shapesAt: [shapes])
    }
    func moving(
      _ kind: LayerKind, _ color: SIMD3<Double>, _ opacity: Double, _ shapes: (Double) -> [Shape]
    ) -> Layer {
      let times = (0..<motionSamples).map { t + 0.5 * (Double($0) + 0.5) / Double(motionSamples) }
      return Layer(
        kind: kind, color: color, opacity: opacity, timeSamples: motionSamples,
        shapesAt: times.map(shapes))
    }

    if kind.hasHair {
      let cx = (kind == .mixed ? 0.62 : 0.5) * w + 0.015 * w * sin(2 * .pi * t / 40 + phase)
      let cy = 0.56 * h
      let rx = 0.15 * h
      let ry = 0.21 * h
      out.append(
        still(.solid, [45, 55, 140], 1, [.ellipse(cx: cx, cy: 1.08 * h, rx: 0.34 * h, ry: 0.3 * h, angle: 0)]))
      out.append(still(.solid, [205, 160, 130], 1, [.ellipse(cx: cx, cy: cy, rx: rx, ry: ry, angle: 0)]))
      var strandShapes: [Shape] = []
      for s in strands {
        var x = cx + rx * 0.92 * cos(s.rootAngle)
        var y = cy + ry * 0.92 * sin(s.rootAngle)
        let segments = 5
        for k in 0..<segments {
          let sway = 0.35 * sin(2 * .pi * t / 30 + s.swayPhase) * Double(k + 1) / Double(segments)
          let angle = s.rootAngle + s.bend * Double(k) + sway
          let step = s.length / Double(segments)
          let nx = x + step * cos(angle)
          let ny = y + step * sin(angle)
          strandShapes.append(.capsule(x0: x, y0: y, x1: nx, y1: ny, halfWidth: s.halfWidth))
          x = nx
          y = ny
        }
      }
      out.append(still(.hair, [70, 45, 28], 1, strandShapes))
    }
    if kind.hasGlass {
      let gx = (kind == .glass ? 0.3 : 0.25) * w + 0.3 * w * (0.5 - 0.5 * cos(2 * .pi * t / 60 + phase))
      let gy = 0.5 * h
      let gw = 0.11 * h
      let gh = 0.26 * h
      // Fingers below the glass with thin gaps between them.
      let fingerW = 0.035 * h
      let gap = max(0.012 * h, 1.2)
      let fingers: [Shape] = (0..<4).map { i in
        let fx = gx - 1.5 * (fingerW * 2 + gap) + Double(i) * (fingerW * 2 + gap)
        return .rect(cx: fx, cy: gy + gh * 0.95, halfW: fingerW, halfH: 0.09 * h, angle: 0)
      }
      out.append(still(.solid, [215, 170, 140], 1, fingers))
      out.append(
        still(.glass, [175, 205, 240], 0.42, [.rect(cx: gx, cy: gy, halfW: gw, halfH: gh, angle: 0.05)]))
      out.append(
        still(
          .glass, [250, 250, 255], 0.75,
          [
            .capsule(
              x0: gx - 0.5 * gw, y0: gy - 0.7 * gh, x1: gx - 0.4 * gw, y1: gy + 0.6 * gh, halfWidth: 0.012 * h + 0.6)
          ]))
    }
    if kind.hasMotion {
      let period = 24.0
      let amplitude = 0.33 * w
      out.append(
        moving(.solid, [235, 120, 40], 1) { time in
          [
            .ellipse(
              cx: 0.5 * w + amplitude * sin(2 * .pi * time / period + phase), cy: 0.3 * h,
              rx: 0.1 * h, ry: 0.1 * h, angle: 0)
          ]
        })
      out.append(
        moving(.solid, [240, 230, 60], 1) { time in
          [.rect(cx: 0.5 * w, cy: 0.75 * h, halfW: 0.22 * h, halfH: 0.035 * h, angle: time * 0.45)]
        })
    }
    return out
  }
}
