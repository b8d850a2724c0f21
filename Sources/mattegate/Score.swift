import ArgumentParser
import Foundation
import Runner

struct Score: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Score any output against ground truth, without a provider (JSON on standard output).",
    discussion: """
      PRED and GT are videos, images or folders of PNG frames. A file with alpha gives its alpha \
      channel, a gray file its values; an RGB file must have equal channels. --regions DIR holds \
      hair and glass masks as DIR/<region>/<frame>.png or DIR/<region>.png (non-zero = inside). \
      --motion DIR holds <frame>.npy (H×W×2 float32, dx, dy, forward t−1→t) for MESSDdt.
      """)

  @Option(help: "The output to score.")
  var pred: String

  @Option(help: "The ground-truth alpha.")
  var gt: String

  @Option(help: "Folder of region masks (hair, glass).")
  var regions: String?

  @Option(help: "Folder of motion fields for MESSDdt.")
  var motion: String?

  @Option(help: "Output format: json.")
  var format = "json"

  func validate() throws {
    guard format == "json" else { throw ValidationError("--format must be json") }
  }

  func run() throws {
    let data = try StandaloneScore.run(pred: pred, gt: gt, regionsDir: regions, motionDir: motion)
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
  }
}
