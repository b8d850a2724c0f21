internal import CFFmpeg
import Foundation

/// Reads a `png_sequence`: a folder of PNG files, or a ZIP of them, in natural name order
/// (`frame2.png` before `frame10.png`), one decoded picture at a time. PNG files carry no
/// timestamps: frame i is at i ÷ `ReadOptions.sequenceFrameRate` seconds.
public final class ImageSequenceReader: FrameSource {
  public let path: String
  public let frameRate: Double
  /// The PNG members in the order they are read.
  public let names: [String]
  public var formatDescription: String { "png_sequence(\(zip == nil ? "folder" : "zip"))/png" }
  public private(set) var storedSize: PixelSize
  public private(set) var layout = PixelLayout(colorDepth: 8, alphaDepth: 0, isGray: false, pixelFormat: "unknown")
  public var size: PixelSize { converter?.outputSize ?? storedSize }

  private let options: ReadOptions
  private let zip: SafeZip?
  private let decoder: PictureDecoder
  private var converter: FrameConverter?
  private var nextIndex = 0

  public init(path: String, options: ReadOptions) throws(MediaError) {
    self.path = path
    self.options = options
    frameRate = options.sequenceFrameRate
    guard frameRate > 0 else { throw MediaError(path: path, reason: "an image sequence needs a frame rate > 0") }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw MediaError(path: path, reason: "no such file or folder")
    }
    let all: [String]
    if isDirectory.boolValue {
      zip = nil
      do {
        all = try FileManager.default.contentsOfDirectory(atPath: path)
      } catch {
        throw MediaError(path: path, reason: "cannot list the folder (\(error))")
      }
    } else {
      let z = try SafeZip(path: path)
      zip = z
      all = z.members.map(\.path).filter { !$0.hasPrefix("__MACOSX/") }
    }
    names = all.filter { $0.lowercased().hasSuffix(".png") }.sorted {
      $0.compare($1, options: [.numeric, .caseInsensitive]) == .orderedAscending
    }
    guard !names.isEmpty else {
      throw MediaError(path: path, reason: "is an image sequence with no PNG frames")
    }
    decoder = try PictureDecoder(codecID: AV_CODEC_ID_PNG, path: path)
    storedSize = PixelSize(width: 0, height: 0)
    // Read the first picture now, so that size is known and a bad first file fails early.
    try decodePicture(0)
    let f = decoder.frame.pointer
    storedSize = PixelSize(width: Int(f.pointee.width), height: Int(f.pointee.height))
    guard storedSize.width > 0, storedSize.height > 0, storedSize.width <= 16384, storedSize.height <= 16384 else {
      throw MediaError(path: path, reason: "\(names[0]) has unsupported dimensions \(storedSize)")
    }
    layout = FrameConverter.layout(of: AVPixelFormat(rawValue: f.pointee.format))
    converter = FrameConverter(path: path, storedSize: storedSize, turn: .none, options: options)
    primed = true
  }

  private var primed = false

  private func decodePicture(_ i: Int) throws(MediaError) {
    let name = names[i]
    let bytes: Data
    if let zip {
      bytes = try zip.read(name)
    } else {
      let file = (path as NSString).appendingPathComponent(name)
      guard let data = FileManager.default.contents(atPath: file) else {
        throw MediaError(path: file, reason: "cannot read frame \(i) of the sequence \(path)")
      }
      bytes = data
    }
    if let declared = VideoReader.declaredPictureSize([UInt8](bytes.prefix(64))),
      declared.width > 16384 || declared.height > 16384
    {
      throw MediaError(
        path: path, reason: "frame \(i) ('\(name)') declares a \(declared) picture, beyond the 16384-pixel limit")
    }
    do {
      try decoder.decode(bytes, label: "frame \(i) ('\(name)')")
    } catch {
      throw MediaError(path: path, reason: "frame \(i) ('\(name)') is not a decodable PNG: \(error.reason)")
    }
  }

  public func nextFrame() throws(MediaError) -> DecodedFrame? {
    guard nextIndex < names.count, let converter else { return nil }
    if primed {
      primed = false
    } else {
      try decodePicture(nextIndex)
    }
    let i = nextIndex
    nextIndex += 1
    return try converter.convert(
      decoder.frame.pointer, index: i, time: Double(i) / frameRate, label: "frame \(i) ('\(names[i])')")
  }
}

@available(*, unavailable)
extension ImageSequenceReader: Sendable {}
