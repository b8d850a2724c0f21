import Foundation
public import MediaIO

/// The embedded engine's models. Their names say what they are.
public enum KeyerModel: String, Sendable, CaseIterable {
  /// Difference keyer with a hard threshold: α = 1 where the colour distance to the clean plate
  /// exceeds `threshold`, else 0.
  case thresholdKeyer = "threshold-keyer"
  /// Difference keyer with a soft ramp: α = clamp((d − low) / (high − low), 0, 1).
  case softKeyer = "soft-keyer"
  /// The soft keyer's matte refined by a guided filter (He et al.) with the frame's luma as
  /// guide, so that edges follow the picture: 16-bit output.
  case refinedKeyer = "refined-keyer"
}

/// Parameters of one engine run.
public struct EngineSettings: Sendable, Equatable {
  public var model: KeyerModel
  /// Hard threshold on the RGB Euclidean distance (0…441), threshold-keyer only.
  public var threshold: Double
  /// Ramp start and end on the RGB Euclidean distance, soft-keyer only.
  public var low: Double
  public var high: Double
  /// VP9 constant-quality level of the output.
  public var crf: Int
  /// Guided-filter window radius in pixels and regularisation ε (values in [0, 1]),
  /// refined-keyer only.
  public var radius: Int
  public var epsilon: Double
  /// Temporal smoothing s in [0, 1): each frame's matte becomes (1 − s)·α_t + s·α′_{t−1}, where
  /// α′ is the previous smoothed matte. Less flicker, more lag behind motion; 0 is off.
  public var smoothing: Double

  public init(
    model: KeyerModel, threshold: Double = 40, low: Double = 12, high: Double = 70, crf: Int = 20,
    radius: Int = 2, epsilon: Double = 1e-4, smoothing: Double = 0
  ) {
    self.model = model
    self.threshold = threshold
    self.low = low
    self.high = high
    self.crf = crf
    self.radius = radius
    self.epsilon = epsilon
    self.smoothing = smoothing
  }
}

/// A composited output: the matte applied to the source over a background (bg_type color or
/// image), written as H.264 in MP4 with no alpha.
public struct CompositeRequest: Sendable, Equatable {
  /// The background already fitted onto the source canvas (8-bit RGB, source size).
  public var background: RGBImage

  public init(background: RGBImage) {
    self.background = background
  }
}

/// How a transparent output (the source picture with the computed alpha) is written.
public enum TransparentFormat: String, Sendable, CaseIterable {
  /// WebM, VP9 with an alpha channel (8-bit alpha).
  case webm
  /// MOV, ProRes 4444 with a 10-bit alpha channel.
  case mov
  /// A ZIP of 8-bit RGBA PNGs, `frame_00000.png` onwards.
  case pngSequence = "png_sequence"
  /// The matte alone as an H.264 MP4 whose luma is alpha, limited range (what matting models
  /// such as RobustVideoMatting's `alpha-mask` return).
  case matteMP4 = "matte_mp4"
}

/// Where one transparent output's frames go.
private enum TransparentSink {
  case video(VideoWriter)
  case pngs(ZipWriter, index: Int)
  case matte(VideoWriter)

  init(format: TransparentFormat, path: String, width: Int, height: Int, rate: Int, crf: Int) throws {
    switch format {
    case .webm:
      self = .video(
        try VideoWriter(path: path, width: width, height: height, frameRate: rate, encoding: .vp9Alpha(crf: crf)))
    case .mov:
      self = .video(try VideoWriter(path: path, width: width, height: height, frameRate: rate, encoding: .prores4444))
    case .pngSequence:
      self = .pngs(try ZipWriter(path: path), index: 0)
    case .matteMP4:
      // Lossless H.264 of a gray picture: swscale's RGB → YUV puts alpha a on luma 16 + 219·a/255.
      self = .matte(
        try VideoWriter(
          path: path, width: width, height: height, frameRate: rate, encoding: .h264(crf: 0, preset: "medium")))
    }
  }

  mutating func append(rgb: RGBImage, alpha: GrayImage) throws {
    switch self {
    case .video(let writer):
      try writer.append(rgb: rgb, alpha: alpha)
    case .pngs(let zip, let index):
      let name = String(format: "frame_%05d.png", index)
      try zip.add(
        name, data: try PNGFile.encodeRGBA(rgb, alpha: alpha, name: zip.path + ":" + name, compression: .fast))
      self = .pngs(zip, index: index + 1)
    case .matte(let writer):
      try writer.appendMatte(alpha)
    }
  }

  func finish() throws {
    switch self {
    case .video(let writer), .matte(let writer):
      try writer.finish()
    case .pngs(let zip, _):
      try zip.finish()
    }
  }
}

/// What an engine run produced.
public struct EngineResult: Sendable, Equatable {
  public var frames: Int
  public var width: Int
  public var height: Int
  /// Whether the clean plate was estimated as a temporal median (no plate given).
  public var estimatedPlate: Bool
}

/// An error of the embedded engine, naming the file and the problem.
public struct EngineError: Error, Sendable, CustomStringConvertible {
  public var path: String
  public var reason: String
  public var description: String { "\(path): \(reason)" }
}

