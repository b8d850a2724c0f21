import Foundation
import MediaIO
import Report

/// Writes a clip's preview while it is scored: one VP9 WebM with alpha whose frame holds the
/// arms, the ground truth and both error maps side by side at reduced size, each frame made
/// from the frames decoded for scoring (plus the source, decoded once more at preview size for
/// colour; the same decode gives the review images their full-size source pictures). One
/// stream per clip means the report's panes are in lockstep by construction.
///
/// A preview that cannot be made is a warning (`finish()` returns it), never a failed clip:
/// the first error stops the recorder and removes its partial file.
final class PreviewRecorder {
  let folder: String
  let size: PixelSize
  let fps: Double
  let sourceSize: PixelSize
  private var writer: VideoWriter?
  private var source: VideoReader?
  private var pendingSource: DecodedFrame?
  private var lastSource: [UInt8]?
  /// The time of the frame being appended when the source had a picture for it (not the last
  /// one again): `fullSizeSource(at:)` gives that picture.
  private var matchedTime: Double?
  private var frames: [Int] = []
  private(set) var warning: String?
  private let path: String
  /// The frame being written, and an opaque tile's alpha: reused from frame to frame.
  private var rgbBuffer: [UInt8] = []
  private var alphaBuffer: [UInt16] = []
  private var opaque: [UInt8] = []
  /// The arms' tiles in the order this clip's file holds them: drawn per clip (from its id and
  /// source hash, so that every run of the clip, sharded or not, writes the same file), so that
  /// a blind vote page naming tiles by position gives nothing away.
  let arms: [String]

  /// Opens the clip's source at preview size and the preview file. A failure here leaves a
  /// recorder that writes nothing and only reports its warning.
  init(folder: String, sourcePath: String, truthSize: PixelSize, fps: Double, orderKey: String) {
    self.folder = folder
    self.sourceSize = truthSize
    arms =
      FileHash.sha256(of: Array(orderKey.utf8)).first.map { "01234567".contains($0) } ?? true
      ? ["A", "B"] : ["B", "A"]
    self.size = Downscale.size(
      width: truthSize.width, height: truthSize.height, maxWidth: PreviewLayout.maxTileWidth)
    self.fps = fps > 0 && fps.isFinite ? fps : 25
    self.path = folder + "/preview.webm"
    do {
      var options = ReadOptions(rgb: .eight, targetSize: size, decoderThreads: 1)
      // Block means per plane, as the alpha tiles are reduced, instead of swscale's bicubic
      // filter (docs/performance.md).
      options.areaDownscale = true
      source = try VideoReader(path: sourcePath, options: options)
      source?.keepsLastFrame = true
      writer = try VideoWriter(
        path: path, width: size.width * PreviewLayout.tileOrder.count, height: size.height, frameRate: self.fps,
        encoding: .vp9Alpha(crf: 48, lookahead: false))
    } catch {
      fail("\(error)")
    }
  }

  private func fail(_ reason: String) {
    guard warning == nil else { return }
    warning = "no preview: \(reason)"
    writer = nil
    source = nil
    try? FileManager.default.removeItem(atPath: path)
  }

  /// The source picture presented at `time` (within half a frame), at preview size; the last
  /// one again when the source has no frame there.
  private func sourcePicture(at time: Double) throws -> [UInt8] {
    let tolerance = 0.5 / fps
    matchedTime = nil
    while true {
      if pendingSource == nil { pendingSource = try source?.nextFrame() }
      guard let f = pendingSource else { break }
      if f.time < time - tolerance {
        pendingSource = nil
        continue
      }
      if f.time <= time + tolerance, let rgb = f.rgb {
        lastSource = rgb.pixels
        matchedTime = time
        pendingSource = nil
      }
      break
    }
    return lastSource ?? [UInt8](repeating: 128, count: size.width * size.height * 3)
  }

  /// The source picture of the frame last appended, at full size, as the review images'
  /// own pass over the source (`ClipScorer.sourceFrames`) would give it: only when that frame
  /// was at `time` and had its own source picture, and the source runs at the preview's frame
  /// rate (so both pick a picture within the same half frame); nil otherwise.
  func fullSizeSource(at time: Double) -> RGBImage? {
    guard warning == nil, let source, matchedTime == time, abs(source.frameRate - fps) <= 1e-9 * fps else {
      return nil
    }
    return try? source.lastFrame()?.rgb
  }

  /// Appends the frame scored at `index`/`time`. Arms given as pictures (composited outputs)
  /// are shown opaque, with no error map.
  func append(index: Int, time: Double, truth: GrayImage, a: ArmFrame, b: ArmFrame) {
    guard writer != nil, warning == nil else { return }
    do {
      let (w, h) = (size.width, size.height)
      let colour = try sourcePicture(at: time)
      let t = Downscale.gray8(truth, to: size)
      if opaque.count != w * h { opaque = [UInt8](repeating: 255, count: w * h) }
      var tiles: [(rgb: [UInt8], alpha: [UInt8])] = []
      for arm in [a, b] {
        switch arm {
        case .alpha(let g):
          let alpha = Downscale.gray8(g, to: size)
          tiles.append((colour, alpha))
        case .picture(let p):
          tiles.append((Downscale.rgb(p, to: size), opaque))
        }
      }
      if arms.first == "B" { tiles.swapAt(0, 1) }
      tiles.append((colour, t))
      // The tiles side by side, row by row, into buffers kept from frame to frame (every byte
      // is written each time).
      let n = tiles.count
      if rgbBuffer.count != n * w * h * 3 {
        rgbBuffer = [UInt8](repeating: 0, count: n * w * h * 3)
        alphaBuffer = [UInt16](repeating: 0, count: n * w * h)
      }
      rgbBuffer.withUnsafeMutableBufferPointer { out in
        alphaBuffer.withUnsafeMutableBufferPointer { outAlpha in
          for (k, tile) in tiles.enumerated() {
            tile.rgb.withUnsafeBufferPointer { src in
              tile.alpha.withUnsafeBufferPointer { srcAlpha in
                for y in 0..<h {
                  let dst = y * n * w + k * w
                  (out.baseAddress! + 3 * dst).update(from: src.baseAddress! + 3 * y * w, count: 3 * w)
                  for x in 0..<w { outAlpha[dst + x] = UInt16(srcAlpha[y * w + x]) }
                }
              }
            }
          }
        }
      }
      try writer?.append(
        rgb: RGBImage(width: n * w, height: h, pixels: rgbBuffer),
        alpha: GrayImage(width: n * w, height: h, maxValue: 255, samples: alphaBuffer))
      frames.append(index)
    } catch {
      fail("frame \(index): \(error)")
    }
  }

  /// Closes the file and writes `preview.json`; returns the warning when there is no preview.
  func finish() -> String? {
    if let writer, warning == nil {
      do {
        try writer.finish()
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let layout = PreviewLayout(
          file: "preview.webm", tileWidth: size.width, tileHeight: size.height,
          tiles: arms + ["truth"],
          fps: fps, frames: frames, bytes: bytes, sourceWidth: sourceSize.width, sourceHeight: sourceSize.height)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(layout).write(to: URL(fileURLWithPath: folder + "/preview.json"))
      } catch {
        fail("\(error)")
      }
    }
    self.writer = nil
    self.source = nil
    if let warning {
      try? (warning + "\n").write(toFile: folder + "/preview-warning.txt", atomically: true, encoding: .utf8)
    }
    return warning
  }
}
