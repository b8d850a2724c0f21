import ArgumentParser
import Foundation
import MediaIO

struct Extract: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a media file's frames as PNG (alpha 16-bit gray, RGB 8- or 16-bit) plus frames.json.",
    discussion: """
      MEDIA is any output mattegate reads: a video (WebM, MOV, MKV, AVI, MP4, GIF), a single PNG or \
      JPEG, a folder or ZIP of PNG frames (png_sequence), or a ZIP with color.mp4 and alpha.mp4 \
      (pro_bundle). Frames go to OUT/alpha/NNNNNN.png and OUT/rgb/NNNNNN.png, named by frame index; \
      OUT/frames.json gives each frame's presentation time.
      """)

  @Argument(help: "The media file, folder or archive.")
  var media: String

  @Option(help: "Folder to write into (created if missing).")
  var out: String

  @Flag(help: "Write only the alpha channel (a gray matte's luma if it has no alpha).")
  var alpha = false

  @Flag(help: "Write only RGB.")
  var rgb = false

  @Option(help: "Write every Nth frame (0, N, 2N, …).")
  var every = 1

  @Option(help: "RGB bits per channel, 8 or 16 (default: 16 for sources deeper than 8 bits).")
  var rgbDepth: Int?

  @Flag(help: "The colour is premultiplied by alpha: write it unpremultiplied (straight).")
  var premultiplied = false

  @Option(help: "Frame rate of a PNG sequence, which has no timestamps of its own.")
  var frameRate: Double = 25

  func validate() throws {
    if alpha && rgb { throw ValidationError("--alpha and --rgb exclude each other; give neither for both") }
    if every < 1 { throw ValidationError("--every must be at least 1") }
    if let rgbDepth, rgbDepth != 8 && rgbDepth != 16 { throw ValidationError("--rgb-depth must be 8 or 16") }
    if frameRate <= 0 { throw ValidationError("--frame-rate must be positive") }
  }

  func run() throws {
    let summary = try FrameExtractor.extract(
      media: media, to: out, planes: alpha ? .alpha : (rgb ? .rgb : .both), every: every, rgbDepth: rgbDepth,
      association: premultiplied ? .premultiplied : .straight, sequenceFrameRate: frameRate)
    var parts: [String] = []
    if summary.alphaDepth > 0 { parts.append("alpha \(summary.alphaDepth)-bit as 16-bit PNG") }
    if summary.rgbDepth > 0 { parts.append("RGB \(summary.rgbDepth)-bit PNG") }
    print(
      "wrote \(summary.framesWritten) of \(summary.framesDecoded) frames (\(parts.joined(separator: ", "))) and frames.json to \(out)"
    )
  }
}
