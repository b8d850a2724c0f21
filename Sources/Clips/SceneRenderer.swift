import Foundation
import MediaIO

/// A shape in pixel coordinates (x right, y down).
enum Shape {
  /// An ellipse rotated by an angle whose cosine and sine are `c` and `s`.
  case rotatedEllipse(cx: Double, cy: Double, rx: Double, ry: Double, c: Double, s: Double)
  /// A rectangle rotated by an angle whose cosine and sine are `c` and `s`.
  case rotatedRect(cx: Double, cy: Double, halfW: Double, halfH: Double, c: Double, s: Double)
  /// A segment with round caps, `halfWidth` either side of the centre line.
  case capsule(x0: Double, y0: Double, x1: Double, y1: Double, halfWidth: Double)

  static func ellipse(cx: Double, cy: Double, rx: Double, ry: Double, angle: Double) -> Shape {
    .rotatedEllipse(cx: cx, cy: cy, rx: rx, ry: ry, c: cos(angle), s: sin(angle))
  }

  static func rect(cx: Double, cy: Double, halfW: Double, halfH: Double, angle: Double) -> Shape {
    .rotatedRect(cx: cx, cy: cy, halfW: halfW, halfH: halfH, c: cos(angle), s: sin(angle))
  }

  var bounds: (minX: Double, minY: Double, maxX: Double, maxY: Double) {
    switch self {
    case .rotatedEllipse(let cx, let cy, let rx, let ry, _, _):
      let r = max(rx, ry)
      return (cx - r, cy - r, cx + r, cy + r)
    case .rotatedRect(let cx, let cy, let hw, let hh, _, _):
      let r = (hw * hw + hh * hh).squareRoot()
      return (cx - r, cy - r, cx + r, cy + r)
    case .capsule(let x0, let y0, let x1, let y1, let hw):
      return (min(x0, x1) - hw, min(y0, y1) - hw, max(x0, x1) + hw, max(y0, y1) + hw)
    }
  }

  @inline(__always)
  func contains(_ x: Double, _ y: Double) -> Bool {
    switch self {
    case .rotatedEllipse(let cx, let cy, let rx, let ry, let c, let s):
      let dx = x - cx
      let dy = y - cy
      let u = (dx * c + dy * s) / rx
      let v = (-dx * s + dy * c) / ry
      return u * u + v * v <= 1
    case .rotatedRect(let cx, let cy, let hw, let hh, let c, let s):
      let dx = x - cx
      let dy = y - cy
      return abs(dx * c + dy * s) <= hw && abs(-dx * s + dy * c) <= hh
    case .capsule(let x0, let y0, let x1, let y1, let hw):
      let vx = x1 - x0
      let vy = y1 - y0
      let len2 = vx * vx + vy * vy
      var t = len2 > 0 ? ((x - x0) * vx + (y - y0) * vy) / len2 : 0
      t = min(max(t, 0), 1)
      let px = x0 + t * vx - x
      let py = y0 + t * vy - y
      return px * px + py * py <= hw * hw
    }
  }
}

enum LayerKind { case solid, hair, glass }

/// One layer of a scene: a union of shapes of one colour and opacity. Coverage is counted per
/// supersample over `timeSamples` instants of the shutter interval, so a moving top layer gets
/// exact motion blur (the layers below it are static within the frame).
struct Layer {
  var kind: LayerKind
  var color: SIMD3<Double>
  var opacity: Double
  var timeSamples: Int
  /// The shapes at each time sample (count == timeSamples).
  var shapesAt: [[Shape]]
}

/// Renders composited frames with exact ground truth: image = α·F + (1−α)·B by construction.
struct SceneRenderer {
  let width: Int
  let height: Int
  /// Supersamples per pixel side.
  let supersample: Int
  let background: RGBImage

  struct Output {
    var rgb: RGBImage
    var alpha16: GrayImage
    var regionCodes: GrayImage
  }

