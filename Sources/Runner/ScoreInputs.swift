import Foundation
import MatteMetrics
import MediaIO

/// An RGB file used as a matte: its channels must agree (a gray picture stored as RGB).
final class RGBMatte: FrameSource {
  let reader: any FrameSource
  let path: String
  var size: PixelSize { reader.size }
  var storedSize: PixelSize { reader.storedSize }
  var frameRate: Double { reader.frameRate }
  var formatDescription: String { reader.formatDescription }
  var layout: PixelLayout { reader.layout }

  init(path: String, sequenceFrameRate: Double = 25) throws {
    self.path = path
    reader = try MediaInput.open(path, options: ReadOptions(rgb: .eight, sequenceFrameRate: sequenceFrameRate))
  }

  func nextFrame() throws(MediaError) -> DecodedFrame? {
    guard var f = try reader.nextFrame(), let rgb = f.rgb else { return nil }
    let n = rgb.width * rgb.height
    var samples = [UInt16](repeating: 0, count: n)
    for i in 0..<n {
      let r = rgb.pixels[3 * i]
      guard rgb.pixels[3 * i + 1] == r, rgb.pixels[3 * i + 2] == r else {
        throw MediaError(
          path: path,
          reason:
            "frame \(f.index) is RGB with channels that differ (pixel \(i % rgb.width),\(i / rgb.width)) where a matte is expected; give a gray or RGBA file"
        )
      }
      samples[i] = UInt16(r)
    }
    f.alpha = GrayImage(width: rgb.width, height: rgb.height, maxValue: 255, samples: samples)
    f.rgb = nil
    return f
  }
}

/// `--regions DIR`: `DIR/<region>/<frame>.png` per frame or `DIR/<region>.png` static, for
/// the regions transition, hair, glass and motion; non-zero (first channel) is inside. A mask
/// replaces the region derived from ground truth. Anything else in DIR is an error (a typo
/// would otherwise silently fall back to the derived region).
struct RegionMasks {
  static let regions: [RegionKind] = [.transition, .hair, .glass, .motion]
  let folder: String
  let size: PixelSize
  var statics: [RegionKind: [Bool]] = [:]
  var perFrame: [RegionKind: [Int: String]] = [:]

  init(folder: String, size: PixelSize) throws {
    self.folder = folder
    self.size = size
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
      throw StandaloneScore.Failure(description: "\(folder): no such folder of region masks")
    }
    let names = Self.regions.map(\.rawValue)
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where !entry.hasPrefix(".") {
      let stem = entry.lowercased().hasSuffix(".png") ? String(entry.dropLast(4)) : entry
      guard names.contains(stem) else {
        throw StandaloneScore.Failure(
          description:
            "\(folder)/\(entry): not a region mask; expected <region>.png or <region>/<frame>.png with region one of \(names.joined(separator: ", "))"
        )
      }
    }
    for region in Self.regions {
      let file = folder + "/\(region.rawValue).png"
      if FileManager.default.fileExists(atPath: file) { statics[region] = try Self.read(file, size: size) }
      let sub = folder + "/\(region.rawValue)"
      if let entries = try? FileManager.default.contentsOfDirectory(atPath: sub) {
        var map: [Int: String] = [:]
        for name in entries where !name.hasPrefix(".") {
          guard name.lowercased().hasSuffix(".png"), let i = Int(name.dropLast(4)) else {
            throw StandaloneScore.Failure(
              description: "\(sub)/\(name): not a per-frame mask; expected <frame>.png, e.g. 0.png or 00012.png")
          }
          map[i] = sub + "/" + name
        }
        perFrame[region] = map
      }
    }
  }

  /// The masks of frame `frame`, by region.
  func masks(frame: Int) throws -> [RegionKind: [Bool]] {
    var out: [RegionKind: [Bool]] = [:]
    for region in Self.regions { out[region] = try mask(region, frame: frame) }
    return out
  }

  func mask(_ region: RegionKind, frame: Int) throws -> [Bool]? {
    if let path = perFrame[region]?[frame] { return try Self.read(path, size: size) }
    if perFrame[region] != nil && statics[region] == nil {
      throw StandaloneScore.Failure(description: "\(folder)/\(region.rawValue): no mask for frame \(frame)")
    }
    return statics[region]
  }

  static func read(_ path: String, size: PixelSize) throws -> [Bool] {
    let reader = try MediaInput.open(path, options: ReadOptions(rgb: .none, alpha: .luma))
    guard let m = try reader.nextFrame()?.alpha else {
      throw StandaloneScore.Failure(description: "\(path): no picture in the mask")
    }
    guard m.width == size.width, m.height == size.height else {
      throw StandaloneScore.Failure(
        description: "\(path): mask is \(m.width)x\(m.height) but the ground truth is \(size)")
    }
    return m.samples.map { $0 != 0 }
  }
}

/// Motion fields as NumPy `.npy` files: H×W×2 little-endian float32 (dx, dy), forward t−1 → t,
/// named after frame t (`12.npy`, or zero-padded), in a folder or a ZIP of such files. The
/// folder is listed, or the ZIP's directory read, once.
final class MotionFields {
  let folder: String
  let size: PixelSize
  private let zip: SafeZip?
  /// File (or ZIP member) per frame number.
  private let names: [Int: String]
  /// The last ZIP member's bytes, kept so that each frame's 8·W·H bytes reuse one buffer.
  private var buffer: [UInt8] = []
  /// Whether each ZIP member's CRC-32 is checked: not when the whole archive's sha256 was checked
  /// against a clip set's manifest as it loaded (the same bytes, pinned by a stronger hash).
  private let checkCRC: Bool
  init(folder: String, size: PixelSize, checkCRC: Bool = true) throws {
    self.folder = folder
    self.size = size
    self.checkCRC = checkCRC
    let entries: [String]
    try InputFile.check(folder, allowFolder: true)
    if folder.lowercased().hasSuffix(".zip") {
      let z = try SafeZip(path: folder)
      zip = z
      entries = z.members.map(\.path)
    } else {
      zip = nil
      entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    }
    var names: [Int: String] = [:]
    for name in entries where name.hasSuffix(".npy") {
      if let frame = Int((name.split(separator: "/").last ?? "").dropLast(4)) { names[frame] = name }
    }
    self.names = names
  }

  func field(frame: Int) throws -> MotionField {
    guard let name = names[frame] else {
      throw StandaloneScore.Failure(description: "\(folder): no motion field for frame \(frame) (\(frame).npy)")
    }
    let path = folder + (zip != nil ? ":" : "/") + name
    if let zip {
      try zip.read(name, into: &buffer, checkCRC: checkCRC)
      return try buffer.withUnsafeBytes { try parse($0, path: path) }
    }
    // H×W×2 float32 and a header: anything much larger is not this frame's field.
    _ = try InputFile.regularFile(path, maxBytes: size.width * size.height * 8 + 65_536)
    guard let data = FileManager.default.contents(atPath: path) else {
      throw StandaloneScore.Failure(description: "\(path): cannot read")
    }
    return try data.withUnsafeBytes { try parse($0, path: path) }
  }

  /// The field in `bytes` (a `.npy`), or the reason it is not one, naming `path`.
  private func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> MotionField {
    do {
      // Without dx and dy: scoring and the intake's checks read only targets and reach.
      return try MotionField(npy: bytes, width: size.width, height: size.height, components: false)
    } catch {
      throw StandaloneScore.Failure(description: "\(path): \(error.reason)")
    }
  }
}
