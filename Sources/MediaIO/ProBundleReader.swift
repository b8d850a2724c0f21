import Foundation

/// Reads a `pro_bundle`: a ZIP holding `color.mp4` (the picture) and `alpha.mp4` (the matte as
/// luma), each at the top level or in one folder. Both are extracted to a private temporary
/// folder (removed when the reader goes away) and decoded in step; alpha is the matte's luma,
/// range-expanded when the matte video is limited range (`AlphaSource.matteLuma`).
public final class ProBundleReader: FrameSource {
  public let path: String
  public var size: PixelSize { matte.size }
  public var storedSize: PixelSize { matte.storedSize }
  public var frameRate: Double { matte.frameRate }
  public let layout: PixelLayout
  public var formatDescription: String { "pro_bundle(\(colorDecoder)+\(matte.decoderName))" }
  private let colorDecoder: String

  private let folder: String
  /// Opened only when colour is needed.
  private let color: VideoReader?
  private let matte: VideoReader
  private let options: ReadOptions

  public convenience init(path: String, options: ReadOptions) throws(MediaError) {
    try self.init(path: path, options: options, zip: nil)
  }

  /// `zip`: the archive at `path` when the caller has already opened it.
  init(path: String, options: ReadOptions, zip opened: SafeZip?) throws(MediaError) {
    self.path = path
    self.options = options
    let needsColor = options.rgb != .none
    let zip: SafeZip
    if let opened { zip = opened } else { zip = try SafeZip(path: path) }
    func member(_ name: String) throws(MediaError) -> String {
      let found = zip.members.map(\.path).filter { ($0 as NSString).lastPathComponent.lowercased() == name }
      guard found.count == 1 else {
        throw MediaError(
          path: path,
          reason: found.isEmpty
            ? "pro_bundle has no \(name)" : "pro_bundle has \(found.count) files named \(name)")
      }
      return found[0]
    }
    let colorMember = try member("color.mp4")
    let alphaMember = try member("alpha.mp4")
    let template = NSTemporaryDirectory() + "mattegate-bundle-XXXXXX"
    var buffer = Array(template.utf8CString)
    guard let made = mkdtemp(&buffer) else {
      throw MediaError(path: path, reason: "cannot create a temporary folder to unpack the bundle")
    }
    folder = String(cString: made)
    let colorLayout: PixelLayout
    let colorSize: PixelSize
    do {
      try zip.extract(colorMember, to: folder + "/color.mp4")
      try zip.extract(alphaMember, to: folder + "/alpha.mp4")
      var colorOptions = options
      colorOptions.alpha = .none
      colorOptions.rgb = needsColor ? options.rgb : .none
      // Opened once to check it and learn its layout; kept only when colour is read.
      let colorReader = try VideoReader(path: folder + "/color.mp4", options: colorOptions)
      colorDecoder = colorReader.decoderName
      colorLayout = colorReader.layout
      colorSize = colorReader.size
      color = needsColor ? colorReader : nil
      let wantsAlpha = options.alpha != .none || options.association == .premultiplied
      matte = try VideoReader(
        path: folder + "/alpha.mp4",
        options: ReadOptions(
          rgb: .none, alpha: wantsAlpha ? .matteLuma : .none, targetSize: options.targetSize,
          applyRotation: options.applyRotation))
    } catch {
      try? FileManager.default.removeItem(atPath: folder)
      throw MediaError(path: path, reason: "inside the pro_bundle: \(error)")
    }
    var l = colorLayout
    l.alphaDepth = matte.layout.colorDepth
    layout = l
    guard colorSize == matte.size else {
      try? FileManager.default.removeItem(atPath: folder)
      throw MediaError(
        path: path, reason: "pro_bundle color.mp4 is \(colorSize) but alpha.mp4 is \(matte.size)")
    }
  }

  deinit { try? FileManager.default.removeItem(atPath: folder) }

