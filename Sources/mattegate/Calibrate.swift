import ArgumentParser
import Foundation
import Runner

struct Calibrate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a config against itself (A/A), measure the noise band of every endpoint and store it.",
    discussion: """
      Every clip is submitted twice (the output cache is not used). Later runs with the same config as A, \
      clip set and provider use the stored bands as δ_noise: a change inside the band is a tie, never a \
      regression or an improvement. A deterministic provider gives zero bands.
      """)

  @Option(help: "Clip set folder (holding clipset.yaml).")
  var clipset: String

  @Option(help: "The config to calibrate (today's default, arm A of later runs).")
  var config: String

  @OptionGroup var service: ServiceOptions

  @OptionGroup var labels: RunLabelOptions

  func run() async throws {
    var options = service.options(clipset: clipset, configA: config, configB: config, seed: 1)
    options.runID = labels.runID
    let label = labels.label()
    options.label = label
    var calibration: Calibration.Result?
    _ = try await labels.summarizing(label) {
      let result = try await Calibration.run(options) { FileHandle.standardError.write(Data($0.utf8)) }
      calibration = result
      return result.run
    }
    guard let result = calibration else { return }
    for error in result.run.errors { printError("error: \(error)") }
    print(
      "A/A calibration of \(config), run \(result.run.runID): noise band per endpoint (upper 95% bound of |mean log-ratio|)"
    )
    for band in result.bands {
      print(
        "  \(band.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(String(format: "%6.2f%%", band.noise * 100))  (\(band.clips) clips, mean \(String(format: "%+.3f%%", (exp(band.meanLogRatio) - 1) * 100)))"
      )
    }
    print("stored in \(service.db); runs with this config as A on this clip set and provider use these bands")
    if !result.run.errors.isEmpty { throw ExitCode(1) }
  }
}
