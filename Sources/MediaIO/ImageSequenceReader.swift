internal import CFFmpeg
import Foundation

/// Reads a `png_sequence`: a folder of PNG files, or a ZIP of them, in natural name order
/// (`frame2.png` before `frame10.png`). PNG files carry no timestamps: frame i is at
/// i ÷ `ReadOptions.sequenceFrameRate` seconds. Pictures stream through one frame-threaded PNG
/// decoder (as ffmpeg's image2 demuxer does), a few frames in flight at most.
public final class ImageSequenceReader: FrameSource {
  public let path: String
  public let frameRate: Double
  /// The PNG members in the order they are read.
  public let names: [String]
  public var formatDescription: String { "png_sequence(\(zip == nil ? "folder" : "zip"))/png" }
  public let storedSize: PixelSize
  public let layout: PixelLayout
  public var size: PixelSize { converter.outputSize }

  private let zip: SafeZip?
  private let codec: CodecContextOwner
  private let packet = PacketOwner()
  private let frame = FrameOwner()
  private let converter: FrameConverter
  private var sent = 0
  private var received = 0
  private var draining = false

  public convenience init(path: String, options: ReadOptions) throws(MediaError) {
    try self.init(path: path, options: options, zip: nil)
  }

  /// `zip`: the archive at `path` when the caller has already opened it.
  init(path: String, options: ReadOptions, zip opened: SafeZip?) throws(MediaError) {
    _ = FFmpegLogging.configured
    self.path = path
    frameRate = options.sequenceFrameRate
    guard frameRate > 0 else { throw MediaError(path: path, reason: "an image sequence needs a frame rate > 0") }
    let all: [String]
    if try InputFile.check(path, allowFolder: true) == .folder {
      zip = nil
      do {
        all = try FileManager.default.contentsOfDirectory(atPath: path)
      } catch {
        throw MediaError(path: path, reason: "cannot list the folder (\(error))")
      }
    } else {
      let z: SafeZip
      if let opened { z = opened } else { z = try SafeZip(path: path) }
      zip = z
      all = z.members.map(\.path).filter { !$0.hasPrefix("__MACOSX/") }
    }
    names = all.filter { $0.lowercased().hasSuffix(".png") }.sorted {
      $0.compare($1, options: [.numeric, .caseInsensitive]) == .orderedAscending
    }
    guard !names.isEmpty else {
      throw MediaError(path: path, reason: "is an image sequence with no PNG frames")
    }
    guard let decoder = avcodec_find_decoder(AV_CODEC_ID_PNG) else {
      throw MediaError(path: path, reason: "this FFmpeg has no PNG decoder")
    }
    // The first picture alone, with its own decoder, to learn the size and layout (and fail
    // early on a bad first file).
    let first = try Self.bytes(of: 0, names: names, zip: zip, folder: path)
    let probe = try CodecContextOwner(codec: decoder, path: path)
    probe.pointer.pointee.thread_count = 1
    var r = avcodec_open2(probe.pointer, decoder, nil)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "opening the PNG decoder", path: path) }
    try Self.send(first, index: 0, to: probe, packet: packet, label: "frame 0 ('\(names[0])')", path: path)
    r = avcodec_receive_frame(probe.pointer, frame.pointer)
    guard r >= 0 else {
      throw MediaError(path: path, reason: "frame 0 ('\(names[0])') is not a decodable PNG: \(ffmpegErrorString(r))")
    }
    storedSize = PixelSize(width: Int(frame.pointer.pointee.width), height: Int(frame.pointer.pointee.height))
    layout = FrameConverter.layout(of: AVPixelFormat(rawValue: frame.pointer.pointee.format))
    av_frame_unref(frame.pointer)
    converter = FrameConverter(path: path, storedSize: storedSize, turn: .none, options: options)
    codec = try CodecContextOwner(codec: decoder, path: path)
    codec.pointer.pointee.thread_count = 0
    r = avcodec_open2(codec.pointer, decoder, nil)
    guard r >= 0 else { throw MediaError.ffmpeg(r, "opening the PNG decoder", path: path) }
  }

  private static func bytes(of i: Int, names: [String], zip: SafeZip?, folder: String) throws(MediaError) -> Data {
    let name = names[i]
    let data: Data
    if let zip {
      data = try zip.read(name)
    } else {
      let file = (folder as NSString).appendingPathComponent(name)
      do {
        _ = try InputFile.regularFile(file, maxBytes: InputLimits.maxPNGBytes)
      } catch {
        throw MediaError(path: folder, reason: "frame \(i) ('\(name)') \(error.reason)")
      }
      guard let d = FileManager.default.contents(atPath: file) else {
        throw MediaError(path: folder, reason: "cannot read frame \(i) ('\(name)') of the sequence")
      }
      data = d
    }
    if data.isEmpty { throw MediaError(path: folder, reason: "frame \(i) ('\(name)') is an empty file") }
    if let declared = VideoReader.declaredPictureSize([UInt8](data.prefix(64))),
      let problem = InputLimits.problem(width: declared.width, height: declared.height)
    {
      throw MediaError(path: folder, reason: "frame \(i) ('\(name)') declares a picture whose \(problem)")
    }
    return data
  }

  private static func send(
    _ bytes: Data, index: Int, to codec: CodecContextOwner, packet: PacketOwner, label: String, path: String
  ) throws(MediaError) {
    guard bytes.count < Int(Int32.max) else { throw MediaError(path: path, reason: "\(label) is too large") }
    var r = av_new_packet(packet.pointer, Int32(bytes.count))
    guard r >= 0 else { throw MediaError.ffmpeg(r, "allocating a packet for \(label)", path: path) }
    defer { av_packet_unref(packet.pointer) }
    bytes.withUnsafeBytes { raw in
      packet.pointer.pointee.data.update(from: raw.bindMemory(to: UInt8.self).baseAddress!, count: bytes.count)
    }
    packet.pointer.pointee.pts = Int64(index)
    packet.pointer.pointee.flags |= 1  // AV_PKT_FLAG_KEY: every picture stands alone
    r = avcodec_send_packet(codec.pointer, packet.pointer)
    guard r >= 0 else {
      throw MediaError(path: path, reason: "\(label) is not a decodable PNG: \(ffmpegErrorString(r))")
    }
  }

  public func nextFrame() throws(MediaError) -> DecodedFrame? {
    let eagain = cffmpeg_eagain()
    while true {
      let r = avcodec_receive_frame(codec.pointer, frame.pointer)
      if r == 0 {
        defer { av_frame_unref(frame.pointer) }
        let pts = frame.pointer.pointee.pts
        let i = pts >= 0 && pts < Int64(names.count) ? Int(pts) : received
        received += 1
        return try converter.convert(
          frame.pointer, index: i, time: Double(i) / frameRate, label: "frame \(i) ('\(names[i])')")
      }
      if r == cffmpeg_averror_eof() {
        guard received == names.count else {
          throw MediaError(path: path, reason: "only \(received) of \(names.count) PNG frames decoded")
        }
        return nil
      }
      if r != eagain {
        let i = min(received, names.count - 1)
        throw MediaError(
          path: path, reason: "frame \(i) ('\(names[i])') is not a decodable PNG: \(ffmpegErrorString(r))")
      }
      if sent < names.count {
        let data = try Self.bytes(of: sent, names: names, zip: zip, folder: path)
        try Self.send(
          data, index: sent, to: codec, packet: packet, label: "frame \(sent) ('\(names[sent])')", path: path)
        sent += 1
      } else if !draining {
        draining = true
        _ = avcodec_send_packet(codec.pointer, nil)
      } else {
        return nil
      }
    }
  }
}

@available(*, unavailable)
extension ImageSequenceReader: Sendable {}
