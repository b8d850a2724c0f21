internal import CFFmpeg
import Foundation

/// Reads the best video stream of a media file (any container and codec FFmpeg decodes, single
/// images included) frame by frame with libavformat/libavcodec, holding one frame at a time.
///
/// Owns its FFmpeg handles; not `Sendable`: create one reader per task.
public final class VideoReader: FrameSource {
  public let path: String
  public let storedSize: PixelSize
  public var size: PixelSize { converter.outputSize }
  /// Width of delivered frames.
  public var width: Int { size.width }
  /// Height of delivered frames.
  public var height: Int { size.height }
  /// Average frame rate from the container, frames per second (0 if unknown).
  public let frameRate: Double
  /// Name of the decoder in use (for example `libvpx-vp9`, `h264`, `ffv1`).
  public let decoderName: String
  /// Name of the container format (for example `matroska,webm`, `mov,mp4,m4a,3gp,3g2,mj2`).
  public let containerName: String
  /// Pixel format the decoder reports before the first frame.
  public let pixelFormatName: String
  public let layout: PixelLayout
  /// Whether the container flags the stream as carrying alpha (WebM `alpha_mode`).
  public let containerSignalsAlpha: Bool
  /// The turn applied for the stream's rotation metadata.
  public let rotation: QuarterTurn
  public var formatDescription: String { "\(containerName)/\(decoderName)/\(pixelFormatName)" }

  private let input: InputFormatOwner
  private let codec: CodecContextOwner
  private let packet = PacketOwner()
  /// The alpha bitstream of the current packet, when only alpha is decoded (see `alphaOnly`).
  private let alphaPacket = PacketOwner()
  private let frame = FrameOwner()
  /// WebM VP9 with alpha read for its alpha alone: the alpha plane travels as a second VP9
  /// bitstream in each block's BlockAdditional (id 1), whose luma is the alpha. Decoding just
  /// that stream (FFmpeg's native vp9) gives the same samples libvpx-vp9 puts in the alpha
  /// plane, without decoding the colour the caller does not want.
  private let alphaOnly: Bool
  private let converter: FrameConverter
  private let streamIndex: Int32
  private let timeBase: AVRational
  /// Frames the container declares (its frame count), 0 if it does not say.
  public let declaredFrames: Int
  /// Duration the container declares in seconds, 0 if it does not say.
  public let declaredDuration: Double
  private var lastTime = -Double.infinity
  private var draining = false
  private var finished = false
  /// While set, packets presented before this timestamp (stream time base) are decoded only
  /// if other frames refer to them (`AVDISCARD_NONREF`).
  private var discardBefore: Int64?
  /// Whether any packet was sent with non-reference frames discarded.
  private var discardedSome = false
  private var nextIndex = 0
  /// With `keepsLastFrame`: a reference to the last frame delivered converted, as decoded.
  private let kept = FrameOwner()
  private var keptFrame: (index: Int, time: Double)?
  /// Converts kept frames at the stream's own size to 8-bit RGB (made when first needed).
  private var fullSizeConverter: FrameConverter?

  /// Keep a reference to each frame delivered (the decoder's buffer, not a copy), so that
  /// `lastFrame()` can give it at the stream's own size even when the reader resamples: one
  /// decode of the source serves a preview at reduced size and full-size review pictures.
  public var keepsLastFrame = false

  /// Opens `path` with the older two-flag interface.
  public convenience init(path: String, rgb: Bool = true, alpha: AlphaSource = .none) throws(MediaError) {
    try self.init(path: path, options: ReadOptions(rgb: rgb ? .eight : .none, alpha: alpha))
  }