  public func nextFrame() throws(MediaError) -> DecodedFrame? {
    let c: DecodedFrame?
    let m: DecodedFrame?
    do {
      m = try matte.nextFrame()
      if let color {
        c = try color.nextFrame()
      } else {
        c = m.map { DecodedFrame(index: $0.index, time: $0.time) }
      }
    } catch {
      throw MediaError(path: path, reason: "inside the pro_bundle: \(error)")
    }
    guard var c else {
      if m != nil { throw MediaError(path: path, reason: "pro_bundle alpha.mp4 has more frames than color.mp4") }
      return nil
    }
    guard let m else {
      throw MediaError(
        path: path, reason: "pro_bundle color.mp4 has more frames than alpha.mp4 (ends at frame \(c.index))")
    }
    let tolerance = frameRate > 0 ? 0.5 / frameRate : 0.02
    guard abs(c.time - m.time) <= tolerance else {
      throw MediaError(
        path: path,
        reason:
          "pro_bundle frame \(c.index) is at \(c.time) s in color.mp4 but at \(m.time) s in alpha.mp4 (the two files are not in step)"
      )
    }
    if options.alpha != .none { c.alpha = m.alpha }
    if options.association == .premultiplied, let a = m.alpha {
      // Taken out of the frame first, so the pixels are changed in place, not copied.
      if var rgb = c.rgb {
        c.rgb = nil
        Unpremultiply.apply(&rgb.pixels, alpha: a)
        c.rgb = rgb
      }
      if var rgb = c.rgb16 {
        c.rgb16 = nil
        Unpremultiply.apply(&rgb.samples, alpha: a)
        c.rgb16 = rgb
      }
    }
    return c
  }
}

@available(*, unavailable)
extension ProBundleReader: Sendable {}

/// Opens whatever a service returned, by what it is: a folder or a ZIP of PNG frames
/// (`png_sequence`), a ZIP with color.mp4 + alpha.mp4 (`pro_bundle`), or any file FFmpeg reads
/// (videos of every container and codec, GIF, single PNG/JPEG images).
public enum MediaInput {
  public static func open(_ path: String, options: ReadOptions) throws(MediaError) -> any FrameSource {
    let kind = try InputFile.check(path, allowFolder: true)
    if kind == .folder { return try ImageSequenceReader(path: path, options: options) }
    if isZip(path) {
      let zip = try SafeZip(path: path)
      let names = Set(zip.members.map { ($0.path as NSString).lastPathComponent.lowercased() })
      if names.contains("color.mp4") || names.contains("alpha.mp4") {
        return try ProBundleReader(path: path, options: options, zip: zip)
      }
      return try ImageSequenceReader(path: path, options: options, zip: zip)
    }
    if kind == .file(size: 0) { throw MediaError(path: path, reason: "is empty (0 bytes)") }
    return try VideoReader(path: path, options: options)
  }

  /// Opens an output that must match the source's size: with `allowScaling` it is resampled to
  /// `sourceSize`; without, a different size is an error naming both sizes.
  ///
  /// - Parameter what: how the output is named in the error ("arm B output").
  public static func open(
    _ path: String, options: ReadOptions, sourceSize: PixelSize, allowScaling: Bool, what: String = "the output"
  ) throws(MediaError) -> any FrameSource {
    var o = options
    if allowScaling { o.targetSize = sourceSize }
    let reader = try open(path, options: o)
    guard reader.size == sourceSize else {
      throw MediaError(
        path: path,
        reason:
          "\(what) is \(reader.size) but the source is \(sourceSize); allow scaling in the config (allow_scaling: true) to resample it"
      )
    }
    return reader
  }

  /// Whether the file starts with a ZIP signature.
  static func isZip(_ path: String) -> Bool {
    guard let h = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? h.close() }
    let head = [UInt8]((try? h.read(upToCount: 4)) ?? Data())
    return head == [0x50, 0x4B, 0x03, 0x04] || head == [0x50, 0x4B, 0x05, 0x06]
  }
}
