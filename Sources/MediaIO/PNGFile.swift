internal import CPNG
public import Foundation

/// How hard a PNG writer compresses. Either way the pixels are stored losslessly.
public enum PNGCompression: Sendable {
  /// zlib level 6 with libpng's adaptive row filters: smaller files.
  case standard
  /// zlib level 1 with the Up filter only: several times faster on large pictures, somewhat larger.
  case fast
}

/// PNG files through libpng's simplified API (no setjmp/longjmp), and a small shim for 16-bit
/// samples written exactly and for the fast compression setting.
public enum PNGFile {
  /// Writes an 8-bit RGB PNG.
  public static func write(
    _ image: RGBImage, to path: String, compression: PNGCompression = .standard
  ) throws(MediaError) {
    switch compression {
    case .standard:
      try writeRaw(
        path: path, width: image.width, height: image.height, format: cpng_format_rgb(),
        bytes: image.pixels, rowStride: image.width * 3)
    case .fast:
      let failure = image.pixels.withUnsafeBytes { raw in
        writeExact(path: path, width: image.width, height: image.height, channels: 3, depth: 8, bytes: raw, fast: true)
      }
      if let failure { throw failure }
    }
  }

  /// Writes an 8-bit grayscale PNG from `samples` (one byte per pixel).
  public static func writeGray8(
    _ samples: [UInt8], width: Int, height: Int, to path: String, compression: PNGCompression = .standard
  ) throws(MediaError) {
    switch compression {
    case .standard:
      try writeRaw(
        path: path, width: width, height: height, format: cpng_format_gray(), bytes: samples,
        rowStride: width)
    case .fast:
      let failure = samples.withUnsafeBytes { raw in
        writeExact(path: path, width: width, height: height, channels: 1, depth: 8, bytes: raw, fast: true)
      }
      if let failure { throw failure }
    }
  }

  /// Writes a 16-bit grayscale PNG with every sample exactly as given (no gamma chunk);
  /// `image` is rescaled to 0…65535 with rounding if its `maxValue` is smaller.
  public static func writeGray16(_ image: GrayImage, to path: String) throws(MediaError) {
    let samples: [UInt16]
    if image.maxValue == 65535 {
      samples = image.samples
    } else {
      let m = UInt32(image.maxValue)
      samples = image.samples.map { UInt16((UInt32($0) * 65535 + m / 2) / m) }
    }
    let failure = samples.withUnsafeBytes { raw in
      writeExact(path: path, width: image.width, height: image.height, channels: 1, depth: 16, bytes: raw, fast: false)
    }
    if let failure { throw failure }
  }

  /// An 8-bit RGBA PNG in memory: `rgb`'s colour (straight, not premultiplied) and `alpha`
  /// rounded to 8 bits. `name` is what an error calls it.
  public static func encodeRGBA(
    _ rgb: RGBImage, alpha: GrayImage, name: String, compression: PNGCompression = .standard
  ) throws(MediaError) -> Data {
    guard rgb.width == alpha.width, rgb.height == alpha.height else {
      throw MediaError(
        path: name, reason: "colour is \(rgb.width)x\(rgb.height) but alpha is \(alpha.width)x\(alpha.height)")
    }
    let n = rgb.width * rgb.height
    var bytes = [UInt8](repeating: 0, count: n * 4)
    let m = UInt32(alpha.maxValue)
    for i in 0..<n {
      bytes[4 * i] = rgb.pixels[3 * i]
      bytes[4 * i + 1] = rgb.pixels[3 * i + 1]
      bytes[4 * i + 2] = rgb.pixels[3 * i + 2]
      bytes[4 * i + 3] = UInt8((UInt32(alpha.samples[i]) * 255 + m / 2) / m)
    }
    var error = [CChar](repeating: 0, count: 256)
    var out: UnsafeMutablePointer<UInt8>?
    var size = 0
    let r = bytes.withUnsafeBufferPointer { raw in
      cpng_encode_exact(
        UInt32(rgb.width), UInt32(rgb.height), 4, 8, raw.baseAddress, rgb.width * 4, compression == .fast ? 1 : 0,
        &out, &size, &error, error.count)
    }
    guard r == 0, let out else {
      let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      throw MediaError(path: name, reason: "PNG encoding failed: \(reason)")
    }
    defer { free(out) }
    return Data(bytes: out, count: size)
  }