  /// Opens `path` and prepares a decoder for its best video stream.
  ///
  /// - Throws: `MediaError` naming the file and the reason.
  public init(path: String, options: ReadOptions) throws(MediaError) {
    self.path = path
    try InputFile.check(path)
    try Self.refuseUnsupported(path: path)
    input = try InputFormatOwner(path: path)
    guard let fmt = input.pointer else { throw MediaError(path: path, reason: "not opened") }
    containerName = fmt.pointee.iformat.map { String(cString: $0.pointee.name) } ?? "unknown"
    var r = avformat_find_stream_info(fmt, nil)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "reading stream information", path: path) }
    let best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
    guard best >= 0 else {
      throw MediaError(path: path, reason: "contains no video stream (\(containerName) container)")
    }
    streamIndex = best
    guard let stream = fmt.pointee.streams[Int(best)], let par = stream.pointee.codecpar else {
      throw MediaError(path: path, reason: "video stream has no parameters")
    }
    timeBase = stream.pointee.time_base
    let rate = stream.pointee.avg_frame_rate
    let realRate = stream.pointee.r_frame_rate
    frameRate =
      rate.den != 0 && rate.num > 0
      ? Double(rate.num) / Double(rate.den)
      : (realRate.den != 0 && realRate.num > 0 ? Double(realRate.num) / Double(realRate.den) : 0)
    declaredFrames = max(0, Int(stream.pointee.nb_frames))
    let streamDuration = stream.pointee.duration
    if streamDuration > 0 && streamDuration != cffmpeg_nopts_value() {
      declaredDuration = Double(streamDuration) * Double(timeBase.num) / Double(timeBase.den)
    } else if fmt.pointee.duration > 0 && fmt.pointee.duration != cffmpeg_nopts_value() {
      declaredDuration = Double(fmt.pointee.duration) / 1_000_000
    } else {
      declaredDuration = 0
    }
    let alphaTag = av_dict_get(stream.pointee.metadata, "alpha_mode", nil, 0)
    containerSignalsAlpha = alphaTag.map { String(cString: $0.pointee.value) == "1" } ?? false
    let degrees = cffmpeg_stream_rotation(stream)
    if options.applyRotation && !degrees.isNaN {
      guard let turn = QuarterTurn(displayMatrixDegrees: degrees) else {
        throw MediaError(
          path: path, reason: "rotation metadata of \(degrees)° is not a quarter turn; only 0/90/180/270 are supported")
      }
      rotation = turn
    } else {
      rotation = .none
    }

    // FFmpeg's native VP9 decoder silently drops the alpha plane; libvpx-vp9 keeps it. When
    // only alpha is wanted, the native decoder reads the alpha bitstream itself.
    var decoder: UnsafePointer<AVCodec>?
    alphaOnly =
      par.pointee.codec_id == AV_CODEC_ID_VP9 && containerSignalsAlpha && options.rgb == .none
      && options.alpha == .alphaChannel
    if alphaOnly {
      decoder = avcodec_find_decoder_by_name("vp9")
      if decoder == nil {
        throw MediaError(path: path, reason: "this FFmpeg has no vp9 decoder for the VP9 alpha stream")
      }
    } else if par.pointee.codec_id == AV_CODEC_ID_VP9 && containerSignalsAlpha {
      decoder = avcodec_find_decoder_by_name("libvpx-vp9")
      if decoder == nil {
        throw MediaError(
          path: path, reason: "VP9 stream carries alpha but this FFmpeg has no libvpx-vp9 decoder")
      }
    } else {
      decoder = avcodec_find_decoder(par.pointee.codec_id)
    }
    guard let decoder else {
      let name = String(cString: avcodec_get_name(par.pointee.codec_id))
      throw MediaError(path: path, reason: "no decoder for codec \(name)")
    }
    decoderName = String(cString: decoder.pointee.name) + (alphaOnly ? " (alpha stream only)" : "")
    codec = try CodecContextOwner(codec: decoder, path: path)
    r = avcodec_parameters_to_context(codec.pointer, par)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "copying codec parameters", path: path) }
    // Decoders are bit-exact whatever the thread count; every core by default, as ffmpeg does.
    codec.pointer.pointee.thread_count = Int32(options.decoderThreads)
    r = avcodec_open2(codec.pointer, decoder, nil)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "opening decoder \(decoderName)", path: path) }
    let w = Int(codec.pointer.pointee.width)
    let h = Int(codec.pointer.pointee.height)
    if w <= 0 || h <= 0 {
      throw MediaError(
        path: path,
        reason:
          "gives no frame size (\(w)x\(h)) for its \(String(cString: avcodec_get_name(par.pointee.codec_id))) stream: the file is cut short or its header is corrupt"
      )
    }
    if let problem = InputLimits.problem(width: w, height: h) {
      throw MediaError(path: path, reason: "unsupported \(problem)")
    }
    pixelFormatName = av_get_pix_fmt_name(codec.pointer.pointee.pix_fmt).map { String(cString: $0) } ?? "unknown"
    storedSize = PixelSize(width: w, height: h)
    var layout = FrameConverter.layout(of: codec.pointer.pointee.pix_fmt)
    if containerSignalsAlpha && !layout.hasAlpha { layout.alphaDepth = layout.colorDepth }
    self.layout = layout
    // The alpha stream's luma is the alpha plane, sample for sample (libvpx-vp9 copies it so).
    var converterOptions = options
    if alphaOnly { converterOptions.alpha = .luma }
    converter = FrameConverter(path: path, storedSize: storedSize, turn: rotation, options: converterOptions)
    if let target = options.targetSize, InputLimits.problem(width: target.width, height: target.height) != nil {
      throw MediaError(path: path, reason: "cannot resample to \(target)")
    }
  }

  /// Formats FFmpeg 5.1 cannot decode correctly, refused by name before FFmpeg sees them, and
  /// headers declaring absurd sizes.
  static func refuseUnsupported(path: String) throws(MediaError) {
    guard let handle = FileHandle(forReadingAtPath: path) else { return }
    defer { try? handle.close() }
    let head = [UInt8]((try? handle.read(upToCount: 64)) ?? Data())
    if let declared = declaredPictureSize(head), declared.width > 0, declared.height > 0,
      let problem = InputLimits.problem(width: declared.width, height: declared.height)
    {
      throw MediaError(path: path, reason: "its header declares a picture whose \(problem)")
    }
    // RIFF....WEBP then a VP8X chunk whose flags byte has the animation bit (0x02).
    if head.count >= 21, head[0..<4] == [0x52, 0x49, 0x46, 0x46], head[8..<12] == [0x57, 0x45, 0x42, 0x50],
      head[12..<16] == [0x56, 0x50, 0x38, 0x58], head[20] & 0x02 != 0
    {
      throw MediaError(
        path: path,
        reason:
          "animated WebP is not supported: FFmpeg's webp decoder cannot decode animation frames; ask the service for webm, mov or png_sequence"
      )
    }
  }

  /// At the end: a file that decoded no frame, or fewer than its header declares (beyond one
  /// frame of rounding), is truncated or corrupt, never a short clip.
  private func checkComplete() throws(MediaError) {
    if nextIndex == 0 {
      throw MediaError(
        path: path,
        reason: "contains no decodable video frames (\(containerName), \(decoderName)): empty, truncated or corrupt")
    }
    // Frames discarded on purpose (`frame(at:tolerance:)`) are not counted.
    if declaredFrames > 0 && nextIndex + 1 < declaredFrames && !discardedSome {
      throw MediaError(
        path: path,
        reason:
          "ends after \(nextIndex) decodable frames but its header declares \(declaredFrames): the file is truncated or corrupt"
      )
    }
    // Frames may be missing on purpose (variable frame rate), but the last one must reach the
    // declared end: otherwise the file was cut short.
    if declaredDuration > 0 && frameRate > 0 && lastTime + 2.5 / frameRate < declaredDuration && !discardedSome {
      throw MediaError(
        path: path,
        reason:
          "decoded frames stop at \(String(format: "%.3f", lastTime)) s but the file declares \(String(format: "%.3f", declaredDuration)) s: the file is truncated or corrupt"
      )
    }
  }

  /// The picture size a PNG (IHDR) or YUV4MPEG2 header declares, read before FFmpeg parses it.
  static func declaredPictureSize(_ head: [UInt8]) -> PixelSize? {
    if head.count >= 24, head[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] {
      func be32(_ i: Int) -> Int { head[i..<i + 4].reduce(0) { $0 << 8 | Int($1) } }
      return PixelSize(width: be32(16), height: be32(20))
    }
    if head.starts(with: Array("YUV4MPEG2 ".utf8)) {
      let line = String(decoding: head.prefix { $0 != 0x0A }, as: UTF8.self)
      var w: Int?
      var h: Int?
      for token in line.split(separator: " ") {
        if token.hasPrefix("W") { w = Int(token.dropFirst()) }
        if token.hasPrefix("H") { h = Int(token.dropFirst()) }
      }
      if let w, let h { return PixelSize(width: w, height: h) }
    }
    return nil
  }

  /// Decodes every remaining frame and returns how many there were.
  public func countRemainingFrames() throws(MediaError) -> Int {
    var n = 0
    while try nextFrame() != nil { n += 1 }
    return n
  }

  /// The next frame in presentation order as the decoder outputs it, or `nil` at the end.
  ///
  /// - Throws: `MediaError` when the data does not decode or the frame lacks a requested plane.
  public func nextFrame() throws(MediaError) -> DecodedFrame? {
    try advance(convertingFrom: -.infinity)
  }

  /// The first frame presented at `time` − `tolerance` or later (seconds), converted; nil if
  /// the stream ends before. Frames before it are decoded only as far as later frames need
  /// them: non-reference frames are discarded unseen, and the others are not converted.
  /// Meant for a reader opened with `decoderThreads: 1`, whose packets are decoded in turn.
  /// Discarded frames are not counted: afterwards, frame indices count decoded frames only.
  public func frame(at time: Double, tolerance: Double) throws(MediaError) -> DecodedFrame? {
    let earliest = time - tolerance
    if timeBase.num > 0 && timeBase.den > 0 {
      discardBefore = Int64((earliest * Double(timeBase.den) / Double(timeBase.num)).rounded(.down))
    }
    defer {
      discardBefore = nil
      codec.pointer.pointee.skip_frame = AVDISCARD_DEFAULT
    }
    while let f = try advance(convertingFrom: earliest) {
      if f.time >= earliest { return f }
    }
    return nil
  }

  /// The next frame: converted to the reader's planes when it is presented at `convertingFrom`
  /// seconds or later, otherwise an empty stand-in with its index and time; nil at the end.
  private func advance(convertingFrom: Double) throws(MediaError) -> DecodedFrame? {
    if finished { return nil }
    let eof = cffmpeg_averror_eof()
    let eagain = cffmpeg_eagain()
    while true {
      let r = avcodec_receive_frame(codec.pointer, frame.pointer)
      if r == 0 {
        defer { av_frame_unref(frame.pointer) }
        let pts = frame.pointer.pointee.best_effort_timestamp
        let time: Double =
          pts == cffmpeg_nopts_value()
          ? (frameRate > 0 ? Double(nextIndex) / frameRate : Double(nextIndex))
          : Double(pts) * Double(timeBase.num) / Double(timeBase.den)
        lastTime = max(lastTime, time)
        guard time >= convertingFrom else {
          nextIndex += 1
          return DecodedFrame(index: nextIndex - 1, time: time, rgb: nil, alpha: nil)
        }
        let decoded = try converter.convert(
          frame.pointer, index: nextIndex, time: time, label: "frame \(nextIndex) (decoded by \(decoderName))")
        if keepsLastFrame {
          av_frame_unref(kept.pointer)
          let r = av_frame_ref(kept.pointer, frame.pointer)
          keptFrame = r < 0 ? nil : (nextIndex, time)
        }
        nextIndex += 1
        return decoded
      }
      if r == eof {
        finished = true
        try checkComplete()
        return nil
      }
      if r != eagain { throw MediaError.ffmpeg(r, "decoding frame \(nextIndex)", path: path) }
      if draining {
        finished = true
        try checkComplete()
        return nil
      }
      guard let fmt = input.pointer else { return nil }
      let rr = av_read_frame(fmt, packet.pointer)
      if rr < 0 {
        if rr != eof {
          throw MediaError.ffmpeg(rr, "reading packet after frame \(nextIndex)", path: path)
        }
        draining = true
        _ = avcodec_send_packet(codec.pointer, nil)
        continue
      }
      defer { av_packet_unref(packet.pointer) }
      if packet.pointer.pointee.stream_index != streamIndex { continue }
      if let limit = discardBefore {
        let pts = packet.pointer.pointee.pts
        let discard = pts != cffmpeg_nopts_value() && pts < limit
        discardedSome = discardedSome || discard
        codec.pointer.pointee.skip_frame = discard ? AVDISCARD_NONREF : AVDISCARD_DEFAULT
      }
      let s = avcodec_send_packet(codec.pointer, alphaOnly ? try alphaBitstream() : packet.pointer)
      if s < 0 && s != eagain {
        throw MediaError.ffmpeg(s, "decoding packet after frame \(nextIndex)", path: path)
      }
    }
  }
}

