/// An 8-bit RGB image, packed as R, G, B per pixel, rows top to bottom, no padding.
public struct RGBImage: Sendable, Equatable {
  public var width: Int
  public var height: Int
  public var pixels: [UInt8]

  public init(width: Int, height: Int, pixels: [UInt8]) {
    precondition(pixels.count == width * height * 3, "RGBImage needs width*height*3 bytes")
    self.width = width
    self.height = height
    self.pixels = pixels
  }

  public init(width: Int, height: Int) {
    self.init(width: width, height: height, pixels: [UInt8](repeating: 0, count: width * height * 3))
  }
}

/// A single-channel image with integer codes in `0...maxValue` (255 for 8-bit, 1023 for 10-bit,
/// 65535 for 16-bit). Alpha mattes, luma mattes and region masks travel in this type at the
/// precision they were stored with; nothing is truncated to 8 bits.
public struct GrayImage: Sendable, Equatable {
  public var width: Int
  public var height: Int
  public var maxValue: Int
  public var samples: [UInt16]

  public init(width: Int, height: Int, maxValue: Int, samples: [UInt16]) {
    precondition(samples.count == width * height, "GrayImage needs width*height samples")
    precondition(maxValue > 0 && maxValue <= 65535, "GrayImage maxValue must be in 1...65535")
    self.width = width
    self.height = height
    self.maxValue = maxValue
    self.samples = samples
  }

  /// The samples rescaled to 8 bits with rounding, for display.
  public func eightBit() -> [UInt8] {
    if maxValue == 255 { return samples.map { UInt8($0) } }
    let m = UInt32(maxValue)
    return samples.map { UInt8((UInt32($0) * 255 + m / 2) / m) }
  }
}

/// A 16-bit RGB image, packed as R, G, B per pixel (values 0…65535), rows top to bottom.
public struct RGB16Image: Sendable, Equatable {
  public var width: Int
  public var height: Int
  public var samples: [UInt16]

  public init(width: Int, height: Int, samples: [UInt16]) {
    precondition(samples.count == width * height * 3, "RGB16Image needs width*height*3 samples")
    self.width = width
    self.height = height
    self.samples = samples
  }
}

/// Quarter-turn rotations applied to decoded pictures (clockwise, as a player shows them).
public enum QuarterTurn: Int, Sendable, Equatable {
  case none = 0
  case clockwise = 90
  case half = 180
  case counterClockwise = 270

  /// The turn that displays a picture whose display matrix says `degrees` counterclockwise
  /// (FFmpeg's `av_display_rotation_get` convention), or `nil` when it is not a quarter turn.
  public init?(displayMatrixDegrees degrees: Double) {
    let clockwise = -degrees
    let quarters = (clockwise / 90).rounded()
    guard abs(clockwise - quarters * 90) < 0.5 else { return nil }
    var n = Int(quarters) % 4
    if n < 0 { n += 4 }
    self = [QuarterTurn.none, .clockwise, .half, .counterClockwise][n]
  }

  /// The size after turning a `width`×`height` picture.
  public func turned(_ size: PixelSize) -> PixelSize {
    switch self {
    case .none, .half: size
    case .clockwise, .counterClockwise: PixelSize(width: size.height, height: size.width)
    }
  }

  /// Moves `channels` interleaved samples per pixel of a `w`×`h` picture.
  func apply<T>(_ src: [T], width w: Int, height h: Int, channels c: Int) -> [T] {
    if self == .none { return src }
    var out = src
    switch self {
    case .none:
      break
    case .half:
      for y in 0..<h {
        for x in 0..<w {
          let s = (y * w + x) * c
          let d = ((h - 1 - y) * w + (w - 1 - x)) * c
          for k in 0..<c { out[d + k] = src[s + k] }
        }
      }
    case .clockwise:
      // Output is h wide and w tall: out[y'][x'] = in[h-1-x'][y'].
      for y2 in 0..<w {
        for x2 in 0..<h {
          let s = ((h - 1 - x2) * w + y2) * c
          let d = (y2 * h + x2) * c
          for k in 0..<c { out[d + k] = src[s + k] }
        }
      }
    case .counterClockwise:
      // out[y'][x'] = in[x'][w-1-y'].
      for y2 in 0..<w {
        for x2 in 0..<h {
          let s = (x2 * w + (w - 1 - y2)) * c
          let d = (y2 * h + x2) * c
          for k in 0..<c { out[d + k] = src[s + k] }
        }
      }
    }
    return out
  }
}

extension GrayImage {
  /// The image turned for display.
  public func turned(_ turn: QuarterTurn) -> GrayImage {
    let s = turn.turned(PixelSize(width: width, height: height))
    return GrayImage(
      width: s.width, height: s.height, maxValue: maxValue,
      samples: turn.apply(samples, width: width, height: height, channels: 1))
  }
}

extension RGBImage {
  /// The image turned for display.
  public func turned(_ turn: QuarterTurn) -> RGBImage {
    let s = turn.turned(PixelSize(width: width, height: height))
    return RGBImage(
      width: s.width, height: s.height, pixels: turn.apply(pixels, width: width, height: height, channels: 3))
  }
}

extension RGB16Image {
  /// The image turned for display.
  public func turned(_ turn: QuarterTurn) -> RGB16Image {
    let s = turn.turned(PixelSize(width: width, height: height))
    return RGB16Image(
      width: s.width, height: s.height, samples: turn.apply(samples, width: width, height: height, channels: 3))
  }
}

/// Converts premultiplied colour to straight colour: c' = round(c · aMax / a), clamped to the
/// colour's maximum; where a = 0 the colour is 0.
public enum Unpremultiply {
  public static func apply(_ rgb: inout [UInt8], alpha: GrayImage) {
    let aMax = UInt32(alpha.maxValue)
    for i in 0..<alpha.samples.count {
      let a = UInt32(alpha.samples[i])
      for k in 0..<3 {
        let c = UInt32(rgb[i * 3 + k])
        rgb[i * 3 + k] = a == 0 ? 0 : UInt8(min(255, (c * aMax + a / 2) / a))
      }
    }
  }

  public static func apply(_ rgb: inout [UInt16], alpha: GrayImage) {
    let aMax = UInt64(alpha.maxValue)
    for i in 0..<alpha.samples.count {
      let a = UInt64(alpha.samples[i])
      for k in 0..<3 {
        let c = UInt64(rgb[i * 3 + k])
        rgb[i * 3 + k] = a == 0 ? 0 : UInt16(min(65535, (c * aMax + a / 2) / a))
      }
    }
  }
}
