/// An alpha matte as integer codes in `0...maxValue` (255 for 8-bit, 65535 for 16-bit data).
///
/// Metrics work on the codes directly; a value is `code / maxValue`. Nothing is truncated to
/// 8 bits, and threshold comparisons are done on integers (see `Conn`).
public struct Matte: Sendable, Equatable {
  public var width: Int
  public var height: Int
  public var maxValue: Int
  public var codes: [UInt16]

  public init(width: Int, height: Int, maxValue: Int, codes: [UInt16]) {
    precondition(codes.count == width * height, "Matte needs width*height codes")
    precondition(maxValue > 0 && maxValue <= 65535, "Matte maxValue must be in 1...65535")
    self.width = width
    self.height = height
    self.maxValue = maxValue
    self.codes = codes
  }

  /// A matte from values in [0, 1], quantised to `maxValue` with rounding.
  public init(width: Int, height: Int, maxValue: Int = 255, values: [Double]) {
    let m = Double(maxValue)
    self.init(
      width: width, height: height, maxValue: maxValue,
      codes: values.map { UInt16((min(max($0, 0), 1) * m).rounded()) })
  }

  /// The values `code / maxValue` as doubles.
  public func values() -> [Double] {
    let inv = 1.0 / Double(maxValue)
    return codes.map { Double($0) * inv }
  }

  public var pixelCount: Int { width * height }
}
