internal import CFFmpeg
import Foundation

// One owner per C handle (specs/swift.md §3): each class frees exactly what it holds in deinit,
// so a throw half-way through opening a file leaks nothing. None of these is Sendable; each
// reader or writer is used by one task at a time.

/// Owns an `AVFormatContext` opened for reading; closed in `deinit`.
final class InputFormatOwner {
  var pointer: UnsafeMutablePointer<AVFormatContext>?

  init(path: String) throws(MediaError) {
    _ = FFmpegLogging.configured
    var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
    let r = avformat_open_input(&ctx, path, nil, nil)
    guard r >= 0, ctx != nil else {
      if r == cffmpeg_averror_eof() {
        throw MediaError(
          path: path, reason: "ends before its container header is complete: empty, truncated or without frames")
      }
      if r == cffmpeg_averror_invaliddata() {
        throw MediaError(
          path: path,
          reason: "is not a media file FFmpeg recognises, or its header is damaged (invalid data at the start)")
      }
      throw MediaError.ffmpeg(r, "opening it as media", path: path)
    }
    pointer = ctx
  }

  deinit { avformat_close_input(&pointer) }
}

/// Owns an `AVFormatContext` for writing and, once opened, its I/O context.
final class OutputFormatOwner {
  let pointer: UnsafeMutablePointer<AVFormatContext>
  var ioOpened = false

  init(path: String) throws(MediaError) {
    _ = FFmpegLogging.configured
    var ctx: UnsafeMutablePointer<AVFormatContext>? = nil
    // A `.matte_mp4` (mattegate's name for an MP4 whose luma is alpha) is an MP4.
    let r = avformat_alloc_output_context2(&ctx, nil, path.hasSuffix(".matte_mp4") ? "mp4" : nil, path)
    guard r >= 0, let ctx else {
      throw MediaError.ffmpeg(r, "choosing a container for the file name", path: path)
    }
    pointer = ctx
  }

  deinit {
    if ioOpened { avio_closep(&pointer.pointee.pb) }
    avformat_free_context(pointer)
  }
}

/// Owns an `AVCodecContext`; freed in `deinit`.
final class CodecContextOwner {
  let pointer: UnsafeMutablePointer<AVCodecContext>

  init(codec: UnsafePointer<AVCodec>, path: String) throws(MediaError) {
    guard let ctx = avcodec_alloc_context3(codec) else {
      throw MediaError(path: path, reason: "cannot allocate a codec context")
    }
    pointer = ctx
  }

  deinit {
    var p: UnsafeMutablePointer<AVCodecContext>? = pointer
    avcodec_free_context(&p)
  }
}

/// Owns an `AVPacket`; freed in `deinit`.
final class PacketOwner {
  let pointer: UnsafeMutablePointer<AVPacket>

  init() {
    guard let p = av_packet_alloc() else { fatalError("av_packet_alloc: out of memory") }
    pointer = p
  }

  deinit {
    var p: UnsafeMutablePointer<AVPacket>? = pointer
    av_packet_free(&p)
  }
}

/// Owns an `AVFrame`; freed in `deinit`.
final class FrameOwner {
  let pointer: UnsafeMutablePointer<AVFrame>

  init() {
    guard let f = av_frame_alloc() else { fatalError("av_frame_alloc: out of memory") }
    pointer = f
  }

  deinit {
    var f: UnsafeMutablePointer<AVFrame>? = pointer
    av_frame_free(&f)
  }
}

/// Owns a cached `SwsContext`; freed in `deinit`.
final class ScalerOwner {
  var context: OpaquePointer?
  private var key: [Int32] = []

  /// A slice-threaded scaler for these parameters, reused while they stay the same.
  func threaded(
    from src: (Int32, Int32, AVPixelFormat), to dst: (Int32, Int32, AVPixelFormat), flags: Int32
  ) -> OpaquePointer? {
    let k = [src.0, src.1, Int32(src.2.rawValue), dst.0, dst.1, Int32(dst.2.rawValue), flags]
    if k == key, let context { return context }
    if let context { sws_freeContext(context) }
    let threads = Int32(min(8, max(1, ProcessInfo.processInfo.activeProcessorCount)))
    context = cffmpeg_sws_threaded(src.0, src.1, src.2, dst.0, dst.1, dst.2, flags, threads)
    key = context == nil ? [] : k
    return context
  }

  deinit { if let context { sws_freeContext(context) } }
}

/// Calls `body` with the frame's plane pointers and line sizes. The pointers are valid only
/// inside `body`; do not store them.
func withPlanes<R>(
  of frame: UnsafeMutablePointer<AVFrame>,
  _ body: (UnsafePointer<UnsafeMutablePointer<UInt8>?>, UnsafePointer<Int32>) throws -> R
) rethrows -> R {
  try withUnsafePointer(to: &frame.pointee.data) { dataTuple in
    try dataTuple.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { data in
      try withUnsafePointer(to: &frame.pointee.linesize) { sizeTuple in
        try sizeTuple.withMemoryRebound(to: Int32.self, capacity: 8) { sizes in
          try body(data, sizes)
        }
      }
    }
  }
}
