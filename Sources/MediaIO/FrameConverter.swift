internal import CFFmpeg

/// Turns decoded `AVFrame`s into Swift-owned planes: alpha at full precision, RGB at 8 or 16
/// bits with the stream's matrix and range, optional resampling, unpremultiplication and
/// rotation. One per stream; not `Sendable`.
final class FrameConverter {
  let path: String
  let options: ReadOptions
  let turn: QuarterTurn
  let storedSize: PixelSize
  /// Size of delivered frames.
  let outputSize: PixelSize
  private let nativeSize: PixelSize
  private let rgbScaler = ScalerOwner()
  private let resampler = ScalerOwner()
  private let resampled = FrameOwner()
  private var expansionTable: [UInt16] = []
  /// Padded rows for swscale when a packed row is not a multiple of `strideAlign` bytes.
  private var scratch: [UInt8] = []
  /// Row alignment and tail padding swscale may write into (as `av_frame_get_buffer` gives).
  static let strideAlign = 64
  static let tailPadding = 128
  private var expansionVectorised = false
  /// The area downscale (`ReadOptions.areaDownscale`): per pixel format, each plane's reduction
  /// (nil for a format it does not take), and the column sums.
  private var areaPlan: (format: AVPixelFormat, planes: [Downscale.PlaneReduction]?)?
  private var areaScratch: [UInt32] = []

  init(path: String, storedSize: PixelSize, turn: QuarterTurn, options: ReadOptions) {
    self.path = path
    self.options = options
    self.turn = turn
    self.storedSize = storedSize
    let displayed = turn.turned(storedSize)
    outputSize = options.targetSize ?? displayed
    // The size to resample to before turning.
    nativeSize = turn.turned(outputSize)
  }

  /// Converts `f`; `label` names the frame in errors ("frame 12", "file 0007.png").
  func convert(
    _ f: UnsafeMutablePointer<AVFrame>, index: Int, time: Double, label: String
  ) throws(MediaError) -> DecodedFrame {
    let w = Int(f.pointee.width)
    let h = Int(f.pointee.height)
    guard w == storedSize.width, h == storedSize.height else {
      throw MediaError(path: path, reason: "\(label) is \(w)x\(h) but the stream is \(storedSize)")
    }
    var src = f
    if nativeSize != storedSize {
      src = try resample(f, label: label)
    }
    guard let desc = av_pix_fmt_desc_get(AVPixelFormat(rawValue: src.pointee.format)) else {
      throw MediaError(path: path, reason: "\(label) has an unknown pixel format")
    }
    let flags = Int32(bitPattern: UInt32(desc.pointee.flags))
    let formatName = String(cString: desc.pointee.name)
    let hasAlpha = flags & cffmpeg_pix_fmt_flag_alpha() != 0
    let alphaIndex = Int(desc.pointee.nb_components) - 1

    var alpha: GrayImage?
    switch options.alpha {
    case .none:
      break
    case .alphaChannel:
      guard hasAlpha else {
        throw MediaError(
          path: path, reason: "alpha was expected but \(label) has none (pixel format \(formatName))")
      }
      alpha = try extractComponent(alphaIndex, of: src, desc: desc)
    case .luma:
      alpha = try extractComponent(0, of: src, desc: desc)
    case .matteLuma:
      if Self.isLimitedRangeYUV(src, desc: desc) {
        let depth = Int(Self.layout(of: AVPixelFormat(rawValue: src.pointee.format)).colorDepth)
        if expansionTable.count != 1 << depth {
          expansionTable = Self.limitedRangeTable(depth: depth)
          expansionVectorised = depth == 8 && Self.vectorExpansionMatches(expansionTable)
        }
        alpha = try extractComponent(
          0, of: src, desc: desc, through: expansionTable, vectorExpansion: expansionVectorised)
      } else {
        alpha = try extractComponent(0, of: src, desc: desc)
      }
    }

    var rgb: RGBImage?
    var rgb16: RGB16Image?
    switch options.rgb {
    case .none:
      break
    case .eight:
      var pixels = try toRGB(src, desc: desc, format: AV_PIX_FMT_RGB24, bytesPerPixel: 3, of: UInt8.self, label: label)
      if options.association == .premultiplied && hasAlpha {
        let a = options.alpha == .alphaChannel ? alpha! : try extractComponent(alphaIndex, of: src, desc: desc)
        Unpremultiply.apply(&pixels, alpha: a)
      }
      rgb = RGBImage(width: nativeSize.width, height: nativeSize.height, pixels: pixels)
    case .sixteen:
      var samples = try toRGB(
        src, desc: desc, format: AV_PIX_FMT_RGB48LE, bytesPerPixel: 6, of: UInt16.self, label: label)
      if options.association == .premultiplied && hasAlpha {
        let a = options.alpha == .alphaChannel ? alpha! : try extractComponent(alphaIndex, of: src, desc: desc)
        Unpremultiply.apply(&samples, alpha: a)
      }
      rgb16 = RGB16Image(width: nativeSize.width, height: nativeSize.height, samples: samples)
    }
    if turn != .none {
      alpha = alpha?.turned(turn)
      rgb = rgb?.turned(turn)
      rgb16 = rgb16?.turned(turn)
    }
    return DecodedFrame(index: index, time: time, rgb: rgb, rgb16: rgb16, alpha: alpha)
  }