extension VideoReader {
  /// The last frame delivered (with `keepsLastFrame`), as 8-bit RGB at the stream's own size
  /// (turned for its rotation), converted as a reader opened with `ReadOptions(rgb: .eight)`
  /// converts it; nil when no frame was kept.
  public func lastFrame() throws(MediaError) -> DecodedFrame? {
    guard keepsLastFrame, let keptFrame else { return nil }
    let converter =
      fullSizeConverter
      ?? FrameConverter(path: path, storedSize: storedSize, turn: rotation, options: ReadOptions(rgb: .eight))
    fullSizeConverter = converter
    return try converter.convert(
      kept.pointer, index: keptFrame.index, time: keptFrame.time,
      label: "frame \(keptFrame.index) (decoded by \(decoderName))")
  }

  /// The current packet's alpha bitstream (BlockAdditional id 1) as a packet of its own, with
  /// the packet's timing.
  ///
  /// - Throws: `MediaError` when the block carries no alpha.
  private func alphaBitstream() throws(MediaError) -> UnsafeMutablePointer<AVPacket> {
    var size = 0
    guard let side = av_packet_get_side_data(packet.pointer, AV_PKT_DATA_MATROSKA_BLOCKADDITIONAL, &size), size > 8,
      (0..<8).reduce(UInt64(0), { $0 << 8 | UInt64(side[$1]) }) == 1
    else {
      throw MediaError(
        path: path,
        reason: "alpha was expected but the block after frame \(nextIndex) carries no alpha data (BlockAdditional 1)")
    }
    let target = alphaPacket.pointer
    av_packet_unref(target)
    let r = av_new_packet(target, Int32(size - 8))
    guard r >= 0, let data = target.pointee.data else {
      throw MediaError.ffmpeg(r, "allocating the alpha packet after frame \(nextIndex)", path: path)
    }
    data.update(from: side + 8, count: size - 8)
    target.pointee.pts = packet.pointer.pointee.pts
    target.pointee.dts = packet.pointer.pointee.dts
    target.pointee.duration = packet.pointer.pointee.duration
    target.pointee.flags = packet.pointer.pointee.flags
    target.pointee.stream_index = packet.pointer.pointee.stream_index
    return target
  }
}

@available(*, unavailable)
extension VideoReader: Sendable {}
