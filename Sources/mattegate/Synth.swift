public import ArgumentParser
public import Clips
import Foundation
import MediaIO

extension SynthPreset: ExpressibleByArgument {}

struct Synth: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a synthetic clip set with exact ground truth (hair, glass, motion).")

  @Option(help: "Preset: \(SynthPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
  var preset: SynthPreset = .smoke

  @Option(help: "Folder to write the clip set into (created if missing).")
  var out: String

  @Option(help: "Seed: the same seed gives byte-identical ground truth.")
  var seed: UInt64 = 1

  @Option(help: "Override the preset's frame size, WIDTHxHEIGHT (even numbers), for quick checks.")
  var size: String?

  @Option(help: "Override the preset's number of frames.")
  var frames: Int?

  func validate() throws {
    if let size {
      guard let (w, h) = parseSize(size) else {
        throw ValidationError("--size must look like 320x180 (even numbers, at least 16)")
      }
      if let problem = SyntheticClipSet.sizeProblem(width: w, height: h) { throw ValidationError("--size: \(problem)") }
    }
    if let frames, frames < 2 || frames > InputLimits.maxFrames {
      throw ValidationError("--frames must be between 2 and \(InputLimits.maxFrames)")
    }
  }

  func run() throws {
    let started = Date()
    let set = try SyntheticClipSet.generate(
      preset: preset, folder: out, seed: seed, size: size.flatMap(parseSize), frames: frames
    ) { printError($0.contains(":") ? "  \($0)" : "  writing \($0)") }
    let seconds = Date().timeIntervalSince(started)
    print(
      "wrote \(set.clips.count) clips to \(set.folder)/\(ClipSet.manifestName) in \(String(format: "%.1f", seconds)) s")
  }
}

func parseSize(_ text: String) -> (Int, Int)? {
  let parts = text.lowercased().split(separator: "x")
  guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w >= 16, h >= 16, w % 2 == 0, h % 2 == 0,
    w <= 1 << 20, h <= 1 << 20
  else { return nil }
  return (w, h)
}