  /// The layout of a pixel format.
  static func layout(of format: AVPixelFormat) -> PixelLayout {
    guard let desc = av_pix_fmt_desc_get(format) else {
      return PixelLayout(colorDepth: 8, alphaDepth: 0, isGray: false, pixelFormat: "unknown")
    }
    let flags = Int32(bitPattern: UInt32(desc.pointee.flags))
    let n = Int(desc.pointee.nb_components)
    func depth(_ i: Int) -> Int {
      withUnsafeBytes(of: desc.pointee.comp) { raw in
        Int(
          raw.load(fromByteOffset: i * MemoryLayout<AVComponentDescriptor>.stride, as: AVComponentDescriptor.self)
            .depth)
      }
    }
    let hasAlpha = flags & cffmpeg_pix_fmt_flag_alpha() != 0
    let isPal = flags & cffmpeg_pix_fmt_flag_pal() != 0
    return PixelLayout(
      colorDepth: isPal ? 8 : depth(0), alphaDepth: hasAlpha ? (isPal ? 8 : depth(n - 1)) : 0,
      isGray: !isPal && (hasAlpha ? n == 2 : n == 1), pixelFormat: String(cString: desc.pointee.name))
  }

  /// Whether a frame's first component is limited-range luma (YUV, not flagged full range).
  static func isLimitedRangeYUV(
    _ f: UnsafeMutablePointer<AVFrame>, desc: UnsafePointer<AVPixFmtDescriptor>
  ) -> Bool {
    let flags = Int32(bitPattern: UInt32(desc.pointee.flags))
    if flags & cffmpeg_pix_fmt_flag_rgb() != 0 || desc.pointee.nb_components < 3 { return false }
    let format = AVPixelFormat(rawValue: f.pointee.format)
    if format == AV_PIX_FMT_YUVJ420P || format == AV_PIX_FMT_YUVJ422P || format == AV_PIX_FMT_YUVJ444P {
      return false
    }
    return f.pointee.color_range != AVCOL_RANGE_JPEG
  }

  /// Whether the 16-bit arithmetic form of the expansion (`cffmpeg_expand_u8`) equals `table`
  /// for every 8-bit code; checked once, exhaustively.
  static func vectorExpansionMatches(_ table: [UInt16]) -> Bool {
    guard table.count == 256 else { return false }
    let codes = (0..<256).map { UInt8($0) }
    var out = [UInt16](repeating: 0, count: 256)
    codes.withUnsafeBufferPointer { c in
      out.withUnsafeMutableBufferPointer { o in cffmpeg_expand_u8(c.baseAddress, 1, o.baseAddress, 256) }
    }
    return out == table
  }

  /// Limited-range luma codes (16…235 scaled to the depth) mapped onto 0…65535, rounded and
  /// clamped, one entry per code.
  static func limitedRangeTable(depth: Int) -> [UInt16] {
    let shift = max(0, depth - 8)
    let low = Int64(16 << shift)
    let span = Int64(219 << shift)
    return (0..<(1 << depth)).map { v -> UInt16 in
      let d = Int64(v) - low
      if d <= 0 { return 0 }
      if d >= span { return 65535 }
      return UInt16((d * 65535 * 2 + span) / (2 * span))
    }
  }

