/// Per-pixel error maps over the whole frame. Region values are sums of these maps over a mask
/// (specs/metrics.md, trap 5): Grad's min–max step and Conn's components see the full frame.
public enum ErrorMaps {
  /// |p − g| per pixel.
  public static func absoluteDifference(_ p: Matte, _ g: Matte) -> [Double] {
    checkSameSize(p, g)
    let ip = 1.0 / Double(p.maxValue)
    let ig = 1.0 / Double(g.maxValue)
    var out = [Double](repeating: 0, count: p.pixelCount)
    for i in 0..<p.pixelCount { out[i] = abs(Double(p.codes[i]) * ip - Double(g.codes[i]) * ig) }
    return out
  }

  /// (p − g)² per pixel.
  public static func squaredDifference(_ p: Matte, _ g: Matte) -> [Double] {
    checkSameSize(p, g)
    let ip = 1.0 / Double(p.maxValue)
    let ig = 1.0 / Double(g.maxValue)
    var out = [Double](repeating: 0, count: p.pixelCount)
    for i in 0..<p.pixelCount {
      let d = Double(p.codes[i]) * ip - Double(g.codes[i]) * ig
      out[i] = d * d
    }
    return out
  }

  static func checkSameSize(_ p: Matte, _ g: Matte) {
    precondition(p.width == g.width && p.height == g.height, "mattes differ in size")
  }
}
