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
