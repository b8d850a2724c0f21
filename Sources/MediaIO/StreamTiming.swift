internal import CFFmpeg

/// The presentation times of a file's video frames, read from the container's packets without
/// decoding (cheap enough to check every clip's ground truth against its source before a run
/// submits anything).
public struct StreamTiming: Sendable, Equatable {
  /// Presentation times in seconds, sorted.
  public var times: [Double]
  public var frameRate: Double
  public var frames: Int { times.count }

  /// Reads the packets of the best video stream of `path`.
  public init(path: String) throws(MediaError) {
    try InputFile.check(path)
    let input = try InputFormatOwner(path: path)
    guard let fmt = input.pointer else { throw MediaError(path: path, reason: "not opened") }
    var r = avformat_find_stream_info(fmt, nil)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "reading stream information", path: path) }
    let best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
    guard best >= 0, let stream = fmt.pointee.streams[Int(best)] else {
      throw MediaError(path: path, reason: "contains no video stream")
    }
    let base = stream.pointee.time_base
    let rate = stream.pointee.avg_frame_rate
    frameRate = rate.den != 0 && rate.num > 0 ? Double(rate.num) / Double(rate.den) : 0
    let packet = PacketOwner()
    var times: [Double] = []
    var index = 0
    while true {
      r = av_read_frame(fmt, packet.pointer)
      if r < 0 { break }
      defer { av_packet_unref(packet.pointer) }
      // Packets an edit list cuts (AV_PKT_FLAG_DISCARD) are never presented.
      guard packet.pointer.pointee.stream_index == best, packet.pointer.pointee.flags & 0x0004 == 0 else { continue }
      guard times.count < InputLimits.maxFrames * 2 else {
        throw MediaError(path: path, reason: "has more than \(InputLimits.maxFrames * 2) frames")
      }
      let pts = packet.pointer.pointee.pts
      if pts != cffmpeg_nopts_value() && base.den != 0 {
        times.append(Double(pts) * Double(base.num) / Double(base.den))
      } else {
        times.append(frameRate > 0 ? Double(index) / frameRate : Double(index))
      }
      index += 1
    }
    if r != cffmpeg_averror_eof() && r < 0 { throw MediaError.ffmpeg(r, "reading packets", path: path) }
    self.times = times.sorted()
  }
}