/// Background matting against a clean plate: small, honest and real. Writes WebM VP9 with alpha.
public enum EmbeddedEngine {
  public static let version = "mattegate-engine/1"

  /// Mattes every frame of `sourcePath` and writes `outputPath` (WebM VP9 with alpha): the
  /// source picture with the computed alpha.
  ///
  /// - Parameters:
  ///   - cleanPlatePath: the background without the foreground: a PNG (static camera) or a video
  ///     with one picture per source frame (moving camera); if nil, a per-pixel temporal median
  ///     of the source (static camera) stands in for it.
  /// - Throws: `MediaError` or `EngineError` naming the file.
  ///   - composite: when given, the output is the composite α·I + (1 − α)·B′ over this
  ///     background (H.264, no alpha) instead of the source with alpha.
  public static func removeBackground(
    sourcePath: String, cleanPlatePath: String?, settings: EngineSettings, outputPath: String,
    format: TransparentFormat = .webm, composite: CompositeRequest? = nil
  ) throws -> EngineResult {
    // The clip's plate: one picture (static camera) or one per frame (moving camera).
    let givenPlate = try cleanPlatePath.map { path throws(MediaError) in try CleanPlate(path: path) }
    let median = givenPlate == nil ? try temporalMedian(sourcePath: sourcePath) : nil
    let reader = try VideoReader(path: sourcePath, rgb: true, alpha: .none)
    let plateSize = givenPlate.map { ($0.width, $0.height) } ?? (median!.width, median!.height)
    guard reader.width == plateSize.0, reader.height == plateSize.1 else {
      throw EngineError(
        path: cleanPlatePath ?? sourcePath,
        reason: "clean plate is \(plateSize.0)x\(plateSize.1) but the source is \(reader.width)x\(reader.height)")
    }
    let rate = reader.frameRate > 0 ? Int(reader.frameRate.rounded()) : 25
    if let composite {
      guard composite.background.width == reader.width, composite.background.height == reader.height else {
        throw EngineError(
          path: sourcePath,
          reason:
            "the fitted background is \(composite.background.width)x\(composite.background.height) but the source is \(reader.width)x\(reader.height)"
        )
      }
    }
    let compositeWriter =
      composite == nil
      ? nil
      : try VideoWriter(
        path: outputPath, width: reader.width, height: reader.height, frameRate: rate,
        encoding: .h264(crf: settings.crf, preset: "medium"))
    var sink =
      composite != nil
      ? nil
      : try TransparentSink(
        format: format, path: outputPath, width: reader.width, height: reader.height, rate: rate, crf: settings.crf)
    var frames = 0
    var smoother = TemporalSmoother(strength: settings.smoothing)
    while let frame = try reader.nextFrame() {
      guard let rgb = frame.rgb else { continue }
      let plate = try givenPlate?.picture(at: frames) ?? median!
      let alpha = smoother.next(matte(rgb, plate: plate, settings: settings))
      if let composite, let compositeWriter {
        try compositeWriter.append(rgb: over(rgb, alpha: alpha, background: composite.background), alpha: nil)
      } else {
        try sink?.append(rgb: rgb, alpha: alpha)
      }
      frames += 1
    }
    guard frames > 0 else { throw EngineError(path: sourcePath, reason: "source has no frames") }
    try compositeWriter?.finish()
    try sink?.finish()
    return EngineResult(frames: frames, width: reader.width, height: reader.height, estimatedPlate: givenPlate == nil)
  }

  /// α·I + (1 − α)·B′ per channel, rounded (a plain "over" of the source: the engine has no
  /// foreground estimate, so colour spill at soft edges stays, as with simple services).
  public static func over(_ source: RGBImage, alpha: GrayImage, background: RGBImage) -> RGBImage {
    var out = [UInt8](repeating: 0, count: source.pixels.count)
    let m = Double(alpha.maxValue)
    for i in 0..<(source.width * source.height) {
      let a = Double(alpha.samples[i]) / m
      for c in 0..<3 {
        let v = a * Double(source.pixels[3 * i + c]) + (1 - a) * Double(background.pixels[3 * i + c])
        out[3 * i + c] = UInt8(min(max(v.rounded(), 0), 255))
      }
    }
    return RGBImage(width: source.width, height: source.height, pixels: out)
  }

  /// The alpha of one frame against the plate: 8-bit codes for the keyers, 16-bit for the
  /// refined keyer.
  public static func matte(_ frame: RGBImage, plate: RGBImage, settings: EngineSettings) -> GrayImage {
    if settings.model == .refinedKeyer { return refinedMatte(frame, plate: plate, settings: settings) }
    let n = frame.width * frame.height
    var out = [UInt16](repeating: 0, count: n)
    frame.pixels.withUnsafeBufferPointer { f in
      plate.pixels.withUnsafeBufferPointer { p in
        switch settings.model {
        case .refinedKeyer:
          break
        case .thresholdKeyer:
          let t2 = settings.threshold * settings.threshold
          for i in 0..<n {
            let d = distanceSquared(f, p, i)
            out[i] = d > t2 ? 255 : 0
          }
        case .softKeyer:
          let lo = settings.low
          let span = max(settings.high - settings.low, 1e-9)
          for i in 0..<n {
            let d = distanceSquared(f, p, i).squareRoot()
            let a = min(max((d - lo) / span, 0), 1)
            out[i] = UInt16((a * 255).rounded())
          }
        }
      }
    }
    return GrayImage(width: frame.width, height: frame.height, maxValue: 255, samples: out)
  }

