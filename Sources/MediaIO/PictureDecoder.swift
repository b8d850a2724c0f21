internal import CFFmpeg
import Foundation

/// Decodes single encoded pictures (PNG files) held in memory with libavcodec, one at a time.
///
/// A fresh decoder context per picture: FFmpeg 5.1's PNG decoder keeps the previous picture's
/// last row between calls (flushing does not clear it), which corrupts "Up"-filtered first rows
/// of the next picture.
final class PictureDecoder {
  private let decoder: UnsafePointer<AVCodec>
  private var codec: CodecContextOwner?
  private let packet = PacketOwner()
  let frame = FrameOwner()
  let path: String

  init(codecID: AVCodecID, path: String) throws(MediaError) {
    _ = FFmpegLogging.configured
    self.path = path
    guard let decoder = avcodec_find_decoder(codecID) else {
      throw MediaError(path: path, reason: "this FFmpeg has no \(String(cString: avcodec_get_name(codecID))) decoder")
    }
    self.decoder = decoder
  }

  /// Decodes `bytes` into `frame` (valid until the next call); `label` names the picture.
  func decode(_ bytes: Data, label: String) throws(MediaError) {
    av_frame_unref(frame.pointer)
    guard !bytes.isEmpty else { throw MediaError(path: path, reason: "\(label) is empty") }
    guard bytes.count < Int(Int32.max) else { throw MediaError(path: path, reason: "\(label) is too large") }
    codec = nil
    let context = try CodecContextOwner(codec: decoder, path: path)
    context.pointer.pointee.thread_count = 1
    var r = avcodec_open2(context.pointer, decoder, nil)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "opening the PNG decoder", path: path) }
    codec = context
    r = av_new_packet(packet.pointer, Int32(bytes.count))
    guard r >= 0 else { throw MediaError.ffmpeg(r, "allocating a packet for \(label)", path: path) }
    defer { av_packet_unref(packet.pointer) }
    bytes.withUnsafeBytes { raw in
      packet.pointer.pointee.data.update(from: raw.bindMemory(to: UInt8.self).baseAddress!, count: bytes.count)
    }
    r = avcodec_send_packet(context.pointer, packet.pointer)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "decoding \(label)", path: path) }
    r = avcodec_receive_frame(context.pointer, frame.pointer)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "decoding \(label)", path: path) }
  }
}
