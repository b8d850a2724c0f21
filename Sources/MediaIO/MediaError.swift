internal import CFFmpeg

/// An error from reading or writing media. Its description is the sentence the user sees.
public struct MediaError: Error, Sendable, CustomStringConvertible, Equatable {
  /// The file the operation was working on.
  public var path: String
  /// What went wrong, in words.
  public var reason: String

  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }

  public var description: String { "\(path): \(reason)" }

  static func ffmpeg(_ code: Int32, _ operation: String, path: String) -> MediaError {
    MediaError(path: path, reason: "\(operation) failed: \(ffmpegErrorString(code)) (\(code))")
  }
}

func ffmpegErrorString(_ code: Int32) -> String {
  var buffer = [CChar](repeating: 0, count: 256)
  if av_strerror(code, &buffer, buffer.count) < 0 { return "unknown error" }
  let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
  return String(decoding: bytes, as: UTF8.self)
}

/// Sets FFmpeg's own logging once: quiet, so that a failure is reported as one sentence of ours.
/// Set `MATTEGATE_FFMPEG_LOG=1` to see FFmpeg's error messages as well.
enum FFmpegLogging {
  static let configured: Bool = {
    let verbose = getenvString("MATTEGATE_FFMPEG_LOG") != nil
    av_log_set_level(verbose ? cffmpeg_log_error() : cffmpeg_log_quiet())
    return true
  }()
}

func getenvString(_ name: String) -> String? {
  guard let value = getenv(name) else { return nil }
  return String(cString: value)
}