  /// Writes a 16-bit RGB PNG with every sample exactly as given.
  public static func write(
    _ image: RGB16Image, to path: String, compression: PNGCompression = .standard
  ) throws(MediaError) {
    let failure = image.samples.withUnsafeBytes { raw in
      writeExact(
        path: path, width: image.width, height: image.height, channels: 3, depth: 16, bytes: raw,
        fast: compression == .fast)
    }
    if let failure { throw failure }
  }

  /// Writes `bytes` (rows of `width`·`channels` samples of `depth` bits, 16-bit ones in native
  /// byte order) through the shim, without gamma or colour conversion; returns the error, if any.
  private static func writeExact(
    path: String, width: Int, height: Int, channels: Int, depth: Int, bytes: UnsafeRawBufferPointer, fast: Bool
  ) -> MediaError? {
    var error = [CChar](repeating: 0, count: 256)
    let r = cpng_write_exact(
      path, UInt32(width), UInt32(height), Int32(channels), Int32(depth),
      bytes.bindMemory(to: UInt8.self).baseAddress, width * channels * depth / 8, fast ? 1 : 0, &error, error.count)
    if r != 0 {
      let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      return MediaError(path: path, reason: "PNG write failed: \(reason)")
    }
    return nil
  }

  /// Reads any PNG as 8-bit RGB.
  public static func readRGB(_ path: String) throws(MediaError) -> RGBImage {
    _ = try InputFile.regularFile(path, maxBytes: InputLimits.maxPNGBytes)
    var png = makeImage(width: 0, height: 0, format: 0)
    guard png_image_begin_read_from_file(&png, path) != 0 else {
      let reason = message(of: png)
      png_image_free(&png)
      throw MediaError(path: path, reason: "not a readable PNG: \(reason)")
    }
    png.format = cpng_format_rgb()
    let width = Int(png.width)
    let height = Int(png.height)
    guard InputLimits.problem(width: width, height: height) == nil else {
      png_image_free(&png)
      throw MediaError(path: path, reason: "PNG has unsupported dimensions \(width)x\(height)")
    }
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    let ok = pixels.withUnsafeMutableBytes { raw in
      png_image_finish_read(&png, nil, raw.baseAddress, Int32(width * 3), nil)
    }
    defer { png_image_free(&png) }
    if ok == 0 { throw MediaError(path: path, reason: "PNG decode failed: \(message(of: png))") }
    return RGBImage(width: width, height: height, pixels: pixels)
  }

  private static func writeRaw(
    path: String, width: Int, height: Int, format: UInt32, bytes: [UInt8], rowStride: Int
  ) throws(MediaError) {
    var png = makeImage(width: width, height: height, format: format)
    let ok = bytes.withUnsafeBytes { raw in
      png_image_write_to_file(&png, path, 0, raw.baseAddress, Int32(rowStride), nil)
    }
    defer { png_image_free(&png) }
    if ok == 0 { throw MediaError(path: path, reason: "PNG write failed: \(message(of: png))") }
  }

  private static func makeImage(width: Int, height: Int, format: UInt32) -> png_image {
    var png = png_image()
    png.version = cpng_image_version()
    png.width = UInt32(width)
    png.height = UInt32(height)
    png.format = format
    return png
  }

  private static func message(of png: png_image) -> String {
    withUnsafeBytes(of: png.message) { raw in
      let bytes = raw.prefix { $0 != 0 }
      return String(decoding: bytes, as: UTF8.self)
    }
  }
}