  func render(_ layers: [Layer]) -> Output {
    let s = supersample
    let hw = width * s
    let hh = height * s
    var coverage: [[UInt8]] = []
    // A fresh mark per layer and time sample, so overlapping shapes of one instant count once.
    var stamp = [UInt32](repeating: 0, count: hw * hh)
    var nextMark: UInt32 = 0
    for layer in layers {
      var counts = [UInt8](repeating: 0, count: hw * hh)
      for shapes in layer.shapesAt {
        nextMark += 1
        let mark = nextMark
        for shape in shapes {
          let b = shape.bounds
          let x0 = max(0, Int((b.minX * Double(s)).rounded(.down)) - 1)
          let y0 = max(0, Int((b.minY * Double(s)).rounded(.down)) - 1)
          let x1 = min(hw - 1, Int((b.maxX * Double(s)).rounded(.up)) + 1)
          let y1 = min(hh - 1, Int((b.maxY * Double(s)).rounded(.up)) + 1)
          if x0 > x1 || y0 > y1 { continue }
          for Y in y0...y1 {
            let y = (Double(Y) + 0.5) / Double(s)
            for X in x0...x1 {
              let j = Y * hw + X
              if stamp[j] == mark { continue }
              let x = (Double(X) + 0.5) / Double(s)
              if shape.contains(x, y) {
                stamp[j] = mark
                counts[j] += 1
              }
            }
          }
        }
      }
      coverage.append(counts)
    }

    var rgb = [UInt8](repeating: 0, count: width * height * 3)
    var alpha = [UInt16](repeating: 0, count: width * height)
    var regions = [UInt16](repeating: 0, count: width * height)
    var hairSoft = [Bool](repeating: false, count: width * height)
    let inv = 1.0 / Double(s * s)
    let scale = layers.map { $0.opacity / Double($0.timeSamples) }
    for py in 0..<height {
      for px in 0..<width {
        var sumA = 0.0
        var sumC = SIMD3<Double>(repeating: 0)
        var hairHit = false
        var glassHit = false
        for sy in 0..<s {
          let rowBase = (py * s + sy) * hw + px * s
          for sx in 0..<s {
            let j = rowBase + sx
            var a = 0.0
            var c = SIMD3<Double>(repeating: 0)
            for l in 0..<layers.count {
              let n = coverage[l][j]
              if n == 0 { continue }
              let la = scale[l] * Double(n)
              c = layers[l].color * la + c * (1 - la)
              a = la + a * (1 - la)
              switch layers[l].kind {
              case .hair: hairHit = true
              case .glass: glassHit = true
              case .solid: break
              }
            }
            sumA += a
            sumC += c
          }
        }
        let k = py * width + px
        let alphaValue = sumA * inv
        let premultiplied = sumC * inv
        for ch in 0..<3 {
          let b = Double(background.pixels[k * 3 + ch])
          let value = premultiplied[ch] + (1 - alphaValue) * b
          rgb[k * 3 + ch] = UInt8(min(max(value.rounded(), 0), 255))
        }
        alpha[k] = UInt16((min(max(alphaValue, 0), 1) * 65535).rounded())
        hairSoft[k] = hairHit && alpha[k] < 65535
        if glassHit { regions[k] |= RegionMaskCodes.glass }
      }
    }
    // The hair mask: pixels a strand reached where the matte is soft, grown by one pixel.
    for py in 0..<height {
      for px in 0..<width {
        var near = false
        for dy in -1...1 where !near {
          for dx in -1...1 {
            let y = py + dy
            let x = px + dx
            if y >= 0, y < height, x >= 0, x < width, hairSoft[y * width + x] {
              near = true
              break
            }
          }
        }
        if near { regions[py * width + px] |= RegionMaskCodes.hair }
      }
    }
    return Output(
      rgb: RGBImage(width: width, height: height, pixels: rgb),
      alpha16: GrayImage(width: width, height: height, maxValue: 65535, samples: alpha),
      regionCodes: GrayImage(width: width, height: height, maxValue: 255, samples: regions))
  }
}
