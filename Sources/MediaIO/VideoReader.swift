internal import CFFmpeg

/// One decoded frame, copied out of FFmpeg into Swift-owned values.
public struct DecodedFrame: Sendable {
  /// Decode-output order, from 0.
  public var index: Int
  /// Presentation time in seconds (best-effort timestamp × stream time base).
  public var time: Double
  /// The picture as 8-bit RGB, converted with the stream's matrix and range, if requested.
  public var rgb: RGBImage?
  /// The alpha channel (or, for `.luma`, the luma plane of a matte) at full precision.
  public var alpha: GrayImage?
}

/// What the reader extracts besides RGB.
public enum AlphaSource: Sendable, Equatable {
  /// No alpha.
  case none
  /// The pixel format's alpha channel; an error if the stream has none.
  case alphaChannel
  /// The first component (luma or gray) of the picture, for mattes and masks stored as gray video.
  case luma
}

/// Reads the best video stream of a media file frame by frame with libavformat/libavcodec.
///
/// Owns its FFmpeg handles; not `Sendable`: create one reader per task.
public final class VideoReader {
  public let path: String
  public let width: Int
  public let height: Int
  /// Average frame rate from the container, frames per second (0 if unknown).
  public let frameRate: Double
  /// Name of the decoder in use (for example `libvpx-vp9`, `h264`, `ffv1`).
  public let decoderName: String
  /// Whether the container flags the stream as carrying alpha (WebM `alpha_mode`).
  public let containerSignalsAlpha: Bool

  private let wantRGB: Bool
  private let alphaSource: AlphaSource
  private let input: InputFormatOwner
  private let codec: CodecContextOwner
  private let packet = PacketOwner()
  private let frame = FrameOwner()
  private let scaler = ScalerOwner()
  private let streamIndex: Int32
  private let timeBase: AVRational
  private var draining = false
  private var finished = false
  private var nextIndex = 0

