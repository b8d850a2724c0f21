public import Foundation

/// The `ffmpeg` command-line tool, the independent reference the decoder is checked against.
public enum FFmpegCLI {
  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  /// Runs `ffmpeg -v error -nostdin -y ARGS` and returns what it wrote to standard output.
  @discardableResult
  public static func run(_ args: [String]) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["ffmpeg", "-hide_banner", "-v", "error", "-nostdin", "-y"] + args
    let out = Pipe()
    let errPath = FileManager.default.temporaryDirectory.appendingPathComponent("ffmpeg-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: errPath.path, contents: nil)
    let errHandle = try FileHandle(forWritingTo: errPath)
    defer {
      try? errHandle.close()
      try? FileManager.default.removeItem(at: errPath)
    }
    process.standardOutput = out
    process.standardError = errHandle
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      let message = (try? String(contentsOf: errPath, encoding: .utf8)) ?? ""
      throw Failure(description: "ffmpeg \(args.joined(separator: " ")) failed: \(message)")
    }
    return data
  }

  /// Frames decoded by the CLI as raw 8-bit samples (`gray`, `rgb24`), concatenated.
  public static func raw8(_ input: [String], filter: String? = nil, pixelFormat: String) throws -> [UInt8] {
    var args = input + ["-sws_flags", "bicubic+full_chroma_int+full_chroma_inp"]
    if let filter { args += ["-vf", filter] }
    args += ["-f", "rawvideo", "-pix_fmt", pixelFormat, "-"]
    return [UInt8](try run(args))
  }

  /// Frames decoded by the CLI as raw little-endian 16-bit samples (`gray10le`, `gray16le`,
  /// `rgb48le`), concatenated.
  public static func raw16(_ input: [String], filter: String? = nil, pixelFormat: String) throws -> [UInt16] {
    let bytes = try raw8(input, filter: filter, pixelFormat: pixelFormat)
    var out = [UInt16](repeating: 0, count: bytes.count / 2)
    for i in out.indices { out[i] = UInt16(bytes[2 * i]) | UInt16(bytes[2 * i + 1]) << 8 }
    return out
  }
}

/// Where two sample arrays first differ ("count 10 vs 12", "index 5: 3 vs 4"), or nil if equal.
public func firstMismatch<T: Equatable>(_ a: [T], _ b: [T]) -> String? {
  if a.count != b.count { return "count \(a.count) vs \(b.count)" }
  for i in a.indices where a[i] != b[i] { return "index \(i): \(a[i]) vs \(b[i])" }
  return nil
}

/// A fresh temporary folder.
public func temporaryFolder() throws -> String {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("mattegate-test-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url.path
}
