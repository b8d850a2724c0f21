import Foundation
import MatteMetrics
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

  /// A range of x that holds every point of the shape on the horizontal line at `y`, or nil when
  /// the line misses it. The shapes are convex, so the points on a line form one interval; the
  /// range is computed in closed form and may be a little wide, because `contains` decides.
  func rowSpan(_ y: Double) -> (lo: Double, hi: Double)? {
    switch self {
    case .rotatedEllipse(let cx, let cy, let rx, let ry, let c, let s):
      // u² + v² ≤ 1 with u = (dx·c + dy·s)/rx, v = (−dx·s + dy·c)/ry: a quadratic in dx.
      let dy = y - cy
      let irx = 1 / (rx * rx)
      let iry = 1 / (ry * ry)
      let a = c * c * irx + s * s * iry
      let b = 2 * s * c * dy * (irx - iry)
      let k = dy * dy * (s * s * irx + c * c * iry) - 1
      let disc = b * b - 4 * a * k
      guard disc >= 0 else { return nil }
      let root = disc.squareRoot()
      return (cx + (-b - root) / (2 * a), cx + (-b + root) / (2 * a))
    case .rotatedRect(let cx, let cy, let hw, let hh, let c, let s):
      return Self.rectSpan(dy: y - cy, halfW: hw, halfH: hh, c: c, s: s).map { (cx + $0.lo, cx + $0.hi) }
    case .capsule(let x0, let y0, let x1, let y1, let hw):
      // The union of the two end discs and the rectangle swept along the segment.
      var lo = Double.infinity
      var hi = -Double.infinity
      @inline(__always) func disc(_ px: Double, _ py: Double) {
        let r2 = hw * hw - (y - py) * (y - py)
        if r2 >= 0 {
          let r = r2.squareRoot()
          lo = min(lo, px - r)
          hi = max(hi, px + r)
        }
      }
      disc(x0, y0)
      disc(x1, y1)
      let vx = x1 - x0
      let vy = y1 - y0
      let length = (vx * vx + vy * vy).squareRoot()
      if length > 0,
        let span = Self.rectSpan(
          dy: y - (y0 + y1) / 2, halfW: length / 2, halfH: hw, c: vx / length, s: vy / length)
      {
        lo = min(lo, (x0 + x1) / 2 + span.lo)
        hi = max(hi, (x0 + x1) / 2 + span.hi)
      }
      return lo <= hi ? (lo, hi) : nil
    }
  }

  /// The dx with |dx·c + dy·s| ≤ halfW and |−dx·s + dy·c| ≤ halfH.
  private static func rectSpan(dy: Double, halfW: Double, halfH: Double, c: Double, s: Double) -> (
    lo: Double, hi: Double
  )? {
    var lo = -Double.infinity
    var hi = Double.infinity
    // Narrows [lo, hi] to |coefficient·dx + offset| ≤ half; false when no dx qualifies.
    @inline(__always) func slab(_ coefficient: Double, _ offset: Double, _ half: Double) -> Bool {
      if coefficient == 0 { return abs(offset) <= half }
      let a = (-half - offset) / coefficient
      let b = (half - offset) / coefficient
      lo = max(lo, min(a, b))
      hi = min(hi, max(a, b))
      return true
    }
    guard slab(c, dy * s, halfW), slab(-s, dy * c, halfH) else { return nil }
    return lo <= hi ? (lo, hi) : nil
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

extension Shape {
  /// Where the point (x, y) of this shape is on `later`, the same shape at a later time: rigid
  /// shapes carry their local coordinates; a capsule carries the position along its segment
  /// and the offset across it.
  func carry(_ x: Double, _ y: Double, to later: Shape) -> (x: Double, y: Double) {
    switch (self, later) {
    case (.rotatedEllipse(let cx, let cy, _, _, let c, let s), .rotatedEllipse(let cx2, let cy2, _, _, let c2, let s2)),
      (.rotatedRect(let cx, let cy, _, _, let c, let s), .rotatedRect(let cx2, let cy2, _, _, let c2, let s2)):
      let dx = x - cx
      let dy = y - cy
      let u = dx * c + dy * s
      let v = -dx * s + dy * c
      return (cx2 + u * c2 - v * s2, cy2 + u * s2 + v * c2)
    case (.capsule(let x0, let y0, let x1, let y1, _), .capsule(let a0, let b0, let a1, let b1, _)):
      let vx = x1 - x0
      let vy = y1 - y0
      let len = (vx * vx + vy * vy).squareRoot()
      guard len > 0 else { return (x + a0 - x0, y + b0 - y0) }
      let t = ((x - x0) * vx + (y - y0) * vy) / (len * len)
      let across = ((x - x0) * -vy + (y - y0) * vx) / len
      let wx = a1 - a0
      let wy = b1 - b0
      let len2 = (wx * wx + wy * wy).squareRoot()
      guard len2 > 0 else { return (a0 + across, b0) }
      return (a0 + t * wx - across * wy / len2, b0 + t * wy + across * wx / len2)
    default:
      return (x, y)
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

/// Ground-truth motion from frame t − 1 to frame t: at each pixel centre, the topmost shape there
/// at mid-shutter of t − 1 carries the point to its place at mid-shutter of t; the background
/// moves by `backgroundShift` pixels across (0 for a static camera). `previous` and `next` are
/// the same script's layers.
func motionField(
  from previous: [Layer], to next: [Layer], width: Int, height: Int, backgroundShift: Float = 0
) -> MotionField {
  var dx = [Float](repeating: backgroundShift, count: width * height)
  var dy = [Float](repeating: 0, count: width * height)
  for (l, layer) in previous.enumerated() where l < next.count {
    let before = layer.shapesAt[layer.shapesAt.count / 2]
    let after = next[l].shapesAt[next[l].shapesAt.count / 2]
    for (i, shape) in before.enumerated() where i < after.count {
      let b = shape.bounds
      let x0 = max(0, Int(b.minX.rounded(.down)))
      let y0 = max(0, Int(b.minY.rounded(.down)))
      let x1 = min(width - 1, Int(b.maxX.rounded(.up)))
      let y1 = min(height - 1, Int(b.maxY.rounded(.up)))
      if x0 > x1 || y0 > y1 { continue }
      for y in y0...y1 {
        let cy = Double(y) + 0.5
        guard let span = shape.rowSpan(cy) else { continue }
        let first = max(x0, Int((span.lo - 0.5).rounded(.down)) - 1)
        let last = min(x1, Int((span.hi - 0.5).rounded(.up)) + 1)
        if first > last { continue }
        for x in first...last {
          let cx = Double(x) + 0.5
          guard shape.contains(cx, cy) else { continue }
          let p = shape.carry(cx, cy, to: after[i])
          dx[y * width + x] = Float(p.x - cx)
          dy[y * width + x] = Float(p.y - cy)
        }
      }
    }
  }
  return MotionField(width: width, height: height, dx: dx, dy: dy)
}

/// Renders composited frames with exact ground truth: image = α·F + (1−α)·B by construction.
struct SceneRenderer {
  let width: Int
  let height: Int
  /// Supersamples per pixel side: a power of two, so that a subsample's pixel is a shift away.
  let supersample: Int
  let background: RGBImage

  init(width: Int, height: Int, supersample: Int, background: RGBImage) {
    precondition(supersample > 0 && supersample & (supersample - 1) == 0, "supersample must be a power of two")
    self.width = width
    self.height = height
    self.supersample = supersample
    self.background = background
  }

  struct Output {
    /// The source frame before encoding: `compose(α16, F16, B)` at every pixel.
    var rgb: RGBImage
    var alpha16: GrayImage
    /// Ground-truth foreground colour, 16-bit (0 where α = 0, where it does not matter).
    var foreground16: RGB16Image
    var regionCodes: GrayImage
  }

  /// The 8-bit source code of value α·F + (1 − α)·B with α = a/65535, F = f/65535, B = b/255,
  /// rounded half up, in exact integer arithmetic: 255·I = (a·f·255 + (65535 − a)·b·65535) / 65535².
  @inline(__always)
  static func compose(a: UInt16, f: UInt16, b: UInt8) -> UInt8 {
    let n = UInt64(a) * UInt64(f) * 255 + UInt64(65535 - a) * UInt64(b) * 65535
    let d: UInt64 = 65535 * 65535
    return UInt8((2 * n + d) / (2 * d))
  }

  /// Pixel rows rendered at a time: the supersample buffers cover one band, are reused for the
  /// next, and stay in cache (full-frame buffers cost 33 MB per layer at 1080p).
  static let bandRows = 16

  /// Renders one frame over `plate` (the renderer's `background` when nil: a static camera).
  func render(_ layers: [Layer], plate framePlate: RGBImage? = nil) -> Output {
    let s = supersample
    let shift = s.trailingZeroBitCount
    let hw = width * s
    let bandHeight = Self.bandRows * s
    let bandSize = hw * bandHeight
    let bandPixels = width * Self.bandRows
    let layerCount = layers.count
    // Per layer, per subsample of the band: how many time samples cover it (layer l at l·bandSize).
    let coverage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, layerCount * bandSize))
    // Per layer, per pixel of the band: how many (subsample, time sample) pairs it covers. A pixel
    // where every layer covers none or all of them is composited once instead of per subsample.
    let pixelCoverage = UnsafeMutableBufferPointer<UInt16>.allocate(capacity: max(1, layerCount * bandPixels))
    // A fresh mark per band, layer and time sample, so overlapping shapes of one instant count
    // once; marks only grow, so the buffer never needs clearing.
    let stamp = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: bandSize)
    stamp.initialize(repeating: 0)
    defer {
      coverage.deallocate()
      pixelCoverage.deallocate()
      stamp.deallocate()
    }
    var nextMark: UInt32 = 0
    var rgb = [UInt8](repeating: 0, count: width * height * 3)
    var foreground = [UInt16](repeating: 0, count: width * height * 3)
    var alpha = [UInt16](repeating: 0, count: width * height)
    var regions = [UInt16](repeating: 0, count: width * height)
    var hairSoft = [Bool](repeating: false, count: width * height)
    let inv = 1.0 / Double(s * s)
    let scale = layers.map { $0.opacity / Double($0.timeSamples) }
    let fullAlpha = layers.map { $0.opacity / Double($0.timeSamples) * Double($0.timeSamples) }
    let full = layers.map { UInt16(s * s * $0.timeSamples) }
    let colors = layers.map(\.color)
    let kinds = layers.map(\.kind)
    // The layers that cover some pixel of the current band; the others are skipped.
    var active: [Int] = []
    let plate = (framePlate ?? background).pixels
    for band in stride(from: 0, to: height, by: Self.bandRows) {
      let bandEnd = min(band + Self.bandRows, height)
      let bandTop = band * s
      let bandBottom = bandEnd * s - 1
      active.removeAll(keepingCapacity: true)
      for (l, layer) in layers.enumerated() {
        let cover = coverage.baseAddress! + l * bandSize
        let pixels = pixelCoverage.baseAddress! + l * bandPixels
        cover.update(repeating: 0, count: bandSize)
        pixels.update(repeating: 0, count: bandPixels)
        var touched = false
        for shapes in layer.shapesAt {
          nextMark += 1
          let mark = nextMark
          // One shape covers each subsample at most once: no marks needed.
          let marked = shapes.count > 1
          for shape in shapes {
            let b = shape.bounds
            let x0 = max(0, Int((b.minX * Double(s)).rounded(.down)) - 1)
            let y0 = max(bandTop, Int((b.minY * Double(s)).rounded(.down)) - 1)
            let x1 = min(hw - 1, Int((b.maxX * Double(s)).rounded(.up)) + 1)
            let y1 = min(bandBottom, Int((b.maxY * Double(s)).rounded(.up)) + 1)
            if x0 > x1 || y0 > y1 { continue }
            for Y in y0...y1 {
              let y = (Double(Y) + 0.5) / Double(s)
              // The shape is convex, so on this row it covers one run of subsamples: the span
              // in closed form, one spare on each side, narrowed by `contains` from both ends.
              guard let span = shape.rowSpan(y) else { continue }
              var first = max(x0, Int((span.lo * Double(s) - 0.5).rounded(.down)) - 1)
              var last = min(x1, Int((span.hi * Double(s) - 0.5).rounded(.up)) + 1)
              while first <= last, !shape.contains((Double(first) + 0.5) / Double(s), y) { first += 1 }
              while last > first, !shape.contains((Double(last) + 0.5) / Double(s), y) { last -= 1 }
              if first > last { continue }
              touched = true
              let rowBase = (Y - bandTop) * hw
              let pixelRow = ((Y - bandTop) >> shift) * width
              // Pixel by pixel, so that each pixel's count is added once.
              var column = first
              while column <= last {
                let pixel = column >> shift
                let end = min(last, (pixel + 1) << shift - 1)
                var added: UInt16 = 0
                if marked {
                  for j in (rowBase + column)...(rowBase + end) where stamp[j] != mark {
                    stamp[j] = mark
                    cover[j] += 1
                    added += 1
                  }
                } else {
                  for j in (rowBase + column)...(rowBase + end) { cover[j] += 1 }
                  added = UInt16(end - column + 1)
                }
                pixels[pixelRow + pixel] += added
                column = end + 1
              }
            }
          }
        }
        if touched { active.append(l) }
      }
      for py in band..<bandEnd {
        for px in 0..<width {
          let k = py * width + px
          let k0 = (py - band) * width + px
          var covered = false
          var uniform = true
          for l in active {
            let c = pixelCoverage[l * bandPixels + k0]
            if c != 0 { covered = true }
            if c != 0 && c != full[l] {
              uniform = false
              break
            }
          }
          guard covered else {
            // No layer here: α = 0, F = 0, the source is the plate.
            rgb[k * 3] = plate[k * 3]
            rgb[k * 3 + 1] = plate[k * 3 + 1]
            rgb[k * 3 + 2] = plate[k * 3 + 2]
            continue
          }
          var sumA = 0.0
          var sumC = SIMD3<Double>(repeating: 0)
          // Which kinds of layer reach this pixel at all (any subsample, any instant).
          var hairHit = false
          var glassHit = false
          for l in active where pixelCoverage[l * bandPixels + k0] != 0 {
            switch kinds[l] {
            case .hair: hairHit = true
            case .glass: glassHit = true
            case .solid: break
            }
          }
          if uniform {
            // Every subsample sees the same layers: one composite, weighted as s² subsamples.
            var a = 0.0
            var c = SIMD3<Double>(repeating: 0)
            for l in active where pixelCoverage[l * bandPixels + k0] != 0 {
              let la = fullAlpha[l]
              c = colors[l] * la + c * (1 - la)
              a = la + a * (1 - la)
            }
            sumA = a * Double(s * s)
            sumC = c * Double(s * s)
          } else {
            for sy in 0..<s {
              let rowBase = ((py - band) * s + sy) * hw + px * s
              for sx in 0..<s {
                let j = rowBase + sx
                var a = 0.0
                var c = SIMD3<Double>(repeating: 0)
                for l in active {
                  let n = coverage[l * bandSize + j]
                  if n == 0 { continue }
                  let la = scale[l] * Double(n)
                  c = colors[l] * la + c * (1 - la)
                  a = la + a * (1 - la)
                }
                sumA += a
                sumC += c
              }
            }
          }
          let alphaValue = min(max(sumA * inv, 0), 1)
          let premultiplied = sumC * inv
          // Quantise α and F = C/α to 16 bits first; the source is composed from exactly those.
          let a16 = UInt16((alphaValue * 65535).rounded())
          alpha[k] = a16
          for ch in 0..<3 {
            var f16: UInt16 = 0
            if a16 > 0 {
              f16 = UInt16((min(max(premultiplied[ch] / alphaValue / 255, 0), 1) * 65535).rounded())
            }
            foreground[k * 3 + ch] = f16
            rgb[k * 3 + ch] = Self.compose(a: a16, f: f16, b: plate[k * 3 + ch])
          }
          hairSoft[k] = hairHit && a16 < 65535
          if glassHit { regions[k] |= RegionMaskCodes.glass }
        }
      }
    }
    // The hair mask: pixels a strand reached where the matte is soft, grown by one pixel.
    let hair = Morphology.dilate(hairSoft, width: width, height: height, radius: 1)
    // Hair is never glass: the same definition as the derived regions (docs/metrics.md).
    for k in hair.indices where hair[k] && regions[k] & RegionMaskCodes.glass == 0 {
      regions[k] |= RegionMaskCodes.hair
    }
    return Output(
      rgb: RGBImage(width: width, height: height, pixels: rgb),
      alpha16: GrayImage(width: width, height: height, maxValue: 65535, samples: alpha),
      foreground16: RGB16Image(width: width, height: height, samples: foreground),
      regionCodes: GrayImage(width: width, height: height, maxValue: 255, samples: regions))
  }
}
