import CMatteKernels

/// Area-average reduction of pictures, for previews: each output pixel is the mean of the
/// source pixels whose block it covers (block edges at ⌊i·W/w⌋), so fine detail such as hair
/// averages into partial coverage instead of aliasing into flicker as point sampling would.
public enum Downscale {
  /// The preview size of a `width`×`height` picture: at most `maxWidth` wide (never wider than
  /// the source), the aspect kept, both sides even (VP9 4:2:0) and at least 2.
  public static func size(width: Int, height: Int, maxWidth: Int) -> PixelSize {
    let w = min(width, maxWidth)
    let h = Int((Double(height) * Double(w) / Double(max(width, 1))).rounded())
    return PixelSize(width: max(2, w / 2 * 2), height: max(2, h / 2 * 2))
  }

  /// Block boundaries along one axis: `count + 1` source positions, every block at least one
  /// source sample wide (a source smaller than the output repeats samples).
  static func edges(source: Int, count: Int) -> [Int] {
    (0...count).map { i in i == count ? source : min(source - 1, i * source / count) }
  }

  /// A gray picture reduced to `size`, rescaled to 8 bits (0…255 for 0…maxValue), rounded; in C
  /// (`mg_downscale_gray8`), equal to `gray8Reference`.
  public static func gray8(_ image: GrayImage, to size: PixelSize) -> [UInt8] {
    let xs = edges(source: image.width, count: size.width)
    let ys = edges(source: image.height, count: size.height)
    // The kernel sums a block's rows per column in 32 bits: 65 537 rows of 65 535 would not fit.
    guard zip(ys, ys.dropFirst()).allSatisfy({ $1 - $0 < 65_537 }) else { return gray8Reference(image, to: size) }
    var out = [UInt8](repeating: 0, count: size.width * size.height)
    var sums = [UInt32](repeating: 0, count: image.width)
    image.samples.withUnsafeBufferPointer { src in
      mg_downscale_gray8(
        src.baseAddress!, image.width, xs, size.width, ys, size.height, image.maxValue, &sums, &out)
    }
    return out
  }

  /// `gray8` in Swift, the reference the C kernel is tested against.
  public static func gray8Reference(_ image: GrayImage, to size: PixelSize) -> [UInt8] {
    let xs = edges(source: image.width, count: size.width)
    let ys = edges(source: image.height, count: size.height)
    var out = [UInt8](repeating: 0, count: size.width * size.height)
    let w = image.width
    let maxValue = UInt64(image.maxValue)
    var rowSums = [UInt64](repeating: 0, count: size.width)
    image.samples.withUnsafeBufferPointer { src in
      for oy in 0..<size.height {
        let y0 = ys[oy]
        let y1 = max(ys[oy + 1], y0 + 1)
        for i in 0..<size.width { rowSums[i] = 0 }
        for y in y0..<y1 {
          let row = src.baseAddress! + y * w
          for ox in 0..<size.width {
            let x0 = xs[ox]
            let x1 = max(xs[ox + 1], x0 + 1)
            var s: UInt64 = 0
            for x in x0..<x1 { s &+= UInt64(row[x]) }
            rowSums[ox] &+= s
          }
        }
        for ox in 0..<size.width {
          let n = UInt64((y1 - y0) * (max(xs[ox + 1], xs[ox] + 1) - xs[ox]))
          // mean · 255 / maxValue, rounded half up.
          let den = n * maxValue
          out[oy * size.width + ox] = UInt8(min(255, (rowSums[ox] * 255 + den / 2) / den))
        }
      }
    }
    return out
  }

  /// The reduction of one 8-bit plane of `width`×`height` samples to `outWidth`×`outHeight`
  /// block means rounded half up, its block edges made once (a reader reduces every frame the
  /// same way); in C (`mg_downscale_plane8`), equal to `plane8Reference`.
  struct PlaneReduction {
    let width: Int
    let outWidth: Int
    let outHeight: Int
    private let xs: [Int]
    private let ys: [Int]

