import ArgumentParser
import Clips
import Foundation
import MatteMetrics
import Runner
import Verdict

struct ClipSetCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "clipset", abstract: "Check a clip set, or register a clip in one.",
    subcommands: [Verify.self, Add.self, Import.self])

  struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Load DIR/clipset.yaml and check every key, tag, path and pinned sha256, and every clip's ground truth; print what the set covers.",
      discussion: """
        Exits 1 with every problem named (file, line, clip, field); a changed file lists all of them. \
        Ground truth and region masks must match their source frame for frame (counted from the \
        containers' packets, without decoding) and in size, and the alpha must be a matte, not a \
        colour picture (its first frame is decoded). With --deep every frame of every alpha and \
        mask is decoded, clips in parallel (the time is printed; for a 25-clip 1080p set about 3 \
        minutes on 2 cores against 20 s without): each must be a matte, masks must hold region \
        bits only, and the regions a run would score are counted per clip. Then the coverage: clips per tag, clips per region \
        with support, whether each primary region of the gate has enough clips to decide at its \
        margin, and warnings for heavily compressed sources and a set without short, long or \
        difficult clips.
        """)

    @Argument(help: "The clip set folder.")
    var folder: String

    @Flag(help: "Decode every frame of every ground truth and mask (slower; counts region support).")
    var deep = false

    @Option(
      help: "Gate policy (gate.yaml) whose primaries the coverage is checked for; the built-in default otherwise.")
    var gate: String?

    @Option(help: "A results database: the newest completed run on this set gives the observed spread per endpoint.")
    var db: String?

    func run() throws {
      let started = Date()
      let set = try ClipSet.load(folder: folder)
      let policy = try gate.map { try GateFile.load($0) } ?? GatePolicy.standard
      let (problems, support) = SetCoverage.checkAll(set, deep: deep)
      if !problems.isEmpty {
        throw RunError(
          "\(set.folder)/\(ClipSet.manifestName): \(problems.count) clip\(problems.count == 1 ? "" : "s") whose ground truth, masks or plate do not match the source: "
            + problems.joined(separator: "; "))
      }
      let files = set.clips.reduce(0) { n, c in
        n + 1 + [c.alpha, c.regionMasks, c.cleanPlate, c.foreground, c.motion].compactMap { $0 }.count
          + c.backgrounds.count
      }
      let noGT = set.clips.filter { !$0.hasGroundTruth }.count
      print(
        "\(set.folder)/\(ClipSet.manifestName): \(set.name) v\(set.version), \(set.clips.count) clips"
          + (noGT > 0 ? " (\(noGT) without ground truth)" : "") + ", \(files) pinned files, every sha256 matches"
          + (deep ? String(format: ", every frame decoded in %.1f s", Date().timeIntervalSince(started)) : ""))
      let observed = try db.map { try SetCoverage.observedSpreads(database: $0, set: set, gate: policy) } ?? [:]
      let coverage = SetCoverage.report(set: set, gate: policy, support: deep ? support : nil, observed: observed)
      for line in coverage.lines { print("  " + line) }
      for w in coverage.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
    }
  }

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Check a clip against its source, convert its ground truth and masks, pin it in DIR/clipset.yaml.",
      discussion: """
        Ground truth and masks may be a video with an alpha plane or a gray matte, or a folder or \
        ZIP of PNG frames (natural name order, 8 or 16 bit); they are stored as 16-bit FFV1 alpha \
        and an 8-bit region-code video. Everything is checked before anything lands in DIR: size, \
        frame count and timestamps against the source, a matte not a colour picture, binary \
        masks, the plate's size, a plausible CRF. Without --alpha the clip is marked no-gt: runs \
        compute only the no-ground-truth measures for it. Without --masks a run derives hair, \
        glass and motion from the ground truth (docs/metrics.md).
        """)

    @Argument(help: "The clip set folder (created if missing).")
    var folder: String

    @Option(help: "Clip id (letters, digits, '-', '_', '.').")
    var id: String

    @Option(help: "The source video.")
    var source: String

    @Option(help: "Ground-truth alpha: a matte video, or a folder or ZIP of PNG frames.")
    var alpha: String?

    @Option(help: "Own region masks, e.g. hair=hair/,glass=glass.mkv,motion=motion.zip (binary; video or PNG frames).")
    var masks: String?

    @Option(help: "Clean plate (a PNG, or a video with the plate of every frame).")
    var plate: String?

    @Option(help: "Motion vectors: a ZIP or folder of <frame>.npy (H×W×2 float32, forward t−1→t).")
    var motion: String?

    @Option(
      help: "Comma-separated tags: hair, glass, motion, hands, fast-turn, short, long, difficult, crfNN, or your own.")
    var tags: String = ""

    @Option(help: "CRF the source was encoded with, if known.")
    var crf: Int?

    func run() throws {
      var parsedMasks: [RegionKind: String] = [:]
      for item in (masks ?? "").split(separator: ",") {
        let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let region = RegionKind(rawValue: parts[0]),
          ["hair", "glass", "motion"].contains(parts[0])
        else {
          throw ValidationError("--masks: '\(item)' is not REGION=PATH with REGION hair, glass or motion")
        }
        guard parsedMasks[region] == nil else { throw ValidationError("--masks: \(region.rawValue) given twice") }
        parsedMasks[region] = parts[1]
      }
      let added = try ClipIntake.add(
        .init(
          id: id, source: source, tags: tags.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
          alpha: alpha, masks: parsedMasks, plate: plate, motion: motion, crf: crf),
        to: folder)
      for w in added.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
      let c = added.clip
      print(
        "added '\(c.id)' to \(added.set.folder)/\(ClipSet.manifestName): \(c.size ?? "?"), \(c.duration.map { String(format: "%.3f s", $0) } ?? "?"), sha256 \(c.source.sha256.prefix(12))…"
          + (c.hasGroundTruth ? "" : " (no ground truth)")
          + (c.regionMasks != nil ? ", own masks: \(c.maskRegions.joined(separator: ", "))" : ""))
    }
  }

  struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Add every clip folder of FOLDER to DIR (one subfolder per clip, named by its id).",
      discussion: """
        Each subfolder holds source.<ext> and optionally alpha.<ext> or alpha/ (PNG frames), \
        masks/hair, masks/glass, masks/motion (each a file or PNG folder), plate.<ext>, motion.zip \
        or motion/ (vectors), tags.txt and crf.txt (clipsets/README.md). Each clip is checked and \
        pinned on its own, so an interrupted import leaves a valid manifest; clips already in DIR \
        are skipped. Prints what was imported and what was refused and why; exits 1 if any was \
        refused.
        """)

    @Argument(help: "The clip set folder (created if missing).")
    var folder: String

    @Option(help: "Folder of clip folders.")
    var from: String

    func run() throws {
      let outcomes = try ClipImport.run(into: folder, from: from) { o in
        print("\(o.status) \(o.clip): \(o.detail)")
      }
      let count = { (s: String) in outcomes.filter { $0.status == s }.count }
      print(
        "\(folder)/\(ClipSet.manifestName): imported \(count("imported")), skipped \(count("skipped")) already there, refused \(count("refused"))"
      )
      if count("refused") > 0 { throw ExitCode(1) }
    }
  }
}
