import ArgumentParser
import Clips
import Foundation

@main
struct Mattegate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mattegate",
    abstract: "A/B quality gate for video background removal.",
    subcommands: [Synth.self]
  )
}

struct Synth: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Write a synthetic clip set with exact ground truth.")
  @Option var preset: String = "smoke"
  @Option var out: String
  @Option var seed: UInt64 = 1
  func run() throws {
    let set = try SyntheticClipSet.generate(preset: SynthPreset(rawValue: preset)!, folder: out, seed: seed) { print("  \($0)") }
    print(set.clips.count)
  }
}
