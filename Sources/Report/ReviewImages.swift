public import MediaIO

/// What the report shows of a review frame besides the pictures themselves: error heatmaps
/// and the crop where the arms go most wrong.
public enum ReviewImages {
  /// The heatmap's scale: |α − α_gt| from 0 to this value spans the colour map; larger errors
  /// take its last colour. Most edge errors are well under 0.5, and a scale to 1 would leave
  /// them nearly black.
  public static let heatmapTop = 0.5

  /// Colour-map stops (value in [0, 1] of the scale, sRGB): black, violet, red, orange,
  /// pale yellow — dark for small errors, bright for large, readable by most colour-blind
  /// readers because lightness rises monotonically.
  public static let stops: [(at: Double, rgb: (Double, Double, Double))] = [
    (0.0, (0, 0, 0)), (0.25, (87, 16, 110)), (0.5, (188, 55, 84)), (0.75, (249, 142, 9)),
    (1.0, (252, 255, 164)),
  ]

  /// The colour of an error `e` (≥ 0, on the α scale): linear between the stops over
  /// [0, heatmapTop], rounded; the last stop beyond.
  public static func colour(error e: Double) -> (UInt8, UInt8, UInt8) {
    let t = min(max(e / heatmapTop, 0), 1)
    var i = 0
    while i + 2 < stops.count && t > stops[i + 1].at { i += 1 }
    let (a, b) = (stops[i], stops[i + 1])
    let f = (t - a.at) / (b.at - a.at)
    func mix(_ x: Double, _ y: Double) -> UInt8 { UInt8((x + (y - x) * f).rounded()) }
    return (mix(a.rgb.0, b.rgb.0), mix(a.rgb.1, b.rgb.1), mix(a.rgb.2, b.rgb.2))
  }

  /// |α − α_gt| of every pixel, colour-mapped (`colour(error:)`), as 8-bit RGB.
  public static func heatmap(prediction p: GrayImage, truth g: GrayImage) -> RGBImage {
    precondition(p.width == g.width && p.height == g.height, "heatmap: sizes differ")
    // 1024 levels are finer than 8-bit colour can show: one table look-up per pixel.
    let levels = 1024
    let table = (0..<levels).map { colour(error: Double($0) / Double(levels - 1) * heatmapTop) }
    let (ip, ig) = (1.0 / Double(p.maxValue), 1.0 / Double(g.maxValue))
    var pixels = [UInt8](repeating: 0, count: p.width * p.height * 3)
    for k in 0..<(p.width * p.height) {
      let e = abs(Double(p.samples[k]) * ip - Double(g.samples[k]) * ig)
      let c = table[min(Int((e / heatmapTop * Double(levels - 1)).rounded()), levels - 1)]
      pixels[3 * k] = c.0
      pixels[3 * k + 1] = c.1
      pixels[3 * k + 2] = c.2
    }
    return RGBImage(width: p.width, height: p.height, pixels: pixels)
  }

  /// A window of at most `width` × `height` pixels, inside the frame.
  public struct Crop: Sendable, Equatable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
      self.x = x
      self.y = y
      self.width = width
      self.height = height
    }
  }

  /// The `width` × `height` window (shrunk to the frame when larger) with the largest
  /// Σ (|α_A − α_gt| + |α_B − α_gt|) over its pixels, found on a grid of `step` pixels
  /// (summed-area table, so every position costs the same); ties go to the top-left-most.
  ///
  /// With `within` (a region map's bits and a region's bit), only the region's pixels count,
  /// each also weighing 10⁻⁶ so that a region the arms get right is still framed.
  public static func worstWindow(
    a: GrayImage, b: GrayImage, truth g: GrayImage, width: Int, height: Int, step: Int = 8,
    within: (bits: [UInt8], bit: UInt8)? = nil
  ) -> Crop {
    let (w, h) = (g.width, g.height)
    let cw = min(width, w)
    let ch = min(height, h)
    let (ia, ib, ig) = (1.0 / Double(a.maxValue), 1.0 / Double(b.maxValue), 1.0 / Double(g.maxValue))
    // sat[(y)(w+1) + x] = Σ over rows < y, columns < x.
    var sat = [Double](repeating: 0, count: (w + 1) * (h + 1))
    for y in 0..<h {
      var row = 0.0
      for x in 0..<w {
        let k = y * w + x
        let t = Double(g.samples[k]) * ig
        if let within, within.bits[k] & within.bit == 0 {
          // Outside the region: adds nothing.
        } else {
          row += abs(Double(a.samples[k]) * ia - t) + abs(Double(b.samples[k]) * ib - t) + (within == nil ? 0 : 1e-6)
        }
        sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row
      }
    }
    func sum(_ x: Int, _ y: Int) -> Double {
      let s = w + 1
      return sat[(y + ch) * s + x + cw] - sat[y * s + x + cw] - sat[(y + ch) * s + x] + sat[y * s + x]
    }
    var best = Crop(x: 0, y: 0, width: cw, height: ch)
    var bestSum = sum(0, 0)
    let xs = Array(Swift.stride(from: 0, through: w - cw, by: max(step, 1))) + [w - cw]
    let ys = Array(Swift.stride(from: 0, through: h - ch, by: max(step, 1))) + [h - ch]
    for y in ys {
      for x in xs {
        let s = sum(x, y)
        if s > bestSum {
          bestSum = s
          best = Crop(x: x, y: y, width: cw, height: ch)
        }
      }
    }
    return best
  }

  /// The pixels of `crop` of a gray image.
  public static func cropped(_ image: GrayImage, _ c: Crop) -> GrayImage {
    var samples: [UInt16] = []
    samples.reserveCapacity(c.width * c.height)
    for y in c.y..<(c.y + c.height) {
      samples += image.samples[(y * image.width + c.x)..<(y * image.width + c.x + c.width)]
    }
    return GrayImage(width: c.width, height: c.height, maxValue: image.maxValue, samples: samples)
  }

  /// The pixels of `crop` of an RGB image.
  public static func cropped(_ image: RGBImage, _ c: Crop) -> RGBImage {
    var pixels: [UInt8] = []
    pixels.reserveCapacity(c.width * c.height * 3)
    for y in c.y..<(c.y + c.height) {
      let o = (y * image.width + c.x) * 3
      pixels += image.pixels[o..<(o + c.width * 3)]
    }
    return RGBImage(width: c.width, height: c.height, pixels: pixels)
  }
}
