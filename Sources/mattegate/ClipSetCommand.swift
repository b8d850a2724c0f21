import ArgumentParser
import Clips
import Foundation
import Runner

struct ClipSetCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "clipset", abstract: "Check a clip set, or register a clip in one.",
    subcommands: [Verify.self, Add.self])

  struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Load DIR/clipset.yaml and check every key, tag, path and pinned sha256, and every clip's ground truth.",
      discussion: """
        Exits 1 with every problem named (file, line, clip, field); a changed file lists all of them. \
        Ground truth and region masks must match their source frame for frame (counted from the \
        containers' packets, without decoding) and in size, and the alpha must be a matte, not a \
        colour picture (its first frame is decoded).
        """)

    @Argument(help: "The clip set folder.")
    var folder: String

    func run() throws {
      let set = try ClipSet.load(folder: folder)
      var problems: [String] = []
      for clip in set.clips {
        do { try TruthCheck.check(clip: clip, in: set) } catch { problems.append("clip '\(clip.id)': \(error)") }
      }
      if !problems.isEmpty {
        throw RunError(
          "\(set.folder)/\(ClipSet.manifestName): \(problems.count) clip\(problems.count == 1 ? "" : "s") with broken ground truth: "
            + problems.joined(separator: "; "))
      }
      let files = set.clips.reduce(0) { n, c in
        n + 1 + [c.alpha, c.regionMasks, c.cleanPlate, c.foreground, c.motion].compactMap { $0 }.count
          + c.backgrounds.count
      }
      let noGT = set.clips.filter { !$0.hasGroundTruth }.count
      print(
        "\(set.folder)/\(ClipSet.manifestName): \(set.name) v\(set.version), \(set.clips.count) clips"
          + (noGT > 0 ? " (\(noGT) without ground truth)" : "") + ", \(files) pinned files, every sha256 matches")
    }
  }

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Copy a clip into DIR, pin its files by sha256, probe duration and size, add it to clipset.yaml.",
      discussion: "Without --alpha the clip is marked no-gt: runs compute only the no-ground-truth measures for it.")

    @Argument(help: "The clip set folder (created if missing).")
    var folder: String

    @Option(help: "Clip id (letters, digits, '-', '_', '.').")
    var id: String

    @Option(help: "The source video.")
    var source: String

    @Option(help: "Ground-truth alpha (a lossless matte video).")
    var alpha: String?

    @Option(help: "Clean plate (PNG).")
    var plate: String?

    @Option(help: "Comma-separated tags (hair, glass, motion, hands, fast-turn, short, long, difficult, crfNN…).")
    var tags: String = ""

    @Option(help: "CRF the source was encoded with, if known.")
    var crf: Int?

    func run() throws {
      let added = try ClipSetEditor.add(
        .init(
          id: id, source: source, tags: tags.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
          alpha: alpha, cleanPlate: plate, crf: crf),
        to: folder)
      let c = added.clip
      print(
        "added '\(c.id)' to \(added.set.folder)/\(ClipSet.manifestName): \(c.size ?? "?"), \(c.duration.map { String(format: "%.3f s", $0) } ?? "?"), sha256 \(c.source.sha256.prefix(12))…"
          + (c.hasGroundTruth ? "" : " (no ground truth)"))
    }
  }
}