  private func resample(_ f: UnsafeMutablePointer<AVFrame>, label: String) throws(MediaError) -> UnsafeMutablePointer<
    AVFrame
  > {
    let format = AVPixelFormat(rawValue: f.pointee.format)
    let name = av_get_pix_fmt_name(format).map { String(cString: $0) } ?? "unknown"
    guard sws_isSupportedOutput(format) != 0 else {
      throw MediaError(path: path, reason: "cannot resample pixel format \(name) to \(nativeSize)")
    }
    let dst = resampled.pointer
    av_frame_unref(dst)
    dst.pointee.width = Int32(nativeSize.width)
    dst.pointee.height = Int32(nativeSize.height)
    dst.pointee.format = f.pointee.format
    dst.pointee.color_range = f.pointee.color_range
    dst.pointee.colorspace = f.pointee.colorspace
    let r = av_frame_get_buffer(dst, 0)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "allocating a resampled \(label)", path: path) }
    if options.areaDownscale, nativeSize.width <= storedSize.width, nativeSize.height <= storedSize.height,
      let planes = areaReductions(format)
    {
      withPlanes(of: f) { srcData, srcSizes in
        withPlanes(of: dst) { dstData, dstSizes in
          for (plane, reduction) in planes.enumerated() {
            reduction.apply(
              srcData[plane]!, stride: Int(srcSizes[plane]), into: dstData[plane]!, outStride: Int(dstSizes[plane]),
              scratch: &areaScratch)
          }
        }
      }
      return dst
    }
    resampler.context = sws_getCachedContext(
      resampler.context, Int32(storedSize.width), Int32(storedSize.height), format,
      Int32(nativeSize.width), Int32(nativeSize.height), format, cffmpeg_sws_flags_bicubic_accurate(), nil, nil,
      nil)
    guard let sws = resampler.context else {
      throw MediaError(path: path, reason: "cannot resample pixel format \(name) to \(nativeSize)")
    }
    let rows: Int32 = withPlanes(of: f) { srcData, srcSizes in
      withPlanes(of: dst) { dstData, dstSizes in
        srcData.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { s in
          sws_scale(sws, s, srcSizes, 0, Int32(storedSize.height), dstData, dstSizes)
        }
      }
    }
    guard rows == Int32(nativeSize.height) else {
      throw MediaError(path: path, reason: "resampling \(label) to \(nativeSize) failed")
    }
    return dst
  }

  /// Each plane's reduction from the stored size to the native size (chroma subsampled as the
  /// format says), made when a stream first delivers `format`; nil when the format has planes
  /// the area downscale does not take.
  private func areaReductions(_ format: AVPixelFormat) -> [Downscale.PlaneReduction]? {
    if let plan = areaPlan, plan.format == format { return plan.planes }
    let planes = Self.areaPlanes(desc: av_pix_fmt_desc_get(format))?.map { shift in
      Downscale.PlaneReduction(
        width: Self.ceilShift(storedSize.width, shift.x), height: Self.ceilShift(storedSize.height, shift.y),
        outWidth: Self.ceilShift(nativeSize.width, shift.x), outHeight: Self.ceilShift(nativeSize.height, shift.y))
    }
    areaPlan = (format, planes)
    return planes
  }

  /// ⌈v / 2^shift⌉, a subsampled plane's size.
  static func ceilShift(_ v: Int, _ shift: Int) -> Int { (v + (1 << shift) - 1) >> shift }

  /// For a format whose every component is 8 bits on a plane of its own (planar YUV with or
  /// without alpha, gray), each plane's subsampling (log2, x and y) in plane order; nil for any
  /// other format.
  static func areaPlanes(desc: UnsafePointer<AVPixFmtDescriptor>?) -> [(x: Int, y: Int)]? {
    guard let desc else { return nil }
    let flags = Int32(bitPattern: UInt32(desc.pointee.flags))
    let n = Int(desc.pointee.nb_components)
    let unsupported =
      cffmpeg_pix_fmt_flag_rgb() | cffmpeg_pix_fmt_flag_pal() | cffmpeg_pix_fmt_flag_bitstream()
      | cffmpeg_pix_fmt_flag_hwaccel()
    guard flags & unsupported == 0, n >= 1, n <= 4, n == 1 || flags & cffmpeg_pix_fmt_flag_planar() != 0 else {
      return nil
    }
    var planes: [(x: Int, y: Int)] = []
    for i in 0..<n {
      let comp = withUnsafeBytes(of: desc.pointee.comp) { raw in
        raw.load(fromByteOffset: i * MemoryLayout<AVComponentDescriptor>.stride, as: AVComponentDescriptor.self)
      }
      guard comp.depth == 8, comp.shift == 0, comp.step == 1, comp.offset == 0, Int(comp.plane) == i else {
        return nil
      }
      // Chroma (components 1 and 2 of YUV) is subsampled; luma and alpha are not.
      let chroma = n >= 3 && (i == 1 || i == 2)
      planes.append(
        chroma ? (Int(desc.pointee.log2_chroma_w), Int(desc.pointee.log2_chroma_h)) : (0, 0))
    }
    return planes
  }

  /// Copies one component at full precision, whatever its packing, depth and endianness.
  func extractComponent(
    _ index: Int, of f: UnsafeMutablePointer<AVFrame>, desc: UnsafePointer<AVPixFmtDescriptor>,
    through table: [UInt16]? = nil, vectorExpansion: Bool = false
  ) throws(MediaError) -> GrayImage {
    let flags = Int32(bitPattern: UInt32(desc.pointee.flags))
    if flags & cffmpeg_pix_fmt_flag_bitstream() != 0 || flags & cffmpeg_pix_fmt_flag_hwaccel() != 0
      || flags & cffmpeg_pix_fmt_flag_pal() != 0
    {
      throw MediaError(
        path: path,
        reason: "pixel format \(String(cString: desc.pointee.name)) is not supported for mattes")
    }
    let comp = withUnsafeBytes(of: desc.pointee.comp) { raw in
      raw.load(
        fromByteOffset: index * MemoryLayout<AVComponentDescriptor>.stride, as: AVComponentDescriptor.self)
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
    let w = Int(f.pointee.width)
    let h = Int(f.pointee.height)
    let samples = [UInt16](unsafeUninitializedCapacity: w * h) { out, count in
      count = w * h
      withPlanes(of: f) { data, sizes in
        guard let base = data[plane] else {
          out.initialize(repeating: 0)
          return
        }
        let stride = Int(sizes[plane])
        for y in 0..<h {
          let row = UnsafePointer(base + y * stride + offset)
          let o = out.baseAddress! + y * w
          if !twoBytes && shift == 0 && depth == 8 {
            if table != nil && vectorExpansion {
              cffmpeg_expand_u8(row, Int32(step), o, Int32(w))
            } else if let table {
              table.withUnsafeBufferPointer { t in cffmpeg_lookup_u8(row, Int32(step), o, Int32(w), t.baseAddress) }
            } else {
              cffmpeg_widen_u8(row, Int32(step), o, Int32(w))
            }
            continue
          }
          if twoBytes && !bigEndian && shift == 0 && depth == 16 {
            cffmpeg_copy_u16le(row, Int32(step), o, Int32(w))
          } else if twoBytes {
            for x in 0..<w {
              let p = row + x * step
              let v = bigEndian ? (Int(p[0]) << 8 | Int(p[1])) : (Int(p[1]) << 8 | Int(p[0]))
              o[x] = UInt16((v >> shift) & mask)
            }
          } else {
            for x in 0..<w { o[x] = UInt16((Int(row[x * step]) >> shift) & mask) }
          }
          if let table, depth != 8 || twoBytes || shift != 0 {
            table.withUnsafeBufferPointer { t in
              for x in 0..<w { o[x] = t[Int(o[x])] }
            }
          }
        }
      }
    }
    if table != nil { return GrayImage(width: w, height: h, maxValue: 65535, samples: samples) }
    return GrayImage(width: w, height: h, maxValue: mask, samples: samples)
  }

  private func toRGB<T>(
    _ f: UnsafeMutablePointer<AVFrame>, desc: UnsafePointer<AVPixFmtDescriptor>, format: AVPixelFormat,
    bytesPerPixel: Int, of: T.Type, label: String
  ) throws(MediaError) -> [T] {
    let srcFormat = AVPixelFormat(rawValue: f.pointee.format)
    let w = Int32(f.pointee.width)
    let h = Int32(f.pointee.height)
    guard let sws = rgbScaler.threaded(from: (w, h, srcFormat), to: (w, h, format), flags: cffmpeg_sws_flags_reader())
    else {
      throw MediaError(
        path: path, reason: "cannot convert pixel format \(String(cString: desc.pointee.name)) to RGB")
    }
    let flags = Int32(bitPattern: UInt32(desc.pointee.flags))
    if flags & cffmpeg_pix_fmt_flag_rgb() == 0 && desc.pointee.nb_components >= 3 {
      // The stream's own matrix and range for YUV → RGB.
      let matrix: Int32
      switch f.pointee.colorspace {
      case AVCOL_SPC_BT709: matrix = cffmpeg_sws_cs_709()
      case AVCOL_SPC_BT2020_NCL, AVCOL_SPC_BT2020_CL: matrix = cffmpeg_sws_cs_2020()
      case AVCOL_SPC_FCC: matrix = cffmpeg_sws_cs_fcc()
      case AVCOL_SPC_SMPTE240M: matrix = cffmpeg_sws_cs_240m()
      default: matrix = cffmpeg_sws_cs_601()
      }
      let fullRange: Int32 = Self.isLimitedRangeYUV(f, desc: desc) ? 0 : 1
      _ = sws_setColorspaceDetails(
        sws, sws_getCoefficients(matrix), fullRange, sws_getCoefficients(cffmpeg_sws_cs_601()), 1, 0, 1 << 16,
        1 << 16)
    }
    // swscale's vector code writes whole vectors, so it may write past the end of a row (up to
    // the row's 64-byte aligned stride) and past the last row; FFmpeg's own frames are padded
    // for that. When the packed row is already a multiple of 64 bytes (1920 pixels and most
    // real widths) it writes straight into the Swift buffer, which keeps a padded tail;
    // otherwise into a padded scratch buffer whose rows are then copied out.
    let rowBytes = Int(w) * bytesPerPixel
    let stride = (rowBytes + Self.strideAlign - 1) / Self.strideAlign * Self.strideAlign
    let count = Int(w) * Int(h) * 3
    let tail = (Self.tailPadding + MemoryLayout<T>.stride - 1) / MemoryLayout<T>.stride
    var rows: Int32 = 0
    func scale(into base: UnsafeMutableRawPointer, stride: Int) -> Int32 {
      withPlanes(of: f) { data, sizes in
        // sws_scale reads four plane pointers and four strides, whatever the format.
        var dst: [UnsafeMutablePointer<UInt8>?] = [base.assumingMemoryBound(to: UInt8.self), nil, nil, nil]
        let dstStride: [Int32] = [Int32(stride), 0, 0, 0]
        return data.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { src in
          sws_scale(sws, src, sizes, 0, h, &dst, dstStride)
        }
      }
    }
    if stride != rowBytes {
      let needed = stride * Int(h) + Self.tailPadding
      if scratch.count < needed { scratch = [UInt8](repeating: 0, count: needed) }
    }
    // swscale writes every sample, so the buffer starts uninitialised.
    let buffer = [T](unsafeUninitializedCapacity: count + tail) { out, initialized in
      let raw = UnsafeMutableRawPointer(out.baseAddress!)
      if stride == rowBytes {
        rows = scale(into: raw, stride: stride)
      } else {
        scratch.withUnsafeMutableBytes { s in
          rows = scale(into: s.baseAddress!, stride: stride)
          if rows == h {
            for y in 0..<Int(h) {
              (raw + y * rowBytes).copyMemory(from: s.baseAddress! + y * stride, byteCount: rowBytes)
            }
          }
        }
      }
      if rows != h { UnsafeMutableRawBufferPointer(out).initializeMemory(as: UInt8.self, repeating: 0) }
      initialized = count
    }
    guard rows == h else { throw MediaError(path: path, reason: "RGB conversion of \(label) failed") }
    return buffer
  }
}
