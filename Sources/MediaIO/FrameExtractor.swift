import Foundation

/// Writes a media file's frames as PNG through libpng, with `frames.json` listing each frame's
/// index and presentation time: alpha as 16-bit gray under `alpha/`, RGB as 8- or 16-bit under
/// `rgb/`, files named by frame index (`000012.png`).
public enum FrameExtractor {
  public enum Planes: String, Sendable {
    case alpha, rgb, both
  }

  public struct Summary: Sendable {
    public var framesDecoded: Int
    public var framesWritten: Int
    public var rgbDepth: Int
    public var alphaDepth: Int
  }

  /// - Parameters:
  ///   - planes: which planes to write; `.both` writes alpha only when the media has it.
  ///   - every: write every Nth frame (frame 0, N, 2N…).
  ///   - rgbDepth: 8 or 16; `nil` picks 16 for sources deeper than 8 bits.
  public static func extract(
    media: String, to out: String, planes: Planes, every: Int = 1, rgbDepth: Int? = nil,
    association: AlphaAssociation = .straight, sequenceFrameRate: Double = 25
  ) throws(MediaError) -> Summary {
    guard every >= 1 else { throw MediaError(path: media, reason: "--every must be at least 1") }
    // Probe once to learn the layout, then open for real with the right options.
    let layout = try MediaInput.open(media, options: ReadOptions(rgb: .none, sequenceFrameRate: sequenceFrameRate))
      .layout
    let alphaSource: AlphaSource
    switch planes {
    case .rgb:
      alphaSource = .none
    case .alpha, .both:
      if layout.hasAlpha {
        alphaSource = .alphaChannel
      } else if layout.isGray {
        alphaSource = .luma
      } else if planes == .alpha {
        throw MediaError(
          path: media,
          reason: "has no alpha channel (pixel format \(layout.pixelFormat)); nothing to extract with --alpha")
      } else {
        alphaSource = .none
      }
    }
    let depth = rgbDepth ?? (layout.colorDepth > 8 ? 16 : 8)
    guard depth == 8 || depth == 16 else { throw MediaError(path: media, reason: "RGB depth must be 8 or 16") }
    let rgb: RGBDepth = planes == .alpha ? .none : (depth == 16 ? .sixteen : .eight)
    var options = ReadOptions(rgb: rgb, alpha: alphaSource, association: association)
    options.sequenceFrameRate = sequenceFrameRate
    let reader = try MediaInput.open(media, options: options)
    // A pro_bundle's matte arrives through .alphaChannel as its luma.
    for sub in ["alpha", "rgb"] where (sub == "alpha" ? alphaSource != .none : rgb != .none) {
      try OutputFolder.create(out + "/" + sub)
    }
    var entries: [[String: Any]] = []
    var decoded = 0
    var alphaBits = 0
    while let frame = try reader.nextFrame() {
      decoded += 1
      guard frame.index % every == 0 else { continue }
      let name = String(format: "%06d.png", frame.index)
      var entry: [String: Any] = ["index": frame.index, "time": frame.time]
      if let a = frame.alpha {
        try PNGFile.writeGray16(a, to: out + "/alpha/" + name)
        entry["alpha"] = "alpha/" + name
        alphaBits = bitDepth(of: a.maxValue)
      }
      if let c = frame.rgb {
        try PNGFile.write(c, to: out + "/rgb/" + name)
        entry["rgb"] = "rgb/" + name
      } else if let c = frame.rgb16 {
        try PNGFile.write(c, to: out + "/rgb/" + name)
        entry["rgb"] = "rgb/" + name
      }
      entries.append(entry)
    }
    guard decoded > 0 else { throw MediaError(path: media, reason: "has no decodable video frames") }
    let document: [String: Any] = [
      "media": media, "format": reader.formatDescription, "pixel_format": layout.pixelFormat,
      "width": reader.size.width, "height": reader.size.height, "frame_rate": reader.frameRate,
      "frames_decoded": decoded, "every": every, "rgb_depth": rgb == .none ? 0 : depth,
      "alpha_depth": alphaBits, "alpha_png_depth": alphaSource == .none ? 0 : 16, "frames": entries,
    ]
    do {
      let data = try JSONSerialization.data(
        withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
      try data.write(to: URL(fileURLWithPath: out + "/frames.json"))
    } catch {
      throw MediaError(path: out + "/frames.json", reason: "cannot write (\(error))")
    }
    return Summary(
      framesDecoded: decoded, framesWritten: entries.count, rgbDepth: rgb == .none ? 0 : depth, alphaDepth: alphaBits)
  }

  static func bitDepth(of maxValue: Int) -> Int {
    var d = 0
    while (1 << d) - 1 < maxValue { d += 1 }
    return d
  }
}
