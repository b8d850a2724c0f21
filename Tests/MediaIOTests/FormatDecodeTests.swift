import Foundation
import MediaIO
import TestSupport
import Testing
import ZIPFoundation

/// Every output format a service returns, made at test time by the ffmpeg CLI and decoded by
/// MediaIO; the planes must equal what the CLI decodes from the same file, bit for bit.
enum OutputFormat: String, CaseIterable, Sendable, CustomStringConvertible {
  case webmVP9Alpha, movProRes4444, movQuickTimeAnimation, movPNG16, mkvFFV1Gray16, mkvFFV1YUVA10, aviFFV1YUVA
  case mp4H264, mp4HEVC, gif, pngSequenceFolder, pngSequenceZip, proBundle, singlePNG16, singleJPEG

  var description: String { rawValue }

  /// 64×48, 5 frames at 10 fps; alpha has 16-bit content (X·1000 + Y·37 + N·101) so that any
  /// truncation to 8 bits shows.
  static let source =
    "testsrc2=s=64x48:r=10:d=0.5,format=yuva444p16le,geq=lum='lum(X,Y)':cb='cb(X,Y)':cr='cr(X,Y)':a='X*1000+Y*37+N*101'"

  /// Writes the fixture into `dir`; returns what to give MediaIO and the CLI's input arguments.
  func make(in dir: String) throws -> (media: String, cliInput: [String]) {
    let lavfi = ["-f", "lavfi", "-i"]
    func encode(_ file: String, _ filter: String, _ codec: [String]) throws -> String {
      let path = dir + "/" + file
      try FFmpegCLI.run(lavfi + [Self.source + "," + filter] + codec + [path])
      return path
    }
    switch self {
    case .webmVP9Alpha:
      let p = try encode("a.webm", "format=yuva420p", ["-c:v", "libvpx-vp9", "-crf", "30", "-b:v", "0"])
      return (p, ["-c:v", "libvpx-vp9", "-i", p])
    case .movProRes4444:
      let p = try encode("a.mov", "format=yuva444p10le", ["-c:v", "prores_ks", "-profile:v", "4444"])
      return (p, ["-i", p])
    case .movQuickTimeAnimation:
      let p = try encode("a.mov", "format=argb", ["-c:v", "qtrle"])
      return (p, ["-i", p])
    case .movPNG16:
      let p = try encode("a.mov", "format=rgba64be", ["-c:v", "png"])
      return (p, ["-i", p])
    case .mkvFFV1Gray16:
      let p = try encode("a.mkv", "extractplanes=a,format=gray16le", ["-c:v", "ffv1"])
      return (p, ["-i", p])
    case .mkvFFV1YUVA10:
      let p = try encode("a.mkv", "format=yuva444p10le", ["-c:v", "ffv1"])
      return (p, ["-i", p])
    case .aviFFV1YUVA:
      let p = try encode("a.avi", "format=yuva420p", ["-c:v", "ffv1"])
      return (p, ["-i", p])
    case .mp4H264:
      let p = try encode("a.mp4", "format=yuv420p", ["-c:v", "libx264", "-crf", "23"])
      return (p, ["-i", p])
    case .mp4HEVC:
      let p = try encode(
        "a.mp4", "format=yuv420p", ["-c:v", "libx265", "-x265-params", "log-level=none", "-tag:v", "hvc1"])
      return (p, ["-i", p])
    case .gif:
      let p = dir + "/a.gif"
      try FFmpegCLI.run(
        lavfi + [Self.source] + [
          "-filter_complex",
          "format=rgba,split[x][y];[x]palettegen=reserve_transparent=1[p];[y][p]paletteuse=alpha_threshold=128",
          p,
        ])
      return (p, ["-i", p])
    case .pngSequenceFolder, .pngSequenceZip:
      let folder = dir + "/frames"
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      try FFmpegCLI.run(lavfi + [Self.source + ",format=rgba64be", "-f", "image2", folder + "/f%d.png"])
      let cli = ["-framerate", "25", "-i", folder + "/f%d.png"]
      if self == .pngSequenceFolder { return (folder, cli) }
      let zip = dir + "/frames.zip"
      let archive = try Archive(url: URL(fileURLWithPath: zip), accessMode: .create)
      // Added out of order on purpose: the reader sorts by name, naturally (f2 before f10).
      for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted().reversed() {
        try archive.addEntry(
          with: "frames/" + name, fileURL: URL(fileURLWithPath: folder + "/" + name), compressionMethod: .deflate)
      }
      return (zip, cli)
    case .proBundle:
      let color = try encode("color.mp4", "format=yuv420p", ["-c:v", "libx264", "-crf", "20"])
      let alpha = try encode("alpha.mp4", "extractplanes=a,format=yuv420p", ["-c:v", "libx264", "-crf", "20"])
      let zip = dir + "/bundle.zip"
      let archive = try Archive(url: URL(fileURLWithPath: zip), accessMode: .create)
      try archive.addEntry(with: "color.mp4", fileURL: URL(fileURLWithPath: color))
      try archive.addEntry(with: "alpha.mp4", fileURL: URL(fileURLWithPath: alpha))
      return (zip, ["-i", color])
    case .singlePNG16:
      let p = try encode("bg.png", "format=rgba64be", ["-frames:v", "1"])
      return (p, ["-i", p])
    case .singleJPEG:
      let p = try encode("bg.jpg", "format=yuvj420p", ["-frames:v", "1", "-q:v", "3"])
      return (p, ["-i", p])
    }
  }

