import Foundation

/// An RGB picture with values in [0, 1], interleaved (r, g, b per pixel).
public struct RGBPicture: Sendable, Equatable {
  public var width: Int
  public var height: Int
  public var values: [Double]

  public init(width: Int, height: Int, values: [Double]) {
    precondition(values.count == width * height * 3, "RGBPicture needs width*height*3 values")
    self.width = width
    self.height = height
    self.values = values
  }

  /// From 8-bit interleaved RGB.
  public init(width: Int, height: Int, bytes: [UInt8]) {
    self.init(width: width, height: height, values: bytes.map { Double($0) / 255 })
  }

  /// One colour everywhere.
  public init(width: Int, height: Int, color: (Double, Double, Double)) {
    var v = [Double](repeating: 0, count: width * height * 3)
    for i in 0..<(width * height) {
      v[3 * i] = color.0
      v[3 * i + 1] = color.1
      v[3 * i + 2] = color.2
    }
    self.init(width: width, height: height, values: v)
  }
}

/// How a background is put onto the source canvas (job API `fit`): cover scales to fill and
/// centre-crops the overflow, contain scales to fit and pads with the pad colour, stretch
/// scales each axis on its own.
public enum BackgroundFit: String, Sendable, CaseIterable, Codable {
  case cover, contain, stretch
}

/// The source-versus-background aspect-ratio class of the job API's policy:
/// r = |bg_w/bg_h − src_w/src_h| / (src_w/src_h); exact when r ≤ 0.01, close when r ≤ 0.10,
/// large beyond.
public struct AspectMatch: Sendable, Equatable {
  public enum Class: String, Sendable, Codable { case exact, close, large }

  public var sourceAspect: Double
  public var backgroundAspect: Double
  public var relativeDifference: Double
  public var match: Class

  public init(source: (width: Int, height: Int), background: (width: Int, height: Int)) {
    sourceAspect = Double(source.width) / Double(source.height)
    backgroundAspect = Double(background.width) / Double(background.height)
    relativeDifference = abs(backgroundAspect - sourceAspect) / sourceAspect
    match = relativeDifference <= 0.01 ? .exact : relativeDifference <= 0.10 ? .close : .large
  }
}

/// Composited outputs (bg_type color or image), specs/metrics.md: the service's composite
/// against the reference composite α·F + (1 − α)·B′, per region.
public enum Composite {
  /// Version of the composite definitions; stored with results.
  public static let version =
    "Composite/1: MSE over region pixels and the 3 channels of values in [0,1], x1e3; PSNR = 10 log10(1/MSE) dB; reference alpha*F + (1-alpha)*B' (F from the clean plate: I + (1-alpha)(B' - B)); B' = background fitted by bilinear sampling at pixel centres, contain pads with the pad colour"