  /// Opens `path` and prepares a decoder for its best video stream.
  ///
  /// - Parameters:
  ///   - path: the media file.
  ///   - rgb: whether frames carry an RGB picture.
  ///   - alpha: which plane, if any, frames carry as alpha.
  /// - Throws: `MediaError` naming the file and the reason.
  public init(path: String, rgb: Bool = true, alpha: AlphaSource = .none) throws(MediaError) {
    self.path = path
    self.wantRGB = rgb
    self.alphaSource = alpha
    input = try InputFormatOwner(path: path)
    guard let fmt = input.pointer else { throw MediaError(path: path, reason: "not opened") }
    var r = avformat_find_stream_info(fmt, nil)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "reading stream information", path: path) }
    let best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
    guard best >= 0 else {
      throw MediaError(path: path, reason: "contains no video stream")
    }
    streamIndex = best
    guard let stream = fmt.pointee.streams[Int(best)], let par = stream.pointee.codecpar else {
      throw MediaError(path: path, reason: "video stream has no parameters")
    }
    timeBase = stream.pointee.time_base
    let rate = stream.pointee.avg_frame_rate
    frameRate = rate.den != 0 ? Double(rate.num) / Double(rate.den) : 0
    let alphaTag = av_dict_get(stream.pointee.metadata, "alpha_mode", nil, 0)
    containerSignalsAlpha =
      alphaTag.map { String(cString: $0.pointee.value) == "1" } ?? false

    // FFmpeg's native VP9 decoder silently drops the alpha plane; libvpx-vp9 keeps it.
    var decoder: UnsafePointer<AVCodec>?
    if par.pointee.codec_id == AV_CODEC_ID_VP9 && containerSignalsAlpha {
      decoder = avcodec_find_decoder_by_name("libvpx-vp9")
      if decoder == nil {
        throw MediaError(
          path: path,
          reason: "VP9 stream carries alpha but this FFmpeg has no libvpx-vp9 decoder")
      }
    } else {
      decoder = avcodec_find_decoder(par.pointee.codec_id)
    }
    guard let decoder else {
      let name = String(cString: avcodec_get_name(par.pointee.codec_id))
      throw MediaError(path: path, reason: "no decoder for codec \(name)")
    }
    decoderName = String(cString: decoder.pointee.name)
    codec = try CodecContextOwner(codec: decoder, path: path)
    r = avcodec_parameters_to_context(codec.pointer, par)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "copying codec parameters", path: path) }
    codec.pointer.pointee.thread_count = 1
    r = avcodec_open2(codec.pointer, decoder, nil)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "opening decoder \(decoderName)", path: path) }
    width = Int(codec.pointer.pointee.width)
    height = Int(codec.pointer.pointee.height)
    guard width > 0, height > 0, width <= 16384, height <= 16384 else {
      throw MediaError(path: path, reason: "unsupported frame size \(width)x\(height)")
    }
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
    if finished { return nil }
    let eof = cffmpeg_averror_eof()
    let eagain = cffmpeg_eagain()
    while true {
      let r = avcodec_receive_frame(codec.pointer, frame.pointer)
      if r == 0 {
        defer { av_frame_unref(frame.pointer) }
        return try convertCurrentFrame()
      }
      if r == eof {
        finished = true
        return nil
      }
      if r != eagain { throw MediaError.ffmpeg(r, "decoding frame \(nextIndex)", path: path) }
      if draining {
        finished = true
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
      let s = avcodec_send_packet(codec.pointer, packet.pointer)
      if s < 0 && s != eagain {
        throw MediaError.ffmpeg(s, "decoding packet after frame \(nextIndex)", path: path)
      }
    }
  }

  private func convertCurrentFrame() throws(MediaError) -> DecodedFrame {
    let f = frame.pointer
    let w = Int(f.pointee.width)
    let h = Int(f.pointee.height)
    guard w == width, h == height else {
      throw MediaError(
        path: path,
        reason: "frame \(nextIndex) changes size from \(width)x\(height) to \(w)x\(h)")
    }
    guard let desc = av_pix_fmt_desc_get(AVPixelFormat(rawValue: f.pointee.format)) else {
      throw MediaError(path: path, reason: "frame \(nextIndex) has an unknown pixel format")
    }
    let pts = f.pointee.best_effort_timestamp
    let time: Double =
      pts == cffmpeg_nopts_value()
      ? (frameRate > 0 ? Double(nextIndex) / frameRate : Double(nextIndex))
      : Double(pts) * Double(timeBase.num) / Double(timeBase.den)

    var alpha: GrayImage?
    switch alphaSource {
    case .none:
      break
    case .alphaChannel:
      let hasAlpha = (Int32(bitPattern: UInt32(desc.pointee.flags)) & cffmpeg_pix_fmt_flag_alpha()) != 0
      guard hasAlpha else {
        let name = String(cString: desc.pointee.name)
        throw MediaError(
          path: path,
          reason:
            "alpha was expected but frame \(nextIndex) decoded by \(decoderName) has none (pixel format \(name))"
        )
      }
      let component = Int(desc.pointee.nb_components) - 1
      alpha = try extractComponent(component, desc: desc)
    case .luma:
      alpha = try extractComponent(0, desc: desc)
    }
    let rgb = wantRGB ? try convertToRGB(desc: desc) : nil
    let decoded = DecodedFrame(index: nextIndex, time: time, rgb: rgb, alpha: alpha)
    nextIndex += 1
    return decoded
  }

  /// Copies one component at full precision, whatever its packing, depth and endianness.
  private func extractComponent(
    _ index: Int, desc: UnsafePointer<AVPixFmtDescriptor>
  ) throws(MediaError) -> GrayImage {
    let flags = Int32(bitPattern: UInt32(desc.pointee.flags))
    if flags & cffmpeg_pix_fmt_flag_bitstream() != 0 || flags & cffmpeg_pix_fmt_flag_hwaccel() != 0 {
      throw MediaError(
        path: path,
        reason: "pixel format \(String(cString: desc.pointee.name)) is not supported for mattes")
    }
    let comp = withUnsafeBytes(of: desc.pointee.comp) { raw in
      raw.load(
        fromByteOffset: index * MemoryLayout<AVComponentDescriptor>.stride,
        as: AVComponentDescriptor.self)
    }
    let depth = Int(comp.depth)
    guard depth >= 1, depth <= 16 else {
      throw MediaError(path: path, reason: "component depth \(depth) is not supported")
    }
    let bigEndian = flags & cffmpeg_pix_fmt_flag_be() != 0
    let plane = Int(comp.plane)
    let step = Int(comp.step)
    let offset = Int(comp.offset)
    let shift = Int(comp.shift)
    let mask = (1 << depth) - 1
    let twoBytes = depth + shift > 8
    let w = width
    let h = height
    var samples = [UInt16](repeating: 0, count: w * h)
    withPlanes(of: frame.pointer) { data, sizes in
      guard let base = data[plane] else { return }
      let stride = Int(sizes[plane])
      samples.withUnsafeMutableBufferPointer { out in
        for y in 0..<h {
          let row = base + y * stride + offset
          let outRow = y * w
          if !twoBytes && step == 1 && shift == 0 && depth == 8 {
            for x in 0..<w { out[outRow + x] = UInt16(row[x]) }
            continue
          }
          for x in 0..<w {
            let p = row + x * step
            var v: Int
            if twoBytes {
              v = bigEndian ? (Int(p[0]) << 8 | Int(p[1])) : (Int(p[1]) << 8 | Int(p[0]))
            } else {
              v = Int(p[0])
            }
            v = (v >> shift) & mask
            out[outRow + x] = UInt16(v)
          }
        }
      }
    }
    return GrayImage(width: w, height: h, maxValue: mask, samples: samples)
  }

  private func convertToRGB(desc: UnsafePointer<AVPixFmtDescriptor>) throws(MediaError) -> RGBImage {
    let f = frame.pointer
    let srcFormat = AVPixelFormat(rawValue: f.pointee.format)
    scaler.context = sws_getCachedContext(
      scaler.context, Int32(width), Int32(height), srcFormat, Int32(width), Int32(height),
      AV_PIX_FMT_RGB24, cffmpeg_sws_flags_bicubic_accurate(), nil, nil, nil)
    guard let sws = scaler.context else {
      throw MediaError(
        path: path,
        reason: "cannot convert pixel format \(String(cString: desc.pointee.name)) to RGB")
    }
    let flags = Int32(bitPattern: UInt32(desc.pointee.flags))
    if flags & cffmpeg_pix_fmt_flag_rgb() == 0 && desc.pointee.nb_components >= 3 {
      // Use the stream's own matrix and range for YUV → RGB.
      let matrix: Int32
      switch f.pointee.colorspace {
      case AVCOL_SPC_BT709: matrix = cffmpeg_sws_cs_709()
      case AVCOL_SPC_BT2020_NCL, AVCOL_SPC_BT2020_CL: matrix = cffmpeg_sws_cs_2020()
      default: matrix = cffmpeg_sws_cs_601()
      }
      let fullRange: Int32 =
        (f.pointee.color_range == AVCOL_RANGE_JPEG
          || srcFormat == AV_PIX_FMT_YUVJ420P || srcFormat == AV_PIX_FMT_YUVJ444P) ? 1 : 0
      _ = sws_setColorspaceDetails(
        sws, sws_getCoefficients(matrix), fullRange, sws_getCoefficients(cffmpeg_sws_cs_601()), 1,
        0, 1 << 16, 1 << 16)
    }
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    let h = Int32(height)
    let dstStride = [Int32(width * 3)]
    let ok: Int32 = withPlanes(of: f) { data, sizes in
      pixels.withUnsafeMutableBufferPointer { out in
        var dst: [UnsafeMutablePointer<UInt8>?] = [out.baseAddress]
        return data.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { src in
          sws_scale(sws, src, sizes, 0, h, &dst, dstStride)
        }
      }
    }
    guard ok == h else {
      throw MediaError(path: path, reason: "RGB conversion of frame \(nextIndex) failed")
    }
    return RGBImage(width: width, height: height, pixels: pixels)
  }
}

@available(*, unavailable)
extension VideoReader: Sendable {}