    init(width: Int, height: Int, outWidth: Int, outHeight: Int) {
      (self.width, self.outWidth, self.outHeight) = (width, outWidth, outHeight)
      xs = edges(source: width, count: outWidth)
      ys = edges(source: height, count: outHeight)
    }

    /// Reduces the plane at `src` (rows `stride` bytes apart) into `out` (rows `outStride`
    /// apart); `scratch` holds the column sums.
    func apply(
      _ src: UnsafePointer<UInt8>, stride: Int, into out: UnsafeMutablePointer<UInt8>, outStride: Int,
      scratch: inout [UInt32]
    ) {
      if scratch.count < width { scratch = [UInt32](repeating: 0, count: width) }
      mg_downscale_plane8(src, stride, width, xs, outWidth, ys, outHeight, &scratch, out, outStride)
    }
  }

  /// `plane8` in Swift (packed rows), the reference the C kernel is tested against.
  public static func plane8Reference(_ plane: [UInt8], width: Int, height: Int, to size: PixelSize) -> [UInt8] {
    let xs = edges(source: width, count: size.width)
    let ys = edges(source: height, count: size.height)
    var out = [UInt8](repeating: 0, count: size.width * size.height)
    for oy in 0..<size.height {
      let y0 = ys[oy]
      let y1 = max(ys[oy + 1], y0 + 1)
      for ox in 0..<size.width {
        let x0 = xs[ox]
        let x1 = max(xs[ox + 1], x0 + 1)
        var sum = 0
        for y in y0..<y1 { for x in x0..<x1 { sum += Int(plane[y * width + x]) } }
        let n = (y1 - y0) * (x1 - x0)
        out[oy * size.width + ox] = UInt8((sum + n / 2) / n)
      }
    }
    return out
  }

  /// `plane8` on packed rows, for tests.
  public static func plane8(_ plane: [UInt8], width: Int, height: Int, to size: PixelSize) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: size.width * size.height)
    var scratch: [UInt32] = []
    plane.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { o in
        PlaneReduction(width: width, height: height, outWidth: size.width, outHeight: size.height).apply(
          src.baseAddress!, stride: width, into: o.baseAddress!, outStride: size.width, scratch: &scratch)
      }
    }
    return out
  }

  /// An RGB picture reduced to `size`, each channel averaged and rounded.
  public static func rgb(_ image: RGBImage, to size: PixelSize) -> [UInt8] {
    let xs = edges(source: image.width, count: size.width)
    let ys = edges(source: image.height, count: size.height)
    var out = [UInt8](repeating: 0, count: size.width * size.height * 3)
    let w = image.width
    var sums = [UInt32](repeating: 0, count: size.width * 3)
    image.pixels.withUnsafeBufferPointer { src in
      for oy in 0..<size.height {
        let y0 = ys[oy]
        let y1 = max(ys[oy + 1], y0 + 1)
        for i in 0..<sums.count { sums[i] = 0 }
        for y in y0..<y1 {
          let row = src.baseAddress! + y * w * 3
          for ox in 0..<size.width {
            let x0 = xs[ox]
            let x1 = max(xs[ox + 1], x0 + 1)
            var (r, g, b): (UInt32, UInt32, UInt32) = (0, 0, 0)
            for x in x0..<x1 {
              r &+= UInt32(row[3 * x])
              g &+= UInt32(row[3 * x + 1])
              b &+= UInt32(row[3 * x + 2])
            }
            sums[3 * ox] &+= r
            sums[3 * ox + 1] &+= g
            sums[3 * ox + 2] &+= b
          }
        }
        for ox in 0..<size.width {
          let n = UInt32((y1 - y0) * (max(xs[ox + 1], xs[ox] + 1) - xs[ox]))
          for c in 0..<3 {
            out[(oy * size.width + ox) * 3 + c] = UInt8((sums[3 * ox + c] + n / 2) / n)
          }
        }
      }
    }
    return out
  }
}