  /// B′: `background` fitted onto a `width`×`height` canvas. Canvas pixel centres map back into
  /// the background through the fit's scale and offset and are sampled bilinearly (edges
  /// clamped); with contain, pixels whose centre falls outside the scaled picture get `pad`.
  public static func fit(
    _ background: RGBPicture, width: Int, height: Int, mode: BackgroundFit, pad: (Double, Double, Double) = (0, 0, 0)
  ) -> RGBPicture {
    let bw = Double(background.width)
    let bh = Double(background.height)
    let cw = Double(width)
    let ch = Double(height)
    var sx: Double
    var sy: Double
    switch mode {
    case .cover:
      sx = max(cw / bw, ch / bh)
      sy = sx
    case .contain:
      sx = min(cw / bw, ch / bh)
      sy = sx
    case .stretch:
      sx = cw / bw
      sy = ch / bh
    }
    // Offset of the scaled picture's corner on the canvas (negative: cropped).
    let ox = (cw - bw * sx) / 2
    let oy = (ch - bh * sy) / 2
    var out = [Double](repeating: 0, count: width * height * 3)
    let src = background.values
    for y in 0..<height {
      let cy = Double(y) + 0.5
      for x in 0..<width {
        let cx = Double(x) + 0.5
        let o = 3 * (y * width + x)
        if mode == .contain && (cx < ox || cx >= ox + bw * sx || cy < oy || cy >= oy + bh * sy) {
          out[o] = pad.0
          out[o + 1] = pad.1
          out[o + 2] = pad.2
          continue
        }
        let u = min(max((cx - ox) / sx - 0.5, 0), bw - 1)
        let v = min(max((cy - oy) / sy - 0.5, 0), bh - 1)
        let x0 = Int(u)
        let y0 = Int(v)
        let x1 = min(x0 + 1, background.width - 1)
        let y1 = min(y0 + 1, background.height - 1)
        let fx = u - Double(x0)
        let fy = v - Double(y0)
        for c in 0..<3 {
          let a = src[3 * (y0 * background.width + x0) + c]
          let b = src[3 * (y0 * background.width + x1) + c]
          let d = src[3 * (y1 * background.width + x0) + c]
          let e = src[3 * (y1 * background.width + x1) + c]
          out[o + c] = (a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy
        }
      }
    }
    return RGBPicture(width: width, height: height, values: out)
  }

  /// α·F + (1 − α)·B′ with the ground-truth foreground.
  public static func reference(alpha: Matte, foreground f: RGBPicture, background b: RGBPicture) -> RGBPicture {
    checkSizes(alpha, f, b)
    let inv = 1 / Double(alpha.maxValue)
    var out = [Double](repeating: 0, count: f.values.count)
    for i in 0..<alpha.pixelCount {
      let a = Double(alpha.codes[i]) * inv
      for c in 0..<3 { out[3 * i + c] = a * f.values[3 * i + c] + (1 - a) * b.values[3 * i + c] }
    }
    return RGBPicture(width: f.width, height: f.height, values: out)
  }

  /// The same reference from the source I = α·F + (1 − α)·B and its clean plate B, without
  /// dividing by α: α·F + (1 − α)·B′ = I + (1 − α)·(B′ − B).
  public static func reference(alpha: Matte, source: RGBPicture, plate: RGBPicture, background: RGBPicture)
    -> RGBPicture
  {
    checkSizes(alpha, source, plate)
    checkSizes(alpha, source, background)
    let inv = 1 / Double(alpha.maxValue)
    var out = [Double](repeating: 0, count: source.values.count)
    for i in 0..<alpha.pixelCount {
      let a = Double(alpha.codes[i]) * inv
      for c in 0..<3 {
        let k = 3 * i + c
        out[k] = source.values[k] + (1 - a) * (background.values[k] - plate.values[k])
      }
    }
    return RGBPicture(width: source.width, height: source.height, values: out)
  }

  /// Σ over each region's pixels and the three channels of (output − reference)², and the
  /// number of pixels, in `RegionKind.allCases` order.
  public static func squaredError(_ output: RGBPicture, _ reference: RGBPicture, regions: RegionMap)
    -> [(sum: Double, pixels: Int)]
  {
    precondition(output.width == reference.width && output.height == reference.height, "pictures differ in size")
    precondition(regions.width == output.width && regions.height == output.height, "regions differ in size")
    var sums = [Double](repeating: 0, count: RegionKind.allCases.count)
    var pixels = [Int](repeating: 0, count: RegionKind.allCases.count)
    for i in 0..<(output.width * output.height) {
      var e = 0.0
      for c in 0..<3 {
        let d = output.values[3 * i + c] - reference.values[3 * i + c]
        e += d * d
      }
      var bits = regions.bits[i]
      while bits != 0 {
        let r = Int(bits.trailingZeroBitCount)
        sums[r] += e
        pixels[r] += 1
        bits &= bits - 1
      }
    }
    return zip(sums, pixels).map { ($0, $1) }
  }

  /// Composite MSE on the reported scale (×1e3) from a squared-error sum over `pixels` pixels
  /// of three channels; nil without pixels.
  public static func mse(sum: Double, pixels: Int) -> Double? {
    pixels > 0 ? sum / Double(3 * pixels) * 1e3 : nil
  }

  /// PSNR in dB for values in [0, 1] from the unscaled MSE; +∞ for a perfect match.
  public static func psnr(sum: Double, pixels: Int) -> Double? {
    guard pixels > 0 else { return nil }
    let mse = sum / Double(3 * pixels)
    return mse == 0 ? .infinity : 10 * log10(1 / mse)
  }

  /// Which fit the service applied: each fit's reference background against the output over the
  /// pixels that are pure background in the ground truth (α = 0), where the composite is B′
  /// alone. Returns the MSE (×1e3) per fit, lowest first; nil when no pixel is pure background.
  public static func detectFit(
    output: RGBPicture, alpha: Matte, background: RGBPicture, pad: (Double, Double, Double) = (0, 0, 0)
  ) -> [(fit: BackgroundFit, mse: Double)]? {
    detectFit(output: output, alpha: alpha, candidates: fittedCandidates(background, for: output, pad: pad))
  }

  /// The background under every fit, on `output`'s canvas: what `detectFit` compares against,
  /// made once per clip rather than once per frame.
  public static func fittedCandidates(
    _ background: RGBPicture, for canvas: RGBPicture, pad: (Double, Double, Double) = (0, 0, 0)
  ) -> [(fit: BackgroundFit, picture: RGBPicture)] {
    BackgroundFit.allCases.map { ($0, fit(background, width: canvas.width, height: canvas.height, mode: $0, pad: pad)) }
  }

  /// `detectFit` against backgrounds already fitted (`fittedCandidates`).
  public static func detectFit(
    output: RGBPicture, alpha: Matte, candidates: [(fit: BackgroundFit, picture: RGBPicture)]
  ) -> [(fit: BackgroundFit, mse: Double)]? {
    let n = alpha.pixelCount
    let clear = (0..<n).filter { alpha.codes[$0] == 0 }
    guard !clear.isEmpty else { return nil }
    var out: [(BackgroundFit, Double)] = []
    for (mode, b) in candidates {
      var s = 0.0
      for i in clear {
        for c in 0..<3 {
          let d = output.values[3 * i + c] - b.values[3 * i + c]
          s += d * d
        }
      }
      out.append((mode, s / Double(3 * clear.count) * 1e3))
    }
    return out.sorted { $0.1 < $1.1 }
  }

  static func checkSizes(_ alpha: Matte, _ a: RGBPicture, _ b: RGBPicture) {
    precondition(
      a.width == alpha.width && a.height == alpha.height && b.width == alpha.width && b.height == alpha.height,
      "pictures and matte differ in size")
  }
}
