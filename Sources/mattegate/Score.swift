import ArgumentParser
import Foundation
import MatteMetrics
import Runner

struct Score: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Score any output against ground truth, without a provider (JSON on standard output).",
    discussion: """
      PRED and GT are videos, images or folders of PNG frames. A file with alpha gives its alpha \
      channel, a gray file its values; an RGB file must have equal channels. --regions DIR holds \
      masks for transition, hair, glass or motion as DIR/<region>/<frame>.png or DIR/<region>.png \
      (non-zero = inside); they replace the regions derived from ground truth. --motion DIR holds \
      <frame>.npy (H×W×2 float32, dx, dy, forward t−1→t) for MESSDdt.

      Without --gt, give --source: PRED is scored with the no-ground-truth measures (flicker, \
      edge alignment; with --compare OTHER, the disagreement between the two and the frames to \
      review first).

      With --background (a picture, or #RRGGBB), PRED is a composited output (RGB, no alpha): \
      composite MSE and PSNR per region against α·F + (1−α)·B′, where F comes from --source and \
      its clean --plate and B′ is the background after --fit; the fit the output shows and the \
      aspect-ratio class are reported too.
      """)

  @Option(help: "The output to score.")
  var pred: String

  @Option(help: "The ground-truth alpha.")
  var gt: String?

  @Option(help: "Folder of region masks (transition, hair, glass, motion).")
  var regions: String?

  @Option(help: "Folder of motion fields for MESSDdt.")
  var motion: String?

  @Option(help: "The source video (no-ground-truth measures and composites).")
  var source: String?

  @Option(help: "Another arm's output, for the disagreement between the two (without --gt).")
  var compare: String?

  @Option(help: "Background of a composited output: a picture file or #RRGGBB.")
  var background: String?

  @Option(help: "The clean plate of the source (composites).")
  var plate: String?

  @Option(help: "How the background was fitted: cover, contain or stretch.")
  var fit = "cover"

  @Option(help: "Padding colour for contain, #RRGGBB.")
  var pad = "#000000"

  @Option(help: "Output format: json.")
  var format = "json"

  func validate() throws {
    guard format == "json" else { throw ValidationError("--format must be json") }
    guard BackgroundFit(rawValue: fit) != nil else { throw ValidationError("--fit must be cover, contain or stretch") }
    for (flag, value) in [("--background", background), ("--pad", pad)] {
      if let value, value.hasPrefix("#") {
        do { _ = try StandaloneScore.Background(value) } catch { throw ValidationError("\(flag): \(error)") }
      }
    }
    if background != nil {
      guard gt != nil, source != nil, plate != nil else {
        throw ValidationError("a composite (--background) needs --gt, --source and --plate")
      }
    } else if gt == nil {
      guard source != nil else {
        throw ValidationError("give --gt for ground-truth metrics, or --source for the no-ground-truth measures")
      }
    } else if compare != nil {
      throw ValidationError("--compare is for the no-ground-truth measures (without --gt)")
    }
  }

  func run() throws {
    let data: Data
    if let background, let gt, let source, let plate {
      guard case .color(let r, let g, let b) = try StandaloneScore.Background(pad) else {
        throw ValidationError("--pad must be #RRGGBB")
      }
      data = try StandaloneScore.composite(
        pred: pred, gt: gt, source: source, plate: plate, background: try StandaloneScore.Background(background),
        fit: BackgroundFit(rawValue: fit)!, pad: (r, g, b), regionsDir: regions)
    } else if let gt {
      data = try StandaloneScore.run(pred: pred, gt: gt, regionsDir: regions, motionDir: motion)
    } else {
      data = try StandaloneScore.noTruth(pred: pred, source: source!, compare: compare, regionsDir: regions)
    }
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
  }
}
