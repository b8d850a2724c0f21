internal import CFFmpeg

/// The encodings mattegate writes.
public enum VideoEncoding: Sendable, Equatable {
  /// H.264 (libx264) yuv420p, BT.601 limited range, constant quality `crf`: what a customer
  /// upload looks like. Single-threaded and bit-exact so one machine repeats itself.
  case h264(crf: Int, preset: String)
  /// VP9 (libvpx-vp9) yuva420p in WebM with `alpha_mode`, constant quality `crf`; without
  /// `lookahead`, libvpx holds no frames ahead (less memory, what a live preview needs).
  case vp9Alpha(crf: Int, lookahead: Bool = true)
  /// FFV1 gray16le: lossless 16-bit mattes.
  case ffv1Gray16
  /// FFV1 gray8: lossless 8-bit masks.
  case ffv1Gray8
  /// ProRes 4444 (prores_ks, profile 4444) yuva444p10le in MOV, BT.601 limited range, with a
  /// 16-bit-coded alpha channel fed from 10-bit samples.
  case prores4444
  /// FFV1 bgr0: lossless 8-bit RGB pictures (a moving camera's clean plate, one per frame).
  case ffv1RGB

  var encoderName: String {
    switch self {
    case .h264: "libx264"
    case .vp9Alpha: "libvpx-vp9"
    case .ffv1Gray16, .ffv1Gray8, .ffv1RGB: "ffv1"
    case .prores4444: "prores_ks"
    }
  }

  var pixelFormat: AVPixelFormat {
    switch self {
    case .h264: AV_PIX_FMT_YUV420P
    case .vp9Alpha: AV_PIX_FMT_YUVA420P
    case .ffv1Gray16: AV_PIX_FMT_GRAY16LE
    case .ffv1Gray8: AV_PIX_FMT_GRAY8
    case .ffv1RGB: AV_PIX_FMT_BGR0
    case .prores4444: AV_PIX_FMT_YUVA444P10LE
    }
  }
}

/// Encodes frames into a file with libavcodec/libavformat; the container follows the file name's
/// extension (`.mp4`, `.webm`, `.mkv`, `.mov`).
///
/// Owns its FFmpeg handles; not `Sendable`. Call `finish()` to write the trailer; a writer that is
/// dropped without it leaves an incomplete file.
public final class VideoWriter {
  public let path: String
  public let width: Int
  public let height: Int
  public let encoding: VideoEncoding

  private let output: OutputFormatOwner
  private let codec: CodecContextOwner
  private let stream: UnsafeMutablePointer<AVStream>
  private let frame = FrameOwner()
  private let packet = PacketOwner()
  private let scaler = ScalerOwner()
  private var frameCount: Int64 = 0
  /// Padded RGB rows for swscale.
  private var padding: [UInt8] = []
  private var finished = false

  /// Creates the file and writes its header.
  ///
  /// - Throws: `MediaError` naming the file when the encoder or container cannot be set up.
  public convenience init(
    path: String, width: Int, height: Int, frameRate: Int, encoding: VideoEncoding
  ) throws(MediaError) {
    try self.init(path: path, width: width, height: height, rate: (frameRate, 1), encoding: encoding)
  }

  /// A writer at a frame rate that need not be whole (29.97 = 30000/1001): the nearest ratio
  /// with a denominator up to 1001.
  public convenience init(
    path: String, width: Int, height: Int, frameRate: Double, encoding: VideoEncoding
  ) throws(MediaError) {
    let q = av_d2q(frameRate > 0 && frameRate.isFinite ? frameRate : 25, 1001)
    try self.init(path: path, width: width, height: height, rate: (Int(q.num), Int(q.den)), encoding: encoding)
  }

