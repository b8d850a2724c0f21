import Foundation

/// `mattegate bench decode`: frames per second of MediaIO delivering the planes scoring uses
/// (alpha at full precision when the media has alpha, 8-bit RGB otherwise), next to
/// `ffmpeg -benchmark … -f null -` decoding the same file, in one run. ffmpeg's time is its own
/// `rtime` (the decoding loop, without process start-up and probing); ours likewise starts once
/// the file is open.
public enum DecodeBenchmark {
  public struct Row: Sendable {
    public var media: String
    public var format: String
    public var size: PixelSize
    public var frames: Int
    /// What our reader delivered: "alpha 12-bit" or "rgb 8-bit".
    public var planes: String
    public var oursFPS: Double
    public var ffmpegFPS: Double?
    public var ffmpegCommand: String
    public var ratio: Double? { ffmpegFPS.map { oursFPS / $0 } }
  }

  /// Measures each file `repeats` times and keeps the best (least disturbed) time of each side.
  public static func run(
    _ media: [String], repeats: Int = 3, progress: (String) -> Void = { _ in }
  ) throws -> [Row] {
    var rows: [Row] = []
    for path in media {
      let probe = try MediaInput.open(path, options: ReadOptions(rgb: .none))
      let layout = probe.layout
      // What scoring reads: the alpha channel, a gray matte's luma, or the RGB of a composite.
      let options: ReadOptions
      let planes: String
      if layout.hasAlpha {
        options = ReadOptions(rgb: .none, alpha: .alphaChannel)
        planes = "alpha \(layout.alphaDepth)-bit"
      } else if layout.isGray {
        options = ReadOptions(rgb: .none, alpha: .luma)
        planes = "luma \(layout.colorDepth)-bit"
      } else {
        options = ReadOptions(rgb: .eight, alpha: .none)
        planes = "rgb 8-bit"
      }
      let (arguments, cleanup) = try ffmpegArguments(
        for: path, format: probe.formatDescription, colorToo: options.rgb != .none)
      defer { cleanup() }
      // Ours and ffmpeg's runs alternate, so that both see the same machine; the best of each counts.
      var best = Double.infinity
      var ffmpegBest = Double.infinity
      var frames = 0
      for _ in 0..<repeats {
        // Like ffmpeg's rtime: the decoding loop, after the file is open.
        let reader = try MediaInput.open(path, options: options)
        let start = DispatchTime.now().uptimeNanoseconds
        var n = 0
        while try reader.nextFrame() != nil { n += 1 }
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        frames = n
        if !ffmpegBest.isNaN {
          if let seconds = runFFmpeg(arguments) { ffmpegBest = min(ffmpegBest, seconds) } else { ffmpegBest = .nan }
        }
      }
      let row = Row(
        media: path, format: probe.formatDescription, size: probe.size, frames: frames, planes: planes,
        oursFPS: Double(frames) / best, ffmpegFPS: ffmpegBest.isNaN ? nil : Double(frames) / ffmpegBest,
        ffmpegCommand: (["ffmpeg"] + arguments).joined(separator: " "))
      progress(format(row))
      rows.append(row)
    }
    return rows
  }

  /// One table line.
  public static func format(_ r: Row) -> String {
    let ff = r.ffmpegFPS.map { String(format: "%.1f", $0) } ?? "n/a"
    let ratio = r.ratio.map { String(format: "%.2f×", $0) } ?? "n/a"
    return line([
      ((r.media as NSString).lastPathComponent, -22), ("\(r.size)", -10), ("\(r.frames)", 6), (r.planes, -15),
      (String(format: "%.1f", r.oursFPS), 9), (ff, 9), (ratio, 7),
    ])
  }

  public static let header = line([
    ("file", -22), ("size", -10), ("frames", 6), ("mattegate reads", -15), ("ours fps", 9), ("ffmpeg", 9),
    ("ratio", 7),
  ])

  /// Columns padded to width (negative: left-aligned).
  static func line(_ cells: [(String, Int)]) -> String {
    cells.map { text, width in
      let pad = String(repeating: " ", count: max(0, abs(width) - text.count))
      return width < 0 ? text + pad : pad + text
    }.joined(separator: " ")
  }

  /// The ffmpeg command decoding the same content: the same decoder for VP9 with alpha
  /// (libvpx-vp9), the PNG files of a sequence (from the folder, or unpacked from its ZIP), and
  /// both videos of a pro_bundle.
  public static func ffmpegArguments(
    for path: String, format: String, colorToo: Bool
  ) throws -> (arguments: [String], cleanup: () -> Void) {
    let common = ["-hide_banner", "-v", "info", "-nostdin", "-benchmark"]
    let sink = ["-f", "null", "-"]
    var isDirectory: ObjCBool = false
    _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
    if isDirectory.boolValue {
      return (common + ["-pattern_type", "glob", "-i", path + "/*.png"] + sink, {})
    }
    if MediaInput.isZip(path) {
      let zip = try SafeZip(path: path)
      let folder = NSTemporaryDirectory() + "mattegate-bench-\(UUID().uuidString)"
      try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
      let cleanup = { _ = try? FileManager.default.removeItem(atPath: folder) }
      let names = zip.members.map(\.path)
      if format.hasPrefix("pro_bundle") {
        // The same streams mattegate decodes: the matte, and the colour only when RGB is read.
        let wanted = colorToo ? ["alpha.mp4", "color.mp4"] : ["alpha.mp4"]
        var inputs: [String] = []
        for n in names where wanted.contains((n as NSString).lastPathComponent) {
          let target = folder + "/" + (n as NSString).lastPathComponent
          try zip.extract(n, to: target)
          inputs += ["-i", target]
        }
        let maps = colorToo ? ["-map", "0:v", "-map", "1:v"] : []
        return (common + inputs + maps + sink, cleanup)
      }
      for (i, n) in names.filter({ $0.lowercased().hasSuffix(".png") }).enumerated() {
        try zip.extract(n, to: folder + String(format: "/%06d.png", i))
      }
      return (common + ["-i", folder + "/%06d.png"] + sink, cleanup)
    }
    // The ffmpeg CLI gets the alpha of VP9 only through libvpx-vp9 (colour and alpha together).
    let decoder =
      format.contains("libvpx-vp9") || format.contains("alpha stream only") ? ["-c:v", "libvpx-vp9"] : []
    return (common + decoder + ["-i", path] + sink, {})
  }

  /// Runs ffmpeg with `-benchmark` and returns its own real time for the decoding loop
  /// (`rtime=`), which leaves out process start-up; nil if it failed.
  public static func runFFmpeg(_ arguments: [String]) -> Double? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["ffmpeg"] + arguments
    let err = Pipe()
    process.standardOutput = FileHandle.nullDevice
    process.standardError = err
    do { try process.run() } catch { return nil }
    let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0, let range = text.range(of: "rtime=") else { return nil }
    let number = text[range.upperBound...].prefix { $0.isNumber || $0 == "." }
    return Double(number)
  }
}