  /// The soft keyer's ramp in floating point, refined by the guided filter with the frame's
  /// Rec. 601 luma as guide, clamped to [0, 1] and written as 16-bit codes.
  static func refinedMatte(_ frame: RGBImage, plate: RGBImage, settings: EngineSettings) -> GrayImage {
    let n = frame.width * frame.height
    var soft = [Float](repeating: 0, count: n)
    var luma = [Float](repeating: 0, count: n)
    let lo = settings.low
    let span = max(settings.high - settings.low, 1e-9)
    frame.pixels.withUnsafeBufferPointer { f in
      plate.pixels.withUnsafeBufferPointer { p in
        for i in 0..<n {
          let d = distanceSquared(f, p, i).squareRoot()
          soft[i] = Float(min(max((d - lo) / span, 0), 1))
          let r: Double = 0.299 * Double(f[3 * i])
          let g: Double = 0.587 * Double(f[3 * i + 1])
          let b: Double = 0.114 * Double(f[3 * i + 2])
          luma[i] = Float((r + g + b) / 255)
        }
      }
    }
    let q = GuidedFilter.apply(
      input: soft, guide: luma, width: frame.width, height: frame.height, radius: settings.radius,
      epsilon: Float(settings.epsilon))
    let out = q.map { UInt16((min(max($0, 0), 1) * 65535).rounded()) }
    return GrayImage(width: frame.width, height: frame.height, maxValue: 65535, samples: out)
  }

  @inline(__always)
  private static func distanceSquared(
    _ f: UnsafeBufferPointer<UInt8>, _ p: UnsafeBufferPointer<UInt8>, _ i: Int
  ) -> Double {
    let r = Double(f[3 * i]) - Double(p[3 * i])
    let g = Double(f[3 * i + 1]) - Double(p[3 * i + 1])
    let b = Double(f[3 * i + 2]) - Double(p[3 * i + 2])
    return r * r + g * g + b * b
  }

  /// Frames the temporal median keeps at most, so that memory does not grow with clip length.
  public static let medianSampleLimit = 64

  /// Per-pixel, per-channel temporal median of the source: a clean-plate estimate for a static
  /// camera when the clip has no plate. Clips up to `medianSampleLimit` frames use every frame;
  /// longer ones every 2ᵏ-th frame (evenly spread, at most `medianSampleLimit` held at once).
  public static func temporalMedian(sourcePath: String) throws -> RGBImage {
    let reader = try VideoReader(path: sourcePath, rgb: true, alpha: .none)
    var frames: [[UInt8]] = []
    var stride = 1
    var index = 0
    while let frame = try reader.nextFrame() {
      defer { index += 1 }
      guard index % stride == 0, let rgb = frame.rgb else { continue }
      frames.append(rgb.pixels)
      if frames.count > medianSampleLimit {
        // Keep frames 0, 2·stride, 4·stride, … and sample half as often from now on.
        frames = frames.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        stride *= 2
      }
    }
    guard !frames.isEmpty else { throw EngineError(path: sourcePath, reason: "source has no frames") }
    let count = frames[0].count
    var out = [UInt8](repeating: 0, count: count)
    var column = [UInt8](repeating: 0, count: frames.count)
    for i in 0..<count {
      for k in 0..<frames.count { column[k] = frames[k][i] }
      column.sort()
      out[i] = column[column.count / 2]
    }
    return RGBImage(width: reader.width, height: reader.height, pixels: out)
  }
}

/// Exponential smoothing of mattes over time: α′_t = (1 − s)·α_t + s·α′_{t−1}, kept in full
/// precision and rounded to the matte's codes; the first frame passes unchanged.
struct TemporalSmoother {
  let strength: Double
  private var previous: [Double]?

  init(strength: Double) {
    self.strength = strength
  }

  mutating func next(_ matte: GrayImage) -> GrayImage {
    guard strength > 0 else { return matte }
    let scale = Double(matte.maxValue)
    // Taken out of `previous` so that updating it in place does not copy it.
    guard var state = previous.take(), state.count == matte.samples.count else {
      previous = matte.samples.map { Double($0) / scale }
      return matte
    }
    // One pass: the smoothed value replaces the state and gives the output code.
    var codes = [UInt16](repeating: 0, count: state.count)
    for k in state.indices {
      state[k] = (1 - strength) * (Double(matte.samples[k]) / scale) + strength * state[k]
      codes[k] = UInt16((state[k] * scale).rounded())
    }
    previous = state
    return GrayImage(width: matte.width, height: matte.height, maxValue: matte.maxValue, samples: codes)
  }
}