  /// The CLI's pixel format for the alpha plane it extracts, or nil when the format has none.
  var alphaPixelFormat: String? {
    switch self {
    case .webmVP9Alpha, .movQuickTimeAnimation, .aviFFV1YUVA, .gif: "gray"
    case .movProRes4444: "gray12le"
    case .mkvFFV1YUVA10: "gray10le"
    case .movPNG16, .mkvFFV1Gray16, .pngSequenceFolder, .pngSequenceZip, .singlePNG16: "gray16le"
    case .proBundle: "gray"
    case .mp4H264, .mp4HEVC, .singleJPEG: nil
    }
  }

  var rgbDepth: RGBDepth {
    switch self {
    case .movProRes4444, .movPNG16, .mkvFFV1Gray16, .mkvFFV1YUVA10, .pngSequenceFolder, .pngSequenceZip, .singlePNG16:
      .sixteen
    default: .eight
    }
  }
}

@Suite struct FormatDecodeTests {
  @Test(arguments: OutputFormat.allCases)
  func planesEqualTheFFmpegCLIBitForBit(format: OutputFormat) throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (media, cli) = try format.make(in: dir)

    let alphaSource: AlphaSource
    switch format {
    case .mkvFFV1Gray16: alphaSource = .luma
    case .mp4H264, .mp4HEVC, .singleJPEG: alphaSource = .none
    default: alphaSource = .alphaChannel
    }
    let reader = try MediaInput.open(media, options: ReadOptions(rgb: format.rgbDepth, alpha: alphaSource))
    var alpha: [UInt16] = []
    var rgb8: [UInt8] = []
    var rgb16: [UInt16] = []
    var frames = 0
    var maxAlpha = 0
    while let frame = try reader.nextFrame() {
      frames += 1
      if let a = frame.alpha {
        alpha += a.samples
        maxAlpha = a.maxValue
      }
      if let c = frame.rgb { rgb8 += c.pixels }
      if let c = frame.rgb16 { rgb16 += c.samples }
    }
    let expectedFrames = [.singlePNG16, .singleJPEG].contains(format) ? 1 : 5
    #expect(frames == expectedFrames)
    #expect(reader.size == PixelSize(width: 64, height: 48))

    // RGB against the CLI's own conversion with the same swscale flags.
    if format.rgbDepth == .sixteen {
      let reference = try FFmpegCLI.raw16(cli, pixelFormat: "rgb48le")
      #expect(firstMismatch(rgb16, reference) == nil, "RGB48 of \(format) differs from ffmpeg's")
    } else {
      let reference = try FFmpegCLI.raw8(cli, pixelFormat: "rgb24")
      #expect(firstMismatch(rgb8, reference) == nil, "RGB24 of \(format) differs from ffmpeg's")
    }

    // Alpha against the CLI's extracted plane, at the stored depth.
    guard let pixelFormat = format.alphaPixelFormat else {
      #expect(alpha.isEmpty)
      #expect(throws: MediaError.self) {
        _ = try MediaInput.open(media, options: ReadOptions(rgb: .none, alpha: .alphaChannel)).nextFrame()
      }
      return
    }
    let plane = format == .mkvFFV1Gray16 || format == .proBundle ? "y" : "a"
    var input = cli
    if format == .proBundle {
      // The bundle's alpha is the luma of alpha.mp4, expanded from limited range:
      // round((Y − 16) · 65535 / 219), clamped.
      input = ["-i", dir + "/alpha.mp4"]
    }
    let reference: [UInt16] =
      pixelFormat == "gray"
      ? try FFmpegCLI.raw8(input, filter: "extractplanes=\(plane)", pixelFormat: "gray").map { UInt16($0) }
      : try FFmpegCLI.raw16(input, filter: "extractplanes=\(plane)", pixelFormat: pixelFormat)
    let expected =
      format == .proBundle
      ? reference.map { y -> UInt16 in
        let d = Int(y) - 16
        return d <= 0 ? 0 : (d >= 219 ? 65535 : UInt16((Double(d) * 65535 / 219).rounded()))
      } : reference
    #expect(firstMismatch(alpha, expected) == nil, "alpha of \(format) differs from ffmpeg's")
    let bits = ["gray": 8, "gray10le": 10, "gray12le": 12, "gray16le": 16][pixelFormat]!
    #expect(maxAlpha == (format == .proBundle ? 65535 : (1 << bits) - 1), "alpha kept at \(bits) bits")
    // More than 8 bits of content really arrive (not a widened 8-bit plane).
    if bits > 8 { #expect(alpha.contains { $0 % (1 << (bits - 8)) != 0 }) }
    if format == .gif { #expect(Set(alpha).isSubset(of: [0, 255]) && Set(alpha).count == 2, "GIF alpha is 1-bit") }
  }

  @Test func animatedWebPIsRefusedByName() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/a.webp"
    try FFmpegCLI.run([
      "-f", "lavfi", "-i", "testsrc2=s=64x48:r=10:d=0.3,format=rgba", "-c:v", "libwebp_anim", "-loop", "0", path,
    ])
    let error = #expect(throws: MediaError.self) { _ = try MediaInput.open(path, options: ReadOptions()) }
    #expect(error?.description.contains("animated WebP is not supported") == true)
    #expect(error?.path == path)
  }

  @Test func timestampsComeFromTheContainer() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let (media, _) = try OutputFormat.movProRes4444.make(in: dir)
    let reader = try MediaInput.open(media, options: ReadOptions(rgb: .none, alpha: .alphaChannel))
    var times: [Double] = []
    while let f = try reader.nextFrame() { times.append(f.time) }
    #expect(times.count == 5)
    for (i, t) in times.enumerated() { #expect(abs(t - Double(i) / 10) < 1e-9) }
  }
}
