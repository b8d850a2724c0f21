/// What can be measured without ground truth (specs/metrics.md, "No ground truth"), reported
/// under its own names and never mixed into a ground-truth metric:
///
/// - flicker: mean |α_t − α_{t−1}| (×1e3) over the pixels whose source did not change
///   between the two frames (every channel within `staticTolerance`), so alpha that moves on a
///   still picture is what counts;
/// - edge alignment: how well alpha edges follow picture edges in the transition band, as the
///   |∇α|-weighted mean of |cos θ| between the alpha gradient and the luma gradient (Sobel);
///   1 = every alpha edge lies along a picture edge, 0 = across or where the picture is flat;
/// - disagreement: mean |α_A − α_B| (×1e3) between two arms, used to pick frames for review.
///
/// Without ground truth, regions come from the prediction itself (for A versus B, from both:
/// a pixel is in a region when it is in either arm's).
public enum NoTruth {
  public static let version =
    "NoTruth/1: flicker mean |a_t - a_t-1| where every source channel changed by <= 3/255, x1e3 (regions of t-1); edge alignment |grad a|-weighted mean |cos| between Sobel gradients of alpha and luma (BT.709), luma gradient below 1/255 counts 0; disagreement mean |a_A - a_B| x1e3; regions derived from the predictions"

  /// A source change at or below this (per channel, 0…1) counts as no change.
  public static let staticTolerance = 3.0 / 255

  /// Σ |α_t − α_{t−1}| and the number of static pixels, per region of `regions` (frame t − 1).
  public static func flicker(
    alpha: Matte, previousAlpha: Matte, source: RGBPicture, previousSource: RGBPicture, regions: RegionMap
  ) -> [(sum: Double, pixels: Int)] {
    ErrorMaps.checkSameSize(alpha, previousAlpha)
    let n = alpha.pixelCount
    precondition(source.values.count == 3 * n && previousSource.values.count == 3 * n, "source differs in size")
    let ia = 1 / Double(alpha.maxValue)
    let ip = 1 / Double(previousAlpha.maxValue)
    var sums = [Double](repeating: 0, count: RegionKind.allCases.count)
    var pixels = [Int](repeating: 0, count: RegionKind.allCases.count)
    for i in 0..<n {
      var still = true
      for c in 0..<3 where abs(source.values[3 * i + c] - previousSource.values[3 * i + c]) > staticTolerance {
        still = false
      }
      guard still else { continue }
      let d = abs(Double(alpha.codes[i]) * ia - Double(previousAlpha.codes[i]) * ip)
      var bits = regions.bits[i]
      while bits != 0 {
        let r = Int(bits.trailingZeroBitCount)
        sums[r] += d
        pixels[r] += 1
        bits &= bits - 1
      }
    }
    return zip(sums, pixels).map { ($0, $1) }
  }

  /// Σ |∇α|·|cos θ| and Σ |∇α| per region.
  public static func edgeAlignment(alpha: Matte, source: RGBPicture, regions: RegionMap) -> [(
    sum: Double, weight: Double
  )] {
    let w = alpha.width
    let h = alpha.height
    precondition(source.width == w && source.height == h, "source differs in size")
    let a = alpha.values()
    var luma = [Double](repeating: 0, count: w * h)
    for i in 0..<(w * h) {
      luma[i] =
        0.2126 * source.values[3 * i] + 0.7152 * source.values[3 * i + 1] + 0.0722 * source.values[3 * i + 2]
    }
    let (ax, ay) = sobel(a, w, h)
    let (lx, ly) = sobel(luma, w, h)
    var sums = [Double](repeating: 0, count: RegionKind.allCases.count)
    var weights = [Double](repeating: 0, count: RegionKind.allCases.count)
    // Sobel's gain is 8 per unit step: a luma gradient below 1/255 per pixel is no edge.
    let flat = 8.0 / 255
    for i in 0..<(w * h) {
      let ma = (ax[i] * ax[i] + ay[i] * ay[i]).squareRoot()
      guard ma > 0 else { continue }
      let ml = (lx[i] * lx[i] + ly[i] * ly[i]).squareRoot()
      let cosine = ml < flat ? 0 : abs(ax[i] * lx[i] + ay[i] * ly[i]) / (ma * ml)
      var bits = regions.bits[i]
      while bits != 0 {
        let r = Int(bits.trailingZeroBitCount)
        sums[r] += ma * cosine
        weights[r] += ma
        bits &= bits - 1
      }
    }
    return zip(sums, weights).map { ($0, $1) }
  }

  /// Σ |α_A − α_B| and pixels per region.
  public static func disagreement(_ a: Matte, _ b: Matte, regions: RegionMap) -> [(sum: Double, pixels: Int)] {
    let map = ErrorMaps.absoluteDifference(a, b)
    return RegionKind.allCases.map { regions.sum(map, over: $0) }
  }

  /// Sobel derivatives with a replicate border: x = [−1 0 1] across, [1 2 1] down.
  static func sobel(_ v: [Double], _ w: Int, _ h: Int) -> (x: [Double], y: [Double]) {
    var gx = [Double](repeating: 0, count: w * h)
    var gy = gx
    func at(_ x: Int, _ y: Int) -> Double { v[min(max(y, 0), h - 1) * w + min(max(x, 0), w - 1)] }
    for y in 0..<h {
      for x in 0..<w {
        gx[y * w + x] =
          (at(x + 1, y - 1) + 2 * at(x + 1, y) + at(x + 1, y + 1))
          - (at(x - 1, y - 1) + 2 * at(x - 1, y) + at(x - 1, y + 1))
        gy[y * w + x] =
          (at(x - 1, y + 1) + 2 * at(x, y + 1) + at(x + 1, y + 1))
          - (at(x - 1, y - 1) + 2 * at(x, y - 1) + at(x + 1, y - 1))
      }
    }
    return (gx, gy)
  }
}