  init(
    path: String, width: Int, height: Int, rate: (num: Int, den: Int), encoding: VideoEncoding
  ) throws(MediaError) {
    let frameRate = max(1, Int((Double(rate.num) / Double(rate.den)).rounded()))
    self.path = path
    self.width = width
    self.height = height
    self.encoding = encoding
    if let problem = InputLimits.problem(width: width, height: height) {
      throw MediaError(path: path, reason: "cannot write a frame: \(problem)")
    }
    // libx264 refuses odd sizes in 4:2:0; VP9, FFV1 and ProRes take any size.
    if case .h264 = encoding, width % 2 != 0 || height % 2 != 0 {
      throw MediaError(path: path, reason: "H.264 4:2:0 needs an even frame size, not \(width)x\(height)")
    }
    output = try OutputFormatOwner(path: path)
    let oc = output.pointer
    oc.pointee.flags |= cffmpeg_fmt_flag_bitexact()
    guard let encoder = avcodec_find_encoder_by_name(encoding.encoderName) else {
      throw MediaError(path: path, reason: "this FFmpeg has no \(encoding.encoderName) encoder")
    }
    guard let st = avformat_new_stream(oc, nil) else {
      throw MediaError(path: path, reason: "cannot add a video stream")
    }
    stream = st
    codec = try CodecContextOwner(codec: encoder, path: path)
    let ctx = codec.pointer
    ctx.pointee.width = Int32(width)
    ctx.pointee.height = Int32(height)
    ctx.pointee.time_base = AVRational(num: Int32(rate.den), den: Int32(rate.num))
    ctx.pointee.framerate = AVRational(num: Int32(rate.num), den: Int32(rate.den))
    ctx.pointee.pix_fmt = encoding.pixelFormat
    ctx.pointee.thread_count = 1
    ctx.pointee.flags |= cffmpeg_codec_flag_bitexact()
    switch encoding {
    case .h264(let crf, let preset):
      ctx.pointee.gop_size = Int32(frameRate * 2)
      ctx.pointee.colorspace = AVCOL_SPC_SMPTE170M
      ctx.pointee.color_primaries = AVCOL_PRI_SMPTE170M
      ctx.pointee.color_trc = AVCOL_TRC_SMPTE170M
      ctx.pointee.color_range = AVCOL_RANGE_MPEG
      av_opt_set(ctx.pointee.priv_data, "crf", String(crf), 0)
      av_opt_set(ctx.pointee.priv_data, "preset", preset, 0)
    case .vp9Alpha(let crf, let lookahead):
      ctx.pointee.gop_size = Int32(frameRate * 2)
      ctx.pointee.bit_rate = 0
      ctx.pointee.colorspace = AVCOL_SPC_SMPTE170M
      ctx.pointee.color_range = AVCOL_RANGE_MPEG
      av_opt_set(ctx.pointee.priv_data, "crf", String(crf), 0)
      av_opt_set(ctx.pointee.priv_data, "deadline", "realtime", 0)
      av_opt_set(ctx.pointee.priv_data, "cpu-used", "8", 0)
      // Without look-ahead libvpx holds no frames back (by default 25, and as many of alpha).
      if !lookahead { av_opt_set(ctx.pointee.priv_data, "lag-in-frames", "0", 0) }
    case .prores4444:
      ctx.pointee.colorspace = AVCOL_SPC_SMPTE170M
      ctx.pointee.color_primaries = AVCOL_PRI_SMPTE170M
      ctx.pointee.color_trc = AVCOL_TRC_SMPTE170M
      ctx.pointee.color_range = AVCOL_RANGE_MPEG
      av_opt_set(ctx.pointee.priv_data, "profile", "4444", 0)
      av_opt_set(ctx.pointee.priv_data, "alpha_bits", "16", 0)
    case .ffv1Gray16, .ffv1Gray8, .ffv1RGB:
      ctx.pointee.gop_size = 1
      ctx.pointee.color_range = AVCOL_RANGE_JPEG
    }
    if oc.pointee.oformat.pointee.flags & cffmpeg_fmt_globalheader() != 0 {
      ctx.pointee.flags |= cffmpeg_codec_flag_global_header()
    }
    var r = avcodec_open2(ctx, encoder, nil)
    guard r >= 0 else {
      throw MediaError.ffmpeg(r, "opening encoder \(encoding.encoderName)", path: path)
    }
    r = avcodec_parameters_from_context(st.pointee.codecpar, ctx)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "copying codec parameters", path: path) }
    st.pointee.time_base = ctx.pointee.time_base
    st.pointee.avg_frame_rate = ctx.pointee.framerate
    if case .vp9Alpha = encoding {
      av_dict_set(&st.pointee.metadata, "alpha_mode", "1", 0)
    }
    if oc.pointee.oformat.pointee.flags & cffmpeg_fmt_nofile() == 0 {
      r = avio_open(&oc.pointee.pb, path, cffmpeg_avio_flag_write())
      guard r >= 0 else { throw MediaError.ffmpeg(r, "creating the file", path: path) }
      output.ioOpened = true
    }
    r = avformat_write_header(oc, nil)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "writing the container header", path: path) }

    let f = frame.pointer
    f.pointee.format = encoding.pixelFormat.rawValue
    f.pointee.width = Int32(width)
    f.pointee.height = Int32(height)
    r = av_frame_get_buffer(f, 0)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "allocating a frame", path: path) }
  }

  /// Appends `alpha` as a gray picture (rescaled to 8 bits): with H.264 its luma is the matte,
  /// 16 + 219·a/255 after RGB → YUV (a matte video, `matte_mp4`).
  public func appendMatte(_ alpha: GrayImage) throws(MediaError) {
    let gray = alpha.eightBit()
    var pixels = [UInt8](repeating: 0, count: gray.count * 3)
    for (i, v) in gray.enumerated() { (pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]) = (v, v, v) }
    try append(rgb: RGBImage(width: alpha.width, height: alpha.height, pixels: pixels), alpha: nil)
  }

  /// Appends one frame. H.264 and FFV1 RGB need `rgb`; VP9 with alpha needs `rgb` and `alpha`;
  /// the FFV1 gray encodings need `alpha` (the gray plane), rescaled to the encoding's depth if
  /// needed.
  public func append(rgb: RGBImage?, alpha: GrayImage?) throws(MediaError) {
    precondition(!finished, "append after finish")
    let f = frame.pointer
    var r = av_frame_make_writable(f)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "making the frame writable", path: path) }
    switch encoding {
    case .h264:
      guard let rgb else { throw missing("an RGB picture") }
      try fillYUV(from: rgb)
    case .vp9Alpha:
      guard let rgb else { throw missing("an RGB picture") }
      guard let alpha else { throw missing("an alpha plane") }
      try fillYUV(from: rgb)
      try fillGray(plane: 3, from: alpha, maxValue: 255)
    case .prores4444:
      guard let rgb else { throw missing("an RGB picture") }
      guard let alpha else { throw missing("an alpha plane") }
      try fillYUV(from: rgb, format: AV_PIX_FMT_YUV444P10LE)
      try fillGray(plane: 3, from: alpha, maxValue: 1023)
    case .ffv1Gray16:
      guard let alpha else { throw missing("a gray plane") }
      try fillGray(plane: 0, from: alpha, maxValue: 65535)
    case .ffv1Gray8:
      guard let alpha else { throw missing("a gray plane") }
      try fillGray(plane: 0, from: alpha, maxValue: 255)
    case .ffv1RGB:
      guard let rgb else { throw missing("an RGB picture") }
      try fillBGR0(from: rgb)
    }
    f.pointee.pts = frameCount
    frameCount += 1
    r = avcodec_send_frame(codec.pointer, f)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "encoding frame \(frameCount - 1)", path: path) }
    try drainPackets()
  }

  /// Flushes the encoder and writes the container trailer.
  public func finish() throws(MediaError) {
    guard !finished else { return }
    finished = true
    let r = avcodec_send_frame(codec.pointer, nil)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "flushing the encoder", path: path) }
    try drainPackets()
    let t = av_write_trailer(output.pointer)
    guard t >= 0 else { throw MediaError.ffmpeg(t, "writing the container trailer", path: path) }
  }

  private func missing(_ what: String) -> MediaError {
    MediaError(path: path, reason: "frame \(frameCount) has no \(what) for \(encoding.encoderName)")
  }

  private func drainPackets() throws(MediaError) {
    let eagain = cffmpeg_eagain()
    let eof = cffmpeg_averror_eof()
    while true {
      let r = avcodec_receive_packet(codec.pointer, packet.pointer)
      if r == eagain || r == eof { return }
      guard r >= 0 else { throw MediaError.ffmpeg(r, "receiving a packet", path: path) }
      av_packet_rescale_ts(packet.pointer, codec.pointer.pointee.time_base, stream.pointee.time_base)
      packet.pointer.pointee.stream_index = stream.pointee.index
      let w = av_interleaved_write_frame(output.pointer, packet.pointer)
      av_packet_unref(packet.pointer)
      guard w >= 0 else { throw MediaError.ffmpeg(w, "writing a packet", path: path) }
    }
  }

  /// RGB24 → the first three planes of a YUV frame (4:2:0 8-bit unless `format` says
  /// otherwise), BT.601 limited range.
  private func fillYUV(from rgb: RGBImage, format: AVPixelFormat = AV_PIX_FMT_YUV420P) throws(MediaError) {
    guard rgb.width == width, rgb.height == height else {
      throw MediaError(
        path: path, reason: "frame is \(rgb.width)x\(rgb.height), writer is \(width)x\(height)")
    }
    scaler.context = sws_getCachedContext(
      scaler.context, Int32(width), Int32(height), AV_PIX_FMT_RGB24, Int32(width), Int32(height),
      format, cffmpeg_sws_flags_bicubic_accurate(), nil, nil, nil)
    guard let sws = scaler.context else {
      throw MediaError(path: path, reason: "cannot set up RGB to YUV conversion")
    }
    let table = sws_getCoefficients(cffmpeg_sws_cs_601())
    _ = sws_setColorspaceDetails(sws, table, 1, table, 0, 0, 1 << 16, 1 << 16)
    let h = Int32(height)
    // swscale's vector code reads whole vectors, up to 32 bytes past the end of a packed buffer
    // (measured at every width from 2 to 1920 against a guard page), so the rows are first
    // copied into a buffer padded as FFmpeg's own frames are: 64-byte aligned rows and a tail.
    let rowBytes = width * 3
    let stride = (rowBytes + 63) / 64 * 64
    if padding.count < stride * height + 128 { padding = [UInt8](repeating: 0, count: stride * height + 128) }
    let done: Int32 = withPlanes(of: frame.pointer) { data, sizes in
      padding.withUnsafeMutableBufferPointer { dst in
        rgb.pixels.withUnsafeBufferPointer { src in
          for y in 0..<height {
            (dst.baseAddress! + y * stride).update(from: src.baseAddress! + y * rowBytes, count: rowBytes)
          }
        }
        // sws_scale reads four plane pointers and four strides, whatever the format.
        let srcPlanes: [UnsafePointer<UInt8>?] = [UnsafePointer(dst.baseAddress!), nil, nil, nil]
        let srcStride: [Int32] = [Int32(stride), 0, 0, 0]
        return sws_scale(sws, srcPlanes, srcStride, 0, h, data, sizes)
      }
    }
    guard done == h else { throw MediaError(path: path, reason: "RGB to YUV conversion failed") }
  }

  /// RGB24 → a packed bgr0 frame (B, G, R and an unused byte per pixel), byte for byte.
  private func fillBGR0(from rgb: RGBImage) throws(MediaError) {
    guard rgb.width == width, rgb.height == height else {
      throw MediaError(
        path: path, reason: "frame is \(rgb.width)x\(rgb.height), writer is \(width)x\(height)")
    }
    let w = width
    let h = height
    withPlanes(of: frame.pointer) { data, sizes in
      guard let base = data[0] else { return }
      let stride = Int(sizes[0])
      rgb.pixels.withUnsafeBufferPointer { src in
        for y in 0..<h {
          let row = base + y * stride
          let from = y * w * 3
          for x in 0..<w {
            row[4 * x] = src[from + 3 * x + 2]
            row[4 * x + 1] = src[from + 3 * x + 1]
            row[4 * x + 2] = src[from + 3 * x]
            row[4 * x + 3] = 0
          }
        }
      }
    }
  }

  private func fillGray(plane: Int, from image: GrayImage, maxValue: Int) throws(MediaError) {
    guard image.width == width, image.height == height else {
      throw MediaError(
        path: path,
        reason: "plane is \(image.width)x\(image.height), writer is \(width)x\(height)")
    }
    let w = width
    let h = height
    let src = image.samples
    let srcMax = UInt32(image.maxValue)
    let dstMax = UInt32(maxValue)
    withPlanes(of: frame.pointer) { data, sizes in
      guard let base = data[plane] else { return }
      let stride = Int(sizes[plane])
      for y in 0..<h {
        let row = base + y * stride
        for x in 0..<w {
          var v = UInt32(src[y * w + x])
          if srcMax != dstMax { v = (v * dstMax + srcMax / 2) / srcMax }
          if maxValue > 255 {
            row[2 * x] = UInt8(truncatingIfNeeded: v)
            row[2 * x + 1] = UInt8(truncatingIfNeeded: v >> 8)
          } else {
            row[x] = UInt8(truncatingIfNeeded: v)
          }
        }
      }
    }
  }
}

@available(*, unavailable)
extension VideoWriter: Sendable {}
